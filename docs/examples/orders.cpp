// The program of the manual's tutorial (docs/manual.md, "Ten minutes with
// memtrack"): a hot std::string site, a 32 MiB peak in a std::vector, and
// two leaks, a new'd object (with what it owns) and a malloc'd buffer.
//   g++ -g -O0 -o orders orders.cpp
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct Order {
  std::string customer;
  int quantity;
  char* note;
};

// Called 100,000 times: each key is longer than std::string's inline
// buffer, so each is a heap block.
static std::string customer_key(int i) {
  std::string key = "customer-with-a-long-name-";
  key += std::to_string(i);
  return key;
}

// The peak: 4 Mi longs (32 MiB) live for a moment.
static long sort_batch(int n) {
  std::vector<long> batch(4 * 1024 * 1024);
  for (int i = 0; i < n; i++) batch[(i * 7919) % batch.size()] += i;
  return batch[7];
}

static Order* new_order(int i) {
  Order* o = new Order{customer_key(i), i, static_cast<char*>(malloc(64))};
  strcpy(o->note, "gift wrap");
  return o;
}

static void free_order(Order* o) {
  free(o->note);
  delete o;
}

int main() {
  long sum = 0;
  for (int i = 0; i < 100000; i++) sum += customer_key(i).size();
  sum += sort_batch(1000);
  free_order(new_order(1));
  Order* lost = new_order(2);  // never freed: lost with its key and note
  sum += lost->quantity;
  char* scratch = static_cast<char*>(malloc(1000));  // never freed
  scratch[0] = 1;
  return sum == 0;
}
