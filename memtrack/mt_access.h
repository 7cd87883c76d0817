// Access accounting: what the instrumented code calls for each load and
// store that may touch the heap, and the cheap filter that keeps most
// non-heap accesses from calling at all.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"

namespace mt::access {

// Granule of the heap filter: a byte per 16 KiB of address space says
// whether any heap block was ever there. The instrumentation loads that
// byte inline and calls a helper only when it is set. The helper reads it
// again: kMixed is a granule of blocks without a slot; from kFirstSlot on,
// the slot of a big block that lies in the granule, whose counters take
// an access that starts inside that block at once (docs/design.md, "Owned
// granules").
constexpr unsigned kGranuleShift = 14;
constexpr UChar kMixed = 1;
constexpr unsigned kFirstSlot = 2, kSlots = 256;
// The filter covers the 128 GiB below Valgrind's aspacem_maxAddr on 64-bit
// Linux (3.19 to 3.27, amd64 and arm64), where the core puts every client
// mapping and so every heap block; an address is taken modulo that span
// (granule index & (kGranules - 1)), so one anywhere else, a stack address
// above it or a wild pointer, at worst finds the byte of a granule it
// aliases: a call that finds no block, never a missed access. 8 MiB,
// a static array in the tool's image, whose address fits the 32-bit
// displacement of an amd64 load: the inline test is shift, and, load,
// with no 64-bit base to load and add (docs/design.md, "Access
// accounting").
constexpr unsigned kFilterSpanBits = 37;
constexpr UWord kGranules = 1UL << (kFilterSpanBits - kGranuleShift);

// The filter's base address, for the instrumentation.
const UChar* heap_granules();
// Adds the owned granules' counts to their blocks' sites: before anything
// reads the sites' reads and writes.
void fold_counts();
// A site stopped keeping per-byte counts (its blocks' sizes differ) and
// freed acc, its array of them: the lookup cache forgets it.
void histogram_dropped(const UShort* acc);

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

// Up to kGroupMax unguarded accesses of one superblock, at constant offsets
// from one address, in one call: the instrumentation packs them into a word.
// Bits 0-2: the count. Entry i, 13 bits from bit 3 + 13*i: offset from the
// first access's address (10 bits, two's complement), log2 of the size
// (2 bits: 1 to 8 bytes), and whether it is a write (1 bit).
constexpr int kGroupMax = 4;
constexpr Long kGroupRelMin = -512, kGroupRelMax = 511;
inline ULong group_entry(int i, Long rel, UInt size_log2, bool write) {
  ULong e = (static_cast<ULong>(rel) & 0x3FF) | (static_cast<ULong>(size_log2) << 10) | (static_cast<ULong>(write) << 12);
  return e << (3 + 13 * i);
}
VG_REGPARM(2) void on_group(Addr a0, ULong code);

// Reads and writes the kernel does on the program's behalf (syscalls).
void track_syscall_accesses();

}  // namespace mt::access
