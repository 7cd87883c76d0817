/* Client for the tests of the client-arena model (test_massif_queue.py):
   heap patterns whose usable sizes depend on which freed blocks the arena
   has back, so memcheck's queue of freed blocks would change them.
     arena_slop slop [n]     (default 1000) n blocks of 64 bytes, each
                             followed by a 16-byte guard, are freed, then n
                             blocks of 48 bytes are asked for: without a
                             queue each one gets a freed 64-byte block
                             whole (its 16 spare bytes are too few to split
                             off), 16 bytes of slop; with the queue they
                             are cut exactly from fresh memory. The peak
                             comes with them (and one block of n * 64).
     arena_slop mix [events] (default 20000) a deterministic mix over 256
                             slots: malloc, calloc, free, shrinking and
                             growing realloc, memalign, posix_memalign and
                             aligned_alloc (alignments 16 to 4096), now
                             and then a block of 1 to 9 MiB (beyond 4 MiB
                             the arena gives each its own superblock).
     arena_slop threads      the mix in four threads at once, alignments
                             up to 64 KiB (for the self-check only).
   A growing realloc asks for twice the most the block ever held plus 64
   bytes, aligned blocks (whose slop reaches their alignment) are freed,
   never realloc'd, and no request is of 0 bytes: massif keeps a block that grows
   within its slop in place and memtrack moves it, which would part the
   two arenas for a reason the model is not about. So would alignments
   beyond a page: a memalign's layout depends on its superblock's address
   modulo the alignment, and superblocks are only page-aligned, at
   addresses that depend on each tool's own mappings. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void* keep[1 << 16];

static int slop(long n) {
  if (n > (long)(sizeof keep / sizeof keep[0]) / 2) n = (long)(sizeof keep / sizeof keep[0]) / 2;
  for (long i = 0; i < n; i++) {
    keep[2 * i] = malloc(64);
    keep[2 * i + 1] = malloc(16);
  }
  for (long i = 0; i < n; i++) free(keep[2 * i]);
  for (long i = 0; i < n; i++) keep[2 * i] = malloc(48);
  void* top = malloc((size_t)n * 64); /* the peak, with the 48-byte blocks live */
  free(top);
  for (long i = 0; i < 2 * n; i++) free(keep[i]);
  return 0;
}

struct mix {
  unsigned long rng;
  long events;
  void* slot[256];
  size_t size[256], cap[256];
  char aligned[256];
  unsigned align_shifts; /* alignments 16 << 0 .. 16 << (align_shifts - 1) */
};

static unsigned long next(struct mix* m) {
  m->rng = m->rng * 6364136223846793005UL + 1442695040888963407UL;
  return m->rng >> 33;
}

static void* mix(void* arg) {
  struct mix* m = arg;
  for (long e = 0; e < m->events; e++) {
    unsigned s = (unsigned)(next(m) % 256);
    unsigned r = (unsigned)(next(m) % 1000);
    if (!m->slot[s]) {
      size_t n = 1 + next(m) % (r < 500 ? 200 : 4000);
      size_t align = (size_t)16 << (next(m) % m->align_shifts);
      if (r < 4) n = ((size_t)1 << 20) + next(m) % (8u << 20); /* 1 .. 9 MiB */
      if (r < 150) {
        m->slot[s] = calloc(1, n);
      } else if (r < 190) {
        m->slot[s] = memalign(align, n);
      } else if (r < 220) {
        if (posix_memalign(&m->slot[s], align, n)) m->slot[s] = NULL;
      } else if (r < 240) {
        n = (n + align - 1) / align * align;
        m->slot[s] = aligned_alloc(align, n);
      } else {
        m->slot[s] = malloc(n);
      }
      if (!m->slot[s]) continue;
      m->size[s] = m->cap[s] = n;
      m->aligned[s] = r >= 150 && r < 240;
      ((char*)m->slot[s])[0] = (char)e;
    } else if (r < 550 || m->cap[s] > ((size_t)1 << 20) || m->aligned[s]) {
      free(m->slot[s]);
      m->slot[s] = NULL;
    } else if (r < 750 && m->size[s] > 1) {
      m->size[s] = m->size[s] / 2;
      m->slot[s] = realloc(m->slot[s], m->size[s]);
    } else {
      m->size[s] = m->cap[s] = m->cap[s] * 2 + 64;
      m->slot[s] = realloc(m->slot[s], m->size[s]);
      ((char*)m->slot[s])[m->size[s] - 1] = 1;
    }
  }
  for (unsigned s = 0; s < 256; s += 2) free(m->slot[s]); /* odd slots stay live */
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "slop";
  long n = argc > 2 ? atol(argv[2]) : 0;
  if (strcmp(mode, "slop") == 0) return slop(n ? n : 1000);
  static struct mix m[4];
  if (strcmp(mode, "mix") == 0) {
    m[0].rng = 12345;
    m[0].align_shifts = 9; /* up to 4096 */
    m[0].events = n ? n : 20000;
    mix(&m[0]);
    return 0;
  }
  if (strcmp(mode, "threads") == 0) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
      m[i].rng = 1000 + (unsigned long)i;
      m[i].align_shifts = 13; /* up to 64 KiB */
      m[i].events = n ? n : 5000;
      pthread_create(&t[i], NULL, mix, &m[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    return 0;
  }
  return 2;
}
