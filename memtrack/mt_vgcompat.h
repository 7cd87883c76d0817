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
//   MT_VG_FREE_SIZED           that request knows free_sized and
//                              free_aligned_sized (3.23+).
//   MT_VG_FIRST_FNNAME         VG_(get_ExeContext_first_fnname) (3.27+),
//                              with which memcheck names the function in
//                              "realloc() with size 0" (reallocarray too).
//   MT_VG_UNSAFE_ZERO_SIZE     memcheck calls an aligned allocation of size
//                              0 "Unsafe allocation with size of zero is
//                              implementation-defined" (UnsafeZeroSize) and
//                              lets free_aligned_sized(p, a, 0) pass (3.26+;
//                              no declaration tells, valgrind.h's numbers do).
//   MT_VG_NEW_LEAK_CHECK       memcheck has the "new" delta leak search
//                              (VALGRIND_DO_NEW_LEAK_CHECK, leak_check new,
//                              3.21+) and marks records first seen in a
//                              delta search "new loss record".
//   MT_VG_XML_PROTOCOL6        the core writes XML protocol 6 (with an
//                              <error_summary>) and memcheck adds its heap
//                              and leak summaries and <all_heap_blocks_freed>
//                              (3.26+; valgrind.h's numbers).
//   kPoolFreesCounted          memcheck's "total heap usage" counts the
//                              frees of mempool chunks and of what an
//                              auto-free pool's chunk takes with it
//                              (3.27+, bug 233298; valgrind.h's numbers).
//   _Static_assert             3.27's libvex headers use C11's keyword,
//                              which C++ spells static_assert.
//   MT_VG_DHAT_STRMEM_320      DHAT's preload replaces ld.so's strncmp too
//                              (ld-linux.so.2, ld-linux-x86-64.so.2; 3.20+,
//                              bug 434764). This and the five below are for
//                              the preload (C; valgrind.h's numbers).
//   MT_VG_DHAT_STRMEM_321      ... and wmemcmp (3.21+).
//   MT_VG_DHAT_STRMEM_322      ... and wcsncpy, a copy (3.22+).
//   MT_VG_DHAT_STRMEM_323      ... and strlcpy (a copy) and strlcat (bug
//                              476780), memccpy (a copy) and wcpncpy (a
//                              copy) (3.23+).
//   MT_VG_DHAT_STRMEM_324      memccpy's copy is the bytes it copied, its
//                              stop byte included; 3.23 recorded the bytes
//                              it had not reached (3.24+, bug 486293).
//   MT_VG_DHAT_STRMEM_325      ... and __wcscat_avx2 (3.25+, bug 501893).
#pragma once

// Included first by mt_vg.h: the spelling fix must precede every core header.
#if defined(__cplusplus) && !defined(_Static_assert)
#define _Static_assert static_assert
#endif

// The preload's part (C; mt_preload.h includes this file): which of libc's
// str/mem functions DHAT's preload replaces beyond 3.19's set, by the
// release that added them. DHAT's own choice, which no declaration tells.
#include "valgrind.h"  // __VALGRIND_MAJOR__, __VALGRIND_MINOR__
#define MT_VG_AT_LEAST(maj, min)                                                \
  (__VALGRIND_MAJOR__ > (maj) || (__VALGRIND_MAJOR__ == (maj) && __VALGRIND_MINOR__ >= (min)))
#define MT_VG_DHAT_STRMEM_320 MT_VG_AT_LEAST(3, 20)
#define MT_VG_DHAT_STRMEM_321 MT_VG_AT_LEAST(3, 21)
#define MT_VG_DHAT_STRMEM_322 MT_VG_AT_LEAST(3, 22)
#define MT_VG_DHAT_STRMEM_323 MT_VG_AT_LEAST(3, 23)
#define MT_VG_DHAT_STRMEM_324 MT_VG_AT_LEAST(3, 24)
#define MT_VG_DHAT_STRMEM_325 MT_VG_AT_LEAST(3, 25)

// The rest is the tool's (C++).
#ifdef __cplusplus

#include "pub_tool_basics.h"
#include "pub_tool_vki.h"
extern "C" {
#include "pub_tool_aspacemgr.h"
#include "pub_tool_execontext.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_replacemalloc.h"
#if MT_VG_VERIFY_ALIGNMENT
#include "memcheck.h"  // the request's code
#endif
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

// What memcheck of this release reports of heap calls (tests compare with
// it). realloc(p, 0) is an error, "realloc() with size 0", which memcheck's
// --show-realloc-size-zero turns off: both came with the core's
// --realloc-zero-bytes-frees (3.21; before, the preload freed p itself).
constexpr bool kReallocSizeZeroError = MT_VG_REALLOC_ZERO_OPTION;

// The function that error names: the one in its first frame (realloc,
// reallocarray) where memcheck asks for it, else realloc.
inline const HChar* realloc_size_zero_fn(ExeContext* where) {
#if MT_VG_FIRST_FNNAME
  const HChar* fn = VG_(get_ExeContext_first_fnname)(where);
  return fn ? fn : "realloc";
#else
  (void)where;
  return "realloc";
#endif
}

// An aligned allocation of size 0: UnsafeZeroSize ("Unsafe allocation with
// size of zero is implementation-defined") from 3.26, BadSize ("memalign()
// invalid size value: 0") before, when free_aligned_sized(p, a, 0) was one
// too.
constexpr bool kUnsafeZeroSize = MT_VG_UNSAFE_ZERO_SIZE;

// The preload's check of an aligned allocation or a sized or aligned
// deallocation (memcheck's VERIFY_ALIGNMENT request, 3.22+), in memtrack's
// terms. The kinds are memcheck's AlignedAllocKind.
constexpr bool kAlignedCallsChecked = MT_VG_VERIFY_ALIGNMENT;
struct AlignedCall {
  enum Kind : UChar {
    kMemalign, kPosixMemalign, kAlignedAlloc,
    kDeleteDefault, kVecDeleteDefault, kDeleteSized, kVecDeleteSized,
    kNewAligned, kVecNewAligned, kDeleteAligned, kVecDeleteAligned,
    kDeleteSizedAligned, kVecDeleteSizedAligned, kFreeSized, kFreeAlignedSized,
  };
  Kind kind;
  SizeT align;  // as the program passed it (orig_alignment)
  SizeT size;
  Addr mem;     // the block a deallocation names
};

// True, with *out filled in, if the request arg[] is that check and its
// description is readable client memory.
inline bool aligned_call(const UWord* arg, AlignedCall* out) {
#if MT_VG_VERIFY_ALIGNMENT
  if (arg[0] != _VG_USERREQ__MEMCHECK_VERIFY_ALIGNMENT) return false;
  const Addr a = arg[1];
  if (!a || !VG_(am_is_valid_for_client)(a, sizeof(AlignedAllocInfo), VKI_PROT_READ)) return false;
  const AlignedAllocInfo* i = reinterpret_cast<const AlignedAllocInfo*>(a);
  using K = AlignedCall;
  switch (i->alloc_kind) {
    case AllocKindMemalign: out->kind = K::kMemalign; break;
    case AllocKindPosixMemalign: out->kind = K::kPosixMemalign; break;
    case AllocKindAlignedAlloc: out->kind = K::kAlignedAlloc; break;
    case AllocKindDeleteDefault: out->kind = K::kDeleteDefault; break;
    case AllocKindVecDeleteDefault: out->kind = K::kVecDeleteDefault; break;
    case AllocKindDeleteSized: out->kind = K::kDeleteSized; break;
    case AllocKindVecDeleteSized: out->kind = K::kVecDeleteSized; break;
    case AllocKindNewAligned: out->kind = K::kNewAligned; break;
    case AllocKindVecNewAligned: out->kind = K::kVecNewAligned; break;
    case AllocKindDeleteAligned: out->kind = K::kDeleteAligned; break;
    case AllocKindVecDeleteAligned: out->kind = K::kVecDeleteAligned; break;
    case AllocKindDeleteSizedAligned: out->kind = K::kDeleteSizedAligned; break;
    case AllocKindVecDeleteSizedAligned: out->kind = K::kVecDeleteSizedAligned; break;
#if MT_VG_FREE_SIZED
    case AllocKindFreeSized: out->kind = K::kFreeSized; break;
    case AllocKindFreeAlignedSized: out->kind = K::kFreeAlignedSized; break;
#endif
    default: return false;
  }
  out->align = i->orig_alignment;
  out->size = i->size;
  out->mem = reinterpret_cast<Addr>(i->mem);
  return true;
#else
  (void)arg;
  (void)out;
  return false;
#endif
}

// memcheck's "new" delta leak search and "new loss record" marker.
constexpr bool kNewLeakSearch = MT_VG_NEW_LEAK_CHECK;

// --xml=yes: protocol 6 (3.26+), whose memcheck writes the HEAP SUMMARY
// (<heap_summary>), each search's LEAK SUMMARY (<leak_summary>, numbers
// with commas and deltas as in the text) and whether a search found no
// blocks (<all_heap_blocks_freed>); protocol 4 has them in the text log
// only, and with --xml=yes not at all. (3.27's NEWS, bug 514613, fixed an
// unclosed <still_reachable>: memtrack writes 3.27's closed form.)
constexpr bool kXmlSummaries = MT_VG_XML_PROTOCOL6;

// memcheck's "total heap usage" counts as frees, from 3.27 (bug 233298,
// "MEMPOOL_FREE not reflected in heap summary"): each MEMPOOL_FREE that
// finds its chunk, each chunk a MEMPOOL_TRIM drops or clips, and each
// MALLOCLIKE or malloc'd block an auto-free pool's chunk frees. Before,
// pool chunks were counted as allocations only. DESTROY_MEMPOOL counts
// nothing in any version. No declaration tells; valgrind.h's numbers do.
constexpr bool kPoolFreesCounted = MT_VG_AT_LEAST(3, 27);

// The client arena (coregrind/m_mallocfree.c), which mt::arena_model
// simulates. The core exports none of this to tools; the placement
// algorithm and these numbers are the same in every release from 3.19 to
// 3.27, so none depends on a version today: a release that changes them
// changes them here. What the running core does tell (the client arena's
// redzone, --profile-heap's admin word, --alignment) is read from it.
namespace arena {
// VG_MIN_MALLOC_SZB on amd64: payloads are multiples of it and aligned to it;
// VG_(cli_malloc) with exactly this alignment is a plain arena malloc, any
// other is an arena memalign.
constexpr SizeT kMinMalloc = 16;
// sizeof(Superblock): its size, a pointer and padding to kMinMalloc (the
// padding is a whole kMinMalloc when the two fields already fill one).
constexpr SizeT kSuperblockHeader = 32;
// The client arena's superblocks: at least this big, and unsplittable (one
// block, unmapped when it is freed) from this size + 1 on, except those made
// for memalign.
constexpr SizeT kClientSuperblock = 4194304;
// Free lists: 112, by payload size in units of kMinMalloc; lists 0..63 hold
// one size each, lists 64..111 start at these sizes (units), growing by
// 5%, then 10%, then 20% (pszB_to_listNo_SLOW).
constexpr UInt kLists = 112;
constexpr UInt kExactLists = 64;
constexpr UInt kListStart[kLists - kExactLists] = {
    64,   67,   70,   74,   77,   81,   85,   90,   94,   99,   104,  109,  114,  120,  126,  133,
    139,  153,  169,  185,  204,  224,  247,  272,  299,  329,  362,  398,  438,  482,  530,  583,
    641,  770,  924,  1109, 1331, 1597, 1916, 2300, 2760, 3312, 3974, 4769, 5723, 6868, 8241, 9890};
// A search gives up on a list after this many blocks (moving the list's
// head one along) and tries the next list, except on the last list.
constexpr UInt kSearchesPerList = 100;
// swizzle(): after a block leaves a list, the head moves to the lowest
// address among this many blocks either side of it.
constexpr UInt kSwizzleReach = 5;
// The widest alignment VG_(arena_memalign) takes.
constexpr SizeT kMaxAlign = 16 * 1024 * 1024;
}  // namespace arena

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

#endif  // __cplusplus
