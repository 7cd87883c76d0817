/* Chains, cycles, interior pointers and reachable blocks, with sizes that
   differ per structure so every loss record is distinct:
     g_chain    -> a chain of 8 blocks of 24 bytes        reachable
     (lost)        a chain of 6 blocks of 40 bytes        1 definite + 5 indirect
     (lost)        a cycle of 4 blocks of 56 bytes        1 definite + 3 indirect
     g_interior -> 3 bytes into a 72-byte block, which
                   heads a chain of 3 blocks of 88 bytes  possibly lost (all 4)
     g_mid      -> the middle of a chain of 5 blocks of
                   104 bytes (start pointer)              first 2 definite+indirect,
                                                          last 3 reachable
     local      -> a 120-byte block held only by main's frame
   The local is reachable if the process leaves through exit() (main's frame
   is still live) and definitely lost if main returns (memcheck's rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char payload[]; };

static struct node *chain(int n, size_t size)
{
   struct node *head = NULL;
   while (n-- > 0) {
      struct node *x = malloc(size);
      memset(x, 0, size);
      x->next = head;
      head = x;
   }
   return head;
}

void *g_chain, *g_interior, *g_mid;

static void build(void)
{
   struct node *c, *x;
   int i;

   g_chain = chain(8, 24);
   (void)chain(6, 40);

   c = chain(4, 56);
   for (x = c; x->next; x = x->next)
      ;
   x->next = c;                   /* close the cycle */

   x = malloc(72);
   memset(x, 0, 72);
   x->next = chain(3, 88);
   g_interior = (char *)x + 3;

   c = chain(5, 104);
   for (x = c, i = 0; i < 2; i++)
      x = x->next;
   g_mid = x;
   c = x = NULL;
}

int main(int argc, char **argv)
{
   void *local;

   build();
   local = malloc(120);
   memset(local, 0, 120);
   printf("leak_graph: %s\n", local ? "ok" : "no");
   fflush(stdout);
   if (argc > 1 && strcmp(argv[1], "exit") == 0)
      exit(0);
   return 0;
}
