/* For clients that leave the only pointer to a block in dead stack and
   search from under a frame that covers it: wipe() overwrites 64 KiB of
   stack below its caller with defined zeros (where malloc's and memset's
   frames left copies), CLEAR_REGS() keeps registers from holding block
   addresses, and probe() runs a leak search from search(), under 16 KiB of
   frame it never writes. */
#ifndef DEAD_STACK_H
#define DEAD_STACK_H
#include <stddef.h>
#include <valgrind/memcheck.h>

#if defined(__x86_64__)
#define CLEAR_REGS()                                                              \
   __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t" \
                    "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t" \
                    "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d" \
                    ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory")
#elif defined(__aarch64__)
/* The caller-saved registers x0-x17 (arm64). */
#define CLEAR_REGS()                                                              \
   __asm__ volatile("mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\tmov x3, xzr\n\t"       \
                    "mov x4, xzr\n\tmov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\t"        \
                    "mov x8, xzr\n\tmov x9, xzr\n\tmov x10, xzr\n\tmov x11, xzr\n\t"      \
                    "mov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\tmov x15, xzr\n\t"    \
                    "mov x16, xzr\n\tmov x17, xzr"                                \
                    ::: "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9",     \
                        "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory")
#else
#error "dead_stack.h: amd64 or arm64 only"
#endif

static void __attribute__((noinline, unused)) wipe(void)
{
   volatile char buf[65536];
   for (size_t i = 0; i < sizeof buf; i++)
      buf[i] = 0;
}

static void __attribute__((noinline)) search(void)
{
   VALGRIND_DO_LEAK_CHECK;
}

static void __attribute__((noinline, unused)) probe(void)
{
   volatile char cover[16384];   /* never written: covers the dead frames */
   (void)cover;
   search();
}
#endif
