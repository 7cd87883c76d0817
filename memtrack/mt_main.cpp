// memtrack's entry: registers the tool with the core, wires the modules
// together, and prints the end-of-run summary.
#include "mt_rt.h"
#include "mt_clientreq.h"
#include "mt_errors.h"
#include "mt_heap.h"
#include "mt_options.h"
#include "mt_sites.h"

namespace mt {
namespace {

void post_clo_init() { heap::post_options(); }

IRSB* instrument(VgCallbackClosure*, IRSB* sb, const VexGuestLayout*, const VexGuestExtents*,
                 const VexArchInfo*, IRType, IRType) {
  return sb;
}

void print_summary() {
  const Totals& t = sites::totals();
  // DHAT's lines, labels and widths, so filters written for DHAT still work.
  VG_(umsg)("Total:     %'llu bytes in %'llu blocks\n", t.tot_bytes, t.tot_blocks);
  VG_(umsg)("At t-gmax: %'llu bytes in %'llu blocks\n", t.max_bytes, t.max_blocks);
  VG_(umsg)("At t-end:  %'llu bytes in %'llu blocks\n", t.cur_bytes, t.cur_blocks);
}

void fini(Int exit_status) {
  heap::retire_live_blocks();
  if (VG_(clo_verbosity) == 0) return;
  print_summary();
  if (VG_(clo_stats)) {
    VG_(dmsg)("memtrack: %'lu sites, %'lu live blocks, %'lu bytes of tool memory for heap tracking\n",
              sites::count(), heap::index().count(), heap::tool_bytes());
  }
}

void pre_clo_init() {
  VG_(details_name)("Memtrack");
  VG_(details_version)(nullptr);
  VG_(details_description)("heap profiles, leak checks and heap over time");
  VG_(details_copyright_author)("Copyright (C) 2026, the memtrack authors; GNU GPL'd.");
  VG_(details_bug_reports_to)(VG_BUGS_TO);
  VG_(details_avg_translation_sizeB)(600);

  VG_(basic_tool_funcs)(post_clo_init, instrument, fini);

  // Run libc's and libstdc++'s freeres before fini, as DHAT does, so that the
  // end-of-run figures agree with it.
  VG_(needs_libc_freeres)();
  VG_(needs_cxx_freeres)();
  VG_(needs_command_line_options)(options::process, options::print_usage, options::print_debug_usage);
  VG_(needs_client_requests)(clientreq::handle);

  options::set_defaults();
  sites::init();
  heap::init();
  heap::register_with_core();
  errors::init();
}

}  // namespace
}  // namespace mt

extern "C" {
VG_DETERMINE_INTERFACE_VERSION(mt::pre_clo_init)
}
