/* Client for scripts/memtrack_print: one allocation site per access
   pattern and per leak kind, each in its own function, every block of a
   site the same size (so each site keeps per-byte access counts), no stdio
   until the very end. Known by construction (tests/test_script_print.py):

     site (function)    blocks x size  accesses                      at exit
     used_fully           10 x 100     written, then read, all bytes  freed, long-lived
     never_touched         3 x 64      none                           freed
     write_only            2 x 128     memset, never read             freed
     read_only             4 x 32      calloc, then read              freed
     half_used             5 x 48      bytes 8..23 written and read   freed
     short_lived          50 x 24      one byte written               freed at once
     lost_definite         1 x 40      written                        definitely lost
     lost_indirect         1 x 56      points to a 72-byte block      definitely lost
       (its child)         1 x 72      (indirectly lost, site lost_child)
     lost_possible         1 x 88      only an interior pointer kept  possibly lost
     kept_reachable        2 x 16      a global points to each        still reachable

   Total: 10*100 + 3*64 + 2*128 + 4*32 + 5*48 + 50*24 + 40 + 56 + 72 + 88
          + 2*16 = 3,304 bytes in 80 blocks.
   At exit: 40 + 56 + 72 + 88 + 32 = 288 bytes in 6 blocks. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile unsigned sink;
static char* reachable[2];
static char* possible;

NOINLINE static void used_fully(void) {
  char* b[10];
  for (int i = 0; i < 10; i++) {
    b[i] = malloc(100);
    memset(b[i], i, 100);
  }
  /* Long-lived: many instructions pass before the blocks are freed. */
  for (int r = 0; r < 20; r++)
    for (int i = 0; i < 10; i++)
      for (int j = 0; j < 100; j++) sink += (unsigned char)b[i][j];
  for (int i = 0; i < 10; i++) free(b[i]);
}

NOINLINE static void never_touched(void) {
  char* b[3];
  for (int i = 0; i < 3; i++) b[i] = malloc(64);
  for (int i = 0; i < 3; i++) free(b[i]);
}

NOINLINE static void write_only(void) {
  char* b[2];
  for (int i = 0; i < 2; i++) {
    b[i] = malloc(128);
    memset(b[i], 0x77, 128);
  }
  for (int i = 0; i < 2; i++) free(b[i]);
}

NOINLINE static void read_only(void) {
  char* b[4];
  for (int i = 0; i < 4; i++) b[i] = calloc(32, 1);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 32; j++) sink += (unsigned char)b[i][j];
  for (int i = 0; i < 4; i++) free(b[i]);
}

NOINLINE static void half_used(void) {
  volatile char* b[5];
  for (int i = 0; i < 5; i++) {
    b[i] = malloc(48);
    for (int j = 8; j < 24; j++) b[i][j] = (char)j;
    for (int j = 8; j < 24; j++) sink += (unsigned char)b[i][j];
  }
  for (int i = 0; i < 5; i++) free((void*)b[i]);
}

NOINLINE static void short_lived(void) {
  for (int i = 0; i < 50; i++) {
    volatile char* p = malloc(24);
    p[0] = 1;
    free((void*)p);
  }
}

NOINLINE static void lost_definite(void) {
  char* p = malloc(40);
  memset(p, 1, 40);
  p = NULL;
}

NOINLINE static char* lost_child(void) {
  char* c = malloc(72);
  memset(c, 2, 72);
  return c;
}

NOINLINE static void lost_indirect(void) {
  char** p = malloc(56);
  memset(p, 0, 56);
  p[0] = lost_child();
  p = NULL;
}

NOINLINE static void lost_possible(void) {
  char* p = malloc(88);
  memset(p, 3, 88);
  possible = p + 10;
}

NOINLINE static void kept_reachable(void) {
  for (int i = 0; i < 2; i++) {
    reachable[i] = malloc(16);
    memset(reachable[i], 4, 16);
  }
}

/* Clears the stack below us so that no stale pointer to a lost block
   survives in a dead frame (the leak search scans the stack). */
NOINLINE static void scrub(void) {
  volatile char pad[4096];
  memset((char*)pad, 0, sizeof pad);
}

int main(void) {
  used_fully();
  never_touched();
  write_only();
  read_only();
  half_used();
  short_lived();
  lost_definite();
  lost_indirect();
  lost_possible();
  kept_reachable();
  scrub();
  static const char done[] = "print_insights: done\n";
  if (write(1, done, sizeof done - 1) < 0) return 1;
  return 0;
}
