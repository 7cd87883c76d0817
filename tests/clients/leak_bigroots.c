/* Pointers kept in big anonymous mappings, which are roots of the leak
 * search. A 64 MiB private mapping holds pointers to three blocks at its
 * first word, in a page in its middle and at its last word, and is
 * otherwise never touched: the search may skip its untouched pages (they
 * read as zeros), never these. A 4 MiB shared mapping holds the only
 * pointer to a fourth block in a page only a forked child wrote: that page
 * is not present in this process, yet holds the pointer, so the search
 * must read it. A fifth block is lost.
 * With "count", a search runs (memcheck.h's request) and the program says
 * how many pages of the private mapping are present after it, read from
 * /proc/self/pagemap: a search that reads the whole mapping maps every page
 * (the kernel's zero page), one that skips untouched pages leaves them out. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#define PRIV (64u << 20)
#define SHARED (4u << 20)

void* volatile child_target; /* the fourth block, until the child has stored it */
void* volatile lost;

static long present_pages(const char* p, size_t len) {
  long page = sysconf(_SC_PAGESIZE), n = 0;
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  for (size_t off = 0; off < len; off += page) {
    uint64_t ent;
    if (pread(fd, &ent, sizeof ent, (off_t)(((uintptr_t)p + off) / page * sizeof ent)) != sizeof ent) {
      close(fd);
      return -1;
    }
    n += (ent >> 63) & 1;
  }
  close(fd);
  return n;
}

__attribute__((noinline)) static void make_child_target(void) { child_target = malloc(40); }

int main(int argc, char** argv) {
  char* priv = mmap(NULL, PRIV, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* shared = mmap(NULL, SHARED, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (priv == MAP_FAILED || shared == MAP_FAILED) return 1;
  *(void**)priv = malloc(10);                       /* first word */
  *(void**)(priv + PRIV / 2 + 24) = malloc(20);     /* a middle page */
  *(void**)(priv + PRIV - sizeof(void*)) = malloc(30); /* last word */
  make_child_target();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    *(void* volatile*)(shared + SHARED / 2 + 48) = child_target;
    /* No exit handlers. Valgrind still ends the child through its own exit
       path, whose report the tests silence (--child-silent-after-fork=yes). */
    kill(getpid(), SIGKILL);
    _exit(1);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status)) return 1;
  child_target = NULL;
  lost = malloc(50);
  lost = NULL;
  if (argc > 1 && strcmp(argv[1], "count") == 0) {
    VALGRIND_DO_LEAK_CHECK;
    printf("leak_bigroots: %ld of %ld pages of the private mapping present after a search\n",
           present_pages(priv, PRIV), (long)PRIV / sysconf(_SC_PAGESIZE));
  }
  return 0;
}
