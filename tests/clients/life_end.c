/* The ways a program ends, for the termination matrix (test_termination.py).
 * It first allocates kept_block(111) (reachable), lost_block(222) (lost) and
 * freed_block(333) (freed), writes "ready" on stdout, then by argv[1]:
 *   normal       return 0
 *   exit3        exit(3)
 *   _exit4       _exit(4)
 *   thread_exit5 a second thread calls exit(5) while main waits
 *   main_pexit   main calls pthread_exit; the other thread returns later
 *   abort        abort()
 *   segv         a write through a bad pointer
 *   overflow     unbounded recursion: the stack overflows (SIGSEGV)
 *   wait         pause() until a signal from outside ends it */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

NOINLINE static char* kept_block(size_t n) { return malloc(n); }
NOINLINE static char* lost_block(size_t n) { return malloc(n); }
NOINLINE static char* freed_block(size_t n) { return malloc(n); }

char* kept;
char* volatile lost;

static void* exit_from_thread(void* arg) {
  (void)arg;
  exit(5);
}

static void* outlive_main(void* arg) {
  (void)arg;
  usleep(100 * 1000);
  return NULL;
}

NOINLINE static int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = (char)depth;
  return recurse(depth + 1) + frame[0];
}

int main(int argc, char** argv) {
  const char* how = argc > 1 ? argv[1] : "normal";
  kept = kept_block(111);
  memset(kept, 1, 111);
  lost = lost_block(222);
  memset(lost, 2, 222);
  lost = NULL;
  char* f = freed_block(333);
  memset(f, 3, 333);
  free(f);
  /* No stale pointer to the freed block: memtrack reuses freed memory at
     once (memcheck holds it back), so a later block may start there. */
  f = NULL;
  static const char ready[] = "ready\n";
  if (write(1, ready, sizeof ready - 1) < 0) return 98;
  pthread_t t;
  if (strcmp(how, "exit3") == 0) exit(3);
  if (strcmp(how, "_exit4") == 0) _exit(4);
  if (strcmp(how, "thread_exit5") == 0) {
    pthread_create(&t, NULL, exit_from_thread, NULL);
    for (;;) pause();
  }
  if (strcmp(how, "main_pexit") == 0) {
    pthread_create(&t, NULL, outlive_main, NULL);
    pthread_exit(NULL);
  }
  if (strcmp(how, "abort") == 0) abort();
  if (strcmp(how, "segv") == 0) *(volatile int*)16 = 1;
  if (strcmp(how, "overflow") == 0) return recurse(0);
  if (strcmp(how, "wait") == 0)
    for (;;) pause();
  return 0;
}
