// Profile client, C++: sites that allocate through operator new/new[]
// (directly and inside the standard library: vector growth, string, map
// nodes, shared_ptr control blocks), for the per-site comparison with
// DHAT. Output only at the end.
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

static volatile long sink;

struct Node {
  long v[6];
  Node* next;
};

NOINLINE static Node* make_list(int n) {
  Node* head = nullptr;
  for (int i = 0; i < n; i++) {
    Node* x = new Node;
    x->v[0] = i;
    x->next = head;
    head = x;
  }
  return head;
}

NOINLINE static void free_list(Node* head) {
  while (head) {
    Node* n = head->next;
    sink += head->v[0];
    delete head;
    head = n;
  }
}

NOINLINE static double* make_array(size_t n) {
  double* a = new double[n];
  for (size_t i = 0; i < n; i++) a[i] = i * 0.5;
  return a;
}

NOINLINE static long grow_vector(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; i++) v.push_back(i);
  long s = 0;
  for (int x : v) s += x;
  return s;
}

NOINLINE static size_t build_string(int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += "abcdefghij";
  std::string t = s + s;
  return t.size();
}

NOINLINE static long fill_map(int n) {
  std::map<int, std::string> m;
  for (int i = 0; i < n; i++) m[i * 7 % n] = std::string(20 + i % 5, 'x');
  long s = 0;
  for (auto& kv : m) s += kv.first + (long)kv.second.size();
  return s;
}

NOINLINE static long shared(int n) {
  std::vector<std::shared_ptr<Node>> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(std::make_shared<Node>());
  return (long)v.size();
}

int main() {
  Node* l = make_list(50);
  double* a = make_array(300);
  sink += (long)a[299];
  delete[] a;
  sink += grow_vector(1000);
  sink += (long)build_string(40);
  sink += fill_map(60);
  sink += shared(25);
  free_list(l);
  // A leak: t-end.
  char* leak = new char[123];
  std::memset(leak, 1, 123);
  static const char msg[] = "prof_cxx: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
