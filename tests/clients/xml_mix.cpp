// The XML tests' client: heap errors during the run and leaks at exit in
// one program, so that one XML file holds both (errors while RUNNING, loss
// records after FINISHED). argv[1] picks what happens:
//   mix    a stack address freed three times from one place (one context
//          counted three times), a double free, new/free, malloc(-1), then
//          a definitely lost block (owning an indirectly lost one) and a
//          still reachable one
//   clean  allocates with malloc and new and frees everything: no leaks
// Never run natively (glibc would abort on the bad frees).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

void* g_keep;  // the still reachable block

NOINLINE void free_local(void) {
  volatile int local = 1;
  free((void*)&local);
}

NOINLINE void double_free(void) {
  char* p = (char*)malloc(10);
  free(p);
  free(p);
}

NOINLINE void free_of_new(void) {
  int* p = new int(7);
  free(p);
}

NOINLINE void negative_malloc(void) {
  volatile long n = -1;
  if (malloc((size_t)n) != NULL) {
    fprintf(stderr, "xml_mix: malloc(-1) did not return NULL\n");
    exit(2);
  }
}

// A template taking a reference, so that the frames' function name,
// "void leak<void>(void*&)", holds XML's special characters.
template <typename T>
NOINLINE void leak(T*& keep) {
  void** owner = (void**)malloc(2 * sizeof(void*));
  owner[0] = malloc(24);  // indirectly lost through owner
  owner[1] = NULL;
  owner = NULL;
  keep = malloc(40);
}

NOINLINE void clean(void) {
  char* p = (char*)malloc(100);
  memset(p, 0, 100);
  int* q = new int[4];
  free(p);
  delete[] q;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "mix") == 0) {
    for (int i = 0; i < 3; i++) free_local();
    double_free();
    free_of_new();
    negative_malloc();
    leak<void>(g_keep);
  } else if (strcmp(mode, "clean") == 0) {
    clean();
  } else {
    fprintf(stderr, "usage: xml_mix mix|clean\n");
    return 2;
  }
  printf("xml_mix: done\n");
  return 0;
}
