/* Threads and leaks. Every worker loses a block (100 + id bytes, all from
   lose(): one loss record of 6 blocks), and allocates one more block of
   200 + id bytes (one loss record each) that it keeps or loses:
     worker 0  keeps its block in a global
     worker 1  keeps its block in a TLS variable, then exits (joined):
               memcheck finds it lost then
     worker 2  keeps its block in a TLS variable and is still blocked when
               the process exits
     worker 3  keeps its block in a local of a frame that is still live
               (blocked) at exit
     worker 4  loses its block (a local of a frame that returned)
     worker 5  keeps its block only in a callee-saved register while it
               sleeps in a raw blocking system call (memcheck's
               reach_thread_register): reachable. amd64: r12 across
               pause. arm64 has no pause system call: x19 across ppoll
               with no descriptors and no timeout, which blocks until a
               signal as pause does (glibc's pause() is that ppoll on
               arm64, number 73).
               Either way memcheck and memtrack find the block only in
               the thread's saved registers (they scan x0-x30 on arm64);
               every other register that could hold it is zeroed first.
   argv[1] == "exit" ends the process with exit() while workers 2 and 3
   are blocked; otherwise main returns. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NW 6

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;           /* workers 2 and 3 have set up */
void *volatile g_handoff;   /* worker 5's block until it is in its register */
volatile int in_register;   /* worker 5: the block is only in the register now */
static pthread_barrier_t barrier;

void *g_kept;
static __thread void *t_kept;

static void lose(size_t n)
{
   char *p = malloc(n);
   memset(p, 1, n);
}

/* Overwrites the stack below (where malloc's frames were) and the
   argument registers. */
static void __attribute__((noinline)) wipe(void)
{
   volatile char buf[1024];
   memset((char *)buf, 0, sizeof buf);
}

static void block_forever(void)
{
   pthread_mutex_lock(&lock);
   ready++;
   pthread_cond_broadcast(&cond);
   for (;;)
      pthread_cond_wait(&cond, &lock);  /* never signalled again for us */
}

static void *worker(void *arg)
{
   long id = (long)arg;
   void *local;

   lose(100 + id);                    /* 100..104 bytes: definitely lost */
   switch (id) {
   case 0:
      g_kept = malloc(200);
      break;
   case 1:
      t_kept = malloc(201);
      break;
   case 2:
      t_kept = malloc(202);
      block_forever();
      break;
   case 3:
      local = malloc(203);
      memset(local, 3, 203);
      block_forever();
      break;
   case 4:
      local = malloc(204);
      memset(local, 4, 204);
      local = NULL;
      break;
   case 5:
      g_handoff = malloc(205);
      wipe();
      /* Move the pointer into the register, forget it, say so, and sleep
         with it there for good (until the process exits). */
#if defined(__x86_64__)
      __asm__ volatile("mov g_handoff(%%rip), %%r12\n\t"
                       "movq $0, g_handoff(%%rip)\n\t"
                       "movl $1, in_register(%%rip)\n"
                       "1:\n\t"
                       "mov $34, %%eax\n\t"      /* SYS_pause */
                       "syscall\n\t"
                       "jmp 1b"
                       ::: "r12", "rax", "rcx", "r11", "memory");
#elif defined(__aarch64__)
      /* Every caller-saved register (x0-x17) is overwritten, so that none
         keeps a copy from malloc or memset: x0-x4 and x8 with ppoll's
         number and arguments (no descriptors, no timeout, no signal
         mask), the others with zero. */
      __asm__ volatile("adrp x9, g_handoff\n\t"
                       "ldr x19, [x9, :lo12:g_handoff]\n\t"
                       "str xzr, [x9, :lo12:g_handoff]\n\t"
                       "adrp x9, in_register\n\t"
                       "mov w10, #1\n\t"
                       "str w10, [x9, :lo12:in_register]\n\t"
                       "mov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\t"
                       "mov x9, xzr\n\tmov x10, xzr\n\tmov x11, xzr\n\t"
                       "mov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\t"
                       "mov x15, xzr\n\tmov x16, xzr\n\tmov x17, xzr\n"
                       "1:\n\t"
                       "mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\t"
                       "mov x3, xzr\n\tmov x4, #8\n\t"
                       "mov x8, #73\n\t"         /* SYS_ppoll */
                       "svc #0\n\t"
                       "b 1b"
                       ::: "x19", "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8",
                           "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
                           "memory");
#else
#error "leak_threads.c: amd64 or arm64 only"
#endif
      break;
   }
   pthread_barrier_wait(&barrier);
   return NULL;
}

int main(int argc, char **argv)
{
   pthread_t t[NW];
   long i;

   pthread_barrier_init(&barrier, NULL, 4);  /* workers 0, 1, 4 and main */
   for (i = 0; i < NW; i++)
      pthread_create(&t[i], NULL, worker, (void *)i);
   pthread_barrier_wait(&barrier);
   pthread_join(t[0], NULL);
   pthread_join(t[1], NULL);
   pthread_join(t[4], NULL);
   pthread_mutex_lock(&lock);
   while (ready < 2)
      pthread_cond_wait(&cond, &lock);
   pthread_mutex_unlock(&lock);
   while (!in_register)
      sched_yield();
   printf("leak_threads: done\n");
   fflush(stdout);
   if (argc > 1 && strcmp(argv[1], "exit") == 0)
      exit(0);
   return 0;
}
