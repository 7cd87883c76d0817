/* Client (1), C part: every C allocation function and the edge cases glibc
   documents. The client checks its own results; it prints one line per
   failure on stderr and exits 1 if anything failed, else prints
   "alloc_c: all checks passed" on stdout and exits 0.

   Under memtrack it also uses MEMTRACK_GET_HEAP_STATS (when that returns 1)
   to check that realloc(p, 0) really freed p; natively that check is
   skipped.

   Sizes with the top bit set ((size_t)-5, SIZE_MAX) are reported by
   memcheck and memtrack as "fishy" arguments: those reports are expected. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

static int failures;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "alloc_c: FAILED at line %d: %s\n", __LINE__, #cond); \
      failures++;                                                           \
    }                                                                       \
  } while (0)

/* Sizes no allocator can satisfy. volatile: keep the compiler from
   reasoning about (or warning on) the calls. */
static volatile size_t k_size_max = SIZE_MAX;
static volatile size_t k_huge = (size_t)1 << 62;
static volatile size_t k_minus5 = (size_t)-5;

static void absurd_realloc(size_t n);

static int aligned(const void* p, size_t a) { return ((uintptr_t)p % a) == 0; }

static void fill(unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7);
}

static int same(const unsigned char* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(seed + i * 7)) return 0;
  return 1;
}

static int all_zero(const unsigned char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static void test_malloc(void) {
  void* z = malloc(0); /* glibc: a unique pointer that can be freed */
  CHECK(z != NULL);
  void* z2 = malloc(0);
  CHECK(z2 != NULL && z2 != z);
  free(z);
  free(z2);

  static const size_t sizes[] = {1, 7, 8, 15, 16, 17, 100, 1000, 4096, 100000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = malloc(sizes[i]);
    CHECK(p != NULL);
    if (!p) continue;
    CHECK(aligned(p, 2 * sizeof(void*))); /* glibc's guarantee on x86-64 */
    CHECK(malloc_usable_size(p) >= sizes[i]);
    fill(p, sizes[i], (unsigned)i);
    CHECK(same(p, sizes[i], (unsigned)i));
    free(p);
  }
  free(NULL); /* a no-op */
  CHECK(malloc_usable_size(NULL) == 0);
}

static void test_calloc(void) {
  unsigned char* p = calloc(10, 10);
  CHECK(p != NULL && all_zero(p, 100));
  CHECK(p && malloc_usable_size(p) >= 100);
  free(p);

  /* calloc(0, n) and calloc(n, 0) give freeable pointers. */
  void* a = calloc(0, 10);
  void* b = calloc(10, 0);
  CHECK(a != NULL);
  CHECK(b != NULL);
  free(a);
  free(b);

  /* nmemb * size overflows: NULL (glibc documents this). */
  volatile size_t half = SIZE_MAX / 2 + 2, two = 2, b33 = (size_t)1 << 33;
  CHECK(calloc(half, two) == NULL);
  CHECK(calloc(two, half) == NULL);
  CHECK(calloc(b33, b33) == NULL);

  /* Big but fine. */
  unsigned char* big = calloc(1000, 100);
  CHECK(big != NULL && all_zero(big, 100000));
  free(big);
}

static void test_realloc(void) {
  /* realloc(NULL, n) is malloc(n). */
  unsigned char* p = realloc(NULL, 50);
  CHECK(p != NULL);
  if (!p) return;
  fill(p, 50, 3);

  /* Grow keeps contents. */
  p = realloc(p, 5000);
  CHECK(p != NULL);
  if (!p) return;
  CHECK(same(p, 50, 3));
  CHECK(malloc_usable_size(p) >= 5000);
  fill(p, 5000, 4);

  /* Shrink keeps contents. */
  p = realloc(p, 20);
  CHECK(p != NULL);
  if (!p) return;
  CHECK(same(p, 20, 4));
  CHECK(malloc_usable_size(p) >= 20);

  /* Same size. */
  p = realloc(p, 20);
  CHECK(p != NULL && same(p, 20, 4));

  /* realloc(p, 0) frees p and returns NULL (glibc). */
  MemtrackHeapStats before, after;
  int tracked = MEMTRACK_GET_HEAP_STATS(&before);
  void* r = realloc(p, 0);
  CHECK(r == NULL);
  if (tracked && MEMTRACK_GET_HEAP_STATS(&after)) {
    CHECK(after.curr_blocks == before.curr_blocks - 1);
    CHECK(after.curr_bytes == before.curr_bytes - 20);
  }
  if (r) free(r);
}

static void test_absurd_sizes(void) {
  size_t absurd[] = {k_size_max, k_huge, k_minus5};
  for (int i = 0; i < 3; i++) {
    size_t n = absurd[i];
    CHECK(malloc(n) == NULL);
    CHECK(calloc(n, 1) == NULL);
    CHECK(calloc(1, n) == NULL);
    CHECK(memalign(64, n) == NULL);
    CHECK(aligned_alloc(64, n) == NULL);
    CHECK(valloc(n) == NULL);
    void* q = (void*)1;
    CHECK(posix_memalign(&q, 64, n) == ENOMEM);
  }
  absurd_realloc(k_huge);
}

/* A failed realloc returns NULL and leaves the old block alone. */
static void absurd_realloc(size_t n) {
  unsigned char* p = malloc(64);
  CHECK(p != NULL);
  if (!p) return;
  fill(p, 64, 9);
  void* r = realloc(p, n);
  CHECK(r == NULL);
  if (r) {
    free(r);
    return;
  }
  CHECK(same(p, 64, 9));
  p = realloc(p, 128); /* still a live block that realloc can grow */
  CHECK(p != NULL && same(p, 64, 9));
  free(p);
}

/* Kept apart: DHAT 3.19 itself asserts on these, so the DHAT comparison
   leaves this group out. */
static void test_absurd_realloc(void) {
  absurd_realloc(k_size_max);
  absurd_realloc(k_minus5);
}

static void test_memalign(void) {
  static const size_t aligns[] = {8, 16, 32, 64, 256, 4096, 8192, 65536};
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    size_t a = aligns[i];
    unsigned char* p = memalign(a, 100);
    CHECK(p != NULL && aligned(p, a));
    CHECK(p && malloc_usable_size(p) >= 100);
    if (p) fill(p, 100, 1);
    free(p);
  }
  /* A non-power-of-two alignment is rounded up to the next power of two. */
  void* p = memalign(24, 100);
  CHECK(p != NULL && aligned(p, 32));
  free(p);
  p = memalign(4096, 0);
  CHECK(p != NULL && aligned(p, 4096));
  free(p);
}

static void test_posix_memalign(void) {
  static const size_t good[] = {sizeof(void*), 16, 32, 64, 128, 4096, 65536};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    void* p = NULL;
    int rc = posix_memalign(&p, good[i], 200);
    CHECK(rc == 0);
    CHECK(p != NULL && aligned(p, good[i]));
    CHECK(p && malloc_usable_size(p) >= 200);
    if (p) fill(p, 200, 2);
    free(p);
  }
  /* Not a power of two, or not a multiple of sizeof(void*): EINVAL, and
     *memptr is left alone. */
  static const size_t bad[] = {0, 3, 4, 12, 24, 100, 4097};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    void* sentinel = (void*)&failures;
    void* p = sentinel;
    int rc = posix_memalign(&p, bad[i], 64);
    CHECK(rc == EINVAL);
    CHECK(p == sentinel);
  }
  void* z = NULL;
  CHECK(posix_memalign(&z, 64, 0) == 0);
  free(z);
}

static void test_aligned_alloc(void) {
  static const size_t aligns[] = {16, 64, 512, 4096};
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    unsigned char* p = aligned_alloc(aligns[i], aligns[i] * 3);
    CHECK(p != NULL && aligned(p, aligns[i]));
    CHECK(p && malloc_usable_size(p) >= aligns[i] * 3);
    if (p) fill(p, aligns[i] * 3, 5);
    free(p);
  }
}

static void test_valloc(void) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char* v = valloc(100);
  CHECK(v != NULL && aligned(v, page));
  CHECK(v && malloc_usable_size(v) >= 100);
  free(v);
  v = valloc(3 * page + 1);
  CHECK(v != NULL && aligned(v, page));
  free(v);
}

static void test_pvalloc(void) {
  /* pvalloc rounds the size up to a whole number of pages. */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char* pv = pvalloc(100);
  CHECK(pv != NULL && aligned(pv, page));
  CHECK(pv && malloc_usable_size(pv) >= page);
  if (pv) fill(pv, page, 6);
  free(pv);
  pv = pvalloc(page + 1);
  CHECK(pv != NULL && aligned(pv, page));
  CHECK(pv && malloc_usable_size(pv) >= 2 * page);
  free(pv);
  pv = pvalloc(0);
  CHECK(pv != NULL && aligned(pv, page));
  free(pv);
}

static const struct {
  const char* name;
  void (*fn)(void);
} groups[] = {
    {"malloc", test_malloc},
    {"calloc", test_calloc},
    {"realloc", test_realloc},
    {"absurd", test_absurd_sizes},
    {"absurd_realloc", test_absurd_realloc},
    {"memalign", test_memalign},
    {"posix_memalign", test_posix_memalign},
    {"aligned_alloc", test_aligned_alloc},
    {"valloc", test_valloc},
    {"pvalloc", test_pvalloc},
};

/* alloc_c [group...]: run the named groups (all of them without arguments).
   "alloc_c --list" prints the group names. */
int main(int argc, char** argv) {
  const size_t n = sizeof groups / sizeof groups[0];
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < n; i++) printf("%s\n", groups[i].name);
    return 0;
  }
  int ran = 0;
  for (size_t i = 0; i < n; i++) {
    int want = argc == 1;
    for (int a = 1; a < argc; a++)
      if (strcmp(argv[a], groups[i].name) == 0) want = 1;
    if (want) {
      groups[i].fn();
      ran++;
    }
  }
  if (ran != (argc == 1 ? (int)n : argc - 1)) {
    fprintf(stderr, "alloc_c: unknown group in arguments\n");
    return 2;
  }
  if (failures) {
    fprintf(stderr, "alloc_c: %d check(s) failed\n", failures);
    return 1;
  }
  printf("alloc_c: all checks passed (%d groups)\n", ran);
  return 0;
}
