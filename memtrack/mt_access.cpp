// Access accounting. An access counts for the live block it starts in (an
// access starting before a block does not count for it; one running past the
// end counts its whole size), as in DHAT. Counts go to the block's site at
// once, or through its slot's counters (an owned granule's) when the block
// goes and before anything reads the sites: DHAT folds them there when the
// block retires, and every block retires by the end, so the figures are the
// same with 32-byte blocks.
#include "mt_access.h"
#include "mt_store.h"
#include "mt_sites.h"
#include "mt_options.h"

namespace mt::access {

namespace {

alignas(4096) UChar g_granules[kGranules];
// Owned granules: a block that wholly covers at least one granule, and
// whose site keeps no per-byte counts, gets a slot; its whole granules hold
// the slot's number and the helpers add their accesses to the slot's
// counters, which reach the site when the slot is given up or folded.
struct SlotCounts {
  ULong reads, writes;
};
SlotCounts g_slots[kSlots];
const Block* g_owner[kSlots];
UChar g_free[kSlots];       // released slots, a stack
UInt g_n_free;
UInt g_next_slot = kFirstSlot;  // slots never used: g_next_slot..kSlots-1

// The whole granules of b: [*first, *end) (empty if none).
inline void whole_granules(const Block* b, UWord* first, UWord* end) {
  *first = (b->start + (1UL << kGranuleShift) - 1) >> kGranuleShift;
  *end = (b->start + b->size) >> kGranuleShift;
}

// The slot's counts into its block's site.
void fold(UInt slot) {
  const Block* b = g_owner[slot];
  b->site->reads += g_slots[slot].reads;
  b->site->writes += g_slots[slot].writes;
  g_slots[slot].reads = g_slots[slot].writes = 0;
}

void release(UInt slot) {
  const Block* b = g_owner[slot];
  fold(slot);
  g_owner[slot] = nullptr;
  UWord first, end;
  whole_granules(b, &first, &end);
  for (UWord g = first; g < end; g++) g_granules[g & (kGranules - 1)] = kMixed;
  g_free[g_n_free++] = static_cast<UChar>(slot);
}

void release_all() {
  for (UInt slot = kFirstSlot; slot < g_next_slot; slot++)
    if (g_owner[slot]) release(slot);
}

// The last four blocks hit, for reads and for writes apart: most accesses
// fall in a block an access of the same kind just touched (a copy reads one
// block and writes another; a compressor reads its window and its hash
// table in turn). Each entry keeps what a hit needs without touching the
// block or its site's other fields: the range and the counter to add to.
// Blocks whose site keeps per-byte counts take the full path.
constexpr int kRecent = 4;
struct Recent {
  Addr start[kRecent], end[kRecent];   // empty entries have start == end == 0
  ULong* counter[kRecent];
  const Block* b[kRecent];
  bool histo[kRecent];
};
Recent g_reads;
Recent g_writes;

inline void remember(Recent* r, const Block* b, ULong* counter) {
  for (int i = kRecent - 1; i > 0; i--) {
    r->start[i] = r->start[i - 1]; r->end[i] = r->end[i - 1];
    r->counter[i] = r->counter[i - 1]; r->b[i] = r->b[i - 1]; r->histo[i] = r->histo[i - 1];
  }
  r->start[0] = b->start; r->end[0] = b->start + b->size;
  r->counter[0] = counter; r->b[0] = b; r->histo[0] = b->site->acc != nullptr;
}

inline void forget(Recent* r, const Block* b) {
  for (int i = 0; i < kRecent; i++)
    if (r->b[i] == b) { r->start[i] = r->end[i] = 0; r->b[i] = nullptr; }
}

inline void count_histogram(Site* s, const Block* b, Addr a, UWord size) {
  UShort* h = s->acc;
  if (!h || b->size != s->acc_size) return;
  SizeT from = a - b->start;
  SizeT to = min<SizeT>(from + size, b->size);
  for (SizeT i = from; i < to; i++)
    if (h[i] != 0xFFFF) h[i]++;
}

void syscall_read(CorePart part, ThreadId, const HChar*, Addr a, SizeT size) {
  if (part == Vg_CoreSysCall && size) on_read(a, size);
}

void syscall_read_asciiz(CorePart part, ThreadId, const HChar*, Addr str) {
  // The kernel reads the string and its terminating NUL: strlen+1 bytes.
  // DHAT (3.19 to 3.27) counts strlen(str+1), two bytes fewer for every
  // heap path.
  if (part == Vg_CoreSysCall && str) on_read(str, VG_(strlen)(reinterpret_cast<const HChar*>(str)) + 1);
}

void syscall_write(CorePart part, ThreadId, Addr a, SizeT size) {
  if ((part == Vg_CoreSysCall || part == Vg_CoreClientReq) && size) on_write(a, size);
}

}  // namespace

const UChar* heap_granules() { return g_granules; }

void block_added(const Block* b) {
  UWord first = b->start >> kGranuleShift, last = (b->start + b->size - 1) >> kGranuleShift;
  for (UWord g = first; g <= last; g++) g_granules[g & (kGranules - 1)] = kMixed;
  if (b->size < (1UL << kGranuleShift) || b->size <= g_opts.histogram_limit || b->site->acc) return;
  if (!g_opts.access_tracking || g_opts.mode != Mode::kHeap) return;
  UWord end;
  whole_granules(b, &first, &end);
  if (first >= end) return;
  UInt slot;
  if (g_n_free) slot = g_free[--g_n_free];
  else if (g_next_slot < kSlots) slot = g_next_slot++;
  else return;
  g_owner[slot] = b;
  for (UWord g = first; g < end; g++) g_granules[g & (kGranules - 1)] = static_cast<UChar>(slot);
}

void forget_all() {
  VG_(memset)(&g_reads, 0, sizeof g_reads);
  VG_(memset)(&g_writes, 0, sizeof g_writes);
  release_all();
}

void block_removed(const Block* b) {
  forget(&g_reads, b);
  forget(&g_writes, b);
  if (b->size < (1UL << kGranuleShift)) return;
  UWord first, end;
  whole_granules(b, &first, &end);
  if (first >= end) return;
  UChar slot = g_granules[first & (kGranules - 1)];
  if (slot >= kFirstSlot && g_owner[slot] == b) release(slot);
}

void fold_counts() {
  for (UInt slot = kFirstSlot; slot < g_next_slot; slot++)
    if (g_owner[slot]) fold(slot);
}

namespace {

// The full path: find the block, count, remember it.
template <bool kWrite>
__attribute__((noinline)) void slow_access(Addr a, UWord size, Recent* r) {
  const Block* b = store::containing(a);
  if (!b) return;
  Site* s = b->site;
  ULong* counter = kWrite ? &s->writes : &s->reads;
  *counter += size;
  count_histogram(s, b, a, size);
  remember(r, b, counter);
}

// Per-byte counters of an access wholly inside its block, several at once:
// W holds 2 or 4 of them. Each counter not yet saturated (0xFFFF) gains one;
// saturated ones stay, without a branch: in ~x a saturated counter is a
// zero lane, and ((y & 0x7fff) + 0x7fff) | y has bit 15 set exactly in the
// nonzero lanes.
template <class W> inline void bump_unsaturated(UShort* p) {
  constexpr W ones = static_cast<W>(0x0001000100010001ULL);
  constexpr W low15 = static_cast<W>(ones * 0x7FFF);
  W x;
  __builtin_memcpy(&x, p, sizeof x);
  W y = ~x;
  W live = ((y & low15) + low15) | y;
  x += (live >> 15) & ones;
  __builtin_memcpy(p, &x, sizeof x);
}

__attribute__((noinline)) void histogram_hit(const Block* b, Addr a, UWord size) {
  Site* s = b->site;
  UShort* h = s->acc;
  if (h && b->size == s->acc_size && a - b->start + size <= b->size) {
    UShort* p = h + (a - b->start);
    switch (size) {
      case 1:
        if (*p != 0xFFFF) ++*p;
        return;
      case 2:
        bump_unsaturated<UInt>(p);
        return;
      case 4:
        bump_unsaturated<ULong>(p);
        return;
      case 8:
        bump_unsaturated<ULong>(p);
        bump_unsaturated<ULong>(p + 4);
        return;
      default: break;
    }
  }
  count_histogram(s, b, a, size);
}

// The path nearly every access takes: an owned granule, or a hit in the
// recent blocks. It saves no registers and keeps no frame (the misses
// tail-call slow_access), so a hit costs a dozen instructions.
template <bool kWrite>
__attribute__((always_inline, optimize("omit-frame-pointer"))) inline void access(Addr a, UWord size) {
  Recent* r = kWrite ? &g_writes : &g_reads;
  const UChar slot = g_granules[(a >> kGranuleShift) & (kGranules - 1)];
  // Within the span an owned granule lies wholly inside its block; beyond
  // it, the byte is an alias's.
  if (slot >= kFirstSlot && (a >> kFilterSpanBits) == 0) {
    (kWrite ? g_slots[slot].writes : g_slots[slot].reads) += size;
    return;
  }
#pragma GCC unroll 4
  for (int i = 0; i < kRecent; i++) {
    if (a - r->start[i] < r->end[i] - r->start[i]) {
      *r->counter[i] += size;
      if (__builtin_expect(r->histo[i], 0)) histogram_hit(r->b[i], a, size);
      return;
    }
  }
  slow_access<kWrite>(a, size, r);
}

}  // namespace

__attribute__((optimize("omit-frame-pointer"))) VG_REGPARM(2) void on_read(Addr a, UWord size) {
  access<false>(a, size);
}
__attribute__((optimize("omit-frame-pointer"))) VG_REGPARM(2) void on_write(Addr a, UWord size) {
  access<true>(a, size);
}

VG_REGPARM(2) void on_group(Addr a0, ULong code) {
  UInt n = code & 7;
  for (UInt i = 0; i < n; i++) {
    ULong e = code >> (3 + 13 * i);
    Long rel = static_cast<Long>(e << 54) >> 54;  // sign-extend 10 bits
    UWord size = 1UL << ((e >> 10) & 3);
    if ((e >> 12) & 1) access<true>(a0 + rel, size);
    else access<false>(a0 + rel, size);
  }
}

namespace {
template <UWord N> __attribute__((optimize("omit-frame-pointer"))) VG_REGPARM(1) void read_n(Addr a) {
  access<false>(a, N);
}
template <UWord N> __attribute__((optimize("omit-frame-pointer"))) VG_REGPARM(1) void write_n(Addr a) {
  access<true>(a, N);
}

#define MT_SIZED(n) {n, reinterpret_cast<void*>(&read_n<n>), reinterpret_cast<void*>(&write_n<n>), "mt_on_read" #n, "mt_on_write" #n}
const SizedHelpers kSized[] = {MT_SIZED(1), MT_SIZED(2), MT_SIZED(4), MT_SIZED(8), MT_SIZED(16), MT_SIZED(32)};
#undef MT_SIZED
}  // namespace

const SizedHelpers* sized_helpers(UWord size) {
  for (const SizedHelpers& h : kSized)
    if (h.size == size) return &h;
  return nullptr;
}

void track_syscall_accesses() {
  VG_(track_pre_mem_read)(syscall_read);
  VG_(track_pre_mem_read_asciiz)(syscall_read_asciiz);
  VG_(track_post_mem_write)(syscall_write);
}

}  // namespace mt::access
