/* Found by the stress suite (seed 68): a block's last word, when only part
   of it lies inside the block, is no pointer. memcheck scans the whole
   words inside a block only. Here the only pointer to q was in p's second
   word; p shrinks to 10 bytes (memtrack keeps it in place, so the 8 bytes
   are still there, 2 of them inside the block): q is definitely lost.
   The same for r, whose only pointer was in the second word of a 24-byte
   block cut to 12 bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *g[2];

static void __attribute__((noinline)) build(void)
{
   void **p = malloc(16);
   void *q = malloc(32);
   p[0] = 0;
   p[1] = q;
   g[0] = realloc(p, 10);
   /* A block of 12 bytes that ends inside the word holding r's address. */
   void **s = calloc(1, 24);
   void *r = malloc(48);
   s[1] = r;
   g[1] = realloc(s, 12);
}

/* Zeroes the dead stack where build()'s locals were. */
static void __attribute__((noinline)) wipe(void)
{
   volatile char buf[1024];
   memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
   build();
   wipe();
   printf("stress_realloc_tail: done\n");
   return 0;
}
