// Access accounting: what the instrumented code calls for each load and
// store that may touch the heap, and the cheap filter that keeps most
// non-heap accesses from calling at all.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"

namespace mt::access {

// Granule of the heap filter: a byte per 1 MiB of address space says whether
// any heap block was ever there. The instrumentation loads that byte inline
// and calls a helper only when it is set.
constexpr unsigned kGranuleShift = 20;
constexpr UWord kGranules = 1UL << (47 - kGranuleShift);  // user space is below 2^47

void init();
// The filter's base address, for the instrumentation.
const UChar* heap_granules();

// Block lifecycle hooks from the heap module.
void block_added(const Block* b);    // marks its granules
void block_removed(const Block* b);  // drops it from the lookup cache

// Helpers called from generated code (two register arguments).
VG_REGPARM(2) void on_read(Addr a, UWord size);
VG_REGPARM(2) void on_write(Addr a, UWord size);

// Reads and writes the kernel does on the program's behalf (syscalls).
void track_syscall_accesses();

}  // namespace mt::access
