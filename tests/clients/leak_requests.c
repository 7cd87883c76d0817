/* memcheck.h's leak client requests mid-run (memcheck's leak-delta and
   leak.h, rewritten): after each step the client runs one search and
   prints what VALGRIND_COUNT_LEAKS and VALGRIND_COUNT_LEAK_BLOCKS return.
   argv[1] picks the search for the steps: full, added, changed, quick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>

static const char *how = "full";

/* Zeroes the argument registers, where a pointer just handed around may
   linger (they are roots); search() also zeroes r10 and r11, where
   memcheck 3.24's own memset leaves the start of the block it filled
   (memtrack's preload runs glibc's), which would make mk_interior's block
   reachable under memcheck only. On arm64 clobber() zeroes x0-x5 and
   search() zeroes every other caller-saved register, x6-x18: the leak
   search scans x0-x30 there, and which of them memcheck's memset (compiled
   C) leaves the block in is its compiler's choice, so the intent of
   amd64's r10/r11 (the caller-saved registers clobber() does not reach) is
   all of them. */
static long __attribute__((noinline)) clobber(long a, long b, long c, long d, long e, long f)
{
   return a | b | c | d | e | f;
}

static void search(const char *step)
{
   unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
   unsigned long bleaked = 0, bdubious = 0, breachable = 0, bsuppressed = 0;

   clobber(0, 0, 0, 0, 0, 0);
#if defined(__x86_64__)
   __asm__ volatile("xor %%r10d, %%r10d\n\txor %%r11d, %%r11d" ::: "r10", "r11");
#elif defined(__aarch64__)
   __asm__ volatile("mov x6, xzr\n\tmov x7, xzr\n\tmov x8, xzr\n\tmov x9, xzr\n\t"
                    "mov x10, xzr\n\tmov x11, xzr\n\tmov x12, xzr\n\tmov x13, xzr\n\t"
                    "mov x14, xzr\n\tmov x15, xzr\n\tmov x16, xzr\n\tmov x17, xzr\n\t"
                    "mov x18, xzr"
                    ::: "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                        "x16", "x17", "x18");
#else
#error "leak_requests.c: amd64 or arm64 only"
#endif
   if (strcmp(how, "added") == 0)
      VALGRIND_DO_ADDED_LEAK_CHECK;
   else if (strcmp(how, "changed") == 0)
      VALGRIND_DO_CHANGED_LEAK_CHECK;
   else if (strcmp(how, "quick") == 0)
      VALGRIND_DO_QUICK_LEAK_CHECK;
   else
      VALGRIND_DO_LEAK_CHECK;
   VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
   VALGRIND_COUNT_LEAK_BLOCKS(bleaked, bdubious, breachable, bsuppressed);
   printf("%-10s leaked %lu/%lu dubious %lu/%lu reachable %lu/%lu suppressed %lu/%lu\n",
          step, leaked, bleaked, dubious, bdubious, reachable, breachable,
          suppressed, bsuppressed);
   fflush(stdout);
}

void *g[4];

static void *mk(size_t n)
{
   void *p = malloc(n);
   memset(p, 0, n);
   return p;
}

static void *mk_interior(size_t n)
{
   return (char *)mk(n) + 4;
}

static void make_pair(void)
{
   void **pair = mk(64);
   pair[0] = mk(80);
   g[3] = pair;
}

static void drop(void **slot)
{
   *slot = NULL;
}

int main(int argc, char **argv)
{
   if (argc > 1)
      how = argv[1];
   search("start");

   g[0] = mk(16);
   g[1] = mk(32);
   g[2] = mk_interior(48);
   search("allocated");     /* reachable +48/2, dubious 48/1 */

   drop(&g[0]);
   search("lost one");      /* leaked 16/1 */

   make_pair();
   search("pair");          /* reachable +144/2 */

   drop(&g[3]);
   search("lost pair");     /* leaked +144/2 (64 direct, 80 indirect) */

   free(g[1]);
   g[1] = NULL;
   search("freed one");     /* reachable -32/1 */

   g[2] = (char *)g[2] - 4;
   search("fixed");         /* dubious -> reachable */

   search("same");          /* nothing changed */
   return 0;
}
