/* fork: blocks from before the fork are in both processes; each then
 * allocates its own. Figures by construction:
 *   both:   100 (reachable through keep[0]) + 1000 (lost)
 *   child:  + 222 (reachable) + 333 (lost)            = 1,655 bytes in 4 blocks
 *   parent: + 4444 (reachable), after the child ended = 5,544 bytes in 3 blocks
 * Each process prints its role and pid on stdout, so that a test can tell
 * whose output file is whose. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void* keep[8];
void* volatile lost;

int main(void) {
  keep[0] = malloc(100);
  lost = malloc(1000);
  lost = 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    keep[1] = malloc(222);
    lost = malloc(333);
    lost = 0;
    printf("child %d\n", (int)getpid());
    return 0;
  }
  int status;
  waitpid(pid, &status, 0);
  keep[2] = malloc(4444);
  printf("parent %d\n", (int)getpid());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}
