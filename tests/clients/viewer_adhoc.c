/* Client for the viewer tests (--mode=ad-hoc): DHAT_AD_HOC_EVENT requests
   from three call sites, reached through two paths, with weights that add
   up to known figures: 10 x 1 + 5 x 7 + 3 x 100 + 2 x 0 = 345 units in
   20 events. It also allocates (a heap profile of it is an ordinary one). */
#include <stdlib.h>
#include <valgrind/dhat.h>

__attribute__((noinline)) static void event(int weight) {
  DHAT_AD_HOC_EVENT(weight);
}

__attribute__((noinline)) static void small_events(int n) {
  for (int i = 0; i < n; i++) event(1);
}

__attribute__((noinline)) static void big_events(int n, int weight) {
  for (int i = 0; i < n; i++) DHAT_AD_HOC_EVENT(weight);
}

__attribute__((noinline)) static void zero_events(int n) {
  for (int i = 0; i < n; i++) DHAT_AD_HOC_EVENT(0);
}

int main(void) {
  char* p = malloc(100);
  small_events(10);
  for (int i = 0; i < 5; i++) event(7);
  big_events(3, 100);
  zero_events(2);
  p[0] = 1;
  free(p);
  return 0;
}
