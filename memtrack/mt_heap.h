// Heap replacement: the functions the core calls for every malloc/new/free/
// delete/realloc in the client (through Valgrind's malloc-replacement
// preload). They allocate from the core's client arena, keep the block index
// and the site accounting, and report bad and mismatched frees.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"
#include "mt_errors.h"

namespace mt::heap {

void init();              // before options are read
void post_options();      // after
void register_with_core();

const BlockIndex& index();

// memalign for requests that reach the tool another way (pvalloc).
void* memalign(ThreadId tid, SizeT align, SizeT n);

// The preload's check of an aligned allocation or of a sized or aligned
// deallocation (before the call itself): memcheck's errors for it.
void check_aligned_call(ThreadId tid, const vgcompat::AlignedCall& c);

// The stack of the call that allocated b as memcheck reports it: the
// realloc that last moved or resized it, else its allocation site's.
ExeContext* alloc_context(const Block* b);

// memcheck's "total heap usage" counters: a realloc is one alloc and one
// free; bytes are the sizes asked for.
struct Usage {
  ULong allocs, frees, bytes;
};
const Usage& usage();

// Tool memory held for heap tracking (blocks, index, freed history).
SizeT tool_bytes();
// The queue of freed blocks (--freelist-vol) now: bytes and blocks held back.
void freed_queue_stats(ULong* bytes, ULong* blocks);

// For custom allocators (mt_custom), which share memcheck's malloc
// bookkeeping: the "total heap usage" counters, the freed-block history,
// and what an error says of an address (custom blocks included).
void note_custom_alloc(SizeT n);
void note_custom_free();
void remember_custom_free(ThreadId tid, Addr start, SizeT size, ExeContext* alloc_ec);
errors::Known describe(Addr a);
// FREELIKE_BLOCK of a malloc'd block, or an auto-free pool's chunk holding
// one: freed as memcheck sees it (see Block::released); its memory and
// its place in the profile stay until the program frees it.
void release_for_leaks(ThreadId tid, Block* b);

}  // namespace mt::heap
