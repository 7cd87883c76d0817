// Option table and parsing. Each option is one row: name, kind, where it
// goes; the usage text is built from the same rows so --help never drifts.
#include "mt_options.h"

namespace mt {

Options g_opts;

namespace options {

namespace {

enum Kind { kBool, kUInt, kSize, kMode, kStacks, kFill, kLeakCheck, kLeakKinds, kResolution, kHeuristics,
            kShowReachable, kShowPossible, kScrub, kOutFile, kTimeUnit, kPercent, kFnPattern, kDir, kDumpEvery };

struct Row {
  const char* name;      // without the leading "--"
  Kind kind;
  void* target;
  const char* arg;       // shown in --help
  const char* help;
  ULong min, max;        // for numbers (kPercent: bounds of the percentage)
};

bool parse_mode(const char* v, Mode* out) {
  if (VG_(strcmp)(v, "heap") == 0) { *out = Mode::kHeap; return true; }
  if (VG_(strcmp)(v, "copy") == 0) { *out = Mode::kCopy; return true; }
  if (VG_(strcmp)(v, "ad-hoc") == 0) { *out = Mode::kAdHoc; return true; }
  return false;
}

Row* rows(SizeT* n) {
  static Row table[] = {
      {"mode", kMode, &g_opts.mode, "heap|copy|ad-hoc",
       "what to profile: heap blocks, copy functions, or DHAT_AD_HOC_EVENT requests [heap]", 0, 0},
      {"dhat-out-file", kOutFile, &g_opts.dhat_out_file, "<file>",
       "write the DHAT-format profile to <file>; %p, %q{VAR} and %n (the profile's number, see --dump-every) "
       "expand [memtrack.out.%p]", 0, 0},
      {"dump-every", kDumpEvery, &g_opts.dump_every, "<n><unit>",
       "also write the profile every <n> ms, s (wall clock) or i, ki, Mi, Gi (instructions: 1, 10^3, 10^6, "
       "10^9) while the program runs, numbered by %n in --dhat-out-file (else <file>.1, <file>.2, ...) [none]",
       0, 0},
      {"access-tracking", kBool, &g_opts.access_tracking, "no|yes",
       "count reads and writes inside heap blocks (slower); no keeps lifetimes only [yes]", 0, 0},
      {"histogram-limit", kUInt, &g_opts.histogram_limit, "<bytes>",
       "keep per-byte access counts for sites whose blocks are at most this big [1024]", 0, 25600},
      {"keep-stacktraces", kStacks, &g_opts.keep_stacktraces, "alloc|free|alloc-and-free|alloc-then-free|none",
       "stacks that error and leak reports show for blocks, as memcheck (the profile keeps allocation stacks "
       "anyway); alloc: no free stacks, a little faster, but a double free cannot say where the block was freed "
       "[alloc-and-free]",
       0, 0},
      {"malloc-fill", kFill, &g_opts.malloc_fill, "<hexnumber>",
       "fill new malloc'd blocks (not calloc'd or custom ones) with this byte, as memcheck [none]", 0, 0},
      {"free-fill", kFill, &g_opts.free_fill, "<hexnumber>",
       "fill freed malloc'd blocks (not custom ones) with this byte, as memcheck [none]", 0, 0},
      {"leak-check", kLeakCheck, &g_opts.leak_check, "no|summary|full",
       "search for memory leaks at exit? (yes = full) [summary; full with --xml=yes]", 0, 0},
      {"leak-resolution", kResolution, &g_opts.leak_resolution, "low|med|high",
       "how much of the stack must match to merge loss records [high]", 0, 0},
      {"show-leak-kinds", kLeakKinds, &g_opts.show_leak_kinds, "kind1,kind2,...",
       "leak kinds to show in a full search: definite, indirect, possible, reachable (comma-separated), all or none "
       "[definite,possible]",
       0, 0},
      {"errors-for-leak-kinds", kLeakKinds, &g_opts.errors_for_leak_kinds, "kind1,kind2,...",
       "leak kinds that count as errors in a full search [definite,possible]", 0, 0},
      {"leak-check-heuristics", kHeuristics, &g_opts.leak_heuristics, "heur1,heur2,...",
       "interior pointers taken as reachable: stdstring, length64, newarray, multipleinheritance "
       "(comma-separated), all or none [all]", 0,
       0},
      {"show-reachable", kShowReachable, &g_opts.show_leak_kinds, "no|yes",
       "same as --show-leak-kinds=all (yes) or definite,possible (no)", 0, 0},
      {"show-possibly-lost", kShowPossible, &g_opts.show_leak_kinds, "no|yes",
       "show possibly lost blocks in a full search [yes]", 0, 0},
      {"scrub-stack", kScrub, &g_opts.scrub_stack, "no|yes|auto",
       "know dead stack (in tool memory) and zero recycled heap so stale pointers hide no leak; auto: yes whenever "
       "a leak search runs at exit [auto]", 0, 0},
      {"show-mismatched-frees", kBool, &g_opts.show_mismatched_frees, "no|yes",
       "report free/delete/delete[] that do not match the allocator [yes]", 0, 0},
      {"show-realloc-size-zero", kBool, &g_opts.show_realloc_size_zero, "no|yes",
       "report realloc(p, 0), as memcheck does [yes]", 0, 0},
      {"peak-limit", kSize, &g_opts.peak_limit, "<size>",
       "error (counted by --error-exitcode) when live heap bytes exceed <size>, e.g. 64M; 0 for none [0]", 0,
       ~0ULL},
      {"total-limit", kSize, &g_opts.total_limit, "<size>",
       "error when the bytes allocated over the run exceed <size>; 0 for none [0]", 0, ~0ULL},
      {"leak-limit", kSize, &g_opts.leak_limit, "<size>",
       "error when the bytes lost at exit (the kinds of --lost-kinds) exceed <size>; 0 = none [0]", 0, ~0ULL},
      {"lost-kinds", kLeakKinds, &g_opts.lost_kinds, "kind1,kind2,...",
       "what --leak-limit, the summary file's \"lost\" and SARIF's \"lost\" count [definite,indirect]", 0, 0},
      {"summary-file", kOutFile, &g_opts.summary_file, "<file>",
       "write a small JSON summary (totals, peak, leaks, errors, limits); %p and %q{VAR} expand [none]", 0, 0},
      {"sarif-file", kOutFile, &g_opts.sarif_file, "<file>",
       "write leaks and limit breaches as SARIF 2.1.0 for code-scanning UIs; %p, %q{VAR} expand [none]", 0, 0},
      {"sarif-root", kDir, &g_opts.sarif_root, "<dir>",
       "SARIF results point at the first frame whose file lies under <dir>, by a path relative to it [.]", 0, 0},
      {"alloc-fn", kFnPattern, &g_opts.alloc_fns, "<name>",
       "a function that allocates (wildcards * and ?): site labels (SARIF) and the massif file's trees skip it, "
       "as massif does; repeatable [none]", 0, 0},
      {"ignore-fn", kFnPattern, &g_opts.ignore_fns, "<name>",
       "the massif file leaves out allocations whose first function after the allocators is <name> (wildcards), "
       "as massif does; repeatable [none]", 0, 0},
      {"massif-out-file", kOutFile, &g_opts.massif_out_file, "<file>",
       "write heap over time in massif's format (for ms_print); %p and %q{VAR} expand [none]", 0, 0},
      {"time-unit", kTimeUnit, &g_opts.time_unit, "i|ms|B",
       "massif file's time: instructions, milliseconds, or bytes allocated+freed [i]", 0, 0},
      {"max-snapshots", kUInt, &g_opts.max_snapshots, "<N>",
       "massif file: at most N snapshots kept (massif's culling) [100]", 10, 1000},
      {"detailed-freq", kUInt, &g_opts.detailed_freq, "<N>",
       "massif file: every Nth snapshot has the allocation tree [10]", 1, 1000000},
      {"threshold", kPercent, &g_opts.threshold, "<m.n>",
       "massif file: tree nodes below this % of the snapshot total are merged [1.0]", 0, 100},
      {"peak-inaccuracy", kPercent, &g_opts.peak_inaccuracy, "<m.n>",
       "massif file: a new peak snapshot needs this % more than the last [1.0]", 0, 1000000},
      {"heap-admin", kUInt, &g_opts.heap_admin, "<bytes>",
       "massif file: admin bytes counted per live block as extra heap, as massif [8]", 0, 1024},
      {"freelist-vol", kUInt, &g_opts.freelist_vol, "<number>",
       "bytes of freed blocks kept from reuse, as memcheck [20000000 with --leak-check=full or --xml=yes, else 0]", 0,
       10000000000ULL},
      {"freelist-big-blocks", kUInt, &g_opts.freelist_big_blocks, "<number>",
       "queued freed blocks at least this big are reused first, as memcheck [1000000]", 0, 10000000000ULL},
      {"freed-history", kUInt, &g_opts.freed_history, "<number>",
       "recently freed blocks remembered to describe bad frees [4096]", 0, 100000000},
  };
  *n = sizeof table / sizeof table[0];
  return table;
}

// Options that memcheck of some releases only has: elsewhere memtrack knows
// them no more than memcheck does (unknown option, left out of --help).
bool available(const Row& r) {
  if (r.target == &g_opts.show_realloc_size_zero) return vgcompat::kReallocSizeZeroError;
  return true;
}

// memcheck's options for checks memtrack does not make. A memcheck command
// line should run unchanged, so they are taken, their values checked as
// memcheck checks them, and a value asking for something memtrack cannot
// do gets one line after the options (note_ignored).
enum Why : UChar { kDefinedness, kAccesses, kXtree, kWhys };
struct Ignored {
  const char* name;    // without the leading "--"
  const char* values;  // "yes|no" or "no|auto|yes"; null: any string (memcheck's string options)
  const char* quiet;   // the value that asks for nothing memtrack lacks; null: none
  Why why;
  const char* given;   // the last --name=value (the core keeps argv), or null
};

Ignored* ignored(SizeT* n) {
  static Ignored table[] = {
      {"undef-value-errors", "yes|no", "no", kDefinedness, nullptr},
      {"track-origins", "yes|no", "no", kDefinedness, nullptr},
      {"partial-loads-ok", "yes|no", "yes", kDefinedness, nullptr},
      {"expensive-definedness-checks", "no|auto|yes", "auto", kDefinedness, nullptr},
      {"workaround-gcc296-bugs", "yes|no", "no", kAccesses, nullptr},
      {"ignore-ranges", nullptr, nullptr, kAccesses, nullptr},
      {"ignore-range-below-sp", nullptr, nullptr, kAccesses, nullptr},
      {"xtree-leak", "yes|no", "no", kXtree, nullptr},
      {"xtree-leak-file", nullptr, nullptr, kXtree, nullptr},
  };
  *n = sizeof table / sizeof table[0];
  return table;
}

// memcheck's level: 1 without definedness checks (--undef-value-errors=no),
// 2 with them, 3 with origins too (--track-origins=yes); asking for 3
// after 1 or for 1 after 3 is an error there, so it is here.
int g_mc_level = 2;

[[noreturn]] void bad(const char* arg, const char* why) {
  VG_(fmsg)("Bad option: %s: %s\n", arg, why);
  VG_(exit)(1);
  __builtin_unreachable();
}

// The arena model's self-check compares with the real arena, which the
// queue of freed blocks reshapes: the two cannot go together (either order).
void check_model_check(const char* arg) {
  if (g_opts.arena_model_check && g_opts.freelist_vol != kFreelistAuto && g_opts.freelist_vol > 0)
    bad(arg, "--arena-model-check=yes compares with the real arena, so it needs --freelist-vol=0");
}

// Options a misspelt one may have meant beyond memtrack's tables: the core's
// and the malloc replacement's that people type most (the core hands a
// misspelt one of its own to the tool, which has the last word).
const char* const kOtherOptions[] = {
    "tool", "help", "help-debug", "version", "quiet", "verbose", "trace-children", "trace-children-skip",
    "child-silent-after-fork", "vgdb", "vgdb-error", "track-fds", "time-stamp", "log-fd", "log-file",
    "log-socket", "xml", "xml-fd", "xml-file", "xml-socket", "xml-user-comment", "demangle", "num-callers",
    "error-limit", "error-exitcode", "exit-on-first-error", "error-markers", "show-error-list", "show-below-main",
    "fullpath-after", "extra-debuginfo-path", "suppressions", "gen-suppressions", "input-fd", "max-stackframe",
    "main-stacksize", "max-threads", "read-inline-info", "read-var-info", "smc-check", "fair-sched",
    "keep-debuginfo", "merge-recursive-frames", "default-suppressions", "alignment", "redzone-size",
    "trace-malloc", "xtree-memory", "xtree-memory-file"};

// Edits (insert, delete, replace a character, swap two neighbours) from
// a to b, at most limit + 1 (enough to say "too far").
UInt edit_distance(const char* a, SizeT la, const char* b, SizeT lb, UInt limit) {
  if (la > 40 || lb > 40) return limit + 1;
  UInt d[42][42];
  for (SizeT i = 0; i <= la; i++) d[i][0] = (UInt)i;
  for (SizeT j = 0; j <= lb; j++) d[0][j] = (UInt)j;
  for (SizeT i = 1; i <= la; i++) {
    for (SizeT j = 1; j <= lb; j++) {
      UInt best = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[la][lb] > limit ? limit + 1 : d[la][lb];
}

// The option arg (--name or --name=value) most likely meant: the known name
// fewest edits away (at most 1 for a name of up to 4 characters, 2 up to
// 8, else 3), or the one known name that starts with it (--leak-chec);
// null when none is near.
const char* nearest_option(const char* arg) {
  const char* name = arg;
  while (*name == '-') name++;
  SizeT len = 0;
  while (name[len] && name[len] != '=') len++;
  if (len == 0) return nullptr;
  char given[48];
  if (len >= sizeof given) return nullptr;
  // '_' for '-' is no edit (--leak_check)
  for (SizeT i = 0; i < len; i++) given[i] = name[i] == '_' ? '-' : name[i];
  given[len] = 0;
  const UInt limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
  const char* best = nullptr;
  UInt best_d = limit + 1;
  const char* prefix_of = nullptr;
  UInt prefixes = 0;
  auto consider = [&](const char* known) {
    SizeT kl = VG_(strlen)(known);
    UInt dist = edit_distance(given, len, known, kl, limit);
    if (dist < best_d) { best_d = dist; best = known; }
    if (kl > len && VG_(strncmp)(known, given, len) == 0) { prefix_of = known; prefixes++; }
  };
  SizeT n;
  Row* table = rows(&n);
  for (SizeT i = 0; i < n; i++)
    if (available(table[i])) consider(table[i].name);
  Ignored* ign = ignored(&n);
  for (SizeT i = 0; i < n; i++) consider(ign[i].name);
  for (const char* o : kOtherOptions) consider(o);
  const bool underscores = VG_(strchr)(name, '_') && VG_(strchr)(name, '_') < name + len;
  if (best && (best_d > 0 || underscores)) return best;
  // An exact name here is an option given without its value elsewhere
  // (the core's, say): no suggestion then.
  if (!best && prefixes == 1 && len >= 4) return prefix_of;
  return nullptr;
}

}  // namespace

void set_defaults() {
  g_opts.show_mismatched_frees = true;
  g_opts.show_realloc_size_zero = true;
  g_opts.freed_history = 4096;
  g_opts.keep_stacktraces = kKeepAllocAndFree;
  g_opts.malloc_fill = g_opts.free_fill = kNoFill;
  g_opts.freelist_vol = kFreelistAuto;
  g_opts.freelist_big_blocks = 1000000;
  g_opts.mode = Mode::kHeap;
  g_opts.dhat_out_file = "memtrack.out.%p";
  g_opts.dump_every = 0;
  g_opts.dump_every_unit = kDumpNone;
  g_opts.access_tracking = true;
  g_opts.histogram_limit = 1024;
  g_opts.leak_check = leak::Mode::kSummary;
  g_opts.show_leak_kinds = leak::bit(leak::kDefinite) | leak::bit(leak::kPossible);
  g_opts.errors_for_leak_kinds = leak::bit(leak::kDefinite) | leak::bit(leak::kPossible);
  g_opts.lost_kinds = leak::kLostKinds;
  g_opts.leak_resolution = Vg_HighRes;
  g_opts.leak_heuristics = ((1u << leak::kNumHeuristics) - 1) & ~1u;  // all
  g_opts.scrub_stack = kScrubAuto;
  g_opts.peak_limit = g_opts.total_limit = g_opts.leak_limit = 0;
  g_opts.summary_file = g_opts.sarif_file = g_opts.sarif_root = nullptr;
  g_opts.alloc_fns.n = g_opts.ignore_fns.n = 0;
  g_opts.massif_out_file = nullptr;
  g_opts.time_unit = kTimeInstrs;
  g_opts.max_snapshots = 100;
  g_opts.detailed_freq = 10;
  g_opts.heap_admin = 8;
  g_opts.threshold = 1.0;
  g_opts.peak_inaccuracy = 1.0;
  g_opts.arena_model_check = false;
}

bool parse_bool(const char* v, bool* out) {
  if (VG_(strcmp)(v, "yes") == 0) { *out = true; return true; }
  if (VG_(strcmp)(v, "no") == 0) { *out = false; return true; }
  return false;
}

static bool parse_digits(const char** pp, ULong* out) {
  const char* p = *pp;
  if (*p < '0' || *p > '9') return false;
  ULong n = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    ULong d = (ULong)(*p - '0');
    if (n > (~0ULL - d) / 10) return false;  // overflow
    n = n * 10 + d;
  }
  *out = n;
  *pp = p;
  return true;
}

bool parse_uint(const char* v, ULong* out) {
  return parse_digits(&v, out) && *v == 0;
}

bool parse_percent(const char* v, double* out) {
  // Digits with at most one '.', at least one digit: "1", "0.5", ".5", "2.".
  // (VG_(strtod) alone would take "1e3", "inf" or a leading sign.)
  bool digit = false, dot = false;
  for (const char* p = v; *p; p++) {
    if (*p >= '0' && *p <= '9') digit = true;
    else if (*p == '.' && !dot) dot = true;
    else return false;
  }
  if (!digit) return false;
  HChar* end;
  *out = VG_(strtod)(v, &end);
  return *end == 0;
}

bool parse_size(const char* v, ULong* out) {
  ULong n;
  if (!parse_digits(&v, &n)) return false;
  unsigned shift = 0;
  switch (*v) {
    case 0: break;
    case 'b': case 'B': v++; break;  // plain "100B"
    case 'k': case 'K': shift = 10; v++; break;
    case 'm': case 'M': shift = 20; v++; break;
    case 'g': case 'G': shift = 30; v++; break;
    case 't': case 'T': shift = 40; v++; break;
    default: return false;
  }
  if (shift && (*v == 'i' || *v == 'I')) v++;
  if (shift && (*v == 'b' || *v == 'B')) v++;
  if (*v) return false;
  if (shift && n > (~0ULL >> shift)) return false;
  *out = n << shift;
  return true;
}

Bool process(const HChar* arg) {
  if (arg[0] != '-') return False;
  // The debugging option (--help-debug), outside the table and --help.
  if (VG_(strncmp)(arg, "--arena-model-check", 19) == 0) {
    if (arg[19] != '=') bad(arg, "missing '=<value>'");
    if (!parse_bool(arg + 20, &g_opts.arena_model_check)) bad(arg, "expected yes or no");
    check_model_check(arg);
    return True;
  }
  SizeT n;
  Row* table = rows(&n);
  for (SizeT i = 0; i < n; i++) {
    const Row& r = table[i];
    if (!available(r)) continue;
    SizeT len = VG_(strlen)(r.name);
    if (VG_(strncmp)(arg + 2, r.name, len) != 0) continue;
    const char* rest = arg + 2 + len;
    if (*rest != '=') {
      if (*rest == 0) bad(arg, "missing '=<value>'");
      continue;  // a longer option sharing the prefix
    }
    const char* v = rest + 1;
    switch (r.kind) {
      case kBool:
        if (!parse_bool(v, static_cast<bool*>(r.target))) bad(arg, "expected yes or no");
        return True;
      case kUInt: {
        ULong x;
        if (!parse_uint(v, &x)) bad(arg, "expected a whole number");
        if (x < r.min || x > r.max) bad(arg, "value out of range");
        *static_cast<ULong*>(r.target) = x;
        if (r.target == &g_opts.freelist_vol) check_model_check(arg);
        return True;
      }
      case kStacks: {
        UChar* keep = static_cast<UChar*>(r.target);
        if (VG_(strcmp)(v, "alloc") == 0) *keep = kKeepAlloc;
        else if (VG_(strcmp)(v, "free") == 0) *keep = kKeepFree;
        else if (VG_(strcmp)(v, "alloc-and-free") == 0) *keep = kKeepAllocAndFree;
        else if (VG_(strcmp)(v, "alloc-then-free") == 0) *keep = kKeepAllocThenFree;
        else if (VG_(strcmp)(v, "none") == 0) *keep = kKeepNone;
        else bad(arg, "expected alloc, free, alloc-and-free, alloc-then-free or none");
        return True;
      }
      case kFill: {
        // memcheck's parse (VG_BHEX_CLO): the core's hexadecimal reader,
        // "0x" optional; an int's range, then a byte's. (So "" is 0 there,
        // and here.)
        HChar* end;
        Long x = VG_(strtoll16)(v, &end);
        if (*end != 0 || (Long)(Int)x != x) bad(arg, "expected a hexadecimal number such as 0x55");
        if (x < 0 || x > 0xFF) bad(arg, "expected a byte value from 0x00 to 0xFF");
        *static_cast<int*>(r.target) = (int)x;
        return True;
      }
      case kLeakCheck: {
        leak::Mode* m = static_cast<leak::Mode*>(r.target);
        if (VG_(strcmp)(v, "no") == 0) *m = leak::Mode::kNo;
        else if (VG_(strcmp)(v, "summary") == 0) *m = leak::Mode::kSummary;
        else if (VG_(strcmp)(v, "full") == 0 || VG_(strcmp)(v, "yes") == 0) *m = leak::Mode::kFull;
        else bad(arg, "expected no, summary, full or yes");
        return True;
      }
      case kLeakKinds:
        if (!VG_(parse_enum_set)(leak::kKindTokens, True, v, static_cast<UInt*>(r.target)))
          bad(arg, "expected a list of definite, indirect, possible, reachable, or all, or none");
        return True;
      case kHeuristics:
        // Bit 0 is kHeurNone; the named heuristics are bits 1..4.
        {
          UInt set;
          if (!VG_(parse_enum_set)(leak::kHeuristicTokens, True, v, &set))
            bad(arg, "expected a list of stdstring, length64, newarray, multipleinheritance, or all, or none");
          *static_cast<UInt*>(r.target) = set << 1;
        }
        return True;
      case kResolution: {
        VgRes* res = static_cast<VgRes*>(r.target);
        if (VG_(strcmp)(v, "low") == 0) *res = Vg_LowRes;
        else if (VG_(strcmp)(v, "med") == 0) *res = Vg_MedRes;
        else if (VG_(strcmp)(v, "high") == 0) *res = Vg_HighRes;
        else bad(arg, "expected low, med or high");
        return True;
      }
      case kShowReachable: {
        bool yes;
        if (!parse_bool(v, &yes)) bad(arg, "expected yes or no");
        *static_cast<UInt*>(r.target) =
            yes ? leak::kAllKinds : (leak::bit(leak::kDefinite) | leak::bit(leak::kPossible));
        return True;
      }
      case kShowPossible: {
        bool yes;
        if (!parse_bool(v, &yes)) bad(arg, "expected yes or no");
        UInt* set = static_cast<UInt*>(r.target);
        if (yes) *set |= leak::bit(leak::kPossible); else *set &= ~leak::bit(leak::kPossible);
        return True;
      }
      case kScrub: {
        UChar* v8 = static_cast<UChar*>(r.target);
        if (VG_(strcmp)(v, "no") == 0) *v8 = kScrubNo;
        else if (VG_(strcmp)(v, "yes") == 0) *v8 = kScrubYes;
        else if (VG_(strcmp)(v, "auto") == 0) *v8 = kScrubAuto;
        else bad(arg, "expected no, yes or auto");
        return True;
      }
      case kOutFile:
        // Checked now so that a bad %q{VAR} stops the run before the client
        // starts, in one line (the core's expansion would say it in three);
        // the name itself is expanded at exit, for the pid after a fork.
        if (*v == 0) bad(arg, "expected a non-empty value");
        for (const char* q = VG_(strstr)(v, "%q"); q; q = VG_(strstr)(q + 2, "%q")) {
          if (q > v && q[-1] == '%') continue;  // "%%q" is a literal %q
          if (q[2] != '{') bad(arg, "expected '{' after %q");
          const char* close = VG_(strchr)(q + 3, '}');
          if (!close) bad(arg, "missing '}' after %q{");
          char var[256];
          SizeT len = close - (q + 3);
          if (len == 0 || len >= sizeof var) bad(arg, "expected an environment variable's name in %q{...}");
          VG_(memcpy)(var, q + 3, len);
          var[len] = 0;
          if (!VG_(getenv)(var)) {
            VG_(fmsg)("Bad option: %s: environment variable %s is not set\n", arg, var);
            VG_(exit)(1);
          }
        }
        {
          char name[64];
          VG_(snprintf)(name, sizeof name, "--%s", r.name);
          dealloc(VG_(expand_file_name)(name, v));
        }
        *static_cast<const char**>(r.target) = v;  // the core keeps argv alive
        return True;
      case kFnPattern: {
        FnPatterns* list = static_cast<FnPatterns*>(r.target);
        if (*v == 0) bad(arg, "expected a function name or pattern");
        if (list->n == kMaxFnPatterns) bad(arg, "too many of this option (at most 256)");
        list->item[list->n++] = v;  // the core keeps argv alive
        return True;
      }
      case kDir: {
        // A directory that exists, checked before the client runs.
        if (*v == 0) bad(arg, "expected a directory");
        struct vg_stat st;
        SysRes res = VG_(stat)(v, &st);
        if (sr_isError(res)) bad(arg, "no such directory");
        if (!VKI_S_ISDIR(st.mode)) bad(arg, "not a directory");
        *static_cast<const char**>(r.target) = v;
        return True;
      }
      case kTimeUnit: {
        UChar* u = static_cast<UChar*>(r.target);
        if (VG_(strcmp)(v, "i") == 0) *u = kTimeInstrs;
        else if (VG_(strcmp)(v, "ms") == 0) *u = kTimeMs;
        else if (VG_(strcmp)(v, "B") == 0) *u = kTimeBytes;
        else bad(arg, "expected i, ms or B");
        return True;
      }
      case kPercent: {
        double x;
        if (!parse_percent(v, &x)) bad(arg, "expected a number such as 1.0 or 0.5");
        if (x < (double)r.min || x > (double)r.max) bad(arg, "value out of range");
        *static_cast<double*>(r.target) = x;
        return True;
      }
      case kDumpEvery: {
        // A number and a unit, always both: massif's --time-unit names
        // (ms, i) and the multiples a server's period needs.
        ULong x;
        const char* p = v;
        if (!parse_digits(&p, &x)) bad(arg, "expected a number and a unit such as 10s, 500ms or 100Mi");
        static const struct { const char* unit; UChar clock; ULong mult; } kUnits[] = {
            {"ms", kDumpMs, 1},           {"s", kDumpMs, 1000},          {"i", kDumpInstrs, 1},
            {"ki", kDumpInstrs, 1000},    {"Ki", kDumpInstrs, 1000},     {"Mi", kDumpInstrs, 1000000},
            {"Gi", kDumpInstrs, 1000000000}};
        bool found = false;
        for (const auto& u : kUnits) {
          if (VG_(strcmp)(p, u.unit) != 0) continue;
          if (x > ~0ULL / u.mult) bad(arg, "value out of range");
          g_opts.dump_every = x * u.mult;
          g_opts.dump_every_unit = u.clock;
          found = true;
        }
        if (!found) bad(arg, "expected a unit after the number: ms, s, i, ki, Mi or Gi");
        if (x == 0) bad(arg, "the interval must be above 0");
        return True;
      }
      case kMode:
        if (!parse_mode(v, static_cast<Mode*>(r.target))) bad(arg, "expected heap, copy or ad-hoc");
        return True;
      case kSize: {
        ULong x;
        if (!parse_size(v, &x)) bad(arg, "expected a size such as 4096, 64K, 10M or 2G");
        if (x < r.min || x > r.max) bad(arg, "value out of range");
        *static_cast<ULong*>(r.target) = x;
        return True;
      }
    }
  }
  SizeT ni;
  Ignored* ign = ignored(&ni);
  for (SizeT i = 0; i < ni; i++) {
    Ignored& o = ign[i];
    SizeT len = VG_(strlen)(o.name);
    if (VG_(strncmp)(arg + 2, o.name, len) != 0) continue;
    const char* rest = arg + 2 + len;
    if (*rest != '=') {
      if (*rest == 0) bad(arg, "missing '=<value>'");
      continue;  // a longer option sharing the prefix (--xtree-leak-file)
    }
    const char* v = rest + 1;
    if (o.values && VG_(strcmp)(o.values, "yes|no") == 0) {
      bool yes;
      if (!parse_bool(v, &yes)) bad(arg, "expected yes or no");
      if (o.why == kDefinedness && VG_(strcmp)(o.name, "undef-value-errors") == 0) {
        if (!yes && g_mc_level == 3) bad(arg, "--track-origins=yes has no effect when --undef-value-errors=no");
        g_mc_level = yes ? (g_mc_level == 1 ? 2 : g_mc_level) : 1;
      } else if (o.why == kDefinedness && VG_(strcmp)(o.name, "track-origins") == 0) {
        if (yes && g_mc_level == 1) bad(arg, "--track-origins=yes has no effect when --undef-value-errors=no");
        g_mc_level = yes ? 3 : (g_mc_level == 3 ? 2 : g_mc_level);
      }
    } else if (o.values) {  // no|auto|yes
      if (VG_(strcmp)(v, "no") != 0 && VG_(strcmp)(v, "auto") != 0 && VG_(strcmp)(v, "yes") != 0)
        bad(arg, "expected no, auto or yes");
    }
    o.given = arg;
    return True;
  }
  // Options the malloc replacement understands (--alignment, --trace-malloc, ...).
  if (VG_(replacement_malloc_process_cmd_line_option)(arg)) return True;
  // Anything else is unknown to both the core and us: memcheck's two lines
  // (the option, then where to look), the first with the option meant when
  // one is near enough; exit 1.
  const char* meant = nearest_option(arg);
  if (meant) VG_(fmsg)("Unknown option: %s: did you mean --%s?\n", arg, meant);
  else VG_(fmsg)("Unknown option: %s\n", arg);
  VG_(fmsg)("Use --help for more information or consult the user manual.\n");
  VG_(exit)(1);
  return False;
}

namespace {
// The core's form for an option that the others make useless: it stops the
// run only while the options are parsed, so settle exits itself.
[[noreturn]] void bad_combination(const char* opt, const char* why) {
  VG_(fmsg_bad_option)(opt, "%s\n", why);
  VG_(exit)(1);
  __builtin_unreachable();
}
}  // namespace

namespace {
// An output file that could not be written at exit is found out now, before
// the program runs, with the core's words for a bad --log-file ("Cannot
// create log file 'x': Not a directory") and its exit status, 1. The name
// is expanded as it would be at exit (%p is this process's pid; a forked
// child writes in the same directory). An existing regular file must open
// for writing (as root that is anything on a writable file system); a
// missing one is created and removed again, so that a directory one cannot
// create files in (read-only, /proc, under a regular file) is caught
// whoever runs it. Devices, pipes and sockets are left alone: only writing
// tells.
void check_output(const char* option, const char* what, const char* templ) {
  if (!templ) return;
  HChar* path = VG_(expand_file_name)(option, templ);
  struct vg_stat st;
  Int err = 0;
  SysRes r = VG_(stat)(path, &st);
  if (!sr_isError(r)) {
    if (VKI_S_ISDIR(st.mode)) {
      err = VKI_EISDIR;
    } else if (VKI_S_ISREG(st.mode)) {
      SysRes o = VG_(open)(path, VKI_O_WRONLY | VKI_O_NONBLOCK, 0);
      if (sr_isError(o)) err = (Int)sr_Err(o);
      else VG_(close)((Int)sr_Res(o));
    }
  } else {
    SysRes o = VG_(open)(path, VKI_O_WRONLY | VKI_O_CREAT | VKI_O_EXCL, VKI_S_IRUSR | VKI_S_IWUSR);
    if (!sr_isError(o)) {
      VG_(close)((Int)sr_Res(o));
      VG_(unlink)(path);
    } else if (sr_Err(o) != VKI_EEXIST) {  // EEXIST: a dangling link; the write at exit follows it
      err = (Int)sr_Err(o);
    }
  }
  if (err) {
    VG_(fmsg)("Cannot create %s file '%s': %s\n", what, path, errno_text(err));
    VG_(exit)(1);
  }
  VG_(free)(path);
}
}  // namespace

void settle() {
  // memcheck always searches fully when writing XML (its loss records are
  // the XML's leak errors), whatever --leak-check says; so does memtrack.
  if (VG_(clo_xml)) g_opts.leak_check = leak::Mode::kFull;
  const bool searches = g_opts.leak_check != leak::Mode::kNo;
  // First what may stop the run, before anything is printed.
  // A gate that cannot be checked must not pass silently.
  if (g_opts.leak_limit && !searches)
    bad_combination("--leak-limit", "it needs the leak search at exit, which --leak-check=no turns off");
  if (g_opts.leak_limit && !g_opts.lost_kinds)
    bad_combination("--leak-limit", "--lost-kinds=none leaves it nothing to count");
  // The outputs' names are the same as OutFile::open_output's callers give.
  check_output("--dhat-out-file", "memtrack profile", g_opts.dhat_out_file);
  check_output("--massif-out-file", "massif-format output", g_opts.massif_out_file);
  check_output("--summary-file", "--summary-file", g_opts.summary_file);
  check_output("--sarif-file", "--sarif-file", g_opts.sarif_file);
  if (g_opts.mode != Mode::kHeap) {
    if (g_opts.peak_limit) bad_combination("--peak-limit", "it counts heap blocks: only with --mode=heap");
    if (g_opts.total_limit) bad_combination("--total-limit", "it counts heap blocks: only with --mode=heap");
  }
  // Dead stack and zero-filled blocks cost too little to measure, so every
  // run that searches gets them. (yes also serves programs that run
  // memcheck.h's searches themselves under --leak-check=no.)
  if (g_opts.scrub_stack == kScrubAuto) g_opts.scrub_stack = searches ? kScrubYes : kScrubNo;
  // memcheck's queue of freed blocks is on with --leak-check=full; the arena
  // model's self-check compares with a real arena without it.
  const bool queue_by_default = g_opts.leak_check == leak::Mode::kFull && !g_opts.arena_model_check;
  const bool no_queue_by_default = g_opts.freelist_vol == kFreelistAuto && !queue_by_default;
  if (g_opts.freelist_vol == kFreelistAuto) g_opts.freelist_vol = queue_by_default ? 20000000 : 0;
  // memcheck's warning, wherever memcheck would give it.
  if (!no_queue_by_default && g_opts.freelist_big_blocks >= g_opts.freelist_vol && VG_(clo_verbosity) == 1 &&
      !VG_(clo_xml))
    VG_(message)(Vg_UserMsg, "Warning: --freelist-big-blocks value %llu has no effect\nas it is >= to --freelist-vol value %llu\n",
                 g_opts.freelist_big_blocks, g_opts.freelist_vol);
}

namespace {
// One option in --help: "    --name=arg", the help from column 37 (on a
// line of its own below a longer left part), wrapped at spaces so that
// every line fits 80 columns; continuation lines start at column 37 too.
// (The core's printf cuts a string at its field width: pad by hand.)
void print_option(const char* left, const char* help) {
  constexpr SizeT kHelpCol = 37, kWidth = 80;
  VG_(printf)("    %s", left);
  SizeT col = 4 + VG_(strlen)(left);
  if (col >= kHelpCol) {
    VG_(printf)("\n");
    col = 0;
  }
  for (; col < kHelpCol; col++) VG_(printf)(" ");
  bool first = true;
  for (const char* w = help; *w;) {
    while (*w == ' ') w++;
    SizeT len = 0;
    while (w[len] && w[len] != ' ') len++;
    if (len == 0) break;
    if (!first && col + 1 + len > kWidth) {
      VG_(printf)("\n");
      for (col = 0; col < kHelpCol; col++) VG_(printf)(" ");
    } else if (!first) {
      VG_(printf)(" ");
      col++;
    }
    char word[128];
    SizeT wl = len < sizeof word - 1 ? len : sizeof word - 1;
    VG_(memcpy)(word, w, wl);
    word[wl] = 0;
    VG_(printf)("%s", word);
    col += len;
    w += len;
    first = false;
  }
  VG_(printf)("\n");
}
}  // namespace

void print_usage() {
  SizeT n;
  Row* table = rows(&n);
  for (SizeT i = 0; i < n; i++) {
    if (!available(table[i])) continue;
    char left[96];
    VG_(snprintf)(left, sizeof left, "--%s=%s", table[i].name, table[i].arg);
    print_option(left, table[i].help);
  }
  VG_(printf)(
      "    memcheck's options for checks memtrack does not make are taken (their\n"
      "      values checked as memcheck checks them) and have no effect, which one\n"
      "      line says (not with -q): --undef-value-errors, --track-origins,\n"
      "      --partial-loads-ok, --expensive-definedness-checks, --ignore-ranges,\n"
      "      --ignore-range-below-sp, --workaround-gcc296-bugs, --xtree-leak,\n"
      "      --xtree-leak-file\n"
      "\n"
      "    Report memtrack's bugs to\n"
      "      %s\n"
      "    (the address at the end, in Valgrind's part, is Valgrind's own).\n"
      "    memtrack_print, memtrack_report, memtrack_diff and memtrack_export\n"
      "    read the files a run writes; man memtrack has the rest.\n",
      MT_BUGS_TO);
}

void print_debug_usage() {
  print_option("--arena-model-check=no|yes",
               "run the model of the client arena that the massif file uses with --freelist-vol > 0 beside the real "
               "arena (needs --freelist-vol=0) and stop at the first block they place differently [no]");
}

void note_ignored() {
  if (VG_(clo_verbosity) < 1 || VG_(clo_xml)) return;  // where memcheck keeps its own warnings back
  static const char* const kWhat[kWhys] = {"memtrack does not check definedness",
                                           "memtrack does not check memory accesses",
                                           "memtrack does not write xtree leak files"};
  SizeT n;
  Ignored* ign = ignored(&n);
  for (UInt why = 0; why < kWhys; why++) {
    StrBuf line;
    line.init("mt.options.note");
    UInt count = 0;
    for (SizeT i = 0; i < n; i++) {
      const Ignored& o = ign[i];
      if (o.why != why || !o.given) continue;
      if (o.quiet && VG_(strcmp)(o.given + 3 + VG_(strlen)(o.name), o.quiet) == 0) continue;
      line.append(count++ ? ", " : ": ");
      line.append(o.given);
    }
    if (count) VG_(umsg)("%s%s %s no effect\n", kWhat[why], line.c_str(), count == 1 ? "has" : "have");
    line.free();
  }
}

namespace {
bool g_forked;  // this process is a child forked after start-up
void forked_child(ThreadId) { g_forked = true; }
}  // namespace

void watch_forks() { VG_(atfork)(nullptr, nullptr, forked_child); }

HChar* output_path(const char* option, const char* templ) {
  if (!g_forked || VG_(strstr)(templ, "%p")) return VG_(expand_file_name)(option, templ);
  StrBuf t;
  t.init("mt.options.path");
  t.append(templ);
  t.append(".%p");
  HChar* path = VG_(expand_file_name)(option, t.c_str());
  t.free();
  VG_(umsg)("%s has no %%p: this forked process writes '%s' instead\n", option, path);
  return path;
}

}  // namespace options
}  // namespace mt
