/* trivialleak: a thousand 1-byte blocks lost from one place. */
#include <stdio.h>
#include <stdlib.h>

static void drop(void *p) { (void)p; }

static void leak_one(void)
{
   drop(malloc(1));
}

int main(void)
{
   int i;
   for (i = 0; i < 1000; i++)
      leak_one();
   printf("leak_trivial: done\n");
   return 0;
}
