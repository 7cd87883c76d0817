/* Client for --alloc-fn and --ignore-fn (tests/test_labels.py): a
   program with allocator wrappers of its own, two levels deep, and a cache
   whose allocations a user would ignore. Known by construction:

     load_config  mylib_alloc(1,000) -> xmalloc -> malloc, kept (reachable)
     load_table   xmalloc(2,000), freed
     cache_fill   malloc(5,000), then grown by mylib_realloc to 6,000
                  (a realloc of an ignored block stays ignored), freed
     grow_table   a counted block (xmalloc(300) in load_rows) grown by
                  cache_grow to 900: a realloc from an ignored function
     leak_rows    xmalloc(64), lost
   Total 1,000 + 2,000 + 5,000 + 6,000 + 300 + 900 + 64 bytes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static char* g_config;
static char* g_rows;
static volatile unsigned g_sink;

NOINLINE void* xmalloc(size_t n) {
  void* p = malloc(n);
  if (!p) abort();
  return p;
}

NOINLINE void* mylib_alloc(size_t n) { return xmalloc(n); }

NOINLINE void* mylib_realloc(void* p, size_t n) { return realloc(p, n); }

NOINLINE static char* cache_fill(size_t n) {
  char* p = malloc(n);
  memset(p, 1, n);
  return p;
}

NOINLINE static char* cache_grow(char* p, size_t n) { return realloc(p, n); }

NOINLINE static void load_config(void) {
  g_config = mylib_alloc(1000);
  memset(g_config, 0, 1000);
}

NOINLINE static void load_table(void) {
  char* t = xmalloc(2000);
  memset(t, 2, 2000);
  g_sink += (unsigned char)t[7];
  free(t);
}

NOINLINE static void use_cache(void) {
  char* c = cache_fill(5000);
  c = mylib_realloc(c, 6000);
  g_sink += (unsigned char)c[9];
  free(c);
}

NOINLINE static void load_rows(void) {
  g_rows = xmalloc(300);
  memset(g_rows, 3, 300);
}

NOINLINE static void grow_table(void) { g_rows = cache_grow(g_rows, 900); }

NOINLINE static void leak_rows(void) {
  char* p = xmalloc(64);
  memset(p, 4, 64);
  g_sink += (unsigned char)p[1];
}

/* Clears the stack below us so that no stale pointer keeps a lost block
   reachable. */
NOINLINE static void scrub(void) {
  volatile char pad[4096];
  memset((char*)pad, 0, sizeof pad);
}

int main(void) {
  load_config();
  load_table();
  use_cache();
  load_rows();
  grow_table();
  leak_rows();
  scrub();
  free(g_rows);
  static const char done[] = "alloc_fns: done\n";
  if (write(1, done, sizeof done - 1) < 0) return 1;
  return 0;
}
