/* Client (4): a heap whose peak (t-gmax) is neither the end nor the
   largest single step: grow, shrink, grow back to an equal peak with fewer
   blocks, realloc shrink, realloc grow to a new peak, a transient spike
   that is lower than that peak, then shrink to a few leaked blocks:
     Total 16,800 bytes in 17 blocks, t-gmax 10,900 in 9, t-end 1,600 in 2
   ("peak equal" stops after the second, equal peak and frees everything:
     Total 12,000 bytes in 11 blocks, t-gmax 10,000 bytes, t-end 0 in 0).
   No stdio until the very end, so libc's buffers stay out of the shape. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static char* blocks[16];

NOINLINE static char* get(size_t n) {
  char* p = malloc(n);
  if (!p) abort();
  memset(p, 0x5a, n);
  return p;
}

int main(int argc, char** argv) {
  /* "peak equal": stop after step 3, so that two peaks of equal size (with
     10 and 9 blocks) are the highest. */
  int equal_only = argc > 1 && strcmp(argv[1], "equal") == 0;
  /* 1. Grow: 10 x 1000 = 10000 bytes in 10 blocks. */
  for (int i = 0; i < 10; i++) blocks[i] = get(1000);
  /* 2. Shrink: free two -> 8000 bytes. */
  free(blocks[8]);
  free(blocks[9]);
  /* 3. Grow back to an equal peak with fewer blocks: 10000 in 9 blocks. */
  blocks[8] = get(2000);
  blocks[9] = NULL;
  if (equal_only) {
    for (int i = 0; i < 9; i++) free(blocks[i]);
    return 0;
  }
  /* 4. realloc shrink: 1000 -> 100 (9100 bytes). */
  blocks[0] = realloc(blocks[0], 100);
  /* 5. realloc grow: 100 -> 1900, a new peak of 10900 bytes in 9 blocks. */
  blocks[0] = realloc(blocks[0], 1900);
  /* 6. realloc shrink another: 2000 -> 500 (9400 bytes). */
  blocks[8] = realloc(blocks[8], 500);
  /* 7. Transient spike below the peak: +1400 then gone. */
  char* spike = get(1400);
  free(spike);
  /* 8. calloc and a realloc grow that still stays below the peak. */
  blocks[10] = calloc(10, 30);
  blocks[10] = realloc(blocks[10], 600);
  /* 9. Shrink to the end: keep blocks 1 and 10 (1000 + 600 bytes). */
  for (int i = 0; i < 16; i++)
    if (i != 1 && i != 10) free(blocks[i]);
  static const char msg[] = "peak: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
