/* A client that misbehaves after leaking, one way per argument:
     segv     dies of SIGSEGV          abort    calls abort()
     frees    frees garbage: a wild address, a stack address, an interior
              pointer, a block twice, and reallocs a wild address
     corrupt  overwrites its own heap pointers with junk, then exits
     mmap     maps and unmaps many regions (some holding the only pointer
              to a block) and leaves a block reachable only from a mapping
     mprotect leaves the only pointers to two blocks in mappings it then
              makes read-only and inaccessible
     metadata overwrites the allocator's bookkeeping around two blocks
              (before one, past the end of the other) and frees them
   Every mode leaks the same three blocks first, so the leak report after
   the misbehaviour can be compared with memcheck's. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void* volatile keep;  /* a still-reachable block */

static void leak_some(void) {
  void* lost = malloc(100);
  (void)lost;
  char** chain = malloc(2 * sizeof(char*));
  chain[0] = malloc(40); /* indirectly lost through chain */
  chain[1] = NULL;
  chain = NULL;
  keep = malloc(24);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  leak_some();
  if (!strcmp(mode, "segv")) {
    /* raise, not a wild store: memcheck would also report the store as an
       invalid write, which memtrack (no addressability tracking) does not */
    raise(SIGSEGV);
  } else if (!strcmp(mode, "abort")) {
    abort();
  } else if (!strcmp(mode, "frees")) {
    int local = 0;
    char* p = malloc(16);
    free((void*)0x1234);
    free(&local);
    free(p + 8);
    free(p);
    free(p);
    void* q = realloc((void*)0x5678, 10);
    (void)q;
  } else if (!strcmp(mode, "corrupt")) {
    uintptr_t** table = malloc(8 * sizeof(void*));
    for (int i = 0; i < 8; i++) table[i] = malloc(32);
    for (int i = 0; i < 8; i++) table[i] = (uintptr_t*)(uintptr_t)(0xdeadbeef00ULL + i); /* lose all 8 */
    keep = table;
  } else if (!strcmp(mode, "mprotect")) {
    void** ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void** none = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ro == MAP_FAILED || none == MAP_FAILED) return 1;
    ro[0] = malloc(72);
    none[0] = malloc(88);
    mprotect(ro, 4096, PROT_READ);
    mprotect(none, 4096, PROT_NONE);
  } else if (!strcmp(mode, "metadata")) {
    char* a = malloc(32);
    char* b = malloc(32);
    memset(a - 16, 0x41, 16);
    memset(b + 32, 0x42, 24);
    free(a);
    free(b);
  } else if (!strcmp(mode, "mmap")) {
    for (int i = 0; i < 200; i++) {
      size_t len = (size_t)(i % 7 + 1) * 4096;
      void** m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) return 1;
      m[0] = malloc(8); /* the only pointer: lost when unmapped */
#if defined(__aarch64__)
      /* Not past the end of a one-page mapping (i = 21, 63, 105, 147,
         189), as amd64's line below does: under amd64 Valgrind that page
         was, at all five, inside another of these anonymous mappings;
         under arm64 Valgrind (measured under qemu) these mappings fill the
         gaps between the 64 KiB-aligned shared objects, and at i = 63 and
         105 the page past the mapping was the first text page of
         vgpreload_core and of libc. Later mappings refill it with zeros,
         and the client jumps to 0 at exit, under memcheck and memtrack
         alike. */
      if (i % 3 == 0 && 4096 * (size_t)(i % 2) < len) munmap((char*)m + 4096 * (i % 2), 4096);
#else
      if (i % 3 == 0) munmap((char*)m + 4096 * (i % 2), 4096);
#endif
      if (i % 5 == 0) munmap(m, len);
      else if (i == 199) m[1] = malloc(56); /* reachable from a live mapping */
    }
  }
  return 0;
}
