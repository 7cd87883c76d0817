// Unit tests of the runtime containers (mt_rt.h: Vec, Pool, PtrMap) and of
// the block index (mt_blocks.h: BlockIndex), built as a tool of their own
// ("mtunit", like Valgrind's none tool: it instruments nothing) from the
// very sources, flags and core library the memtrack tool is built from, so
// that they run on the core's VG_(malloc) and mappings, freestanding as in
// memtrack. Its post_clo_init runs every test and exits before the client
// starts: 0 when all checks held, 1 otherwise, with one line per failed
// check and one per test. tests/test_unit_runtime.py runs it (`make check`):
//   scripts/vg-in-place --tool=mtunit -q /bin/true
// --mtunit-fail=yes adds a check that fails, which the driver uses to show
// that a failure is seen.
//
// Each container is checked against a reference the test keeps itself (an
// array in address order, a flag per key), over sizes that make it grow
// many times: up to 2,000,000 blocks in the index and 1,000,000 keys in a
// map, about a second in all.
#include "mt_rt.h"
#include "mt_blocks.h"

namespace mt::unit {
namespace {

bool g_fail_on_purpose;
ULong g_checks, g_failed;
const char* g_test;
ULong g_test_failed;

// A check that holds counts; one that fails says where (the first few of a
// test only: a broken container fails millions of them).
#define CHECK(cond) check((cond), #cond, __LINE__)
void check(bool ok, const char* what, int line) {
  g_checks++;
  if (ok) return;
  g_failed++;
  if (g_test_failed++ < 5) VG_(umsg)("FAIL %s: %s (mt_unit.cpp:%d)\n", g_test, what, line);
}

void begin(const char* name) {
  g_test = name;
  g_test_failed = 0;
}
void end(const char* detail) {
  if (g_test_failed) VG_(umsg)("FAIL %s: %llu failed checks\n", g_test, g_test_failed);
  else VG_(umsg)("ok %s (%s)\n", g_test, detail);
}

// xorshift64*: reproducible inputs without any library.
struct Rng {
  ULong s;
  ULong next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
  ULong below(ULong n) { return next() % n; }
};

// ---- Vec ---------------------------------------------------------------------

void test_vec() {
  begin("vec");
  Vec<ULong> v;
  v.init("mt.unit.vec");
  CHECK(v.empty() && v.size() == 0);
  constexpr ULong kN = 1000000;
  for (ULong i = 0; i < kN; i++) v.push(i * 3);  // grows by doubling, about 17 times
  CHECK(v.size() == kN);
  bool same = true;
  for (ULong i = 0; i < kN; i++) same = same && v[i] == i * 3;
  CHECK(same);
  CHECK(v.back() == (kN - 1) * 3);
  CHECK(v.pop() == (kN - 1) * 3 && v.size() == kN - 1);
  v.clear();
  CHECK(v.empty());
  // insert_at and remove_at keep order, at the ends and in the middle.
  for (ULong i = 0; i < 10; i++) v.push(i);
  v.insert_at(0, 100);
  v.insert_at(v.size(), 200);
  v.insert_at(5, 300);
  const ULong want[] = {100, 0, 1, 2, 3, 300, 4, 5, 6, 7, 8, 9, 200};
  CHECK(v.size() == sizeof want / sizeof want[0]);
  for (SizeT i = 0; i < v.size(); i++) CHECK(v[i] == want[i]);
  v.remove_at(5);
  v.remove_at(0);
  v.remove_at(v.size() - 1);
  CHECK(v.size() == 10);
  for (ULong i = 0; i < 10; i++) CHECK(v[i] == i);
  // reserve keeps the contents; resize sets the size.
  v.reserve(5000);
  for (ULong i = 0; i < 10; i++) CHECK(v[i] == i);
  v.resize(3);
  CHECK(v.size() == 3 && v[2] == 2);
  // Sorted insertion into a growing array, against the arithmetic answer.
  v.clear();
  Rng r = {12345};
  for (int i = 0; i < 2000; i++) {
    ULong x = r.below(1 << 20);
    SizeT lo = 0, hi = v.size();
    while (lo < hi) {
      SizeT mid = (lo + hi) / 2;
      if (v[mid] < x) lo = mid + 1; else hi = mid;
    }
    v.insert_at(lo, x);
  }
  bool sorted = true;
  for (SizeT i = 1; i < v.size(); i++) sorted = sorted && v[i - 1] <= v[i];
  CHECK(sorted && v.size() == 2000);
  v.free();
  CHECK(v.size() == 0);
  end("1,000,000 pushes; insert_at, remove_at, reserve, resize");
}

// ---- Pool --------------------------------------------------------------------

struct Rec {
  ULong a, b;
};

void test_pool() {
  begin("pool");
  Pool<Rec> p;
  p.init("mt.unit.pool", 1000);
  CHECK(p.live() == 0 && p.bytes_reserved() == 0);
  constexpr SizeT kN = 1000000;
  Rec** all = map_array<Rec*>(kN);
  for (SizeT i = 0; i < kN; i++) {
    all[i] = p.get();
    all[i]->a = i;
    all[i]->b = ~i;
  }
  CHECK(p.live() == kN);
  CHECK(p.bytes_reserved() == kN * sizeof(Rec));  // 1,000 chunks of 1,000
  // Every record its own: writing one changed no other.
  bool intact = true;
  for (SizeT i = 0; i < kN; i++) intact = intact && all[i]->a == i && all[i]->b == ~i;
  CHECK(intact);
  // Freed records are handed out again, newest first, before new chunks.
  for (SizeT i = 0; i < kN; i += 2) p.put(all[i]);
  CHECK(p.live() == kN / 2);
  Rec* again = p.get();
  CHECK(again == all[kN - 2]);
  p.put(again);
  for (SizeT i = 0; i < kN; i += 2) all[i] = p.get();
  CHECK(p.bytes_reserved() == kN * sizeof(Rec));  // no new chunk
  CHECK(p.live() == kN);
  // The odd records kept their contents through all of it.
  intact = true;
  for (SizeT i = 1; i < kN; i += 2) intact = intact && all[i]->a == i && all[i]->b == ~i;
  CHECK(intact);
  // No record handed out twice: mark each, then look for a mark seen twice.
  for (SizeT i = 0; i < kN; i++) all[i]->a = 0;
  bool twice = false;
  for (SizeT i = 0; i < kN; i++) {
    twice = twice || all[i]->a != 0;
    all[i]->a = 1;
  }
  CHECK(!twice);
  unmap(all, kN * sizeof(Rec*));
  end("1,000,000 records; reuse before growth");
}

// ---- PtrMap ------------------------------------------------------------------

void test_ptrmap() {
  begin("ptrmap");
  PtrMap<ULong> m;
  m.init("mt.unit.map", 2);  // from the smallest table: it grows 19 times
  constexpr SizeT kN = 1000000;
  ULong* vals = map_array<ULong>(kN);
  UWord* keys = map_array<UWord>(kN);
  UChar* in = map_array<UChar>(kN);
  Rng r = {0x9e3779b97f4a7c15ULL};
  // Addresses as the tool uses them: aligned, clustered (probe runs), and
  // a few arbitrary words. All distinct and nonzero.
  for (SizeT i = 0; i < kN; i++) {
    keys[i] = i % 3 == 0 ? 0x4000000 + 16 * i : i % 3 == 1 ? 0x7ff000000000 - 64 * i : (r.next() | 1) ^ (i << 1);
    vals[i] = i;
  }
  // (The arbitrary ones are odd and the others even, and each family is
  // injective: no key twice.)
  for (SizeT i = 0; i < kN; i++) {
    m.put(keys[i], &vals[i]);
    in[i] = 1;
  }
  CHECK(m.size() == kN);
  bool found = true;
  for (SizeT i = 0; i < kN; i++) found = found && m.get(keys[i]) == &vals[i];
  CHECK(found);
  CHECK(m.get(0x4000000 + 8) == nullptr);  // between two keys
  // Remove a random half (backward-shift deletion moves probe runs), then
  // every key must still be found or be gone, exactly as the flags say.
  SizeT live = kN;
  for (SizeT k = 0; k < kN / 2; k++) {
    SizeT i = r.below(kN);
    ULong* got = m.remove(keys[i]);
    CHECK(got == (in[i] ? &vals[i] : nullptr));
    if (in[i]) live--;
    in[i] = 0;
  }
  CHECK(m.size() == live);
  bool agree = true;
  for (SizeT i = 0; i < kN; i++) agree = agree && m.get(keys[i]) == (in[i] ? &vals[i] : nullptr);
  CHECK(agree);
  // each visits every live entry once.
  SizeT visited = 0;
  bool right = true;
  m.each([&](UWord key, ULong* v) {
    visited++;
    right = right && key == keys[*v] && in[*v];
  });
  CHECK(visited == live && right);
  // Put back what went; remove everything.
  for (SizeT i = 0; i < kN; i++)
    if (!in[i]) {
      m.put(keys[i], &vals[i]);
      in[i] = 1;
    }
  CHECK(m.size() == kN);
  for (SizeT i = kN; i-- > 0;) CHECK(m.remove(keys[i]) == &vals[i]);
  CHECK(m.size() == 0);
  for (SizeT i = 0; i < kN; i += 997) CHECK(m.get(keys[i]) == nullptr);
  m.free_table();
  unmap(vals, kN * sizeof(ULong));
  unmap(keys, kN * sizeof(UWord));
  unmap(in, kN);
  end("1,000,000 keys from a table of 2; random removal");
}

// ---- BlockIndex --------------------------------------------------------------

// The blocks of a test, in address order, never overlapping; live[i] says
// whether blocks[i] is in the index. The reference answer for an address is
// the last block starting at or before it, if live and holding it.
struct Layout {
  Block* blocks;
  UChar* live;
  SizeT n;
  SizeT n_live;

  void init(SizeT cap) {
    blocks = map_array<Block>(cap);
    live = map_array<UChar>(cap);
    n = n_live = 0;
  }
  void free_all(SizeT cap) {
    unmap(blocks, cap * sizeof(Block));
    unmap(live, cap);
  }
  Block* add(Addr start, SizeT size) {
    Block* b = &blocks[n++];
    b->start = start;
    b->size = size;
    return b;
  }
  // Index of the last block with start <= a, or n.
  SizeT last_at_or_before(Addr a) const {
    SizeT lo = 0, hi = n;
    while (lo < hi) {
      SizeT mid = (lo + hi) / 2;
      if (blocks[mid].start <= a) lo = mid + 1; else hi = mid;
    }
    return lo == 0 ? n : lo - 1;
  }
  const Block* containing(Addr a) const {
    SizeT i = last_at_or_before(a);
    if (i == n || !live[i] || a - blocks[i].start >= blocks[i].size) return nullptr;
    return &blocks[i];
  }
  const Block* at(Addr a) const {
    SizeT i = last_at_or_before(a);
    return i != n && live[i] && blocks[i].start == a ? &blocks[i] : nullptr;
  }
};

void insert(BlockIndex& ix, Layout& l, SizeT i) {
  ix.insert(&l.blocks[i]);
  l.live[i] = 1;
  l.n_live++;
}
void remove(BlockIndex& ix, Layout& l, SizeT i) {
  ix.remove(&l.blocks[i]);
  l.live[i] = 0;
  l.n_live--;
}

// The index against the layout: the edges of every block (start, last byte,
// one past), random addresses, exact starts, each() and each_starting_in().
void agree(const BlockIndex& ix, const Layout& l, Rng& r, SizeT probes) {
  CHECK(ix.count() == l.n_live);
  bool ok = true;
  for (SizeT i = 0; i < l.n; i++) {
    const Block& b = l.blocks[i];
    const Addr edges[] = {b.start, b.start + b.size - 1, b.start + b.size, b.start - 1, b.start + b.size / 2};
    for (Addr a : edges) ok = ok && ix.containing(a) == l.containing(a);
    ok = ok && ix.at(b.start) == l.at(b.start);
    if (b.size > 1) ok = ok && ix.at(b.start + 1) == nullptr;
  }
  CHECK(ok);
  if (l.n) {
    const Addr lo = l.blocks[0].start, hi = l.blocks[l.n - 1].start + l.blocks[l.n - 1].size;
    ok = true;
    for (SizeT k = 0; k < probes; k++) {
      Addr a = lo + r.below(hi - lo + 8192) - 4096;
      ok = ok && ix.containing(a) == l.containing(a) && ix.at(a) == l.at(a);
    }
    CHECK(ok);
  }
  // each(): every live block once, in address order.
  SizeT seen = 0, next = 0;
  bool order = true;
  ix.each([&](Block* b) {
    while (next < l.n && !l.live[next]) next++;
    order = order && next < l.n && b == &l.blocks[next];
    next++;
    seen++;
  });
  CHECK(order && seen == l.n_live);
  // each_starting_in() over a few windows, some cutting blocks.
  for (int w = 0; w < 20 && l.n; w++) {
    const Block& b1 = l.blocks[r.below(l.n)];
    Addr from = b1.start + (w % 3 == 0 ? 0 : r.below(b1.size + 1));
    Addr to = from + r.below(w % 2 ? 1 << 16 : 1 << 26);
    SizeT j = l.last_at_or_before(from);
    j = j == l.n ? 0 : (l.blocks[j].start < from ? j + 1 : j);
    bool in_order = true;
    SizeT count = 0;
    ix.each_starting_in(from, to, [&](Block* b) {
      while (j < l.n && l.blocks[j].start < to && !l.live[j]) j++;
      in_order = in_order && j < l.n && b == &l.blocks[j] && b->start >= from && b->start < to;
      j++;
      count++;
    });
    while (j < l.n && l.blocks[j].start < to) {
      in_order = in_order && !l.live[j];  // none left out
      j++;
    }
    CHECK(in_order);
  }
}

// Edge cases, each small enough to name.
void test_index_edges() {
  begin("blockindex-edges");
  BlockIndex ix;
  ix.init();
  Layout l;
  constexpr SizeT kCap = 8192;
  l.init(kCap);
  Rng r = {7};
  const Addr page = 4096, base = 0x10000000;
  // One byte at the start and at the end of a page; a block over a page
  // boundary; blocks touching each other with no gap.
  l.add(base, 1);
  l.add(base + page - 1, 2);
  l.add(base + page + 1, 16);
  l.add(base + page + 17, 16);
  // Many starts in one page: the page's list grows past its pool size (4).
  for (SizeT i = 0; i < 1000; i++) l.add(base + 3 * page + 4 * i, 3);
  // A block covering many whole pages, just under the "big" size (256 KiB),
  // and one just at it, then big ones: five meeting one 1 MiB granule (the
  // most that can), one spanning several granules, a huge one.
  const Addr mb = 1 << 20;
  l.add(base + 8 * mb - 1, 256 * 1024 - 1);
  l.add(base + 9 * mb, 256 * 1024);
  Addr g = base + 16 * mb;
  l.add(g - 4096, 256 * 1024);                  // reaches into granule g
  for (int i = 0; i < 3; i++) l.add(g + 256 * 1024 - 4096 + i * 256 * 1024, 256 * 1024);
  l.add(g + mb - 4096 + 8, 256 * 1024);         // and one out of it
  l.add(base + 24 * mb + 5, 3 * mb + 77);
  // A small block right after a big one, in the big one's last page.
  l.add(base + 24 * mb + 5 + 3 * mb + 77, 8);
  l.add(base + 64 * mb, 10 * 1024 * mb);        // 10 GiB
  // Near the top of the 47-bit user address space.
  const Addr top = (1UL << 47) - 16 * mb;
  l.add(top, 100);
  l.add(top + 4096 * 3 - 50, 300 * 1024);
  l.add((1UL << 47) - 4096, 4096);
  // Insert in a shuffled order, check, remove every other, check, put back.
  SizeT* order = map_array<SizeT>(l.n);
  for (SizeT i = 0; i < l.n; i++) order[i] = i;
  for (SizeT i = l.n; i > 1; i--) swap(order[i - 1], order[r.below(i)]);
  for (SizeT i = 0; i < l.n; i++) insert(ix, l, order[i]);
  agree(ix, l, r, 100000);
  for (SizeT i = 0; i < l.n; i += 2) remove(ix, l, i);
  agree(ix, l, r, 100000);
  for (SizeT i = 0; i < l.n; i += 2) insert(ix, l, i);
  agree(ix, l, r, 100000);
  for (SizeT i = 0; i < l.n; i++) remove(ix, l, order[i]);
  CHECK(ix.count() == 0);
  bool empty = true;
  for (SizeT i = 0; i < l.n; i++) empty = empty && ix.containing(l.blocks[i].start) == nullptr;
  CHECK(empty);
  SizeT left = 0;
  ix.each([&](Block*) { left++; });
  CHECK(left == 0);
  unmap(order, l.n * sizeof(SizeT));
  l.free_all(kCap);
  end("page edges, 1,000 starts in a page, big and huge blocks, a full granule, the top of the address space");
}

// A block size as programs have them: mostly small, some pages, a few big.
SizeT random_size(Rng& r) {
  ULong c = r.below(1000);
  if (c < 900) return 1 + r.below(256);
  if (c < 990) return 256 + r.below(64 * 1024);
  if (c < 998) return 64 * 1024 + r.below(512 * 1024);
  return 512 * 1024 + r.below(8 << 20);
}

// Random layouts, churned: blocks come and go as a program's do.
void test_index_random() {
  begin("blockindex-random");
  constexpr SizeT kN = 100000;
  BlockIndex ix;
  ix.init();
  Layout l;
  l.init(kN);
  Rng r = {2024};
  Addr at = 0x5000000000;
  for (SizeT i = 0; i < kN; i++) {
    ULong gap = r.below(10);
    at += gap < 5 ? 0 : gap < 9 ? r.below(4096) : r.below(1UL << 32);
    SizeT size = random_size(r);
    l.add(at, size);
    at += size;
  }
  // Inserted in a random order (neighbours arrive before and after).
  SizeT* order = map_array<SizeT>(kN);
  for (SizeT i = 0; i < kN; i++) order[i] = i;
  for (SizeT i = kN; i > 1; i--) swap(order[i - 1], order[r.below(i)]);
  for (SizeT i = 0; i < kN; i++) insert(ix, l, order[i]);
  unmap(order, kN * sizeof(SizeT));
  agree(ix, l, r, 1000000);
  for (int round = 0; round < 5; round++) {
    for (SizeT k = 0; k < kN / 3; k++) {
      SizeT i = r.below(kN);
      if (l.live[i]) remove(ix, l, i); else insert(ix, l, i);
    }
    agree(ix, l, r, 200000);
  }
  for (SizeT i = 0; i < kN; i++)
    if (l.live[i]) remove(ix, l, i);
  CHECK(ix.count() == 0);
  agree(ix, l, r, 100000);
  l.free_all(kN);
  end("100,000 blocks of 1 byte to 8 MiB, five rounds of churn");
}

// Millions of small blocks, packed as an allocator packs them.
void test_index_millions() {
  begin("blockindex-millions");
  constexpr SizeT kN = 2000000;
  BlockIndex ix;
  ix.init();
  Layout l;
  l.init(kN);
  Rng r = {99};
  Addr at = 0x40000000;
  for (SizeT i = 0; i < kN; i++) {
    SizeT size = 16 + 16 * r.below(4);
    l.add(at, size);
    at += size + 16;  // an allocator's header between blocks
  }
  for (SizeT i = 0; i < kN; i++) insert(ix, l, i);
  CHECK(ix.count() == kN);
  // About 10 bytes of index per block (docs/design.md: a pointer and a page
  // offset): a page's list of starts doubles as it grows, so up to twice
  // that, plus the directory.
  const SizeT per_block = ix.bytes_reserved() / kN;
  CHECK(per_block <= 20);
  bool ok = true;
  for (SizeT k = 0; k < 2000000; k++) {
    const Block& b = l.blocks[r.below(kN)];
    Addr a = b.start + r.below(b.size + 16);
    ok = ok && ix.containing(a) == l.containing(a);
  }
  CHECK(ok);
  // Free every block but one in a thousand, from the top down.
  for (SizeT i = kN; i-- > 0;)
    if (i % 1000) remove(ix, l, i);
  CHECK(ix.count() == kN / 1000);
  agree(ix, l, r, 200000);
  for (SizeT i = 0; i < kN; i += 1000) remove(ix, l, i);
  CHECK(ix.count() == 0);
  l.free_all(kN);
  char detail[128];
  VG_(snprintf)(detail, sizeof detail,
                "2,000,000 blocks inserted, looked up by interior address, removed; %lu bytes of index a block",
                per_block);
  end(detail);
}

void run() {
  test_vec();
  test_pool();
  test_ptrmap();
  test_index_edges();
  test_index_random();
  test_index_millions();
  if (g_fail_on_purpose) {
    begin("fail-on-purpose");
    CHECK(1 + 1 == 3);
    end("");
  }
  VG_(umsg)("mtunit: %llu checks, %llu failed\n", g_checks, g_failed);
}

// ---- the tool ----------------------------------------------------------------

void post_clo_init() {
  run();
  VG_(exit)(g_failed ? 1 : 0);
}

IRSB* instrument(VgCallbackClosure*, IRSB* bb, const VexGuestLayout*, const VexGuestExtents*, const VexArchInfo*,
                 IRType, IRType) {
  return bb;
}

void fini(Int) {}

Bool process_option(const HChar* arg) {
  if (VG_(strcmp)(arg, "--mtunit-fail=yes") == 0) {
    g_fail_on_purpose = true;
    return True;
  }
  return False;
}
void usage() { VG_(printf)("    --mtunit-fail=yes    add a check that fails\n"); }

void pre_clo_init() {
  VG_(details_name)("mtunit");
  VG_(details_version)(nullptr);
  VG_(details_description)("memtrack's unit tests of its containers and block index");
  VG_(details_copyright_author)("Copyright (C) 2026, the memtrack authors; GNU GPL'd.");
  VG_(details_bug_reports_to)(VG_BUGS_TO);
  VG_(details_avg_translation_sizeB)(275);
  VG_(basic_tool_funcs)(post_clo_init, instrument, fini);
  VG_(needs_command_line_options)(process_option, usage, nullptr);
}

}  // namespace
}  // namespace mt::unit

extern "C" {
VG_DETERMINE_INTERFACE_VERSION(mt::unit::pre_clo_init)
}
