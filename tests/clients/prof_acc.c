/* Profile client: per-byte access counts (acc), after DHAT's own acc.c
   test, plus the cases where memtrack differs from DHAT on purpose (PP
   counts above 65535 saturate instead of wrapping). Every site is its own
   function; the expected acc of each is in tests/test_profile_dhat.py.
   No stdio until the end. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile int sink;

/* Byte i written i times (32 bytes). */
NOINLINE static void acc_ramp(void) {
  volatile char* a = malloc(32);
  for (int i = 1; i < 32; i++)
    for (int j = 0; j < i; j++) a[i] = 0;
  free((void*)a);
}

/* 20 bytes: ints 0 and 2 written once, 0 read once, 4 written 10 times. */
NOINLINE static void acc_gaps(void) {
  volatile int* b = malloc(20);
  b[0] = 1;
  b[2] = b[0];
  for (int i = 0; i < 10; i++) b[4] = 99;
  free((void*)b);
}

/* 33 bytes, calloc's zeroing is not an access: one write at the end. */
NOINLINE static void acc_calloc(void) {
  volatile char* c = calloc(33, 1);
  c[32] = 0;
  free((void*)c);
}

/* 1024 bytes: counted (the default --histogram-limit). */
NOINLINE static void acc_1024(void) {
  volatile char* d = malloc(1024);
  for (int i = 0; i < 1024; i++) d[i] = d[1023 - i];
  for (int i = 500; i < 600; i++) d[i] = 0;
  free((void*)d);
}

/* 1025 bytes: not counted. */
NOINLINE static void acc_1025(void) {
  volatile char* e = calloc(1025, 1);
  for (int i = 0; i < 1025; i++) e[i] += 1;
  free((void*)e);
}

/* Two blocks of one site, each int 0 written 20,000 times: 40,000 per
   byte in the PP, below 65535 (DHAT and memtrack agree). */
NOINLINE static int* m1(size_t n) { return malloc(n); }
NOINLINE static void acc_two_below(void) {
  volatile int* f[2];
  for (int k = 0; k < 2; k++) f[k] = m1(100);
  for (int i = 0; i < 20000; i++) {
    f[0][0] = 0;
    f[1][0] = 0;
  }
  free((void*)f[0]);
  free((void*)f[1]);
}

/* Two blocks of one site, each written 50,000 times: each block's count
   fits, the PP's sum (100,000) does not: DHAT prints it cast to 16 bits
   (34464), memtrack saturates at 65535. */
NOINLINE static int* m2(size_t n) { return malloc(n); }
NOINLINE static void acc_two_sum_over(void) {
  volatile int* g[2];
  for (int k = 0; k < 2; k++) g[k] = m2(100);
  for (int i = 0; i < 50000; i++) {
    g[0][0] = 0;
    g[1][0] = 0;
  }
  free((void*)g[0]);
  free((void*)g[1]);
}

/* One block, int 0 written 100,000 times: saturates at 65535 in both. */
NOINLINE static void acc_one_over(void) {
  volatile int* h = malloc(8);
  for (int i = 0; i < 100000; i++) h[0] = 0;
  h[1] = 5;
  free((void*)h);
}

/* Accesses of 2, 4 and 8 bytes over counters of which some are saturated
   and some not (memtrack bumps several counters at once when none is). */
NOINLINE static void acc_lanes(void) {
  volatile long* q = malloc(16);
  for (int i = 0; i < 70000; i++) ((volatile int*)q)[0] = 0;   /* bytes 0-3: 65535 */
  for (int i = 0; i < 3; i++) q[0] = 0;                        /* bytes 4-7: 3 */
  for (int i = 0; i < 70000; i++) ((volatile short*)q)[4] = 0; /* bytes 8-9: 65535 */
  ((volatile short*)q)[5] = 0;                                 /* bytes 10-11: 1 */
  ((volatile char*)q)[15] = 1;                                 /* byte 15: 1 */
  free((void*)q);
}

/* Blocks of two sizes at one site: no acc. */
NOINLINE static char* m3(size_t n) { return malloc(n); }
NOINLINE static void acc_mixed(void) {
  char* x[2];
  for (int k = 0; k < 2; k++) {
    x[k] = m3(10 * (k + 1));
    memset(x[k], 0, 10 * (k + 1));
  }
  free(x[0]);
  free(x[1]);
}

/* A site whose blocks' sizes come to differ (m4: 32, then 48 bytes) stops
   keeping per-byte counts while its first block is still being written and
   read; a site that gets its counts next (which may take the memory of the
   ones m4 dropped) counts only its own block's bytes. */
NOINLINE static int* m4(size_t n) { return malloc(n); }
NOINLINE static int* acc_after_drop(void) { return malloc(32); }
NOINLINE static void acc_dropped(void) {
  int* x[2];
  for (int k = 0; k < 2; k++) {
    x[k] = m4(32 + 16 * k);
    if (k == 0) {
      volatile int* a = x[0];
      for (int i = 0; i < 8; i++) a[i] = i;
      for (int i = 0; i < 8; i++) sink = a[i];
    }
  }
  volatile int* a = x[0];
  volatile int* c = acc_after_drop();
  c[0] = 1;
  sink = c[0];
  for (int i = 0; i < 8; i++) a[i] = i + 1;
  for (int i = 0; i < 8; i++) sink = a[i];
  free(x[0]);
  free(x[1]);
  free((void*)c);
}

/* A block still live at exit: retired then, with its counts. */
NOINLINE static void acc_live(void) {
  volatile char* l = malloc(16);
  for (int i = 0; i < 16; i++)
    for (int j = 0; j <= i % 4; j++) l[i] = (char)j;
}

/* A realloc to the same size (the site keeps one size; DHAT drops the
   block's histogram at a realloc). */
NOINLINE static void acc_realloc(void) {
  char* r = malloc(16);
  memset(r, 1, 16);
  r = realloc(r, 16);
  memset(r, 2, 8);
  free(r);
}

int main(void) {
  acc_ramp();
  acc_gaps();
  acc_calloc();
  acc_1024();
  acc_1025();
  acc_two_below();
  acc_two_sum_over();
  acc_one_over();
  acc_lanes();
  acc_mixed();
  acc_dropped();
  acc_live();
  acc_realloc();
  static const char msg[] = "prof_acc: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
