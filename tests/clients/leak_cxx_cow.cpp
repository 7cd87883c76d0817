// The stdstring heuristic is for the old (copy-on-write) libstdc++ string,
// whose heap block is {length, capacity, refcount, chars..., '\0'} and
// which points at the characters, i.e. start + 24. Built with the old ABI.
#define _GLIBCXX_USE_CXX11_ABI 0
#include <cstdio>
#include <cstring>
#include <string>

std::string* g_owner;      // new'd: reachable from the start
std::string g_static("a static string long enough to need its own block");

static void make_lost() {
  std::string* lost = new std::string("this string object is lost, with its buffer");
  lost = nullptr;          // the object (8 bytes) definitely lost, the rep indirectly
  (void)lost;
}

int main(int argc, char** argv) {
  g_owner = new std::string("an owned string, kept through an interior pointer");
  make_lost();
  std::printf("leak_cxx_cow: %zu %zu\n", g_owner->size(), g_static.size());
  std::fflush(stdout);
  if (argc > 1 && std::strcmp(argv[1], "exit") == 0) std::exit(0);
  return 0;
}
