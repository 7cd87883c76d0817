/* A difference by design, kept out of the stress programs (see
   tests/stressgen.py): a pointer left to a freed block points to whatever
   block the allocator puts there next. memcheck keeps freed memory out of
   use until 20 MB more have been freed (--freelist-vol), so the new block
   is elsewhere and lost; memtrack reuses freed memory at once, so the stale
   pointer points to the new block, which is still reachable.

   argv[1] == "keep": g is set to the new block, a real pointer: what
   memtrack's placement means, for memcheck to judge.
   Prints whether the new block has the freed block's address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *g;
unsigned long old_addr;  /* not a pointer: the address, scrambled */

static void __attribute__((noinline)) build(int keep)
{
   void *p = malloc(32);
   g = p;                          /* kept after the free: dangling */
   old_addr = ~(unsigned long)p;
   free(p);
   void *q = malloc(32);           /* the only block allocated here */
   if (keep)
      g = q;
   printf("stress_dangling: %s\n", ~(unsigned long)q == old_addr ? "same address" : "new address");
}

static void __attribute__((noinline)) wipe(void)
{
   volatile char buf[1024];
   memset((char *)buf, 0, sizeof buf);
}

int main(int argc, char **argv)
{
   build(argc > 1 && strcmp(argv[1], "keep") == 0);
   wipe();
   return 0;
}
