/* Many call paths to malloc that meet at the same stack depth, so that the
 * stack pointer at the malloc call is the same and only the return addresses
 * above it tell the paths apart: the case memtrack's unwind memo must get
 * right. Built with -O2 -fomit-frame-pointer by its test (frame-pointer
 * frames are never reused, so -O0 would not exercise the memo). Each path
 * allocates its own size, interleaved with the others. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ROUNDS 40

volatile long sink;
void* kept[4096];
int nkept;

__attribute__((noinline)) void leaf(size_t n) {
  char* p = malloc(n);
  p[0] = 1;
  sink += p[0];
  if (n % 3 == 0 && nkept < 4096) kept[nkept++] = p; /* some stay live */
  else free(p);
}

/* Same frame size, different return addresses. */
__attribute__((noinline)) void mid(size_t n) { leaf(n); sink++; }
__attribute__((noinline)) void via_a(size_t n) { mid(n); sink++; }
__attribute__((noinline)) void via_b(size_t n) { mid(n); sink++; }
__attribute__((noinline)) void via_c(size_t n) { mid(n); sink++; }

/* Depth varies: the same leaf at different stack pointers. */
__attribute__((noinline)) void rec(int d, size_t n) {
  if (d == 0) leaf(n);
  else rec(d - 1, n);
  sink++;
}

/* A frame whose size varies (its CFA is relative to the frame pointer). */
__attribute__((noinline)) void vla(int k, size_t n) {
  char buf[k];
  memset(buf, k, (size_t)k);
  sink += buf[k - 1];
  mid(n);
  sink++;
}

/* A frame-pointer frame in the middle of an otherwise frameless path. */
__attribute__((noinline, optimize("no-omit-frame-pointer"))) void framed(size_t n) {
  volatile char pad[48];
  pad[0] = 1;
  mid(n);
  sink += pad[0];
}
__attribute__((noinline)) void via_framed(size_t n) { framed(n); sink++; }

/* Called through a table, from one call instruction. */
void (*table[3])(size_t) = {via_a, via_b, via_c};
__attribute__((noinline)) void dispatch(int i, size_t n) { table[i](n); sink++; }

static void on_usr1(int sig) {
  (void)sig;
  via_a(400);
}

static void* worker(void* arg) {
  size_t base = (size_t)arg;
  for (int r = 0; r < ROUNDS; r++) {
    via_a(base);
    via_b(base + 8);
  }
  return NULL;
}

/* Eight frames between main and the paths, so that a stack of 12 frames
 * lies wholly in code with unwind info. The second, shallow round runs
 * below main into the start-up code, where the unwinder ends in guesses:
 * those are reused only with the words they were guessed from. */
__attribute__((noinline)) void work(void);
#define DEEP(name, next) __attribute__((noinline)) void name(void) { next(); sink++; }
DEEP(d1, work)
DEEP(d2, d1)
DEEP(d3, d2)
DEEP(d4, d3)
DEEP(d5, d4)
DEEP(d6, d5)
DEEP(d7, d6)
DEEP(d8, d7)

int main(void) {
  d8();
  /* and the same paths again, shallow */
  work();
  printf("%d kept\n", nkept);
  return 0;
}

__attribute__((noinline)) void work(void) {
  for (int r = 0; r < ROUNDS; r++) {
    via_a(24);
    via_b(40);
    via_c(56);
    rec(r % 6, 100 + (size_t)(r % 6) * 8);
    vla(16 + (r % 8) * 32, 200);
    via_framed(232);
    dispatch(r % 3, 264 + (size_t)(r % 3) * 8);
  }
  pthread_t t[2];
  pthread_create(&t[0], NULL, worker, (void*)304);
  pthread_join(t[0], NULL);
  pthread_create(&t[1], NULL, worker, (void*)336);
  pthread_join(t[1], NULL);

  stack_t ss;
  /* mmap'd: the signal frames the core writes there are not heap accesses */
  ss.ss_sp = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ss.ss_size = 1 << 16;
  ss.ss_flags = 0;
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  for (int r = 0; r < ROUNDS; r++) {
    raise(SIGUSR1);
    via_c(432);
  }
  sa.sa_handler = SIG_DFL;
  sigaction(SIGUSR1, &sa, NULL);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
}
