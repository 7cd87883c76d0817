/* Pointers kept in big blocks (the leak search reads only the pages of a
 * block of 1 MiB or more that the program touched): each 4 MiB block holds
 * one pointer, at its first word, in a page in its middle, or at its last
 * word, to a small block that nothing else points to; most of each big
 * block is never touched. A fourth big block holds nothing and is lost;
 * a calloc'd one is touched all over by the zeroing. */
#include <stdlib.h>
#include <string.h>

#define BIG (4u << 20)

char* volatile big[4];
void* volatile zeroed;

int main(void) {
  for (int i = 0; i < 4; i++) big[i] = malloc(BIG);
  *(void**)big[0] = malloc(10);                                 /* first word */
  *(void**)(big[1] + BIG / 2 + 24) = malloc(20);                /* a middle page */
  *(void**)(big[2] + (BIG - sizeof(void*)) / 8 * 8) = malloc(30); /* last whole word */
  char* lost = malloc(BIG);                                      /* nothing points here */
  lost[BIG / 3] = 1;
  lost = NULL;
  zeroed = calloc(1, BIG);
  *(void**)((char*)zeroed + 4096 * 100) = malloc(40);
  return 0;
}
