/* memcheck.h's definedness requests as memcheck's leak search sees them:
 * a pointer made undefined or unaddressable is no pointer until the program
 * writes it again, or makes it defined (tests/test_undef_requests.py).
 * Each step prints what VALGRIND_COUNT_LEAK_BLOCKS says after a search.
 *
 * The pointers live in a static table (a root) and in a heap "pool"
 * (memory a custom allocator would hand out), so both root scanning and
 * block scanning meet hidden words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "valgrind/memcheck.h"

static void* table[8];
static uintptr_t inverted;

/* Not inlined, so that no register or stack slot of main keeps the block. */
__attribute__((noinline)) static void store_new(void** slot, size_t n) { *slot = malloc(n); }

static void count(const char* what) {
  unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
  VALGRIND_DO_QUICK_LEAK_CHECK;
  VALGRIND_COUNT_LEAK_BLOCKS(leaked, dubious, reachable, suppressed);
  printf("%-24s leaked %lu dubious %lu reachable %lu\n", what, leaked, dubious, reachable);
}

int main(void) {
  /* stdout's buffer first, so that it is in every count. */
  printf("start\n");
  store_new(&table[0], 100);
  store_new(&table[1], 200);
  count("allocated");

  /* memcheck answers -1 to these requests (the macros give 0 natively). */
  long r = VALGRIND_MAKE_MEM_UNDEFINED(&table[0], sizeof table[0]);
  printf("request answered %ld\n", r);
  count("undefined");                     /* block 0 lost */
  VALGRIND_MAKE_MEM_DEFINED(&table[0], sizeof table[0]);
  count("defined again");                 /* found again */

  VALGRIND_MAKE_MEM_UNDEFINED(&table[1], 1); /* one byte hides the word */
  count("one byte undefined");
  store_new(&table[1], 300);              /* written: a pointer again; 200 lost */
  count("written again");

  /* A pool: a heap block holding chunks; a freed chunk keeps a stale
   * pointer that memcheck does not follow once it is NOACCESS. */
  void** pool = malloc(64 * sizeof(void*));
  memset(pool, 0, 64 * sizeof(void*));
  table[2] = pool;
  store_new(&pool[8], 40);
  store_new(&pool[9], 50);
  count("pool filled");
  VALGRIND_MAKE_MEM_NOACCESS(&pool[8], 2 * sizeof(void*)); /* "chunk freed" */
  count("chunk noaccess");
  VALGRIND_MAKE_MEM_UNDEFINED(&pool[8], 2 * sizeof(void*)); /* "chunk reused" */
  store_new(&pool[9], 60);                 /* the new owner writes one word */
  count("chunk reused");

  /* Memory unmapped forgets what was hidden there: a new mapping holding
   * the same pointer in the same word is a root like any other. (The
   * pointer is kept inverted meanwhile, so that it is no root itself.) */
  size_t pg = 4096;
  void** map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  store_new(&map[3], 70);
  inverted = ~(uintptr_t)map[3];
  VALGRIND_MAKE_MEM_NOACCESS(map, pg);
  count("mapping noaccess");
  munmap(map, pg);
  map = mmap(map, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  map[3] = (void*)~inverted;
  count("mapped again");

  /* A heap block freed forgets what was hidden in it. */
  void** holder = malloc(16);
  table[3] = holder;
  store_new(&holder[0], 80);
  VALGRIND_MAKE_MEM_UNDEFINED(holder, 16);
  count("holder hidden");
  table[3] = NULL;
  free(holder);
  count("holder freed");

  /* Custom allocators: memcheck makes a freed chunk unaddressable and a new
   * one undefined (unless its pool hands out zeroed memory), so a stale
   * pointer in a pool's memory (here a mapping: a root) keeps nothing. */
  char* arena = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  VALGRIND_MALLOCLIKE_BLOCK(arena + 64, 32, 16, 0);
  table[5] = arena + 64;
  store_new((void**)(arena + 64), 110);
  count("custom block");
  VALGRIND_FREELIKE_BLOCK(arena + 64, 16);
  table[5] = NULL;
  count("custom block freed");      /* 110 lost */
  VALGRIND_CREATE_MEMPOOL(arena, 8, 0);
  VALGRIND_MEMPOOL_ALLOC(arena, arena + 256, 64);
  store_new((void**)(arena + 256), 120);
  store_new((void**)(arena + 264), 130);
  table[6] = arena + 256;
  count("pool chunk");
  VALGRIND_MEMPOOL_FREE(arena, arena + 256);
  table[6] = NULL;
  count("pool chunk freed");        /* 120 and 130 lost */
  VALGRIND_MEMPOOL_ALLOC(arena, arena + 256, 64);
  table[6] = arena + 256;
  store_new((void**)(arena + 264), 140); /* the new owner writes one word */
  count("pool chunk again");        /* 120 lost, 130 lost (now garbage) */
  VALGRIND_DESTROY_MEMPOOL(arena);
  return 0;
}
