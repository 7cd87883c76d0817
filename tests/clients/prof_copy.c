/* Profile client for --mode=copy: calls each copy function of the C
   library from its own line, with sizes the test knows, plus functions
   no DHAT counts (strcat, memset).
   Built -fno-builtin by default so that gcc keeps the calls; built
   -O2 -D_FORTIFY_SOURCE=2 it calls the __*_chk forms instead.
   Prints "copied=<bytes> calls=<n>" for the calls DHAT 3.19 counts
   (strcpy-like functions count the terminating NUL; wcscpy 4 bytes a
   character).

   Then the functions later DHATs replace too (3.20 to 3.25), each from its
   own via_<name>() on heap blocks of its own, so that a copy-mode profile
   shows the copies each tool counted there and a heap-mode one the bytes
   each tool's version read and wrote: memccpy, wcsncpy, wcpncpy, wmemcmp
   from the C library; strlcpy, strlcat and __wcscat_avx2 (which glibc 2.36
   lacks or keeps local) from a stand-in library whose soname matches
   libc.so* and ld.so's strncmp from one named ld-linux.so.2
   (strmem_fakelib.c), when their paths are given:
     prof_copy [FAKE_LIBC.so FAKE_LDSO.so]
   It prints what each call returned and, on a line
   "newer memccpy=<bytes>/<calls> ...", the copies DHAT 3.24 and later
   record for them. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#define NOINLINE __attribute__((noinline))

static unsigned long copied, calls;
static void note(unsigned long n) { copied += n; calls++; }

/* Destinations of known size, so that fortified builds use the _chk forms. */
static char dst[4096];
static wchar_t wdst[256];

NOINLINE static void copies(const char* src, size_t n, volatile size_t* vn) {
  size_t m = *vn; /* not a constant, even at -O2 */
  memcpy(dst, src, m);               note(m);
  memmove(dst + 1, dst, m);          note(m);
  strcpy(dst, src);                  note(strlen(src) + 1);
  strncpy(dst, src, m);              note(m);
  stpcpy(dst, src);                  note(strlen(src) + 1);
  stpncpy(dst, src, m);              note(m);
  mempcpy(dst, src, m);              note(m);
  bcopy(src, dst, m);                note(m);
  (void)n;
}

NOINLINE static void wide(const wchar_t* w) {
  wcscpy(wdst, w);                   note((wcslen(w) + 1) * sizeof(wchar_t));
}

NOINLINE static void not_counted(const char* src, size_t m) {
  dst[0] = 0;
  strcat(dst, src);
  memset(dst, 0, m);
}

/* --- The newer functions -------------------------------------------- */

static unsigned long n_bytes[4], n_calls[4];
enum { N_MEMCCPY, N_WCSNCPY, N_WCPNCPY, N_STRLCPY };
static void note_new(int which, unsigned long n) { n_bytes[which] += n; n_calls[which]++; }
static int sign(long v) { return (v > 0) - (v < 0); }

/* Heap blocks holding text and its NUL, then letters, filled by plain
   loops (no copy function, no memset). */
static char* heap_str(size_t size, const char* text) {
  char* p = malloc(size);
  size_t i = 0;
  for (; text[i]; i++) p[i] = text[i];
  p[i++] = 0;
  for (; i < size; i++) p[i] = (char)('A' + i % 26);
  return p;
}
static wchar_t* heap_wcs(size_t size, const wchar_t* text) {
  wchar_t* p = malloc(size * sizeof(wchar_t));
  size_t i = 0;
  for (; text[i]; i++) p[i] = text[i];
  p[i++] = 0;
  for (; i < size; i++) p[i] = (wchar_t)(L'A' + i % 26);
  return p;
}

NOINLINE static void via_memccpy(volatile size_t* vn) {
  char* s = heap_str(32, "abcdefghijklmnopqrstuvwxyz");
  char* d = heap_str(32, "");
  size_t n = *vn;
  char* r = memccpy(d, s, 'e', n);         note_new(N_MEMCCPY, 5);
  printf("memccpy found: %ld\n", r ? (long)(r - d) : -1L);
  r = memccpy(d, s, '#', n - 8);          note_new(N_MEMCCPY, n - 8);
  printf("memccpy not found: %ld\n", r ? (long)(r - d) : -1L);
  r = memccpy(d, s, 'a', n - n);          /* n == 0: no copy recorded */
  printf("memccpy none: %ld %.12s\n", r ? (long)(r - d) : -1L, d);
  free(s);
  free(d);
}

NOINLINE static void via_wcsncpy(volatile size_t* vn) {
  wchar_t* s = heap_wcs(16, L"wide");
  wchar_t* l = heap_wcs(16, L"longer string");
  wchar_t* d = heap_wcs(16, L"");
  size_t n = *vn;
  wcsncpy(d, s, n);                       note_new(N_WCSNCPY, (4 + 1) * 4);
  printf("wcsncpy short: %ls %d %d\n", d, (int)d[n - 1], (int)d[n]);
  wcsncpy(d, l, n - 4);                   note_new(N_WCSNCPY, (n - 4) * 4);
  printf("wcsncpy cut: %.8ls\n", d);
  free(s);
  free(l);
  free(d);
}

NOINLINE static void via_wcpncpy(volatile size_t* vn) {
  wchar_t* s = heap_wcs(16, L"abc");
  wchar_t* l = heap_wcs(16, L"abcdefghijkl");
  wchar_t* d = heap_wcs(16, L"");
  size_t n = *vn;
  wchar_t* r = wcpncpy(d, s, n);          note_new(N_WCPNCPY, (3 + 1) * 4);
  printf("wcpncpy short: %ld %ls %d\n", (long)(r - d), d, (int)d[n]);
  r = wcpncpy(d, l, n - 3);               note_new(N_WCPNCPY, (n - 3) * 4);
  printf("wcpncpy cut: %ld %.8ls\n", (long)(r - d), d);
  free(s);
  free(l);
  free(d);
}

NOINLINE static void via_wmemcmp(volatile size_t* vn) {
  wchar_t* a = heap_wcs(16, L"");
  wchar_t* b = heap_wcs(16, L"");
  size_t n = *vn;
  a[10] = -5; /* signed: a is below b */
  b[10] = 3;
  printf("wmemcmp: %d %d %d\n", sign(wmemcmp(a, b, n)), sign(wmemcmp(b, a, n)),
         sign(wmemcmp(a, b, n - 6)));
  free(a);
  free(b);
}

typedef size_t (*strl_fn)(char*, const char*, size_t);
typedef wchar_t* (*wcscat_fn)(wchar_t*, const wchar_t*);
typedef int (*strncmp_fn)(const char*, const char*, size_t);

NOINLINE static void via_strlcpy(strl_fn fn) {
  char* s = heap_str(32, "hello");
  char* l = heap_str(32, "a longer string here");
  char* d = heap_str(16, "");
  size_t r1 = fn(d, s, 16);               note_new(N_STRLCPY, 5 + 1);
  printf("strlcpy fits: %zu %s\n", r1, d);
  size_t r2 = fn(d, l, 8);                note_new(N_STRLCPY, 7 + 1);
  printf("strlcpy cut: %zu %s\n", r2, d);
  size_t r3 = fn(d, l, 0);                note_new(N_STRLCPY, 0);
  printf("strlcpy none: %zu %s\n", r3, d);
  free(s);
  free(l);
  free(d);
}

NOINLINE static void via_strlcat(strl_fn fn) {
  char* s = heap_str(16, "defgh");
  char* d = heap_str(32, "abc");
  size_t r1 = fn(d, s, 32);
  printf("strlcat fits: %zu %s\n", r1, d);
  size_t r2 = fn(d, s, 5);  /* no NUL in d's first 5 bytes: d unchanged */
  printf("strlcat full: %zu %s\n", r2, d);
  size_t r3 = fn(d, s, 10); /* room for one more byte */
  printf("strlcat cut: %zu %s\n", r3, d);
  free(s);
  free(d);
}

NOINLINE static void via_wcscat_avx2(wcscat_fn fn) {
  wchar_t* s = heap_wcs(8, L"cde");
  wchar_t* d = heap_wcs(16, L"ab");
  wchar_t* r = fn(d, s);
  printf("__wcscat_avx2: %ld %ls\n", (long)(r - d), d);
  free(s);
  free(d);
}

NOINLINE static void via_ldso_strncmp(strncmp_fn fn) {
  char* a = heap_str(16, "hello");
  char* b = heap_str(16, "help");
  printf("ld.so strncmp: %d %d %d %d\n", sign(fn(a, b, 3)), sign(fn(a, b, 4)),
         sign(fn(b, a, 10)), sign(fn(a, a, 10)));
  free(a);
  free(b);
}

/* lib is a heap copy of the path: ld.so compares the names it is given
   with its own (heap) copies, with a strcmp of its own that no tool
   replaces and whose reads depend on how the two strings are aligned. On
   the stack (argv), they would be aligned differently under each tool
   (Valgrind's environment there names the tool's preload). */
static void* fake_fn(const char* lib, const char* name) {
  void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  void* f = h ? dlsym(h, name) : NULL;
  if (!f) {
    fprintf(stderr, "prof_copy: %s: no %s (%s)\n", lib, name, dlerror());
    exit(2);
  }
  return f;
}

static void newer(int argc, char** argv) {
  volatile size_t n = 20;
  via_memccpy(&n);
  n = 10;
  via_wcsncpy(&n);
  n = 8;
  via_wcpncpy(&n);
  n = 16;
  via_wmemcmp(&n);
  if (argc == 3) {
    char* libc = heap_str(4096, argv[1]);
    char* ldso = heap_str(4096, argv[2]);
    via_strlcpy((strl_fn)fake_fn(libc, "strlcpy"));
    via_strlcat((strl_fn)fake_fn(libc, "strlcat"));
    via_wcscat_avx2((wcscat_fn)fake_fn(libc, "__wcscat_avx2"));
    via_ldso_strncmp((strncmp_fn)fake_fn(ldso, "strncmp"));
    free(libc);
    free(ldso);
  }
  printf("newer memccpy=%lu/%lu wcsncpy=%lu/%lu wcpncpy=%lu/%lu strlcpy=%lu/%lu\n",
         n_bytes[N_MEMCCPY], n_calls[N_MEMCCPY], n_bytes[N_WCSNCPY], n_calls[N_WCSNCPY],
         n_bytes[N_WCPNCPY], n_calls[N_WCPNCPY], n_bytes[N_STRLCPY], n_calls[N_STRLCPY]);
}

int main(int argc, char** argv) {
  static const size_t sizes[] = {1, 7, 64, 100, 1000};
  char* src = malloc(2000);
  memset(src, 'x', 2000);
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    volatile size_t n = sizes[i];
    src[sizes[i]] = 0; /* strings of that length */
    copies(src, sizes[i], &n);
    src[sizes[i]] = 'x';
  }
  wide(L"wide characters");
  not_counted("abc", 3);
  free(src);
  printf("copied=%lu calls=%lu\n", copied, calls);
  newer(argc, argv);
  return 0;
}
