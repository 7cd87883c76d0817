/* Pointers left in popped stack frames, one for each way the stack pointer
   rises, which memtrack's stack scrubbing handles apart:
     small   add $264, %rsp          (a pop of known size, zeroed inline)
     long    add $4104, %rsp         (a pop too long to zero inline)
     leave   leave (rsp from rbp)    (a write not known relative to old SP)
     short   leave from a frame of 120 bytes, the pointer in the red zone
             below it (a short write not known relative to old SP, zeroed
             inline)
     jump    longjmp out of a deep frame
   Each runs at its own depth (descend() grows the stack without writing
   it) and leaves the only pointer to its block more than 128 bytes below
   the stack pointer after it returns (out of reach of the red-zone clears);
   then probe() covers all of them with a frame it never writes and runs a
   leak search. memcheck sees dead stack there (unaddressable, then
   undefined) and calls the four blocks definitely lost; so must memtrack.
   Without scrubbing the stale words would keep them reachable. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dead_stack.h"

void stash_small(void *p);
void stash_long(void *p);
void stash_leave(void *p);
void stash_short(void *p);
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
