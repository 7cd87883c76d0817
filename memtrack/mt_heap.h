// Heap replacement: the functions the core calls for every malloc/new/free/
// delete/realloc in the client (through Valgrind's malloc-replacement
// preload). They allocate from the core's client arena, report bad and
// mismatched frees, and tell every module that follows heap blocks (the
// block store first) of each block made, going or resized. Modules that
// only read blocks include mt_store.h, not this header.
#pragma once

#include "mt_rt.h"

namespace mt::heap {

void register_with_core();

// memalign for requests that reach the tool another way (pvalloc).
void* memalign(ThreadId tid, SizeT align, SizeT n);

// The preload's check of an aligned allocation or of a sized or aligned
// deallocation (before the call itself): memcheck's errors for it.
void check_aligned_call(ThreadId tid, const vgcompat::AlignedCall& c);

}  // namespace mt::heap
