// C++ interior pointers (memcheck's leak_cpp_interior, rewritten): each
// block below is kept only through an interior pointer that one of
// memcheck's heuristics recognises, so with the default heuristics (all)
// it is "still reachable ... via heuristic", with none "possibly lost".
//   newarray            new[] of objects with a destructor: the array
//                       pointer is start + 8, after the element count
//   multipleinheritance a pointer to the second base of an object
//   length64            a block whose first 8 bytes hold (size - 8), kept
//                       through start + 8 (as sqlite does)
//   new Elem[0]         the pointer is one past the 8-byte block: lost
//   std::string members long strings owned by objects: their buffers are
//                       pointed at from the start (C++11 ABI), so they
//                       follow their owner's fate
// Blocks that are reached from the start as well are plain reachable, and
// lost ones stay lost whatever the heuristics.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

struct Elem {
  long v[3];
  Elem() { v[0] = v[1] = v[2] = 0; }
  ~Elem() { v[0] = -1; }
};

struct A {
  virtual ~A() {}
  virtual long fa() { return 1; }
  virtual long ga() { return 2; }
  long a = 10;
};
struct B {
  virtual ~B() {}
  virtual long fb() { return 3; }
  virtual long gb() { return 4; }
  long b = 20;
};
struct C : public A, public B {
  long c = 30;
  long fb() override { return 5; }
};

struct Person {
  std::string name;
  std::string address;
  Person(const char* n, const char* a) : name(n), address(a) {}
};

Elem* g_elems;          // newarray: start + 8
B* g_second_base;       // multipleinheritance: start + 16 (after A's vptr and a)
char* g_len64;          // length64: start + 8
Person* g_person;       // reachable owner: its strings are reachable
Elem* g_elems_and_start;  // new[] also pointed at from the start
void* g_start_of_elems;
Elem* g_empty;          // new Elem[0]: an 8-byte block holding the count 0,
                        // pointed at one past its end: definitely lost

static char* new_length64(size_t payload) {
  unsigned long long* p = static_cast<unsigned long long*>(malloc(8 + payload));
  p[0] = payload;
  memset(p + 1, 'x', payload);
  return reinterpret_cast<char*>(p + 1);
}

static void make_lost() {
  Person* lost = new Person("a rather long name, longer than fifteen",
                            "a rather long address, also not small");
  lost = nullptr;       // Person definitely lost, its two strings indirectly
  Elem* e = new Elem[4];
  e = nullptr;          // definitely lost, whatever the heuristics
  (void)lost;
  (void)e;
}

int main(int argc, char** argv) {
  g_elems = new Elem[5];
  g_second_base = new C;
  g_len64 = new_length64(40);
  g_person = new Person("someone with a long enough name to be on the heap",
                        "somewhere with a long enough address as well");
  g_elems_and_start = new Elem[3];
  g_start_of_elems = reinterpret_cast<char*>(g_elems_and_start) - 8;
  g_empty = new Elem[0];
  make_lost();
  std::printf("leak_cxx: %ld %ld\n", g_second_base->fb(), g_elems[1].v[0]);
  std::fflush(stdout);
  if (argc > 1 && std::strcmp(argv[1], "exit") == 0) std::exit(0);
  return 0;
}
