// The block index: every live heap block, found by its start address in O(1)
// and by any address inside it through a page directory, so that access
// tracking and the leak scan can ask "which block holds this address" cheaply
// even with millions of live blocks.
#pragma once

#include "mt_rt.h"

namespace mt {

struct Site;

// How a block was allocated; frees are checked against it.
enum AllocKind : UChar {
  kAllocMalloc = 0,   // malloc, calloc, realloc, memalign & co.
  kAllocNew = 1,      // operator new (all variants)
  kAllocNewVec = 2,   // operator new[] (all variants)
};

const char* alloc_kind_name(AllocKind k);

// One live heap block. Kept small: programs hold millions of these.
struct Block {
  Addr start;          // payload address
  SizeT size;          // counted size (DHAT's rule: a request of 0 counts 1)
  Site* site;          // allocation site (stack trace)
  ULong alloc_time;    // guest instructions executed when allocated
  ULong reads;         // bytes read inside the block (access tracking)
  ULong writes;        // bytes written inside the block
  UShort* histo;       // per-byte access counts, small blocks only
  SizeT req_size;      // the size the program asked for
  AllocKind kind;
};

// Why a lookup in the page directory's leaf can hold either a list of block
// starts or just the one block that covers the page: see mt_blocks.cpp.
struct PageEntry;

class BlockIndex {
 public:
  void init();

  void insert(Block* b);
  void remove(Block* b);

  // The live block whose payload starts exactly at a, or null.
  Block* at(Addr a) const { return by_start_.get(a); }
  // The live block with start <= a < start+size, or null.
  Block* containing(Addr a) const;

  SizeT count() const { return by_start_.size(); }
  // Tool memory held by the index itself (not the blocks).
  SizeT bytes_reserved() const;

  template <class F> void each(F f) const {
    by_start_.each([&](UWord, Block* b) { f(b); });
  }

 private:
  PageEntry** leaf_for(UWord page, bool create);
  PageEntry* entry(UWord page) const;
  void cover_range(Block* b, Block* with);

  PtrMap<Block> by_start_;
  // Three-level radix over page numbers (36 bits = 12 + 12 + 12).
  PageEntry**** root_;
  SizeT leaves_;
  SizeT lists_bytes_;
};

}  // namespace mt
