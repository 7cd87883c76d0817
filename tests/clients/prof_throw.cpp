// Profile client: an uncaught C++ exception ends the program (std::terminate,
// then abort). Before it: kept_block(111) live, freed_block(222) freed.
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#define NOINLINE __attribute__((noinline))

NOINLINE static char* kept_block(size_t n) { return new char[n]; }
NOINLINE static char* freed_block(size_t n) { return new char[n]; }

NOINLINE static void fail() { throw std::runtime_error("prof_throw: uncaught on purpose"); }

int main() {
  char* k = kept_block(111);
  std::memset(k, 1, 111);
  char* f = freed_block(222);
  std::memset(f, 2, 222);
  delete[] f;
  static const char ready[] = "ready\n";
  if (write(1, ready, sizeof ready - 1) < 0) return 98;
  fail();
  return 0;
}
