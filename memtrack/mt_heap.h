// Heap replacement: the functions the core calls for every malloc/new/free/
// delete/realloc in the client (through Valgrind's malloc-replacement
// preload). They allocate from the core's client arena, report bad and
// mismatched frees, and tell every module that follows heap blocks (the
// block store first) of each block made, going or resized. Modules that
// only read blocks include mt_store.h, not this header.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"
#include "mt_errors.h"

namespace mt::heap {

void register_with_core();

// memalign for requests that reach the tool another way (pvalloc).
void* memalign(ThreadId tid, SizeT align, SizeT n);

// The preload's check of an aligned allocation or of a sized or aligned
// deallocation (before the call itself): memcheck's errors for it.
void check_aligned_call(ThreadId tid, const vgcompat::AlignedCall& c);

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
