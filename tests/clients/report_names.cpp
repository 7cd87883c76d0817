/* Client for memtrack_report's tests: allocation sites whose frame strings
   hold HTML's special characters (a template: < and >, a reference
   parameter: &, a user-defined literal operator: ""), and a file name the
   test chooses (it compiles a copy named with <, >, &, " and ').
   Allocations, known by construction:
     make<Box<int> >(Box<int>&, n): 3 blocks of 1000 bytes; 2 freed, 1 lost
       (its pointer is overwritten: definitely lost, 1000 bytes in 1 block)
     operator"" _kb(n): 2_kb = 2048 bytes in 1 block, kept in a global
       (still reachable at exit)
   Total 5048 bytes in 4 blocks; at exit 3048 bytes in 2 blocks. */
#include <cstdlib>
#include <cstring>

template <typename T> struct Box { T v; };

template <typename T>
__attribute__((noinline)) void* make(T& ref, std::size_t n) {
  void* p = std::malloc(n);
  std::memset(p, ref.v, n);
  return p;
}

__attribute__((noinline)) void* operator"" _kb(unsigned long long n) {
  void* p = std::malloc(n * 1024);
  std::memset(p, 1, n * 1024);
  return p;
}

void* volatile keep;

int main() {
  Box<int> b{7};
  void* volatile q = make(b, 1000);
  std::free(q);
  q = make(b, 1000);
  std::free(q);
  q = make(b, 1000);  // lost: the pointer is overwritten below
  q = nullptr;
  keep = 2_kb;
  return 0;
}
