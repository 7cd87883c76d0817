// Errors memtrack reports through the core's error manager, so that they are
// counted by --error-exitcode, commoned up, and suppressible
// (suppression kind "Memtrack:Free", as memcheck's "Memcheck:Free").
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"

namespace mt::errors {

// Which deallocator the program called.
enum FreeFn : UChar { kFnFree, kFnDelete, kFnDeleteVec, kFnRealloc };

// What the tool knows of an address (custom::describe fills it in: the
// block store's blocks and the custom allocators').
struct Known {
  enum Tag : UChar { kNothing, kLive, kFreed, kChunk /* of a mempool */ } tag;
  Addr start;           // block start (live or recently freed)
  SizeT size;           // block size as the program asked for it
  ExeContext* alloc_ec;
  ExeContext* free_ec;  // recently freed blocks only; may be null
  bool recycled;        // live, over a recently freed block ("recently re-allocated")
};

// describe: what the tool knows of an address (custom::describe, above
// this module), for the errors that describe their address only when they
// are new (realloc(p, 0)) and for pp_describe_addr.
void init(Known (*describe)(Addr a));

// Teams' memcheck suppression files keep working: each suppression file's
// Memcheck entries of the kinds memtrack reports (Leak, Free, FishyValue,
// Mempool and the newer checks' kinds) are loaded as Memtrack entries, for
// the files of the command line (adopt_memcheck_suppressions, after the
// options are read) and for those given while the program runs
// (VALGRIND_CLO_CHANGE, vgdb's v.clo), which are noticed before the next
// error is reported. remove_adopted_suppressions at exit removes what is
// left of the temporary files.
void adopt_memcheck_suppressions();
void remove_adopted_suppressions();

// free/delete/delete[]/realloc of an address that is not a live block's start.
void bad_free(ThreadId tid, Addr a, FreeFn fn, const Known& known);
// A live block released by the wrong family of deallocator.
void mismatched_free(ThreadId tid, const Block* b, FreeFn fn);
// The same for a block known only by its description (custom blocks).
void mismatched_free(ThreadId tid, const Known& block, FreeFn fn);
// A mempool request naming no pool: memcheck's "Illegal memory pool
// address" (suppression kind Mempool).
void illegal_mempool(ThreadId tid, Addr pool, const Known& known);

// One loss record, as the leak checker computed it.
struct LeakText {
  UChar kind;  // leak::Kind (mt_leak_kinds.h)
  ULong direct, indirect, blocks;
  ULong old_direct, old_indirect, old_blocks;
  bool delta;  // print "(+x)"/"(-x)" changes since the previous search
  UInt n, of;  // "in loss record n of of"
  UInt search; // which leak search (suppression use counts are per search)
};
// A loss record's headline as memcheck words it ("1,960 (320 direct, 1,640
// indirect) bytes in 1 blocks are definitely lost in loss record 3 of 5"),
// without the newline: the text, XML and vgdb reports and the SARIF results.
void leak_line(const LeakText& t, char* line, SizeT size);
// Reports a loss record through the core (memcheck's way: a unique error
// with the allocation stack). Returns true if a suppression matched.
bool leak(ThreadId tid, ExeContext* where, const LeakText& t, bool print, bool count);
// A leak search starts reporting, as search number n (memcheck's
// leak_search_gen): -s shows what each Leak suppression took in the latest
// search only.
void leak_search_begins(UInt n);
// Prints a loss record as text at once, not through the error manager (no
// suppression, no count): memcheck's block_list monitor command does.
void pp_loss_record(ExeContext* where, const LeakText& t);
// Describes address a as an error would ("Address 0x... is 8 bytes inside
// a block of size 16 alloc'd", "... inside data symbol ...", "... on
// thread 1's stack"), printed at once: memcheck's who_points_at does.
void pp_describe_addr(Addr a);

// A limit of --peak-limit, --total-limit or --leak-limit was exceeded.
// where: the allocation stack of the site that contributed most, holding
// site_bytes in site_blocks. A leak limit's value is the sum of parts
// (bytes by leak::Kind) over the kinds in the set kinds (--lost-kinds),
// and its message names each part.
enum class Limit : UChar { kPeak, kTotal, kLeak };
struct Breach {
  Limit which;
  ULong value, limit, site_bytes, site_blocks;
  ULong parts[4];  // kLeak: bytes by leak::Kind
  UInt kinds;      // kLeak: the kinds added up
};
// True if a Memtrack:Limit suppression matched it.
bool limit_exceeded(ThreadId tid, const Breach& b, ExeContext* where);
// The breach's text line, as the log, the XML's <what> and the SARIF
// result say it, naming the site (where) by its label: "Leak limit of
// 1,024 bytes exceeded: 1,960 bytes lost (320 definitely, 1,640
// indirectly); the most from load_config (config.c:88): 1,960 bytes in 1
// blocks lost at".
void limit_line(const Breach& b, ExeContext* where, char* out, SizeT n);

// An output file the user asked for (profile, massif file, summary, SARIF)
// could not be written at exit: one more error, which makes the run end
// with --error-exitcode's status (the file's line is already printed).
void output_not_written();

// An allocation argument that looks like a negative number.
void fishy_value(ThreadId tid, const char* fn, const char* arg, SizeT value);

// Heap-call checks that memcheck of some releases makes (which ones:
// mt_vgcompat.h); the same texts, XML kinds and suppression kinds.
// realloc(p, 0): "realloc() with size 0" (ReallocZero), p described as
// the describer given to init knows it when the error is new (as memcheck
// does).
void realloc_size_zero(ThreadId tid, Addr p);
// An alignment an aligned call should not get: "Invalid alignment value: N
// (why)", or with size (a size that is no multiple of it) "Invalid size
// value: S alignment value: N (why)" (BadAlign).
void bad_alignment(ThreadId tid, SizeT align, SizeT size, const char* why);
// An aligned allocation of size 0 (BadSize, later UnsafeZeroSize); fn as
// memcheck's older text names it ("memalign()").
void zero_size(ThreadId tid, const char* fn);
// A sized or aligned deallocation of a live block that does not match it:
// "Mismatched new/delete size value: N" (SizeMismatch), "Mismatched
// new/delete alignment alloc value: A dealloc value: D|default-aligned"
// (AlignMismatch). fns names the pair as memcheck does.
void size_mismatch(ThreadId tid, const Known& block, SizeT size, const char* fns);
void align_mismatch(ThreadId tid, const Known& block, SizeT alloc_align, SizeT dealloc_align, bool default_delete,
                    const char* fns);

}  // namespace mt::errors
