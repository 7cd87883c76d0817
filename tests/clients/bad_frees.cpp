// Client (2): bad frees and mismatched deallocations, one per function so
// every error has its own stack. Never run natively (glibc would abort).
// Each case leaves the heap sound: a freed address is freed again right away
// (before anything could reuse it), so memcheck and memtrack describe it the
// same way.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

int g_global = 42;

NOINLINE void double_free(void) {
  char* p = (char*)malloc(10);
  memset(p, 1, 10);
  free(p);
  free(p);  // Invalid free: 0 bytes inside a block of size 10 free'd
}

NOINLINE void free_stack(void) {
  int local = 1;
  free(&local);  // Invalid free: on thread 1's stack
}

NOINLINE void free_global(void) {
  free(&g_global);  // Invalid free: inside data symbol "g_global"
}

NOINLINE void free_interior(void) {
  char* p = (char*)malloc(16);
  free(p + 8);  // Invalid free: 8 bytes inside a block of size 16 alloc'd
  free(p);      // the block itself is still fine
}

NOINLINE void free_never_allocated(void) {
  free((void*)0x1234560);  // Invalid free: not stack'd, malloc'd or free'd
}

NOINLINE void delete_of_new_vec(void) {
  int* p = new int[10];
  delete p;  // Mismatched
}

NOINLINE void free_of_new(void) {
  int* p = new int(7);
  free(p);  // Mismatched
}

NOINLINE void delete_vec_of_malloc(void) {
  char* p = (char*)malloc(24);
  delete[] p;  // Mismatched
}

NOINLINE void delete_vec_of_new(void) {
  long* p = new long(3);
  delete[] p;  // Mismatched
}

NOINLINE void realloc_of_new(void) {
  char* p = new char[32];
  char* q = (char*)realloc(p, 64);  // Mismatched
  free(q);
}

NOINLINE void realloc_of_freed(void) {
  char* p = (char*)malloc(40);
  free(p);
  void* q = realloc(p, 80);  // Invalid free (realloc of a freed block)
  if (q) free(q);
}

NOINLINE void double_free_after_realloc(void) {
  char* p = (char*)malloc(10);
  p = (char*)realloc(p, 100);  // moves: the block is now realloc's
  free(p);
  free(p);  // Invalid free: 0 bytes inside a block of size 100 free'd
}

NOINLINE void fishy_malloc(void) {
  volatile long n = -5;
  void* p = malloc((size_t)n);  // fishy value -5; returns NULL
  if (p != NULL) {
    fprintf(stderr, "bad_frees: malloc(-5) did not return NULL\n");
    exit(2);
  }
}

// Is `name` one of the comma-separated words in `list`?
static bool listed(const char* list, const char* name) {
  size_t n = strlen(name);
  for (const char* p = list; *p;) {
    const char* end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len;
    if (*p == ',') p++;
  }
  return false;
}

static const char* const kCases[] = {
    "double_free",        "free_stack",        "free_global",          "free_interior",
    "free_never_allocated", "delete_of_new_vec", "free_of_new",        "delete_vec_of_malloc",
    "delete_vec_of_new",  "realloc_of_new",    "realloc_of_freed",     "double_free_after_realloc",
    "fishy_malloc",
};

int main(int argc, char** argv) {
  // With an argument, run only the named cases (comma-separated).
  const char* only = argc > 1 ? argv[1] : NULL;
  if (only) {
    size_t known = 0, words = 1;
    for (const char* p = only; *p; p++) words += *p == ',';
    for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) known += listed(only, kCases[i]);
    if (known != words) {
      fprintf(stderr, "bad_frees: unknown case in '%s'\n", only);
      return 2;
    }
  }
#define CASE(f) \
  if (!only || listed(only, #f)) f()
  CASE(double_free);
  CASE(free_stack);
  CASE(free_global);
  CASE(free_interior);
  CASE(free_never_allocated);
  CASE(delete_of_new_vec);
  CASE(free_of_new);
  CASE(delete_vec_of_malloc);
  CASE(delete_vec_of_new);
  CASE(realloc_of_new);
  CASE(realloc_of_freed);
  CASE(double_free_after_realloc);
  CASE(fishy_malloc);
  printf("bad_frees: done\n");
  return 0;
}
