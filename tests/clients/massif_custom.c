/* Custom blocks as massif counts them: valgrind.h's MALLOCLIKE_BLOCK,
   FREELIKE_BLOCK and RESIZEINPLACE_BLOCK, including the cases where
   massif's one table of records (malloc'd and custom blocks alike, the
   newest first at an address) decides:
     - a pool carves blocks out of a malloc'd slab, grows and shrinks one
       in place, and frees some;
     - a custom block at the very start of a malloc'd block: free() of the
       malloc'd block takes out the custom record, the malloc'd bytes keep
       counting until a FREELIKE there;
     - FREELIKE of a malloc'd block: it stops counting, and its free()
       later changes nothing;
     - RESIZEINPLACE of an address nothing was recorded at records a new
       block; FREELIKE of such an address does nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

static char *slab;
static size_t used;

static void *__attribute__((noinline)) pool_alloc(size_t n)
{
   char *p = slab + used;
   used += (n + 15) & ~(size_t)15;
   VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 0);
   return p;
}

static void __attribute__((noinline)) pool_free(void *p)
{
   VALGRIND_FREELIKE_BLOCK(p, 0);
}

static void __attribute__((noinline)) pool_resize(void *p, size_t old, size_t n)
{
   VALGRIND_RESIZEINPLACE_BLOCK(p, old, n, 0);
}

int main(void)
{
   void *a[20];
   slab = malloc(64 * 1024);
   memset(slab, 0, 64 * 1024);

   /* The pool at work. */
   for (int i = 0; i < 20; i++)
      a[i] = pool_alloc(100 + 50 * i);
   pool_resize(a[3], 250, 900);
   pool_resize(a[4], 300, 40);
   for (int i = 0; i < 20; i += 3)
      pool_free(a[i]);

   /* A custom block at the start of a malloc'd one. */
   char *m = malloc(2000);
   char *n = malloc(3000);         /* (before m's free: never at m) */
   VALGRIND_MALLOCLIKE_BLOCK(m, 300, 0, 0);
   free(m);                        /* massif: takes out the custom record */
   VALGRIND_FREELIKE_BLOCK(m, 0);  /* massif: now the 2000 go */

   /* FREELIKE of a malloc'd block, then its free(). */
   VALGRIND_FREELIKE_BLOCK(n, 0);
   free(n);

   /* Requests naming addresses with nothing recorded. */
   static char spare[512];
   VALGRIND_RESIZEINPLACE_BLOCK(spare, 10, 200, 0);
   VALGRIND_FREELIKE_BLOCK(spare + 256, 0);
   VALGRIND_FREELIKE_BLOCK(spare, 0);

   for (int i = 1; i < 20; i += 3)
      pool_free(a[i]);
   printf("massif_custom: done\n");
   return 0;
}
