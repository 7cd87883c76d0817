/* memtrack's additions to Valgrind's malloc replacements in the preload.

   Valgrind 3.19's replacement archive turns pvalloc into "Program aborting
   because of call to pvalloc" on Linux. The build hides that one symbol of
   the archive (objcopy --localize-symbol) and this file provides pvalloc as
   glibc documents it: memalign(page size, size rounded up to whole pages),
   one page for 0. The allocation itself is done by the tool, reached
   through a client request, so it is tracked like any other block. */

#include "mt_preload.h"

extern int* __errno_location(void) __attribute__((weak));
extern int getpagesize(void) __attribute__((weak));

#define MT_ENOMEM 12

void* VG_REPLACE_FUNCTION_EZU(10190, VG_Z_LIBC_SONAME, pvalloc)(SizeT n);
void* VG_REPLACE_FUNCTION_EZU(10190, VG_Z_LIBC_SONAME, pvalloc)(SizeT n) {
  SizeT page = getpagesize ? (SizeT)getpagesize() : 4096;
  SizeT rounded = n == 0 ? page : (n + page - 1) & ~(page - 1);
  void* p;
  if (rounded < n) {
    p = 0; /* rounding overflowed */
  } else {
    p = (void*)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, _VG_USERREQ__MEMTRACK_PVALLOC, page, rounded, 0, 0, 0);
  }
  if (!p && __errno_location) *__errno_location() = MT_ENOMEM;
  return p;
}
