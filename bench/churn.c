/* churn: a long run whose live heap is flat (bench/churn runs it under
 * memtrack and watches the tool's memory).
 *
 * Warm-up: 50,000 live blocks of 16 bytes to 4 KiB. Then, until the time is
 * up: free a random live block and allocate a new one of a random size in
 * its place (from one of 64 call paths), now and then realloc one, write a
 * few bytes of each new block and read some back. The number of live blocks
 * never changes and their sizes keep one distribution, so the program's heap
 * is flat after the warm-up; so must be the tool's memory.
 *
 * Usage: churn [seconds]   (default 600) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE 50000

static void* slots[LIVE];
static unsigned long long rng = 88172645463325252ULL;

static unsigned long next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned long)rng;
}

static size_t some_size(void) { return 16 + next() % 4081; }

/* 64 call paths: 8 functions, each reached at 8 recursion depths. */
#define PATH(n)                                                       \
  __attribute__((noinline)) static void* path##n(size_t s, int d) {  \
    void* p = d ? path##n(s, d - 1) : malloc(s);                      \
    __asm__ volatile("" ::: "memory");                                \
    return p;                                                         \
  }
PATH(0) PATH(1) PATH(2) PATH(3) PATH(4) PATH(5) PATH(6) PATH(7)
static void* (*const paths[8])(size_t, int) = {path0, path1, path2, path3, path4, path5, path6, path7};

static void* fresh(void) {
  size_t s = some_size();
  char* p = paths[next() % 8](s, (int)(next() % 8));
  if (!p) exit(1);
  memset(p, (int)s, s < 64 ? s : 64);
  return p;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 600;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < LIVE; i++) slots[i] = fresh();
  unsigned long rounds = 0, sum = 0;
  for (;;) {
    for (int k = 0; k < 10000; k++) {
      unsigned long i = next() % LIVE;
      sum += ((unsigned char*)slots[i])[0];
      if (next() % 8 == 0) {
        void* q = realloc(slots[i], some_size());
        if (!q) return 1;
        slots[i] = q;
      } else {
        free(slots[i]);
        slots[i] = fresh();
      }
    }
    rounds++;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= seconds) break;
  }
  for (int i = 0; i < LIVE; i++) free(slots[i]);
  printf("churn: %lu rounds of 10,000 (checksum %lu)\n", rounds, sum);
  return 0;
}
