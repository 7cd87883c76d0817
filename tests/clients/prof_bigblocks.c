/* Profile client for big blocks. A block of 16 KiB or more has its accesses
   counted in one of 254 slots, without the search of the recent blocks,
   in the heap filter's granules it holds (its whole ones, and its partial
   ones that no other slot held; a partial granule another slot holds links
   to it) (docs/design.md, "Access accounting"); the counts reach the
   block's site when the block goes, when its site wants per-byte counts,
   and before the profile is written. Exercised here, deterministically:
     big_a:  300 live blocks of 40 KiB at once, more than there are slots;
     big_b:  100 of 48 KiB made after every third big_a went (slots
             reused), all freed before the histogram block is made;
     grown:  a big block realloc'd to three times its size (it moves) and
             one shrunk to half (it stays);
     histo:  a 25,600-byte block, the largest a histogram request takes,
             aligned to a granule so that it covers one; accessed, then
             asked for per-byte counts (which count from the request on),
             then accessed again;
     big_c:  20 blocks of 40 KiB made after that request, half of them
             live at exit;
     mixed:  big blocks (big_m) between small ones (small_m), so that small
             blocks lie in a big block's first and last partial granules,
             which its slot may hold: the small blocks' accesses, and loads
             that start just before a big block (in no block) or run past
             its end, must count as without slots; then every other big
             block goes while its small neighbours stay and are read again;
   every access size from 1 to 16 bytes, in the partial granules at a
   block's ends and in the whole ones between, by loads and stores, memcpy
   and memset; and the ends of some blocks left live at exit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhat.h"
#include "memtrack.h" /* DHAT_HISTOGRAM_MEMORY, which 3.19's dhat.h lacks */

#define NOINLINE __attribute__((noinline))

enum { kA = 300, kB = 100, kBig = 40 * 1024, kHisto = 25600, kGranule = 16 * 1024 };

static char* a[kA];
static char* b[kB];
static volatile uint64_t sink;

NOINLINE static char* big_a(size_t n) { return malloc(n); }
NOINLINE static char* big_b(size_t n) { return malloc(n); }
NOINLINE static char* grown(char* p, size_t n) { return realloc(p, n); }
NOINLINE static char* big_c(size_t n) { return malloc(n); }
NOINLINE static char* big_m(size_t n) { return malloc(n); }
NOINLINE static char* small_m(size_t n) { return malloc(n); }
NOINLINE static char* histo(void) {
  void* p;
  return posix_memalign(&p, kGranule, kHisto) ? NULL : p;
}

typedef struct {
  uint64_t lo, hi;
} Pair16;

/* Loads and stores of 1, 2, 4, 8 and 16 bytes every `step` bytes of
   [p, p + n), then a memcpy and a memset inside it. */
NOINLINE static void touch(char* p, size_t n, size_t step, int k) {
  for (size_t off = 0; off + 32 <= n; off += step) {
    volatile uint8_t* p1 = (volatile uint8_t*)(p + off);
    volatile uint16_t* p2 = (volatile uint16_t*)(p + off + 2);
    volatile uint32_t* p4 = (volatile uint32_t*)(p + off + 4);
    volatile uint64_t* p8 = (volatile uint64_t*)(p + off + 8);
    volatile Pair16* p16 = (volatile Pair16*)(p + off + 16);
    *p1 = (uint8_t)k;
    *p2 = (uint16_t)(*p1 + k);
    *p4 = *p2 + 3u;
    *p8 = *p4 + (uint64_t)k;
    Pair16 v = {*p8, *p8 + 1};
    *p16 = v;
    sink += p16->lo + p16->hi + *p1;
  }
  memcpy(p + n / 2, p, n / 4);
  memset(p + n / 4, k, 100);
}

typedef uint64_t U64Unaligned __attribute__((aligned(1)));

/* Reads of 8 bytes at p + off, whatever its alignment. */
NOINLINE static uint64_t load8(const char* p, long off) {
  return *(volatile const U64Unaligned*)(p + off);
}

enum { kMixedN = 40 };
static char* ms[kMixedN + 1];
static char* mb[kMixedN];

NOINLINE static void mixed(void) {
  ms[0] = small_m(160);
  for (int i = 0; i < kMixedN; i++) {
    mb[i] = big_m(kBig + 512 * i);
    ms[i + 1] = small_m(160 + 8 * i);
  }
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < kMixedN; i++) {
      if (mb[i]) {
        touch(mb[i], kBig + 512 * i, 1531, i);
        sink += load8(mb[i], -4) + load8(mb[i], -1);  /* start in no block */
        sink += load8(mb[i], kBig + 512 * i - 4);     /* runs past the end */
      }
      touch(ms[i], i > 0 ? 160 + 8 * (i - 1) : 160, 37, i);
    }
    touch(ms[kMixedN], 160 + 8 * (kMixedN - 1), 37, 3);
    if (round == 0)
      for (int i = 0; i < kMixedN; i += 2) {
        free(mb[i]);
        mb[i] = NULL;
      }
  }
}

/* Whether [p, p + n) wholly covers a granule. */
static int covers_granule(const char* p, size_t n) {
  uintptr_t first = ((uintptr_t)p + kGranule - 1) / kGranule * kGranule;
  return first + kGranule <= (uintptr_t)p + n;
}

int main(void) {
  for (int i = 0; i < kA; i++) {
    a[i] = big_a(kBig);
    touch(a[i], kBig, 997 + i, i);
  }
  for (int i = 0; i < kA; i += 3) {
    free(a[i]);
    a[i] = NULL;
  }
  for (int i = 0; i < kB; i++) {
    b[i] = big_b(kBig + 8192);
    touch(b[i], kBig + 8192, 1201 + i, i);
  }
  for (int i = 1; i < kA; i += 3) touch(a[i], kBig, 4093, i); /* the older blocks again */

  a[1] = grown(a[1], 3 * kBig);
  touch(a[1], 3 * kBig, 1499, 7);
  a[2] = grown(a[2], kBig / 2);
  touch(a[2], kBig / 2, 499, 9);

  /* The b blocks go, so that slots are free again for what follows. */
  for (int i = 0; i < kB; i++) free(b[i]);

  char* hb = histo();
  if (!hb || !covers_granule(hb, kHisto)) return 3;
  touch(hb, kHisto, 811, 1);
  DHAT_HISTOGRAM_MEMORY(hb);
  touch(hb, kHisto, 811, 2);
  for (int i = 0; i < kHisto; i += 100) hb[i]++;

  char* c[20];
  for (int i = 0; i < 20; i++) {
    c[i] = big_c(kBig);
    touch(c[i], kBig, 1999 + i, i);
  }

  mixed();

  /* Half the c blocks go; the rest, the a blocks and the histogram block
     stay live to the end. */
  for (int i = 0; i < 20; i += 2) free(c[i]);
  printf("%d\n", (int)(sink & 1));
  return 0;
}
