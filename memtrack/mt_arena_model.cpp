// The client arena's placement, simulated (see mt_arena_model.h for why).
//
// What decides a block's usable size in m_mallocfree.c, and so what is
// modelled here, step by step as the core does it (3.19 to 3.27 alike):
//
// * A block is its payload plus admin bytes on both sides: low = the size
//   word + the redzone (+ --profile-heap's cost-centre word), high = the
//   redzone + the size word. The redzone is the tool's (0 for memtrack,
//   raised to a pointer and to make the low admin a multiple of 16), or
//   --redzone-size; the core tells the effective one. Requests are rounded
//   up to 16 bytes.
// * Free blocks sit on 112 circular lists by payload size (one size each up
//   to 63 units of 16, then ranges growing by 5%, 10%, 20%). A malloc
//   searches from its size's list upwards, each list from its head, and
//   takes the first block big enough; after 100 blocks on one list it moves
//   that list's head one along and tries the next list. A freed block joins
//   its list at the tail (before the head). Taking a block off a list makes
//   the block before it the head, then moves the head to the lowest address
//   among the 5 blocks either side ("swizzle"): addresses matter, so model
//   blocks carry addresses (below).
// * The block found is split when what is left is at least a whole block's
//   admin bytes; else the whole block is given, and its usable size is
//   bigger than asked: this is the slop the queue changes, since it decides
//   which free blocks exist.
// * A free merges the block with a free successor, then with a free
//   predecessor, within its superblock (each merge takes both off their
//   lists and puts the merged block at the tail of its list).
// * No block fits: a new superblock, the request plus its 32-byte header,
//   at least 4 MiB, rounded to pages. Bigger than 4 MiB: unsplittable (one
//   block, the whole payload, unmapped as soon as it is freed). A superblock
//   whose blocks are all free is reclaimed late: it waits until another
//   becomes empty or until any arena needs a new superblock.
// * memalign asks malloc for size + one block's admin + the alignment (with
//   unsplittable superblocks turned off), puts the part below the aligned
//   address back on a free list (without merging it) and gives the rest of
//   the block, whatever its length, to the aligned block.
//
// Blocks have addresses because the lists' order depends on them
// (swizzle), and memalign's layout on an address's alignment. A new model
// superblock goes where the core's address-space manager would map it in
// massif's run: the lowest gap that fits (its first fit for client
// mappings), in the address space as it is, less the real arena's
// superblocks, plus the model's. What the model cannot see: where the
// program's own mappings would have gone in that run, and a new superblock
// of a non-client arena (the core's, the tool's), which also reclaims the
// client arena's waiting superblock. The self-check follows the real arena
// there (it sees the mapping go) and counts such events; see
// docs/design.md for what they cost.
//
// Cost: a 64-byte record per block of the model (live or free) and a hash
// entry per live block, from the tool arena; the search is the arena's own.
// With --leak-check=full and a massif file, python3 (177,018 allocations)
// ran 5% longer with 8 MB more peak RSS, sqlite3 5% and 0.3 MB
// (docs/design.md). Nothing runs when the model is off.
#include "mt_arena_model.h"
#include "mt_options.h"

// Core variable and function without a tool header.
extern "C" {
extern Bool VG_(clo_profile_heap);
extern Addr VG_(am_get_advisory_client_simple)(Addr start, SizeT len, Bool* ok);
}

namespace mt::arena_model {

bool g_active;

namespace {

namespace A = vgcompat::arena;

struct Sb;

struct MBlock {
  ULong addr;  // of the block (not the payload), in the model's address space
  SizeT bszB;  // the whole block, admin bytes included
  Sb* sb;
  MBlock* prev;  // neighbours in the superblock, by address
  MBlock* next;
  MBlock* fl_prev;  // the free list ring, while free
  MBlock* fl_next;
  UInt lno;
  bool free;
};

struct Sb {
  ULong base;  // model address of the superblock (its header)
  SizeT bytes;  // mapped: header + payload
  bool unsplittable;
  MBlock* first;
  Addr real;  // the self-check: the real superblock's address, 0 unknown
};

SizeT g_lo, g_hi, g_overhead;  // admin bytes below and above a payload; both
bool g_check;
Pool<MBlock> g_blocks;
Vec<Sb*> g_sbs;  // by address
Sb* g_deferred;  // the empty superblock whose reclaim waits
MBlock* g_head[A::kLists];
PtrMap<MBlock> g_by_real;  // live blocks by the real payload address

struct Stats {
  ULong allocs, frees, superblocks, reclaims, unsplittable, external_reclaims, checked;
} g_st;

// The last operations, printed when the self-check fails.
struct Op {
  char kind;  // 'm' alloc, 'f' free
  SizeT align, n;
  Addr real;
  SizeT usable;
};
constexpr UInt kOps = 16;
Op g_ops[kOps];
ULong g_nops;

inline SizeT round_up(SizeT n, SizeT to) { return (n + to - 1) & ~(to - 1); }

UInt list_of(SizeT pszB) {
  SizeT n = pszB / A::kMinMalloc;
  if (n < A::kExactLists) return (UInt)n;
  UInt lo = 0, hi = A::kLists - A::kExactLists;  // last start <= n
  while (hi - lo > 1) {
    UInt mid = (lo + hi) / 2;
    if (A::kListStart[mid] <= n) lo = mid;
    else hi = mid;
  }
  return A::kExactLists + lo;
}

inline UInt list_of_block(SizeT bszB) { return list_of(bszB - g_overhead); }

// ---- free lists --------------------------------------------------------------

void swizzle(UInt lno) {
  MBlock* best = g_head[lno];
  MBlock* pn = best;
  MBlock* pp = best;
  for (UInt i = 0; i < A::kSwizzleReach; i++) {
    pn = pn->fl_next;
    pp = pp->fl_prev;
    if (pn->addr < best->addr) best = pn;
    if (pp->addr < best->addr) best = pp;
  }
  g_head[lno] = best;
}

// mkFreeBlock: free, at the tail of its list.
void make_free(MBlock* b) {
  UInt lno = list_of_block(b->bszB);
  b->lno = lno;
  b->free = true;
  MBlock* h = g_head[lno];
  if (!h) {
    b->fl_prev = b->fl_next = b;
    g_head[lno] = b;
  } else {
    MBlock* t = h->fl_prev;
    t->fl_next = b;
    h->fl_prev = b;
    b->fl_next = h;
    b->fl_prev = t;
  }
}

// unlinkBlock: the block before it becomes the head, then swizzle.
void unlink(MBlock* b) {
  UInt lno = b->lno;
  if (b->fl_prev == b) {
    g_head[lno] = nullptr;
  } else {
    MBlock* p = b->fl_prev;
    MBlock* n = b->fl_next;
    g_head[lno] = p;
    p->fl_next = n;
    n->fl_prev = p;
    swizzle(lno);
  }
  b->fl_prev = b->fl_next = nullptr;
  b->free = false;
}

// ---- superblocks -----------------------------------------------------------

void reclaim(Sb* sb) {
  for (SizeT i = 0; i < g_sbs.size(); i++)
    if (g_sbs[i] == sb) {
      g_sbs.remove_at(i);
      break;
    }
  g_blocks.put(sb->first);
  dealloc(sb);
  g_st.reclaims++;
}

// deferred_reclaimSuperblock: sb (or null) waits; the one waiting before is
// reclaimed if it is still empty.
void defer(Sb* sb) {
  if (!sb && !g_deferred) return;
  if (g_deferred && g_deferred != sb) {
    MBlock* f = g_deferred->first;
    if (f->free && !f->next) {
      unlink(f);
      reclaim(g_deferred);
    }
  }
  g_deferred = sb;
}

// Where the address-space manager would map a superblock of this many
// bytes in massif's run: the lowest free gap from the start of the client's
// space (its first fit), in the address space as it is now, except that
// the real arena's superblocks are not there and the model's are. Reads
// the segment list: once per new superblock (4 MiB, or a block beyond).
Vec<Addr> g_starts;

ULong place(SizeT bytes) {
  // The search starts at the client space's start; nothing below the first
  // free page, the first real client-heap mapping and the first model
  // superblock is free in either space, so the lowest of those will do.
  Bool ok;
  Addr from = VG_(am_get_advisory_client_simple)(0, VKI_PAGE_SIZE, &ok);
  if (!ok) from = ~(Addr)0;
  if (g_sbs.size() && g_sbs[0]->base < from) from = g_sbs[0]->base;
  const UInt kinds = SkAnonC | SkAnonV | SkFileC | SkFileV | SkShmC | SkResvn;
  Int n = VG_(am_get_segment_starts)(kinds, g_starts.begin(), (Int)g_starts.size());
  if (n < 0) {
    g_starts.resize((SizeT)-n + 64);
    n = VG_(am_get_segment_starts)(kinds, g_starts.begin(), (Int)g_starts.size());
    tl_assert(n >= 0);
  }
  for (Int i = 0; i < n; i++) {
    const NSegment* seg = VG_(am_find_nsegment)(g_starts[i]);
    if (seg && seg->kind == SkAnonC && seg->isCH && seg->start < from) from = seg->start;
  }
  // First fit over the occupied intervals of both lists, in address order.
  ULong at = from;
  Int i = 0;
  SizeT j = 0;
  for (;;) {
    ULong start, end;  // the next occupied interval
    const NSegment* seg = nullptr;
    while (i < n) {
      seg = VG_(am_find_nsegment)(g_starts[i]);
      if (seg && !(seg->kind == SkAnonC && seg->isCH) && seg->end + 1 > at) break;
      seg = nullptr;
      i++;
    }
    while (j < g_sbs.size() && g_sbs[j]->base + g_sbs[j]->bytes <= at) j++;
    if (!seg && j == g_sbs.size()) return at;
    if (seg && (j == g_sbs.size() || seg->start < g_sbs[j]->base)) {
      start = seg->start;
      end = (ULong)seg->end + 1;
      i++;
    } else {
      start = g_sbs[j]->base;
      end = start + g_sbs[j]->bytes;
      j++;
    }
    if (start >= at + bytes) return at;
    if (end > at) at = end;
  }
}

Sb* new_superblock(SizeT req_bszB, bool splittable) {
  defer(nullptr);  // a new superblock in any arena reclaims the waiting one
  SizeT bytes = req_bszB + A::kSuperblockHeader;
  if (bytes < A::kClientSuperblock) bytes = A::kClientSuperblock;
  bytes = VG_PGROUNDUP(bytes);
  Sb* sb = static_cast<Sb*>(mt::alloc("mt.arena.sb", sizeof(Sb)));
  sb->base = place(bytes);
  sb->bytes = bytes;
  sb->unsplittable = !splittable && bytes >= A::kClientSuperblock + 1;
  sb->real = 0;
  SizeT i = 0;
  while (i < g_sbs.size() && g_sbs[i]->base < sb->base) i++;
  g_sbs.insert_at(i, sb);
  MBlock* b = g_blocks.get();
  b->addr = sb->base + A::kSuperblockHeader;
  b->bszB = bytes - A::kSuperblockHeader;
  b->sb = sb;
  b->prev = b->next = nullptr;
  sb->first = b;
  make_free(b);
  g_st.superblocks++;
  if (sb->unsplittable) g_st.unsplittable++;
  return sb;
}

// ---- malloc, memalign, free --------------------------------------------------

Sb* g_made;  // the superblock the last malloc made, if any (the self-check)

MBlock* malloc_block(SizeT n, bool splittable_only) {
  SizeT req_bszB = round_up(n, A::kMinMalloc) + g_overhead;
  MBlock* b = nullptr;
  Sb* made = nullptr;
  for (UInt lno = list_of(req_bszB - g_overhead); lno < A::kLists && !b; lno++) {
    MBlock* c = g_head[lno];
    if (!c) continue;
    for (UInt tries = 1;; tries++) {
      if (tries >= A::kSearchesPerList && lno < A::kLists - 1) {
        g_head[lno] = g_head[lno]->fl_next;  // next time, start one further on
        break;
      }
      if (c->bszB >= req_bszB) {
        b = c;
        break;
      }
      c = c->fl_next;
      if (c == g_head[lno]) break;
    }
  }
  if (!b) {
    made = new_superblock(req_bszB, splittable_only);
    b = made->first;
  }
  g_made = made;
  SizeT frag = b->bszB - req_bszB;
  unlink(b);
  if (frag >= g_overhead && !(made && made->unsplittable)) {
    MBlock* f = g_blocks.get();
    f->addr = b->addr + req_bszB;
    f->bszB = frag;
    f->sb = b->sb;
    f->prev = b;
    f->next = b->next;
    if (b->next) b->next->prev = f;
    b->next = f;
    b->bszB = req_bszB;
    make_free(f);
  }
  return b;
}

MBlock* memalign_block(SizeT align, SizeT n) {
  SizeT req_pszB = round_up(n, A::kMinMalloc);
  MBlock* b = malloc_block(req_pszB + g_overhead + align, true);
  ULong end = b->addr + b->bszB;
  ULong payload = round_up(b->addr + 2 * g_lo + g_hi, align);
  MBlock* a = g_blocks.get();
  a->addr = payload - g_lo;
  a->bszB = end - a->addr;
  a->sb = b->sb;
  a->free = false;
  a->fl_prev = a->fl_next = nullptr;
  a->prev = b;
  a->next = b->next;
  if (b->next) b->next->prev = a;
  b->next = a;
  b->bszB = a->addr - b->addr;
  make_free(b);  // the part below: back on a list, not merged
  return a;
}

void free_block(MBlock* b) {
  Sb* sb = b->sb;
  if (sb->unsplittable) {
    reclaim(sb);  // its one block: sb->first
    return;
  }
  make_free(b);
  if (MBlock* n = b->next; n && n->free) {
    unlink(b);
    unlink(n);
    b->bszB += n->bszB;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    g_blocks.put(n);
    make_free(b);
  }
  if (MBlock* p = b->prev; p && p->free) {
    unlink(b);
    unlink(p);
    p->bszB += b->bszB;
    p->next = b->next;
    if (b->next) b->next->prev = p;
    g_blocks.put(b);
    b = p;
    make_free(b);
  }
  if (!b->prev && !b->next) defer(sb);
}

inline SizeT usable_of(const MBlock* b) { return b->bszB - g_overhead; }

// ---- the self-check --------------------------------------------------------

bool client_heap_at(Addr a) {
  const NSegment* s = VG_(am_find_nsegment)(a);
  return s && s->kind == SkAnonC && s->isCH;
}

// The real arena reclaimed its waiting superblock because some other arena
// needed a new one (the self-check sees the mapping gone): do the same.
void follow_external_reclaim() {
  if (!g_deferred || !g_deferred->real || client_heap_at(g_deferred->real)) return;
  MBlock* f = g_deferred->first;
  if (f->free && !f->next) {
    unlink(f);
    reclaim(g_deferred);
    g_st.external_reclaims++;
  }
  g_deferred = nullptr;
}

void note(char kind, SizeT align, SizeT n, Addr real, SizeT usable) {
  g_ops[g_nops++ % kOps] = Op{kind, align, n, real, usable};
}

[[noreturn]] void check_failed(const char* what, SizeT align, SizeT n, Addr real, Addr model_real, SizeT model_usable) {
  VG_(umsg)("memtrack: ARENA MODEL CHECK FAILED at allocation %llu (memalign %lu, %lu bytes): %s\n", g_st.allocs,
            align, n, what);
  VG_(umsg)("memtrack:   real block %#lx, usable %lu; model block %#lx, usable %lu\n", real,
            VG_(cli_malloc_usable_size)(reinterpret_cast<void*>(real)), model_real, model_usable);
  VG_(umsg)("memtrack:   model: %lu superblocks, %llu made, %llu reclaimed (%llu by other arenas)\n", g_sbs.size(),
            g_st.superblocks, g_st.reclaims, g_st.external_reclaims);
  ULong first = g_nops > kOps ? g_nops - kOps : 0;
  for (ULong i = first; i < g_nops; i++) {
    const Op& o = g_ops[i % kOps];
    if (o.kind == 'm')
      VG_(umsg)("memtrack:   op %llu: alloc align %lu n %lu -> %#lx usable %lu\n", i, o.align, o.n, o.real, o.usable);
    else
      VG_(umsg)("memtrack:   op %llu: free %#lx\n", i, o.real);
  }
  VG_(tool_panic)((HChar*)"arena model check failed (--arena-model-check=yes)");
}

void check(SizeT align, SizeT n, Addr real, MBlock* b) {
  Sb* sb = b->sb;
  const ULong off = b->addr + g_lo - sb->base;  // of the payload in its superblock
  if (g_made) {
    // A new superblock: the real one should be new too.
    sb->real = real - off;
    for (SizeT i = 0; i < g_sbs.size(); i++) {
      Sb* o = g_sbs[i];
      if (o == sb || !o->real) continue;
      if (o->real == sb->real) check_failed("the model made a superblock, the real arena did not", align, n, real, real, usable_of(b));
    }
    if (!client_heap_at(sb->real)) check_failed("no client heap mapping at the new superblock", align, n, real, sb->real + off, usable_of(b));
    // Where the model's address-space rule put it: the real place.
    if (sb->base != sb->real) check_failed("superblock mapped elsewhere", align, n, real, sb->base + off, usable_of(b));
  }
  Addr model_real = sb->real + off;
  SizeT u = VG_(cli_malloc_usable_size)(reinterpret_cast<void*>(real));
  if (model_real != real) check_failed("placed elsewhere", align, n, real, model_real, usable_of(b));
  if (u != usable_of(b)) check_failed("usable sizes differ", align, n, real, model_real, usable_of(b));
  g_st.checked++;
}

}  // namespace

void post_options() {
  g_check = g_opts.arena_model_check;
  tl_assert(!g_check || g_opts.freelist_vol == 0);  // the options refuse the queue with the check
  g_active = g_check || (g_opts.massif_out_file && g_opts.freelist_vol > 0);
  if (!g_active) return;
  // The client arena's admin bytes, from the running core: its effective
  // redzone, and --profile-heap's word in front of every block.
  SizeT rz = VG_(malloc_effective_client_redzone_size)();
  SizeT hp = VG_(clo_profile_heap) ? A::kMinMalloc : 0;
  g_lo = hp + sizeof(SizeT) + rz;
  g_hi = rz + sizeof(SizeT);
  g_overhead = g_lo + g_hi;
  tl_assert(g_lo % A::kMinMalloc == 0);
  g_blocks.init("mt.arena.blocks", 4096);
  g_sbs.init("mt.arena.sbs");
  g_by_real.init("mt.arena.byreal", 4096);
  g_deferred = nullptr;
  g_starts.init("mt.arena.starts");
  g_starts.resize(256);
}

void alloc(SizeT align, SizeT n, Addr real) {
  if (g_check) follow_external_reclaim();
  MBlock* b = align == A::kMinMalloc ? malloc_block(n, false) : memalign_block(align, n);
  g_st.allocs++;
  g_by_real.put(real, b);
  if (g_check) {
    note('m', align, n, real, usable_of(b));
    check(align, n, real, b);
  }
}

void free(Addr real) {
  if (g_check) {
    follow_external_reclaim();
    note('f', 0, 0, real, 0);
  }
  MBlock* b = g_by_real.remove(real);
  if (!b) return;  // not one the model placed
  g_st.frees++;
  free_block(b);
}

SizeT usable(Addr real) {
  MBlock* b = g_by_real.get(real);
  return b ? usable_of(b) : VG_(cli_malloc_usable_size)(reinterpret_cast<void*>(real));
}

SizeT tool_bytes() {
  if (!g_active) return 0;
  return g_blocks.bytes_reserved() + g_by_real.bytes_reserved() + g_sbs.size() * (sizeof(Sb) + sizeof(Sb*));
}

void print_stats() {
  if (!g_active) return;
  VG_(dmsg)("memtrack: arena model: %'llu allocations, %'llu frees, %'llu superblocks made (%'llu unsplittable), "
            "%'llu reclaimed, %'lu held; %'lu bytes of tool memory\n",
            g_st.allocs, g_st.frees, g_st.superblocks, g_st.unsplittable, g_st.reclaims, g_sbs.size(), tool_bytes());
  if (g_check)
    VG_(dmsg)("memtrack: arena model check: %'llu allocations placed as the real arena placed them; %'llu waiting "
              "superblocks reclaimed by other arenas\n",
              g_st.checked, g_st.external_reclaims);
}

}  // namespace mt::arena_model
