// Profile client: allocation sites whose function names hold characters
// JSON must escape or that are rarely seen in a frame: a user-defined
// literal operator (its name has two double quotes), a lambda, a template
// argument with a string-like type, an anonymous namespace.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#define NOINLINE __attribute__((noinline))

NOINLINE void* operator""_bytes(unsigned long long n) { return std::malloc(n); }

namespace {
template <typename T, int N>
struct Holder {
  NOINLINE static T* make() { return static_cast<T*>(std::malloc(sizeof(T) * N)); }
};
}  // namespace

int main() {
  void* a = 40_bytes;
  std::memset(a, 0, 40);
  auto lam = [](size_t n) NOINLINE { return std::malloc(n); };
  void* b = lam(24);
  const char** c = Holder<const char*, 3>::make();
  std::free(a);
  std::free(b);
  std::free((void*)c);
  static const char msg[] = "prof_odd: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
