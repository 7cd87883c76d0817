// Heap over time in massif's format. The rules are massif's (Valgrind 3.19,
// --stacks=no), so that the same program gives the same snapshots:
//
// * Figures: heap = bytes asked for in live blocks (a 0-byte request adds
//   0, not DHAT's 1); extra = for each live block, usable size minus asked
//   size (the client arena's rounding, read from the arena), plus
//   --heap-admin bytes. Time is guest instructions (i), milliseconds since
//   the first snapshot (ms), or bytes allocated plus freed, extra included
//   (B).
// * When: the first heap event first records the start (time 0, empty
//   heap). After each allocation, free or realloc a normal snapshot is due
//   once the time reached the last snapshot's time plus the minimum
//   interval (0 at first); every --detailed-freq'th one carries the tree.
//   Before a free, or a realloc that shrinks, a detailed peak snapshot is
//   taken when the total exceeds the last peak by more than
//   --peak-inaccuracy percent; the previous peak becomes a normal one.
// * Culling: when --max-snapshots are held, half of them go, one at a
//   time, each time the one whose neighbours are closest in time (never the
//   first, the last or the peak); the new minimum interval is the smallest
//   gap left, gaps between two of those uncullable ones aside.
//
// Memory: one record per allocation stack with its live bytes, and a copy
// of the non-empty records at each detailed snapshot; frames are resolved
// only when the file is written.
#include "mt_massif.h"
#include "mt_label.h"
#include "mt_store.h"
#include "mt_sites.h"
#include "mt_arena_model.h"

namespace mt::massif {

namespace {

// ---- live bytes per allocation stack -------------------------------------

// Keyed by the stack a block's bytes are charged to: its allocation's, or
// after a realloc the realloc's (massif's attribution; memtrack's DHAT
// profile keeps counting the block for its first site).
struct StackBytes {
  ExeContext* ec;
  ULong bytes;
  ULong born;   // snapshots taken before this stack's first block
  bool listed;  // scratch for the writer
};
PtrMap<StackBytes> g_by_ec;
ULong g_taken;  // snapshots taken so far (kept or not)
Pool<StackBytes> g_recs;

StackBytes* rec_of(ExeContext* ec) {
  StackBytes* r = g_by_ec.get(reinterpret_cast<UWord>(ec));
  if (r) return r;
  r = g_recs.get();
  r->ec = ec;
  r->bytes = 0;
  r->born = g_taken;
  r->listed = false;
  g_by_ec.put(reinterpret_cast<UWord>(ec), r);
  return r;
}

// ---- snapshots -------------------------------------------------------------

enum : UChar { kDead = 0, kNormal = 1, kPeak = 2 };

struct Charge {  // one stack's bytes in a detailed snapshot
  ExeContext* ec;
  ULong bytes;
};

struct Snap {
  UChar kind;
  Long time;
  ULong heap, extra;
  Charge* tree;  // null unless detailed: the stacks holding bytes
  UInt n_tree;
  ULong tree_heap;  // detailed: what the tree adds up to (massif prints it as mem_heap_B)
  ULong seq;     // snapshots taken before this one
};

bool g_inited;
Snap* g_snaps;       // [max_snapshots]
UInt g_n;            // snapshots held
ULong g_heap, g_extra;  // live: bytes asked for; slop + heap-admin
ULong g_bytes_clock;  // --time-unit=B: bytes allocated plus freed, extra included
ULong g_peak_total;   // total of the current peak snapshot, 0 before the first
// --ignore-fn: bytes massif's tree holds beyond its heap figure. A realloc
// of an ignored block from a stack that is not ignored adds the new size to
// that stack in massif's tree (add_heap_xt) and nothing to its heap, and
// nothing ever takes it out; massif prints a detailed snapshot's heap as
// its tree's sum.
ULong g_phantom;
Long g_min_interval, g_earliest_next;
ULong g_since_detailed;
UInt g_ms_start;
ULong g_cullings;  // for -v

// A realloc is finished at the next heap event (or at exit): a block that
// moved has its new usable size only once the heap module made it, after
// this module was called.
struct Pending {
  const Block* b;
  bool ignored;  // an ignored block (--ignore-fn): only massif's tree quirk
  ExeContext* old_ec;
  ULong old_req, old_usable;
  Long time;  // i or ms when the realloc happened
};
bool g_pending;
Pending g_pend;

// The usable size massif's arena would give the block. Our arena gives the
// same as long as the heap did the same. It did not when massif would have
// kept a block that grew within its slop in place (memtrack, as DHAT, moves
// every block that grows): such blocks keep massif's figure in a side
// table, so what a free takes off is what was added. A 0-byte request
// counts no usable bytes (massif's arena block for it has none when it is
// cut from a bigger one; memtrack's holds the 1 byte DHAT counts).
struct Usable {
  SizeT bytes;
};
PtrMap<Usable> g_massif_usable;  // by Block*
Pool<Usable> g_usable_pool;

// Custom blocks (valgrind.h's MALLOCLIKE, FREELIKE, RESIZEINPLACE): massif
// records them as heap blocks with no slop, charged to the request's stack
// (its first frame is the allocator that made it), in the same table as
// malloc'd blocks. A FREELIKE, and a free() too, takes out the newest record
// at its address, whichever kind it is: a malloc'd block freed by FREELIKE
// no longer counts (its free() later changes nothing), and a free() of a
// malloc'd block with a custom one recorded at its start takes out the
// custom one, the malloc'd bytes counting on. Records by address, the
// newest first; blocks of the heap module that massif no longer counts are
// kept aside.
struct Rec {
  ULong req, extra;
  ExeContext* ec;
  Rec* older;
};
PtrMap<Rec> g_custom;           // by address: the newest record there
Pool<Rec> g_rec_pool;
PtrMap<const Block> g_uncounted;  // heap blocks a FREELIKE took out of massif's figures, or --ignore-fn
PtrMap<const Block> g_ignored_blocks;  // of those, the ones --ignore-fn left out

void init() {
  g_inited = true;
  g_by_ec.init("mt.massif.byec", 1024);
  g_massif_usable.init("mt.massif.usable", 256);
  g_usable_pool.init("mt.massif.usable", 256);
  g_recs.init("mt.massif.recs", 1024);
  g_custom.init("mt.massif.custom", 64);
  g_rec_pool.init("mt.massif.custom", 64);
  g_uncounted.init("mt.massif.uncounted", 16);
  g_ignored_blocks.init("mt.massif.ignoredblocks", 16);
  g_phantom = 0;
  g_snaps = make_array<Snap>("mt.massif.snaps", g_opts.max_snapshots);
  g_n = 0;
  g_heap = g_extra = g_bytes_clock = g_peak_total = 0;
  g_min_interval = g_earliest_next = 0;
  g_since_detailed = 0;
  g_ms_start = VG_(read_millisecond_timer)();
  g_taken = g_cullings = 0;
  g_pending = false;
}

Long now() {
  switch (g_opts.time_unit) {
    case kTimeMs: return (Long)(VG_(read_millisecond_timer)() - g_ms_start);
    case kTimeBytes: return (Long)g_bytes_clock;
    default: return (Long)g_instrs;
  }
}

// The bytes by stack, as they are now (stacks holding nothing left out).
void copy_tree(Snap* s) {
  UInt n = 0;
  g_by_ec.each([&](UWord, StackBytes* r) { n += r->bytes != 0; });
  s->tree = static_cast<Charge*>(alloc("mt.massif.tree", (n ? n : 1) * sizeof(Charge)));
  s->n_tree = 0;
  g_by_ec.each([&](UWord, StackBytes* r) {
    if (r->bytes) s->tree[s->n_tree++] = Charge{r->ec, r->bytes};
  });
}

bool uncullable(UInt i) { return i == 0 || i + 1 == g_n || g_snaps[i].kind == kPeak; }

// Removes half of the snapshots (see the top of the file) and returns the
// new minimum interval.
Long cull() {
  g_cullings++;
  const UInt n = g_n;
  auto next_live = [&](UInt i) { while (i < n && g_snaps[i].kind == kDead) i++; return i; };
  for (UInt round = 0; round < n / 2; round++) {
    UInt prev = 0, cur = next_live(1), nxt = next_live(cur + 1);
    UInt victim = n;
    Long best = 0;
    for (; nxt < n; prev = cur, cur = nxt, nxt = next_live(nxt + 1)) {
      if (g_snaps[cur].kind == kPeak) continue;
      Long span = g_snaps[nxt].time - g_snaps[prev].time;
      if (victim == n || span < best) { victim = cur; best = span; }
    }
    tl_assert(victim < n);
    dealloc(g_snaps[victim].tree);
    g_snaps[victim].tree = nullptr;
    g_snaps[victim].kind = kDead;
  }
  UInt kept = 0;
  for (UInt i = 0; i < n; i++)
    if (g_snaps[i].kind != kDead) g_snaps[kept++] = g_snaps[i];
  g_n = kept;
  tl_assert(g_n > 1);
  bool found = false;
  Long least = 0;
  for (UInt i = 1; i < g_n; i++) {
    if (uncullable(i - 1) && uncullable(i)) continue;  // that gap never grows
    Long gap = g_snaps[i].time - g_snaps[i - 1].time;
    if (!found || gap < least) { least = gap; found = true; }
  }
  tl_assert(found);
  return least;
}

void take(UChar kind, bool detailed, Long t) {
  Snap* s = &g_snaps[g_n];
  s->kind = kind;
  s->time = t;
  s->heap = g_heap;
  s->extra = g_extra;
  s->tree = nullptr;
  s->n_tree = 0;
  s->tree_heap = g_heap + g_phantom;
  s->seq = g_taken;
  if (detailed) copy_tree(s);
  g_since_detailed = detailed ? 0 : g_since_detailed + 1;
  g_taken++;
  if (kind == kPeak) {
    for (UInt i = 0; i < g_n; i++)
      if (g_snaps[i].kind == kPeak) g_snaps[i].kind = kNormal;
    g_peak_total = g_heap + g_extra;
  }
  g_n++;
  if (g_n == g_opts.max_snapshots) g_min_interval = cull();
  g_earliest_next = t + g_min_interval;
}

void maybe_normal(Long t) {
  if (t < g_earliest_next) return;
  take(kNormal, g_since_detailed + 1 == g_opts.detailed_freq, t);
}

// Just before the heap shrinks: a new peak if the total is far enough above
// the last one.
void maybe_peak() {
  ULong total = g_heap + g_extra;
  ULong margin = (ULong)((double)g_peak_total * g_opts.peak_inaccuracy / 100);
  if (total <= g_peak_total + margin) return;
  take(kPeak, true, now());
}

SizeT usable_of(const Block* b) {
  if (g_massif_usable.size())
    if (Usable* u = g_massif_usable.get(reinterpret_cast<UWord>(b))) return u->bytes;
  if (b->zero_req) return 0;
  // With memcheck's queue of freed blocks on, the real arena is not massif's
  // (it holds freed blocks back): the model of it places blocks as massif's
  // run would.
  if (arena_model::active()) return arena_model::usable(b->start);
  return VG_(cli_malloc_usable_size)(reinterpret_cast<void*>(b->start));
}

void forget_usable(const Block* b) {
  if (!g_massif_usable.size()) return;
  if (Usable* u = g_massif_usable.remove(reinterpret_cast<UWord>(b))) g_usable_pool.put(u);
}

bool ignored_stack(ExeContext* ec);  // --ignore-fn, below with the frames

void finish_realloc() {
  g_pending = false;
  const Block* b = g_pend.b;
  forget_usable(b);
  // If the heap module could not get a new block, b is unchanged and the
  // differences below are 0.
  if (g_pend.ignored) {
    // massif: the block stays ignored; its new size goes to the new stack
    // in the tree, for good (see g_phantom).
    ExeContext* ec = store::alloc_context(b);
    if (!ignored_stack(ec)) {
      rec_of(ec)->bytes += b->req_size();
      g_phantom += b->req_size();
    }
    return;
  }
  if (ignored_stack(store::alloc_context(b))) {
    g_uncounted.put(reinterpret_cast<UWord>(b), b);
    g_ignored_blocks.put(reinterpret_cast<UWord>(b), b);
    return;
  }
  ULong req = b->req_size();
  ULong usable = usable_of(b);
  if (req <= g_pend.old_usable && usable != g_pend.old_usable) {
    // massif would have resized it in place.
    Usable* u = g_usable_pool.get();
    u->bytes = usable = g_pend.old_usable;
    g_massif_usable.put(reinterpret_cast<UWord>(b), u);
  }
  rec_of(g_pend.old_ec)->bytes -= g_pend.old_req;
  rec_of(store::alloc_context(b))->bytes += req;
  Long dheap = (Long)req - (Long)g_pend.old_req;
  Long dextra = (Long)(usable - req) - (Long)(g_pend.old_usable - g_pend.old_req);
  g_heap += dheap;
  g_extra += dextra;
  g_bytes_clock += (ULong)(dheap + dextra >= 0 ? dheap + dextra : -(dheap + dextra));
  maybe_normal(g_opts.time_unit == kTimeBytes ? (Long)g_bytes_clock : g_pend.time);
}

// Every event starts here: the start snapshot on the first one, and any
// realloc still to finish.
void begin_event() {
  if (!g_inited) {
    init();
    // massif takes it before the program's first instruction: time 0.
    maybe_normal(0);
  }
  if (g_pending) finish_realloc();
}

// ---- writing ----------------------------------------------------------------

// ms_print drops everything from a '#' to the end of the line and reads a
// line per item, so text from the program (arguments, symbols such as
// GCC's "{lambda(int)#1}") must hold neither.
void put_text(StrBuf* out, const char* s) {
  for (; *s; s++) {
    UChar c = (UChar)*s;
    if (c == '#') out->append_char('?');
    else if (c == '\n') out->append("\\n");
    else if (c == '\r') out->append("\\r");
    else if (c == '\t') out->append("\\t");
    else if (c < 0x20 || c == 0x7f) out->appendf("\\x%02x", (UInt)c);
    else out->append_char((char)c);
  }
}

// Which frames of a stack the tree shows: massif's choice. Leading frames
// in memtrack's preload (malloc, operator new, realloc, ...) go; the stack
// ends at main, or, if main is not on it, at the first frame below main
// (unless --show-below-main=yes).
struct Shown {
  Addr* ips;  // the frames shown, outermost last
  UInt n;
};
PtrMap<Shown> g_shown;
Pool<Shown> g_shown_pool;

void collect_ip(UInt, DiEpoch, Addr ip, void* opaque) { static_cast<Vec<Addr>*>(opaque)->push(ip); }

// How many of a stack's first frames are allocators for massif: the
// preload's replacements (massif's own list names them), then any that
// --alloc-fn names (massif's filter_IPs, by the function at each address).
UInt leading_allocators(const Addr* ips, UInt n) {
  UInt top = 0;
  while (top < n && sites::in_preload(ips[top])) top++;
  if (!g_opts.alloc_fns.n) return top;
  const DiEpoch ep = VG_(current_DiEpoch)();
  const HChar* fn;
  while (top < n && VG_(get_fnname)(ep, ips[top], &fn) && label::is_user_alloc_fn(fn)) top++;
  return top;
}

// --ignore-fn (massif's): an allocation whose first function with a name
// after the allocators matches is left out of the file: its bytes, its
// snapshot, and its block's later reallocs and free (the block joins
// g_uncounted). A realloc to such a stack leaves the block's old bytes
// counted where they were and stops counting the block, as massif does.
// Decided once per stack.
const char kYes = 1, kNo = 0;
PtrMap<const char> g_ignored_stacks;

bool ignored_stack(ExeContext* ec) {
  if (!g_opts.ignore_fns.n) return false;
  static bool made;
  if (!made) {
    g_ignored_stacks.init("mt.massif.ignored", 256);
    made = true;
  }
  if (const char* r = g_ignored_stacks.get(reinterpret_cast<UWord>(ec))) return *r;
  Vec<Addr> ips;
  ips.init("mt.massif.ignored");
  VG_(apply_ExeContext)(collect_ip, &ips, ec);
  UInt n = (UInt)ips.size();
  bool yes = false;
  const DiEpoch ep = VG_(current_DiEpoch)();
  const HChar* fn;
  for (UInt i = leading_allocators(ips.begin(), n); i < n; i++)
    if (VG_(get_fnname)(ep, ips[i], &fn)) {
      yes = label::is_ignore_fn(fn);
      break;
    }
  ips.free();
  g_ignored_stacks.put(reinterpret_cast<UWord>(ec), yes ? &kYes : &kNo);
  return yes;
}

const Shown& shown_frames(ExeContext* ec, Vec<Addr>* scratch) {
  if (Shown* s = g_shown.get(reinterpret_cast<UWord>(ec))) return *s;
  scratch->clear();
  VG_(apply_ExeContext)(collect_ip, scratch, ec);
  const Addr* ips = scratch->begin();
  UInt n = (UInt)scratch->size();
  UInt top = leading_allocators(ips, n);
  UInt end = n;
  if (!VG_(clo_show_below_main)) {
    const DiEpoch ep = VG_(current_DiEpoch)();
    UInt below = n;
    for (UInt i = top; i < n; i++) {
      Vg_FnNameKind k = VG_(get_fnname_kind_from_IP)(ep, ips[i]);
      if (k == Vg_FnNameMain) { end = i + 1; below = n; break; }
      if (k == Vg_FnNameBelowMain && below == n) below = i;
    }
    if (below < n) end = below + 1;
  }
  Shown* s = g_shown_pool.get();
  s->n = end - top;
  s->ips = s->n ? static_cast<Addr*>(alloc("mt.massif.ips", s->n * sizeof(Addr))) : nullptr;
  for (UInt i = 0; i < s->n; i++) s->ips[i] = ips[top + i];
  g_shown.put(reinterpret_cast<UWord>(ec), s);
  return *s;
}

struct Path {  // one stack's shown frames and bytes
  const Addr* ips;
  UInt n;
  ULong bytes;
};

// Stacks in frame order, a missing frame first: stacks sharing their first
// k frames are then neighbours, as the tree's subtrees need.
Int path_order(const void* a, const void* b) {
  const Path* x = static_cast<const Path*>(a);
  const Path* y = static_cast<const Path*>(b);
  UInt k = min(x->n, y->n);
  for (UInt i = 0; i < k; i++)
    if (x->ips[i] != y->ips[i]) return x->ips[i] < y->ips[i] ? -1 : 1;
  return x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
}

struct Node {  // the paths [lo, hi) through one frame, or the merged small ones
  Addr ip;     // 0 for the merged node
  UInt lo, hi;
  ULong bytes;
  UInt merged;  // number of nodes merged into this one (0 = a real frame)
};

Int node_order(const void* a, const void* b) {
  const Node* x = static_cast<const Node*>(a);
  const Node* y = static_cast<const Node*>(b);
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  return x->ip < y->ip ? -1 : x->ip > y->ip ? 1 : 0;
}

struct TreeOut {
  OutFile* f;
  StrBuf line;
  Path* paths;
  ULong significant;  // a node needs at least this many bytes
  double threshold;
};

// The children at depth d of the paths [lo, hi): one node per frame,
// biggest first, nodes below the threshold merged into one.
void children(TreeOut& t, UInt d, UInt lo, UInt hi, Vec<Node>* out) {
  out->clear();
  for (UInt i = lo; i < hi;) {
    if (t.paths[i].n <= d) { i++; continue; }  // the stack ends at the parent
    Node nd = {t.paths[i].ips[d], i, i, 0, 0};
    while (i < hi && t.paths[i].n > d && t.paths[i].ips[d] == nd.ip) nd.bytes += t.paths[i++].bytes;
    nd.hi = i;
    out->push(nd);
  }
  SizeT small_at = out->size();
  SizeT kept = 0;
  for (SizeT i = 0; i < out->size(); i++) {
    Node nd = (*out)[i];
    if (nd.bytes >= t.significant) { (*out)[kept++] = nd; continue; }
    if (small_at == out->size()) {
      small_at = kept;
      (*out)[kept++] = Node{0, 0, 0, nd.bytes, 1};
    } else {
      (*out)[small_at].bytes += nd.bytes;
      (*out)[small_at].merged++;
    }
  }
  out->resize(kept);
  if (kept > 1) VG_(ssort)(out->begin(), kept, sizeof(Node), node_order);
}

void put_line(TreeOut& t, UInt indent, UInt n_children, ULong bytes, const char* text) {
  t.line.clear();
  for (UInt i = 0; i < indent; i++) t.line.append_char(' ');
  t.line.appendf("n%u: %llu ", n_children, bytes);
  put_text(&t.line, text);
  t.line.append_char('\n');
  t.f->write(t.line.c_str(), t.line.len());
}

void write_node(TreeOut& t, UInt d, UInt indent, const Node& nd) {
  if (nd.merged) {
    t.line.clear();
    for (UInt i = 0; i < indent; i++) t.line.append_char(' ');
    // massif's wording, which massif-visualizer recognises.
    t.line.appendf("n0: %llu in %u place%s below massif's threshold (%.2f%%)\n", nd.bytes, nd.merged,
                   nd.merged == 1 ? "," : "s, all", t.threshold);
    t.f->write(t.line.c_str(), t.line.len());
    return;
  }
  Vec<Node> kids;
  kids.init("mt.massif.kids");
  children(t, d + 1, nd.lo, nd.hi, &kids);
  // Calls inlined at this address come first, each a node with one child.
  const DiEpoch ep = VG_(current_DiEpoch)();
  InlIPCursor* cur = VG_(new_IIPC)(ep, nd.ip);
  for (;;) {
    const HChar* text = sites::frame_text(ep, nd.ip, cur);
    bool inlined = VG_(next_IIPC)(cur);
    put_line(t, indent, inlined ? 1 : (UInt)kids.size(), nd.bytes, text);
    if (!inlined) break;
    indent++;
  }
  VG_(delete_IIPC)(cur);
  for (SizeT i = 0; i < kids.size(); i++) write_node(t, d + 1, indent + 1, kids[i]);
  kids.free();
}

// The tree of a snapshot whose stacks (every stack seen so far, those
// holding nothing with 0 bytes) are in all.
void write_charges(OutFile& f, ULong heap, ULong extra, Vec<Charge>& all) {
  TreeOut t;
  t.f = &f;
  t.line.init("mt.massif.line");
  t.threshold = g_opts.threshold;
  // A zero total with a non-zero threshold: every node is below it.
  ULong total = heap + extra;
  if (heap == 0 && g_opts.threshold != 0) t.significant = 1;
  else t.significant = (ULong)((double)total * g_opts.threshold / 100);
  t.paths = static_cast<Path*>(alloc("mt.massif.paths", (all.size() ? all.size() : 1) * sizeof(Path)));
  UInt n = 0;
  Vec<Addr> scratch;
  scratch.init("mt.massif.scratch");
  for (SizeT i = 0; i < all.size(); i++) {
    const Shown& sh = shown_frames(all[i].ec, &scratch);
    // A stack with no frame left counts at the root only.
    if (sh.n) t.paths[n++] = Path{sh.ips, sh.n, all[i].bytes};
  }
  scratch.free();
  if (n > 1) VG_(ssort)(t.paths, n, sizeof(Path), path_order);
  Vec<Node> top;
  top.init("mt.massif.top");
  children(t, 0, 0, n, &top);
  put_line(t, 0, (UInt)top.size(), heap, "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.");
  for (SizeT i = 0; i < top.size(); i++) write_node(t, 0, 1, top[i]);
  top.free();
  dealloc(t.paths);
  t.line.free();
}

void write_tree(OutFile& f, const Snap& s) {
  // The stacks that held bytes, and, with 0 bytes, every other stack seen
  // before the snapshot: massif's tree has them all (they end up in the
  // "below massif's threshold" node unless --threshold=0).
  Vec<Charge> all;
  all.init("mt.massif.all");
  for (UInt i = 0; i < s.n_tree; i++) {
    all.push(s.tree[i]);
    g_by_ec.get(reinterpret_cast<UWord>(s.tree[i].ec))->listed = true;
  }
  g_by_ec.each([&](UWord, StackBytes* r) {
    if (!r->listed && r->born <= s.seq) all.push(Charge{r->ec, 0});
    r->listed = false;
  });
  write_charges(f, s.tree_heap, s.extra, all);
  all.free();
}

void write_header(OutFile& f) {
  StrBuf b;
  b.init("mt.massif.header");
  // desc: the options of the run (ms_print shows them as "Massif arguments").
  b.append("desc:");
  Word n = VG_(sizeXA)(VG_(args_for_valgrind));
  for (Word i = 0; i < n; i++) {
    b.append_char(' ');
    put_text(&b, *static_cast<HChar**>(VG_(indexXA)(VG_(args_for_valgrind), i)));
  }
  if (n == 0) b.append(" (none)");
  b.append("\ncmd: ");
  StrBuf cmd;
  cmd.init("mt.massif.cmd");
  client_command_line(&cmd);
  put_text(&b, cmd.c_str());
  cmd.free();
  static const char* const kUnits[] = {"i", "ms", "B"};
  b.appendf("\ntime_unit: %s\n", kUnits[g_opts.time_unit]);
  f.write(b.c_str(), b.len());
  b.free();
}

}  // namespace

namespace {

// What massif counts beside a block's asked-for bytes: its slop and
// --heap-admin.
ULong extra_of(const Block* b) { return usable_of(b) - b->req_size() + g_opts.heap_admin; }

// Adds bytes to massif's figures (an allocation), with the snapshot after.
void count(ExeContext* ec, ULong req, ULong extra) {
  rec_of(ec)->bytes += req;
  g_heap += req;
  g_extra += extra;
  g_bytes_clock += req + extra;
  maybe_normal(now());
}

}  // namespace

void alloc_event(const Block* b) {
  begin_event();
  if (ignored_stack(b->site->ec)) {
    g_uncounted.put(reinterpret_cast<UWord>(b), b);
    g_ignored_blocks.put(reinterpret_cast<UWord>(b), b);
    return;
  }
  count(b->site->ec, b->req_size(), extra_of(b));
}

namespace {

// Takes away bytes massif counted (a free or its part of a realloc), with
// the peak check before and the snapshot after.
void uncount(ExeContext* ec, ULong req, ULong extra) {
  maybe_peak();
  rec_of(ec)->bytes -= req;
  g_heap -= req;
  g_extra -= extra;
  g_bytes_clock += req + extra;
  maybe_normal(now());
}

Rec* pop_custom(Addr p) {
  Rec* r = g_custom.remove(p);
  if (r && r->older) g_custom.put(p, r->older);
  return r;
}

bool uncounted(const Block* b) {
  return g_uncounted.size() && g_uncounted.get(reinterpret_cast<UWord>(b)) != nullptr;
}

// massif's unrecord: the newest record at p, custom or malloc'd.
void remove_newest(Addr p) {
  if (Rec* r = g_custom.size() ? pop_custom(p) : nullptr) {
    uncount(r->ec, r->req, r->extra);
    g_rec_pool.put(r);
    return;
  }
  const Block* b = store::at(p);
  if (!b || b->released || uncounted(b)) return;  // massif: a bogus free, no snapshot
  ULong req = b->req_size(), extra = extra_of(b);
  forget_usable(b);
  g_uncounted.put(reinterpret_cast<UWord>(b), b);
  uncount(store::alloc_context(b), req, extra);
}

}  // namespace

void free_event(const Block* b) {
  begin_event();
  if (uncounted(b)) {  // FREELIKE took it out already, or --ignore-fn
    g_uncounted.remove(reinterpret_cast<UWord>(b));
    if (g_ignored_blocks.size()) g_ignored_blocks.remove(reinterpret_cast<UWord>(b));
    return;
  }
  ULong req = b->req_size(), extra = extra_of(b);
  forget_usable(b);
  if (Rec* top = g_custom.size() ? pop_custom(b->start) : nullptr) {
    // The custom record goes; the malloc'd block stays counted as a record
    // of its own, below any other custom ones there.
    uncount(top->ec, top->req, top->extra);
    top->req = req;
    top->extra = extra;
    top->ec = store::alloc_context(b);
    top->older = nullptr;
    Rec* head = g_custom.get(b->start);
    if (!head) {
      g_custom.put(b->start, top);
    } else {
      while (head->older) head = head->older;
      head->older = top;
    }
    return;
  }
  uncount(store::alloc_context(b), req, extra);
}

void realloc_event(const Block* b, SizeT new_size) {
  begin_event();
  if (uncounted(b)) {
    // massif's realloc fails on a block a FREELIKE took out (memtrack's
    // moves on, uncounted); an ignored block's adds to massif's tree.
    if (g_ignored_blocks.size() && g_ignored_blocks.get(reinterpret_cast<UWord>(b))) {
      g_pend.b = b;
      g_pend.ignored = true;
      g_pending = true;
    }
    return;
  }
  if (new_size < b->req_size()) maybe_peak();
  g_pend.b = b;
  g_pend.ignored = false;
  g_pend.old_ec = store::alloc_context(b);
  g_pend.old_req = b->req_size();
  g_pend.old_usable = usable_of(b);
  g_pend.time = now();
  g_pending = true;
}

void custom_alloc(ExeContext* ec, Addr p, SizeT size) {
  begin_event();
  Rec* r = g_rec_pool.get();
  r->req = size;
  r->extra = g_opts.heap_admin;
  r->ec = ec;
  r->older = g_custom.remove(p);
  g_custom.put(p, r);
  count(ec, r->req, r->extra);
}

void custom_free(Addr p) {
  begin_event();
  remove_newest(p);
}

void custom_resize(ExeContext* ec, Addr p, SizeT new_size) {
  begin_event();
  remove_newest(p);
  custom_alloc(ec, p, new_size);
}

namespace {

bool g_shown_ready;

void init_shown() {
  if (g_shown_ready) return;
  g_shown_ready = true;
  g_shown.init("mt.massif.shown", 1024);
  g_shown_pool.init("mt.massif.shown", 1024);
}

void write_snap_head(OutFile& f, UInt n, Long time, ULong heap, ULong extra, const char* kind) {
  f.printf("#-----------\nsnapshot=%u\n#-----------\n", n);
  f.printf("time=%lld\nmem_heap_B=%llu\nmem_heap_extra_B=%llu\nmem_stacks_B=0\n", time, heap, extra);
  f.printf("heap_tree=%s\n", kind);
}

// The snapshots held, in a file of massif's format.
bool write_held(const char* what, const char* path) {
  OutFile f;
  if (!f.open_output(what, path)) return false;
  write_header(f);
  static const char* const kKinds[] = {"empty", "detailed", "peak"};
  for (UInt i = 0; i < g_n; i++) {
    const Snap& s = g_snaps[i];
    // ms_print finds the peak by its number but draws by position: number
    // them in file order.
    write_snap_head(f, i, s.time, s.tree ? s.tree_heap : s.heap, s.extra,
                    kKinds[s.kind == kPeak ? 2 : s.tree ? 1 : 0]);
    if (s.tree) write_tree(f, s);
  }
  return f.close_output();
}

}  // namespace

bool write_snapshot_now(const char* path, bool detailed) {
  init_shown();
  OutFile f;
  if (g_opts.massif_out_file) {
    // massif's own figures: the snapshot is taken as massif's monitor
    // command takes one (a normal snapshot at the current time, outside
    // the list, so the file at exit is not changed by it).
    begin_event();
    Snap s;
    s.kind = kNormal;
    s.time = now();
    s.heap = g_heap;
    s.extra = g_extra;
    s.tree = nullptr;
    s.n_tree = 0;
    s.tree_heap = g_heap + g_phantom;
    s.seq = g_taken;
    if (detailed) copy_tree(&s);
    if (!f.open_output("massif-format snapshot", path)) {
      dealloc(s.tree);
      return false;
    }
    write_header(f);
    write_snap_head(f, 0, s.time, detailed ? s.tree_heap : s.heap, s.extra, detailed ? "detailed" : "empty");
    if (detailed) write_tree(f, s);
    dealloc(s.tree);
    return f.close_output();
  }
  // Without --massif-out-file nothing keeps massif's figures over the run:
  // they come from the live blocks now (the same heap and tree for malloc'd
  // blocks; custom blocks are not in it, and --time-unit=B counts the bytes
  // asked for, allocated plus freed, without the extra).
  ULong heap = 0, extra = 0;
  PtrMap<Charge> by_ec;
  by_ec.init("mt.massif.now", 256);
  Vec<Charge> all;
  all.init("mt.massif.all");
  store::index().each([&](const Block* b) {
    if (b->released) return;
    ULong req = b->req_size();
    heap += req;
    SizeT usable = b->zero_req ? 0 : VG_(cli_malloc_usable_size)(reinterpret_cast<void*>(b->start));
    extra += usable - req + g_opts.heap_admin;
    ExeContext* ec = store::alloc_context(b);
    Charge* c = by_ec.get(reinterpret_cast<UWord>(ec));
    if (!c) {
      c = static_cast<Charge*>(alloc("mt.massif.now", sizeof(Charge)));
      c->ec = ec;
      c->bytes = 0;
      by_ec.put(reinterpret_cast<UWord>(ec), c);
    }
    c->bytes += req;
  });
  if (detailed) {
    by_ec.each([&](UWord, Charge* c) { all.push(*c); });
    sites::each([&](Site* s) {
      if (s->tot_blocks && !by_ec.get(reinterpret_cast<UWord>(s->ec))) all.push(Charge{s->ec, 0});
    });
  }
  const Totals& t = sites::totals();
  Long time = g_opts.time_unit == kTimeMs     ? (Long)VG_(read_millisecond_timer)()
              : g_opts.time_unit == kTimeBytes ? (Long)(2 * t.tot_bytes - t.cur_bytes)
                                               : (Long)g_instrs;
  bool ok = f.open_output("massif-format snapshot", path);
  if (ok) {
    write_header(f);
    write_snap_head(f, 0, time, heap, extra, detailed ? "detailed" : "empty");
    if (detailed) write_charges(f, heap, extra, all);
    ok = f.close_output();
  }
  all.free();
  by_ec.each([](UWord, Charge* c) { dealloc(c); });
  by_ec.free_table();
  return ok;
}

bool write_all_snapshots(const char* path) {
  if (!g_opts.massif_out_file) return false;
  begin_event();
  init_shown();
  return write_held("massif-format snapshots", path);
}

void write_at_exit() {
  if (!g_opts.massif_out_file) return;
  begin_event();  // a program without heap events still has the start
  init_shown();

  HChar* path = options::output_path("--massif-out-file", g_opts.massif_out_file);
  write_held("massif-format output", path);
  if (VG_(clo_verbosity) > 1)
    VG_(dmsg)("memtrack: massif file: %u snapshots kept of %llu taken, %llu cullings\n", g_n, g_taken, g_cullings);
  dealloc(path);
}

}  // namespace mt::massif
