/* bigheap: the two big-heap workloads of issue 7 (bench/bigheap runs them).
 *
 *   bigheap many [N]   N live blocks (default 10,000,000) of 16 to 64 bytes
 *                      in chains of 1,000 (each block points to the one
 *                      made before it), so the leak search follows long
 *                      chains; a heap array holds the chains' heads, except
 *                      every 10th chain's, which is lost (1 block definitely
 *                      and 999 indirectly lost per chain).
 *   bigheap huge [GB]  GB gigabytes (default 20) in 10 MiB blocks that the
 *                      program barely touches: one byte written per block,
 *                      so almost none of it is ever resident.
 *
 * Both print one line and exit without freeing anything: the end-of-run
 * work (leak search, t-end figures) is part of what is measured.
 * Build: gcc -O2 -o bigheap bench/bigheap.c   (bench/bigheap does this) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
  struct node* prev;
  char pad[];
};

struct node** volatile heads;

static int many(unsigned long n) {
  unsigned long chains = (n + 999) / 1000, lost = 0;
  heads = malloc(chains * sizeof *heads);
  if (!heads) return 1;
  struct node* prev = NULL;
  for (unsigned long i = 0; i < n; i++) {
    size_t size = 16 + (i % 4) * 16; /* 16, 32, 48, 64 */
    struct node* b = malloc(size);
    if (!b) {
      fprintf(stderr, "bigheap: malloc failed after %lu blocks\n", i);
      return 1;
    }
    b->prev = prev;
    prev = b;
    if (i % 1000 == 999 || i + 1 == n) { /* a chain is complete */
      unsigned long k = i / 1000;
      if (k % 10 == 9) lost++;
      else heads[k] = prev;
      prev = NULL;
    }
  }
  printf("many: %lu blocks in %lu chains, %lu chains lost\n", n, chains, lost);
  return 0;
}

char** volatile keep; /* all of huge's blocks stay reachable */

static int huge(unsigned long gb) {
  const size_t block = 10UL << 20;
  unsigned long n = (gb << 30) / block;
  keep = malloc(n * sizeof *keep);
  if (!keep) return 1;
  for (unsigned long i = 0; i < n; i++) {
    keep[i] = malloc(block);
    if (!keep[i]) {
      fprintf(stderr, "bigheap: malloc(10 MiB) failed after %lu blocks (%lu MiB)\n", i, i * 10);
      return 1;
    }
    keep[i][i % block] = 1;
  }
  printf("huge: %lu blocks of 10 MiB (%lu GiB)\n", n, gb);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "many") == 0) return many(argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000UL);
  if (argc >= 2 && strcmp(argv[1], "huge") == 0) return huge(argc > 2 ? strtoul(argv[2], NULL, 10) : 20UL);
  fprintf(stderr, "usage: %s many [N] | huge [GB]\n", argv[0]);
  return 2;
}
