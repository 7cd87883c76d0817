// The block store: records, index, side tables, usage counters and freed
// blocks. Nothing here decides what a heap call does (mt_heap does); this is
// what every module below it reads.
#include "mt_store.h"
#include "mt_sites.h"
#include "mt_unwind.h"
#include "mt_arena_model.h"

namespace mt::store {

namespace {

BlockIndex g_index;
Pool<Block> g_blocks;
Usage g_usage;

// A realloc'd block is, to memcheck, a new malloc'd block allocated at the
// realloc. DHAT keeps counting it for its first site, so the block keeps its
// site and the realloc's stack waits here (only realloc'd blocks pay).
PtrMap<ExeContext> g_realloc_ec;

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

// ---- live blocks -------------------------------------------------------------

const BlockIndex& index() { return g_index; }
Block* at(Addr a) { return g_index.at(a); }
Block* containing(Addr a) { return g_index.containing(a); }

Block* make(Addr start, SizeT size, bool zero_req, Site* site, AllocKind kind, SizeT align) {
  Block* b = g_blocks.get();
  b->start = start;
  b->size = size;
  b->site = site;
  b->alloc_time = g_instrs;
  b->kind = kind;
  b->zero_req = zero_req;
  b->user_histo = 0;
  b->realloced = 0;
  b->released = 0;
  remember_alignment(b, align);
  g_index.insert(b);
  return b;
}

void resize(Block* b, Addr start, SizeT size, ExeContext* realloc_ec) {
  // Re-indexed whole: the page directory must forget pages past the old end.
  g_index.remove(b);
  b->start = start;
  b->size = size;
  b->zero_req = 0;
  g_index.insert(b);
  b->kind = kAllocMalloc;
  if (b->realloced) g_realloc_ec.remove(reinterpret_cast<UWord>(b));
  g_realloc_ec.put(reinterpret_cast<UWord>(b), realloc_ec);
  b->realloced = 1;
  forget_alignment(b);
}

void drop(Block* b) {
  forget_realloc(b);
  forget_alignment(b);
  g_index.remove(b);
  g_blocks.put(b);
}

ExeContext* alloc_context(const Block* b) {
  if (b->realloced) {
    ExeContext* ec = g_realloc_ec.get(reinterpret_cast<UWord>(b));
    if (ec) return ec;
  }
  return b->site->ec;
}

SizeT alignment(const Block* b) {
  return b->aligned ? reinterpret_cast<SizeT>(g_align.get(reinterpret_cast<UWord>(b))) : 0;
}

// ---- usage -----------------------------------------------------------------

const Usage& usage() { return g_usage; }

void count_alloc(SizeT req) {
  g_usage.allocs++;
  g_usage.bytes += req;
}

void count_free() { g_usage.frees++; }

// ---- freed blocks ------------------------------------------------------------

void remember_freed(ThreadId tid, const Block* b, ExeContext* free_ec) {
  remember_range(tid, b->start, b->req_size(), alloc_context(b), false, free_ec);
}

const Freed* find_freed(Addr a) {
  if (!g_freed) return nullptr;
  ULong n = g_freed_next < g_freed_cap ? g_freed_next : g_freed_cap;
  for (ULong i = 1; i <= n; i++) {
    const Freed& f = g_freed[(g_freed_next - i) % g_freed_cap];
    if (f.start == a) return &f;
  }
  return nullptr;
}

// Frees of malloc'd blocks are left out: memcheck's queue keeps their
// memory from reuse for a long while (memtrack's too, in full searches;
// without the queue its arena reuses it at once).
bool recycled(Addr a) {
  if (!g_freed) return false;
  ULong n = g_freed_next < g_freed_cap ? g_freed_next : g_freed_cap;
  for (ULong i = 1; i <= n; i++) {
    const Freed& f = g_freed[(g_freed_next - i) % g_freed_cap];
    if (f.custom && a - f.start < (f.size ? f.size : 1)) return true;
  }
  return false;
}

void queue_freed(void* p, SizeT size) { g_freed_queue.put(p, size); }
void release_queued() { g_freed_queue.release(); }

void queue_stats(ULong* bytes, ULong* blocks) {
  *bytes = g_freed_queue.bytes();
  *blocks = g_freed_queue.blocks();
}

// ---- custom allocators ---------------------------------------------------------

void custom_made(SizeT size) {
  g_freed_queue.release();  // memcheck: at every new block, custom ones too
  count_alloc(size);
}

void custom_freed(ThreadId tid, Addr start, SizeT size, ExeContext* alloc_ec) {
  g_freed_queue.put(nullptr, size);
  remember_range(tid, start, size, alloc_ec, true);
}

void release(ThreadId tid, Block* b) {
  fill_freed(b->start, b->req_size());  // memcheck frees the malloc'd block here
  remember_freed(tid, b);
  b->released = 1;
}

SizeT tool_bytes() {
  return g_index.bytes_reserved() + g_blocks.bytes_reserved() + g_freed_cap * sizeof(Freed) +
         g_freed_queue.bytes_reserved();
}

}  // namespace mt::store
