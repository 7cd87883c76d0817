/* leak_manysites: 1,280 blocks from 1,280 call sites, so that a search
 * lists more than a thousand loss records (memcheck numbers them "loss
 * record 1,000 of 1,283"). Each case of the switch calls malloc from its
 * own instruction (built at -O0), so each block has its own stack. Every
 * fourth block stays reachable from a static array, the rest are lost;
 * one lost block holds the only pointer to another (indirectly lost) and
 * a static pointer points inside a block (possibly lost). */
#include <stdio.h>
#include <stdlib.h>

#define NSITES 1280

static void *kept[NSITES / 4 + 1];
static char *inside;

static void *site(int n)
{
   switch (n) {
#define C1(n) case n: return malloc((n) % 24 + 1);
#define C4(n) C1(n) C1(n + 1) C1(n + 2) C1(n + 3)
#define C16(n) C4(n) C4(n + 4) C4(n + 8) C4(n + 12)
#define C64(n) C16(n) C16(n + 16) C16(n + 32) C16(n + 48)
#define C256(n) C64(n) C64(n + 64) C64(n + 128) C64(n + 192)
      C256(0) C256(256) C256(512) C256(768) C256(1024)
   }
   return NULL;
}

int main(void)
{
   int i;
   void **holder;
   for (i = 0; i < NSITES; i++) {
      void *p = site(i);
      if (i % 4 == 0)
         kept[i / 4] = p;
   }
   holder = malloc(sizeof *holder);  /* definitely lost ... */
   *holder = malloc(40);             /* ... and what it holds, indirectly */
   inside = (char *)malloc(64) + 8;  /* only an interior pointer: possibly lost */
   holder = NULL;
   printf("leak_manysites: %d sites\n", NSITES);
   return 0;
}
