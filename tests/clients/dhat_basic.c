/* Client (5a), in the manner of DHAT's "basic" regression test: one block
   through malloc, calloc, a growing realloc, a shrinking realloc, free. */
#include <stdlib.h>
#include <string.h>

int main(void) {
  char* c = malloc(1000);
  memset(c, 1, 1000);
  char* z = calloc(1, 2000);
  for (int i = 0; i < 2000; i += 100) c[i % 1000] += z[i];
  free(c);
  z = realloc(z, 3000); /* grow */
  memset(z + 2000, 2, 1000);
  z = realloc(z, 1000); /* shrink */
  free(z);
  return 0;
}
