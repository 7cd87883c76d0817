/* A tiny allocator exporting malloc and its family, linked statically into
   tests/rust/programs/static_alloc.rs: free lists per power-of-two class
   over one static arena (no system calls, never returns memory). Each
   block has a 16-byte header holding its class. Enough for one test
   program; not thread-safe (the program has one thread). Built with
   -DBUMPALLOC_HIDDEN its functions have hidden visibility (the program
   then uses them, glibc its own malloc); tests/test_rust.py also makes
   them local symbols of the program (objcopy --localize-symbol, as an
   LTO build or a version script would), which Valgrind replaces only
   with --soname-synonyms=somalloc=NONE. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef BUMPALLOC_HIDDEN
#define API __attribute__((visibility("hidden")))
#else
#define API
#endif

#define ARENA_SIZE (64u << 20)
static unsigned char arena[ARENA_SIZE] __attribute__((aligned(64)));
static size_t used;
static void *free_lists[40];

static int class_of(size_t n) {
  int c = 4;
  while (((size_t)1 << c) < n) c++;
  return c;
}

static void *carve(size_t total, size_t align) {
  size_t start = (used + 16 + align - 1) & ~(align - 1);
  if (start + total > ARENA_SIZE) return NULL;
  used = start + total;
  return arena + start;
}

static void *alloc_aligned(size_t n, size_t align) {
  if (n > ((size_t)1 << 38)) { errno = ENOMEM; return NULL; }
  int c = class_of(n ? n : 1);
  unsigned char *p;
  if (align <= 16 && free_lists[c]) {
    p = free_lists[c];
    free_lists[c] = *(void **)p;
  } else {
    p = carve((size_t)1 << c, align < 16 ? 16 : align);
    if (!p) { errno = ENOMEM; return NULL; }
  }
  ((size_t *)p)[-2] = (size_t)c;
  ((size_t *)p)[-1] = align <= 16;  /* only plainly aligned blocks are reused */
  return p;
}

API void *malloc(size_t n) { return alloc_aligned(n, 16); }

API void free(void *p) {
  if (!p) return;
  size_t c = ((size_t *)p)[-2];
  if (!((size_t *)p)[-1]) return;
  *(void **)p = free_lists[c];
  free_lists[c] = p;
}

API void *calloc(size_t a, size_t b) {
  if (b && a > SIZE_MAX / b) { errno = ENOMEM; return NULL; }
  void *p = malloc(a * b);
  if (p) memset(p, 0, a * b);
  return p;
}

API void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  size_t have = (size_t)1 << ((size_t *)p)[-2];
  if (n && n <= have) return p;
  void *q = malloc(n);
  if (!q) return NULL;
  memcpy(q, p, have < n ? have : n);
  free(p);
  return q;
}

API int posix_memalign(void **out, size_t align, size_t n) {
  void *p = alloc_aligned(n, align);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

API void *memalign(size_t align, size_t n) { return alloc_aligned(n, align); }
API void *aligned_alloc(size_t align, size_t n) { return alloc_aligned(n, align); }
API size_t malloc_usable_size(void *p) { return p ? (size_t)1 << ((size_t *)p)[-2] : 0; }
