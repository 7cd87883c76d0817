/* A difference by design, kept out of the stress programs (see
   tests/stressgen.py): memcheck's clique pass visits lost blocks in address
   order, so how a lost structure splits into definitely and indirectly
   lost blocks depends on where the allocator put them.

   x -> a <-> b, all lost, all 16 bytes from one call site. Blocks are made
   in the order hole, b, a, then hole is freed and x made. memtrack reuses
   the hole at once (x < b < a): x leads, "48 (16 direct, 32 indirect)
   bytes in 1 blocks are definitely lost". memcheck keeps freed memory out
   of use (x above a): b leads its cycle with a, x comes later and finds a
   taken: "48 (32 direct, 16 indirect) bytes in 2 blocks".

   argv[1] == "xfirst": x, b, a made in that order without the hole, which
   is memtrack's placement for memcheck to judge. Prints the order of the
   three addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HOLE, X, A, B, FREE_HOLE };
static const int with_hole[] = {HOLE, B, A, FREE_HOLE, X};
static const int x_first[] = {X, B, A};

static void **mk(void)
{
   void **p = malloc(16);
   p[0] = p[1] = 0;
   return p;
}

static void __attribute__((noinline)) build(int xfirst)
{
   void **s[4] = {0, 0, 0, 0};
   const int *order = xfirst ? x_first : with_hole;
   int n = xfirst ? 3 : 5;
   for (int i = 0; i < n; i++) {
      if (order[i] == FREE_HOLE) {
         free(s[HOLE]);
         s[HOLE] = 0;
         continue;
      }
      s[order[i]] = mk();          /* one call site for every block */
   }
   s[X][0] = s[A];
   s[A][0] = s[B];
   s[B][0] = s[A];
   printf("stress_clique: %s\n", s[X] < s[B] ? "x<b<a" : "b<a<x");
}

static void __attribute__((noinline)) wipe(void)
{
   volatile char buf[1024];
   memset((char *)buf, 0, sizeof buf);
}

int main(int argc, char **argv)
{
   build(argc > 1 && strcmp(argv[1], "xfirst") == 0);
   wipe();
   return 0;
}
