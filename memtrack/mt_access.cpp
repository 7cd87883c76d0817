// Access accounting. An access counts for the live block it starts in (an
// access starting before a block does not count for it; one running past the
// end counts its whole size), as in DHAT. Counts go to the block's site at
// once: DHAT folds them there when the block retires, and every block
// retires by the end, so the figures are the same with 32-byte blocks.
#include "mt_access.h"
#include "mt_heap.h"
#include "mt_sites.h"

namespace mt::access {

namespace {

UChar* g_granules;
// The last two blocks hit, for reads and for writes apart: most accesses
// fall in a block an access of the same kind just touched (a copy reads one
// block and writes another; a compressor reads its window and its hash
// table in turn). Never null: an empty sentinel stands in when there is none.
Block g_none;
struct Recent {
  const Block* b[2];
};
Recent g_reads = {{&g_none, &g_none}};
Recent g_writes = {{&g_none, &g_none}};

inline const Block* find(Addr a, Recent* r) {
  const Block* b = r->b[0];
  if (a - b->start < b->size) return b;
  b = r->b[1];
  if (a - b->start < b->size) {
    r->b[1] = r->b[0];
    r->b[0] = b;
    return b;
  }
  b = heap::index().containing(a);
  if (b) {
    r->b[1] = r->b[0];
    r->b[0] = b;
  }
  return b;
}

inline void forget(Recent* r, const Block* b) {
  for (auto& x : r->b)
    if (x == b) x = &g_none;
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
  // DHAT 3.19 counts strlen(str+1), two bytes fewer for every heap path.
  if (part == Vg_CoreSysCall && str) on_read(str, VG_(strlen)(reinterpret_cast<const HChar*>(str)) + 1);
}

void syscall_write(CorePart part, ThreadId, Addr a, SizeT size) {
  if ((part == Vg_CoreSysCall || part == Vg_CoreClientReq) && size) on_write(a, size);
}

}  // namespace

void init() {
  g_granules = static_cast<UChar*>(VG_(am_shadow_alloc)(kGranules));
  if (!g_granules) {
    VG_(fmsg)("memtrack: cannot reserve %lu bytes for the heap filter\n", kGranules);
    VG_(exit)(1);
  }
  VG_(memset)(&g_none, 0, sizeof g_none);
}

const UChar* heap_granules() { return g_granules; }

void block_added(const Block* b) {
  UWord first = b->start >> kGranuleShift, last = (b->start + b->size - 1) >> kGranuleShift;
  for (UWord g = first; g <= last && g < kGranules; g++) g_granules[g] = 1;
}

void block_removed(const Block* b) {
  forget(&g_reads, b);
  forget(&g_writes, b);
}

VG_REGPARM(2) void on_read(Addr a, UWord size) {
  const Block* b = find(a, &g_reads);
  if (!b) return;
  Site* s = b->site;
  s->reads += size;
  // Test before setting: a store on every access to the same block costs
  // more than the branch (it was a quarter of this helper's time on xz).
  if (!b->was_read) const_cast<Block*>(b)->was_read = 1;
  count_histogram(s, b, a, size);
}

VG_REGPARM(2) void on_write(Addr a, UWord size) {
  const Block* b = find(a, &g_writes);
  if (!b) return;
  Site* s = b->site;
  s->writes += size;
  if (!b->was_written) const_cast<Block*>(b)->was_written = 1;
  count_histogram(s, b, a, size);
}

namespace {
template <UWord N> VG_REGPARM(1) void read_n(Addr a) { on_read(a, N); }
template <UWord N> VG_REGPARM(1) void write_n(Addr a) { on_write(a, N); }

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
