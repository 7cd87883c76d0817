/* Client (5b), in the manner of DHAT's "big" regression test: 19 blocks
   allocated from a call tree of several depths and sizes; some are freed,
   some live to the end. */
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static void* keep[19];
static int n;

NOINLINE static void leaf(size_t sz) {
  char* p = malloc(sz);
  memset(p, 0, sz);
  keep[n++] = p;
}
NOINLINE static void b1(void) { leaf(10); leaf(20); }
NOINLINE static void b2(void) { leaf(300); b1(); }
NOINLINE static void b3(void) { b2(); leaf(4000); b1(); }
NOINLINE static void c1(void) { leaf(50000); }
NOINLINE static void c2(void) { c1(); leaf(6); c1(); }
NOINLINE static void d1(void) { b3(); c2(); }

int main(void) {
  d1();              /* 10 blocks */
  b3();              /* 5 more: 15 */
  c2();              /* 3 more: 18 */
  leaf(123);         /* 19 */
  for (int i = 0; i < n; i += 2) free(keep[i]); /* the even ones go */
  return n == 19 ? 0 : 1;
}
