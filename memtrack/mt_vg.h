// The one place that pulls in Valgrind's tool API. The core's headers are C;
// pub_tool_basics.h and pub_tool_vki.h must come first, outside extern "C".
#pragma once

// Differences between Valgrind versions: in that one header, first.
#include "mt_vgcompat.h"

#include "pub_tool_basics.h"
#include "pub_tool_vki.h"

extern "C" {
#include "pub_tool_xarray.h"
#include "pub_tool_execontext.h"
#include "pub_tool_debuginfo.h"
#include "pub_tool_aspacemgr.h"
#include "pub_tool_aspacehl.h"
#include "pub_tool_clientstate.h"
#include "pub_tool_errormgr.h"
#include "pub_tool_hashtable.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_libcsetjmp.h"
#include "pub_tool_libcsignal.h"
#include "pub_tool_machine.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_options.h"
#include "pub_tool_replacemalloc.h"
#include "pub_tool_signals.h"
#include "pub_tool_stacktrace.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_addrinfo.h"
#include "pub_tool_clreq.h"
#include "pub_tool_gdbserver.h"
}

// Core state a tool has no header for; the tool executable links the core
// statically, so the symbol is there. Kept to this one place.
extern "C" {
extern Word VG_(clo_max_stackframe);  // --max-stackframe: larger SP moves are stack switches
// The registered stack (each thread's own, or VALGRIND_STACK_REGISTER's)
// holding sp, cut to sp's mapping: [*start, *end]; both 0 if none.
extern void VG_(stack_limits)(Addr sp, Addr* start, Addr* end);
}
namespace mt::vg_core {
inline Word max_stackframe() { return VG_(clo_max_stackframe); }
// The registered stack holding sp as [*lo, *hi] (inclusive); false if sp is
// on no registered stack.
inline bool registered_stack(Addr sp, Addr* lo, Addr* hi) {
  Addr start = 1, end = 0;  // stay so (or become 0, 0) when none holds sp
  VG_(stack_limits)(sp, &start, &end);
  if (start > end || end == 0 || sp < start || sp > end) return false;
  *lo = start;
  *hi = end;
  return true;
}
// A fault catcher runs in the signal's handler, with the signal blocked:
// unblock it before jumping out, or the next fault kills the process.
inline void unblock_signal(Int sig) {
  vki_sigset_t mask;
  VG_(sigprocmask)(VKI_SIG_SETMASK, nullptr, &mask);
  VG_(sigdelset)(&mask, sig);
  VG_(sigprocmask)(VKI_SIG_SETMASK, &mask, nullptr);
}
}  // namespace mt::vg_core
