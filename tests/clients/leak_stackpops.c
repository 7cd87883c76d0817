/* Pointers left in popped stack frames, one for each way a frame goes,
   which take different paths through memcheck's core (the stack-pointer
   pass of m_translate.c: the fixed-size hooks for moves of 4-32, 112, 128,
   144 and 160 bytes, a generic die for other constants, and
   VG_(unknown_SP_update) for writes not known relative to the old SP) and
   through memtrack's instrumentation (mt_instrument.cpp, add_sp_fall: a
   constant fall of up to 512 bytes is copied into the dead-stack mirror
   inline, a longer one by the stack_covered helper; a write not known
   relative to the old SP gets the sp_written helper, guarded by "it
   falls", which a pop never takes; a known rise gets nothing).

     case   amd64                           arm64
     small  sub/add $264, %rsp              sub/add sp, sp, #272
     long   sub/add $4104, %rsp             sub/add sp, sp, x9 (x9 = 4112)
     leave  push %rbp; sub $512; leave      stp x29, x30, [sp, #-16]!;
                                            sub sp, sp, #512; bl; mov sp,
                                            x29; ldp x29, x30, [sp], #16
     short  push %rbp; sub $120; call;      stp x0, x0, [sp, #-32]!;
            store into the red zone; leave  ldp x9, x10, [sp], #32
     jump   longjmp (glibc's __longjmp loads SP from the jmp_buf)
   The paths each takes (read in the instrumented IR, --trace-flags=00100000,
   on both):
     small  its fall copied inline (264 / 272 bytes); a known rise (the
            core: its generic die)
     long   its fall by the stack_covered helper (4104 / 4112 bytes: one
            fall on arm64 too); a known rise
     leave  amd64: the 512-byte fall inline; rbp is known in the block, so
            the leave is a known rise. arm64: the 16- and 512-byte falls
            inline; after the call the block cannot know x29, so mov sp,
            x29 is an unknown write (the guarded sp_written call, not
            taken; the core: VG_(unknown_SP_update)), then the ldp a known
            16-byte rise (the core's fixed-size hook)
     short  amd64: push and sub one inline fall of 128; after the call the
            leave is an unknown write (sp_written, not taken). arm64: the
            stp's 32-byte fall inline, placed before its stores (VEX moves
            SP first), and a known 32-byte rise by the ldp (the core's
            fixed-size hooks both ways)
     jump   an unknown write (sp_written, not taken) on both
   arm64 has no red zone (a store below SP is an invalid write to memcheck
   there, and a signal may overwrite it), so its short case is the short
   frame arm64 code does have instead. Each case runs at its own depth
   (descend() grows the stack without writing it) and leaves the only
   pointer to its block below the stack pointer after it returns; then
   probe() covers all of them with a frame it never writes (one constant
   fall of 16,392 / 16,400 bytes: the stack_covered helper copies it into
   the mirror) and runs a leak search. memcheck sees dead stack there
   (unaddressable after each pop, undefined after probe's fall) and calls
   the five blocks definitely lost; so must memtrack, whose search skips
   the words still equal to their mirror copy. Without that the stale
   words would keep them reachable (--scrub-stack=no shows it). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

void stash_small(void *p);
void stash_long(void *p);
void stash_leave(void *p);
void stash_short(void *p);
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl stash_small\n.type stash_small,@function\nstash_small:\n"
        "  sub $264, %rsp\n  mov %rdi, (%rsp)\n  mov %rdi, 8(%rsp)\n  add $264, %rsp\n  ret\n"
        ".globl stash_long\n.type stash_long,@function\nstash_long:\n"
        "  sub $4104, %rsp\n  mov %rdi, (%rsp)\n  mov %rdi, 8(%rsp)\n  add $4104, %rsp\n  ret\n"
        ".globl stash_leave\n.type stash_leave,@function\nstash_leave:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  sub $512, %rsp\n  mov %rdi, (%rsp)\n  mov %rdi, 8(%rsp)\n"
        "  leave\n  ret\n"
        ".globl stash_short\n.type stash_short,@function\nstash_short:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  sub $120, %rsp\n"
        /* The call ends the translation: the leave's block cannot know rbp. */
        "  call stash_nop\n  mov %rdi, -64(%rsp)\n  mov %rdi, -56(%rsp)\n"
        "  leave\n  ret\n"
        "stash_nop:\n  ret\n");
#elif defined(__aarch64__)
/* SP stays 16-byte aligned (AAPCS64; Linux has the CPU fault on a
   misaligned SP used as a base), hence 272 and 4112 for 264 and 4104. */
__asm__(".text\n"
        ".globl stash_small\n.type stash_small,%function\nstash_small:\n"
        "  sub sp, sp, #272\n  str x0, [sp]\n  str x0, [sp, #8]\n  add sp, sp, #272\n  ret\n"
        ".globl stash_long\n.type stash_long,%function\nstash_long:\n"
        /* 4112 fits no add/sub immediate: from a register, as compilers do,
           so that it is one fall of SP, not two. */
        "  mov x9, #4112\n  sub sp, sp, x9\n  str x0, [sp]\n  str x0, [sp, #8]\n  add sp, sp, x9\n  ret\n"
        ".globl stash_leave\n.type stash_leave,%function\nstash_leave:\n"
        "  stp x29, x30, [sp, #-16]!\n  mov x29, sp\n  sub sp, sp, #512\n"
        "  str x0, [sp]\n  str x0, [sp, #8]\n"
        /* The callee's ret ends the translation: the block of the mov to SP
           cannot know x29. */
        "  bl stash_nop\n"
        "  mov sp, x29\n  ldp x29, x30, [sp], #16\n  ret\n"
        ".globl stash_short\n.type stash_short,%function\nstash_short:\n"
        "  stp x0, x0, [sp, #-32]!\n  ldp x9, x10, [sp], #32\n"
        "  mov x9, xzr\n  mov x10, xzr\n  ret\n"
        "stash_nop:\n  ret\n");
#else
#error "leak_stackpops.c: amd64 or arm64 only"
#endif

static jmp_buf back;

static void __attribute__((noinline)) stash_jump(void *p)
{
   volatile void *frame[64];
   int i;
   for (i = 0; i < 64; i++)
      frame[i] = p;
   longjmp(back, 1);
}

/* The block travels in globals, so that no frame on the way down keeps it. */
static void *g_block;
static void (*g_stash)(void *);

static void __attribute__((noinline)) descend(int kib)
{
   volatile char pad[1000];   /* never written */
   (void)pad;
   if (kib > 0)
      descend(kib - 1);
   else
      g_stash(g_block);
}

static void __attribute__((noinline)) run(void (*stash)(void *), size_t size, int kib)
{
   g_block = memset(malloc(size), 0, size);
   g_stash = stash;
   if (setjmp(back) == 0)
      descend(kib);
   g_block = NULL;
   CLEAR_REGS();
}

int main(void)
{
   printf("leak_stackpops: start\n");
   fflush(stdout);
   /* Deepest first: a later, shallower run pops its own frames (zeroing
      what they covered) but never reaches an earlier run's dead frames. */
   run(stash_jump, 64, 12);
   run(stash_leave, 56, 9);
   run(stash_short, 72, 9);   /* as deep as stash_leave: its frame stays above that pointer */
   run(stash_long, 48, 3);
   run(stash_small, 40, 1);
   CLEAR_REGS();
   probe();
   return 0;
}
