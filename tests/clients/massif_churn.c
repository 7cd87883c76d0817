/* Client for the massif-format tests: a long, deterministic run of heap
   events (malloc, calloc, free, shrinking and growing realloc)
   over 64 slots, enough for snapshots to be culled many times, with a
   fixed amount of arithmetic between events and no call to any string or
   memory function (whose instruction counts differ between tools' preloads).
     massif_churn [events]      (default 3000)
   A growing realloc asks for twice the most the block ever held plus 64
   bytes, so no block ever grows within its slop (rounding, or what a
   shrinking realloc left), and there is no 0-byte request:
   both make massif's arena and memtrack's place later blocks differently
   (see docs/format.md), and the test compares every snapshot. */
#include <stdlib.h>

static unsigned long rng = 12345;
static unsigned long next(void) {
  rng = rng * 6364136223846793005UL + 1442695040888963407UL;
  return rng >> 33;
}

static volatile unsigned long sink;
static void work(unsigned n) {
  unsigned long x = 1;
  for (unsigned i = 0; i < n; i++) x = x * 31 + i;
  sink = x;
}

static char* slot[64];
static size_t size[64], cap[64];  /* now; the most it ever had */

int main(int argc, char** argv) {
  long events = argc > 1 ? atol(argv[1]) : 3000;
  for (long e = 0; e < events; e++) {
    work(50 + (unsigned)(next() % 200));
    unsigned s = (unsigned)(next() % 64);
    unsigned r = (unsigned)(next() % 100);
    if (!slot[s]) {
      size_t n = 1 + next() % 3000;
      slot[s] = r < 20 ? calloc(1, n) : malloc(n);
      size[s] = cap[s] = n;
      slot[s][0] = (char)e;
    } else if (r < 55 || cap[s] > 100000) {
      free(slot[s]);
      slot[s] = NULL;
    } else if (r < 75 && size[s] > 1) {
      size[s] = size[s] / 2;
      slot[s] = realloc(slot[s], size[s]);
    } else {
      size[s] = cap[s] = cap[s] * 2 + 64;
      slot[s] = realloc(slot[s], size[s]);
      slot[s][size[s] - 1] = 1;
    }
  }
  for (int s = 0; s < 64; s += 2) free(slot[s]);  /* odd slots stay live */
  return 0;
}
