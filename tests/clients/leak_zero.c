/* malloc(0) blocks (leak-0): memcheck gives a size-0 block a 1-byte extent,
   so a pointer to its start keeps it reachable; lost ones are definitely
   lost with 0 bytes. */
#include <stdio.h>
#include <stdlib.h>

static void drop(void *p) { (void)p; }

void *kept0;
void *kept_interior_holder;

int main(void)
{
   kept0 = malloc(0);          /* reachable, 0 bytes */
   drop(malloc(0));            /* definitely lost, 0 bytes */
   drop(malloc(0));
   void **p = malloc(16);      /* definitely lost, 16 direct + 0 indirect */
   p[0] = malloc(0);           /* indirectly lost */
   p = NULL;
   printf("leak_zero: done\n");
   return 0;
}
