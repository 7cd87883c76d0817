// The block index: every live heap block, found by its start address in O(1)
// and by any address inside it through a page directory, so that access
// tracking and the leak scan can ask "which block holds this address" cheaply
// even with millions of live blocks.
#pragma once

#include "mt_rt.h"
#include "mt_arch.h"

namespace mt {

struct Site;

// How a block was allocated; frees are checked against it.
enum AllocKind : UChar {
  kAllocMalloc = 0,   // malloc, calloc, realloc, memalign & co.
  kAllocNew = 1,      // operator new (all variants)
  kAllocNewVec = 2,   // operator new[] (all variants)
};

const char* alloc_kind_name(AllocKind k);

// One live heap block: 32 bytes, since programs hold millions of them.
// Access counts go to the block's site (that is where DHAT ends up folding
// them), so the block itself holds none.
struct Block {
  Addr start;               // payload address
  SizeT size;               // counted size (DHAT's rule: a request of 0 counts 1)
  Site* site;               // allocation site (stack trace)
  ULong alloc_time : 55;    // guest instructions executed when allocated
  ULong kind : 2;           // AllocKind
  ULong zero_req : 1;       // the program asked for 0 bytes
  ULong user_histo : 1;     // the program asked for a histogram of it
  ULong realloced : 1;      // has a realloc stack in the block store's side table (mt_store)
  // Freed by FREELIKE_BLOCK or an auto-free pool (mt_custom): gone for
  // memcheck's views (leak search, in use at exit, errors), still live for
  // DHAT's, which never sees those requests.
  ULong released : 1;
  ULong aligned : 1;        // has an alignment in the block store's side table

  SizeT req_size() const { return zero_req ? 0 : size; }
  AllocKind alloc_kind() const { return static_cast<AllocKind>(kind); }
};
static_assert(sizeof(Block) == 32, "keep Block small");

// Why a lookup in the page directory's leaf can hold either a list of block
// starts or just the one block that covers the page: see mt_blocks.cpp.
struct PageEntry;

class BlockIndex {
 public:
  void init();

  void insert(Block* b);
  void remove(Block* b);

  // The live block whose payload starts exactly at a, or null.
  Block* at(Addr a) const;
  // The live block with start <= a < start+size, or null.
  Block* containing(Addr a) const;

  SizeT count() const { return count_; }
  // Tool memory held by the index itself (not the blocks).
  SizeT bytes_reserved() const;

  // Visits every live block in address order; f must not change the index.
  template <class F> void each(F f) const;
  // The same for the blocks that start in [lo, hi): one lookup per page.
  template <class F> void each_starting_in(Addr lo, Addr hi, F f) const;

 private:
  PageEntry** leaf_for(UWord page, bool create);
  PageEntry* entry(UWord page) const;
  void cover_range(Block* b, Block* with);
  static bool list_of(PageEntry* e, Block* const** starts, UInt* n);
  // Big blocks (kBigPages pages or more) stay out of the page directory:
  // they are found from inside through a directory of 1 MiB granules (8
  // bytes per MiB, not per 4 KiB), and in address order through a sorted
  // array (a page leaf of their own would cost 32 KiB of address space and
  // a resident page each, as huge blocks lie far apart).
  void big_add(Block* b);
  void big_remove(Block* b);
  Block* big_containing(Addr a) const;
  SizeT big_first_at_or_after(Addr a) const;  // index into big_sorted_
  struct BigList;
  BigList** big_slot(Addr granule, bool create);
  template <class F> void each_small(F f) const;

  // Three-level radix over page numbers (36 bits = 12 + 12 + 12).
  PageEntry**** root_;
  // Two-level radix over 1 MiB granules (28 bits = 14 + 14) for big blocks.
  BigList*** big_root_;
  SizeT big_leaves_, big_lists_;
  Vec<Block*> big_sorted_;  // by start
  SizeT count_;
  SizeT leaves_;
  SizeT lists_bytes_;
};

// The blocks of the page directory (all but the big ones), in address order.
template <class F> void BlockIndex::each_small(F f) const {
  constexpr UWord kN = 1UL << 12;
  for (UWord i = 0; i < kN; i++) {
    PageEntry*** mid = root_[i];
    if (!mid) continue;
    for (UWord j = 0; j < kN; j++) {
      PageEntry** leaf = mid[j];
      if (!leaf) continue;
      for (UWord k = 0; k < kN; k++) {
        Block* const* starts;
        UInt n;
        if (leaf[k] && list_of(leaf[k], &starts, &n))
          for (UInt x = 0; x < n; x++) f(starts[x]);
      }
    }
  }
}

template <class F> void BlockIndex::each(F f) const {
  // The page directory's blocks merged with the big ones, by start.
  SizeT j = 0;
  const SizeT nb = big_sorted_.size();
  each_small([&](Block* b) {
    while (j < nb && big_sorted_[j]->start < b->start) f(big_sorted_[j++]);
    f(b);
  });
  while (j < nb) f(big_sorted_[j++]);
}

template <class F> void BlockIndex::each_starting_in(Addr lo, Addr hi, F f) const {
  if (hi <= lo) return;
  SizeT j = big_first_at_or_after(lo);
  const SizeT nb = big_sorted_.size();
  for (UWord page = lo >> arch::kPageShift, last = (hi - 1) >> arch::kPageShift; page <= last; page++) {
    PageEntry* e = entry(page);
    Block* const* starts;
    UInt n;
    if (e && list_of(e, &starts, &n)) {
      for (UInt x = 0; x < n; x++) {
        if (starts[x]->start < lo || starts[x]->start >= hi) continue;
        while (j < nb && big_sorted_[j]->start < starts[x]->start) f(big_sorted_[j++]);
        f(starts[x]);
      }
    }
  }
  while (j < nb && big_sorted_[j]->start < hi) f(big_sorted_[j++]);
}

}  // namespace mt
