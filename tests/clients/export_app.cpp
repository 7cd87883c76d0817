// Client for scripts/memtrack_export (tests/test_script_export.py): a small
// C++ program whose figures are known by construction, with the shapes a
// user's program has: one function called from two lines of main (merged
// into one frame by function, split by --lines), a peak held in a
// std::vector, short-lived std::string churn, a leaked object holding a
// malloc'd buffer (definitely plus indirectly lost) and a block still
// reachable at exit. No recursion (callgrind_annotate adds a recursive
// call's cost twice; see the manual).
//
//   tokenize(n): n blocks of 48 bytes (malloc), freed         (2 calls: 5 and 7)
//   sort_batch:  a std::vector<int> of 250,000 ints (1,000,000 bytes), freed
//   leak_node:   new Node (16 bytes, definitely lost) holding a 100-byte
//                malloc'd buffer (indirectly lost)
//   keep_config: 200 bytes, still reachable at exit
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Node {
  char* buf;
  long size;
};

static void* config;
static volatile unsigned sink;

NOINLINE static void tokenize(int n) {
  void* toks[16];
  for (int i = 0; i < n; i++) {
    toks[i] = malloc(48);
    memset(toks[i], i, 48);
  }
  for (int i = 0; i < n; i++) sink += static_cast<unsigned char*>(toks[i])[0];
  for (int i = 0; i < n; i++) free(toks[i]);
}

NOINLINE static void sort_batch() {
  std::vector<int> v(250000);
  for (size_t i = 0; i < v.size(); i++) v[i] = static_cast<int>((i * 7919) % 1000);
  sink += static_cast<unsigned>(v[12345]);
}

NOINLINE static Node* leak_node() {
  Node* n = new Node;
  n->buf = static_cast<char*>(malloc(100));
  memset(n->buf, 1, 100);
  n->size = 100;
  return n;
}

NOINLINE static void keep_config() {
  config = malloc(200);
  memset(config, 0, 200);
}

int main() {
  tokenize(5);
  sort_batch();
  tokenize(7);
  std::string s;
  for (int i = 0; i < 40; i++) s += "some text that grows the string ";
  sink += static_cast<unsigned>(s.size());
  Node* n = leak_node();
  sink += static_cast<unsigned>(n->size);
  n = nullptr;  // the object and its buffer are lost
  keep_config();
  return 0;
}
