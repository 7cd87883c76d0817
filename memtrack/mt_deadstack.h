// Dead stack, known in the tool's own memory (--scrub-stack).
//
// memcheck trusts a stack word in its leak search only when its definedness
// bits say the program wrote it since the stack pointer last covered it: a
// frame that covers memory an earlier frame left holds that frame's stale
// pointers, and memcheck ignores them. memtrack has no definedness bits. It
// used to zero what the stack pointer left behind; that wrote the client's
// memory, and a program that reads its own stack (ruby's conservative
// collector) then computed something else. Now every fall of the stack
// pointer (a new frame) copies the words it covers into a mirror of that
// stack in tool memory, before the frame stores anything; the leak search
// takes a stack word whose value still equals its mirror copy for one the
// program did not write since its frame covered it, and memory below the
// stack pointer (dead, or the red zone, garbage after every call and return)
// for no root at all. The client's memory is never written.
//
// What differs from memcheck (docs/manual.md, "Dead stack"): a slot the
// program writes with the very value it held when its frame covered it
// counts as unwritten (memcheck: defined). That takes a function writing
// the same pointer into the same slot as an earlier frame at that depth,
// and the pointer held by that slot alone; a leaf function keeping data in
// its red zone while it runs a leak search itself loses it too (memcheck:
// defined until the next call or return).
#pragma once

#include "mt_rt.h"

namespace mt::deadstack {

// Whether dead stack is tracked: --scrub-stack=yes, or auto whenever a leak
// search may run (--leak-check other than no, --xml=yes), as options::settle
// decides.
bool enabled();
// After the options: follows thread exits, and mappings when enabled.
void post_options();

// Memory unmapped (munmap, brk shrinking): mirrors and exited threads'
// entries there go. mt_main calls it (the core takes one function per event).
void unmapped(Addr a, SizeT len);

// The registered stack the helpers found last, [lo, end), and where its
// mirror lies: the mirror word of address a is at a + delta. lo = end = 0
// when forgotten. Generated code reads it and copies small falls itself.
struct Cache { Addr lo, end, delta; };
const Cache* cache();
// Falls of up to kInlinePop bytes are copied inline (mt_instrument.cpp).
constexpr Long kInlinePop = 512;
// kInlinePop bytes the inline copies read and write instead when the cache
// does not cover the fall.
Addr scratch();

// Helpers called from generated code when the inline path does not apply.
// A fall of len bytes to new_sp: a frame covers [new_sp, new_sp + len).
VG_REGPARM(2) void covered(Addr new_sp, UWord len);
// A stack-pointer write the instrumentation could not follow, when it
// falls: [new_sp, old_sp) is covered, unless it looks like a stack switch.
VG_REGPARM(2) void sp_written(Addr old_sp, Addr new_sp);

// For the leak search: calls fn(lo, hi, ctx) for each run of [a, b) (live
// stack) whose words are not known unwritten. A range on no mirrored stack
// is one run.
void live_runs(Addr a, Addr b, void (*fn)(Addr lo, Addr hi, void* ctx), void* ctx);

// For the leak search: each exited thread's stack pointer at its exit and
// its stack's highest byte, oldest first, while that stack is mapped.
void exited_threads(void (*fn)(Addr sp, Addr max, void* ctx), void* ctx);

// For --stats: helper calls, rises taken for stack switches, and the bytes
// of mirror memory mapped.
void stats(ULong* covered, ULong* written, ULong* switches, ULong* mirror_bytes);

}  // namespace mt::deadstack
