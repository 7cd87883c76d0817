/* Profile client for --mode=ad-hoc, after DHAT's ad-hoc.c: weights 30,
   20 and 10 from nested calls, a zero weight, a weight above 2^32, and
   heap allocations (not events). With argument "mt" it uses memtrack.h's
   MEMTRACK_AD_HOC_EVENT instead of dhat.h's DHAT_AD_HOC_EVENT, from the
   same lines. Prints "units=<sum> events=<n>" (write(), no stdio, so that
   a heap-mode run sees only this program's two blocks: 100 + 200 bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhat.h"
#include "memtrack.h"

#define NOINLINE __attribute__((noinline))

static int use_mt;
static unsigned long long units, events;

#define EVENT(w)                                \
  do {                                          \
    if (use_mt)                                 \
      MEMTRACK_AD_HOC_EVENT(w);                 \
    else                                        \
      DHAT_AD_HOC_EVENT(w);                     \
    units += (w);                               \
    events++;                                   \
  } while (0)

NOINLINE static void f1(void) { EVENT(30); }
NOINLINE static void f2(void) { EVENT(20); f1(); }
NOINLINE static void f3(void) { EVENT(10); f2(); }

int main(int argc, char** argv) {
  use_mt = argc > 1 && strcmp(argv[1], "mt") == 0;
  f1();
  f2();
  f3();
  f3();
  char* p = malloc(100);
  char* q = malloc(200);
  memset(p, 0, 100);
  EVENT(0);
  EVENT(5000000000ULL);
  free(p);
  free(q);
  char line[80];
  int n = snprintf(line, sizeof line, "units=%llu events=%llu\n", units, events);
  if (write(1, line, n) != n) return 1;
  return 0;
}
