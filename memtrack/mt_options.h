// memtrack's command-line options. Valgrind's conventions: --name=value,
// yes|no booleans, sizes with K/M/G suffixes. A bad option or value stops the
// run with one line naming it, before the client starts.
#pragma once

#include "mt_rt.h"
#include "mt_leak_kinds.h"

namespace mt {

enum class Mode : UChar { kHeap, kCopy, kAdHoc };
// --scrub-stack; auto is settled to yes or no (options::settle).
enum : UChar { kScrubNo = 0, kScrubYes = 1, kScrubAuto = 2 };
// --freelist-vol not given, until options::settle makes it memcheck's
// 20,000,000 with --leak-check=full, else 0.
constexpr ULong kFreelistAuto = ~0ULL;
// --time-unit of the massif-format output: instructions, milliseconds, bytes.
enum : UChar { kTimeInstrs = 0, kTimeMs = 1, kTimeBytes = 2 };
// --dump-every's clock: none (not given), wall-clock milliseconds, guest
// instructions.
enum : UChar { kDumpNone = 0, kDumpMs = 1, kDumpInstrs = 2 };
// --keep-stacktraces (memcheck's option and meanings): which stacks error
// and leak reports show for a block. Allocation stacks are recorded in every
// mode (they are the profile's sites and the massif file's stacks); the mode
// decides whether free stacks are recorded and which stacks are shown.
enum : UChar { kKeepNone, kKeepAlloc, kKeepFree, kKeepAllocThenFree, kKeepAllocAndFree };
// --malloc-fill / --free-fill not given.
constexpr int kNoFill = -1;

// --alloc-fn / --ignore-fn (repeatable): function names or patterns with
// Valgrind's wildcards '*' and '?', as given (the core keeps argv).
constexpr UInt kMaxFnPatterns = 256;
struct FnPatterns {
  const char* item[kMaxFnPatterns];
  UInt n;
};

struct Options {
  bool show_mismatched_frees;  // --show-mismatched-frees
  bool show_realloc_size_zero; // --show-realloc-size-zero (where memcheck has it)
  ULong freed_history;         // --freed-history: freed blocks remembered for error reports
  UChar keep_stacktraces;      // --keep-stacktraces (kKeep*), memcheck's option
  int malloc_fill;             // --malloc-fill: byte for new malloc'd blocks, or kNoFill
  int free_fill;               // --free-fill: byte for freed malloc'd blocks, or kNoFill
  ULong freelist_vol;          // --freelist-vol (memcheck's): bytes of freed blocks held back from reuse (settled)
  ULong freelist_big_blocks;   // --freelist-big-blocks: queued blocks this big are released first
  Mode mode;                   // --mode=heap|copy|ad-hoc
  const char* dhat_out_file;   // --dhat-out-file (expanded at exit)
  ULong dump_every;            // --dump-every: interval, in dump_every_unit
  UChar dump_every_unit;       // kDump*: kDumpNone when not given
  bool access_tracking;        // --access-tracking
  ULong histogram_limit;       // --histogram-limit: per-byte counts for sites of blocks up to this size
  // memcheck's leak options, same names and meanings.
  leak::Mode leak_check;       // --leak-check=no|summary|full|yes; full with --xml=yes (settled)
  UInt show_leak_kinds;        // --show-leak-kinds (bits of leak::Kind)
  UInt errors_for_leak_kinds;  // --errors-for-leak-kinds
  VgRes leak_resolution;       // --leak-resolution=low|med|high
  UInt leak_heuristics;        // --leak-check-heuristics (bits of leak::Heuristic)
  // --scrub-stack=no|yes|auto (kScrub*): know dead stack (mt_deadstack) and
  // zero-fill new heap blocks, so stale pointers hide no leak. Settled to
  // yes or no: auto is yes whenever a leak search may run.
  UChar scrub_stack;
  // CI gates (mt_gates): 0 = no limit; file names null = not written.
  ULong peak_limit;            // --peak-limit: live heap bytes
  ULong total_limit;           // --total-limit: bytes allocated over the run
  ULong leak_limit;            // --leak-limit: bytes lost (kinds of --lost-kinds)
  UInt lost_kinds;             // --lost-kinds: what memtrack's own figures call lost [definite,indirect]
  const char* summary_file;    // --summary-file: small JSON summary
  const char* sarif_file;      // --sarif-file: leaks and breaches as SARIF 2.1.0
  const char* sarif_root;      // --sarif-root: SARIF locations are files under it, relative to it; null: the current directory
  // Site labels (mt_label) and the massif file's trees, massif's names.
  FnPatterns alloc_fns;        // --alloc-fn: more allocators, skipped by labels and the massif trees
  FnPatterns ignore_fns;       // --ignore-fn: the massif file leaves out allocations from these
  // Heap over time in massif's format (mt_massif), massif's names and meanings.
  const char* massif_out_file; // --massif-out-file: null = not written
  UChar time_unit;             // --time-unit=i|ms|B (kTime*)
  ULong max_snapshots;         // --max-snapshots
  ULong detailed_freq;         // --detailed-freq: every Nth snapshot is detailed
  ULong heap_admin;            // --heap-admin: bytes counted per live block as extra
  double threshold;            // --threshold: % of the total a tree node needs
  double peak_inaccuracy;      // --peak-inaccuracy: % above the last peak for a new one
  // Debugging (--help-debug).
  bool arena_model_check;      // --arena-model-check: run mt_arena_model beside the real arena, stop at a difference
};

// Every module reads it; only the option parser (options::process) and
// options::settle write it.
extern Options g_opts;

// What --keep-stacktraces records and shows (memcheck's MC_(set_freed_at),
// MC_(allocated_at) and MC_(freed_at)).
inline bool records_free_stacks() {
  return g_opts.keep_stacktraces == kKeepFree || g_opts.keep_stacktraces == kKeepAllocThenFree ||
         g_opts.keep_stacktraces == kKeepAllocAndFree;
}
// The allocation stack of a live block is shown (else the null stack).
inline bool shows_alloc_of_live() {
  return g_opts.keep_stacktraces != kKeepNone && g_opts.keep_stacktraces != kKeepFree;
}
// The allocation stack a report shows for a live block: ec or the null one.
inline ExeContext* shown_alloc_stack(ExeContext* ec) {
  return shows_alloc_of_live() ? ec : VG_(null_ExeContext)();
}
// The allocation stack of a freed block is shown ("Block was alloc'd at");
// alloc-then-free keeps one stack per block, the free stack replacing it.
inline bool shows_alloc_of_freed() {
  return g_opts.keep_stacktraces == kKeepAlloc || g_opts.keep_stacktraces == kKeepAllocAndFree;
}

namespace options {
void set_defaults();
// The core's process_cmd_line_option hook.
Bool process(const HChar* arg);
// Right after the last option, before anything else reads them: resolves
// the defaults that depend on other options (each stated in its option's
// row, so in --help: --leak-check with --xml=yes, --scrub-stack=auto,
// --freelist-vol), refuses the combinations that cannot work (one line,
// exit 1), and prints memcheck's warning for --freelist-big-blocks. After
// it nothing writes g_opts, so the modules' post-option steps may run in
// any order.
void settle();
void print_usage();
void print_debug_usage();
// After all options: one line for each group of memcheck options given
// that memtrack takes but cannot honour (it checks no definedness and no
// accesses, writes no xtree leak file), unless -q or --xml=yes.
void note_ignored();

// Parsers shared by every option (exposed for tests of later options).
bool parse_bool(const char* v, bool* out);
bool parse_uint(const char* v, ULong* out);
// A non-negative decimal such as 1, 0.5 or 12.25 (percentages).
bool parse_percent(const char* v, double* out);
// 1234, 64K, 10M, 2G (binary multiples); also KiB/MiB/GiB spellings.
bool parse_size(const char* v, ULong* out);

// The name of an output file, for writing it now: the option's template
// with %p and %q{VAR} expanded. In a process forked after start-up, a
// template without %p gains ".<pid>", so that parent and child never write
// the same file (and the child says so once on its log).
HChar* output_path(const char* option, const char* templ);
// Registers the fork hook behind output_path().
void watch_forks();
}  // namespace options

}  // namespace mt
