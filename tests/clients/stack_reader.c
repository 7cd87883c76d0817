/* Reads stack it never wrote, as a conservative garbage collector (ruby's)
   reads its own stack: fill() leaves block addresses and a pattern in its
   frame and returns; peek() covers the same memory with a frame it never
   writes and prints what it finds there: how many of its words still hold
   one of the block addresses, and a checksum of the rest. A tool that
   zeroed dead stack for its leak search would change both; the program
   must print the same under memtrack as under Valgrind's none tool and
   memcheck, whatever --leak-check says. The blocks stay reachable from a
   global: the stale words change no leak figure either way. */
#include <stdio.h>
#include <stdlib.h>

#define NW 64
#define NB 4

void *blocks[NB];

static void __attribute__((noinline)) fill(void)
{
   volatile unsigned long buf[NW];
   for (int i = 0; i < NW; i++)
      buf[i] = i % 8 == 0 ? (unsigned long)blocks[(i / 8) % NB] : 0x1000u + 7u * (unsigned)i;
}

static void __attribute__((noinline)) peek(void)
{
   volatile unsigned long buf[NW];   /* never written */
   unsigned long sum = 0;
   int hits = 0;
   for (int i = 0; i < NW; i++) {
      unsigned long w = buf[i];
      int is_block = 0;
      for (int b = 0; b < NB; b++)
         if (w == (unsigned long)blocks[b]) is_block = 1;
      if (is_block) hits++;
      else sum = sum * 31 + w % 65521;
   }
   printf("stale block addresses: %d, checksum of the rest: %lu\n", hits, sum % 1000003);
}

int main(void)
{
   for (int b = 0; b < NB; b++)
      blocks[b] = malloc(16 + 16 * b);
   fill();
   peek();
   return 0;
}
