// Everything that depends on the guest architecture lives here (amd64 only).
#pragma once

#include "mt_vg.h"

#if !defined(VGA_amd64)
#error "memtrack supports amd64-linux only"
#endif

namespace mt::arch {

// Bytes below the stack pointer that the ABI lets a leaf function use.
constexpr SizeT kStackRedzone = VG_STACK_REDZONE_SZB;

// Page granule of the block index (x86-64 base page).
constexpr unsigned kPageShift = 12;

// User-space addresses fit in 48 bits on x86-64 with 4-level paging.
constexpr unsigned kAddrBits = 48;

}  // namespace mt::arch
