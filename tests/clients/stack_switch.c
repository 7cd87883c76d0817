/* Coroutines (ucontext) on stacks the program makes itself. Coroutine 0
   switches straight to coroutine 1, whose stack lies above: the stack
   pointer rises by less than --max-stackframe, which looks like a pop. A
   tool that zeroed "popped" stack there would wipe what lies between:
   coroutine 0's own live frames, and, with heap stacks, other blocks.
   memtrack must leave the program's memory alone (the program checks a
   data block between the stacks and a local of coroutine 0 across each
   switch) and still report leaks as memcheck does.

   argv[1] picks the stacks:
     heap        two heap blocks with a data block between them, registered
                 with VALGRIND_STACK_REGISTER as memcheck's manual asks;
     heap-unreg  the same, not registered;
     mmap        two adjacent anonymous mappings, not registered (as many
                 coroutine libraries make them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int local_lost;

static void co0(void)
{
   for (int r = 0; r < ROUNDS; r++) {
      volatile unsigned long keep = 0x5eed0000UL + r;   /* in this frame */
      deep(20);
      swapcontext(&co[0], &co[1]);   /* up, to the other stack */
      if (keep != 0x5eed0000UL + r)
         local_lost = 1;
   }
}

static void co1(void)
{
   for (int r = 0; r < ROUNDS; r++) {
      deep(20);
      swapcontext(&co[1], &main_ctx);
   }
}

int main(int argc, char **argv)
{
   const char *mode = argc > 1 ? argv[1] : "heap";
   int heap = strcmp(mode, "mmap") != 0;
   char *stack0, *stack1;
   unsigned long *mid = NULL;
   unsigned long sum = 0, want = 0;

   if (heap) {
      stack0 = malloc(STACK);
      mid = malloc(4096);   /* between the two stacks */
      stack1 = malloc(STACK);
      if (!(stack0 < (char *)mid && (char *)mid < stack1)) {
         /* Order them: the test needs mid between the stacks. */
         char *lo = stack0 < stack1 ? stack0 : stack1, *hi = stack0 < stack1 ? stack1 : stack0;
         stack0 = lo;
         stack1 = hi;
      }
   } else {
      /* One mapping split in two: the stacks are adjacent for sure. */
      stack0 = mmap(NULL, 2 * STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (stack0 == MAP_FAILED)
         return 2;
      stack1 = stack0 + STACK;
      mid = malloc(4096);
   }
   for (int i = 0; i < 512; i++)
      mid[i] = 0x1000 + i;
   mid[7] = (unsigned long)malloc(24);   /* only pointer to a block */
   if (strcmp(mode, "heap") == 0) {
      VALGRIND_STACK_REGISTER(stack0, stack0 + STACK);
      VALGRIND_STACK_REGISTER(stack1, stack1 + STACK);
   }

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
   if (local_lost) {
      printf("stack_switch: a live local of coroutine 0 CHANGED\n");
      return 1;
   }
   printf("stack_switch: %s, data and live frames intact\n",
          (char *)mid < stack1 && (char *)mid > stack0 ? "mid between" : "mid elsewhere");
   mid = NULL;   /* leaks mid, and the block only mid points to */
   return 0;
}
