/* Profile client for the ways a program ends. It first allocates
   kept_block(111) (never freed) and freed_block(222) (freed), prints
   "ready" and then, by argv[1]:
     normal  return 0        exit3   exit(3)       _exit4  _exit(4)
     abort   abort()         segv    raise(SIGSEGV) then a bad write
     wait    pause() until a signal ends it (SIGINT / SIGTERM from the test)
   Any further arguments are ignored (used for odd command lines). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

NOINLINE static char* kept_block(size_t n) { return malloc(n); }
NOINLINE static char* freed_block(size_t n) { return malloc(n); }

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "normal";
  char* k = kept_block(111);
  memset(k, 1, 111);
  char* f = freed_block(222);
  memset(f, 2, 222);
  free(f);
  static const char ready[] = "ready\n";
  if (write(1, ready, sizeof ready - 1) < 0) return 98;
  if (strcmp(how, "exit3") == 0) exit(3);
  if (strcmp(how, "_exit4") == 0) _exit(4);
  if (strcmp(how, "abort") == 0) abort();
  if (strcmp(how, "segv") == 0) {
    raise(SIGSEGV);
    *(volatile int*)16 = 1;
  }
  if (strcmp(how, "wait") == 0)
    for (;;) pause();
  return 0;
}
