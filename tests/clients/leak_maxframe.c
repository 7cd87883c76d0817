/* Stack-pointer moves the core takes for stack switches under a small
   --max-stackframe. The core hands moves of 4-32, 112, 128, 144 and 160
   bytes to fixed-size hooks; any other move larger than --max-stackframe
   is, by its rule, a switch to another stack, and memcheck then marks
   nothing dead. Two such pops leave the only pointers to two blocks:
     short   leave from a 120-byte frame, the pointer in the red zone below
             it (a write of SP not known relative to the old one; the call
             ends the translation so that rbp is unknown at the leave)
     small   add $264, %rsp (a pop of known size)
   Run with --max-stackframe=64, memcheck keeps both blocks reachable
   through those stale words, and memtrack must too (it must not zero
   what the core does not call dead); with the default limit both pops are
   deaths and both blocks are definitely lost.

   Every pointer copy other than the stashed ones is kept out of reach: the
   blocks travel in globals, wipe() overwrites the stack below main with
   defined zeros after the allocations (malloc's and memset's frames keep
   copies there otherwise), and the registers are cleared. probe() then
   covers the stashed words with a frame it never writes and searches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

void stash_small(void *p);
void stash_short(void *p);
void warm(void);
__asm__(".text\n"
        ".globl stash_small\n.type stash_small,@function\nstash_small:\n"
        "  sub $264, %rsp\n  mov %rdi, (%rsp)\n  mov %rdi, 8(%rsp)\n  add $264, %rsp\n  ret\n"
        ".globl stash_short\n.type stash_short,@function\nstash_short:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  sub $120, %rsp\n"
        "  call maxframe_nop\n  mov %rdi, -64(%rsp)\n  mov %rdi, -56(%rsp)\n"
        "  leave\n  ret\n"
        ".globl warm\n.type warm,@function\nwarm:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  sub $16, %rsp\n  call maxframe_nop\n  leave\n  ret\n"
        "maxframe_nop:\n  ret\n");

static void *g_small, *g_short;

int main(void)
{
   printf("leak_maxframe: start\n");
   fflush(stdout);
   g_small = memset(malloc(40), 0, 40);
   g_short = memset(malloc(72), 0, 72);
   wipe();
   /* A leave memtrack's helper takes for a pop (16 bytes) first, so that the
      inline path for such writes is armed, as it is in any real program. */
   warm();
   /* short first: its inner call clears the red zone where small's words go. */
   stash_short(g_short);
   g_short = NULL;
   stash_small(g_small);
   g_small = NULL;
   CLEAR_REGS();
   probe();
   return 0;
}
