// Client (1), C++ part: every operator new / new[] / delete / delete[]
// (plain, nothrow, sized, std::align_val_t and their combinations). The
// client checks its own results; it prints one line per failure on stderr
// and exits 1 if anything failed, else prints
// "alloc_cxx: all checks passed" and exits 0.
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <new>
#include <string>
#include <vector>

static int failures;

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "alloc_cxx: FAILED at line %d: %s\n", __LINE__, #cond); \
      failures++;                                                             \
    }                                                                         \
  } while (0)

static bool aligned(const void* p, size_t a) { return ((uintptr_t)p % a) == 0; }

struct alignas(64) Line {
  char bytes[64];
};

struct alignas(256) Page {
  int v[100];
};

struct Counted {
  static int live;
  int v;
  Counted() : v(7) { live++; }
  ~Counted() { live--; }
};
int Counted::live = 0;

static void test_plain() {
  int* p = new int(5);
  CHECK(p != nullptr && *p == 5);
  CHECK(malloc_usable_size(p) >= sizeof(int));
  delete p;

  int* a = new int[100]();
  CHECK(a != nullptr);
  bool zero = true;
  for (int i = 0; i < 100; i++) zero = zero && a[i] == 0;
  CHECK(zero);
  delete[] a;

  // Arrays of objects with destructors (the array cookie is part of the block).
  Counted* c = new Counted[9];
  CHECK(Counted::live == 9 && c[8].v == 7);
  delete[] c;
  CHECK(Counted::live == 0);

  // operator new(0) gives distinct, freeable pointers.
  void* z1 = ::operator new(0);
  void* z2 = ::operator new(0);
  CHECK(z1 != nullptr && z2 != nullptr && z1 != z2);
  ::operator delete(z1);
  ::operator delete(z2);
  void* z3 = ::operator new[](0);
  CHECK(z3 != nullptr);
  ::operator delete[](z3);

  // Raw operator calls.
  void* r = ::operator new(300);
  CHECK(r != nullptr && malloc_usable_size(r) >= 300);
  memset(r, 1, 300);
  ::operator delete(r);
  void* rv = ::operator new[](301);
  CHECK(rv != nullptr && malloc_usable_size(rv) >= 301);
  ::operator delete[](rv);
}

static void test_nothrow() {
  int* p = new (std::nothrow) int(3);
  CHECK(p != nullptr && *p == 3);
  delete p;
  int* a = new (std::nothrow) int[50];
  CHECK(a != nullptr);
  delete[] a;
  void* r = ::operator new(123, std::nothrow);
  CHECK(r != nullptr);
  ::operator delete(r, std::nothrow);
  void* rv = ::operator new[](124, std::nothrow);
  CHECK(rv != nullptr);
  ::operator delete[](rv, std::nothrow);

  // A request that cannot be satisfied: nullptr, no exception, no abort.
  volatile size_t huge = (size_t)1 << 62;
  CHECK(::operator new(huge, std::nothrow) == nullptr);
  CHECK(::operator new[](huge, std::nothrow) == nullptr);
}

static void test_sized() {
  void* p = ::operator new(40);
  ::operator delete(p, 40);
  void* a = ::operator new[](72);
  ::operator delete[](a, 72);
  // What the compiler emits for a sized delete of an object.
  struct S {
    long x[5];
  };
  S* s = new S();
  delete s;
  CHECK(true);
}

static void test_aligned() {
  Line* l = new Line();
  CHECK(l != nullptr && aligned(l, 64));
  delete l;
  Page* pg = new Page();
  CHECK(pg != nullptr && aligned(pg, 256));
  delete pg;
  Line* ls = new Line[5];
  CHECK(ls != nullptr && aligned(ls, 64));
  delete[] ls;

  static const size_t aligns[] = {16, 32, 64, 128, 4096};
  for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
    std::align_val_t al{aligns[i]};
    void* p = ::operator new(100, al);
    CHECK(p != nullptr && aligned(p, aligns[i]));
    ::operator delete(p, al);
    p = ::operator new(100, al);
    ::operator delete(p, 100, al);  // sized + aligned
    void* a = ::operator new[](200, al);
    CHECK(a != nullptr && aligned(a, aligns[i]));
    ::operator delete[](a, al);
    a = ::operator new[](200, al);
    ::operator delete[](a, 200, al);
    void* n = ::operator new(50, al, std::nothrow);
    CHECK(n != nullptr && aligned(n, aligns[i]));
    ::operator delete(n, al, std::nothrow);
    void* nv = ::operator new[](60, al, std::nothrow);
    CHECK(nv != nullptr && aligned(nv, aligns[i]));
    ::operator delete[](nv, al, std::nothrow);
  }
  Line* nl = new (std::nothrow) Line[3];
  CHECK(nl != nullptr && aligned(nl, 64));
  delete[] nl;
}

static void test_library() {
  // The standard library goes through the same operators.
  std::vector<std::string> v;
  for (int i = 0; i < 200; i++) v.push_back(std::string(20 + i % 13, 'a' + i % 26));
  size_t total = 0;
  for (const auto& s : v) total += s.size();
  CHECK(total > 200 * 20);
  v.clear();
  v.shrink_to_fit();
  CHECK(v.capacity() == 0);
}

static const struct {
  const char* name;
  void (*fn)();
} groups[] = {
    {"plain", test_plain},     {"nothrow", test_nothrow}, {"sized", test_sized},
    {"aligned", test_aligned}, {"library", test_library},
};

// alloc_cxx [group...]: run the named groups (all without arguments);
// "alloc_cxx --list" prints the group names.
int main(int argc, char** argv) {
  const size_t n = sizeof groups / sizeof groups[0];
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < n; i++) printf("%s\n", groups[i].name);
    return 0;
  }
  int ran = 0;
  for (size_t i = 0; i < n; i++) {
    bool want = argc == 1;
    for (int a = 1; a < argc; a++)
      if (strcmp(argv[a], groups[i].name) == 0) want = true;
    if (want) {
      groups[i].fn();
      ran++;
    }
  }
  if (ran != (argc == 1 ? (int)n : argc - 1)) {
    fprintf(stderr, "alloc_cxx: unknown group in arguments\n");
    return 2;
  }
  if (failures) {
    fprintf(stderr, "alloc_cxx: %d check(s) failed\n", failures);
    return 1;
  }
  printf("alloc_cxx: all checks passed (%d groups)\n", ran);
  return 0;
}
