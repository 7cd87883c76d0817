// Heap calls whose checking Valgrind changed between releases: each case
// below is reported by the memcheck of some versions and not others, or in
// other words (tests/test_alloc_versions.py compares memtrack with the
// build's memcheck case by case).
//
//   3.21+  realloc(p, 0) is "realloc() with size 0" (--show-realloc-size-
//          zero), frees or resizes per --realloc-zero-bytes-frees, and
//          realloc(NULL, n) reaches the tool (a fishy n is realloc's)
//   3.22+  the preload asks the tool to check aligned allocations and sized
//          or aligned deallocations: bad alignments, a size of zero, sized
//          and aligned delete that do not match the block
//   3.23+  free_sized; 3.26+ free_aligned_sized (Linux), and a size of zero
//          says "Unsafe allocation ..." instead of "... invalid size value"
//   3.27+  the size-zero error names reallocarray when it was reallocarray
//
// free_sized and free_aligned_sized are C23 (glibc 2.43): this program
// defines its own, which Valgrind replaces when run with
// --soname-synonyms=somalloc=NONE (the main executable is then searched for
// malloc functions too); natively and on releases without the replacement
// they free the block.
//
// alloc_versions [case...]: run the named cases (all without arguments);
// --list prints them. Prints "alloc_versions: done" and exits 0.
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <new>

extern "C" {
void free_sized(void* p, size_t size);
void free_aligned_sized(void* p, size_t alignment, size_t size);
}

// noinline and used: the replacement needs the function's own symbol.
extern "C" __attribute__((noinline, used)) void free_sized(void* p, size_t) { free(p); }
extern "C" __attribute__((noinline, used)) void free_aligned_sized(void* p, size_t, size_t) { free(p); }

// Sizes and alignments through volatiles: the compiler must not reason
// about (or warn on) the calls.
static void* volatile null_ptr = nullptr;
static volatile size_t v0 = 0, v3 = 3, v4 = 4, v12 = 12, v16 = 16, v20 = 20, v24 = 24, v32 = 32,
                       v40 = 40, v48 = 48, v64 = 64, v100 = 100, v128 = 128, v_minus5 = (size_t)-5;

static std::align_val_t al(size_t a) { return static_cast<std::align_val_t>(a); }

// realloc(p, 0) of a live malloc'd block.
static void realloc_zero() {
  void* p = malloc(v20);
  void* r = realloc(p, v0);
  free(r);  // NULL where realloc freed p, a 1-byte block where it resized it
}

// realloc(p, 0) twice from one place: one context, two errors.
static void realloc_zero_twice() {
  for (int i = 0; i < 2; i++) free(realloc(malloc(v16), v0));
}

// realloc(p, 0) of a block already freed: the size error names the freed
// block, then the free is invalid (when realloc frees).
static void realloc_zero_freed() {
  void* p = malloc(v40);
  free(p);
  void* r = realloc(p, v0);
  if (r && r != p) free(r);
}

// realloc(p, 0) of a new[]'d block: the free is a mismatch as well.
static void realloc_zero_of_new() {
  char* p = new char[24];
  void* r = realloc(p, v0);
  free(r);
}

static void reallocarray_zero() {
  void* p = malloc(v32);
  void* r = reallocarray(p, v0, v16);
  free(r);
}

// realloc(NULL, -5): the fishy size is realloc's where realloc(NULL, n)
// reaches the tool, malloc's where the preload calls malloc.
static void realloc_null_fishy() {
  void* r = realloc(null_ptr, v_minus5);  // a constant NULL would make it malloc
  free(r);
}

static void memalign_bad() {
  free(memalign(v24, v100));
  free(memalign(v0, v100));
}

static void memalign_zero() { free(memalign(v64, v0)); }

static void posix_memalign_bad() {
  void* p = nullptr;
  if (posix_memalign(&p, v12, v64) == 0) free(p);
  if (posix_memalign(&p, v4, v64) == 0) free(p);
  if (posix_memalign(&p, v0, v64) == 0) free(p);
}

static void posix_memalign_zero() {
  void* p = nullptr;
  if (posix_memalign(&p, v64, v0) == 0) free(p);
}

static void aligned_alloc_bad() {
  free(aligned_alloc(v64, v100));
  free(aligned_alloc(v24, v48));
}

static void aligned_alloc_zero() { free(aligned_alloc(v64, v0)); }

// Aligned new with a bad alignment: the nothrow forms return NULL (the
// throwing ones make Valgrind's preload abort).
static void new_aligned_bad() {
  void* p = operator new(v100, al(v24), std::nothrow);
  operator delete(p, al(v24), std::nothrow);
  void* q = operator new[](v100, al(v0), std::nothrow);
  operator delete[](q, al(v0), std::nothrow);
}

static void delete_sized_mismatch() {
  void* p = operator new(v40);
  operator delete(p, v32);
  void* q = operator new[](v40);
  operator delete[](q, v48);
}

static void delete_sized_match() {
  void* p = operator new(v40);
  operator delete(p, v40);
  void* q = operator new[](v0);
  operator delete[](q, v0);
}

static void delete_aligned_mismatch() {
  void* p = operator new(v64, al(v64));
  operator delete(p, al(v32));
  void* q = operator new[](v64, al(v64));
  operator delete[](q, al(v128));
}

static void delete_default_of_aligned() {
  void* p = operator new(v64, al(v64));
  operator delete(p);
  void* q = operator new[](v64, al(v32));
  operator delete[](q);
}

static void delete_sized_aligned() {
  void* p = operator new(v64, al(v64));
  operator delete(p, v48, al(v32));
  void* q = operator new[](v64, al(v64));
  operator delete[](q, v64, al(v24));
  void* r = operator new(v64, al(v16));
  operator delete(r, v64, al(v16));
}

static void delete_aligned_bad() {
  operator delete(nullptr, al(v3));
  operator delete[](nullptr, v16, al(v0));
}

// The allocator family and the alignment are checked apart: a memalign'd
// block given to aligned delete is a mismatched free, an aligned new'd
// block given to free() only that.
static void aligned_family_mismatch() {
  void* p = memalign(v64, v64);
  operator delete(p, al(v64));
  void* q = operator new(v64, al(v64));
  free(q);
}

// A realloc'd block forgets its alignment.
static void realloc_of_aligned() {
  void* p = memalign(v64, v64);
  p = realloc(p, v128);
  void* q = operator new(v32, al(v32));
  operator delete(q, al(v32));
  free(p);
}

static void free_sized_mismatch() {
  void* p = malloc(v40);
  free_sized(p, v32);
  void* q = malloc(v40);
  free_sized(q, v40);
}

static void free_aligned_sized_cases() {
  void* p = aligned_alloc(v64, v128);
  free_aligned_sized(p, v32, v128);
  void* q = aligned_alloc(v64, v128);
  free_aligned_sized(q, v64, v0);
  void* r = memalign(v32, v100);
  free_aligned_sized(r, v24, v100);
  void* s = aligned_alloc(v16, v32);
  free_aligned_sized(s, v16, v32);
}

// A block still live at exit, so that the heap summaries have something in
// use.
static void* kept;
static void keep_one() { kept = memalign(v64, v20); }

struct Case {
  const char* name;
  void (*fn)();
};
static const Case kCases[] = {
    {"realloc_zero", realloc_zero},
    {"realloc_zero_twice", realloc_zero_twice},
    {"realloc_zero_freed", realloc_zero_freed},
    {"realloc_zero_of_new", realloc_zero_of_new},
    {"reallocarray_zero", reallocarray_zero},
    {"realloc_null_fishy", realloc_null_fishy},
    {"memalign_bad", memalign_bad},
    {"memalign_zero", memalign_zero},
    {"posix_memalign_bad", posix_memalign_bad},
    {"posix_memalign_zero", posix_memalign_zero},
    {"aligned_alloc_bad", aligned_alloc_bad},
    {"aligned_alloc_zero", aligned_alloc_zero},
    {"new_aligned_bad", new_aligned_bad},
    {"delete_sized_mismatch", delete_sized_mismatch},
    {"delete_sized_match", delete_sized_match},
    {"delete_aligned_mismatch", delete_aligned_mismatch},
    {"delete_default_of_aligned", delete_default_of_aligned},
    {"delete_sized_aligned", delete_sized_aligned},
    {"delete_aligned_bad", delete_aligned_bad},
    {"aligned_family_mismatch", aligned_family_mismatch},
    {"realloc_of_aligned", realloc_of_aligned},
    {"free_sized_mismatch", free_sized_mismatch},
    {"free_aligned_sized", free_aligned_sized_cases},
    {"keep_one", keep_one},
};
static const size_t kNumCases = sizeof kCases / sizeof kCases[0];

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < kNumCases; i++) printf("%s\n", kCases[i].name);
    return 0;
  }
  for (int a = 1; a < argc; a++) {
    bool known = false;
    for (size_t i = 0; i < kNumCases; i++) known = known || strcmp(argv[a], kCases[i].name) == 0;
    if (!known) {
      fprintf(stderr, "alloc_versions: unknown case '%s'\n", argv[a]);
      return 2;
    }
  }
  for (size_t i = 0; i < kNumCases; i++) {
    bool want = argc == 1;
    for (int a = 1; a < argc; a++) want = want || strcmp(argv[a], kCases[i].name) == 0;
    if (want) kCases[i].fn();
  }
  printf("alloc_versions: done\n");
  return 0;
}
