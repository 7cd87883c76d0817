/* Stops twice while running, so that a test can send vgdb's leak_check
   monitor command to it: at point N it creates <dir>/atN and waits (sleeping,
   so mostly blocked in a system call) until <dir>/goN exists.
     usage: leak_vgdb <dir>
   Point 1: blocks of every kind (still reachable, definitely lost with and
   without indirect blocks, possibly lost, and one that only the length64
   heuristic reaches). Point 2: more leaks at an existing site and a new
   one, and one reachable block freed, for the delta modes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wait_point.h"

struct node {
  struct node* next;
  char pad[24];
};

void* reachable_block;       /* still reachable */
struct node* reachable_list; /* still reachable, and so is its child */
char* interior;              /* 10 bytes into a block: possibly lost */
char* counted;               /* 8 bytes into a block that starts with its length - 8 */

static void leak_small(int n) {
  for (int i = 0; i < n; i++) {
    char* p = malloc(16);
    memset(p, i, 16);
  }
}

static void leak_tree(void) {
  struct node* root = calloc(1, sizeof *root);
  root->next = calloc(1, sizeof *root);
}

static void leak_big(void) {
  char* p = malloc(200);
  memset(p, 1, 200);
}

static void make_counted(void) {
  unsigned long* p = malloc(8 + 40);
  p[0] = 40;
  counted = (char*)(p + 1);
}

static void phase(int n) {
  if (n == 1) {
    reachable_block = malloc(64);
    reachable_list = calloc(1, sizeof *reachable_list);
    reachable_list->next = calloc(1, sizeof *reachable_list);
    interior = (char*)malloc(100) + 10;
    make_counted();
    leak_tree();
  } else {
    free(reachable_block);
    reachable_block = NULL;
    leak_big();
  }
  leak_small(n == 1 ? 3 : 2);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  for (int n = 1; n <= 2; n++) {
    phase(n);
    wait_at(argv[1], n);
  }
  return 0;
}
