/* Small blocks freed and asked for again, where the allocator's choice of
 * memory shows: 20,000 rounds of malloc, fill, check and free over sizes 8
 * to 1,024 bytes, with one of eight blocks living on a while so the sizes
 * interleave, and a calloc'd and a realloc'd block each round. The program
 * checks every block's bytes before freeing it. Then a freed block that
 * holds the only pointer to another block (freed memory is no root:
 * memcheck calls the other block definitely lost). Prints "small_reuse: ok"
 * when every check held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void** volatile holder; /* volatile: the compiler keeps both blocks */

static int check(const unsigned char* p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

int main(void) {
  int ok = 1;
  unsigned char* keep[8] = {0};
  for (int i = 0; i < 20000; i++) {
    size_t n = 8 + (size_t)(i * 37) % 1017;
    unsigned char v = (unsigned char)(i * 7 + 1);
    unsigned char* p = malloc(n);
    memset(p, v, n);
    /* one of eight blocks lives on for a while, so the sizes interleave */
    unsigned char** slot = &keep[i % 8];
    if (*slot) {
      ok &= (*slot)[0] == (*slot)[1];
      free(*slot);
    }
    *slot = malloc(n / 2 + 8);
    memset(*slot, v, n / 2 + 8);
    unsigned char* z = calloc(1, n);
    ok &= check(z, n, 0);
    z = realloc(z, n + 16);
    ok &= check(z, n, 0);
    ok &= check(p, n, v);
    free(z);
    free(p);
  }
  for (int i = 0; i < 8; i++) free(keep[i]);

  holder = malloc(64);
  holder[0] = malloc(100); /* lost when holder goes */
  holder[1] = 0;
  free(holder);
  holder = 0;
  printf("small_reuse: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
