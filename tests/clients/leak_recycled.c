/* A pointer left in freed memory. The only pointer to a block goes into
   block `old`, which is then freed, and the next malloc of the same size
   gets old's memory back: memtrack's heap reuses it at once without the
   queue of freed blocks (the tests run it with --freelist-vol=0). The
   program never writes into the new block. memcheck does not scan freed
   memory, whether it holds it back or not, so the block is definitely
   lost; memtrack zero-fills new blocks whenever a leak search may run, so
   the stale word is gone and the block is lost there too.
   Printed: whether the new block took old's place (memtrack: yes).

   The pointer's other copies are kept out of reach as in dead_stack.h's
   users: the stack below main is overwritten with defined zeros, the
   registers cleared, and the search runs from under a frame that covers
   the dead ones (probe()), and again at exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

static void **g_again;
static int g_reused;

static void __attribute__((noinline)) work(void)
{
   void **old = malloc(64);
   memset(old, 0, 64);
   old[3] = malloc(24);
   free(old);
   g_again = malloc(64);
   g_reused = (void *)g_again == (void *)old;
}

int main(void)
{
   work();
   printf("leak_recycled: the new block %s the freed one's place\n", g_reused ? "took" : "did not take");
   fflush(stdout);
   wipe();
   CLEAR_REGS();
   probe();
   return 0;
}
