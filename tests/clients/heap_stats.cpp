// Client (6): MEMTRACK_GET_HEAP_STATS at several points. Every expectation is
// derived from what this client itself allocated between two requests (DHAT's
// rules: a 0-byte request counts 1 byte, a realloc counts one more block of
// its new size). No stdio until the end, so nothing else allocates between
// the requests.
//
// Natively (or under another tool) the request must evaluate to 0 and leave
// the struct alone; the client then prints "heap_stats: not under memtrack".
// Under memtrack it prints "heap_stats: all checks passed". Any failed check
// prints a line on stderr and exits 1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "memtrack.h"

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "heap_stats: FAILED at line %d: %s\n", __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define NOINLINE __attribute__((noinline))

static MemtrackHeapStats get() {
  MemtrackHeapStats s;
  memset(&s, 0xA5, sizeof s);
  int ok = MEMTRACK_GET_HEAP_STATS(&s);
  CHECK(ok == 1);
  // Always-true relations between the figures.
  CHECK(s.curr_bytes <= s.max_bytes);
  CHECK(s.curr_bytes <= s.total_bytes);
  CHECK(s.curr_blocks <= s.total_blocks);
  CHECK(s.max_blocks <= s.total_blocks);
  return s;
}

struct Delta {
  long long curr_bytes, curr_blocks, total_bytes, total_blocks;
};

static Delta diff(const MemtrackHeapStats& a, const MemtrackHeapStats& b) {
  return Delta{(long long)(b.curr_bytes - a.curr_bytes), (long long)(b.curr_blocks - a.curr_blocks),
               (long long)(b.total_bytes - a.total_bytes),
               (long long)(b.total_blocks - a.total_blocks)};
}

#define EXPECT_DELTA(a, b, cb, cn, tb, tn)     \
  do {                                         \
    Delta d_ = diff((a), (b));                 \
    CHECK(d_.curr_bytes == (long long)(cb));   \
    CHECK(d_.curr_blocks == (long long)(cn));  \
    CHECK(d_.total_bytes == (long long)(tb));  \
    CHECK(d_.total_blocks == (long long)(tn)); \
  } while (0)

static int native_check() {
  MemtrackHeapStats s;
  memset(&s, 0x5A, sizeof s);
  int ok = MEMTRACK_GET_HEAP_STATS(&s);
  unsigned char want[sizeof s];
  memset(want, 0x5A, sizeof want);
  if (ok != 0) {
    fprintf(stderr, "heap_stats: request returned %d without memtrack\n", ok);
    return 1;
  }
  if (memcmp(&s, want, sizeof s) != 0) {
    fprintf(stderr, "heap_stats: request wrote into the struct without memtrack\n");
    return 1;
  }
  printf("heap_stats: not under memtrack\n");
  return 0;
}

int main() {
  {
    MemtrackHeapStats probe;
    memset(&probe, 0, sizeof probe);
    if (!MEMTRACK_GET_HEAP_STATS(&probe)) return native_check();
  }

  // Two requests with nothing in between agree exactly.
  MemtrackHeapStats s0 = get();
  MemtrackHeapStats s0b = get();
  CHECK(memcmp(&s0, &s0b, sizeof s0) == 0);

  // malloc
  char* a = (char*)malloc(100);
  MemtrackHeapStats s1 = get();
  EXPECT_DELTA(s0, s1, 100, 1, 100, 1);

  // calloc counts nmemb * size
  char* b = (char*)calloc(3, 7);
  MemtrackHeapStats s2 = get();
  EXPECT_DELTA(s1, s2, 21, 1, 21, 1);

  // malloc(0) counts one byte
  char* z = (char*)malloc(0);
  MemtrackHeapStats s3 = get();
  EXPECT_DELTA(s2, s3, 1, 1, 1, 1);

  // realloc grow: one more block in the total, the same live block count
  a = (char*)realloc(a, 250);
  MemtrackHeapStats s4 = get();
  EXPECT_DELTA(s3, s4, 150, 0, 250, 1);

  // realloc shrink
  a = (char*)realloc(a, 40);
  MemtrackHeapStats s5 = get();
  EXPECT_DELTA(s4, s5, -210, 0, 40, 1);

  // realloc(NULL, n) is a malloc
  char* r = (char*)realloc(nullptr, 60);
  MemtrackHeapStats s6 = get();
  EXPECT_DELTA(s5, s6, 60, 1, 60, 1);

  // free: live figures drop, totals stay
  free(b);
  free(z);
  MemtrackHeapStats s7 = get();
  EXPECT_DELTA(s6, s7, -22, -2, 0, 0);

  // operator new / new[] / aligned new
  long* n1 = new long[10];
  char* n2 = new char;
  void* n3 = ::operator new(96, std::align_val_t(64));
  MemtrackHeapStats s8 = get();
  EXPECT_DELTA(s7, s8, 80 + 1 + 96, 3, 80 + 1 + 96, 3);
  delete[] n1;
  delete n2;
  ::operator delete(n3, std::align_val_t(64));
  MemtrackHeapStats s9 = get();
  EXPECT_DELTA(s8, s9, -(80 + 1 + 96), -3, 0, 0);

  // memalign family
  void* m1 = nullptr;
  CHECK(posix_memalign(&m1, 256, 500) == 0);
  void* m2 = aligned_alloc(64, 128);
  MemtrackHeapStats s10 = get();
  EXPECT_DELTA(s9, s10, 628, 2, 628, 2);
  free(m1);
  free(m2);

  // Failed allocations count nothing.
  MemtrackHeapStats s11 = get();
  volatile size_t huge = (size_t)1 << 62;
  CHECK(malloc(huge) == nullptr);
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  MemtrackHeapStats s12 = get();
  EXPECT_DELTA(s11, s12, 0, 0, 0, 0);

  // A new global peak: bigger than everything live so far. At the peak the
  // max figures equal the live figures; after freeing, max stays.
  const size_t big = 4u << 20;
  CHECK(s12.max_bytes < s12.curr_bytes + big);
  char* p1 = (char*)malloc(big);
  char* p2 = (char*)malloc(1000);
  MemtrackHeapStats s13 = get();
  CHECK(s13.max_bytes == s13.curr_bytes);
  CHECK(s13.max_blocks == s13.curr_blocks);
  CHECK(s13.curr_bytes == s12.curr_bytes + big + 1000);
  free(p1);
  free(p2);
  MemtrackHeapStats s14 = get();
  CHECK(s14.max_bytes == s13.max_bytes);
  CHECK(s14.max_blocks == s13.max_blocks);
  CHECK(s14.curr_bytes == s12.curr_bytes);
  CHECK(s14.curr_blocks == s12.curr_blocks);

  // A lower bump does not move the peak.
  char* p3 = (char*)malloc(big / 2);
  MemtrackHeapStats s15 = get();
  CHECK(s15.max_bytes == s13.max_bytes && s15.max_blocks == s13.max_blocks);
  free(p3);

  free(a);
  free(r);
  MemtrackHeapStats s16 = get();
  CHECK(s16.curr_bytes == s0.curr_bytes);
  CHECK(s16.curr_blocks == s0.curr_blocks);
  CHECK(s16.total_bytes > s0.total_bytes);

  if (failures) {
    fprintf(stderr, "heap_stats: %d check(s) failed\n", failures);
    return 1;
  }
  printf("heap_stats: all checks passed\n");
  return 0;
}
