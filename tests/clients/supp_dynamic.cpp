// Client: suppressions loaded while the program runs. memcheck's test
// nanoleak_dynsupp, widened to every error kind memtrack reports: the
// program makes one error of each kind, asks for a leak search, then loads
// argv[1] with VALGRIND_CLO_CHANGE("--suppressions=FILE") and makes the
// same errors again from other functions and leaks once more. An entry of
// the file applies from then on only: errors found before it stay reported,
// and leak records (matched at each search) are suppressed at exit.
// Never run natively (glibc would abort on the bad frees).
#include <stdio.h>
#include <stdlib.h>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#define NOINLINE __attribute__((noinline))

// C names, so that the suppression files can say fun:bad_free.
extern "C" {

NOINLINE void leak_block(size_t n) {
  void* volatile p = malloc(n);
  (void)p;
}

NOINLINE void bad_free(void) {
  int local = 1;
  free((void*)&local);  // Invalid free
}

NOINLINE void mismatch(void) {
  int* p = new int[4];
  free(p);  // Mismatched free() / delete / delete []
}

NOINLINE void fishy(void) {
  volatile long n = -7;
  if (malloc((size_t)n) != NULL) exit(2);  // fishy value
}

NOINLINE void no_pool(void) {
  static char not_a_pool[16];
  VALGRIND_MEMPOOL_ALLOC(not_a_pool, not_a_pool, 8);  // Illegal memory pool address
}

// The same errors again, from other stacks (new errors, not repeats).
NOINLINE void leak_block_later(size_t n) { leak_block(n); }
NOINLINE void bad_free_later(void) { bad_free(); }
NOINLINE void mismatch_later(void) { mismatch(); }
NOINLINE void fishy_later(void) { fishy(); }
NOINLINE void no_pool_later(void) { no_pool(); }
}  // extern "C"

int main(int argc, char** argv) {
  leak_block(100);
  bad_free();
  mismatch();
  fishy();
  no_pool();
  VALGRIND_DO_LEAK_CHECK;
  if (argc > 1) {
    char option[512];
    snprintf(option, sizeof option, "--suppressions=%s", argv[1]);
    VALGRIND_CLO_CHANGE(option);
  }
  leak_block_later(1000);
  bad_free_later();
  mismatch_later();
  fishy_later();
  no_pool_later();
  printf("supp_dynamic: done\n");
  return 0;
}
