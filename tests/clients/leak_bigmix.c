/* Big blocks (256 KiB and more, which the block index keeps apart from the
   small ones) mixed in address order with small blocks, pointing at each
   other, some freed, then lost in every way memcheck tells apart:
     - a chain small -> big -> small -> big ... hanging from a global
       (still reachable);
     - the same chain with its head forgotten (definitely lost, the rest
       indirectly lost);
     - big blocks known only through pointers into their middle (possibly
       lost), one holding the only pointer to a small block;
     - big blocks freed between the others, so that the live ones are not
       adjacent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 24

static void *keep;        /* a reachable chain */
static char *inside[3];   /* interior pointers only */

static void *chain(int n, int seed)
{
   void *next = NULL;
   for (int i = 0; i < n; i++) {
      size_t size = (i % 2) ? (size_t)(256 + 64 * ((i + seed) % 5)) * 1024 : 32 + 8 * (size_t)i;
      void **b = malloc(size);
      memset(b, 0, size < 4096 ? size : 4096);
      b[0] = next;
      if (size > 8192)
         ((void **)b)[size / sizeof(void *) - 1] = next;  /* also at the far end */
      next = b;
   }
   return next;
}

int main(void)
{
   void *gaps[N];
   for (int i = 0; i < N; i++)   /* big gaps to be freed between the chains */
      gaps[i] = malloc((size_t)(300 + 10 * i) * 1024);
   keep = chain(12, 1);
   for (int i = 0; i < N; i += 2) {
      free(gaps[i]);
      gaps[i] = NULL;
   }
   void *lost = chain(10, 2);
   for (int i = 0; i < 3; i++) {
      char *b = malloc((size_t)(512 + 256 * i) * 1024);
      memset(b, 0, 4096);
      ((void **)b)[1] = malloc(48);   /* reachable only through b */
      inside[i] = b + 100 * 1024;
   }
   for (int i = 1; i < N; i += 2)
      free(gaps[i]);
   lost = NULL;
   printf("leak_bigmix: done\n");
   return 0;
}
