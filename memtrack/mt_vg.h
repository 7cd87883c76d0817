// The one place that pulls in Valgrind's tool API. The core's headers are C;
// pub_tool_basics.h and pub_tool_vki.h must come first, outside extern "C".
#pragma once

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
}
namespace mt::vg_core {
inline Word max_stackframe() { return VG_(clo_max_stackframe); }
}  // namespace mt::vg_core
