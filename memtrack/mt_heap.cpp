// Heap replacement. Accounting follows DHAT so totals agree with it exactly:
// a request of 0 bytes counts as 1; realloc counts one more block of the new
// size; a shrinking realloc stays in place; calloc's zeroing is no write.
#include "mt_heap.h"
#include "mt_store.h"
#include "mt_undef.h"
#include "mt_access.h"
#include "mt_errors.h"
#include "mt_options.h"
#include "mt_sites.h"
#include "mt_fastcall.h"
#include "mt_gates.h"
#include "mt_massif.h"
#include "mt_custom.h"
#include "mt_unwind.h"
#include "mt_arena_model.h"
#include "mt_measure.h"

namespace mt::heap {

namespace {

// The leak scan trusts every word in a live block. memcheck ignores words
// its definedness bits call undefined; memtrack instead zeroes what a new
// block recycles from freed memory. Only blocks bigger than the client
// arena's 4 MiB superblocks are sure to come from fresh, zero mappings;
// those between this limit and that can reuse freed memory unfilled (a
// known gap, docs/manual.md "Recycled heap").
constexpr SizeT kZeroFillMax = 128 * 1024;
// --scrub-stack (settled: options::settle) asks for it whenever a leak
// search may run.
inline bool zero_fill() { return g_opts.scrub_stack == kScrubYes; }

// memcheck's --malloc-fill and --free-fill (mc_malloc_wrappers.c): the
// program asked for these bytes, so they replace the zero fill above.
// Blocks of custom allocators are never filled (the allocator owns their
// memory), nor is calloc's.
void malloc_fill(void* p, SizeT n) { VG_(memset)(p, g_opts.malloc_fill, n); }
inline void free_fill(Addr a, SizeT n) { store::fill_freed(a, n); }

// Which allocator family a deallocator belongs to.
AllocKind family_of(errors::FreeFn fn) {
  switch (fn) {
    case errors::kFnDelete: return kAllocNew;
    case errors::kFnDeleteVec: return kAllocNewVec;
    default: return kAllocMalloc;
  }
}

// A size with the top bit set is almost always a negative number passed by
// mistake: report it as memcheck does, then fail the call as glibc would.
bool fishy(ThreadId tid, const char* fn, const char* arg, SizeT v) {
  if ((SSizeT)v >= 0) return false;
  errors::fishy_value(tid, fn, arg, v);
  return true;
}

// Heap figures are kept in heap mode only; in copy and ad-hoc modes the
// profile counts other events, but blocks are still indexed for errors.
inline bool accounting() { return g_opts.mode == Mode::kHeap; }

// heaptrack's "temporary allocations": blocks freed with nothing allocated
// in between (here: by the freeing thread, as threads allocate
// independently). Each thread slot remembers its last allocation, the block
// record and its allocation time (a record reused for a later block has a
// later time, so a stale slot never matches); a free compares and empties
// the slot. A realloc is an allocation (of the block it returns), as a
// realloc in heaptrack's trace is a free and an allocation. Threads share a
// slot past kLastSlots (Valgrind's default --max-threads is 500): they can
// only miss temporaries then, never invent one from another thread's
// allocation, which would have to be the block freed. Cost, from the
// disassembly (gcc 12 -O2): 6 host instructions per allocation (two stores)
// and 4 per free (a load and a compare; 12 when the block is temporary),
// against a stack unwind and a site lookup already made at each allocation;
// sqlite3's test workload makes 11,206 allocations, so about 0.1 M
// instructions in all. (No whole-run count: this machine's perf has no
// hardware counters, and benchmarks were not to run.)
constexpr UInt kLastSlots = 256;
struct LastAlloc {
  const Block* b;
  ULong t;
};
LastAlloc g_last[kLastSlots];

inline void note_last_alloc(ThreadId tid, const Block* b) {
  LastAlloc& l = g_last[tid % kLastSlots];
  l.b = b;
  l.t = b->alloc_time;
}

inline void check_temporary(ThreadId tid, const Block* b) {
  LastAlloc& l = g_last[tid % kLastSlots];
  if (l.b != b || l.t != b->alloc_time) return;
  l.b = nullptr;
  b->site->tmp_bytes += b->size;
  b->site->tmp_blocks++;
}

// The site's blocks' sizes, for its per-byte counts: when a size differs
// and the site frees its counts, the access cache must not keep them.
void note_size(Site* site, SizeT size) {
  const UShort* acc = site->acc;
  sites::note_size(site, size);
  if (acc && !site->acc) access::histogram_dropped(acc);
}

// ---- heap events ------------------------------------------------------------
//
// Each of the three functions below is the one place that names who hears
// of its event, in the order they hear of it; every entry point (the
// malloc family, the frees, both paths of realloc, a MALLOCLIKE block that
// realloc moves) goes through them. A new consumer of heap events is a line
// in each (docs/design.md, "Adding a consumer of heap events"). Calls stay
// direct: these run at every malloc and free.

// Block made: a new block of req bytes (malloc & co., realloc of null or of
// a MALLOCLIKE block). usage: whether the call counts in memcheck's "total
// heap usage" (a realloc has counted itself already); zero: calloc's;
// orig_align: the alignment the program asked for, if any.
void* block_made(ThreadId tid, SizeT req, SizeT align, AllocKind kind, bool zero, bool usage = true,
                 SizeT orig_align = 0) {
  SizeT counted = req ? req : 1;
  void* p = VG_(cli_malloc)(align, counted);
  if (!p) return nullptr;
  if (arena_model::active()) arena_model::alloc(align, counted, reinterpret_cast<Addr>(p));  // massif's arena
  store::release_queued();  // memcheck's queue: after the new block got its memory
  if (zero) VG_(memset)(p, 0, counted);
  else if (g_opts.malloc_fill != kNoFill) malloc_fill(p, req);
  else if (zero_fill() && counted <= kZeroFillMax) VG_(memset)(p, 0, counted);
  if (usage) store::count_alloc(req);
  Block* b = store::make((Addr)p, counted, req == 0, sites::of(unwind::here(tid)), kind, orig_align);
  access::block_added(b);  // the heap-granule filter
  massif::on_alloc(b);
  if (accounting()) {
    sites::on_alloc(b->site, counted);
    note_size(b->site, counted);
    note_last_alloc(tid, b);
    measure::on_alloc(tid, counted);
    gates::after_alloc(tid);  // after the sites' figures it checks
  }
  return p;
}

// Block going: the program frees live block b (one a custom-allocator
// request released included); b still describes it until the store drops it.
void block_going(ThreadId tid, Block* b) {
  massif::on_free(b);
  if (accounting()) {
    check_temporary(tid, b);
    sites::on_free(b->site, b->size);
    sites::retire(b);
    measure::on_free(tid, b->size);
  }
  if (!b->released) free_fill(b->start, b->req_size());  // a released block was filled then
  store::remember_freed(tid, b);
  access::block_removed(b);
  // Words memcheck.h's requests hid in the block: the memory is no block now.
  if (undef::g_pages) undef::reveal(b->start, b->size);
  store::queue_freed(reinterpret_cast<void*>(b->start), b->req_size());  // back to the arena, or queued
  store::drop(b);
}

// Block resized: realloc of live block b to n (> 0) bytes. A shrinking
// realloc stays in place; a growing one moves (DHAT's rule), and when no
// memory is to be had the old block stays untouched and this returns null.
// DHAT counts the implied copy as a read and a write either way.
void* block_resized(ThreadId tid, Block* b, SizeT n) {
  massif::on_realloc(b, n);  // first, failed calls included, as massif's own realloc
  Site* site = b->site;
  ExeContext* here = unwind::here(tid);
  const Addr old = b->start;
  const SizeT old_size = b->size, old_req = b->req_size();
  void* to = reinterpret_cast<void*>(old);
  if (n > old_size) {
    to = VG_(cli_malloc)(VG_(clo_alignment), n);
    if (!to) return nullptr;  // old block untouched
    if (arena_model::active()) arena_model::alloc(VG_(clo_alignment), n, reinterpret_cast<Addr>(to));
    store::release_queued();
    VG_(memcpy)(to, reinterpret_cast<void*>(old), old_size);
    if (g_opts.malloc_fill != kNoFill) malloc_fill(static_cast<char*>(to) + old_req, n - old_req);
    else if (zero_fill() && n <= kZeroFillMax) VG_(memset)(static_cast<char*>(to) + old_size, 0, n - old_size);
    free_fill(old, old_req);
    store::remember_freed(tid, b, here);  // the old address is now a freed block, freed here
  } else if (n < old_req) {
    // memcheck moves the block and free-fills all of the old one; here the
    // old block's bytes past the new end are the freed ones.
    free_fill(old + n, old_req - n);
  }
  access::block_removed(b);
  if (undef::g_pages) undef::reveal(old, old_size);
  if (to != reinterpret_cast<void*>(old)) store::queue_freed(reinterpret_cast<void*>(old), old_req);
  if (accounting()) {
    site->reads += min(old_size, n);
    site->writes += min(old_size, n);
    sites::on_resize(site, old_size, n);
    measure::on_resize(tid, old_size, n);
  }
  store::resize(b, reinterpret_cast<Addr>(to), n, here);  // now a malloc'd block allocated here
  access::block_added(b);
  if (accounting()) {
    note_size(site, n);
    note_last_alloc(tid, b);
    gates::after_alloc(tid);
  }
  return to;
}

// free, delete, delete[] (and realloc(p, 0) where it frees).
void release(ThreadId tid, void* p, errors::FreeFn fn) {
  if (!p) return;
  store::count_free();  // memcheck counts every free it is handed, good or bad
  Block* b = store::at((Addr)p);
  if (!b || b->released) {
    if (!b && custom::any() && custom::free_malloclike(tid, (Addr)p, fn)) return;
    // Not the start of a live block: report it and leave memory alone.
    errors::bad_free(tid, (Addr)p, fn, custom::describe((Addr)p));
    if (!b) return;
    // Released by a custom-allocator request: memcheck's error is out, and
    // the block goes now, where DHAT frees it.
  } else if (g_opts.show_mismatched_frees && b->alloc_kind() != family_of(fn)) {
    errors::mismatched_free(tid, b, fn);
  }
  block_going(tid, b);
}

// ---- the entry points the preload reaches ---------------------------------

void* mt_malloc(ThreadId tid, SizeT n) {
  if (fishy(tid, "malloc", "size", n)) return nullptr;
  return block_made(tid, n, VG_(clo_alignment), kAllocMalloc, false);
}
void* mt_new(ThreadId tid, SizeT n) {
  if (fishy(tid, "__builtin_new", "size", n)) return nullptr;
  return block_made(tid, n, VG_(clo_alignment), kAllocNew, false);
}
void* mt_new_aligned(ThreadId tid, SizeT n, SizeT align MT_ORIG_ALIGN_PARAM) {
  if (fishy(tid, "__builtin_new_aligned", "size", n)) return nullptr;
  return block_made(tid, n, align, kAllocNew, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}
void* mt_vec_new(ThreadId tid, SizeT n) {
  if (fishy(tid, "__builtin_vec_new", "size", n)) return nullptr;
  return block_made(tid, n, VG_(clo_alignment), kAllocNewVec, false);
}
void* mt_vec_new_aligned(ThreadId tid, SizeT n, SizeT align MT_ORIG_ALIGN_PARAM) {
  if (fishy(tid, "__builtin_vec_new_aligned", "size", n)) return nullptr;
  return block_made(tid, n, align, kAllocNewVec, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}
void* mt_memalign(MT_MEMALIGN_PARAMS(tid, align, orig_align, n)) {
  if (fishy(tid, "memalign", "size", n)) return nullptr;
  return block_made(tid, n, align, kAllocMalloc, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}

void* mt_calloc(ThreadId tid, SizeT nmemb, SizeT size1) {
  if (fishy(tid, "calloc", "nmemb", nmemb) || fishy(tid, "calloc", "size", size1)) return nullptr;
  // The preload already refuses products that overflow; check again anyway.
  if (size1 && nmemb > ~(SizeT)0 / size1) return nullptr;
  return block_made(tid, nmemb * size1, VG_(clo_alignment), kAllocMalloc, true);
}

void mt_free(ThreadId tid, void* p) { release(tid, p, errors::kFnFree); }
void mt_delete(ThreadId tid, void* p) { release(tid, p, errors::kFnDelete); }
void mt_delete_aligned(ThreadId tid, void* p, SizeT) { release(tid, p, errors::kFnDelete); }
void mt_vec_delete(ThreadId tid, void* p) { release(tid, p, errors::kFnDeleteVec); }
void mt_vec_delete_aligned(ThreadId tid, void* p, SizeT) { release(tid, p, errors::kFnDeleteVec); }

void* mt_realloc(ThreadId tid, void* p_old, SizeT n) {
  // memcheck's order: a fishy size fails the call first (old block
  // untouched, as glibc), whatever p_old is. realloc(NULL, n) is malloc;
  // realloc(p, 0) is an error where memcheck makes it one, and frees p or
  // resizes it to one byte as the Valgrind in use says (its
  // --realloc-zero-bytes-frees). (Before 3.21 the preload handled both
  // itself, with malloc and free.)
  if (fishy(tid, "realloc", "size", n)) return nullptr;
  if (!p_old) return block_made(tid, n, VG_(clo_alignment), kAllocMalloc, false);
  if (n == 0) {
    if (vgcompat::kReallocSizeZeroError && g_opts.show_realloc_size_zero)
      errors::realloc_size_zero(tid, (Addr)p_old);
    if (vgcompat::realloc_zero_frees()) {
      mt_free(tid, p_old);
      return nullptr;
    }
    n = 1;
  }

  // The call counts as one alloc and one free, whether or not p_old turns
  // out to be a live block.
  store::count_alloc(n);
  store::count_free();
  Block* b = store::at((Addr)p_old);
  SizeT custom_size;
  if (!b && custom::any() && custom::realloc_malloclike(tid, (Addr)p_old, &custom_size)) {
    // memcheck moves a MALLOCLIKE block into a new malloc'd one.
    void* p_new = block_made(tid, n, VG_(clo_alignment), kAllocMalloc, false, false);
    if (p_new) {
      VG_(memcpy)(p_new, p_old, min(custom_size, n));
      // memcheck's realloc fills any old block; this one is wherever the
      // program declared it, maybe read-only.
      if (VG_(am_is_valid_for_client)((Addr)p_old, custom_size, VKI_PROT_WRITE)) free_fill((Addr)p_old, custom_size);
    }
    return p_new;
  }
  if (!b || b->released) {
    errors::bad_free(tid, (Addr)p_old, errors::kFnRealloc, custom::describe((Addr)p_old));
    return nullptr;
  }
  if (g_opts.show_mismatched_frees && b->alloc_kind() != kAllocMalloc)
    errors::mismatched_free(tid, b, errors::kFnRealloc);
  return block_resized(tid, b, n);
}

SizeT mt_usable_size(ThreadId tid, void* p) {
  Block* b = store::at((Addr)p);
  return b ? b->size : 0;
}

}  // namespace

void register_with_core() {
  VG_(needs_malloc_replacement)(mt_malloc, mt_new, mt_new_aligned, mt_vec_new, mt_vec_new_aligned,
                                mt_memalign, mt_calloc, mt_free, mt_delete, mt_delete_aligned,
                                mt_vec_delete, mt_vec_delete_aligned, mt_realloc, mt_usable_size,
                                0 /*no redzones: we do not detect overruns*/);
  const void* fns[] = {
      reinterpret_cast<const void*>(&mt_malloc),          reinterpret_cast<const void*>(&mt_new),
      reinterpret_cast<const void*>(&mt_new_aligned),     reinterpret_cast<const void*>(&mt_vec_new),
      reinterpret_cast<const void*>(&mt_vec_new_aligned), reinterpret_cast<const void*>(&mt_memalign),
      reinterpret_cast<const void*>(&mt_calloc),          reinterpret_cast<const void*>(&mt_free),
      reinterpret_cast<const void*>(&mt_delete),          reinterpret_cast<const void*>(&mt_delete_aligned),
      reinterpret_cast<const void*>(&mt_vec_delete),      reinterpret_cast<const void*>(&mt_vec_delete_aligned),
      reinterpret_cast<const void*>(&mt_realloc),         reinterpret_cast<const void*>(&mt_usable_size)};
  for (const void* f : fns) fastcall::allow(f);
}

void* memalign(ThreadId tid, SizeT align, SizeT n) {
  if (fishy(tid, "memalign", "size", n)) return nullptr;
  return block_made(tid, n, align, kAllocMalloc, false);
}

namespace {

// The block a deallocation names, as memcheck finds it (its malloc_list):
// a live malloc'd or MALLOCLIKE block starting at a, and the alignment it
// was asked for.
bool block_at(Addr a, errors::Known* k, SizeT* align) {
  if (!a) return false;
  Block* b = store::at(a);
  if (b && !b->released) {
    *k = {errors::Known::kLive, b->start, b->req_size(), store::alloc_context(b), nullptr};
    *align = store::alignment(b);
    return true;
  }
  if (custom::any() && custom::describe_malloclike(a, k) && k->start == a) {
    k->recycled = false;
    *align = 0;
    return true;
  }
  return false;
}

// memcheck's test: zero passes.
bool pow2(SizeT a) { return (a & (a - 1)) == 0; }

}  // namespace

void check_aligned_call(ThreadId tid, const vgcompat::AlignedCall& c) {
  using K = vgcompat::AlignedCall;
  const SizeT a = c.align, n = c.size;
  errors::Known k = {errors::Known::kNothing, 0, 0, nullptr, nullptr};
  SizeT block_align = 0;
  const bool found = block_at(c.mem, &k, &block_align);
  // In memcheck's order, with its words (mc_main.c, VERIFY_ALIGNMENT).
  const char* const kNewWhy = " (should be non-zero and a power of 2)";
  const char* const kPow2Why = " (should be a power of 2)";
  const char* const kMultipleWhy = " (size should be a multiple of alignment)";
  const char* pair = "new/delete";
  switch (c.kind) {
    case K::kMemalign:
      if (a == 0 || !pow2(a)) errors::bad_alignment(tid, a, 0, " (should be power of 2)");
      if (n == 0) errors::zero_size(tid, "memalign()");
      break;
    case K::kPosixMemalign:
      if (a < sizeof(SizeT) || !pow2(a))
        errors::bad_alignment(tid, a, 0, " (should be non-zero, a power of 2 and a multiple of sizeof(void*))");
      if (n == 0) errors::zero_size(tid, "posix_memalign()");
      break;
    case K::kAlignedAlloc:
      if (!pow2(a)) errors::bad_alignment(tid, a, 0, kPow2Why);
      if (a && n % a != 0) errors::bad_alignment(tid, a, n, kMultipleWhy);
      if (n == 0) errors::zero_size(tid, "aligned_alloc()");
      break;
    case K::kNewAligned:
    case K::kVecNewAligned:
      if (a == 0 || !pow2(a)) errors::bad_alignment(tid, a, 0, kNewWhy);
      break;
    case K::kVecDeleteSized:
      pair = "new[][/delete[]";  // sic
      [[fallthrough]];
    case K::kDeleteSized:
      if (found && k.size != n) errors::size_mismatch(tid, k, n, pair);
      break;
    case K::kFreeSized:
      if (found && k.size != n) errors::size_mismatch(tid, k, n, "aligned_alloc/free_sized");
      break;
    case K::kFreeAlignedSized:
      if (!pow2(a)) errors::bad_alignment(tid, a, 0, kPow2Why);
      if (a && n % a != 0) errors::bad_alignment(tid, a, n, kMultipleWhy);
      if (n == 0 && !vgcompat::kUnsafeZeroSize) errors::zero_size(tid, "free_aligned_sized()");
      if (found && a != block_align)
        errors::align_mismatch(tid, k, block_align, a, false, "aligned_alloc/free_aligned_sized");
      if (found && k.size != n) errors::size_mismatch(tid, k, n, "aligned_alloc/free_aligned_sized");
      break;
    case K::kVecDeleteDefault:
      pair = "new[]/delete[]";
      [[fallthrough]];
    case K::kDeleteDefault:
      if (found && block_align) errors::align_mismatch(tid, k, block_align, 0, true, pair);
      break;
    case K::kVecDeleteAligned:
      pair = "new[]/delete[]";
      [[fallthrough]];
    case K::kDeleteAligned:
      if (a == 0 || !pow2(a)) errors::bad_alignment(tid, a, 0, kNewWhy);
      if (found && a != block_align) errors::align_mismatch(tid, k, block_align, a, false, pair);
      break;
    case K::kVecDeleteSizedAligned:
      pair = "new[]/delete[]";
      [[fallthrough]];
    case K::kDeleteSizedAligned:
      if (found && k.size != n) errors::size_mismatch(tid, k, n, pair);
      if (found && a != block_align) errors::align_mismatch(tid, k, block_align, a, false, pair);
      if (a == 0 || !pow2(a)) errors::bad_alignment(tid, a, 0, kNewWhy);
      break;
  }
}

}  // namespace mt::heap
