// The block store: what memtrack knows of the program's heap blocks, below
// every module that uses it. It holds each live block's record and the facts
// kept beside the few blocks that need them (the realloc that last moved a
// block, the alignment a block was asked for), the index that finds a block
// by any address inside it, memcheck's "total heap usage" counters, and the
// freed blocks memtrack still knows of: the history that describes a later
// bad free, and memcheck's queue of freed blocks.
//
// mt_heap changes it at each heap event (mt_heap.cpp lists who hears of
// each, in order), mt_custom for custom allocators' frees and usage; every
// other module only reads it (access tracking, errors, the leak search,
// massif, the profile, client requests), and none of them includes mt_heap.h
// for that.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"
#include "mt_options.h"

namespace mt::store {

void init();          // before the options are read
void post_options();  // after: sizes the freed-block history and the queue

// ---- live blocks -------------------------------------------------------------

const BlockIndex& index();
// The live block whose payload starts exactly at a, or null. Blocks a
// custom allocator released (Block::released) are still here.
Block* at(Addr a);
// The live block with start <= a < start + size, or null.
Block* containing(Addr a);

// A new record for a block at [start, start + size) from site, indexed.
// zero_req: the program asked for 0 bytes (size counts 1); align: the
// alignment it asked for, 0 if none.
Block* make(Addr start, SizeT size, bool zero_req, Site* site, AllocKind kind, SizeT align);
// A realloc moved b to start or resized it in place: it is indexed at
// [start, start + size) and is, for memcheck's reports, a malloc'd block
// allocated by the realloc at realloc_ec, with no alignment asked for.
void resize(Block* b, Addr start, SizeT size, ExeContext* realloc_ec);
// b leaves the index and its record goes back to the pool.
void drop(Block* b);

// The stack of the call that allocated b as memcheck reports it: the
// realloc that last moved or resized it, else its allocation site's.
ExeContext* alloc_context(const Block* b);
// The alignment the program asked for b (memalign and co., aligned new), 0
// if none.
SizeT alignment(const Block* b);

// ---- memcheck's "total heap usage" -----------------------------------------

// A realloc is one alloc and one free; bytes are the sizes asked for;
// custom allocators' blocks count too.
struct Usage {
  ULong allocs, frees, bytes;
};
const Usage& usage();
void count_alloc(SizeT req);
void count_free();

// ---- freed blocks ------------------------------------------------------------

// What memcheck writes into the bytes of a block it frees (--free-fill).
inline void fill_freed(Addr a, SizeT n) {
  if (g_opts.free_fill != kNoFill) VG_(memset)(reinterpret_cast<void*>(a), g_opts.free_fill, n);
}

// The history of the last --freed-history frees, for describing an address
// in a later error ("... inside a block of size 10 free'd").
struct Freed {
  Addr start;
  SizeT size;
  ExeContext* alloc_ec;
  ExeContext* free_ec;  // null unless --keep-stacktraces records free stacks
  bool custom;          // freed by a custom-allocator request
};
// b is freed by thread tid (free_ec: the free's stack if the caller has it
// already, as a realloc does).
void remember_freed(ThreadId tid, const Block* b, ExeContext* free_ec = nullptr);
// The latest remembered free of a block that started at a, or null.
const Freed* find_freed(Addr a);
// Whether a recent custom free covered a: a live block there is then
// "recently re-allocated", as memcheck says of an address its queue holds.
bool recycled(Addr a);

// memcheck's queue of freed blocks (--freelist-vol): p's memory (size
// bytes) goes back to the client arena only once the queue holds more than
// its volume. p null: a custom allocator's block, which only counts.
void queue_freed(void* p, SizeT size);
// A block was made (after it got its memory): the queue gives back what
// exceeds its volume, oldest and big ones first, as memcheck does.
void release_queued();
void queue_stats(ULong* bytes, ULong* blocks);

// ---- custom allocators (mt_custom) --------------------------------------------

// A custom block or pool chunk of size bytes made, or one freed (the
// history remembers it, and it counts toward the queue's volume).
void custom_made(SizeT size);
void custom_freed(ThreadId tid, Addr start, SizeT size, ExeContext* alloc_ec);
// FREELIKE_BLOCK of a malloc'd block, or an auto-free pool's chunk holding
// one: freed as memcheck sees it (see Block::released; its bytes get
// --free-fill, the history remembers it); its memory and its place in the
// profile stay until the program frees it.
void release(ThreadId tid, Block* b);

// Tool memory held for heap tracking (records, index, history, queue).
SizeT tool_bytes();

}  // namespace mt::store
