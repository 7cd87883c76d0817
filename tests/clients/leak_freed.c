/* Everything freed: searches while blocks are live, after all are freed
   (memcheck says "All heap blocks were freed -- no leaks are possible" and
   prints no LEAK SUMMARY), and at exit. argv[1] == "quick" makes the
   mid-run searches summary ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

static int quick;

static void search(void)
{
   if (quick)
      VALGRIND_DO_QUICK_LEAK_CHECK;
   else
      VALGRIND_DO_LEAK_CHECK;
}

int main(int argc, char **argv)
{
   void *a, *b, *c;

   quick = argc > 1 && strcmp(argv[1], "quick") == 0;
   search();                 /* nothing allocated yet */
   a = malloc(10);
   b = calloc(3, 7);
   c = realloc(NULL, 30);
   c = realloc(c, 300);      /* 1 alloc + 1 free for memcheck */
   search();
   free(a);
   free(b);
   free(c);
   search();                 /* all freed again */
   return 0;
}
