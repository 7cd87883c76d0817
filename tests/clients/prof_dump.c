/* Profile client for MEMTRACK_DUMP_PROFILE: allocates, dumps a profile of
   the run so far to argv[1], prints what it had allocated by then, then
   allocates more. No stdio (its buffers would be on the heap).
   Before the dump: 100, 200 (freed), 300 and calloc(5, 8): 640 bytes in 4
   blocks, 440 in 3 live, peak 600 in 3 (before the free).
   After it: 5000 (freed) and 7 (leaked).
   With a second argument, dumps to it too (e.g. an unwritable path) and
   prints that request's result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

#define NOINLINE __attribute__((noinline))

NOINLINE static char* before(size_t n) { return malloc(n); }
NOINLINE static char* after(size_t n) { return malloc(n); }

static void say(const char* s) {
  if (write(1, s, strlen(s)) < 0) _exit(99);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char* a = before(100);
  char* b = before(200);
  char* c = before(300);
  memset(a, 1, 100);
  free(b);
  long* d = calloc(5, 8);
  d[0] = 1;
  MemtrackHeapStats st;
  int have = MEMTRACK_GET_HEAP_STATS(&st);
  int r1 = MEMTRACK_DUMP_PROFILE(argv[1]);
  int r2 = argc > 2 ? MEMTRACK_DUMP_PROFILE(argv[2]) : -1;
  char line[300];
  snprintf(line, sizeof line,
           "dump=%d dump2=%d total=640/4 live=440/3 max=600/3 "
           "stats=%d total=%llu/%llu live=%llu/%llu max=%llu/%llu\n",
           r1, r2, have, st.total_bytes, st.total_blocks, st.curr_bytes, st.curr_blocks,
           st.max_bytes, st.max_blocks);
  say(line);
  char* e = after(5000);
  memset(e, 2, 5000);
  free(e);
  after(7);
  free(a);
  free(c);
  free(d);
  return 0;
}
