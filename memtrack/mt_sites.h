// Allocation sites (DHAT's "program points") and the heap accounting done per
// site and for the whole run: totals, current, peak (t-gmax) and what each
// site held at the peak.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"

namespace mt {

// Guest instructions executed so far: the clock for lifetimes and t-gmax.
// Advanced by the instrumentation.
extern ULong g_instrs;

struct Site {
  ExeContext* ec;
  ULong tot_bytes, tot_blocks;     // everything ever allocated here
  ULong cur_bytes, cur_blocks;     // live now
  ULong max_bytes, max_blocks;     // this site's own peak (bytes; blocks then)
  ULong gmax_bytes, gmax_blocks;   // live here at t-gmax (see peak_epoch)
  ULong gmax_epoch;                // peak epoch the two above belong to
  ULong lifetimes;                 // sum of block lifetimes, in instructions
  ULong freed_blocks;
  // heaptrack's temporary blocks: freed with nothing allocated in between
  // by their thread (mt_heap counts them; the profile's tmpb/tmpbk).
  ULong tmp_bytes, tmp_blocks;
  ULong reads, writes;             // bytes read/written inside this site's blocks
  // Per-offset access counts, kept while every block of the site has one
  // size no larger than the histogram limit (DHAT's "Exactly" state).
  UShort* acc;                     // [acc_size], saturating at 65535
  SizeT acc_size;
  UChar size_state;                // kSizeUnknown / kSizeExactly / kSizeMixed
  ULong scratch;                   // for one pass of a writer (e.g. live lifetimes)
  ULong leak_bytes[4], leak_blocks[4];  // by leak::Kind, from the end-of-run leak search
  // Sites whose stacks differ only in memtrack's own allocator frames
  // (malloc vs valloc reached through one call) become one program point in
  // the profile; the group keeps their combined live figures and peak there.
  Site* group;                     // the group's first site, or null if alone
  ULong grp_cur_bytes, grp_cur_blocks, grp_max_bytes, grp_max_blocks;  // on the first site
};

enum : UChar { kSizeUnknown = 0, kSizeExactly = 1, kSizeMixed = 2 };

// Whole-run figures, as DHAT prints them.
struct Totals {
  ULong tot_bytes, tot_blocks;
  ULong cur_bytes, cur_blocks;
  ULong max_bytes, max_blocks;   // at t-gmax
  ULong tgmax;                   // instruction count when the peak was last reached
};

namespace sites {

void init();

// The site for an allocation stack; created on first use.
Site* of(ExeContext* ec);

// Accounting for one block's life. Sizes are counted sizes.
void on_alloc(Site* s, SizeT bytes);
void on_free(Site* s, SizeT bytes);
void on_resize(Site* s, SizeT old_bytes, SizeT new_bytes);
// A copy (--mode=copy) or ad-hoc event (--mode=ad-hoc) of this weight.
void on_event(Site* s, ULong weight);
// Folds a block's lifetime into its site; on_free (or, at exit, nothing)
// accounts for its bytes. Access counts already went to the site.
void retire(const Block* b);
// A block of this size now belongs to s (allocation or resize): keeps the
// one-size state and the histogram that depends on it.
void note_size(Site* s, SizeT size);
// Turns on the histogram of s for blocks of this size (client request).
// A new histogram changes how accesses count: the caller empties the access
// cache (access::forget_all), as sites are below access.
bool want_histogram(Site* s, SizeT size);

const Totals& totals();
// Sum of every site's reads and writes (with the owned granules' counts once
// access::fold_counts has run: the callers, above mt_access, run it first).
void access_totals(ULong* reads, ULong* writes);
// What s held at t-gmax.
ULong gmax_bytes(const Site* s);
ULong gmax_blocks(const Site* s);

SizeT count();

// Whether ip lies in memtrack's preload (its malloc replacements): such
// frames lead every allocation stack and are dropped where DHAT drops them.
bool in_preload(Addr ip);

// VG_(describe_IP)'s text form of a frame ("0x...: fn (file:line)") for
// memtrack's own files, also under --xml=yes (where the core's form is XML).
const HChar* frame_text(DiEpoch ep, Addr ip, InlIPCursor* cursor);
template <class F> void each(F f);

// Storage is exposed only for each().
extern PtrMap<Site> g_by_ec;

template <class F> void each(F f) {
  g_by_ec.each([&](UWord, Site* s) { f(s); });
}

}  // namespace sites
}  // namespace mt
