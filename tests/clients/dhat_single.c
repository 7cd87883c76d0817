/* Client (5e): a single malloc(16), never freed. */
#include <stdlib.h>

int main(void) {
  char* p = malloc(16);
  p[0] = 1;
  return 0;
}
