/* Coroutines on stacks that are heap blocks (ucontext), with a data block
   between the two stacks. Coroutine 0 switches straight to coroutine 1,
   whose stack lies above: the stack pointer rises by less than
   --max-stackframe, which looks like a pop. A tool that zeroed "popped"
   stack there would wipe the data block; memtrack must leave the program's
   memory alone (the program checks it) and still report leaks as memcheck
   does. The stacks are registered (VALGRIND_STACK_REGISTER) as memcheck's
   manual asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <valgrind/valgrind.h>

#define STACK (64 * 1024)
#define ROUNDS 50

static ucontext_t main_ctx, co[2];

static int __attribute__((noinline)) deep(int n)
{
   volatile char pad[200];
   pad[0] = (char)n;
   return n ? deep(n - 1) + pad[0] : 0;
}

static void co0(void)
{
   for (int r = 0; r < ROUNDS; r++) {
      deep(20);
      swapcontext(&co[0], &co[1]);   /* up, to the other heap stack */
   }
}

static void co1(void)
{
   for (int r = 0; r < ROUNDS; r++) {
      deep(20);
      swapcontext(&co[1], &main_ctx);
   }
}

int main(void)
{
   char *stack0 = malloc(STACK);
   unsigned long *mid = malloc(4096);   /* between the two stacks */
   char *stack1 = malloc(STACK);
   unsigned long sum = 0, want = 0;

   if (!(stack0 < (char *)mid && (char *)mid < stack1)) {
      /* Order them: the test needs mid between the stacks. */
      char *lo = stack0 < stack1 ? stack0 : stack1, *hi = stack0 < stack1 ? stack1 : stack0;
      stack0 = lo;
      stack1 = hi;
   }
   for (int i = 0; i < 512; i++)
      mid[i] = 0x1000 + i;
   mid[7] = (unsigned long)malloc(24);   /* only pointer to a block */
   VALGRIND_STACK_REGISTER(stack0, stack0 + STACK);
   VALGRIND_STACK_REGISTER(stack1, stack1 + STACK);

   getcontext(&co[0]);
   co[0].uc_stack.ss_sp = stack0;
   co[0].uc_stack.ss_size = STACK;
   co[0].uc_link = &main_ctx;
   makecontext(&co[0], co0, 0);
   getcontext(&co[1]);
   co[1].uc_stack.ss_sp = stack1;
   co[1].uc_stack.ss_size = STACK;
   co[1].uc_link = &main_ctx;
   makecontext(&co[1], co1, 0);

   for (int r = 0; r < ROUNDS; r++)
      swapcontext(&main_ctx, &co[0]);

   for (int i = 0; i < 512; i++) {
      if (i == 7)
         continue;
      sum += mid[i];
      want += 0x1000 + i;
   }
   if (sum != want || mid[7] == 0) {
      printf("stack_switch: data between the stacks CHANGED\n");
      return 1;
   }
   printf("stack_switch: %s, data between the stacks intact\n",
          (char *)mid < stack1 && (char *)mid > stack0 ? "mid between" : "mid elsewhere");
   mid = NULL;   /* leaks mid, and the block only mid points to */
   return 0;
}
