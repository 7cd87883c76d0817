/* A pointer left below SP, in the stack's red zone. On amd64 the 128
   bytes below SP are the red zone: a leaf function may keep data there
   without moving SP, and after a call or a return the ABI makes those bytes
   garbage. memcheck marks them undefined at every call and return (VEX's
   AbiHint), so a pointer left there is no root, even when a later, deeper
   frame covers the bytes without writing them: the block is definitely
   lost.

   main() writes the only pointer to a block 64 and 72 bytes below its SP,
   forgets it, clears the scratch registers, and calls uninit(), whose
   never-written buffer covers those bytes, and which runs a leak search
   from check(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

static void __attribute__((noinline)) check(void)
{
   VALGRIND_DO_LEAK_CHECK;
}

static void __attribute__((noinline)) uninit(void)
{
   volatile char buf[512];   /* never written: covers main's red zone */
   (void)buf;
   check();
}

int main(void)
{
   void *p;

   printf("leak_redzone: start\n");
   fflush(stdout);
   p = malloc(40);
   memset(p, 0, 40);
   /* Into the red zone: 64 and 72 bytes below SP. */
   __asm__ volatile("mov %0, -64(%%rsp)\n\tmov %0, -72(%%rsp)" : : "r"(p) : "memory");
   p = NULL;
   /* No register may keep p either. */
   __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
                    "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
                    "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
                    ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
   uninit();
   return 0;
}
