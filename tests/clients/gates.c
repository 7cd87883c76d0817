/* Client for the CI gates (tests/test_gates.py): each kind of limit has a
   site that contributes most, known by construction, and leaks of every
   kind at their own lines. No stdio, so libc's buffers stay out of the
   figures.

     table()        3,000 bytes in 1 block, live until the end
     big_buffers()  4 x 10,000 bytes, live together with the table: the
                    peak (43,000 bytes) and the site holding most of it
     churn()        2,000 x 100 bytes, each freed at once: the site that
                    allocates most (200,000 bytes)
     leak_blocks()  3 x 1,000 bytes, pointers dropped: definitely lost,
                    the most lost bytes of any site
     leak_chain()   64 bytes (definitely lost) -> 2,000 bytes (indirectly
                    lost): the most indirectly lost
     leak_inside()  500 bytes pointed to 10 bytes in: possibly lost
     keep()         200 bytes held by a global: still reachable        */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static char* bufs[4];
void* g_inside;
void* g_kept;

NOINLINE static char* table(void) {
  char* t = malloc(3000);
  memset(t, 1, 3000);
  return t;
}

NOINLINE static void big_buffers(void) {
  for (int i = 0; i < 4; i++) {
    bufs[i] = malloc(10000);
    memset(bufs[i], 2, 10000);
  }
}

NOINLINE static void free_buffers(void) {
  for (int i = 0; i < 4; i++) {
    free(bufs[i]);
    bufs[i] = NULL;
  }
}

NOINLINE static void churn(void) {
  for (int i = 0; i < 2000; i++) {
    volatile char* p = malloc(100);
    p[0] = 3;
    free((void*)p);
  }
}

NOINLINE static void leak_blocks(void) {
  for (int i = 0; i < 3; i++) {
    volatile char* p = malloc(1000);
    p[0] = 4;
  }
}

NOINLINE static void leak_chain(void) {
  void** a = malloc(64);
  memset(a, 0, 64);
  a[0] = malloc(2000);
}

NOINLINE static void leak_inside(void) {
  g_inside = (char*)malloc(500) + 10;
}

NOINLINE static void keep(void) {
  g_kept = malloc(200);
}

/* Overwrites the stack below main's frame and the caller-saved registers,
   so that no stale copy of a leaked pointer keeps its block reachable. */
NOINLINE static long scrub(void) {
  volatile char junk[4096];
  memset((char*)junk, 0, sizeof junk);
  return junk[7];
}

int main(void) {
  char* t = table();
  big_buffers();
  free_buffers();
  churn();
  leak_blocks();
  leak_chain();
  leak_inside();
  keep();
  free(t);
  scrub();
  static const char msg[] = "gates: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
