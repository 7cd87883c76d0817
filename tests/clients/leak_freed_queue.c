/* The queue of freed blocks (memcheck's --freelist-vol and
   --freelist-big-blocks; memtrack keeps it with --leak-check=full). A
   pointer is left to a freed 40,000-byte block; two 1,500,000-byte blocks
   are freed after it; a 100,000-byte block is made; then a new 40,000-byte
   block, to which the program keeps no pointer. The freed block lies
   between live blocks of its size (all three come one after another from
   fresh memory), so once it leaves the queue it is the one free block the
   allocator hands out for the new one, and the stale pointer reaches it.
   - --freelist-vol=0: the freed block leaves at once: same address, the
     new block still reachable.
   - The default 20,000,000: it stays queued: new address, definitely lost.
   - --freelist-vol=2000000: the second big free overfills the queue, and
     the 100,000-byte block lets blocks go. Big ones (at least
     --freelist-big-blocks, 1,000,000) leave first: one is enough and the
     small one stays (new address). With --freelist-big-blocks above the
     volume all are small and leave first in, first out: the small one goes
     first (same address).
   - argv[1] "direct" leaves the 100,000-byte block out: blocks leave the
     queue when the next block is made, but after that block got its
     memory, so then the new block cannot take the freed one's place.
   Prints whether the new block has the freed block's address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

void *g;                  /* left pointing at the freed block */
void *fence[2];           /* live neighbours of the freed block */
void *g_after;            /* made between the frees and the new block */
volatile unsigned long old_addr;  /* its address, scrambled: no pointer (volatile:
                                    gcc would take a new block for unequal to it) */
int g_same;
void *volatile g_big;     /* makes gcc keep the big blocks' malloc and free */

static void __attribute__((noinline)) work(int direct)
{
   fence[0] = malloc(40000);
   void *p = malloc(40000);
   fence[1] = malloc(40000);
   g = p;
   old_addr = ~(unsigned long)p;
   free(p);
   void *big1 = malloc(1500000);
   g_big = big1;
   void *big2 = malloc(1500000);
   g_big = big2;
   free(big1);
   free(big2);
   g_big = NULL;
   /* Blocks leave the queue when the next block is made: this one lets
      them go before the 40,000-byte one comes. */
   if (!direct)
      g_after = malloc(100000);  /* too big to take the freed block's place */
   void *q = malloc(40000);  /* the program forgets it */
   g_same = ~(unsigned long)q == old_addr;
}

int main(int argc, char **argv)
{
   work(argc > 1 && strcmp(argv[1], "direct") == 0);
   printf("leak_freed_queue: %s\n", g_same ? "same address" : "new address");
   fflush(stdout);
   wipe();
   CLEAR_REGS();
   return 0;
}
