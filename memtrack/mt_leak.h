// The leak checker: memcheck's algorithm (roots, marking, cliques,
// heuristics), categories, loss records, summaries and error counting, on
// memtrack's block index and without memcheck's shadow memory.
#pragma once

#include "mt_rt.h"
#include "mt_leak_kinds.h"

namespace mt::leak {

struct Counts {
  ULong bytes[kKindBits], blocks[kKindBits];   // direct bytes, by Kind
  ULong supp_bytes, supp_blocks;
  ULong heur_bytes[kNumHeuristics], heur_blocks[kNumHeuristics];
};

void init();

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

// vgdb's who_points_at (memcheck's): prints each place holding a pointer
// into [a, a + len) (a pointer to a itself, or with len > 1 an interior
// one), searching the leak search's roots, every live block and every
// thread's registers; for an interior pointer into a block of the last
// search, also the heuristics that would take it.
void who_points_at(Addr a, SizeT len);
// vgdb's block_list (memcheck's): the blocks of loss records from..to
// (0-based, as numbered by the last search), at most max_blocks of them,
// each followed by the blocks it holds indirectly; heuristics (bits of
// Heuristic, 0 for all blocks) keeps only blocks found through those.
// False, with memcheck's reason if there is one, when there is no such
// record (the caller then says "invalid loss record nr").
bool block_list(UInt from, UInt to, UInt max_blocks, UInt heuristics);

// memcheck's counters, as VALGRIND_COUNT_LEAKS reads them: those of the
// last search that found blocks (a search finding none leaves them).
const Counts& last_counts();
// What the last search found: zero if it found no block.
const Counts& found_counts();
// The loss records of the latest search that were not suppressed, in
// memcheck's order, each with its number nr of the search's of records
// ("in loss record nr of of").
void each_record(void (*f)(void* ctx, Kind kind, ULong direct, ULong indirect, ULong blocks, ExeContext* ec,
                           UInt nr, UInt of),
                 void* ctx);

}  // namespace mt::leak
