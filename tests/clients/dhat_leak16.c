/* Client (5d): 16 blocks of different sizes, none freed. */
#include <stdlib.h>

int main(void) {
  for (int i = 0; i < 16; i++) {
    char* p = malloc((size_t)(i + 1) * 24);
    p[0] = (char)i;
  }
  return 0;
}
