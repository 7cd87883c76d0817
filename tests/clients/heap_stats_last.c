/* Client (6b): makes a few allocations (leaking some), takes the heap stats
   as its very last act and prints them with write(2), which allocates
   nothing. memtrack's exit summary must then show the same Total and t-gmax
   (libc frees things at exit, but allocates nothing more there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrack.h"

int main(void) {
  char* keep[8];
  for (int i = 0; i < 8; i++) keep[i] = malloc((size_t)(i + 1) * 100);
  for (int i = 0; i < 8; i += 2) free(keep[i]);
  keep[1] = realloc(keep[1], 5000);
  char* tmp = calloc(4, 1000);
  free(tmp);

  MemtrackHeapStats st;
  memset(&st, 0, sizeof st);
  if (!MEMTRACK_GET_HEAP_STATS(&st)) {
    static const char msg[] = "not under memtrack\n";
    return write(1, msg, sizeof msg - 1) < 0 ? 2 : 0;
  }
  char buf[256];
  int n = snprintf(buf, sizeof buf,
                   "curr_bytes=%llu curr_blocks=%llu max_bytes=%llu max_blocks=%llu "
                   "total_bytes=%llu total_blocks=%llu\n",
                   st.curr_bytes, st.curr_blocks, st.max_bytes, st.max_blocks, st.total_bytes,
                   st.total_blocks);
  return write(1, buf, (size_t)n) == n ? 0 : 1;
}
