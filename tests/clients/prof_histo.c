/* Profile client for DHAT_HISTOGRAM_MEMORY (memtrack.h defines it, dhat.h
   3.19 lacks it) and MEMTRACK_HISTOGRAM_MEMORY, after DHAT's
   user_histo1.cpp, deterministic:
     hist_2000: 2000 bytes, memset (before the request: not counted), then
                byte i written once, byte 5 100 more times -> acc 1..., [5]=101
     hist_mt:   3000 bytes via MEMTRACK_HISTOGRAM_MEMORY, bytes 0..9 read once
     hist_max:  25,600 bytes (the largest allowed), byte 0 written once
   and the three warnings: a 500-byte block (smaller than the limit), a
   freed block (not found), a 100,000-byte block (larger than the maximum);
   plus 25,601 bytes (just too large) and 1024 (just too small).
   Prints the addresses the not-found warning must show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dhat.h"
#include "memtrack.h"

#define NOINLINE __attribute__((noinline))

static volatile char sink;

NOINLINE static char* hist_2000(void) { return malloc(2000); }
NOINLINE static char* hist_mt(void) { return malloc(3000); }
NOINLINE static char* hist_max(void) { return malloc(25600); }
NOINLINE static char* other(size_t n) { return malloc(n); }

int main(void) {
  volatile char* a = hist_2000();
  memset((char*)a, 0, 2000);
  DHAT_HISTOGRAM_MEMORY(a);
  for (int i = 0; i < 2000; i++) a[i] = (char)i;
  for (int i = 0; i < 100; i++) a[5] = (char)i;
  free((char*)a);

  volatile char* m = hist_mt();
  MEMTRACK_HISTOGRAM_MEMORY(m + 17); /* any address inside the block */
  for (int i = 0; i < 10; i++) sink = m[i];
  free((char*)m);

  volatile char* x = hist_max();
  DHAT_HISTOGRAM_MEMORY(x);
  x[0] = 1;
  free((char*)x);

  char* small = other(500);
  DHAT_HISTOGRAM_MEMORY(small);
  char* edge = other(1024);
  DHAT_HISTOGRAM_MEMORY(edge);
  char* gone = other(3000);
  free(gone);
  DHAT_HISTOGRAM_MEMORY(gone);
  char* big = other(100000);
  DHAT_HISTOGRAM_MEMORY(big);
  char* big2 = other(25601);
  DHAT_HISTOGRAM_MEMORY(big2);
  free(small);
  free(edge);
  free(big);
  free(big2);
  char line[100];
  int n = snprintf(line, sizeof line, "gone=%lx\n", (unsigned long)gone);
  if (write(1, line, n) != n) return 1;
  return 0;
}
