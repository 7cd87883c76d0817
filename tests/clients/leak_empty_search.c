/* A leak search that finds no block leaves memcheck's counters as the last
 * search that found some left them: the next search's "(+N)" deltas and
 * VALGRIND_COUNT_LEAKS in between still see that one (3.24's reallocarray
 * test shows it). tests/test_leak_requests.py compares with memcheck. */
#include <stdio.h>
#include <stdlib.h>
#include "valgrind/memcheck.h"

static void counts(const char* what) {
  unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
  VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
  fprintf(stderr, "%s: leaked %lu dubious %lu reachable %lu\n", what, leaked, dubious, reachable);
}

int main(void) {
  void* p = malloc(40);
  VALGRIND_DO_ADDED_LEAK_CHECK;
  counts("one block");
  free(p);
  VALGRIND_DO_ADDED_LEAK_CHECK; /* finds none */
  counts("after a search that found none");
  p = malloc(40);
  VALGRIND_DO_ADDED_LEAK_CHECK; /* +0 against the first search */
  VALGRIND_DO_CHANGED_LEAK_CHECK;
  free(p);
  return 0;
}
