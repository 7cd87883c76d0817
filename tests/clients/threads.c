/* Client (3): several threads allocating and freeing at once, each also
   freeing blocks another thread allocated.

   threads phased: the work runs in phases separated by barriers; within a
     phase the threads either only allocate or only free, so the live heap at
     every phase boundary, and hence the peak (t-gmax), does not depend on
     how the threads interleave.
   threads free: no barriers; each slot is handed over on its own (the owner
     waits for the slot to be empty, the freeing thread for it to be full),
     so the threads race. Total and t-end do not depend on the interleaving
     (every block is the same whatever the order), t-gmax does.

   All sizes are fixed functions of (thread, round, slot), so the totals are
   the same on every run. Prints "threads: ok <checksum>" and exits 0. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4
#define NSLOTS 64
#define NROUNDS 3

static pthread_barrier_t barrier;
static int phased;
static unsigned char* slots[NTHREADS][NSLOTS];
static unsigned long sums[NTHREADS];

static size_t size_for(int t, int round, int slot) {
  return (size_t)(16 + ((t * 131 + round * 37 + slot * 13) % 500));
}

static void sync_point(void) {
  if (phased) pthread_barrier_wait(&barrier);
}

/* Slot hand-over, needed only when there are no barriers. */
static void put(int t, int s, unsigned char* p) {
  while (__atomic_load_n(&slots[t][s], __ATOMIC_ACQUIRE) != NULL) sched_yield();
  __atomic_store_n(&slots[t][s], p, __ATOMIC_RELEASE);
}

static unsigned char* take(int t, int s) {
  unsigned char* p;
  while ((p = __atomic_exchange_n(&slots[t][s], NULL, __ATOMIC_ACQ_REL)) == NULL) sched_yield();
  return p;
}

static void* worker(void* arg) {
  int t = (int)(long)arg;
  int victim = (t + 1) % NTHREADS; /* whose blocks this thread frees */
  for (int round = 0; round < NROUNDS; round++) {
    /* Phase A: allocate my slots; half of them grow by realloc (which
       counts one more block). */
    for (int s = 0; s < NSLOTS; s++) {
      size_t n = size_for(t, round, s);
      unsigned char* p = (s % 3 == 0) ? calloc(1, n) : malloc(n);
      if (!p) abort();
      memset(p, t + 1, n);
      if (s % 2 == 0) {
        p = realloc(p, n * 2);
        if (!p) abort();
      }
      put(t, s, p);
    }
    sync_point();
    /* Phase B: free the neighbour's blocks, reading them first. */
    for (int s = 0; s < NSLOTS; s++) {
      unsigned char* p = take(victim, s);
      sums[t] += p[0];
      free(p);
    }
    sync_point();
  }
  /* Some thread-private churn with no effect on the peak in phased mode:
     each block is freed before the next is allocated, and all of them are
     smaller than one round's worth. */
  for (int i = 0; i < 50; i++) {
    char* p = malloc(8 + (size_t)(t * 50 + i) % 64);
    if (!p) abort();
    p[0] = (char)i;
    free(p);
  }
  return NULL;
}

int main(int argc, char** argv) {
  phased = !(argc > 1 && strcmp(argv[1], "free") == 0);
  pthread_t th[NTHREADS];
  if (phased) pthread_barrier_init(&barrier, NULL, NTHREADS);
  for (long t = 0; t < NTHREADS; t++)
    if (pthread_create(&th[t], NULL, worker, (void*)t) != 0) return 3;
  for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
  if (phased) pthread_barrier_destroy(&barrier);
  unsigned long sum = 0;
  for (int t = 0; t < NTHREADS; t++) sum += sums[t];
  /* Every thread freed NSLOTS blocks per round whose first byte was the
     owner's number. */
  unsigned long want = 0;
  for (int t = 0; t < NTHREADS; t++) want += (unsigned long)NROUNDS * NSLOTS * ((t + 1) % NTHREADS + 1);
  if (sum != want) {
    fprintf(stderr, "threads: checksum %lu, expected %lu\n", sum, want);
    return 1;
  }
  printf("threads: ok %lu\n", sum);
  return 0;
}
