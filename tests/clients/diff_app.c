/* Client for scripts/memtrack_diff: a small program built in variants by
   tests/test_script_diff.py with -D flags, so that a regression gate has
   something to catch. Every variant has the same source lines, so the same
   call chains give the same frame strings.

   Base (no flag), known by construction:
     make_table: 8 blocks of TABLE_ROW (1,000) bytes, all live together,
                 then freed                              8,000 bytes
     make_names: 20 blocks of 50 bytes, freed one by one 1,000 bytes
     keep_config: 1 block of 200 bytes, still reachable at exit
     Total 9,200 bytes in 29 blocks; peak 8,200 bytes (the table and the
     config); at exit 200 bytes in 1 block, still reachable.

   -DGROW:  TABLE_ROW becomes 1,500: total +4,000 bytes, peak +4,000.
   -DLEAK:  leak_buffer() allocates 64 bytes and drops the pointer
            (definitely lost), and make_names forgets to free 3 names
            (150 bytes definitely lost).
   -DSHRINK: make_names allocates 10 names instead of 20 (-500 bytes).
   -DFORGET: only make_names' three forgotten names (150 bytes definitely
            lost): a new leak behind the same functions, no new site. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

#ifdef GROW
#define TABLE_ROW 1500
#else
#define TABLE_ROW 1000
#endif

#ifdef SHRINK
#define NAMES 10
#else
#define NAMES 20
#endif

static char* config;
static volatile unsigned sink;

NOINLINE static void make_table(void) {
  char* rows[8];
  for (int i = 0; i < 8; i++) {
    rows[i] = malloc(TABLE_ROW);
    memset(rows[i], i, TABLE_ROW);
  }
  for (int i = 0; i < 8; i++) sink += (unsigned char)rows[i][i];
  for (int i = 0; i < 8; i++) free(rows[i]);
}

NOINLINE static void make_names(void) {
  for (int i = 0; i < NAMES; i++) {
    char* name = malloc(50);
    memset(name, 'a' + i % 26, 50);
    sink += (unsigned char)name[49];
#if defined(LEAK) || defined(FORGET)
    if (i < 3) { name = NULL; continue; }
#endif
    free(name);
  }
}

NOINLINE static void keep_config(void) {
  config = malloc(200);
  memset(config, 0, 200);
}

#ifdef LEAK
NOINLINE static void leak_buffer(void) {
  char* p = malloc(64);
  memset(p, 1, 64);
  sink += (unsigned char)p[3];
}
#endif

/* Clears the stack below us so that no stale pointer keeps a lost block
   reachable. */
NOINLINE static void scrub(void) {
  volatile char pad[4096];
  memset((char*)pad, 0, sizeof pad);
}

int main(void) {
  keep_config();
  make_table();
  make_names();
#ifdef LEAK
  leak_buffer();
#endif
  scrub();
  static const char done[] = "diff_app: done\n";
  if (write(1, done, sizeof done - 1) < 0) return 1;
  return 0;
}
