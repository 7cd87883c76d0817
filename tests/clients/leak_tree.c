/* Trees, after memcheck/tests/leak-tree.c: a reachable tree whose subtree
   is cut off (definitely + indirectly lost), a leaf cut off on its own,
   and a whole lost tree with shared children. */
#include <stdio.h>
#include <stdlib.h>

typedef struct node { struct node *l, *r; } node;

static node *mk(void)
{
   node *x = malloc(sizeof(node));
   x->l = NULL;
   x->r = NULL;
   return x;
}

node *t;

int main(void)
{
   node *u;

   /*        t
            / \
           a   b
          / \   \
         c   d   e      */
   t = mk();
   t->l = mk();
   t->r = mk();
   t->l->l = mk();
   t->l->r = mk();
   t->r->r = mk();

   /* Cut the left subtree (a, c, d) off: a definitely lost, c d indirect. */
   t->l = NULL;
   /* Cut the leaf e off: definitely lost alone. */
   t->r->r = NULL;

   /* A lost tree of 7 whose leaves are shared by two parents. */
   u = mk();
   u->l = mk();
   u->r = mk();
   u->l->l = mk();
   u->l->r = mk();
   u->r->l = u->l->r;
   u->r->r = mk();
   u->r->r->l = mk();
   u = NULL;

   printf("leak_tree: done\n");
   return 0;
}
