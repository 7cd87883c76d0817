// Block index: a page directory. For each 4 KiB page that any live block
// touches, it holds the blocks that start in it (sorted) and the block, if
// any, that covers the page's first byte. Blocks never overlap, so "the last
// block starting at or before a in a's page, else the page's cover" answers
// containment with one radix walk and a short binary search, and the same
// walk finds a block by its exact start (free, realloc) without a separate
// hash table: 10 bytes of index per block (a pointer and a page offset).
// A leaf slot is null (no block touches the page), a tagged Block* (the page
// is only covered, no block starts in it), or a PageList*. Blocks of 256 KiB
// or more are covered through a second, coarser directory of 1 MiB granules
// instead of page by page (see big_add), so that a program holding gigabytes
// in big blocks costs the index 8 bytes per MiB, not per 4 KiB page.
#include "mt_blocks.h"
#include "mt_arch.h"

namespace mt {

const char* alloc_kind_name(AllocKind k) {
  switch (k) {
    case kAllocNew: return "new";
    case kAllocNewVec: return "new[]";
    default: return "malloc";
  }
}

// The list's starts are kept twice: as Block pointers, and as 16-bit offsets
// within the page in an array after them, which is what the binary search
// reads. Comparing through the pointers took a cache miss per probe into the
// blocks' pool (a page of small blocks holds up to 256 starts). Measured on
// 2026-12-07 (3.19, paired runs in random order): jq with full tracking,
// whose 364,000 live blocks miss the access cache often, 3.41 s -> 3.21 s
// (faster in 16 of 18 pairs, none 1.45 s); xz, sqlite3 and python3 within
// the noise; 2 bytes more per block, sqlite3's peak RSS unchanged.
struct PageEntry {
  Block* cover;   // block holding the page's first byte, if it starts earlier
  UInt n, cap;
  // Followed by Block* starts[cap] and UShort offs[cap], n of each in use,
  // sorted by start.
  Block** starts() { return reinterpret_cast<Block**>(this + 1); }
  Block* const* starts() const { return reinterpret_cast<Block* const*>(this + 1); }
  UShort* offs() { return reinterpret_cast<UShort*>(starts() + cap); }
  const UShort* offs() const { return reinterpret_cast<const UShort*>(starts() + cap); }
};
static_assert(arch::kPageShift <= 16, "page offsets are 16-bit");

// A 1 MiB granule meets at most five blocks of 256 KiB or more.
constexpr UInt kBigListCap = 8;
struct BlockIndex::BigList {
  UInt n;
  Block* b[kBigListCap];
};

namespace {

constexpr unsigned kLevelBits = 12;
constexpr UWord kLevelSize = 1UL << kLevelBits;
constexpr UWord kLevelMask = kLevelSize - 1;
constexpr unsigned kPageBits = arch::kAddrBits - arch::kPageShift;  // 36
static_assert(kPageBits == 3 * kLevelBits, "radix levels must cover the page number");

inline UWord page_of(Addr a) { return a >> arch::kPageShift; }

// Blocks of at least this many pages are "big": see big_add().
constexpr UWord kBigPages = 64;
constexpr unsigned kGranuleShift = 20;  // 1 MiB
constexpr unsigned kBigLevelBits = (arch::kAddrBits - kGranuleShift) / 2;  // 14
constexpr UWord kBigLevelSize = 1UL << kBigLevelBits;
static_assert(2 * kBigLevelBits + kGranuleShift == arch::kAddrBits, "granule radix must cover the address");
inline bool is_big(const Block* b) { return b->size >= kBigPages << arch::kPageShift; }

inline bool is_cover_only(PageEntry* e) { return (reinterpret_cast<UWord>(e) & 1) != 0; }
inline Block* cover_of(PageEntry* e) { return reinterpret_cast<Block*>(reinterpret_cast<UWord>(e) & ~1UL); }
inline PageEntry* tag_cover(Block* b) { return reinterpret_cast<PageEntry*>(reinterpret_cast<UWord>(b) | 1); }

inline bool holds(const Block* b, Addr a) { return a - b->start < b->size; }

SizeT list_bytes(UInt cap) { return sizeof(PageEntry) + cap * (sizeof(Block*) + sizeof(UShort)); }
inline UWord page_off(Addr a) { return a & ((1UL << arch::kPageShift) - 1); }

// Most pages hold a few starts, and a page's list comes and goes as its last
// block is freed and a new one starts there: the smallest lists recycle
// through a pool rather than the tool's arena.
constexpr UInt kSmallCap = 4;
struct SmallList {
  alignas(PageEntry) UChar bytes[sizeof(PageEntry) + kSmallCap * (sizeof(Block*) + sizeof(UShort))];
};
Pool<SmallList> g_small;
bool g_small_ready;

PageEntry* new_list(UInt cap) {
  if (cap == kSmallCap) return reinterpret_cast<PageEntry*>(g_small.get());
  return static_cast<PageEntry*>(alloc("mt.blocks.page", list_bytes(cap)));
}

void free_list(PageEntry* e) {
  if (e->cap == kSmallCap) g_small.put(reinterpret_cast<SmallList*>(e));
  else dealloc(e);
}

// Index of the first start > a, a in the list's page (so the candidate is
// the one before it).
UInt upper_bound(const PageEntry* e, Addr a) {
  const UShort* offs = e->offs();
  const UWord off = page_off(a);
  UInt lo = 0, hi = e->n;
  while (lo < hi) {
    UInt mid = (lo + hi) / 2;
    if (offs[mid] <= off) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// Moves a list's n entries into a list of a new capacity.
void copy_list(PageEntry* to, const PageEntry* from) {
  to->cover = from->cover;
  to->n = from->n;
  for (UInt i = 0; i < from->n; i++) {
    to->starts()[i] = from->starts()[i];
    to->offs()[i] = from->offs()[i];
  }
}

}  // namespace

void BlockIndex::init() {
  if (!g_small_ready) {
    // Chunks of about 12 KiB, as when a small list was 48 bytes and a chunk
    // held 256: with 14 KiB chunks xz's peak RSS on 3.27 rose by 130 KB, the
    // tool arena's later blocks landing on fresh pages in the final leak
    // search (same page faults in the tool's text, same arena peak).
    g_small.init("mt.blocks.page", 12288 / sizeof(SmallList));
    g_small_ready = true;
  }
  count_ = 0;
  root_ = map_array<PageEntry***>(kLevelSize);
  big_root_ = map_array<BigList**>(kBigLevelSize);
  big_leaves_ = big_lists_ = 0;
  big_sorted_.init("mt.blocks.big");
  leaves_ = 0;
  lists_bytes_ = 0;
}

PageEntry** BlockIndex::leaf_for(UWord page, bool create) {
  if (page >> kPageBits) return nullptr;
  UWord i1 = page >> (2 * kLevelBits), i2 = (page >> kLevelBits) & kLevelMask;
  PageEntry*** mid = root_[i1];
  if (!mid) {
    if (!create) return nullptr;
    mid = root_[i1] = map_array<PageEntry**>(kLevelSize);
  }
  PageEntry** leaf = mid[i2];
  if (!leaf) {
    if (!create) return nullptr;
    leaf = mid[i2] = map_array<PageEntry*>(kLevelSize);
    leaves_++;
  }
  return leaf;
}

PageEntry* BlockIndex::entry(UWord page) const {
  if (page >> kPageBits) return nullptr;
  PageEntry*** mid = root_[page >> (2 * kLevelBits)];
  if (!mid) return nullptr;
  PageEntry** leaf = mid[(page >> kLevelBits) & kLevelMask];
  return leaf ? leaf[page & kLevelMask] : nullptr;
}

// Sets (with != null) or clears the cover of every page after the first
// that b spans (fewer than kBigPages: bigger blocks use big_add()).
void BlockIndex::cover_range(Block* b, Block* with) {
  UWord last = page_of(b->start + b->size - 1);
  for (UWord p = page_of(b->start) + 1; p <= last;) {
    UWord stop = min(p | kLevelMask, last);
    PageEntry** leaf = leaf_for(p, with != nullptr);
    if (leaf) {
      for (UWord q = p; q <= stop; q++) {
        PageEntry*& slot = leaf[q & kLevelMask];
        if (slot == nullptr || is_cover_only(slot)) slot = with ? tag_cover(with) : nullptr;
        else slot->cover = with;
      }
    }
    p = stop + 1;
  }
}

void BlockIndex::insert(Block* b) {
  count_++;
  if (is_big(b)) {
    big_add(b);
    big_sorted_.insert_at(big_first_at_or_after(b->start), b);
    return;
  }
  PageEntry** leaf = leaf_for(page_of(b->start), true);
  tl_assert(leaf);
  PageEntry*& slot = leaf[page_of(b->start) & kLevelMask];
  if (slot == nullptr || is_cover_only(slot)) {
    Block* cover = slot ? cover_of(slot) : nullptr;
    PageEntry* e = new_list(kSmallCap);
    e->cover = cover;
    e->n = 1;
    e->cap = kSmallCap;
    e->starts()[0] = b;
    e->offs()[0] = static_cast<UShort>(page_off(b->start));
    lists_bytes_ += list_bytes(kSmallCap);
    slot = e;
  } else {
    PageEntry* e = slot;
    if (e->n == e->cap) {
      lists_bytes_ += list_bytes(e->cap * 2) - list_bytes(e->cap);
      PageEntry* bigger = new_list(e->cap * 2);
      bigger->cap = e->cap * 2;
      copy_list(bigger, e);
      free_list(e);
      e = slot = bigger;
    }
    UInt i = upper_bound(e, b->start);
    // Element moves, not VG_(memmove), which goes a byte at a time.
    Block** starts = e->starts();
    UShort* offs = e->offs();
    for (UInt j = e->n; j > i; j--) {
      starts[j] = starts[j - 1];
      offs[j] = offs[j - 1];
    }
    starts[i] = b;
    offs[i] = static_cast<UShort>(page_off(b->start));
    e->n++;
  }
  if (page_of(b->start + b->size - 1) != page_of(b->start)) cover_range(b, b);
}

void BlockIndex::remove(Block* b) {
  tl_assert(count_ > 0);
  count_--;
  if (is_big(b)) {
    big_remove(b);
    SizeT i = big_first_at_or_after(b->start);
    tl_assert(i < big_sorted_.size() && big_sorted_[i] == b);
    big_sorted_.remove_at(i);
    return;
  }
  PageEntry** leaf = leaf_for(page_of(b->start), false);
  tl_assert(leaf);
  PageEntry*& slot = leaf[page_of(b->start) & kLevelMask];
  tl_assert(slot && !is_cover_only(slot));
  PageEntry* e = slot;
  UInt i = upper_bound(e, b->start);
  Block** starts = e->starts();
  UShort* offs = e->offs();
  tl_assert(i > 0 && starts[i - 1] == b);
  for (UInt j = i; j < e->n; j++) {
    starts[j - 1] = starts[j];
    offs[j - 1] = offs[j];
  }
  e->n--;
  if (e->n == 0) {
    slot = e->cover ? tag_cover(e->cover) : nullptr;
    lists_bytes_ -= list_bytes(e->cap);
    free_list(e);
  }
  if (page_of(b->start + b->size - 1) != page_of(b->start)) cover_range(b, nullptr);
}

bool BlockIndex::list_of(PageEntry* e, Block* const** starts, UInt* n) {
  if (is_cover_only(e)) return false;
  *starts = e->starts();
  *n = e->n;
  return true;
}

Block* BlockIndex::at(Addr a) const {
  PageEntry* e = entry(page_of(a));
  if (e && !is_cover_only(e)) {
    UInt i = upper_bound(e, a);
    if (i > 0 && e->offs()[i - 1] == page_off(a)) return e->starts()[i - 1];
  }
  if (big_sorted_.empty()) return nullptr;
  Block* b = big_containing(a);
  return b && b->start == a ? b : nullptr;
}

Block* BlockIndex::containing(Addr a) const {
  PageEntry* e = entry(page_of(a));
  if (e) {
    if (is_cover_only(e)) {
      Block* b = cover_of(e);
      if (holds(b, a)) return b;
    } else {
      UInt i = upper_bound(e, a);
      if (i > 0) {
        Block* b = e->starts()[i - 1];
        if (holds(b, a)) return b;
      } else if (e->cover && holds(e->cover, a)) {
        return e->cover;
      }
    }
  }
  // Inside a big block: the granule directory.
  return big_containing(a);
}

// ---- big blocks --------------------------------------------------------------

BlockIndex::BigList** BlockIndex::big_slot(Addr granule, bool create) {
  if (granule >> (2 * kBigLevelBits)) return nullptr;
  BigList**& leaf = big_root_[granule >> kBigLevelBits];
  if (!leaf) {
    if (!create) return nullptr;
    leaf = map_array<BigList*>(kBigLevelSize);
    big_leaves_++;
  }
  return &leaf[granule & (kBigLevelSize - 1)];
}

void BlockIndex::big_add(Block* b) {
  for (Addr g = b->start >> kGranuleShift, last = (b->start + b->size - 1) >> kGranuleShift; g <= last; g++) {
    BigList** slot = big_slot(g, true);
    if (!slot) break;  // beyond the address space the index covers
    if (!*slot) {
      *slot = static_cast<BigList*>(alloc("mt.blocks.big", sizeof(BigList)));
      (*slot)->n = 0;
      big_lists_++;
    }
    BigList* l = *slot;
    tl_assert(l->n < kBigListCap);
    l->b[l->n++] = b;
  }
}

void BlockIndex::big_remove(Block* b) {
  for (Addr g = b->start >> kGranuleShift, last = (b->start + b->size - 1) >> kGranuleShift; g <= last; g++) {
    BigList** slot = big_slot(g, false);
    if (!slot || !*slot) break;
    BigList* l = *slot;
    for (UInt i = 0; i < l->n; i++) {
      if (l->b[i] == b) {
        l->b[i] = l->b[--l->n];
        break;
      }
    }
    if (l->n == 0) {
      dealloc(l);
      *slot = nullptr;
      big_lists_--;
    }
  }
}

Block* BlockIndex::big_containing(Addr a) const {
  Addr g = a >> kGranuleShift;
  if (g >> (2 * kBigLevelBits)) return nullptr;
  BigList** leaf = big_root_[g >> kBigLevelBits];
  if (!leaf) return nullptr;
  BigList* l = leaf[g & (kBigLevelSize - 1)];
  if (!l) return nullptr;
  for (UInt i = 0; i < l->n; i++)
    if (holds(l->b[i], a)) return l->b[i];
  return nullptr;
}

SizeT BlockIndex::big_first_at_or_after(Addr a) const {
  SizeT lo = 0, hi = big_sorted_.size();
  while (lo < hi) {
    SizeT mid = (lo + hi) / 2;
    if (big_sorted_[mid]->start < a) lo = mid + 1; else hi = mid;
  }
  return lo;
}

SizeT BlockIndex::bytes_reserved() const {
  return leaves_ * kLevelSize * sizeof(PageEntry*) + lists_bytes_ + big_leaves_ * kBigLevelSize * sizeof(BigList*) +
         big_lists_ * sizeof(BigList) + big_sorted_.size() * sizeof(Block*);
}

}  // namespace mt
