/* Client: MEMTRACK_MEASURE_START/READ/STOP (memtrack.h). Checks the
   figures itself, each one what it allocated or freed inside the scope,
   and the hostile cases: forged and closed handles, a bad stats pointer,
   the 65th open measurement. Prints "measure: all checks passed", or
   "measure: not under memtrack" natively (every request then gives 0). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtrack.h"

static int failures;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond);            \
      failures++;                                                            \
    }                                                                        \
  } while (0)

static MemtrackMeasure get(unsigned long h) {
  MemtrackMeasure m;
  memset(&m, 0xff, sizeof m);
  CHECK(MEMTRACK_MEASURE_READ(h, &m) == 1);
  return m;
}

static void* thread_allocs(void* arg) {
  free(malloc(7000));
  return arg;
}

int main(void) {
  void* before = malloc(300);  /* freed inside a scope: counts against it */
  unsigned long h = MEMTRACK_MEASURE_START(0);
  if (h == 0) {
    MemtrackMeasure m;
    memset(&m, 0x5a, sizeof m);
    int untouched = MEMTRACK_MEASURE_READ(1, &m) == 0 && ((unsigned char*)&m)[0] == 0x5a;
    free(before);
    printf("measure: not under memtrack%s\n", untouched ? "" : " (but READ answered)");
    return 0;
  }
  MemtrackMeasure m = get(h);
  CHECK(m.total_blocks == 0 && m.total_bytes == 0 && m.curr_bytes == 0 && m.max_bytes == 0);

  char* a = malloc(1000);
  char* b = malloc(2000);
  free(a);
  char* c = calloc(10, 50);             /* 500 */
  b = realloc(b, 3000);                 /* one more block of 3000, live +1000 */
  m = get(h);
  CHECK(m.total_blocks == 4 && m.total_bytes == 1000 + 2000 + 500 + 3000);
  CHECK(m.curr_blocks == 2 && m.curr_bytes == 3500);
  CHECK(m.max_bytes == 3500 && m.max_blocks == 2);  /* after the realloc */
  free(b);
  free(c);
  free(before);
  m = get(h);
  CHECK(m.curr_blocks == -1 && m.curr_bytes == -300 && m.max_bytes == 3500);
  CHECK(m.total_blocks == 4);

  /* Nested, and a thread's allocations: only the all-threads scope. */
  unsigned long mine = MEMTRACK_MEASURE_START(0);
  unsigned long all = MEMTRACK_MEASURE_START(1);
  CHECK(mine && all && mine != all && mine != h);
  pthread_t t;
  pthread_create(&t, NULL, thread_allocs, NULL);
  pthread_join(t, NULL);
  MemtrackMeasure mm = get(mine), ma = get(all);
  CHECK(mm.total_bytes < 7000);                   /* pthread_create's own, at most */
  CHECK(ma.total_bytes >= 7000 + mm.total_bytes);
  CHECK(ma.max_bytes >= 7000);
  CHECK(MEMTRACK_MEASURE_STOP(mine) == 1 && MEMTRACK_MEASURE_STOP(all) == 1);

  /* Closed, forged and garbage handles name nothing; a bad pointer is refused. */
  CHECK(MEMTRACK_MEASURE_STOP(mine) == 0);
  MemtrackMeasure x;
  CHECK(MEMTRACK_MEASURE_READ(mine, &x) == 0);
  CHECK(MEMTRACK_MEASURE_READ(0, &x) == 0);
  CHECK(MEMTRACK_MEASURE_READ(~0UL, &x) == 0);
  CHECK(MEMTRACK_MEASURE_READ(h + 0x100, &x) == 0);
  CHECK(MEMTRACK_MEASURE_READ(h, (MemtrackMeasure*)16) == 0);
  CHECK(MEMTRACK_MEASURE_STOP(12345) == 0);

  /* 64 open at most (h is one of them). */
  unsigned long hs[70];
  int opened = 0;
  for (int i = 0; i < 70; i++) {
    hs[i] = MEMTRACK_MEASURE_START(0);
    if (hs[i]) opened++;
  }
  CHECK(opened == 63);
  for (int i = 0; i < 70; i++)
    if (hs[i]) CHECK(MEMTRACK_MEASURE_STOP(hs[i]) == 1);
  CHECK(MEMTRACK_MEASURE_STOP(h) == 1);
  unsigned long again = MEMTRACK_MEASURE_START(0);
  CHECK(again != 0 && again != h);  /* a slot's new handle differs from its old one */
  CHECK(MEMTRACK_MEASURE_READ(h, &x) == 0);
  MEMTRACK_MEASURE_STOP(again);

  if (failures) return 1;
  printf("measure: all checks passed\n");
  return 0;
}
