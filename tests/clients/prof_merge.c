/* Profile client: one call instruction that reaches two allocators (malloc
   and valloc through a function pointer). DHAT's stacks start with the
   allocator, so it has two program points; memtrack drops the allocator
   frame, so both stacks become the same and it must write one program
   point (dh_view rejects repeated stacks) holding both.
   Site "get <- main:loop 1": a 100-byte block from each allocator, one
   after the other: 200 bytes in 2 blocks, own peak 100 bytes in 1 block.
   Site "get <- main:loop 2": 7 (malloc) + 9 (valloc) bytes, leaked. */
#include <stdlib.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

typedef void* (*alloc_fn)(size_t);

NOINLINE static void* get(alloc_fn f, size_t n) { return f(n); }

int main(void) {
  alloc_fn fns[2] = {malloc, valloc};
  for (int i = 0; i < 2; i++) {
    char* p = get(fns[i], 100);
    p[0] = 1;
    free(p);
  }
  for (int i = 0; i < 2; i++) get(fns[i], 7 + 2 * i);
  static const char msg[] = "prof_merge: done\n";
  if (write(1, msg, sizeof msg - 1) < 0) return 1;
  return 0;
}
