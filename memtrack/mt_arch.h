// Everything that depends on the guest architecture lives here: amd64-linux
// and arm64-linux. Each concern below says what differs and why; code
// elsewhere uses only these names (the IR the instrumentation reads and
// writes is 64-bit and little-endian on both, so mt_instrument needs no
// branch of its own).
#pragma once

#include "mt_vg.h"

#if defined(VGA_amd64)
#include "libvex_guest_amd64.h"
#elif defined(VGA_arm64)
#include "libvex_guest_arm64.h"
#else
#error "memtrack supports amd64-linux and arm64-linux only"
#endif

namespace mt::arch {

// Bytes below the stack pointer that the ABI lets a leaf function use:
// 128 on amd64, none on arm64 (the core's own figure for each).
constexpr SizeT kStackRedzone = VG_STACK_REDZONE_SZB;

// Granule of the block index. Not the hardware page (arm64 kernels use 4,
// 16 or 64 KiB pages): only the index's own unit, the same on both.
constexpr unsigned kPageShift = 12;

// The smallest page a Linux kernel may use: 4 KiB on both. amd64's pages
// are all 4 KiB, and Valgrind's VKI_PAGE_SIZE is a constant there; arm64
// kernels use 4, 16 or 64 KiB pages, and VKI_PAGE_SIZE is a run-time value.
// What needs a constant unit that lies within one page (mt_undef's records,
// and the leak search, which looks those up) uses this one.
constexpr SizeT kMinPageSize = 4096;

// User-space addresses fit in 48 bits: x86-64 with 4-level paging; arm64
// Linux with 48-bit virtual addresses, the most user space gets unless a
// program asks for more with mmap hints (52-bit VA kernels), which the
// block index and the access filter then do not cover.
constexpr unsigned kAddrBits = 48;

// The access filter's test (mt_instrument): amd64 compares the filter byte
// straight from memory (cmpb), and ors two of them for a group. The arm64
// code generator has no 8-bit compare or or (host_arm64_isel.c, 3.19 to
// 3.27: "iselCondCode" fails on CmpNE8), so there the byte is widened to
// 32 bits first (ldrb zero-extends anyway: no extra instruction).
#if defined(VGA_amd64)
constexpr bool kWideFilterTest = false;
#else
constexpr bool kWideFilterTest = true;
#endif

}  // namespace mt::arch

// Guest registers the fast client-call path reads and writes (mt_fastcall):
// the client-request argument block, the result register, and what the
// unwinder needs to take the same stack trace the scheduler path would
// (valgrind.h's request sequence of each architecture says which registers
// carry the block and the result).
namespace mt::arch {

#if defined(VGA_amd64)
using GuestState = VexGuestAMD64State;
constexpr Int kOffClreqArgs = __builtin_offsetof(VexGuestAMD64State, guest_RAX);
constexpr Int kOffClreqResult = __builtin_offsetof(VexGuestAMD64State, guest_RDX);
constexpr Int kOffIP = __builtin_offsetof(VexGuestAMD64State, guest_RIP);
constexpr Int kOffSP = __builtin_offsetof(VexGuestAMD64State, guest_RSP);
constexpr Int kOffFP = __builtin_offsetof(VexGuestAMD64State, guest_RBP);
inline void set_clreq_result(GuestState* g, UWord v) { g->guest_RDX = v; }
// The amd64 unwinder starts from IP, SP and FP (RBP) only.
constexpr Int kUnwindRegs[] = {kOffIP, kOffSP, kOffFP};
#else
using GuestState = VexGuestARM64State;
constexpr Int kOffClreqArgs = __builtin_offsetof(VexGuestARM64State, guest_X4);
constexpr Int kOffClreqResult = __builtin_offsetof(VexGuestARM64State, guest_X3);
constexpr Int kOffIP = __builtin_offsetof(VexGuestARM64State, guest_PC);
constexpr Int kOffSP = __builtin_offsetof(VexGuestARM64State, guest_XSP);
constexpr Int kOffFP = __builtin_offsetof(VexGuestARM64State, guest_X29);
inline void set_clreq_result(GuestState* g, UWord v) { g->guest_X3 = v; }
// The arm64 unwinder also reads the link register (X30): frame 0's return
// address is there until the function saves it, so the translation must
// have written it back to the guest state before the call.
constexpr Int kOffLR = __builtin_offsetof(VexGuestARM64State, guest_X30);
constexpr Int kUnwindRegs[] = {kOffIP, kOffSP, kOffFP, kOffLR};
#endif
constexpr int kNumUnwindRegs = sizeof kUnwindRegs / sizeof kUnwindRegs[0];

// Whether a helper in a translation can be handed the guest state pointer
// (IRExpr_GSPTR) to write the result register directly. The arm64 code
// generator cannot pass it (host_arm64_isel.c, doHelperCall: "vassert(0)"
// for GSPTR, 3.19 to 3.27), so there the helper writes the register through
// VG_(set_shadow_regs_area), which reaches the same memory while the thread
// runs; amd64 keeps the direct store.
#if defined(VGA_amd64)
constexpr bool kHelperGetsGuestState = true;
#else
constexpr bool kHelperGetsGuestState = false;
#endif

// The unwind memo (mt_unwind). Its soundness argument (that file's opening
// comment) rests on amd64's call convention: a call pushes the return
// address just below the caller's stack pointer, so every frame's return
// address is a stack word the memo can check. On arm64 a call leaves it in
// the link register, a function saves it wherever its CFI says (or not at
// all, in a leaf), and Valgrind's arm64 unwinder follows CFI only: no fixed
// slot to check, so the memo is off there and every heap call unwinds (a
// matter of speed only: the stacks are the unwinder's either way).
#if defined(VGA_amd64)
constexpr bool kUnwindMemo = true;
constexpr Addr kRetAddrBelowCallerSP = 8;
#else
constexpr bool kUnwindMemo = false;
constexpr Addr kRetAddrBelowCallerSP = 0;  // unused: no memo
#endif
inline Addr frame_pointer(ThreadId tid) {
  Addr fp;
  VG_(get_shadow_regs_area)(tid, reinterpret_cast<UChar*>(&fp), 0, kOffFP, sizeof fp);
  return fp;
}

}  // namespace mt::arch
