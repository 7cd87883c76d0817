/* Pages the leak search cannot read. memcheck's leak-segv-jmp, without its
   definedness step (memtrack has no definedness bits), plus smaller cases
   of the same kind. The pages are made inaccessible one of two ways (the
   second argument):
     sys     mprotect(PROT_NONE): the core knows, and the search skips them
     hidden  the same system call made from the tool's side of a
             VALGRIND_NON_SIMD_CALL, as leak-segv-jmp does: the core's map
             of the address space still says readable, so reading them
             faults, and the search must catch the fault and lose no more
             than the pages that faulted.
   Modes (the first argument):
     segvjmp   leak-segv-jmp's steps, a leak search after each
     interior  a block reachable only through interior pointers (the kinds
               memcheck's heuristics look at) whose pages are inaccessible:
               possibly lost, the heuristics unable to read it
     root      a mapping (a root) whose first page holds an interior
               pointer to such a block and, after it, the only pointer to
               another block; its second page is inaccessible, its third
               holds the only pointer to a third block
     part      a reachable heap block whose middle page, made
               inaccessible, holds the only pointer to one block and whose
               last page holds the only pointer to another */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#define PAGE 4096L
#define DOWN(a) ((long)(a) & ~(PAGE - 1))

static int g_hidden;
static long g_result;

/* Runs on the real CPU (VALGRIND_NON_SIMD_CALL2): a raw system call, so
   that neither libc nor the core sees it. */
static long raw_mprotect_none(long tid, void* addr, long len) {
  long ret;
  (void)tid;
#if defined(__x86_64__)
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "0"((long)SYS_mprotect), "D"(addr), "S"(len), "d"((long)PROT_NONE)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  /* The same call with arm64's svc: the number in x8, the arguments in
     x0-x2, the result in x0. The kernel keeps every other register, so
     nothing but x0 is clobbered (amd64's syscall overwrites rcx and r11). */
  register long x0 __asm__("x0") = (long)addr;
  register long x1 __asm__("x1") = len;
  register long x2 __asm__("x2") = PROT_NONE;
  register long x8 __asm__("x8") = SYS_mprotect;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
  ret = x0;
#else
#error "leak_faults.c: amd64 or arm64 only"
#endif
  return ret;
}

static void protect_none(void* addr, long len) {
  if (g_hidden)
    g_result = VALGRIND_NON_SIMD_CALL2(raw_mprotect_none, addr, len);
  else
    g_result = mprotect(addr, len, PROT_NONE);
  if (g_result != 0) {
    fprintf(stderr, "leak_faults: mprotect failed (%ld)\n", g_result);
    exit(2);
  }
}

static void search(const char* what) {
  fprintf(stderr, "%s\n", what);
  VALGRIND_DO_LEAK_CHECK;
}

/* ---- segvjmp ---- */
static char** b10;
static char* interior_ptrs[3];

static void segvjmp(void) {
  const int nr_ptr = (10000 * 20) / sizeof(char*);
  b10 = calloc(nr_ptr * sizeof(char*), 1);
  for (int i = 0; i < nr_ptr; i++) b10[i] = (char*)b10;
  b10[4000] = malloc(1000);
  search("expecting no leaks");

  protect_none((void*)DOWN(&b10[4000]), 2 * PAGE);
  search("expecting a leak");

  protect_none((void*)DOWN(&b10[0]), DOWN(&b10[nr_ptr - 1]) - DOWN(&b10[0]));
  search("expecting a leak again after full mprotect");

  // Interior pointers only, for each heuristic to read the block's start.
  interior_ptrs[0] = calloc(nr_ptr * sizeof(char*), 1);
  interior_ptrs[2] = interior_ptrs[0] + 3 * sizeof(size_t);  // stdstring
  interior_ptrs[1] = interior_ptrs[0] + sizeof(unsigned long);  // length64
  interior_ptrs[0] += sizeof(size_t);  // newarray
  protect_none((void*)DOWN(interior_ptrs[0] - sizeof(size_t)), DOWN(nr_ptr * sizeof(char*)));
  search("expecting heuristics not to crash after full mprotect");
}

/* ---- interior ---- */
static char* g_inner[4];

static char* unreadable_block(size_t pages) {
  char* b = memalign(PAGE, pages * PAGE);
  memset(b, 0, pages * PAGE);
  ((size_t*)b)[0] = 7;  // a count, a length: something for the heuristics
  ((size_t*)b)[1] = 7;
  return b;
}

static void interior(void) {
  char* b = unreadable_block(3);
  g_inner[0] = b + sizeof(size_t);      // newarray, length64
  g_inner[1] = b + 3 * sizeof(size_t);  // stdstring
  g_inner[2] = b + 2 * PAGE + 40;       // plain interior pointer
  b = NULL;
  protect_none(g_inner[0] - sizeof(size_t), 3 * PAGE);
  search("expecting a possibly lost block");
}

/* ---- root ---- */
static void** g_root;

static void root(void) {
  char* b = unreadable_block(1);
  g_root = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_root == MAP_FAILED) exit(2);
  g_root[0] = b + sizeof(size_t);  // read by the heuristics: faults if hidden
  g_root[1] = malloc(48);          // the only pointer to it, after that one
  g_root[100] = malloc(56);        // ... and further on the same page
  g_root[PAGE / sizeof(void*) + 3] = malloc(64);      // on the page made inaccessible: lost
  g_root[2 * PAGE / sizeof(void*) + 5] = malloc(80);  // on the third page: reachable
  b = NULL;
  protect_none((char*)g_root[0] - sizeof(size_t), PAGE);
  protect_none((char*)g_root + PAGE, PAGE);
  search("expecting two blocks lost, one possibly");
}

/* ---- part ---- */
static void** g_part;

static void part(void) {
  g_part = memalign(PAGE, 3 * PAGE);
  memset(g_part, 0, 3 * PAGE);
  g_part[0] = malloc(24);                             // reachable
  g_part[PAGE / sizeof(void*) + 9] = malloc(32);      // on the middle page: lost
  g_part[2 * PAGE / sizeof(void*) + 1] = malloc(40);  // on the last page: reachable
  protect_none((char*)g_part + PAGE, PAGE);
  search("expecting the middle page's block lost");
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  g_hidden = argc > 2 && strcmp(argv[2], "hidden") == 0;
  if (!strcmp(mode, "segvjmp")) segvjmp();
  else if (!strcmp(mode, "interior")) interior();
  else if (!strcmp(mode, "root")) root();
  else if (!strcmp(mode, "part")) part();
  else {
    fprintf(stderr, "leak_faults: unknown mode '%s'\n", mode);
    return 2;
  }
  fprintf(stderr, "finished\n");
  return 0;
}
