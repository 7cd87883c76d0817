/* manyblocks: the heap-tracking stress workload of bench/run.
 *
 * Allocates 2,000,000 16-byte blocks and keeps every one live (the pointers
 * sit in one array), writes each block once, then frees every other block
 * (1,000,000 frees) and exits WITHOUT freeing the other 1,000,000: they are
 * still live at exit, so the end-of-run work (leak summary, t-end figures)
 * is part of what is measured, as it is for real programs that never free.
 *
 * What a tool pays for here is per-block bookkeeping: the index of live
 * blocks at 2,000,000 entries, the allocation-site lookup on every malloc and
 * the removal on every free. The client itself needs only ~48 MB (2e6 blocks
 * of 16 bytes plus malloc's headers, and the 16 MB pointer array).
 *
 * With --keep-all nothing is freed: all the blocks are still live at exit,
 * which is what bench/run's leak-checking part scans at the end.
 *
 * Build: gcc -O2 -o manyblocks bench/manyblocks.c   (bench/run does this)
 * Usage: manyblocks [count] [--keep-all]   (count defaults to 2000000)
 * Prints one line with a checksum so the compiler cannot drop the writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  size_t n = 2000000;
  int keep_all = 0;
  for (int a = 1; a < argc; a++) {
    char* end;
    unsigned long v = strtoul(argv[a], &end, 10);
    if (strcmp(argv[a], "--keep-all") == 0) {
      keep_all = 1;
    } else if (*end || v == 0) {
      fprintf(stderr, "usage: %s [count] [--keep-all]\n", argv[0]);
      return 2;
    } else {
      n = v;
    }
  }

  unsigned char** blocks = malloc(n * sizeof *blocks);
  if (!blocks) {
    perror("manyblocks: malloc(pointer array)");
    return 1;
  }

  /* 2,000,000 live 16-byte blocks, each written once. */
  for (size_t i = 0; i < n; i++) {
    unsigned char* p = malloc(16);
    if (!p) {
      fprintf(stderr, "manyblocks: malloc(16) failed at block %zu\n", i);
      return 1;
    }
    memset(p, (int)(i & 0xff), 16);
    blocks[i] = p;
  }

  /* Read a byte of each back so the writes are observable. */
  unsigned long sum = 0;
  for (size_t i = 0; i < n; i++) sum += blocks[i][i & 15];

  /* Free every other block: half of them. The other half stay live at exit. */
  size_t freed = 0;
  for (size_t i = 0; i < n && !keep_all; i += 2) {
    free(blocks[i]);
    blocks[i] = NULL;
    freed++;
  }

  printf("manyblocks: %zu blocks of 16 bytes, %zu freed, %zu live at exit, checksum %lu\n",
         n, freed, n - freed, sum);
  /* blocks[] and the odd-numbered blocks (all, with --keep-all) are deliberately not freed. */
  return 0;
}
