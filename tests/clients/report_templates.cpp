// A C++ program whose allocation stacks are full of long template names
// (std::map of std::string to std::vector of std::pair, std::unordered_map,
// std::function, a deep template of our own), for the report's layout at
// 1,280 px (tests/test_report_layout.py): frames hundreds of characters
// long must wrap or shorten, never widen the page. Also the README's
// screenshot (make screenshot): a hot std::string site, a 4 MiB peak held
// in a std::vector, a leaked object and a leaked malloc'd buffer.
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace very_long_namespace_name_for_the_layout_test {
template <typename Key, typename Value, typename Extra, int Depth>
struct NestedContainerOfThings {
  std::map<Key, std::vector<std::pair<Value, Extra>>> table;
  __attribute__((noinline)) void add(const Key& k, const Value& v, const Extra& e) {
    if constexpr (Depth > 0) {
      NestedContainerOfThings<Key, Value, Extra, Depth - 1> inner;
      inner.add(k, v, e);
      table[k].emplace_back(v, e);
    } else {
      table[k].emplace_back(v, e);
    }
  }
};
}  // namespace very_long_namespace_name_for_the_layout_test

using Words = std::unordered_map<std::string, std::vector<std::pair<std::string, long>>>;

struct Leaked {
  std::vector<int> v;
  char* raw;
};
Leaked* g_leak;

__attribute__((noinline)) std::string make_word(int i) {
  std::string s = "word-number-";
  for (int k = 0; k < 4; k++) s += std::to_string(i * 7 + k);  // the hot string site
  return s;
}

__attribute__((noinline)) void tokenize(Words& words, int n) {
  for (int i = 0; i < n; i++) words[make_word(i % 50)].emplace_back(make_word(i), i);
}

__attribute__((noinline)) long peak_buffer() {
  std::vector<long> big(512 * 1024, 1);  // 4 MiB, the peak
  long sum = 0;
  for (long x : big) sum += x;
  return sum;
}

int main() {
  using namespace very_long_namespace_name_for_the_layout_test;
  Words words;
  tokenize(words, 400);
  NestedContainerOfThings<std::string, std::vector<std::string>, std::map<int, std::string>, 3> n;
  for (int i = 0; i < 20; i++)
    n.add(make_word(i), std::vector<std::string>(3, make_word(i + 1)), {{i, make_word(i + 2)}});
  std::function<long()> f = peak_buffer;
  long s = f();
  g_leak = new Leaked{std::vector<int>(100, 1), static_cast<char*>(std::malloc(256))};
  g_leak = nullptr;  // lost
  return s == 512 * 1024 ? 0 : 1;
}
