/* For vgdb's who_points_at and block_list monitor commands: pointers to
   blocks from every place memcheck searches, and a leak tree for
   block_list. Stops twice, as leak_vgdb does: at point N it creates
   <dir>/atN and waits until <dir>/goN exists.
     usage: who_points_at <dir>
   Before point 1 it writes <dir>/addrs, one "name address size" line per
   block, so that a test can name this run's addresses in its commands.
   Point 1 holds:
     - global: a block pointed at from a global, from its start;
     - inner: a block a global points 10 bytes into (possibly lost);
     - held: a block pointed at from inside another heap block (holder);
     - stack: a block whose only pointer is a local of main's;
     - reg: a block whose only pointer is in register r12 of thread 1, and
       thread: one in r12 of thread 2 (both wait in a loop of raw system
       calls, so no other code can reuse those registers; in memory the
       pointers are kept xor-ed with a mask; on arm64 the register is
       x19, callee-saved there as r12 is on amd64);
     - counted: a global points 8 bytes into it, after its length
       (length64 and newarray heuristics), str: a global points at the
       characters of a std::string-like layout (stdstring), mi: a global
       holds an object's second base (multipleinheritance);
     - a lost tree: root -> mid1 -> leaf, root -> mid2 (definitely lost,
       with three indirectly lost blocks in separate loss records), and a
       lost block without children.
   Between the points global is freed (block_list then refuses, as the
   blocks of the last search may be gone). */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const uintptr_t kMask = 0x5a5a5a5a5a5a5a5aULL;

struct A { virtual ~A() {} long a; };
struct B { virtual ~B() {} long b; };
struct C : A, B { ~C() {} long c; };

void* global;
char* inner;
void** holder;
uintptr_t reg_masked;     /* the "reg" block, xor kMask */
uintptr_t thread_masked;  /* the "thread" block, xor kMask */
char* counted;
char* str;
B* mi;

static char dir[4000];
static char at_path[4096], go_path[4096];
static struct timespec nap = {0, 10 * 1000 * 1000};
static volatile int thread_ready;
static uintptr_t unmask_r12;  /* the masked pointer the waiting loop puts in r12 (arm64: x19) */
static volatile int* ready_flag;

/* Creates at_path, then sleeps until go_path exists, with r12 = unmask_r12
   ^ kMask throughout and the caller-saved registers cleared; sets
   *ready_flag (if not null) once r12 is set. Only system calls, so no
   code but this reads or writes r12 while the program waits. */
static void __attribute__((noinline)) wait_holding(const char* at, const char* go) {
#if defined(__x86_64__)
  __asm__ volatile(
      "mov %[masked], %%r12\n\t"
      "movabs $0x5a5a5a5a5a5a5a5a, %%rax\n\t"
      "xor %%rax, %%r12\n\t"
      "mov %[flag], %%rax\n\t"
      "test %%rax, %%rax\n\t"
      "jz 3f\n\t"
      "movl $1, (%%rax)\n\t"
      "3:\n\t"
      "xor %%edx, %%edx\n\t"
      "xor %%r8d, %%r8d\n\t"
      "xor %%r9d, %%r9d\n\t"
      "xor %%r10d, %%r10d\n\t"
      "test %[at], %[at]\n\t"
      "jz 1f\n\t"
      /* open(at, O_WRONLY | O_CREAT | O_TRUNC, 0644); close(fd) */
      "mov $2, %%eax\n\t"
      "mov %[at], %%rdi\n\t"
      "mov $0x241, %%esi\n\t"
      "mov $0x1a4, %%edx\n\t"
      "syscall\n\t"
      "mov %%rax, %%rdi\n\t"
      "mov $3, %%eax\n\t"
      "syscall\n\t"
      "xor %%edx, %%edx\n\t"
      "1:\n\t"
      /* access(go, F_OK) == 0: done */
      "mov $21, %%eax\n\t"
      "mov %[go], %%rdi\n\t"
      "xor %%esi, %%esi\n\t"
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jz 2f\n\t"
      /* nanosleep(&nap, NULL) */
      "mov $35, %%eax\n\t"
      "lea %[nap], %%rdi\n\t"
      "xor %%esi, %%esi\n\t"
      "syscall\n\t"
      "jmp 1b\n\t"
      "2:\n\t"
      "xor %%r12d, %%r12d\n\t"
      :
      : [masked] "m"(unmask_r12), [flag] "m"(ready_flag), [at] "b"(at), [go] "r"(go), [nap] "m"(nap)
      : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "memory", "cc");
#elif defined(__aarch64__)
  /* The same loop with x19 for r12. arm64 Linux has only the asm-generic
     system calls: no open, access or the amd64 numbers, so open(at, ...)
     is openat(AT_FDCWD, at, ...) (56), close is 57, access(go, F_OK) is
     faccessat(AT_FDCWD, go, F_OK) (48) and nanosleep is 101; the flags
     O_WRONLY | O_CREAT | O_TRUNC are 0x241 there too. svc takes the number
     in x8 and the arguments in x0-x3 and changes only x0 (amd64's syscall
     also overwrites rcx and r11), so every caller-saved register, x0-x18,
     is zeroed once after the mask is applied, and the calls only put their
     numbers, AT_FDCWD, flags, the paths (static buffers) and &nap there.
     at, go and &nap come in callee-saved registers (x0-x19 are clobbered,
     so the compiler cannot pick those) and point to no heap block. */
  __asm__ volatile(
      "ldr x19, %[masked]\n\t"
      "movz x9, #0x5a5a\n\t"
      "movk x9, #0x5a5a, lsl #16\n\t"
      "movk x9, #0x5a5a, lsl #32\n\t"
      "movk x9, #0x5a5a, lsl #48\n\t"
      "eor x19, x19, x9\n\t"
      "ldr x9, %[flag]\n\t"
      "cbz x9, 3f\n\t"
      "mov w10, #1\n\t"
      "str w10, [x9]\n\t"
      "3:\n\t"
      "mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\tmov x3, xzr\n\t"
      "mov x4, xzr\n\tmov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\t"
      "mov x8, xzr\n\tmov x9, xzr\n\tmov x10, xzr\n\tmov x11, xzr\n\t"
      "mov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\tmov x15, xzr\n\t"
      "mov x16, xzr\n\tmov x17, xzr\n\tmov x18, xzr\n\t"
      "cbz %[at], 1f\n\t"
      /* openat(AT_FDCWD, at, O_WRONLY | O_CREAT | O_TRUNC, 0644); close(fd) */
      "mov x0, #-100\n\t"
      "mov x1, %[at]\n\t"
      "mov x2, #0x241\n\t"
      "mov x3, #0x1a4\n\t"
      "mov x8, #56\n\t"
      "svc #0\n\t"
      "mov x8, #57\n\t"
      "svc #0\n\t"
      "mov x2, xzr\n\t"
      "mov x3, xzr\n\t"
      "1:\n\t"
      /* faccessat(AT_FDCWD, go, F_OK) == 0: done */
      "mov x0, #-100\n\t"
      "mov x1, %[go]\n\t"
      "mov x2, xzr\n\t"
      "mov x8, #48\n\t"
      "svc #0\n\t"
      "cbz x0, 2f\n\t"
      /* nanosleep(&nap, NULL) */
      "mov x0, %[nap]\n\t"
      "mov x1, xzr\n\t"
      "mov x8, #101\n\t"
      "svc #0\n\t"
      "b 1b\n\t"
      "2:\n\t"
      "mov x19, xzr\n\t"
      :
      : [masked] "m"(unmask_r12), [flag] "m"(ready_flag), [at] "r"(at), [go] "r"(go), [nap] "r"(&nap)
      : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
        "x14", "x15", "x16", "x17", "x18", "x19", "memory", "cc");
#else
#error "who_points_at.cpp: amd64 or arm64 only"
#endif
}

static char thread_go[4096];

static void* thread_main(void*) {
  /* unmask_r12 and ready_flag are set by main before it starts us and
     read at once; main waits for thread_ready before changing them. */
  wait_holding(nullptr, thread_go);
  return nullptr;
}

static void* __attribute__((noinline)) alloc_root(void) { return calloc(2, sizeof(void*)); }
static void* __attribute__((noinline)) alloc_mid1(void) { return calloc(2, sizeof(void*)); }
static void* __attribute__((noinline)) alloc_mid2(void) { return calloc(3, sizeof(void*)); }
static void* __attribute__((noinline)) alloc_leaf(void) { return calloc(5, sizeof(void*)); }
static void* __attribute__((noinline)) alloc_single(void) { return malloc(24); }

static void __attribute__((noinline)) note(FILE* f, const char* name, const void* p, size_t size) {
  fprintf(f, "%s %#lx %zu\n", name, (unsigned long)(uintptr_t)p, size);
}

/* Builds everything of point 1 and writes the addresses. The lost blocks'
   addresses leave this frame only as text. */
static void __attribute__((noinline)) build(FILE* f, void** stack_slot) {
  global = malloc(32);
  note(f, "global", global, 32);
  char* in = (char*)malloc(100);
  memset(in, 'i', 100);
  inner = in + 10;
  note(f, "inner", in, 100);
  holder = (void**)calloc(4, sizeof(void*));
  holder[2] = malloc(16);
  note(f, "holder", holder, 4 * sizeof(void*));
  note(f, "held", holder[2], 16);
  *stack_slot = malloc(48);
  note(f, "stack", *stack_slot, 48);
  void* r = malloc(40);
  note(f, "reg", r, 40);
  reg_masked = (uintptr_t)r ^ kMask;
  void* t = malloc(56);
  note(f, "thread", t, 56);
  thread_masked = (uintptr_t)t ^ kMask;
  uint64_t* c = (uint64_t*)malloc(8 + 40);
  c[0] = 40;
  counted = (char*)(c + 1);
  note(f, "counted", c, 48);
  /* length, capacity, refcount, "hello" and its NUL: 3 * 8 + 5 + 1 bytes */
  size_t* s = (size_t*)malloc(3 * sizeof(size_t) + 5 + 1);
  s[0] = 5;
  s[1] = 5;
  s[2] = 0;
  memcpy(s + 3, "hello", 6);
  str = (char*)(s + 3);
  note(f, "str", s, 3 * sizeof(size_t) + 6);
  C* obj = new C;
  mi = obj;
  note(f, "mi", obj, sizeof(C));
  void** root = (void**)alloc_root();
  void** mid1 = (void**)alloc_mid1();
  void** mid2 = (void**)alloc_mid2();
  void** leaf = (void**)alloc_leaf();
  root[0] = mid1;
  root[1] = mid2;
  mid1[1] = leaf;
  note(f, "root", root, 2 * sizeof(void*));
  note(f, "mid1", mid1, 2 * sizeof(void*));
  note(f, "mid2", mid2, 3 * sizeof(void*));
  note(f, "leaf", leaf, 5 * sizeof(void*));
  void* single = alloc_single();
  note(f, "single", single, 24);
  obj = nullptr;
  root = mid1 = mid2 = leaf = nullptr;
  r = t = single = nullptr;
  in = nullptr;
  c = nullptr;
  s = nullptr;
}

int main(int argc, char** argv) {
  if (argc != 2 || strlen(argv[1]) >= sizeof dir) return 2;
  strcpy(dir, argv[1]);
  void* volatile on_stack = nullptr;
  char path[4096];
  snprintf(path, sizeof path, "%s/addrs", dir);
  FILE* f = fopen(path, "w");
  if (!f) return 2;
  build(f, (void**)&on_stack);
  if (fclose(f) != 0) return 2;

  snprintf(thread_go, sizeof thread_go, "%s/go2", dir);
  unmask_r12 = thread_masked;
  ready_flag = &thread_ready;
  pthread_t th;
  if (pthread_create(&th, nullptr, thread_main, nullptr) != 0) return 2;
  while (!thread_ready) usleep(1000);

  unmask_r12 = reg_masked;
  ready_flag = nullptr;
  snprintf(at_path, sizeof at_path, "%s/at1", dir);
  snprintf(go_path, sizeof go_path, "%s/go1", dir);
  wait_holding(at_path, go_path);

  free(global);
  global = nullptr;
  snprintf(at_path, sizeof at_path, "%s/at2", dir);
  snprintf(go_path, sizeof go_path, "%s/go2", dir);
  wait_holding(at_path, go_path);

  pthread_join(th, nullptr);
  (void)on_stack;
  return 0;
}
