/* Not a program: stand-ins for str/mem functions that later DHATs replace
   but this system's C library does not export, built into shared objects
   whose sonames match Valgrind's patterns, so that prof_copy can call them
   (by dlopen/dlsym) and a tool replaces them where its preload says so:

     -DFAKE_LIBC, soname libc.so.mtfake:  strlcpy, strlcat, __wcscat_avx2
     -DFAKE_LDSO, soname ld-linux.so.2:   strncmp

   Built -nostdlib (no C library, no dependencies). Each gives the C
   library's result but reads its strings in a way no replacement does
   (lengths first, then again), so that a heap-mode profile shows whether
   a tool ran this code or its own replacement. */
#include <stddef.h>

static size_t len(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

#ifdef FAKE_LIBC

static size_t wlen(const wchar_t* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

size_t strlcpy(char* dst, const char* src, size_t n);
size_t strlcpy(char* dst, const char* src, size_t n) {
  size_t l = len(src);
  if (n > 0) {
    size_t m = l < n - 1 ? l : n - 1;
    for (size_t i = 0; i < m; i++) dst[i] = src[i];
    dst[m] = 0;
  }
  return l;
}

size_t strlcat(char* dst, const char* src, size_t n);
size_t strlcat(char* dst, const char* src, size_t n) {
  size_t d = 0;
  while (d < n && dst[d]) d++;
  if (d == n) return n + len(src);
  return d + strlcpy(dst + d, src, n - d);
}

wchar_t* __wcscat_avx2(wchar_t* dst, const wchar_t* src);
wchar_t* __wcscat_avx2(wchar_t* dst, const wchar_t* src) {
  size_t d = wlen(dst), s = wlen(src);
  for (size_t i = s + 1; i > 0; i--) dst[d + i - 1] = src[i - 1];
  return dst;
}

#endif

#ifdef FAKE_LDSO

int strncmp(const char* a, const char* b, size_t n);
int strncmp(const char* a, const char* b, size_t n) {
  size_t la = len(a), lb = len(b);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char)(i < la ? a[i] : 0);
    unsigned char y = (unsigned char)(i < lb ? b[i] : 0);
    if (x != y) return x < y ? -1 : 1;
    if (x == 0) return 0;
  }
  return 0;
}

#endif
