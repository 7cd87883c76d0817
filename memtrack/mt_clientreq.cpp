// Client requests: memtrack.h's own, and DHAT's ('D','H') so programs built
// with dhat.h work unchanged; valgrind.h's custom allocator ones go to
// mt_custom. Codes of other tools are not ours: returning
// False lets the core treat them as it does for any tool that lacks them.
// The core also passes vgdb's monitor commands through here.
#include "mt_clientreq.h"
#include "mt_fastcall.h"
#include "mt_heap.h"
#include "mt_access.h"
#include "mt_store.h"
#include "mt_options.h"
#include "mt_profile.h"
#include "mt_sites.h"
#include "mt_leak.h"
#include "mt_monitor.h"
#include "mt_custom.h"
#include "mt_undef.h"
#include "mt_measure.h"

#include "valgrind.h"
#include "memtrack.h"

namespace mt::clientreq {

namespace {

constexpr UWord kDhatAdHoc = VG_USERREQ_TOOL_BASE('D', 'H');
constexpr UWord kDhatHistogram = VG_USERREQ_TOOL_BASE('D', 'H') + 1;
constexpr UWord kDhatCopy = VG_USERREQ_TOOL_BASE('D', 'H') + 256;
constexpr SizeT kUserHistogramMax = 25600;  // DHAT's limit for the request

// Writes n bytes to client memory if the client could write there itself.
bool copy_to_client(Addr dst, const void* src, SizeT n) {
  if (!VG_(am_is_valid_for_client)(dst, n, VKI_PROT_WRITE)) return false;
  VG_(memcpy)(reinterpret_cast<void*>(dst), src, n);
  return true;
}

// Copies a NUL-terminated client string, checking each page is readable.
bool client_string(Addr s, char* out, SizeT out_len) {
  for (SizeT i = 0; i + 1 < out_len; i++) {
    Addr a = s + i;
    if ((i == 0 || (a & 4095) == 0) && !VG_(am_is_valid_for_client)(a, 1, VKI_PROT_READ)) return false;
    out[i] = *reinterpret_cast<const char*>(a);
    if (!out[i]) return true;
  }
  return false;  // too long
}

void event(ThreadId tid, Mode wanted, ULong weight) {
  if (g_opts.mode != wanted) return;  // silently ignored, as DHAT does
  sites::on_event(sites::of(VG_(record_ExeContext)(tid, 0)), weight);
}

void histogram(Addr a) {
  const Block* b = store::containing(a);
  if (!b) {
    VG_(message)(Vg_UserMsg, "Warning: address for user histogram request not found %llx\n", (ULong)a);
    return;
  }
  if (b->size <= g_opts.histogram_limit) {
    VG_(message)(Vg_UserMsg,
                 "Warning: request for user histogram of size %lu is smaller than the normal histogram limit, "
                 "request ignored\n", b->size);
    return;
  }
  if (b->size > kUserHistogramMax) {
    VG_(message)(Vg_UserMsg,
                 "Warning: request for user histogram of size %lu is larger than the maximum user request limit, "
                 "request ignored\n", b->size);
    return;
  }
  const bool had = b->site->acc != nullptr;
  if (!sites::want_histogram(b->site, b->size))
    VG_(message)(Vg_UserMsg,
                 "Warning: user histogram request ignored: the block's allocation site has blocks of other sizes\n");
  else if (!had)
    access::forget_all();  // blocks of this site in the access cache must now count per byte
}

// memcheck.h's leak requests, so CI tests written for memcheck work here,
// and the definedness requests that change what its leak search sees.
constexpr UWord kMcMakeNoaccess = VG_USERREQ_TOOL_BASE('M', 'C') + 0;
constexpr UWord kMcMakeUndefined = VG_USERREQ_TOOL_BASE('M', 'C') + 1;
constexpr UWord kMcMakeDefined = VG_USERREQ_TOOL_BASE('M', 'C') + 2;
constexpr UWord kMcMakeDefinedIfAddressable = VG_USERREQ_TOOL_BASE('M', 'C') + 11;
constexpr UWord kMcDoLeakCheck = VG_USERREQ_TOOL_BASE('M', 'C') + 6;
constexpr UWord kMcCountLeaks = VG_USERREQ_TOOL_BASE('M', 'C') + 7;
constexpr UWord kMcCountLeakBlocks = VG_USERREQ_TOOL_BASE('M', 'C') + 12;

void put_client_word(UWord addr, UWord v) { copy_to_client(addr, &v, sizeof v); }

Bool memcheck_request(ThreadId tid, UWord* arg, UWord* ret) {
  // The preload's own: it checks aligned calls through memcheck's request.
  vgcompat::AlignedCall call;
  if (vgcompat::aligned_call(arg, &call)) {
    heap::check_aligned_call(tid, call);
    *ret = 0;
    return True;
  }
  switch (arg[0]) {
    // memcheck answers -1 to these four (its macros give 0 natively).
    case kMcMakeNoaccess:
    case kMcMakeUndefined:
      undef::hide(arg[1], arg[2]);
      *ret = static_cast<UWord>(-1);
      return True;
    case kMcMakeDefined:
    case kMcMakeDefinedIfAddressable:
      undef::reveal(arg[1], arg[2]);
      *ret = static_cast<UWord>(-1);
      return True;
    case kMcDoLeakCheck: {
      leak::Mode mode = leak::Mode::kFull;
      if (arg[1] == 1) mode = leak::Mode::kSummary;
      else if (arg[1] != 0) VG_(message)(Vg_UserMsg, "Warning: unknown memcheck leak search mode\n");
      leak::Delta delta = leak::Delta::kAny;
      if (arg[2] == 1) delta = leak::Delta::kIncreased;
      else if (arg[2] == 2) delta = leak::Delta::kChanged;
      else if (arg[2] == 3 && vgcompat::kNewLeakSearch) delta = leak::Delta::kNew;
      else if (arg[2] != 0) VG_(message)(Vg_UserMsg, "Warning: unknown memcheck leak search deltamode\n");
      leak::search(tid, mode, delta);
      *ret = 0;
      return True;
    }
    case kMcCountLeaks:
    case kMcCountLeakBlocks: {
      // leaked (definite + indirect), dubious (possible), reachable, suppressed
      const leak::Counts& c = leak::last_counts();
      const ULong* v = arg[0] == kMcCountLeaks ? c.bytes : c.blocks;
      put_client_word(arg[1], v[leak::kDefinite] + v[leak::kIndirect]);
      put_client_word(arg[2], v[leak::kPossible]);
      put_client_word(arg[3], v[leak::kReachable]);
      put_client_word(arg[4], arg[0] == kMcCountLeaks ? c.supp_bytes : c.supp_blocks);
      *ret = 0;
      return True;
    }
    default:
      return False;  // the other definedness requests mean nothing without shadow memory
  }
}

UWord copy_request(ThreadId tid, const UWord* arg) {
  event(tid, Mode::kCopy, arg[1]);
  return 0;
}

}  // namespace

void init() { fastcall::allow_request(_VG_USERREQ__MEMTRACK_COPY, copy_request); }

Bool handle(ThreadId tid, UWord* arg, UWord* ret) {
  if (arg[0] == VG_USERREQ__GDB_MONITOR_COMMAND) {
    bool mine = monitor::handle(tid, reinterpret_cast<const HChar*>(arg[1]));
    *ret = mine ? 1 : 0;
    return mine ? True : False;
  }
  if (custom::handle(tid, arg, ret)) return True;  // valgrind.h's custom allocator requests
  if (VG_IS_TOOL_USERREQ('M', 'C', arg[0])) return memcheck_request(tid, arg, ret);
  if (VG_IS_TOOL_USERREQ('D', 'H', arg[0])) {
    switch (arg[0]) {
      case kDhatAdHoc: event(tid, Mode::kAdHoc, arg[1]); *ret = 0; return True;
      case kDhatHistogram: histogram(arg[1]); *ret = 0; return True;
      case kDhatCopy: event(tid, Mode::kCopy, arg[1]); *ret = 0; return True;
      default:
        VG_(message)(Vg_UserMsg, "Warning: unknown DHAT client request code %llx\n", (ULong)arg[0]);
        return False;
    }
  }
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
    case VG_USERREQ__MEMTRACK_DUMP_PROFILE: {
      char name[4096];
      *ret = 0;
      if (!client_string(arg[1], name, sizeof name) || !name[0]) {
        VG_(message)(Vg_UserMsg, "Warning: MEMTRACK_DUMP_PROFILE: the file name is not a readable string\n");
        return True;
      }
      HChar* path = profile::expand_path(name);
      *ret = profile::write(path) ? 1 : 0;
      dealloc(path);
      return True;
    }
    case VG_USERREQ__MEMTRACK_AD_HOC_EVENT: event(tid, Mode::kAdHoc, arg[1]); *ret = 0; return True;
    case VG_USERREQ__MEMTRACK_HISTOGRAM_MEMORY: histogram(arg[1]); *ret = 0; return True;
    case _VG_USERREQ__MEMTRACK_COPY: event(tid, Mode::kCopy, arg[1]); *ret = 0; return True;
    case VG_USERREQ__MEMTRACK_MEASURE_START: *ret = measure::start(tid, arg[1] != 0); return True;
    case VG_USERREQ__MEMTRACK_MEASURE_READ: {
      // arg[3] is the caller's sizeof, as for the heap stats.
      measure::Figures f;
      static_assert(sizeof f == sizeof(MemtrackMeasure), "memtrack.h's MemtrackMeasure is measure::Figures");
      *ret = measure::read(arg[1], &f) && copy_to_client(arg[2], &f, min<SizeT>(arg[3], sizeof f)) ? 1 : 0;
      return True;
    }
    case VG_USERREQ__MEMTRACK_MEASURE_STOP: *ret = measure::stop(arg[1]) ? 1 : 0; return True;
    case _VG_USERREQ__MEMTRACK_PVALLOC: *ret = reinterpret_cast<UWord>(heap::memalign(tid, arg[1], arg[2])); return True;
    default:
      VG_(message)(Vg_UserMsg, "Warning: unknown memtrack client request code %llx\n", (ULong)arg[0]);
      *ret = 0;
      return True;
  }
}

}  // namespace mt::clientreq
