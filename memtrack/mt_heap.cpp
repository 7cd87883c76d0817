// Heap replacement. Accounting follows DHAT so totals agree with it exactly:
// a request of 0 bytes counts as 1; realloc counts one more block of the new
// size; a shrinking realloc stays in place; calloc's zeroing is no write.
#include "mt_heap.h"
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

namespace mt::heap {

namespace {

BlockIndex g_index;
Pool<Block> g_blocks;
Usage g_usage;

// The leak scan trusts every word in a live block. memcheck ignores words
// its definedness bits call undefined; memtrack instead zeroes what a new
// block recycles from freed memory. Blocks this big come from fresh
// mappings of the client arena, already zero.
constexpr SizeT kZeroFillMax = 128 * 1024;
// --scrub-stack (settled: options::settle) asks for it whenever a leak
// search may run.
inline bool zero_fill() { return g_opts.scrub_stack == kScrubYes; }

// memcheck's --malloc-fill and --free-fill (mc_malloc_wrappers.c): the
// program asked for these bytes, so they replace the zero fill above.
// Blocks of custom allocators are never filled (the allocator owns their
// memory), nor is calloc's.
void malloc_fill(void* p, SizeT n) { VG_(memset)(p, g_opts.malloc_fill, n); }
inline void free_fill(Addr a, SizeT n) {
  if (g_opts.free_fill != kNoFill) VG_(memset)(reinterpret_cast<void*>(a), g_opts.free_fill, n);
}

// A realloc'd block is, to memcheck, a new malloc'd block allocated at the
// realloc. DHAT keeps counting it for its first site, so the block keeps its
// site and the realloc's stack waits here (only realloc'd blocks pay).
PtrMap<ExeContext> g_realloc_ec;

// After a realloc the block is, for error and leak reports, a malloc'd
// block allocated by that realloc.
void became_malloced_at(Block* b, ExeContext* ec) {
  b->kind = kAllocMalloc;
  if (b->realloced) g_realloc_ec.remove(reinterpret_cast<UWord>(b));
  g_realloc_ec.put(reinterpret_cast<UWord>(b), ec);
  b->realloced = 1;
}

void forget_realloc(Block* b) {
  if (b->realloced) {
    g_realloc_ec.remove(reinterpret_cast<UWord>(b));
    b->realloced = 0;
  }
}

// The alignment the program asked for, where it asked for one (memalign
// and co., aligned new; the core passes it from 3.22 on): memcheck compares
// it with an aligned or default delete's (vgcompat::AlignedCall). Only
// aligned blocks pay, in a side table by block; realloc forgets it, as
// memcheck's new chunk has none.
PtrMap<void> g_align;

void remember_alignment(Block* b, SizeT align) {
  b->aligned = 0;
  if (align == 0) return;
  g_align.put(reinterpret_cast<UWord>(b), reinterpret_cast<void*>(align));
  b->aligned = 1;
}

SizeT alignment_of(const Block* b) {
  return b->aligned ? reinterpret_cast<SizeT>(g_align.get(reinterpret_cast<UWord>(b))) : 0;
}

void forget_alignment(Block* b) {
  if (b->aligned) {
    g_align.remove(reinterpret_cast<UWord>(b));
    b->aligned = 0;
  }
}

// memcheck's queue of freed blocks (--freelist-vol, --freelist-big-blocks):
// freed memory goes back to the arena only once that many more bytes have
// been freed, so a pointer the program keeps to a freed block (strtok's
// saved position, a cache it forgot to clear) does not land in the next
// block placed there and make it reachable. memcheck's order throughout:
// big blocks leave first; a block bigger than the whole queue goes to the
// front; blocks leave when the next block is made, after that block got its
// memory. A volume of 0 turns the queue off (memcheck would still hold a
// block until the next one is made). The entries live in tool memory: a
// client writing into freed blocks cannot break the queue.
class FreedQueue {
 public:
  void init(ULong vol, ULong big) {
    vol_ = vol;
    big_ = big;
  }
  // p: a block to give back to the arena later; nullptr for a custom
  // allocator's block, which only adds its size to the queue, as in memcheck.
  void put(void* p, SizeT size) {
    // massif's arena gets the block back now, queue or not.
    if (p && arena_model::active()) arena_model::free(reinterpret_cast<Addr>(p));
    if (vol_ == 0) {  // no queue: reused at once, as DHAT does
      if (p) VG_(cli_free)(p);
      return;
    }
    Ring& r = size >= big_ ? large_ : small_;
    Entry e = {reinterpret_cast<Addr>(p), size};
    if (size >= vol_) r.push_front(e);
    else r.push_back(e);
    queued_ += size;
  }
  // At every new block, once it has its memory.
  void release() {
    while (queued_ > vol_) {
      Ring& r = !large_.empty() ? large_ : small_;
      Entry e = r.pop_front();
      queued_ -= e.size;
      if (e.start) VG_(cli_free)(reinterpret_cast<void*>(e.start));
    }
  }
  SizeT bytes_reserved() const { return small_.bytes_reserved() + large_.bytes_reserved(); }
  ULong bytes() const { return queued_; }
  ULong blocks() const { return small_.size() + large_.size(); }

 private:
  struct Entry {
    Addr start;
    SizeT size;
  };
  // A double-ended queue in a ring that grows by doubling.
  class Ring {
   public:
    bool empty() const { return n_ == 0; }
    SizeT size() const { return n_; }
    void push_back(Entry e) {
      if (n_ == cap_) grow();
      at_[(head_ + n_++) & (cap_ - 1)] = e;
    }
    void push_front(Entry e) {
      if (n_ == cap_) grow();
      head_ = (head_ + cap_ - 1) & (cap_ - 1);
      at_[head_] = e;
      n_++;
    }
    Entry pop_front() {
      Entry e = at_[head_];
      head_ = (head_ + 1) & (cap_ - 1);
      n_--;
      return e;
    }
    SizeT bytes_reserved() const { return cap_ * sizeof(Entry); }

   private:
    void grow() {
      SizeT cap = cap_ ? cap_ * 2 : 1024;
      Entry* at = static_cast<Entry*>(VG_(malloc)("mt.heap.freedq", cap * sizeof(Entry)));
      for (SizeT i = 0; i < n_; i++) at[i] = at_[(head_ + i) & (cap_ - 1)];
      if (at_) VG_(free)(at_);
      at_ = at;
      cap_ = cap;
      head_ = 0;
    }
    Entry* at_ = nullptr;
    SizeT cap_ = 0, head_ = 0, n_ = 0;
  };
  ULong vol_ = 0, big_ = 0, queued_ = 0;
  Ring small_, large_;
};
FreedQueue g_freed_queue;

// Recently freed blocks, remembered only to describe a later bad free
// ("... is 0 bytes inside a block of size 10 free'd"). A ring of the last
// --freed-history frees: O(1) to record, and it touches its pages in order
// (a table hashed by address would make every page resident after a few
// hundred frees). Bad frees are rare, so finding one scans the ring.
struct Freed {
  Addr start;
  SizeT size;
  ExeContext* alloc_ec;
  ExeContext* free_ec;
  bool custom;  // freed by a custom-allocator request
};
Freed* g_freed;
SizeT g_freed_cap;
ULong g_freed_next;  // frees recorded so far

// free_ec: the free's stack if the caller has it already (a realloc).
void remember_range(ThreadId tid, Addr start, SizeT size, ExeContext* alloc_ec, bool custom = false,
                    ExeContext* free_ec = nullptr) {
  if (!g_freed) return;
  Freed& f = g_freed[g_freed_next++ % g_freed_cap];
  f.custom = custom;
  f.start = start;
  f.size = size;
  f.alloc_ec = alloc_ec;
  // memcheck's default, --keep-stacktraces=alloc-and-free, records a stack
  // at every free. The unwind memo serves frees as it serves allocations
  // (programs free from few places at few depths too): 99.8% of sqlite3's
  // frees, 93% of jq's, and no measurable time on either; where it misses,
  // the unwind costs what an allocation's does (docs/design.md).
  f.free_ec = !records_free_stacks() ? nullptr : free_ec ? free_ec : unwind::here(tid);
}

void remember_freed(ThreadId tid, const Block* b, ExeContext* free_ec = nullptr) {
  remember_range(tid, b->start, b->req_size(), alloc_context(b), false, free_ec);
}

// The latest free of a block that started at a, if still remembered.
const Freed* find_freed(Addr a) {
  if (!g_freed) return nullptr;
  ULong n = g_freed_next < g_freed_cap ? g_freed_next : g_freed_cap;
  for (ULong i = 1; i <= n; i++) {
    const Freed& f = g_freed[(g_freed_next - i) % g_freed_cap];
    if (f.start == a) return &f;
  }
  return nullptr;
}

// Whether a recent custom free covered a: a live block there is then
// "recently re-allocated" (memcheck's word for an address its free queue
// also holds). Frees of malloc'd blocks are left out: memcheck's queue
// keeps their memory from reuse for a long while (memtrack's too, in full
// searches; without the queue its arena reuses it at once).
bool recycled(Addr a) {
  if (!g_freed) return false;
  ULong n = g_freed_next < g_freed_cap ? g_freed_next : g_freed_cap;
  for (ULong i = 1; i <= n; i++) {
    const Freed& f = g_freed[(g_freed_next - i) % g_freed_cap];
    if (f.custom && a - f.start < (f.size ? f.size : 1)) return true;
  }
  return false;
}

// memcheck's order: a plain pool's chunk, a live block (malloc'd, then
// MALLOCLIKE), a recent free, a metapool's chunk.
errors::Known what_we_know(Addr a) {
  errors::Known k = {errors::Known::kNothing, 0, 0, nullptr, nullptr};
  bool custom = custom::any();
  if (custom && custom::describe_pool_chunk(a, false, &k)) return k;
  Block* b = g_index.containing(a);
  if (b && !b->released) {
    k.tag = errors::Known::kLive;
    k.start = b->start;
    k.size = b->req_size();
    k.alloc_ec = alloc_context(b);
    k.recycled = recycled(a);
    return k;
  }
  if (custom && custom::describe_malloclike(a, &k)) {
    k.recycled = recycled(a);
    return k;
  }
  if (const Freed* f = find_freed(a)) {
    k.tag = errors::Known::kFreed;
    k.start = f->start;
    k.size = f->size;
    k.alloc_ec = f->alloc_ec;
    k.free_ec = f->free_ec;
    return k;
  }
  if (custom) custom::describe_pool_chunk(a, true, &k);
  return k;
}

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

void add(Block* b) {
  g_index.insert(b);
  access::block_added(b);
}

void drop(Block* b) {
  access::block_removed(b);
  g_index.remove(b);
  // Words memcheck.h's requests hid in the block: the memory is no block now.
  if (undef::g_pages) undef::reveal(b->start, b->size);
}

// usage: whether the call counts in memcheck's "total heap usage" (a
// realloc has counted itself already). orig_align: the alignment the program
// asked for, if any.
void* new_block(ThreadId tid, SizeT req, SizeT align, AllocKind kind, bool zero, bool usage = true,
                SizeT orig_align = 0) {
  SizeT counted = req ? req : 1;
  void* p = VG_(cli_malloc)(align, counted);
  if (!p) return nullptr;
  if (arena_model::active()) arena_model::alloc(align, counted, reinterpret_cast<Addr>(p));
  g_freed_queue.release();
  if (zero) VG_(memset)(p, 0, counted);
  else if (g_opts.malloc_fill != kNoFill) malloc_fill(p, req);
  else if (zero_fill() && counted <= kZeroFillMax) VG_(memset)(p, 0, counted);
  if (usage) {
    g_usage.allocs++;
    g_usage.bytes += req;
  }

  Block* b = g_blocks.get();
  b->start = (Addr)p;
  b->size = counted;
  b->site = sites::of(unwind::here(tid));
  b->alloc_time = g_instrs;
  b->kind = kind;
  b->zero_req = req == 0;
  b->was_read = b->was_written = 0;
  b->user_histo = 0;
  b->realloced = 0;
  b->released = 0;
  remember_alignment(b, orig_align);
  add(b);
  massif::on_alloc(b);
  if (accounting()) {
    sites::on_alloc(b->site, counted);
    sites::note_size(b->site, counted);
    gates::after_alloc(tid);
  }
  return p;
}

void release(ThreadId tid, void* p, errors::FreeFn fn) {
  if (!p) return;
  g_usage.frees++;  // memcheck counts every free it is handed, good or bad
  Block* b = g_index.at((Addr)p);
  if (!b || b->released) {
    if (!b && custom::any() && custom::free_malloclike(tid, (Addr)p, fn)) return;
    // Not the start of a live block: report it and leave memory alone.
    errors::bad_free(tid, (Addr)p, fn, what_we_know((Addr)p));
    if (!b) return;
    // Released by a custom-allocator request: memcheck's error is out, and
    // the block goes now, where DHAT frees it.
  } else if (g_opts.show_mismatched_frees && b->alloc_kind() != family_of(fn)) {
    errors::mismatched_free(tid, b, fn);
  }
  massif::on_free(b);
  if (accounting()) {
    sites::on_free(b->site, b->size);
    sites::retire(b);
  }
  if (!b->released) free_fill(b->start, b->req_size());  // a released block was filled then
  remember_freed(tid, b);
  forget_realloc(b);
  forget_alignment(b);
  drop(b);
  g_freed_queue.put(p, b->req_size());
  g_blocks.put(b);
}

// ---- the entry points the preload reaches ---------------------------------

void* mt_malloc(ThreadId tid, SizeT n) {
  if (fishy(tid, "malloc", "size", n)) return nullptr;
  return new_block(tid, n, VG_(clo_alignment), kAllocMalloc, false);
}
void* mt_new(ThreadId tid, SizeT n) {
  if (fishy(tid, "__builtin_new", "size", n)) return nullptr;
  return new_block(tid, n, VG_(clo_alignment), kAllocNew, false);
}
void* mt_new_aligned(ThreadId tid, SizeT n, SizeT align MT_ORIG_ALIGN_PARAM) {
  if (fishy(tid, "__builtin_new_aligned", "size", n)) return nullptr;
  return new_block(tid, n, align, kAllocNew, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}
void* mt_vec_new(ThreadId tid, SizeT n) {
  if (fishy(tid, "__builtin_vec_new", "size", n)) return nullptr;
  return new_block(tid, n, VG_(clo_alignment), kAllocNewVec, false);
}
void* mt_vec_new_aligned(ThreadId tid, SizeT n, SizeT align MT_ORIG_ALIGN_PARAM) {
  if (fishy(tid, "__builtin_vec_new_aligned", "size", n)) return nullptr;
  return new_block(tid, n, align, kAllocNewVec, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}
void* mt_memalign(MT_MEMALIGN_PARAMS(tid, align, orig_align, n)) {
  if (fishy(tid, "memalign", "size", n)) return nullptr;
  return new_block(tid, n, align, kAllocMalloc, false, true, MT_ORIG_ALIGN_ARG(orig_align));
}

void* mt_calloc(ThreadId tid, SizeT nmemb, SizeT size1) {
  if (fishy(tid, "calloc", "nmemb", nmemb) || fishy(tid, "calloc", "size", size1)) return nullptr;
  // The preload already refuses products that overflow; check again anyway.
  if (size1 && nmemb > ~(SizeT)0 / size1) return nullptr;
  return new_block(tid, nmemb * size1, VG_(clo_alignment), kAllocMalloc, true);
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
  if (!p_old) return new_block(tid, n, VG_(clo_alignment), kAllocMalloc, false);
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
  g_usage.allocs++;
  g_usage.frees++;
  g_usage.bytes += n;
  Block* b = g_index.at((Addr)p_old);
  SizeT custom_size;
  if (!b && custom::any() && custom::realloc_malloclike(tid, (Addr)p_old, &custom_size)) {
    // memcheck moves a MALLOCLIKE block into a new malloc'd one.
    void* p_new = new_block(tid, n, VG_(clo_alignment), kAllocMalloc, false, false);
    if (p_new) {
      VG_(memcpy)(p_new, p_old, min(custom_size, n));
      // memcheck's realloc fills any old block; this one is wherever the
      // program declared it, maybe read-only.
      if (VG_(am_is_valid_for_client)((Addr)p_old, custom_size, VKI_PROT_WRITE)) free_fill((Addr)p_old, custom_size);
    }
    return p_new;
  }
  if (!b || b->released) {
    errors::bad_free(tid, (Addr)p_old, errors::kFnRealloc, what_we_know((Addr)p_old));
    return nullptr;
  }
  if (g_opts.show_mismatched_frees && b->alloc_kind() != kAllocMalloc)
    errors::mismatched_free(tid, b, errors::kFnRealloc);
  massif::on_realloc(b, n);

  Site* site = b->site;
  ExeContext* here = unwind::here(tid);
  if (n <= b->size) {
    // Shrink (or same size) in place. DHAT counts the implied copy anyway.
    // memcheck moves the block and free-fills all of the old one; here the
    // old block's bytes past the new end are the freed ones.
    if (n < b->req_size()) free_fill(b->start + n, b->req_size() - n);
    // Re-index: the page directory must forget pages past the new end.
    drop(b);
    if (accounting()) {
      sites::on_resize(site, b->size, n);
      site->reads += n;
      site->writes += n;
    }
    b->size = n;
    b->zero_req = 0;
    add(b);
    became_malloced_at(b, here);
    forget_alignment(b);
    if (accounting()) {
      sites::note_size(site, n);
      gates::after_alloc(tid);
    }
    return p_old;
  }

  void* p_new = VG_(cli_malloc)(VG_(clo_alignment), n);
  if (!p_new) return nullptr;  // old block untouched
  if (arena_model::active()) arena_model::alloc(VG_(clo_alignment), n, reinterpret_cast<Addr>(p_new));
  g_freed_queue.release();
  VG_(memcpy)(p_new, p_old, b->size);
  if (g_opts.malloc_fill != kNoFill) malloc_fill(static_cast<char*>(p_new) + b->req_size(), n - b->req_size());
  else if (zero_fill() && n <= kZeroFillMax) VG_(memset)(static_cast<char*>(p_new) + b->size, 0, n - b->size);
  free_fill(b->start, b->req_size());
  remember_freed(tid, b, here);  // the old address is now a freed block, freed here
  drop(b);
  g_freed_queue.put(p_old, b->req_size());
  if (accounting()) {
    site->reads += b->size;
    site->writes += b->size;
    sites::on_resize(site, b->size, n);
  }
  b->start = (Addr)p_new;
  b->size = n;
  b->zero_req = 0;
  add(b);
  became_malloced_at(b, here);
  forget_alignment(b);
  if (accounting()) {
    sites::note_size(site, n);
    gates::after_alloc(tid);
  }
  return p_new;
}

SizeT mt_usable_size(ThreadId tid, void* p) {
  Block* b = g_index.at((Addr)p);
  return b ? b->size : 0;
}

}  // namespace

void init() {
  g_index.init();
  g_realloc_ec.init("mt.heap.realloc_ec", 256);
  g_align.init("mt.heap.align", 256);
  g_blocks.init("mt.heap.blocks", 4096);
  g_freed = nullptr;
  g_freed_cap = 0;
  g_freed_next = 0;
}

void post_options() {
  g_freed_queue.init(g_opts.freelist_vol, g_opts.freelist_big_blocks);
  if (g_opts.freed_history > 0) {
    g_freed_cap = g_opts.freed_history;
    g_freed = map_array<Freed>(g_freed_cap);
  }
}

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

const BlockIndex& index() { return g_index; }

const Usage& usage() { return g_usage; }

void* memalign(ThreadId tid, SizeT align, SizeT n) {
  if (fishy(tid, "memalign", "size", n)) return nullptr;
  return new_block(tid, n, align, kAllocMalloc, false);
}

namespace {

// The block a deallocation names, as memcheck finds it (its malloc_list):
// a live malloc'd or MALLOCLIKE block starting at a, and the alignment it
// was asked for.
bool block_at(Addr a, errors::Known* k, SizeT* align) {
  if (!a) return false;
  Block* b = g_index.at(a);
  if (b && !b->released) {
    *k = {errors::Known::kLive, b->start, b->req_size(), alloc_context(b), nullptr};
    *align = alignment_of(b);
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

ExeContext* alloc_context(const Block* b) {
  if (b->realloced) {
    ExeContext* ec = g_realloc_ec.get(reinterpret_cast<UWord>(b));
    if (ec) return ec;
  }
  return b->site->ec;
}

void note_custom_alloc(SizeT n) {
  g_freed_queue.release();  // memcheck: at every new block, custom ones too
  g_usage.allocs++;
  g_usage.bytes += n;
}

void note_custom_free() { g_usage.frees++; }

void remember_custom_free(ThreadId tid, Addr start, SizeT size, ExeContext* alloc_ec) {
  g_freed_queue.put(nullptr, size);
  remember_range(tid, start, size, alloc_ec, true);
}

errors::Known describe(Addr a) { return what_we_know(a); }

void release_for_leaks(ThreadId tid, Block* b) {
  free_fill(b->start, b->req_size());  // memcheck frees the malloc'd block here
  remember_freed(tid, b);
  b->released = 1;
}

void freed_queue_stats(ULong* bytes, ULong* blocks) {
  *bytes = g_freed_queue.bytes();
  *blocks = g_freed_queue.blocks();
}

SizeT tool_bytes() {
  return g_index.bytes_reserved() + g_blocks.bytes_reserved() + g_freed_cap * sizeof(Freed) +
         g_freed_queue.bytes_reserved();
}

}  // namespace mt::heap
