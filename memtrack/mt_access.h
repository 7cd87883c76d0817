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
// User space is below 2^47; the filter covers 2^48 so that an unguarded
// access needs no masking (see mt_instrument.cpp).
constexpr UWord kGranules = 1UL << (48 - kGranuleShift);

void init();
// The filter's base address, for the instrumentation.
const UChar* heap_granules();

// Block lifecycle hooks from the heap module.
void block_added(const Block* b);    // marks its granules
void block_removed(const Block* b);  // drops it from the lookup cache
void forget_all();                   // empties the lookup cache

// Helpers called from generated code (two register arguments).
VG_REGPARM(2) void on_read(Addr a, UWord size);
VG_REGPARM(2) void on_write(Addr a, UWord size);

// The same with the size built in, for the common sizes: one argument less
// to set up at every instrumented access keeps translations small (the
// code cache is part of the tool's memory).
struct SizedHelpers {
  UWord size;
  void* read;
  void* write;
  const char* read_name;
  const char* write_name;
};
// The helpers for size, or null for a size without its own pair.
const SizedHelpers* sized_helpers(UWord size);

// Reads and writes the kernel does on the program's behalf (syscalls).
void track_syscall_accesses();

}  // namespace mt::access
