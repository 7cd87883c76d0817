// memtrack's entry: registers the tool with the core, wires the modules
// together, and writes the end-of-run outputs.
#include "mt_rt.h"
#include "mt_arena_model.h"
#include "mt_access.h"
#include "mt_clientreq.h"
#include "mt_deadstack.h"
#include "mt_undef.h"
#include "mt_custom.h"
#include "mt_errors.h"
#include "mt_heap.h"
#include "mt_store.h"
#include "mt_instrument.h"
#include "mt_leak.h"
#include "mt_gates.h"
#include "mt_massif.h"
#include "mt_options.h"
#include "mt_profile.h"
#include "mt_sites.h"
#include "mt_unwind.h"

#ifndef MT_DH_VIEW_DIR
#define MT_DH_VIEW_DIR "/usr/libexec/valgrind"
#endif
#ifndef MT_BUGS_TO
#error "MT_BUGS_TO (configure.ac's bug-report address) is not defined: build with make"
#endif

// Core variable without a tool header. memcheck, DHAT and massif get
// --read-inline-info=yes by default (chosen by tool name); memtrack wants the
// same stacks, so it sets the default before the options are read.
extern "C" {
extern Bool VG_(clo_read_inline_info);
}

namespace mt {
namespace {

void post_clo_init() {
  // First the options' own step, which may stop the run, while there is
  // nothing to clean up (the adopted suppressions' temporary files go once
  // the core has read them: at the first error, or at fini). (Output file
  // names were expanded once as their options were read: a bad %q{VAR} has
  // already stopped the run.) After it g_opts holds every default
  // resolved, and the modules below take it in any order.
  options::settle();
  errors::adopt_memcheck_suppressions();
  deadstack::post_options();
  // Memory going away: the core takes one function per event.
  auto unmapped = [](Addr a, SizeT len) {
    deadstack::unmapped(a, len);
    undef::reveal(a, len);
  };
  VG_(track_die_mem_munmap)(unmapped);
  VG_(track_die_mem_brk)(unmapped);
  store::post_options();
  arena_model::post_options();
  unwind::init();  // after --num-callers is known
  profile::post_options();
  options::note_ignored();
  if (g_opts.mode == Mode::kHeap && g_opts.access_tracking) access::track_syscall_accesses();
}

void print_summary() {
  const Totals& t = sites::totals();
  // DHAT's lines, labels and widths, so filters written for DHAT still work.
  if (g_opts.mode == Mode::kAdHoc) {
    VG_(umsg)("Total:     %'llu units in %'llu events\n", t.tot_bytes, t.tot_blocks);
    return;
  }
  VG_(umsg)("Total:     %'llu bytes in %'llu blocks\n", t.tot_bytes, t.tot_blocks);
  if (g_opts.mode != Mode::kHeap) return;
  VG_(umsg)("At t-gmax: %'llu bytes in %'llu blocks\n", t.max_bytes, t.max_blocks);
  VG_(umsg)("At t-end:  %'llu bytes in %'llu blocks\n", t.cur_bytes, t.cur_blocks);
  if (g_opts.access_tracking) {
    ULong r, w;
    access::fold_counts();
    sites::access_totals(&r, &w);
    VG_(umsg)("Reads:     %'llu bytes\n", r);
    VG_(umsg)("Writes:    %'llu bytes\n", w);
  }
}

// A path as a shell word, for the commands the run ends with: as it is
// when it needs no quoting, else in single quotes.
const char* shell_word(const char* path, char* out, SizeT out_len) {
  bool plain = *path != 0;
  for (const char* p = path; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          VG_(strchr)("_./%+,:=@-", *p)))
      plain = false;
  if (plain) return path;
  SizeT o = 0;
  out[o++] = '\'';
  for (const char* p = path; *p && o + 6 < out_len; p++) {
    if (*p == '\'') {
      VG_(memcpy)(out + o, "'\\''", 4);
      o += 4;
    } else {
      out[o++] = *p;
    }
  }
  out[o++] = '\'';
  out[o] = 0;
  return out;
}

// The files the run wrote, what each holds, and the ways to read them:
// memtrack's two scripts first (text report, HTML page), then DHAT's
// viewer, whose steps DHAT users know. Printed last, once every file is
// written (the summary and SARIF files come after the leak search), so it
// lists exactly the files that exist.
void print_files() {
  static const struct { const char* what; const char* holds; } kHolds[] = {
      {"memtrack profile", "heap profile (DHAT format)"},
      {"massif-format output", "heap over time (massif format)"},
      {"--summary-file", "summary (JSON)"},
      {"--sarif-file", "leaks and limit breaches (SARIF)"},
  };
  const WrittenOutput* w;
  UInt n = written_outputs(&w);
  if (n == 0) return;
  const char* profile = nullptr;
  const char* massif = nullptr;
  // (No blank line of its own: memcheck's report before it ends with one.)
  VG_(umsg)("Files written:\n");
  for (UInt i = 0; i < n; i++) {
    const char* holds = w[i].what;
    for (const auto& h : kHolds)
      if (VG_(strcmp)(h.what, w[i].what) == 0) holds = h.holds;
    VG_(umsg)("  %-33s %s\n", holds, w[i].path);
    if (VG_(strcmp)(w[i].what, "memtrack profile") == 0) profile = w[i].path;
    if (VG_(strcmp)(w[i].what, "massif-format output") == 0) massif = w[i].path;
  }
  if (!profile) return;
  char q1[1024], q2[1024];
  const char* p = shell_word(profile, q1, sizeof q1);
  char with_massif[1100] = "";
  if (massif) VG_(snprintf)(with_massif, sizeof with_massif, " --massif=%s", shell_word(massif, q2, sizeof q2));
  VG_(umsg)("To read the profile as a text report:\n");
  VG_(umsg)("  memtrack_print %s%s\n", p, with_massif);
  VG_(umsg)("or as an HTML page (heap over time, flame graph, top sites, leaks):\n");
  VG_(umsg)("  memtrack_report %s%s -o report.html\n", p, with_massif);
  VG_(umsg)("To view it in DHAT's viewer instead, open\n");
  VG_(umsg)("  file://%s/dh_view.html\n", MT_DH_VIEW_DIR);
  VG_(umsg)("in a web browser, click on \"Load...\", and then select the file\n");
  VG_(umsg)("  %s\n", profile);
  VG_(umsg)("The text at the bottom explains the abbreviations used in the output.\n");
}

void fini(Int exit_status) {
  errors::remove_adopted_suppressions();
  leak::analyse_at_exit();
  // Each output of the run that could not be written (its line says which
  // and why) is one error, so that --error-exitcode fails the run. (Dumps
  // a client request asked for earlier are not: the request returned the
  // failure to the program.)
  UInt failed_before = failed_outputs();
  auto count_failed_outputs = [&failed_before] {
    for (; failed_before < failed_outputs(); failed_before++) errors::output_not_written();
  };
  // Expanded now, not at start-up: after a fork, %p names the child.
  HChar* path = profile::numbered_path(profile::dumps_written() + 1, true);
  bool written = profile::write(path);
  massif::write_at_exit();
  // With --xml=yes the log carries XML only, as with memcheck.
  const bool text = VG_(clo_verbosity) > 0 && !VG_(clo_xml);
  if (text) {
    print_summary();
    // The queue of freed blocks (memcheck's, for its leak answers) moves
    // blocks: a program whose allocations depend on block addresses
    // (hash tables keyed by pointer: cc1plus, clang-format) then
    // allocates differently than under DHAT. Say so where the figures are.
    if (written && g_opts.mode == Mode::kHeap && g_opts.freelist_vol > 0)
      VG_(umsg)("Note: freed blocks waited in memcheck's queue before reuse (--freelist-vol=%llu%s), so blocks lie "
                "elsewhere than under DHAT; a program whose allocations depend on addresses may allocate "
                "differently. --freelist-vol=0 places them as DHAT does.\n",
                g_opts.freelist_vol, g_opts.leak_check == leak::Mode::kFull ? ", the default of --leak-check=full" : "");
  }
  leak::report_at_exit();
  gates::at_exit();
  count_failed_outputs();  // before the summary file, whose "errors" counts them
  gates::write_files();
  count_failed_outputs();
  if (text) print_files();
  if (VG_(clo_stats)) {
    VG_(dmsg)("memtrack: %'lu sites, %'lu live blocks, %'lu bytes of tool memory for heap tracking\n",
              sites::count(), store::index().count(), store::tool_bytes());
    ULong unwound, reused;
    unwind::stats(&unwound, &reused);
    VG_(dmsg)("memtrack: %'llu heap-call stacks unwound, %'llu reused from the unwind memo\n", unwound, reused);
    if (g_opts.freelist_vol > 0) {
      ULong bytes, blocks;
      store::queue_stats(&bytes, &blocks);
      VG_(dmsg)("memtrack: queue of freed blocks: %'llu bytes in %'llu blocks held back (--freelist-vol=%llu)\n", bytes,
                blocks, g_opts.freelist_vol);
    }
    arena_model::print_stats();
    if (deadstack::enabled()) {
      ULong covered, written, switches, mirrored;
      deadstack::stats(&covered, &written, &switches, &mirrored);
      VG_(dmsg)("memtrack: dead stack: %'llu long or uncached falls, %'llu other falling stack-pointer writes (%'llu "
                "taken for stack switches), %'llu bytes of stack mirrored\n",
                covered, written, switches, mirrored);
    }
    ULong hidden_pages, dropped;
    undef::stats(&hidden_pages, &dropped);
    if (hidden_pages || dropped)
      VG_(dmsg)("memtrack: memory memcheck.h's requests made undefined: %'llu pages with hidden words, %'llu pages "
                "over the limit not remembered\n",
                hidden_pages, dropped);
  }
  dealloc(path);
}

void pre_clo_init() {
  VG_(details_name)("Memtrack");
  VG_(details_version)(nullptr);
  VG_(details_description)("heap profiles, leak checks and heap over time");
  VG_(details_copyright_author)("Copyright (C) 2026, the memtrack authors; GNU GPL'd.");
  VG_(details_bug_reports_to)(MT_BUGS_TO);
  VG_(details_avg_translation_sizeB)(600);

  VG_(basic_tool_funcs)(post_clo_init, instrument::run, fini);

  // Run libc's and libstdc++'s freeres before fini, as DHAT does, so that the
  // end-of-run figures agree with it.
  VG_(needs_libc_freeres)();
  VG_(needs_cxx_freeres)();
  VG_(needs_command_line_options)(options::process, options::print_usage, options::print_debug_usage);
  VG_(needs_client_requests)(clientreq::handle);

  VG_(clo_read_inline_info) = True;
  options::set_defaults();
  options::watch_forks();
  sites::init();
  store::init();
  clientreq::init();
  heap::register_with_core();
  custom::init();
  errors::init(custom::describe);
  leak::init();
}

}  // namespace
}  // namespace mt

extern "C" {
VG_DETERMINE_INTERFACE_VERSION(mt::pre_clo_init)
}
