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
// Owned granules: a block of a granule or more, whose site keeps no
// per-byte counts, gets a slot; the granules it touches hold the slot's
// number (its whole granules, and its first and last partial ones unless
// another block's slot holds them already), and an access there that
// starts inside the block goes to the slot's counters, which reach the
// site when the slot is given up or folded. A partial granule another
// slot holds links that slot to this one, which the helper tries next.
// The range checks also keep an aliased granule (an address beyond the
// filter's span) from counting for a slot's block.
struct Slot {
  Addr start;        // the block's range; size 0 when the slot is free
  UWord size;
  ULong reads, writes;
};
Slot g_slots[kSlots];      // slots 0 and 1 stay empty: link 0 matches nothing
UChar g_link[kSlots];      // another slot whose block lies in one of this one's granules
const Block* g_owner[kSlots];
UWord g_claimed_first[kSlots], g_claimed_end[kSlots];  // granules holding the slot
UChar g_free[kSlots];       // released slots, a stack
UInt g_n_free;
UInt g_next_slot = kFirstSlot;  // slots never used: g_next_slot..kSlots-1

inline UChar& granule_byte(UWord g) { return g_granules[g & (kGranules - 1)]; }

inline void block_granules(const Block* b, UWord* first, UWord* last) {
  *first = b->start >> kGranuleShift;
  *last = (b->start + b->size - 1) >> kGranuleShift;
}

// The slot's counts into its block's site.
void fold(UInt slot) {
  const Block* b = g_owner[slot];
  b->site->reads += g_slots[slot].reads;
  b->site->writes += g_slots[slot].writes;
  g_slots[slot].reads = g_slots[slot].writes = 0;
}

// The slot takes its block's end granules that no slot holds now.
void claim_ends(UInt slot) {
  UWord first, last;
  block_granules(g_owner[slot], &first, &last);
  if (g_claimed_first[slot] == first + 1 && granule_byte(first) < kFirstSlot) {
    granule_byte(first) = static_cast<UChar>(slot);
    g_claimed_first[slot] = first;
  }
  if (g_claimed_end[slot] == last && granule_byte(last) < kFirstSlot) {
    granule_byte(last) = static_cast<UChar>(slot);
    g_claimed_end[slot] = last + 1;
  }
}

void release(UInt slot) {
  fold(slot);
  g_owner[slot] = nullptr;
  g_slots[slot].start = g_slots[slot].size = 0;
  for (UWord g = g_claimed_first[slot]; g < g_claimed_end[slot]; g++) granule_byte(g) = kMixed;
  for (UInt s = kFirstSlot; s < g_next_slot; s++)
    if (g_link[s] == slot) g_link[s] = 0;
  const UChar linked = g_link[slot];
  g_link[slot] = 0;
  if (linked && g_owner[linked]) claim_ends(linked);  // the granule it shared
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
// block or its site's other fields: the range, the counter to add to and,
// when the site keeps per-byte counts, its array of them (dropped from the
// entries when the site stops keeping them: histogram_dropped).
constexpr int kRecent = 4;
struct Recent {
  Addr start[kRecent], end[kRecent];   // empty entries have start == end == 0
  ULong* counter[kRecent];
  const Block* b[kRecent];
  UShort* hist[kRecent];
};
Recent g_reads;
Recent g_writes;

inline void remember(Recent* r, const Block* b, ULong* counter) {
  for (int i = kRecent - 1; i > 0; i--) {
    r->start[i] = r->start[i - 1]; r->end[i] = r->end[i - 1];
    r->counter[i] = r->counter[i - 1]; r->b[i] = r->b[i - 1]; r->hist[i] = r->hist[i - 1];
  }
  const Site* s = b->site;
  r->start[0] = b->start; r->end[0] = b->start + b->size;
  r->counter[0] = counter; r->b[0] = b;
  r->hist[0] = s->acc && b->size == s->acc_size ? s->acc : nullptr;
}

inline void forget(Recent* r, const Block* b) {
  for (int i = 0; i < kRecent; i++)
    if (r->b[i] == b) { r->start[i] = r->end[i] = 0; r->b[i] = nullptr; r->hist[i] = nullptr; }
}

// Per-byte counters h[from..to) each gain one, saturating at 0xFFFF.
inline void bump_range(UShort* h, UWord from, UWord to) {
  for (UWord i = from; i < to; i++)
    if (h[i] != 0xFFFF) h[i]++;
}

inline void count_histogram(Site* s, const Block* b, Addr a, UWord size) {
  UShort* h = s->acc;
  if (!h || b->size != s->acc_size) return;
  const UWord from = a - b->start;
  bump_range(h, from, min<UWord>(from + size, b->size));
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
  UWord first, last;
  block_granules(b, &first, &last);
  UInt slot = 0;
  if (b->size >= (1UL << kGranuleShift) && b->size > g_opts.histogram_limit && !b->site->acc &&
      g_opts.access_tracking && g_opts.mode == Mode::kHeap) {
    if (g_n_free) slot = g_free[--g_n_free];
    else if (g_next_slot < kSlots) slot = g_next_slot++;
  }
  if (!slot) {
    for (UWord g = first; g <= last; g++)
      if (granule_byte(g) == 0) granule_byte(g) = kMixed;
    return;
  }
  // An end granule another slot holds stays that slot's, linked to this
  // one if its link is free; the granules between are the block's alone.
  const UChar held_first = granule_byte(first) >= kFirstSlot ? granule_byte(first) : 0;
  const UChar held_last = granule_byte(last) >= kFirstSlot ? granule_byte(last) : 0;
  const UWord claim_first = first + (held_first != 0);
  const UWord claim_end = last + (held_last == 0 || last == first);
  // Nothing of its own: no slot (its one or two granules are other slots',
  // so the filter marks them already).
  if (claim_first >= claim_end) {
    g_free[g_n_free++] = static_cast<UChar>(slot);
    return;
  }
  for (UWord g = claim_first; g < claim_end; g++) granule_byte(g) = static_cast<UChar>(slot);
  if (held_first && !g_link[held_first]) g_link[held_first] = static_cast<UChar>(slot);
  if (held_last && !g_link[held_last]) g_link[held_last] = static_cast<UChar>(slot);
  g_owner[slot] = b;
  g_slots[slot].start = b->start;
  g_slots[slot].size = b->size;
  g_claimed_first[slot] = claim_first;
  g_claimed_end[slot] = claim_end;
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
  // Its slot's granules start at its first granule or the next one: no
  // other slot takes those (live blocks never overlap; a custom
  // allocator's blocks are no Blocks).
  UWord first = b->start >> kGranuleShift;
  for (UWord g = first; g <= first + 1; g++) {
    UChar slot = granule_byte(g);
    if (slot >= kFirstSlot && g_owner[slot] == b) {
      release(slot);
      return;
    }
  }
}

void histogram_dropped(const UShort* acc) {
  for (int i = 0; i < kRecent; i++) {
    if (g_reads.hist[i] == acc) g_reads.hist[i] = nullptr;
    if (g_writes.hist[i] == acc) g_writes.hist[i] = nullptr;
  }
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

// The counters of an access of 1, 2, 4 or 8 bytes wholly inside its block,
// several at once; false for other sizes.
__attribute__((always_inline)) inline bool bump_whole(UShort* p, UWord size) {
  switch (size) {
    case 1:
      if (*p != 0xFFFF) ++*p;
      return true;
    case 2:
      bump_unsaturated<UInt>(p);
      return true;
    case 4:
      bump_unsaturated<ULong>(p);
      return true;
    case 8:
      bump_unsaturated<ULong>(p);
      bump_unsaturated<ULong>(p + 4);
      return true;
    default:
      return false;
  }
}

// Per-byte counts of an access at offset off of a block of bsize bytes
// whose counts are h: the bytes it covers within the block.
__attribute__((noinline)) void histogram_any(UShort* h, UWord off, UWord bsize, UWord size) {
  if (off + size <= bsize && bump_whole(h + off, size)) return;
  bump_range(h, off, min<UWord>(off + size, bsize));
}

// The same inline where the size is a constant (the sized helpers): a
// block with per-byte counts can be among a program's hottest (xz: its
// 240-byte match finder state, 165 of the 1,324 million bytes accessed).
__attribute__((always_inline)) inline void histogram_hit(UShort* h, UWord off, UWord bsize, UWord size) {
  if (__builtin_constant_p(size) && size <= 8 && off + size <= bsize && bump_whole(h + off, size)) return;
  histogram_any(h, off, bsize, size);
}

// The path nearly every access takes: an owned granule, or a hit in the
// recent blocks. It saves no registers and keeps no frame (the misses
// tail-call slow_access), so a hit costs a dozen instructions.
template <bool kWrite>
__attribute__((always_inline, optimize("omit-frame-pointer"))) inline void access(Addr a, UWord size) {
  Recent* r = kWrite ? &g_writes : &g_reads;
  const UChar slot = g_granules[(a >> kGranuleShift) & (kGranules - 1)];
  if (slot >= kFirstSlot) {
    Slot* s = &g_slots[slot];
    if (a - s->start < s->size || (s = &g_slots[g_link[slot]], a - s->start < s->size)) {
      (kWrite ? s->writes : s->reads) += size;
      return;
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < kRecent; i++) {
    if (a - r->start[i] < r->end[i] - r->start[i]) {
      *r->counter[i] += size;
      if (__builtin_expect(r->hist[i] != nullptr, 0)) histogram_hit(r->hist[i], a - r->start[i], r->end[i] - r->start[i], size);
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
