/* Stack-pointer moves the core takes for stack switches under a small
   --max-stackframe. The core hands moves of 4-32, 112, 128, 144 and 160
   bytes to fixed-size hooks; any other move larger than --max-stackframe
   is, by its rule, a switch to another stack, and memcheck then marks
   nothing dead. Two such pops leave the only pointers to two blocks:
     short   amd64: leave from a 120-byte frame, the pointer in the red zone
             below it (a write of SP not known relative to the old one;
             the call ends the translation so that rbp is unknown at the
             leave). arm64, which has no red zone: the pointer inside a
             128-byte frame popped by mov sp, x29 after a call (the same
             unknown write, a rise of 128), then ldp x29, x30, [sp], #16
             (a fixed-size hook, over the saved x29 and x30 only)
     small   add $264, %rsp; arm64 add sp, sp, #272 (a pop of known size)
   Under the 64-byte limit small's own fall is a switch too, so memcheck
   makes nothing addressable for it: its words must land in stack that is
   addressable already, or they are invalid writes and no root. On amd64
   short's inner call marks the red zone below it (VEX's AbiHint), where
   small's words go; on arm64 short's 128-byte frame stays addressable
   (its fall is a fixed-size hook, its pop a switch), and small stores
   into it, 176 and 184 bytes above its SP, beside short's words (measured
   under qemu: with small's words at its SP, as on amd64, memcheck found
   them unaddressable and called the block lost).
   Run with --max-stackframe=64, memcheck keeps both blocks reachable
   through those stale words, and memtrack must too (it must not take for
   dead what the core does not call dead); with the default limit both
   pops are deaths and both blocks are definitely lost.

   What memtrack does (mt_instrument.cpp, add_sp_fall): it copies what
   each fall of SP covers into its dead-stack mirror, and its search skips
   stack words still equal to their copy. Rises it leaves alone. The
   falls that decide here are small's (264 or 272 bytes, a constant fall
   copied inline: it covers short's stale words) and probe()'s (over
   16 KiB, constant, copied by the stack_covered helper); a constant fall
   over --max-stackframe of a size the core has no hook for is left out
   entirely, by the core's rule, and under the 64-byte limit both are.

   Every pointer copy other than the stashed ones is kept out of reach: the
   blocks travel in globals, wipe() overwrites the stack below main with
   defined zeros after the allocations (malloc's and memset's frames keep
   copies there otherwise), and the registers are cleared. probe() then
   covers the stashed words with a frame it never writes and searches.
   warm() pops a frame by an SP write not known relative to the old one
   before the stashes; it armed an inline path for such pops in an
   earlier design, and is kept so that the program stays the same: today
   such a write gets the sp_written call, guarded by "SP falls", which a
   pop never takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

void stash_small(void *p);
void stash_short(void *p);
void warm(void);
#if defined(__x86_64__)
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
#elif defined(__aarch64__)
/* 272 for amd64's 264: SP stays 16-byte aligned. The callee's ret ends the
   translation, so the block of mov sp, x29 cannot know x29. */
__asm__(".text\n"
        ".globl stash_small\n.type stash_small,%function\nstash_small:\n"
        "  sub sp, sp, #272\n  str x0, [sp, #176]\n  str x0, [sp, #184]\n  add sp, sp, #272\n  ret\n"
        ".globl stash_short\n.type stash_short,%function\nstash_short:\n"
        "  stp x29, x30, [sp, #-16]!\n  mov x29, sp\n  sub sp, sp, #128\n"
        "  bl maxframe_nop\n  str x0, [sp, #64]\n  str x0, [sp, #72]\n"
        "  mov sp, x29\n  ldp x29, x30, [sp], #16\n  ret\n"
        ".globl warm\n.type warm,%function\nwarm:\n"
        "  stp x29, x30, [sp, #-16]!\n  mov x29, sp\n  sub sp, sp, #16\n  bl maxframe_nop\n"
        "  mov sp, x29\n  ldp x29, x30, [sp], #16\n  ret\n"
        "maxframe_nop:\n  ret\n");
#else
#error "leak_maxframe.c: amd64 or arm64 only"
#endif

static void *g_small, *g_short;

int main(void)
{
   printf("leak_maxframe: start\n");
   fflush(stdout);
   g_small = memset(malloc(40), 0, 40);
   g_short = memset(malloc(72), 0, 72);
   wipe();
   warm();
   /* short first: its frame (arm64) or the red zone its inner call marks
      (amd64) is where small's words go (above). */
   stash_short(g_short);
   g_short = NULL;
   stash_small(g_small);
   g_small = NULL;
   CLEAR_REGS();
   probe();
   return 0;
}
