// Stack traces of heap calls. Unwinding the client's stack through its CFI
// is the largest single cost of tracking an allocation; programs allocate
// from few places at few stack depths, so each unwind is remembered and
// reused while the stack provably still holds the same frames.
#pragma once

#include "mt_vg.h"

namespace mt::unwind {

void init();

// The same ExeContext VG_(record_ExeContext)(tid, 0) gives.
ExeContext* here(ThreadId tid);

// Unwinds done and unwinds saved, for -v.
void stats(ULong* unwound, ULong* reused);

}  // namespace mt::unwind
