/* Cycles and clique merging, after memcheck/tests/leak-cycle.c: lost
   cycles of three 16-byte nodes, pairs of lost cycles linked to each other
   (one clique of six), and a cycle kept alive from a global. */
#include <stdio.h>
#include <stdlib.h>

struct n { struct n *l, *r; };

static struct n *mk(struct n *l, struct n *r)
{
   struct n *x = malloc(sizeof(*x));
   x->l = l;
   x->r = r;
   return x;
}

static struct n *mkcycle(void)
{
   struct n *a, *b, *c;
   a = mk(NULL, NULL);
   b = mk(a, NULL);
   c = mk(b, NULL);
   a->l = c;
   return a;
}

struct n *kept;

int main(void)
{
   struct n *c1, *c2;

   /* Two unlinked lost cycles: each a clique of three. */
   c1 = mkcycle();
   c2 = mkcycle();

   /* Two cycles linked both ways. */
   c1 = mkcycle();
   c2 = mkcycle();
   c1->r = c2;
   c2->r = c1;

   /* Two cycles linked one way. */
   c1 = mkcycle();
   c2 = mkcycle();
   c1->r = c2;

   /* A self-loop. */
   c1 = mk(NULL, NULL);
   c1->l = c1;

   /* A reachable cycle. */
   kept = mkcycle();

   c1 = c2 = NULL;
   printf("leak_cycle: done\n");
   return 0;
}
