/* Allocation patterns whose temporary blocks (freed with nothing allocated
   in between by the same thread: heaptrack's "temporary allocations") and
   caller/callee sums are known by construction; tests/test_script_functions.py
   checks memtrack's tmpb/tmpbk and memtrack_print's --callers against them.

     temp_loop     50 x malloc(64), each freed at once: 50 temporary, 3,200 B
     pair          a = malloc(32), b = malloc(48), free(a), free(b): only b
                   is temporary (b came between a and its free; a free in
                   between does not count)
     grow          malloc(16), realloc to 4,000, free: the realloc is an
                   allocation, so the 4,000-byte block is temporary (the
                   site has 2 blocks, 4,016 bytes)
     threaded      a thread mallocs 24 bytes and frees them after the main
                   thread has malloc'd 40 (kept to the end): temporary for
                   the thread, which allocated nothing in between
     kept          10 x malloc(100) from leaf() under worker(), none freed
     recurse       recurse(3) -> ... -> recurse(0) -> leaf(1,000), kept:
                   recurse's inclusive bytes are 1,000, not 4,000
*/
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

static void* keep[64];
static int nkeep;
static sem_t to_main, to_thread;
static void* volatile sink;

__attribute__((noinline)) static void temp_loop(void) {
  for (int i = 0; i < 50; i++) {
    void* p = malloc(64);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) static void* pair_first(void) { return malloc(32); }
__attribute__((noinline)) static void* pair_second(void) { return malloc(48); }

__attribute__((noinline)) static void pair(void) {
  void* a = pair_first();
  void* b = pair_second();
  sink = a;
  free(a);
  sink = b;
  free(b);
}

__attribute__((noinline)) static void grow(void) {
  char* p = malloc(16);
  p = realloc(p, 4000);
  sink = p;
  free(p);
}

__attribute__((noinline)) static void* thread_alloc(void) { return malloc(24); }
__attribute__((noinline)) static void* main_alloc(void) { return malloc(40); }

static void* thread_main(void* arg) {
  (void)arg;
  void* x = thread_alloc();
  sem_post(&to_main);
  sem_wait(&to_thread);
  free(x);
  return NULL;
}

__attribute__((noinline)) static void threaded(void) {
  pthread_t t;
  sem_init(&to_main, 0, 0);
  sem_init(&to_thread, 0, 0);
  pthread_create(&t, NULL, thread_main, NULL);
  sem_wait(&to_main);
  keep[nkeep++] = main_alloc();
  sem_post(&to_thread);
  pthread_join(t, NULL);
}

__attribute__((noinline)) void* leaf(size_t n) { return malloc(n); }

__attribute__((noinline)) void recurse(int d) {
  if (d == 0) {
    keep[nkeep++] = leaf(1000);
    return;
  }
  recurse(d - 1);
  sink = &d;  /* not a tail call */
}

__attribute__((noinline)) void worker(void) {
  for (int i = 0; i < 10; i++) keep[nkeep++] = leaf(100);
  recurse(3);
}

int main(void) {
  temp_loop();
  pair();
  grow();
  threaded();
  worker();
  return nkeep == 12 ? 0 : 1;
}
