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

#define CLEAR_REGS()                                                              \
   __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t" \
                    "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t" \
                    "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d" \
                    ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory")

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
