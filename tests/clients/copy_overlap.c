/* Overlapping copies (undefined for memcpy and strcpy, defined for memmove)
 * in --mode=copy: each is counted where it is made; nothing goes wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char* p = malloc(64);
  for (int i = 0; i < 63; i++) p[i] = (char)('a' + i % 26);
  p[63] = 0;
  memcpy(p + 8, p, 32);   /* destination after the source */
  memcpy(p, p + 4, 40);   /* destination before the source */
  memmove(p + 1, p, 50);
  memmove(p, p + 3, 50);
  strcpy(p, p + 10);      /* the string moves down: ends at the old NUL */
  strncpy(p + 2, p, 20);
  printf("%zu\n", strlen(p));
  free(p);
  return 0;
}
