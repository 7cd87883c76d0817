// Every difference between the Valgrind versions memtrack builds against
// (3.18 to 3.27 and on) lives here; the rest of the tool never tests a
// version. configure decides each API shape by compiling against the
// Valgrind in use (MT_VG_* in the tool's CPPFLAGS, see configure.ac), never
// by a distribution name; where only behaviour changed and no declaration
// tells, the release's own version macros (valgrind.h) decide.
//
//   MT_VG_SHADOW_ALLOC_SYSRES  VG_(am_shadow_alloc) returns SysRes (3.21+);
//                              before, void* or NULL.
//   MT_VG_OOM_ERRNO            VG_(out_of_memory_NORETURN) takes the
//                              failing call's errno as a third argument.
//   MT_VG_ALIGNED_ORIG_ALIGN   the aligned-allocation hooks of
//                              VG_(needs_malloc_replacement) also get the
//                              alignment the program asked for (3.22+),
//                              and memalign gets it before the size.
//   MT_VG_REALLOC_ZERO_OPTION  the core has --realloc-zero-bytes-frees
//                              (VG_(clo_realloc_zero_bytes_frees)).
//   MT_VG_VERIFY_ALIGNMENT     the preload asks the tool to check aligned
//                              allocations and sized frees through
//                              memcheck's VERIFY_ALIGNMENT request
//                              (struct AlignedAllocInfo).
//   _Static_assert             3.27's libvex headers use C11's keyword,
//                              which C++ spells static_assert.
#pragma once

// Included first by mt_vg.h: the spelling fix must precede every core header.
#if defined(__cplusplus) && !defined(_Static_assert)
#define _Static_assert static_assert
#endif

#include "pub_tool_basics.h"
extern "C" {
#include "pub_tool_aspacemgr.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_replacemalloc.h"
}

namespace mt::vgcompat {

// Maps n bytes of zeroed memory for the tool's own use; nullptr if the
// address space manager has none.
inline void* shadow_alloc(SizeT n) {
#if MT_VG_SHADOW_ALLOC_SYSRES
  SysRes r = VG_(am_shadow_alloc)(n);
  return sr_isError(r) ? nullptr : reinterpret_cast<void*>(sr_Res(r));
#else
  return VG_(am_shadow_alloc)(n);
#endif
}

[[noreturn]] inline void out_of_memory(const HChar* who, SizeT n) {
#if MT_VG_OOM_ERRNO
  VG_(out_of_memory_NORETURN)(who, n, 0);
#else
  VG_(out_of_memory_NORETURN)(who, n);
#endif
  __builtin_unreachable();
}

// realloc(p, 0): true when it frees p and returns NULL, false when it
// resizes p to one byte. The core's --realloc-zero-bytes-frees decides
// (default yes with glibc); releases before the option always freed (their
// preload called free itself).
inline bool realloc_zero_frees() {
#if MT_VG_REALLOC_ZERO_OPTION
  return VG_(clo_realloc_zero_bytes_frees);
#else
  return true;
#endif
}

}  // namespace mt::vgcompat

// The shapes of the heap hooks the core calls (VG_(needs_malloc_replacement)).
// MT_ORIG_ALIGN_PARAM adds the parameter where the core passes it;
// mt_heap.cpp defines its hooks with these so that one definition serves
// every version.
#if MT_VG_ALIGNED_ORIG_ALIGN
#define MT_ORIG_ALIGN_PARAM , SizeT orig_align
#define MT_ORIG_ALIGN_ARG(x) x
#define MT_MEMALIGN_PARAMS(tid, align, orig, n) ThreadId tid, SizeT align, SizeT orig, SizeT n
#else
#define MT_ORIG_ALIGN_PARAM
#define MT_ORIG_ALIGN_ARG(x) 0
#define MT_MEMALIGN_PARAMS(tid, align, orig, n) ThreadId tid, SizeT align, SizeT n
#endif
