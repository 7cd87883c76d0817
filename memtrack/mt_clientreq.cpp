// Client requests from memtrack.h. Unknown codes of other tools return False
// so the core treats them as it does for any tool that lacks them.
#include "mt_clientreq.h"
#include "mt_sites.h"

#include "valgrind.h"
#include "memtrack.h"

namespace mt::clientreq {

namespace {

// Writes n bytes to client memory if the client could write there itself.
bool copy_to_client(Addr dst, const void* src, SizeT n) {
  if (!VG_(am_is_valid_for_client)(dst, n, VKI_PROT_WRITE)) return false;
  VG_(memcpy)(reinterpret_cast<void*>(dst), src, n);
  return true;
}

}  // namespace

Bool handle(ThreadId tid, UWord* arg, UWord* ret) {
  if (!VG_IS_TOOL_USERREQ('M', 'T', arg[0])) return False;
  switch (arg[0]) {
    case VG_USERREQ__MEMTRACK_GET_HEAP_STATS: {
      // arg[2] is the caller's sizeof, so an older header still works.
      const Totals& t = sites::totals();
      MemtrackHeapStats st;
      st.curr_bytes = t.cur_bytes;
      st.curr_blocks = t.cur_blocks;
      st.max_bytes = t.max_bytes;
      st.max_blocks = t.max_blocks;
      st.total_bytes = t.tot_bytes;
      st.total_blocks = t.tot_blocks;
      SizeT n = min<SizeT>(arg[2], sizeof st);
      *ret = copy_to_client(arg[1], &st, n) ? 1 : 0;
      return True;
    }
    default:
      VG_(message)(Vg_UserMsg, "Warning: unknown memtrack client request code %llx\n", (ULong)arg[0]);
      *ret = 0;
      return True;
  }
}

}  // namespace mt::clientreq
