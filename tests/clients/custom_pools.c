/* Memory pools described with valgrind.h's mempool requests, one scenario
   per argument:
     cells, cells-trim, cells-destroy
               100 cells from a pool carved from a malloc'd block, their
               pointers lost; then trimmed to cells 10..29, or destroyed
               (memcheck's leak-pool cases)
     levels    pools stacked at the top of a malloc'd superblock, one popped
               (destroyed), chunks lost in both (memcheck's mempool case)
     ops       MEMPOOL_FREE, MEMPOOL_CHANGE, MOVE_MEMPOOL, MEMPOOL_EXISTS and
               a trim that drops, keeps and clips chunks; EXISTS results on
               stdout
     static    a pool in static memory and no malloc'd block left at exit
     meta-N    memcheck's leak-autofreepool cases 0 to 6: a plain
               pool and a pool whose chunk holds MALLOCLIKE blocks, with or
               without METAPOOL and AUTO_FREE, cleaned up or not
     meta-heap an auto-free metapool's chunk that is a malloc'd block:
               freeing the chunk frees the block for memcheck
     meta-search
               a pointer into a metapool chunk past the blocks inside it:
               which block it reaches is where memcheck's binary search
               over the overlapping blocks lands
     in-blocks a pool's chunks inside a MALLOCLIKE superblock, and one
               running past the end of a malloc'd block: memcheck leaves
               out each block holding a chunk's first or last byte
     bad       requests naming no pool (Illegal memory pool address), or a
               pool but no chunk (Invalid free), and overlapping chunks
               (memcheck's pool sanity messages) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>

/* ---- a bump pool in a malloc'd block --------------------------------- */

struct pool {
  size_t size, used;
  char* buf;
};

static struct pool* pool_new(size_t size) {
  struct pool* p = malloc(sizeof *p);
  p->size = size;
  p->used = 0;
  p->buf = malloc(size);
  memset(p->buf, 0, size);
  VALGRIND_CREATE_MEMPOOL(p, 0, 0);
  return p;
}

static void* pool_get(struct pool* p, size_t n) {
  void* a = p->buf + p->used;
  if (p->used + n > p->size) abort();
  VALGRIND_MEMPOOL_ALLOC(p, a, n);
  p->used += n;
  return a;
}

struct cell {
  struct cell* next;
  int x;
};

static void cells(int what) {
  struct cell* local[100];
  struct pool* p = pool_new(4096);
  for (int i = 0; i < 100; i++) local[i] = pool_get(p, sizeof(struct cell));
  if (what == 1) VALGRIND_MEMPOOL_TRIM(p, p->buf + 10 * sizeof(struct cell), 20 * sizeof(struct cell) + 2);
  if (what == 2) VALGRIND_DESTROY_MEMPOOL(p);
  memset(local, 0, sizeof local);
}

/* ---- stacked level pools (mempool.c's shape) -------------------------- */

struct level {
  struct level* next;
  char* where;
};

struct stack_pool {
  char* mem;
  char* where;
  struct level* levels;
};

static void push(struct stack_pool* s) {
  struct level* l = malloc(sizeof *l);
  l->next = s->levels;
  l->where = s->where;
  VALGRIND_CREATE_MEMPOOL(l->where, 8, 0);
  s->levels = l;
}

static void pop(struct stack_pool* s) {
  struct level* l = s->levels;
  s->levels = l->next;
  VALGRIND_DESTROY_MEMPOOL(l->where);
  s->where = l->where;
  free(l);
}

static char* stack_alloc(struct stack_pool* s, int size) {
  char* where = s->where + 8;
  s->where += size + 16;
  VALGRIND_MEMPOOL_ALLOC(s->levels->where, where, size);
  return where;
}

static void levels(void) {
  struct stack_pool* s = malloc(sizeof *s);
  s->mem = s->where = malloc(100000);
  s->levels = NULL;
  push(s);
  char* x1 = stack_alloc(s, 10);
  char* x2 = stack_alloc(s, 20);
  push(s);
  stack_alloc(s, 10);
  stack_alloc(s, 20);
  *x1 = 'a';
  *x2 = 'b';
  pop(s);
  stack_alloc(s, 10);
}

/* ---- the other requests ------------------------------------------------ */

static void* volatile kept[8];

static void ops(void) {
  struct pool* p = pool_new(4096);
  char* a = pool_get(p, 32);
  char* b = pool_get(p, 48);
  char* c = pool_get(p, 16);
  char* d = pool_get(p, 64);
  kept[0] = a;
  VALGRIND_MEMPOOL_FREE(p, b);
  VALGRIND_MEMPOOL_CHANGE(p, c, c + 4, 12);  /* moved and shrunk */
  kept[1] = c + 4;
  kept[2] = d;

  /* the pool now known by another address */
  struct pool* q = malloc(sizeof *q);
  *q = *p;
  VALGRIND_MOVE_MEMPOOL(p, q);
  printf("exists p %d q %d\n", VALGRIND_MEMPOOL_EXISTS(p) ? 1 : 0, VALGRIND_MEMPOOL_EXISTS(q) ? 1 : 0);
  free(p);
  q->used = 512;
  char* e = pool_get(q, 40);
  char* f = pool_get(q, 40);
  char* g = pool_get(q, 40);
  char* h = pool_get(q, 40);
  kept[3] = e + 20;
  kept[4] = g;
  (void)f;
  (void)h;
  /* keep [e + 20, e + 50): e is clipped to start there (and, as memcheck
     does, to end at its start + the extent's size), f is clipped at the
     end, g, h and everything below e go */
  VALGRIND_MEMPOOL_TRIM(q, e + 20, 30);
  kept[5] = q;
}

/* ---- a pool with no heap around it --------------------------------------- */

static char arena[4096];
static struct { int dummy; } static_pool;

static void static_only(void) {
  VALGRIND_CREATE_MEMPOOL(&static_pool, 0, 0);
  for (int i = 0; i < 8; i++) VALGRIND_MEMPOOL_ALLOC(&static_pool, arena + 64 * i + 8, 32);
}

/* ---- metapools (leak-autofreepool's cases) ------------------------------- */

struct meta_cell {
  struct meta_cell* next;
  char x[8];
};

static struct pool plain_pool, meta_pool;
static char plain_block[4096], meta_block[4096];
static struct meta_cell* plain_cells[10];
static struct meta_cell* meta_cells[20];
static unsigned char* noise[30];

static void metapools(int which) {
  int flags = 0, cleanup = 1, make_noise = 0, n_noise = 0;
  switch (which) {
    case 0: break;
    case 1: flags = VALGRIND_MEMPOOL_METAPOOL; break;
    case 2: flags = VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE; break;
    case 3: flags = VALGRIND_MEMPOOL_AUTO_FREE; break;  /* refused: stops the run */
    case 4: flags = VALGRIND_MEMPOOL_METAPOOL; cleanup = 0; break;
    case 5: cleanup = 0; break;
    case 6: flags = VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE; make_noise = 1; break;
    default: abort();
  }
  VALGRIND_CREATE_MEMPOOL(&plain_pool, 0, 0);
  plain_pool.buf = plain_block + 1;  /* room for the pool's own header */
  plain_pool.size = sizeof plain_block;
  plain_pool.used = 1;
  VALGRIND_CREATE_MEMPOOL_EXT(&meta_pool, 0, 0, flags);
  VALGRIND_MEMPOOL_ALLOC(&meta_pool, meta_block, sizeof meta_block);
  meta_pool.buf = meta_block + 1;
  meta_pool.size = sizeof meta_block;
  meta_pool.used = 1;

  for (int i = 0; i < 10; i++) {
    plain_cells[i] = pool_get(&plain_pool, sizeof(struct meta_cell));
    if (make_noise) noise[n_noise++] = malloc(256);
  }
  for (int i = 0; i < 20; i++) {
    void* a = meta_pool.buf + meta_pool.used;
    VALGRIND_MALLOCLIKE_BLOCK(a, sizeof(struct meta_cell), 0, 0);
    meta_pool.used += sizeof(struct meta_cell);
    meta_cells[i] = a;
    if (make_noise) noise[n_noise++] = malloc(256);
  }
  memset(plain_cells, 0, sizeof plain_cells);
  memset(meta_cells, 0, sizeof meta_cells);
  if (cleanup) {
    VALGRIND_MEMPOOL_FREE(&meta_pool, meta_block);
    VALGRIND_DESTROY_MEMPOOL(&meta_pool);
  }
  VALGRIND_DESTROY_MEMPOOL(&plain_pool);
  for (int i = 0; i < n_noise; i++) free(noise[i]);
}

static void meta_heap(void) {
  struct pool* p = malloc(sizeof *p);
  VALGRIND_CREATE_MEMPOOL_EXT(p, 0, 0, VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE);
  char* block = malloc(1000);
  VALGRIND_MEMPOOL_ALLOC(p, block, 1000);
  for (int i = 0; i < 5; i++) VALGRIND_MALLOCLIKE_BLOCK(block + 8 + 32 * i, 24, 0, 0);
  kept[0] = block + 8;
  VALGRIND_MEMPOOL_FREE(p, block);  /* frees the five, and block itself */
  VALGRIND_DESTROY_MEMPOOL(p);
  kept[1] = malloc(10);
  free(block);                     /* freed already, to memcheck */
  free(p);
}

static char region[8192];
static char* volatile tail_pointer;

static void meta_search(void) {
  static struct pool meta;
  /* three blocks below the metapool chunk, so that the search's first probe
     lands on the chunk */
  for (int i = 0; i < 3; i++) VALGRIND_MALLOCLIKE_BLOCK(region + 32 * i, 16, 0, 0);
  VALGRIND_CREATE_MEMPOOL_EXT(&meta, 0, 0, VALGRIND_MEMPOOL_METAPOOL);
  VALGRIND_MEMPOOL_ALLOC(&meta, region + 128, 4096);
  for (int i = 0; i < 3; i++) VALGRIND_MALLOCLIKE_BLOCK(region + 136 + 32 * i, 24, 0, 0);
  tail_pointer = region + 128 + 3000;
}

static struct pool inner_pool;
static void* volatile inner_kept;

static void in_blocks(void) {
  VALGRIND_MALLOCLIKE_BLOCK(region, sizeof region, 0, 0);  /* the allocator's own superblock */
  VALGRIND_CREATE_MEMPOOL(&inner_pool, 0, 0);
  for (int i = 0; i < 5; i++) VALGRIND_MEMPOOL_ALLOC(&inner_pool, region + 16 + 48 * i, 32);
  inner_kept = region + 16 + 48 * 2;
  char* m = malloc(100);
  VALGRIND_MEMPOOL_ALLOC(&inner_pool, m + 80, 40);
  m = malloc(64);  /* an ordinary leak beside them */
}

/* ---- errors ---------------------------------------------------------------- */

static int not_a_pool;

static void bad(void) {
  int on_stack = 0;
  char buf[64];
  void* in_heap = malloc(24);
  VALGRIND_MEMPOOL_ALLOC(&on_stack, buf, 8);
  VALGRIND_MEMPOOL_FREE(&not_a_pool, buf);
  VALGRIND_DESTROY_MEMPOOL(in_heap);
  VALGRIND_MEMPOOL_TRIM((void*)0x10, buf, 8);
  VALGRIND_MOVE_MEMPOOL((char*)in_heap + 8, buf);
  VALGRIND_MEMPOOL_CHANGE(&not_a_pool, buf, buf + 8, 8);
  printf("exists %d\n", VALGRIND_MEMPOOL_EXISTS(&not_a_pool) ? 1 : 0);

  struct pool* p = pool_new(1024);
  char* a = pool_get(p, 16);
  VALGRIND_MEMPOOL_FREE(p, a + 4);                 /* inside a chunk */
  VALGRIND_MEMPOOL_FREE(p, p->buf + 512);          /* no chunk there */
  VALGRIND_MEMPOOL_CHANGE(p, p->buf + 600, buf, 8); /* no chunk there */
  VALGRIND_MEMPOOL_FREE(p, a);
  VALGRIND_MEMPOOL_FREE(p, a);                     /* twice */

  /* overlapping chunks: the next trim says so, chunk by chunk */
  VALGRIND_MEMPOOL_ALLOC(p, p->buf + 100, 40);
  VALGRIND_MEMPOOL_ALLOC(p, p->buf + 120, 40);
  VALGRIND_MEMPOOL_TRIM(p, p->buf, 1024);
  VALGRIND_DESTROY_MEMPOOL(p);
  free(p->buf);
  free(p);
  free(in_heap);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "cells")) cells(0);
  else if (!strcmp(mode, "cells-trim")) cells(1);
  else if (!strcmp(mode, "cells-destroy")) cells(2);
  else if (!strcmp(mode, "levels")) levels();
  else if (!strcmp(mode, "ops")) ops();
  else if (!strcmp(mode, "static")) static_only();
  else if (!strncmp(mode, "meta-", 5) && mode[5] >= '0' && mode[5] <= '9') metapools(mode[5] - '0');
  else if (!strcmp(mode, "meta-heap")) meta_heap();
  else if (!strcmp(mode, "meta-search")) meta_search();
  else if (!strcmp(mode, "in-blocks")) in_blocks();
  else if (!strcmp(mode, "bad")) bad();
  else {
    fprintf(stderr, "usage: custom_pools cells|cells-trim|cells-destroy|levels|ops|static|meta-N|meta-heap|"
                    "meta-search|in-blocks|bad\n");
    return 2;
  }
  return 0;
}
