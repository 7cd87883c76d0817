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
     worker 5  keeps its block only in a register (r12) while it sleeps
               in pause() (memcheck's reach_thread_register): reachable
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
void *volatile g_handoff;   /* worker 5's block until it is in r12 */
volatile int in_register;   /* worker 5: the block is only in r12 now */
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
      /* Move the pointer into r12, forget it, say so, and sleep with it
         there for good (pause() until the process exits). */
      __asm__ volatile("mov g_handoff(%%rip), %%r12\n\t"
                       "movq $0, g_handoff(%%rip)\n\t"
                       "movl $1, in_register(%%rip)\n"
                       "1:\n\t"
                       "mov $34, %%eax\n\t"      /* SYS_pause */
                       "syscall\n\t"
                       "jmp 1b"
                       ::: "r12", "rax", "rcx", "r11", "memory");
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
