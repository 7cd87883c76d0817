// VEX IR instrumentation: the instruction clock, and a call to the access
// helpers for every load and store that may touch the heap.
#pragma once

#include "mt_rt.h"

namespace mt::instrument {

IRSB* run(VgCallbackClosure* closure, IRSB* sb_in, const VexGuestLayout* layout,
          const VexGuestExtents* vge, const VexArchInfo* archinfo_host, IRType g_word_ty,
          IRType h_word_ty);

}  // namespace mt::instrument
