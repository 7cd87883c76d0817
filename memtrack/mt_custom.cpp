// Custom allocators, treated as memcheck 3.19 treats them (mc_main.c's
// client requests, mc_malloc_wrappers.c's custom blocks and mempools,
// mc_leakcheck.c's block set), so that leak reports and errors agree:
//  - MALLOCLIKE blocks count as allocations and stay "in use" until
//    FREELIKE; pool chunks count as allocations but never as in use;
//    DESTROY counts no frees, and the frees of MEMPOOL_FREE, TRIM and
//    auto-free count only where that memcheck counts them (3.27+,
//    vgcompat::kPoolFreesCounted);
//  - a request naming no pool is "Illegal memory pool address", one naming
//    no block is "Invalid free() / delete / delete[] / realloc()";
//  - FREELIKE of a malloc'd block frees it for memcheck (with a mismatch
//    error); DHAT never sees the request, so the heap module keeps the
//    memory, and the profile keeps the block (store::release).
// Their frees and "total heap usage" go through the block store, as the
// heap's do (memcheck keeps one set of counters and one free queue).
// memtrack never writes into custom memory: the allocator owns it. The
// massif file counts MALLOCLIKE/FREELIKE/RESIZEINPLACE by massif's own rules
// (mt_massif.cpp), told first, before the checks below.
#include "mt_custom.h"
#include "mt_undef.h"
#include "mt_store.h"
#include "mt_massif.h"
#include "mt_options.h"

#include "valgrind.h"

namespace mt::custom {

namespace {

// Red zone memcheck describes malloc'd and MALLOCLIKE blocks with (its
// default --redzone-size): "8 bytes after a block of size 16".
constexpr SizeT kMallocRedzone = 16;
// Frames of the stacks printed with -v -v -v (memcheck's depth).
constexpr UInt kDebugDepth = 16;

// PtrMap keys must be nonzero: addresses are stored with the top bit
// flipped. The one address that maps to 0 is not canonical on amd64, and
// requests naming it are ignored.
constexpr UWord kFlip = 1UL << 63;
inline UWord key_of(Addr a) { return a ^ kFlip; }
inline bool keyable(Addr a) { return a != kFlip; }

// Records by address, the newest first among equal ones: memcheck's hash
// tables keep duplicates and find the one added last.
template <class T, Addr T::*Key> struct Chain {
  PtrMap<T> map;
  SizeT n;
  void init(const char* cc, SizeT pow2) { map.init(cc, pow2); n = 0; }
  T* find(Addr a) const { return map.get(key_of(a)); }
  void add(T* t) {
    T* old = map.remove(key_of(t->*Key));
    t->next = old;
    map.put(key_of(t->*Key), t);
    n++;
  }
  T* take(Addr a) {
    T* t = map.remove(key_of(a));
    if (!t) return nullptr;
    if (t->next) map.put(key_of(a), t->next);
    t->next = nullptr;
    n--;
    return t;
  }
  void remove(T* t) {
    T* head = map.get(key_of(t->*Key));
    if (head == t) { take(t->*Key); return; }
    for (T* p = head; p; p = p->next)
      if (p->next == t) { p->next = t->next; t->next = nullptr; n--; return; }
  }
  // f must not change the chain.
  template <class F> void each(F f) const {
    map.each([&](UWord, T* t) { for (; t; t = t->next) f(t); });
  }
};

}  // namespace

struct Mempool {
  Addr anchor;      // the address the program names the pool by
  UInt rz;          // red zone around its chunks (for describing addresses)
  bool auto_free;   // freeing a chunk frees the blocks inside it
  bool metapool;    // its chunks may hold other blocks
  bool zeroed;      // its chunks come zeroed (defined), not undefined
  Mempool* next;    // an older pool with the same anchor (after MOVE_MEMPOOL)
  Chain<Chunk, &Chunk::start> chunks;
};

namespace {

Pool<Chunk> g_chunk_mem;
Chain<Chunk, &Chunk::start> g_blocks;  // MALLOCLIKE blocks
ULong g_block_bytes;
Chain<Mempool, &Mempool::anchor> g_pools;
SizeT g_pool_chunks;  // in all pools

Chunk* new_chunk(ThreadId tid, Addr start, SizeT size, Mempool* pool) {
  Chunk* c = g_chunk_mem.get();
  c->start = start;
  c->size = size;
  c->ec = VG_(record_ExeContext)(tid, 0);
  c->next = nullptr;
  c->pool = pool;
  return c;
}

// A freed block is remembered, like a freed malloc'd one, so that a later
// bad free there says "... free'd" with both stacks.
void retire(ThreadId tid, Chunk* c) {
  store::custom_freed(tid, c->start, c->size, c->ec);
  g_chunk_mem.put(c);
}

// A pool chunk, or a block an auto-free pool's chunk took with it, freed:
// a free in "total heap usage" where memcheck counts one.
void count_pool_free() {
  if (vgcompat::kPoolFreesCounted) store::count_free();
}

void bad_free(ThreadId tid, Addr a) { errors::bad_free(tid, a, errors::kFnFree, describe(a)); }
void illegal_pool(ThreadId tid, Addr pool) { errors::illegal_mempool(tid, pool, describe(pool)); }

// -v -v -v: memcheck's trace of each pool request.
bool tracing() { return VG_(clo_verbosity) > 2; }
void trace_stack(ThreadId tid) { VG_(get_and_pp_StackTrace)(tid, kDebugDepth); }

// ---- sorting ---------------------------------------------------------------

template <class T, class Less> void merge_sort(Vec<T>& v, Less less) {
  SizeT n = v.size();
  if (n < 2) return;
  T* tmp = static_cast<T*>(alloc("mt.custom.sort", n * sizeof(T)));
  T* a = v.begin();
  T* b = tmp;
  for (SizeT w = 1; w < n; w *= 2) {
    for (SizeT lo = 0; lo < n; lo += 2 * w) {
      SizeT mid = min(lo + w, n), hi = min(lo + 2 * w, n), i = lo, j = mid, k = lo;
      while (i < mid && j < hi) b[k++] = less(a[j], a[i]) ? a[j++] : a[i++];  // stable
      while (i < mid) b[k++] = a[i++];
      while (j < hi) b[k++] = a[j++];
    }
    swap(a, b);
  }
  if (a != v.begin()) VG_(memcpy)(v.begin(), a, n * sizeof(T));
  dealloc(tmp);
}

// ---- pool sanity (memcheck's check after trim, change and destroy) -------

void check_sane(const Mempool* mp) {
  const auto& chunks = mp->chunks;
  if (chunks.n == 0) return;
  static UInt tick;
  if (VG_(clo_verbosity) > 1 && tick++ >= 10000) {
    UInt pools = 0, all = 0;
    g_pools.each([&](Mempool* p) { pools++; all += (UInt)p->chunks.n; });
    VG_(umsg)("Total mempools active: %u pools, %u chunks\n", pools, all);
    tick = 0;
  }
  Vec<Chunk*> v;
  v.init("mt.custom.sane");
  chunks.each([&](Chunk* c) { v.push(c); });
  merge_sort(v, [](Chunk* x, Chunk* y) { return x->start < y->start; });
  UInt n = (UInt)v.size();
  bool bad = false;
  for (UInt i = 0; i + 1 < n; i++) {
    if (v[i]->start + v[i]->size > v[i + 1]->start) {
      VG_(umsg)("Mempool chunk %u / %u overlaps with its successor\n", i + 1, n);
      bad = true;
    }
  }
  if (bad) {
    VG_(umsg)("Bad mempool (%u chunks), dumping chunks for inspection:\n", n);
    for (UInt i = 0; i < n; i++) {
      VG_(umsg)("Mempool chunk %u / %u: %lu bytes [%lx,%lx), allocated:\n", i + 1, n, v[i]->size, v[i]->start,
                v[i]->start + v[i]->size);
      VG_(pp_ExeContext)(shown_alloc_stack(v[i]->ec));
    }
  }
  v.free();
}

// ---- the requests ----------------------------------------------------------

// What memcheck's definedness bits say of a new or freed custom block, for
// the leak search (mt_undef.h): a new block is undefined unless it comes
// zeroed, its red zones and a freed block unaddressable. Stale pointers in
// a pool's memory then keep nothing alive, as under memcheck.
void new_contents(Addr p, SizeT size, UInt rz, bool zeroed) {
  if (zeroed) undef::reveal(p, size);
  else undef::hide(p, size);
  if (rz) {
    undef::hide(p - rz, rz);
    undef::hide(p + size, rz);
  }
}
void gone_contents(Addr p, SizeT size, UInt rz) { undef::hide(p - rz, size + 2 * SizeT(rz)); }

void malloclike(ThreadId tid, Addr p, SizeT size, UInt rz, bool zeroed) {
  if (!keyable(p)) return;
  new_contents(p, size, rz, zeroed);
  Chunk* c = new_chunk(tid, p, size, nullptr);
  if (g_opts.massif_out_file && p) massif::custom_alloc(c->ec, p, size);
  g_blocks.add(c);
  g_block_bytes += size;
  store::custom_made(size);
}

void freelike(ThreadId tid, Addr p, UInt rz) {
  if (g_opts.massif_out_file && p) massif::custom_free(p);
  store::count_free();  // counted whatever happens next, as memcheck does
  if (Chunk* c = keyable(p) ? g_blocks.take(p) : nullptr) {
    g_block_bytes -= c->size;
    gone_contents(c->start, c->size, rz);
    retire(tid, c);
    return;
  }
  Block* b = store::at(p);
  if (b && !b->released) {
    if (g_opts.show_mismatched_frees) errors::mismatched_free(tid, b, errors::kFnFree);
    store::release(tid, b);
    return;
  }
  bad_free(tid, p);
}

void resize_in_place(ThreadId tid, Addr p, SizeT old_size, SizeT new_size, UInt rz) {
  // massif takes out the newest record at p and records the new size,
  // whatever the old size said.
  if (g_opts.massif_out_file && p) massif::custom_resize(VG_(record_ExeContext)(tid, 0), p, new_size);
  if (Chunk* c = keyable(p) ? g_blocks.find(p) : nullptr) {
    if (c->size != old_size || new_size == 0) { bad_free(tid, p); return; }
    if (new_size < old_size) {
      undef::hide(p + new_size, old_size - new_size + rz);
    } else {
      undef::hide(p + old_size, new_size - old_size);
      if (rz) undef::hide(p + new_size, rz);
    }
    g_block_bytes = g_block_bytes - c->size + new_size;
    c->size = new_size;
    return;
  }
  // A malloc'd block is checked as memcheck checks it, but keeps its size:
  // the profile must stay DHAT's (docs/manual.md).
  Block* b = store::at(p);
  if (!b || b->released || b->req_size() != old_size || new_size == 0) bad_free(tid, p);
}

void create_pool(ThreadId tid, Addr pool, UInt rz, UChar zeroed, UWord flags) {
  bool auto_free = (flags & VALGRIND_MEMPOOL_AUTO_FREE) != 0;
  UInt meta = (UInt)(flags & VALGRIND_MEMPOOL_METAPOOL);
  if (tracing() || (auto_free && !meta)) {
    VG_(umsg)("create_mempool(0x%lx, rzB=%u, zeroed=%d, autofree=%d, metapool=%u)\n", pool, rz, (Int)zeroed,
              (Int)auto_free, meta);
    trace_stack(tid);
    if (auto_free && !meta)
      VG_(tool_panic)("Inappropriate use of mempool: an auto free pool must be a meta pool. Aborting\n");
  }
  if (!keyable(pool)) return;
  if (g_pools.find(pool)) VG_(tool_panic)("create_mempool: duplicate pool creation");
  Mempool* mp = static_cast<Mempool*>(alloc_zeroed("mt.custom.pool", sizeof(Mempool)));
  mp->anchor = pool;
  mp->rz = rz;
  mp->auto_free = auto_free;
  mp->metapool = meta != 0;
  mp->zeroed = zeroed != 0;
  mp->chunks.init("mt.custom.chunks", 16);
  g_pools.add(mp);
}

Mempool* find_pool(Addr pool) { return keyable(pool) ? g_pools.find(pool) : nullptr; }

void destroy_pool(ThreadId tid, Addr pool) {
  if (tracing()) {
    VG_(umsg)("destroy_mempool(0x%lx)\n", pool);
    trace_stack(tid);
  }
  Mempool* mp = keyable(pool) ? g_pools.take(pool) : nullptr;
  if (!mp) { illegal_pool(tid, pool); return; }
  check_sane(mp);
  // Its chunks go silently: no leak, no free counted, nothing remembered;
  // memcheck makes them unaddressable.
  mp->chunks.each([mp](Chunk* c) {
    gone_contents(c->start, c->size, mp->rz);
    g_chunk_mem.put(c);
  });
  g_pool_chunks -= mp->chunks.n;
  mp->chunks.map.free_table();
  dealloc(mp);
}

void pool_alloc(ThreadId tid, Addr pool, Addr addr, SizeT size) {
  if (tracing()) {
    VG_(umsg)("mempool_alloc(0x%lx, 0x%lx, %lu)\n", pool, addr, size);
    trace_stack(tid);
  }
  Mempool* mp = find_pool(pool);
  if (!mp) { illegal_pool(tid, pool); return; }
  if (!keyable(addr)) return;
  new_contents(addr, size, mp->rz, mp->zeroed);
  mp->chunks.add(new_chunk(tid, addr, size, mp));
  g_pool_chunks++;
  store::custom_made(size);
}

// An auto-free pool's chunk going frees every MALLOCLIKE and malloc'd block
// wholly inside [lo, hi), each a counted free from 3.27.
void free_inside(ThreadId tid, Addr lo, Addr hi) {
  if (tracing()) VG_(umsg)("free_mallocs_in_mempool_block: Start 0x%lx size %lu\n", lo, hi - lo);
  Vec<Chunk*> gone;
  gone.init("mt.custom.autofree");
  g_blocks.each([&](Chunk* c) {
    if (c->start >= lo && c->start + c->size <= hi) gone.push(c);
  });
  for (SizeT i = 0; i < gone.size(); i++) {
    Chunk* c = gone[i];
    if (tracing()) VG_(umsg)("Auto-free of 0x%lx size=%lu\n", c->start, c->size);
    g_blocks.remove(c);
    g_block_bytes -= c->size;
    retire(tid, c);
    count_pool_free();
  }
  gone.free();
  Vec<Block*> heap_gone;
  heap_gone.init("mt.custom.autofree");
  store::index().each_starting_in(lo, hi + 1, [&](Block* b) {
    if (!b->released && b->start + b->req_size() <= hi) heap_gone.push(b);
  });
  for (SizeT i = 0; i < heap_gone.size(); i++) {
    if (tracing()) VG_(umsg)("Auto-free of 0x%lx size=%lu\n", heap_gone[i]->start, heap_gone[i]->req_size());
    store::release(tid, heap_gone[i]);
    count_pool_free();
  }
  heap_gone.free();
}

void pool_free(ThreadId tid, Addr pool, Addr addr) {
  Mempool* mp = find_pool(pool);
  if (!mp) { illegal_pool(tid, pool); return; }
  if (tracing()) {
    VG_(umsg)("mempool_free(0x%lx, 0x%lx)\n", pool, addr);
    trace_stack(tid);
  }
  Chunk* c = keyable(addr) ? mp->chunks.take(addr) : nullptr;
  if (!c) { bad_free(tid, addr); return; }
  g_pool_chunks--;
  Addr start = c->start;
  SizeT size = c->size;
  gone_contents(start, size, mp->rz);
  // Remembered before what it frees: a bad free of a malloc'd block at the
  // chunk's start is then described by that block (memtrack finds the
  // latest free of an address, memcheck the earliest).
  retire(tid, c);
  if (mp->auto_free) free_inside(tid, start, start + size);
  if (tracing()) VG_(umsg)("mempool_free(0x%lx, 0x%lx) freed chunk of %lu bytes\n", pool, addr, size);
  count_pool_free();
}

// Chunks wholly inside [addr, addr+size) stay, chunks wholly outside go,
// the others are clipped. memcheck clips a chunk that starts before the
// extent to [addr, start + size of the extent), and so does memtrack.
void pool_trim(ThreadId tid, Addr pool, Addr addr, SizeT size) {
  if (tracing()) {
    VG_(umsg)("mempool_trim(0x%lx, 0x%lx, %lu)\n", pool, addr, size);
    trace_stack(tid);
  }
  Mempool* mp = find_pool(pool);
  if (!mp) { illegal_pool(tid, pool); return; }
  check_sane(mp);
  auto& chunks = mp->chunks;
  if (chunks.n == 0) return;
  Vec<Chunk*> all;
  all.init("mt.custom.trim");
  chunks.each([&](Chunk* c) { all.push(c); });
  auto inside = [&](Addr x) { return x >= addr && x - addr < size; };
  for (SizeT i = 0; i < all.size(); i++) {
    Chunk* c = all[i];
    Addr first = c->start, last = c->size == 0 ? c->start : c->start + c->size - 1;
    if (inside(first) && inside(last)) continue;
    chunks.remove(c);
    count_pool_free();  // dropped or clipped: one free either way from 3.27
    if (!inside(first) && !inside(last)) {
      gone_contents(c->start, c->size, mp->rz);
      g_pool_chunks--;
      retire(tid, c);
      continue;
    }
    Addr lo = c->start < addr ? addr : c->start;
    Addr hi = c->start < addr ? c->start + size : addr + size;
    if (hi <= lo) hi = min(c->start + c->size, addr + size);  // where memcheck asserts
    // The parts cut off become unaddressable.
    if (lo > c->start) undef::hide(c->start, lo - c->start);
    if (hi < c->start + c->size) undef::hide(hi, c->start + c->size - hi);
    c->start = lo;
    c->size = (UInt)(hi - lo);
    chunks.add(c);
  }
  all.free();
  check_sane(mp);
}

void move_pool(ThreadId tid, Addr from, Addr to) {
  if (tracing()) {
    VG_(umsg)("move_mempool(0x%lx, 0x%lx)\n", from, to);
    trace_stack(tid);
  }
  Mempool* mp = keyable(from) && keyable(to) ? g_pools.take(from) : nullptr;
  if (!mp) { illegal_pool(tid, from); return; }
  mp->anchor = to;
  g_pools.add(mp);
}

void pool_change(ThreadId tid, Addr pool, Addr from, Addr to, SizeT size) {
  if (tracing()) {
    VG_(umsg)("mempool_change(0x%lx, 0x%lx, 0x%lx, %lu)\n", pool, from, to, size);
    trace_stack(tid);
  }
  Mempool* mp = find_pool(pool);
  if (!mp) { illegal_pool(tid, pool); return; }
  check_sane(mp);
  Chunk* c = keyable(from) && keyable(to) ? mp->chunks.take(from) : nullptr;
  if (!c) { bad_free(tid, from); return; }
  c->start = to;
  c->size = size;
  mp->chunks.add(c);
  check_sane(mp);
}

// ---- the leak search's block set ------------------------------------------

LeakItem item_of(const Chunk* c) {
  LeakItem x;
  x.start = c->start;
  x.end = c->start + (c->size ? c->size : 1);
  x.b = nullptr;
  x.c = c;
  return x;
}

bool by_start(const LeakItem& x, const LeakItem& y) { return x.start < y.start; }

// The first bad overlap of the last search, for report_overlap().
struct Overlap {
  bool pending;
  Addr start1, end1, start2, end2;
  ExeContext *ec1, *ec2;
} g_overlap;

// Appends the merge of a and b (each in address order) to out; a first
// among equal starts.
void merge_into(const Vec<LeakItem>& a, const Vec<LeakItem>& b, Vec<LeakItem>* out) {
  SizeT i = 0, j = 0;
  out->reserve(a.size() + b.size());
  while (i < a.size() && j < b.size()) out->push(b[j].start < a[i].start ? b[j++] : a[i++]);
  while (i < a.size()) out->push(a[i++]);
  while (j < b.size()) out->push(b[j++]);
}

bool is_meta_chunk(const LeakItem& x) { return x.c && x.c->pool && x.c->pool->metapool; }

// What memcheck's leak search does with two neighbours (in address order)
// that overlap: 1 drop the second, -1 drop the first, 0 keep both (a
// metapool chunk holding the other; anything else is reported).
int resolve_overlap(const LeakItem& x, const LeakItem& y, bool* reported) {
  SizeT sx = req_size(x), sy = req_size(y);
  Addr end1 = x.start + sx - 1, end2 = y.start + sy - 1;
  if (end1 < y.start) return 0;
  bool custom1 = x.c != nullptr, custom2 = y.c != nullptr;
  if (x.start >= y.start && end1 <= end2 && custom1 && !custom2) return 1;   // MALLOCLIKE in malloc'd
  if (y.start >= x.start && end2 <= end1 && custom2 && !custom1) return -1;  // the same, swapped
  bool meta1 = is_meta_chunk(x), meta2 = is_meta_chunk(y);
  bool wrong = false;
  if (meta1 != meta2)
    wrong = (meta1 && (y.start < x.start || end2 > end1)) || (meta2 && (x.start < y.start || end1 > end2));
  if ((meta1 == meta2 || wrong) && !*reported) {
    // memcheck stops the run here (an assertion); memtrack says the same
    // when the search reports, and goes on with both blocks.
    *reported = true;
    g_overlap = {true, x.start, end1, y.start, end2, shown_stack(x), shown_stack(y)};
  }
  return 0;
}

}  // namespace

void init() {
  g_chunk_mem.init("mt.custom.chunk", 1024);
  g_blocks.init("mt.custom.blocks", 64);
  g_pools.init("mt.custom.pools", 16);
  g_block_bytes = 0;
  g_pool_chunks = 0;
}

bool handle(ThreadId tid, UWord* arg, UWord* ret) {
  switch (arg[0]) {
    // (The core drops the first three when the address is null.)
    case VG_USERREQ__MALLOCLIKE_BLOCK: malloclike(tid, arg[1], arg[2], (UInt)arg[3], arg[4] != 0); break;
    case VG_USERREQ__FREELIKE_BLOCK: freelike(tid, arg[1], (UInt)arg[2]); break;
    case VG_USERREQ__RESIZEINPLACE_BLOCK: resize_in_place(tid, arg[1], arg[2], arg[3], (UInt)arg[4]); break;
    case VG_USERREQ__CREATE_MEMPOOL: create_pool(tid, arg[1], (UInt)arg[2], (UChar)arg[3], arg[4]); break;
    case VG_USERREQ__DESTROY_MEMPOOL: destroy_pool(tid, arg[1]); break;
    // Chunk sizes are 32-bit in memcheck's handlers.
    case VG_USERREQ__MEMPOOL_ALLOC: pool_alloc(tid, arg[1], arg[2], (UInt)arg[3]); break;
    case VG_USERREQ__MEMPOOL_FREE: pool_free(tid, arg[1], arg[2]); break;
    case VG_USERREQ__MEMPOOL_TRIM: pool_trim(tid, arg[1], arg[2], (UInt)arg[3]); break;
    case VG_USERREQ__MOVE_MEMPOOL: move_pool(tid, arg[1], arg[2]); break;
    case VG_USERREQ__MEMPOOL_CHANGE: pool_change(tid, arg[1], arg[2], arg[3], (UInt)arg[4]); break;
    case VG_USERREQ__MEMPOOL_EXISTS: *ret = find_pool(arg[1]) ? 1 : 0; return true;
    default: return false;
  }
  *ret = 0;
  return true;
}

bool free_malloclike(ThreadId tid, Addr p, errors::FreeFn fn) {
  Chunk* c = g_blocks.n && keyable(p) ? g_blocks.take(p) : nullptr;
  if (!c) return false;
  if (g_opts.show_mismatched_frees) {
    errors::Known k = {errors::Known::kLive, c->start, c->size, c->ec, nullptr};
    errors::mismatched_free(tid, k, fn);
  }
  g_block_bytes -= c->size;
  retire(tid, c);
  return true;
}

bool realloc_malloclike(ThreadId tid, Addr p, SizeT* old_size) {
  Chunk* c = g_blocks.n && keyable(p) ? g_blocks.find(p) : nullptr;
  if (!c) return false;
  *old_size = c->size;
  return free_malloclike(tid, p, errors::kFnRealloc);
}

namespace {

// A chunk of a plain pool (or of a metapool) holding a, with its red zones.
bool describe_pool_chunk(Addr a, bool metapool, errors::Known* k) {
  if (g_pool_chunks == 0) return false;
  bool found = false;
  g_pools.each([&](Mempool* mp) {
    if (found || mp->metapool != metapool) return;
    mp->chunks.each([&](Chunk* c) {
      if (found || !VG_(addr_is_in_block)(a, c->start, c->size, mp->rz)) return;
      *k = {errors::Known::kChunk, c->start, c->size, c->ec, nullptr};
      found = true;
    });
  });
  return found;
}

}  // namespace

bool describe_malloclike(Addr a, errors::Known* k) {
  bool found = false;
  g_blocks.each([&](Chunk* c) {
    if (found || !VG_(addr_is_in_block)(a, c->start, c->size, kMallocRedzone)) return;
    *k = {errors::Known::kLive, c->start, c->size, c->ec, nullptr};
    found = true;
  });
  return found;
}

// memcheck's order: a plain pool's chunk, a live block (malloc'd, then
// MALLOCLIKE), a recent free, a metapool's chunk.
errors::Known describe(Addr a) {
  errors::Known k = {errors::Known::kNothing, 0, 0, nullptr, nullptr};
  bool custom = any();
  if (custom && describe_pool_chunk(a, false, &k)) return k;
  Block* b = store::containing(a);
  if (b && !b->released) {
    k.tag = errors::Known::kLive;
    k.start = b->start;
    k.size = b->req_size();
    k.alloc_ec = store::alloc_context(b);
    k.recycled = store::recycled(a);
    return k;
  }
  if (custom && describe_malloclike(a, &k)) {
    k.recycled = store::recycled(a);
    return k;
  }
  if (const store::Freed* f = store::find_freed(a)) {
    k.tag = errors::Known::kFreed;
    k.start = f->start;
    k.size = f->size;
    k.alloc_ec = f->alloc_ec;
    k.free_ec = f->free_ec;
    return k;
  }
  if (custom) describe_pool_chunk(a, true, &k);
  return k;
}

void in_use(ULong* bytes, ULong* blocks) {
  *bytes += g_block_bytes;
  *blocks += g_blocks.n;
}

bool any() { return g_blocks.n || g_pool_chunks; }

ExeContext* shown_stack(const LeakItem& x) { return shown_alloc_stack(x.b ? store::alloc_context(x.b) : x.c->ec); }

void report_overlap() {
  if (!g_overlap.pending) return;
  g_overlap.pending = false;
  VG_(umsg)("Block 0x%lx..0x%lx overlaps with block 0x%lx..0x%lx\n", g_overlap.start1, g_overlap.end1,
            g_overlap.start2, g_overlap.end2);
  VG_(umsg)("Blocks allocation contexts:\n");
  VG_(pp_ExeContext)(g_overlap.ec1);
  VG_(umsg)("\n");
  VG_(pp_ExeContext)(g_overlap.ec2);
  VG_(umsg)("This is usually caused by using VALGRIND_MALLOCLIKE_BLOCK in an inappropriate way.\n");
  VG_(umsg)("\n");
}

void leak_blocks(Vec<LeakItem>* items) {
  Vec<LeakItem>& heap_items = *items;
  // memcheck's malloc list: malloc'd and MALLOCLIKE blocks, by address.
  Vec<LeakItem> mallocs;
  mallocs.init("mt.custom.leak");
  {
    Vec<LeakItem> like;
    like.init("mt.custom.leak");
    g_blocks.each([&](Chunk* c) { like.push(item_of(c)); });
    merge_sort(like, by_start);
    merge_into(heap_items, like, &mallocs);
    like.free();
  }
  heap_items.clear();
  if (mallocs.empty()) {  // memcheck then has nothing to search, pool chunks or not
    mallocs.free();
    return;
  }

  // Pool chunks, and the malloc list minus every block that holds the
  // first or last byte of a chunk (the pool's own memory).
  Vec<LeakItem> chunks;
  chunks.init("mt.custom.leak");
  UChar* holds = static_cast<UChar*>(alloc_zeroed("mt.custom.leak", mallocs.size()));
  g_pools.each([&](Mempool* mp) {
    mp->chunks.each([&](Chunk* c) {
      chunks.push(item_of(c));
      Int m = find_block(mallocs, c->start);
      if (m >= 0) holds[m] = 1;
      if (c->size > 1) {
        m = find_block(mallocs, c->start + c->size - 1);
        if (m >= 0) holds[m] = 1;
      }
    });
  });
  merge_sort(chunks, by_start);
  SizeT keep = 0;
  for (SizeT i = 0; i < mallocs.size(); i++)
    if (!holds[i]) mallocs[keep++] = mallocs[i];
  while (mallocs.size() > keep) mallocs.pop();
  dealloc(holds);
  Vec<LeakItem> all;
  all.init("mt.custom.leak");
  merge_into(chunks, mallocs, &all);
  chunks.free();
  mallocs.free();

  // memcheck's pass over neighbours: a MALLOCLIKE block inside a malloc'd
  // one removes the malloc'd one. It steps on after a removal without
  // comparing the survivor with its new neighbour, and so does this.
  bool reported = false;
  g_overlap.pending = false;
  SizeT r = 1;
  LeakItem x = all[0];
  bool have_x = true;
  while (have_x && r < all.size()) {
    const LeakItem& y = all[r];
    int d = resolve_overlap(x, y, &reported);
    if (d == 0) {
      heap_items.push(x);
      x = y;
      r++;
      continue;
    }
    heap_items.push(d > 0 ? x : y);
    have_x = r + 1 < all.size();
    if (have_x) x = all[r + 1];
    r += 2;
  }
  if (have_x) heap_items.push(x);
  all.free();
}

}  // namespace mt::custom
