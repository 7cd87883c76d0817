/* Found by the stress suite (seed 33): memcheck remembers which heuristic
   accepted an interior pointer even when the block does not become
   reachable through it, and counts every such block under "of which
   reachable via heuristic".

   MC has two bases; a pointer to its MB part is an interior pointer that
   the multipleinheritance heuristic accepts. roots[] is scanned in order,
   and the blocks found are scanned last found first.

     roots[0] ---> r ---> c2             (start pointer, found last)
     roots[1] -?-> p ---> c1 (MB part)   c1 stays possibly lost, tagged
                     \--> c2 (MB part)   tagged first, then reachable

   memcheck: possibly lost 16 + 40 bytes (p, c1), still reachable 16 + 40
   (r, c2), and "multipleinheritance: 80 bytes in 2 blocks", c1 included. */
#include <stdio.h>
#include <stdlib.h>

struct MA { virtual ~MA() {} long a; };
struct MB { virtual ~MB() {} long b; };
struct MC : MA, MB { long c; };

void *roots[2];

static void __attribute__((noinline)) build(void)
{
   void **r = (void **)malloc(16);
   void **p = (void **)malloc(16);
   MC *c1 = new MC, *c2 = new MC;
   p[0] = static_cast<MB *>(c1);
   p[1] = static_cast<MB *>(c2);
   r[0] = c2;
   r[1] = 0;
   roots[0] = r;
   roots[1] = (char *)p + 1;
}

/* Zeroes the dead stack where build()'s locals were. */
static void __attribute__((noinline)) wipe(void)
{
   volatile char buf[1024];
   for (unsigned i = 0; i < sizeof buf; i++)
      buf[i] = 0;
}

int main(void)
{
   build();
   wipe();
   printf("stress_heur_tag: done\n");
   return 0;
}
