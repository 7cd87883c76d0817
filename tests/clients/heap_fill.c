/* What --malloc-fill and --free-fill put in blocks (memcheck's
   malloc_free_fill and clireq_nofill cases, and more): prints bytes of
   fresh blocks, and of freed blocks read back through dangling pointers,
   so that the program's own output under memtrack can be compared with
   memcheck's given the same options.
     heap    malloc, memalign, posix_memalign, aligned_alloc, valloc, calloc;
             free; realloc larger (the grown part and the old block) and
             smaller (the old block past the new end); realloc of a
             0-byte block
     custom  blocks a custom allocator declares (MALLOCLIKE_BLOCK,
             MEMPOOL_ALLOC) inside a malloc'd block: never filled, neither
             when declared nor when freed; a malloc'd block freed by
             FREELIKE_BLOCK is free-filled, and so is a MALLOCLIKE block
             realloc() moves
   Each freed block is read right after the free, before anything else is
   allocated (memtrack without --leak-check=full gives freed memory back at
   once; memcheck holds it in its queue). Reads of fresh memory are reads of
   undefined bytes to memcheck, and reads of freed blocks are invalid reads:
   it reports them on stderr; only stdout is compared. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

static char out[8192];
static size_t used;

/* Bytes at offsets 0, n/2 and n-1 of p, or "-" for a 0-byte block;
   formatted into a static buffer (printf could allocate in between). */
static void show(const char* what, const volatile unsigned char* p, size_t n) {
  if (n == 0)
    used += snprintf(out + used, sizeof out - used, "%-30s -\n", what);
  else
    used += snprintf(out + used, sizeof out - used, "%-30s %02x %02x %02x\n", what, p[0], p[n / 2], p[n - 1]);
}

static void heap(void) {
  unsigned char* p = malloc(40);
  show("malloc(40)", p, 40);
  memset(p, 0x11, 40);
  free(p);
  show("  freed", p, 40);

  p = memalign(64, 100);
  show("memalign(64, 100)", p, 100);
  free(p);
  show("  freed", p, 100);

  void* v;
  if (posix_memalign(&v, 32, 48) != 0) abort();
  show("posix_memalign(32, 48)", v, 48);
  free(v);
  show("  freed", v, 48);

  p = aligned_alloc(16, 64);
  show("aligned_alloc(16, 64)", p, 64);
  free(p);

  p = valloc(24);
  show("valloc(24)", p, 24);
  free(p);

  p = calloc(10, 4);
  show("calloc(10, 4)", p, 40);
  free(p);
  show("  freed", p, 40);

  /* A bigger block than the zero fill of leak searches covers. */
  p = malloc(300000);
  show("malloc(300000)", p, 300000);
  free(p);

  unsigned char* old = malloc(120);
  memset(old, 0x22, 120);
  p = realloc(old, 160);
  show("realloc(120 -> 160) kept", p, 120);
  show("  grown part", p + 120, 40);
  show("  old block", old, 120);
  free(p);

  old = malloc(120);
  memset(old, 0x33, 120);
  p = realloc(old, 80);
  show("realloc(120 -> 80) kept", p, 80);
  show("  old block past 80", old + 80, 40);
  free(p);

  old = malloc(0);
  p = realloc(old, 16);
  show("realloc(0 -> 16)", p, 16);
  free(p);
}

static void custom(void) {
  /* memcheck's clireq_nofill: blocks declared in a malloc'd block (which
     is itself malloc-filled) keep what the program wrote. */
  static int pool;
  unsigned char* s = malloc(64);
  show("malloc(64)", s, 64);
  memset(s, 0x05, 64);
  VALGRIND_CREATE_MEMPOOL(&pool, 0, 0);
  VALGRIND_MEMPOOL_ALLOC(&pool, s, 32);
  show("MEMPOOL_ALLOC", s, 32);
  VALGRIND_MEMPOOL_FREE(&pool, s);
  show("MEMPOOL_FREE", s, 32);
  VALGRIND_DESTROY_MEMPOOL(&pool);
  free(s);

  s = malloc(64);
  memset(s, 0x06, 64);
  VALGRIND_MALLOCLIKE_BLOCK(s + 16, 32, 0, 0);
  show("MALLOCLIKE_BLOCK", s + 16, 32);
  VALGRIND_FREELIKE_BLOCK(s + 16, 0);
  show("FREELIKE_BLOCK", s + 16, 32);
  free(s);

  /* realloc() of a MALLOCLIKE block moves it into a malloc'd one (a
     mismatch): the copy keeps its bytes, the grown part is malloc-filled,
     and the old block is free-filled, as realloc fills any old block. */
  s = malloc(64);
  memset(s, 0x08, 64);
  unsigned char* volatile m = s + 16;  /* (the compiler would warn) */
  VALGRIND_MALLOCLIKE_BLOCK(m, 32, 0, 0);
  unsigned char* q = realloc(m, 48);
  show("realloc(MALLOCLIKE 32 -> 48)", q, 32);
  show("  grown part", q + 32, 16);
  show("  old block", s + 16, 32);
  free(q);
  free(s);

  /* FREELIKE of a malloc'd block frees it for memcheck (a mismatch), and
     fills it like any freed malloc'd block. */
  s = malloc(32);
  memset(s, 0x07, 32);
  VALGRIND_FREELIKE_BLOCK(s, 0);
  show("FREELIKE of a malloc'd block", s, 32);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "heap") == 0) heap();
    else if (strcmp(argv[i], "custom") == 0) custom();
    else return 2;
  }
  fputs(out, stdout);
  return 0;
}
