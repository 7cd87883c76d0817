// The leak checker: memcheck's algorithm (roots, marking, cliques,
// heuristics), categories, loss records, summaries and error counting, on
// memtrack's block index and without memcheck's shadow memory.
#pragma once

#include "mt_rt.h"

namespace mt::leak {

// memcheck's reachedness states, in its sort order.
enum Kind : UChar { kReachable = 0, kPossible = 1, kIndirect = 2, kDefinite = 3 };
constexpr UInt kKindBits = 4;
inline UInt bit(Kind k) { return 1u << k; }
// The names memcheck's --show-leak-kinds and match-leak-kinds use, in bit order.
constexpr const char* kKindTokens = "reachable,possible,indirect,definite";

enum class Mode : UChar { kNo, kSummary, kFull };
// kNew: records with blocks now and none at the previous search (memcheck
// 3.21+, vgcompat::kNewLeakSearch).
enum class Delta : UChar { kAny, kIncreased, kChanged, kNew };

// memcheck's heuristics, in the order they are tried.
enum Heuristic : UChar { kHeurNone = 0, kStdString = 1, kLength64 = 2, kNewArray = 3, kMultipleInheritance = 4 };
constexpr UInt kNumHeuristics = 5;
constexpr const char* kHeuristicTokens = "stdstring,length64,newarray,multipleinheritance";

struct Counts {
  ULong bytes[kKindBits], blocks[kKindBits];   // direct bytes, by Kind
  ULong supp_bytes, supp_blocks;
  ULong heur_bytes[kNumHeuristics], heur_blocks[kNumHeuristics];
};

void init();
// After options: settles the leak-check mode (--xml=yes implies full) and,
// with scrubbing, watches mappings change for the scrubbing helpers.
void post_options();
// Whether dead stack is zeroed: --scrub-stack=yes, or auto with
// --leak-check=full.
bool scrubbing();
// Whether new heap blocks are zero-filled: whenever a leak search may run
// (--leak-check other than no, --xml=yes, or --scrub-stack=yes), unless
// --scrub-stack=no. Valid after post_options().
bool zero_filling();

// Dead-stack scrubbing, called from generated code (mt_instrument.cpp says
// what is zeroed when; it zeroes pops of up to kInlinePop bytes inline).
constexpr Long kInlinePop = 512;
// A pop of len bytes to new_sp: zeroes what left the red zone.
VG_REGPARM(2) void stack_popped(Addr new_sp, UWord len);
// A stack-pointer write the instrumentation could not follow: zeroes what a
// rise from old_sp to new_sp freed, unless it looks like a stack switch.
VG_REGPARM(2) void sp_written(Addr old_sp, Addr new_sp);
// For --stats: calls of the two helpers, and rises taken for stack switches.
void scrub_stats(ULong* popped, ULong* written, ULong* switches);
// For the inline path of SP writes: the registered stack sp_written found
// last, [lo, end) (0, 0 when forgotten), and kScratch bytes that zeroing
// stores may hit instead when that path does not apply.
struct StackCache { Addr lo, end; };
const StackCache* stack_cache();
constexpr Long kScratch = 128;
Addr scratch();

// What one search looks for and shows. memcheck.h's requests and the
// end-of-run search take it from the options (from_options); vgdb's
// leak_check monitor command sets its own.
struct Params {
  Mode mode;
  Delta delta;
  UInt show_kinds;   // bits of Kind: records listed by a full search
  UInt error_kinds;  // bits of Kind: records counted as errors
  UInt heuristics;   // bits of Heuristic
  UInt max_records;  // list only the largest this many records (0: all)
  bool monitor;      // hints name leak_check's arguments, not options
};
Params from_options(Mode mode, Delta delta);

// One leak search with output, as memcheck's VALGRIND_DO_*LEAK_CHECK, its
// leak_check monitor command and its end-of-run search do.
void search(ThreadId tid, const Params& p);
void search(ThreadId tid, Mode mode, Delta delta);
// At exit, in two steps so that the profile can carry per-site leak
// figures: analyse (if --leak-check is not no) before the profile is written,
// report (HEAP SUMMARY, loss records, LEAK SUMMARY) after.
void analyse_at_exit();
bool exit_analysed();
void report_at_exit();

const Counts& last_counts();
// How many searches have reported so far (memcheck's leak_search_gen).
UInt search_number();
// The loss records of the latest search that were not suppressed.
void each_record(void (*f)(void* ctx, Kind kind, ULong direct, ULong indirect, ULong blocks, ExeContext* ec),
                 void* ctx);

}  // namespace mt::leak
