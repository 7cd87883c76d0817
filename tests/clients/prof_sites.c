/* Profile client: many allocation sites, each in its own function, with
   known sizes, lifetimes, peaks and accesses, for the per-site comparison
   with DHAT (tests/test_profile_dhat.py). No stdio until the end.

   Per-site figures the test checks exactly (own peak = mb/mbk):
     site_big        5000 x1, the global peak, freed     mb 5000 / 1
     site_memset     100, 200, 300, each freed at once   mb 300 / 1
     site_realloc    10 -> 100 -> 1000 -> 50, freed      mb 1000 / 1, tb 1160 in 4
     site_small      10 x 10, all live together, freed   mb 100 / 10 (never at a global peak)
     site_zero       malloc(0) x2, live together, freed  mb 2 / 2 (0 bytes count as 1)
     site_leak       77 x3, never freed                  mb 231 / 3, eb 231 / 3
     site_path       64, holds a path given to 3 syscalls: rb differs by 3 x 2
*/
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile long sink;

NOINLINE static char* site_big(size_t n) {
  char* p = malloc(n);
  memset(p, 1, n);
  return p;
}

NOINLINE static char* site_memset(size_t n) {
  char* p = malloc(n);
  memset(p, 'a', n);
  return p;
}

NOINLINE static char* site_memcpy(const char* src, size_t n) {
  char* p = malloc(n);
  memcpy(p, src, n);
  return p;
}

NOINLINE static int* site_loop(int n) {
  int* a = malloc(n * sizeof(int));
  for (int i = 0; i < n; i++) a[i] = i;
  long s = 0;
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < n; i++) s += a[i];
  sink = s;
  return a;
}

NOINLINE static char* site_calloc(size_t n) {
  char* p = calloc(n, 1);
  p[n / 2] = 7;
  sink = p[0] + p[n - 1];
  return p;
}

NOINLINE static void* site_zero(void) { return malloc(0); }

NOINLINE static char* site_realloc(void) {
  char* p = malloc(10);
  memset(p, 'r', 10);
  p = realloc(p, 100); /* grows: the 10 bytes are copied */
  memset(p, 's', 100);
  p = realloc(p, 1000);
  p[999] = 1;
  p = realloc(p, 50); /* shrinks */
  sink = p[49];
  return p;
}

NOINLINE static char* site_small(void) { return malloc(10); }

NOINLINE static char* site_leak(void) {
  char* p = malloc(77);
  memset(p, 0, 40);
  return p;
}

NOINLINE static char* site_strdup(const char* s) { return strdup(s); }

NOINLINE static char* site_path(void) {
  char* p = malloc(64);
  strcpy(p, "/nonexistent-memtrack-dir/prof_sites/some/path");
  /* Three system calls that read the path as a C string. */
  int fd = open(p, O_RDONLY);
  if (fd >= 0) close(fd);
  sink = access(p, F_OK);
  sink = unlink(p);
  return p;
}

/* One helper, two callers: two sites with the same innermost frame. */
NOINLINE static char* shared_helper(size_t n) {
  char* p = malloc(n);
  memset(p, 0, n);
  return p;
}
NOINLINE static char* caller_a(void) { return shared_helper(48); }
NOINLINE static char* caller_b(void) { return shared_helper(48); }

/* A stack deeper than --num-callers. */
NOINLINE static char* deep(int depth) {
  if (depth == 0) {
    char* p = malloc(24);
    memset(p, 3, 24);
    return p;
  }
  char* p = deep(depth - 1);
  sink = depth;
  return p;
}

NOINLINE static void reader(const char* p, size_t n) {
  long s = 0;
  for (size_t i = 0; i < n; i += 3) s += p[i];
  sink = s;
}

int main(void) {
  /* The global peak, early and alone. */
  char* big = site_big(5000);
  reader(big, 5000);
  free(big);

  for (size_t n = 100; n <= 300; n += 100) {
    char* p = site_memset(n);
    reader(p, n);
    free(p);
  }

  char src[256];
  for (int i = 0; i < 256; i++) src[i] = (char)i;
  char* c1 = site_memcpy(src, 256);
  char* c2 = site_memcpy(c1, 256);
  reader(c2, 256);
  free(c1);
  free(c2);

  int* a = site_loop(100);
  free(a);

  char* cz = site_calloc(40);
  free(cz);

  void* z[2];
  for (int i = 0; i < 2; i++) z[i] = site_zero();
  free(z[0]);
  free(z[1]);

  char* r = site_realloc();
  free(r);

  char* small[10];
  for (int i = 0; i < 10; i++) small[i] = site_small();
  for (int i = 0; i < 10; i++) small[i][i] = (char)i;
  for (int i = 0; i < 10; i++) free(small[i]);

  for (int i = 0; i < 3; i++) site_leak();

  char* d = site_strdup("a string for strdup");
  reader(d, strlen(d));
  free(d);

  char* path = site_path();
  free(path);

  char* ha = caller_a();
  char* hb = caller_b();
  free(ha);
  free(hb);

  char* dp = deep(20);
  free(dp);

  static const char msg[] = "prof_sites: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
