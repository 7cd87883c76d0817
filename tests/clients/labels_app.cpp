// Client for the site labels (tests/test_labels.py): the program of issue
// 19's user, whose allocations all happen inside the standard library or
// the allocator, so that every site's first frame is someone else's code
// and its label must be the user's function that asked:
//
//   make_names   a hot std::string site: 2,000 strings built by appending
//                (each grows past the small-string buffer), kept in a list
//   sort_batch   a 32 MiB std::vector<int> (the peak), filled and sorted
//   make_widget  a Widget made with new and never deleted (definitely lost)
//   read_buffer  a malloc'd 4,096-byte buffer never freed (definitely lost)
//
// Built at -O0 by the suite (the standard library's functions are frames of
// their own, with qualified names) and at -O2 by the test (they are inlined:
// frames with unqualified names from the standard headers).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Widget {
  std::string name;
  int sizes[64];
};

static Widget* g_lost;
static char* g_lost_buf;
static volatile unsigned g_sink;

NOINLINE static std::vector<std::string> make_names() {
  std::vector<std::string> names;
  names.reserve(2000);
  for (int i = 0; i < 2000; i++) {
    std::string s;
    for (int k = 0; k < 4; k++) s += "segment-of-a-long-name-";
    s += std::to_string(i);
    names.push_back(s);
  }
  return names;
}

NOINLINE static void sort_batch() {
  std::vector<int> v;
  v.resize(32u << 20 >> 2);  // 32 MiB of int
  for (size_t i = 0; i < v.size(); i++) v[i] = (int)((i * 2654435761u) >> 7);
  std::sort(v.begin(), v.begin() + 4096);
  g_sink += (unsigned)v[17];
}

NOINLINE static void make_widget() {
  Widget* w = new Widget;
  w->name = "a widget nobody deletes, long enough for the heap";
  w->sizes[3] = 3;
  g_sink += (unsigned)w->sizes[3];
  g_lost = w;
}

NOINLINE static void read_buffer() {
  char* b = static_cast<char*>(malloc(4096));
  memset(b, 'x', 4096);
  g_sink += (unsigned char)b[100];
  g_lost_buf = b;
}

// Clears the stack below us so that no stale pointer keeps a lost block
// reachable.
NOINLINE static void scrub() {
  volatile char pad[8192];
  memset((char*)pad, 0, sizeof pad);
}

int main() {
  std::vector<std::string> names = make_names();
  g_sink += (unsigned)names[1999].size();
  sort_batch();
  make_widget();
  read_buffer();
  g_lost = nullptr;  // both leaks are now definitely lost
  g_lost_buf = nullptr;
  scrub();
  return 0;
}
