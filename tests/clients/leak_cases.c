/* memcheck's leak-cases matrix (memcheck/tests/leak-cases.c), rewritten:
   every block is 16 bytes, "-?->" is an interior pointer (start + 2),
   and the pointers that keep things alive are globals.

     case  chain                      memcheck says
      1    g ---> A                   A reachable
      2    g ---> A ---> B            A, B reachable
      3         A                     A definitely lost
      4         A ---> B              A definitely lost, B indirectly lost
      5    g -?-> A                   A possibly lost
      6    g -?-> A ---> B            A, B possibly lost
      7    g ---> A -?-> B            A reachable, B possibly lost
      8    g -?-> A -?-> B            A, B possibly lost
      9         A -?-> B              A definitely lost, B indirectly lost

   argv[1] == "exit" leaves through exit() instead of returning from main;
   it makes no difference here since nothing lives in main's frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct node { void *link; void *pad; } node;

static void *mk(void *link)
{
   node *n = malloc(sizeof(node));
   n->link = link;
   n->pad = NULL;
   return n;
}

void *g1, *g2, *g5, *g6, *g7, *g8;

static void make_cases(void)
{
   g1 = mk(NULL);                                   /* 1 */
   g2 = mk(mk(NULL));                               /* 2 */
   (void)mk(NULL);                                  /* 3 */
   (void)mk(mk(NULL));                              /* 4 */
   g5 = (char *)mk(NULL) + 2;                       /* 5 */
   g6 = (char *)mk(mk(NULL)) + 2;                   /* 6 */
   g7 = mk((char *)mk(NULL) + 2);                   /* 7 */
   g8 = (char *)mk((char *)mk(NULL) + 2) + 2;       /* 8 */
   (void)mk((char *)mk(NULL) + 2);                  /* 9 */
}

int main(int argc, char **argv)
{
   make_cases();
   printf("leak_cases: done\n");
   fflush(stdout);
   if (argc > 1 && strcmp(argv[1], "exit") == 0)
      exit(0);
   return 0;
}
