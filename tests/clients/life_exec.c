/* fork, then the child execs the program named by argv[1] (with the rest
 * of the arguments); the parent waits and allocates 4,096 bytes of its own
 * (reachable) after its child is gone. Each process prints its role and
 * pid on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void* keep;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    printf("child %d\n", (int)getpid());
    fflush(stdout);
    execv(argv[1], argv + 1);
    return 127;
  }
  int status;
  waitpid(pid, &status, 0);
  keep = malloc(4096);
  printf("parent %d\n", (int)getpid());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}
