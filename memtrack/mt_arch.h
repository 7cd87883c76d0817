// Everything that depends on the guest architecture lives here (amd64 only).
#pragma once

#include "mt_vg.h"
#include "libvex_guest_amd64.h"

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

// Guest registers the fast client-call path reads and writes (mt_fastcall):
// the client-request argument block, the result register, and what the
// unwinder needs to take the same stack trace the scheduler path would.
namespace mt::arch {

using GuestState = VexGuestAMD64State;
constexpr Int kOffClreqArgs = __builtin_offsetof(VexGuestAMD64State, guest_RAX);
constexpr Int kOffClreqResult = __builtin_offsetof(VexGuestAMD64State, guest_RDX);
constexpr Int kOffIP = __builtin_offsetof(VexGuestAMD64State, guest_RIP);
constexpr Int kOffSP = __builtin_offsetof(VexGuestAMD64State, guest_RSP);
constexpr Int kOffFP = __builtin_offsetof(VexGuestAMD64State, guest_RBP);
inline void set_clreq_result(GuestState* g, UWord v) { g->guest_RDX = v; }

// The unwind memo (mt_unwind): a call pushes the return address just below
// the caller's stack pointer, and the frame pointer is RBP.
constexpr Addr kRetAddrBelowCallerSP = 8;
inline Addr frame_pointer(ThreadId tid) {
  Addr fp;
  VG_(get_shadow_regs_area)(tid, reinterpret_cast<UChar*>(&fp), 0, kOffFP, sizeof fp);
  return fp;
}

}  // namespace mt::arch
