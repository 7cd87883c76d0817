/* Profile client for --mode=copy: calls each copy function of the C
   library from its own line, with sizes the test knows, plus functions
   neither DHAT 3.19 nor memtrack counts (strcat, memccpy, wcsncpy, memset).
   Built -fno-builtin by default so that gcc keeps the calls; built
   -O2 -D_FORTIFY_SOURCE=2 it calls the __*_chk forms instead.
   Prints "copied=<bytes> calls=<n>" for the calls DHAT 3.19 counts
   (strcpy-like functions count the terminating NUL; wcscpy 4 bytes a
   character). */
#define _GNU_SOURCE
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
  memccpy(dst, src, 0, m);
  memset(dst, 0, m);
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
  (void)argc;
  (void)argv;
  return 0;
}
