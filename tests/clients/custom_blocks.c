/* A bump allocator that tells Valgrind about its blocks with
   VALGRIND_MALLOCLIKE_BLOCK / FREELIKE_BLOCK / RESIZEINPLACE_BLOCK, one
   scenario per argument:
     leaks     blocks carved from a malloc'd arena: definitely, indirectly
               and possibly lost, still reachable, zero-sized, freed, and
               resized in place (grown then shrunk)
     mapped    the same from an anonymous mapping (a root region of its own)
     inside    blocks marked inside malloc'd blocks, one at the very start
               (memcheck's bug 100628 case): the malloc'd block drops out
     errors    what memcheck reports: FREELIKE of unknown, interior, freed
               and stack/global addresses; bad RESIZEINPLACE; FREELIKE of a
               malloc'd block and free()/realloc() of a MALLOCLIKE block
               (mismatches); free() of a block FREELIKE already freed
     leak-fn   custom_alloc's case: a block lost by a function, 8-byte red
               zones, a null MALLOCLIKE/FREELIKE (ignored by the core)
   Custom blocks are never read before they are written, so memcheck has
   nothing to say about definedness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <valgrind/valgrind.h>

struct arena {
  char* base;
  char* next;
  size_t rz;
};

static void arena_from_malloc(struct arena* a, size_t n) {
  a->base = a->next = malloc(n);
  memset(a->base, 0, n);
  a->rz = 0;
}

static void arena_from_mmap(struct arena* a, size_t n) {
  a->base = a->next = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a->base == MAP_FAILED) abort();
  a->rz = 0;
}

/* Blocks 16-byte aligned with a 16-byte gap (or the red zone) before. */
static void* arena_alloc(struct arena* a, size_t n) {
  size_t gap = a->rz > 16 ? a->rz : 16;
  char* p = a->next + gap;
  a->next = p + ((n + 15) & ~(size_t)15);
  VALGRIND_MALLOCLIKE_BLOCK(p, n, a->rz, 0);
  return p;
}

static void arena_free(struct arena* a, void* p) { VALGRIND_FREELIKE_BLOCK(p, a->rz); }

struct node {
  struct node* next;
  long payload[3];
};

static void* volatile kept[8];
static char* volatile inner;  /* points 8 bytes into a block */
static volatile int global_word;

static void populate(struct arena* a) {
  void* lost = arena_alloc(a, 40);
  memset(lost, 1, 40);
  lost = NULL;

  /* a lost list: the head definitely, the rest indirectly */
  struct node* head = arena_alloc(a, sizeof *head);
  head->next = arena_alloc(a, sizeof *head);
  head->next->next = arena_alloc(a, sizeof *head);
  head->next->next->next = NULL;
  head = NULL;

  kept[0] = arena_alloc(a, 24);
  inner = (char*)arena_alloc(a, 64) + 8;
  kept[1] = arena_alloc(a, 0);
  arena_free(a, arena_alloc(a, 100));

  char* grown = arena_alloc(a, 30);
  VALGRIND_RESIZEINPLACE_BLOCK(grown, 30, 50, a->rz);
  VALGRIND_RESIZEINPLACE_BLOCK(grown, 50, 20, a->rz);
  kept[2] = grown;

  void* shrunk_lost = arena_alloc(a, 200);
  VALGRIND_RESIZEINPLACE_BLOCK(shrunk_lost, 200, 72, a->rz);
  shrunk_lost = NULL;
}

static void inside_malloc(void) {
  char* x = malloc(1000);
  VALGRIND_MALLOCLIKE_BLOCK(x, 16, 0, 0);
  VALGRIND_MALLOCLIKE_BLOCK(x + 100, 32, 0, 0);
  VALGRIND_MALLOCLIKE_BLOCK(x + 200, 64, 0, 0);
  kept[3] = x + 200;
  x = malloc(1000);
  VALGRIND_MALLOCLIKE_BLOCK(x + 100, 32, 0, 0);
  VALGRIND_MALLOCLIKE_BLOCK(x + 300, 128, 0, 0);
  kept[4] = x; /* the malloc'd block is gone from the search: x reaches nothing */
  x = NULL;
}

static void errors(void) {
  struct arena a;
  int local = 0;
  arena_from_malloc(&a, 4096);

  void* p = arena_alloc(&a, 28);
  VALGRIND_FREELIKE_BLOCK((char*)p + 4, 0);  /* inside a live block */
  VALGRIND_RESIZEINPLACE_BLOCK(p, 20, 40, 0);  /* wrong old size */
  VALGRIND_RESIZEINPLACE_BLOCK(p, 28, 0, 0);   /* to nothing */
  VALGRIND_RESIZEINPLACE_BLOCK((char*)p + 1, 28, 30, 0);
  arena_free(&a, p);
  arena_free(&a, p);                           /* twice */
  VALGRIND_FREELIKE_BLOCK((void*)0x1, 0);
  VALGRIND_FREELIKE_BLOCK(&local, 0);
  VALGRIND_FREELIKE_BLOCK((void*)&global_word, 0);

  char* m = malloc(40);
  VALGRIND_RESIZEINPLACE_BLOCK(m, 40, 0, 0);   /* a malloc'd block: checked too */
  VALGRIND_FREELIKE_BLOCK(m, 0);               /* mismatch, and freed */
  free(m);                                     /* already freed */

  void* q = arena_alloc(&a, 16);
  free(q);                                     /* mismatch: a MALLOCLIKE block */
  void* r = arena_alloc(&a, 24);
  memset(r, 7, 24);
  char* moved = realloc(r, 64);                /* mismatch; a new malloc'd block */
  if (moved[23] != 7) abort();
  free(moved);

  VALGRIND_MALLOCLIKE_BLOCK(NULL, 10, 0, 0);   /* the core drops these */
  VALGRIND_FREELIKE_BLOCK(NULL, 0);
  VALGRIND_RESIZEINPLACE_BLOCK(NULL, 1, 2, 0);
  free(a.base);
}

static void leak_fn(void) {
  struct arena a;
  arena_from_mmap(&a, 65536);
  a.rz = 8;
  int* array = arena_alloc(&a, 40);
  array[0] = 1;
  kept[5] = array;
  arena_alloc(&a, 40);  /* lost at once */
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  static struct arena a;
  if (!strcmp(mode, "leaks")) {
    arena_from_malloc(&a, 8192);
    populate(&a);
  } else if (!strcmp(mode, "mapped")) {
    arena_from_mmap(&a, 8192);
    populate(&a);
  } else if (!strcmp(mode, "inside")) {
    inside_malloc();
  } else if (!strcmp(mode, "errors")) {
    errors();
  } else if (!strcmp(mode, "leak-fn")) {
    leak_fn();
  } else {
    fprintf(stderr, "usage: custom_blocks leaks|mapped|inside|errors|leak-fn\n");
    return 2;
  }
  return 0;
}
