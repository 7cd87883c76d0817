// Leak checker. The algorithm is memcheck's (mc_leakcheck.c), so that
// categories and loss records agree with it:
//  1. every live block, in address order;
//  2. roots: client mappings that are readable and writable and not heap
//     (isCH), minus each thread's dead stack below SP - redzone, plus every
//     thread's general-purpose registers;
//  3. marking: a pointer to a block's start (or an interior pointer that a
//     heuristic accepts) from a root or a reachable block makes it reachable;
//     any other pointer into an unreached block makes it possibly lost;
//  4. cliques: each still-unreached block, in address order, leads a clique;
//     unreached blocks it reaches become indirectly lost, counted in its
//     indirect total.
// memcheck trusts only words its definedness bits say are defined; memtrack
// has no such bits, so it zeroes dead stack (--scrub-stack) and freshly
// allocated small blocks, which removes the stale pointers that would
// otherwise hide leaks. docs/manual.md lists what remains different.
#include "mt_leak.h"
#include "mt_access.h"
#include "mt_arch.h"
#include "mt_custom.h"
#include "mt_errors.h"
#include "mt_heap.h"
#include "mt_options.h"
#include "mt_sites.h"

namespace mt::leak {

namespace {

enum State : UChar { kSReachable = 0, kSPossible = 1, kSIndirect = 2, kSUnreached = 3 };

struct LB {
  Addr start, end;   // [start, end): counted size, so a 0-byte block covers 1 byte
  Block* b;          // a heap block, or null and
  const custom::Chunk* c;  // a custom allocator's block (mt_custom)
  ULong indirect;    // bytes indirectly lost through this clique leader
  UChar state;
  UChar heur;        // what the last interior pointer into it matched (memcheck's tag)
  bool pending;
};

Vec<LB> g_lb;
Vec<UInt> g_stack;
Addr g_lo, g_hi;   // bounds of all blocks, for a quick reject
UInt g_heuristics; // bitset over Heuristic, of the current search
Counts g_counts;   // of the last search
bool g_searched;   // any search so far (heuristic lines follow memcheck's rule)
bool g_exit_analysed;
UInt g_search_ms;      // analyse() of the last search, for the -v timing line
UInt g_search_number;  // for per-search suppression counts
Counts g_prev;

// ---- reading client memory safely ----------------------------------------
//
// The search reads only what the address space manager calls the client's
// and readable, but a page can still fault: the program may have changed
// its protection behind the core's back (a system call the core did not
// see, as memcheck's leak-segv-jmp makes), or a file mapping may end
// before its last page. As memcheck, each reader has its own catcher, so
// that a fault costs only what it read: the scan loses the page that
// faulted (memcheck skips it word by word, each word faulting again), a
// heuristic's read makes that one pointer match no heuristic.

VG_MINIMAL_JMP_BUF(g_jmp);       // scan_range's
VG_MINIMAL_JMP_BUF(g_heur_jmp);  // heuristic_for's

// We are in a signal handler: unblock the signal before jumping out.
void unblock(Int sig) {
  vki_sigset_t mask;
  VG_(sigprocmask)(VKI_SIG_SETMASK, nullptr, &mask);
  VG_(sigdelset)(&mask, sig);
  VG_(sigprocmask)(VKI_SIG_SETMASK, &mask, nullptr);
}

void on_fault(Int sig, Addr) {
  if (sig == VKI_SIGSEGV || sig == VKI_SIGBUS) {
    unblock(sig);
    VG_MINIMAL_LONGJMP(g_jmp);
  }
}

void on_heur_fault(Int sig, Addr) {
  if (sig == VKI_SIGSEGV || sig == VKI_SIGBUS) {
    unblock(sig);
    VG_MINIMAL_LONGJMP(g_heur_jmp);
  }
}

// Whether a points into memory the address space manager calls the
// client's and readable. memcheck takes no word for a pointer unless it
// does (a pointer into a page the program made PROT_NONE reaches no
// block). The client does not run during a search, so the last segment
// found readable, [g_rd_lo, g_rd_hi], answers most lookups (blocks lie in
// a few heap segments); analyse() forgets it. (A million 32-byte blocks
// holding two pointers each, five searches: 0.45 s a search with the check
// and without it, within the noise.)
Addr g_rd_lo = 1, g_rd_hi = 0;
bool readable(Addr a) {
  if (a >= g_rd_lo && a <= g_rd_hi) return true;
  if (!VG_(am_is_valid_for_client)(a, 1, VKI_PROT_READ)) return false;
  if (const NSegment* seg = VG_(am_find_nsegment)(a)) {
    g_rd_lo = seg->start;
    g_rd_hi = seg->end;
  }
  return true;
}

// ---- finding blocks ------------------------------------------------------

// Index of the block holding a, or -1. memcheck's binary search: custom
// blocks may overlap (metapools), and then the block it lands on is the
// one a pointer reaches.
Int find(Addr a) {
  if (a < g_lo || a >= g_hi) return -1;
  Int lo = 0, hi = (Int)g_lb.size() - 1;
  while (lo <= hi) {
    Int mid = (lo + hi) / 2;
    if (a < g_lb[mid].start) hi = mid - 1;
    else if (a >= g_lb[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

// Requested size (memcheck's: a 0-byte block adds 0) and allocation stack.
SizeT req_of(const LB& x) { return x.b ? x.b->req_size() : x.c->size; }
ExeContext* ec_of(const LB& x) { return x.b ? heap::alloc_context(x.b) : x.c->ec; }

// ---- heuristics (interior pointers memcheck accepts as reachable) --------

bool read_word(Addr a, UWord* out) {
  if (!VG_(am_is_valid_for_client)(a, sizeof(UWord), VKI_PROT_READ)) return false;
  *out = *reinterpret_cast<const UWord*>(a);
  return true;
}

// A vtable: in a readable file mapping, with at least two non-null entries
// among its first 20 words that point into executable file mappings.
bool looks_like_vtable(Addr v) {
  if (v < 4096 || (v & (sizeof(UWord) - 1))) return false;
  const NSegment* seg = VG_(am_find_nsegment)(v);
  if (!seg || seg->kind != SkFileC || !seg->hasR) return false;
  UInt good = 0;
  for (UInt i = 0; i < 20; i++) {
    UWord w;
    if (!read_word(v + i * sizeof(UWord), &w)) return false;
    if (w == 0) continue;
    const NSegment* code = VG_(am_find_nsegment)(w);
    if (!code || code->kind != SkFileC || !code->hasT) return good >= 2;
    if (++good >= 2) return true;
  }
  return good >= 2;
}

UChar heuristic_for_unprotected(const LB& x, Addr v) {
  SizeT size = x.end - x.start;
  UWord w0 = 0, w1 = 0;
  if ((g_heuristics & (1u << kStdString)) && v == x.start + 3 * sizeof(UWord) &&
      read_word(x.start, &w0) && read_word(x.start + sizeof(UWord), &w1) &&
      3 * sizeof(UWord) + w1 + 1 == size && w0 <= w1)
    return kStdString;
  if ((g_heuristics & (1u << kLength64)) && v == x.start + sizeof(ULong) && read_word(x.start, &w0) && w0 != 0 &&
      w0 == size - sizeof(ULong))
    return kLength64;
  if ((g_heuristics & (1u << kNewArray)) && v == x.start + sizeof(ULong) && read_word(x.start, &w0) && w0 != 0 &&
      (size - sizeof(ULong)) % w0 == 0)
    return kNewArray;
  if ((g_heuristics & (1u << kMultipleInheritance)) && (v & (sizeof(UWord) - 1)) == 0 &&
      read_word(v, &w0) && read_word(x.start, &w1) && w0 >= 4096 && w1 >= 4096 && looks_like_vtable(w0) &&
      looks_like_vtable(w1))
    return kMultipleInheritance;
  return kHeurNone;
}

// A fault while the heuristics read the block (or a vtable) means no
// heuristic matched, as in memcheck; the scan that found v goes on.
UChar heuristic_for(const LB& x, Addr v) {
  fault_catcher_t prev = VG_(set_fault_catcher)(on_heur_fault);
  UChar h = kHeurNone;
  if (VG_MINIMAL_SETJMP(g_heur_jmp) == 0) h = heuristic_for_unprotected(x, v);
  VG_(set_fault_catcher)(prev);
  return h;
}

// ---- marking ---------------------------------------------------------------

// Clique mode: -1 while marking from roots, else the leader's index.
Int g_clique;

void push(UInt i) {
  if (!g_lb[i].pending) {
    g_lb[i].pending = true;
    g_stack.push(i);
  }
}

// A word v found while scanning; prior_definite: found in a root or in a
// reachable block.
void found_word(UWord v, bool prior_definite) {
  Int i = find(v);
  if (i < 0 || !readable(v)) return;
  LB& x = g_lb[i];
  if (g_clique >= 0) {
    // Phase 2: any pointer into another unreached block joins the clique.
    if (x.state != kSUnreached || i == g_clique) return;
    x.state = kSIndirect;
    // Requested sizes, as memcheck counts: a 0-byte block adds 0.
    g_lb[g_clique].indirect += req_of(x) + x.indirect;
    x.indirect = 0;
    push((UInt)i);
    return;
  }
  if (x.state == kSReachable) {
    if (v == x.start) x.heur = kHeurNone;  // reached directly after all
    return;
  }
  // As memcheck: every interior pointer to a block not yet reachable
  // retags it, whether or not it makes it reachable; a start pointer later
  // leaves the tag, and every tagged block counts under "of which reachable
  // via heuristic".
  bool via_start = v == x.start;
  if (!via_start) x.heur = heuristic_for(x, v);
  if ((via_start || x.heur) && prior_definite) {
    x.state = kSReachable;
    push((UInt)i);  // also rescans a block that was only possibly reached
  } else if (x.state == kSUnreached) {
    x.state = kSPossible;
    push((UInt)i);
  }
}

// Scans [a, b) word by word. Unreadable pages are skipped; a fault on a page
// the address space manager thought readable skips the rest of that page,
// counted as memcheck counts it ("Skipped N bytes due to read errors": it
// tries, and counts, each word of the page).
volatile Addr g_scan_at;
ULong g_scanned;
ULong g_skipped;       // bytes that faulted
ULong g_root_skipped;  // ... by the end of marking from the roots, which memcheck prints

void scan_range(Addr a, Addr b, bool prior_definite) {
  // Whole words only, as memcheck: a word the end cuts is no pointer (the
  // rest may be a pointer left by a realloc that shrank in place).
  a = VG_ROUNDUP(a, sizeof(UWord));
  b = VG_ROUNDDN(b, sizeof(UWord));
  if (a >= b) return;
  fault_catcher_t prev = VG_(set_fault_catcher)(on_fault);
  g_scan_at = a;
  if (VG_MINIMAL_SETJMP(g_jmp) != 0) {
    // Faulted reading g_scan_at (the heuristics catch their own faults):
    // go on from the next page.
    Addr next = min<Addr>(VG_PGROUNDUP(g_scan_at + 1), b);
    g_scanned += next - g_scan_at;
    g_skipped += next - g_scan_at;
    g_scan_at = next;
  }
  while (g_scan_at < b) {
    Addr p = g_scan_at;
    if (p == a || (p & (VKI_PAGE_SIZE - 1)) == 0) {
      if (!VG_(am_is_valid_for_client)(p, sizeof(UWord), VKI_PROT_READ)) {
        g_scan_at = VG_PGROUNDUP(p + 1);
        continue;
      }
    }
    UWord w = *reinterpret_cast<const UWord*>(p);
    g_scanned += sizeof(UWord);
    if (w >= g_lo && w < g_hi) found_word(w, prior_definite);
    g_scan_at = p + sizeof(UWord);
  }
  VG_(set_fault_catcher)(prev);
}

// A page of a heap block that the program never touched reads as zeros and
// holds no pointer; reading it only maps the kernel's zero page, which costs
// about 0.3 s per GiB for programs that hold huge, barely used blocks.
// /proc/self/pagemap says which pages are present or swapped out: big
// blocks have only those scanned. Heap blocks only: they are private
// anonymous memory of the client arena, whereas a page of a file or shared
// mapping can hold data this process never touched.
constexpr SizeT kPagemapMin = 1 << 20;
constexpr ULong kPagePresent = 1ULL << 63, kPageSwapped = 1ULL << 62;
Int g_pagemap = -1;  // open during a search, if the kernel lets us

void scan_block(const LB& x, bool prior_definite) {
  Addr a = x.start, b = x.end;
  if (!x.b || b - a < kPagemapMin || g_pagemap < 0) {
    scan_range(a, b, prior_definite);
    return;
  }
  constexpr UWord kBatch = 512;
  ULong ents[kBatch];
  Addr page = VG_PGROUNDDN(a);
  Addr run = 0;  // start of the current run of pages with data, or 0
  while (page < b) {
    UWord n = min<UWord>(kBatch, (VG_PGROUNDUP(b) - page) / VKI_PAGE_SIZE);
    Off64T off = static_cast<Off64T>(page / VKI_PAGE_SIZE) * sizeof(ULong);
    Int want = static_cast<Int>(n * sizeof(ULong));
    if (VG_(lseek)(g_pagemap, off, VKI_SEEK_SET) != off || VG_(read)(g_pagemap, ents, want) != want) {
      scan_range(run ? max(a, run) : max(a, page), b, prior_definite);  // no answer: scan the rest
      return;
    }
    for (UWord i = 0; i < n; i++, page += VKI_PAGE_SIZE) {
      bool data = (ents[i] & (kPagePresent | kPageSwapped)) != 0;
      if (data && !run) run = page;
      if (!data) {
        if (run) scan_range(max(a, run), min(b, page), prior_definite);
        run = 0;
        g_scanned += min(b, page + VKI_PAGE_SIZE) - max(a, page);  // searched, and found empty
      }
    }
  }
  if (run) scan_range(max(a, run), b, prior_definite);
}

void drain() {
  while (!g_stack.empty()) {
    UInt i = g_stack.pop();
    LB& x = g_lb[i];
    x.pending = false;
    scan_block(x, x.state != kSPossible);
  }
}

void root_register(ThreadId, const HChar*, UWord v) {
  if (v >= g_lo && v < g_hi) found_word(v, true);
}

// Roots: writable client memory that is not heap, and not dead stack.
void scan_roots() {
  Int got = 0;
  Addr* starts = VG_(get_segment_starts)(SkFileC | SkAnonC | SkShmC, &got);

  // Each thread's dead stack: [its mapping's start, SP - redzone).
  struct Dead { Addr lo, hi; };
  Vec<Dead> dead;
  dead.init("mt.leak.dead");
  ThreadId tid;
  Addr smin, smax;
  VG_(thread_stack_reset_iter)(&tid);
  while (VG_(thread_stack_next)(&tid, &smin, &smax)) {
    Addr sp = smin;
    const NSegment* seg = VG_(am_find_nsegment)(sp);
    if (!seg) continue;  // SP outside any client mapping (sigaltstack, ...)
    Addr lo = seg->start;
    SizeT size = VG_(thread_get_stack_size)(tid);
    if (size && smax + 1 > size && smax + 1 - size > lo) lo = smax + 1 - size;
    Addr hi = sp > arch::kStackRedzone ? sp - arch::kStackRedzone : 0;
    if (hi > lo) dead.push({lo, hi});
  }

  for (Int k = 0; k < got; k++) {
    const NSegment* seg = VG_(am_find_nsegment)(starts[k]);
    if (!seg || !seg->hasR || !seg->hasW || seg->isCH) continue;
    if (seg->kind == SkFileC && (VKI_S_ISCHR(seg->mode) || VKI_S_ISBLK(seg->mode))) {
      const HChar* name = VG_(am_get_filename)(seg);
      if (!name || VG_(strcmp)(name, "/dev/zero") != 0) continue;
    }
    Addr a = seg->start, b = seg->end + 1;
    // Cut the dead stack parts out of [a, b).
    Addr from = a;
    while (from < b) {
      Addr to = b, skip_to = b;
      for (SizeT d = 0; d < dead.size(); d++) {
        if (dead[d].hi > from && dead[d].lo < to) {
          to = max(from, dead[d].lo);
          skip_to = dead[d].hi;
        }
      }
      scan_range(from, to, true);
      drain();
      from = skip_to > to ? skip_to : to;
      if (to == b) break;
    }
  }
  dead.free();
  VG_(free)(starts);

  VG_(apply_to_GP_regs)(root_register);
  drain();
}

// ---- loss records ------------------------------------------------------------

struct Record {
  Kind kind;
  ExeContext* ec;
  ULong direct, indirect, blocks;
  ULong old_direct, old_indirect, old_blocks;  // at the previous search
  bool seen;                                   // in this search
  bool suppressed;                             // matched a suppression in this search
};

Vec<Record*> g_records;  // kept across searches for the delta modes

Kind kind_of(UChar s) {
  switch (s) {
    case kSReachable: return kReachable;
    case kSPossible: return kPossible;
    case kSIndirect: return kIndirect;
    default: return kDefinite;
  }
}

// The first IPs of a stack, hashed: records compare stacks at
// --leak-resolution (low = 2 frames, med = 4, high = all, where the
// ExeContext itself is unique and its address is the key).
struct IpHash { UInt depth; UWord h; };
void hash_ip(UInt n, DiEpoch, Addr ip, void* opaque) {
  IpHash* x = static_cast<IpHash*>(opaque);
  if (n < x->depth) x->h = hash_word(x->h ^ ip) + n;
}

UWord stack_key(ExeContext* ec) {
  if (g_opts.leak_resolution == Vg_HighRes) return reinterpret_cast<UWord>(ec);
  IpHash x = {g_opts.leak_resolution == Vg_LowRes ? 2u : 4u, 0x5bd1e995};
  VG_(apply_ExeContext)(hash_ip, &x, ec);
  return x.h;
}

Record* record_for(Kind k, ExeContext* ec, PtrMap<Record>* by_key) {
  UWord key = ((stack_key(ec) << 2) | k) | 1;  // nonzero
  Record* r = by_key->get(key);
  if (r && r->kind == k && VG_(eq_ExeContext)(g_opts.leak_resolution, r->ec, ec)) return r;
  if (r) {  // hash collision: fall back to a scan
    for (SizeT i = 0; i < g_records.size(); i++)
      if (g_records[i]->kind == k && VG_(eq_ExeContext)(g_opts.leak_resolution, g_records[i]->ec, ec)) return g_records[i];
  }
  r = static_cast<Record*>(alloc_zeroed("mt.leak.record", sizeof(Record)));
  r->kind = k;
  r->ec = ec;
  g_records.push(r);
  if (!by_key->get(key)) by_key->put(key, r);
  return r;
}

void index_records(PtrMap<Record>* by_key) {
  for (SizeT i = 0; i < g_records.size(); i++) {
    Record* r = g_records[i];
    UWord key = ((stack_key(r->ec) << 2) | r->kind) | 1;
    if (!by_key->get(key)) by_key->put(key, r);
  }
}

bool less(const Record* a, const Record* b) {
  ULong sa = a->direct + a->indirect, sb = b->direct + b->indirect;
  if (sa != sb) return sa < sb;
  if (a->kind != b->kind) return a->kind < b->kind;
  if (a->blocks != b->blocks) return a->blocks < b->blocks;
  return reinterpret_cast<UWord>(a->ec) < reinterpret_cast<UWord>(b->ec);
}

void sort_records(Vec<Record*>& v) {
  // Insertion sort on top of a shell gap sequence: no libstdc++ here.
  SizeT n = v.size();
  for (SizeT gap = n / 2; gap > 0; gap /= 2)
    for (SizeT i = gap; i < n; i++) {
      Record* t = v[i];
      SizeT j = i;
      for (; j >= gap && less(t, v[j - gap]); j -= gap) v[j] = v[j - gap];
      v[j] = t;
    }
}

bool delta_ok(const Record* r, Delta d) {
  switch (d) {
    case Delta::kAny: return r->blocks > 0;
    case Delta::kIncreased:
      return r->direct > r->old_direct || r->indirect > r->old_indirect || r->blocks > r->old_blocks;
    case Delta::kChanged:
      return r->direct != r->old_direct || r->indirect != r->old_indirect || r->blocks != r->old_blocks;
    case Delta::kNew: return r->blocks > 0 && r->old_blocks == 0;
  }
  return false;
}


// Summaries and hints are text-log lines; with --xml=yes memcheck writes
// only the loss records (as XML errors), and so do we. From protocol 6
// (vgcompat::kXmlSummaries) its summaries are XML elements as well.
bool text_at(Int verbosity) { return VG_(clo_verbosity) >= verbosity && !VG_(clo_xml); }
bool xml_at(Int verbosity) { return vgcompat::kXmlSummaries && VG_(clo_verbosity) >= verbosity && VG_(clo_xml); }

// One <tag> of protocol 6's <leak_summary>: bytes and blocks as the text
// says them (commas, and " (+x)" in a delta search); left open for
// <still_reachable>'s heuristics.
void xml_counts(const char* tag, ULong bytes, ULong old_bytes, ULong blocks, ULong old_blocks, bool dm, bool close) {
  char b1[64], b2[64];
  VG_(printf_xml)("  <%s>\n", tag);
  VG_(printf_xml)("    <bytes>%s</bytes>\n", commas_delta(bytes, old_bytes, dm, b1, 64));
  VG_(printf_xml)("    <blocks>%s</blocks>\n", commas_delta(blocks, old_blocks, dm, b2, 64));
  if (close) VG_(printf_xml)("  </%s>\n", tag);
}

// memcheck's LEAK SUMMARY as protocol 6 writes it (its hints have no XML).
void print_summary_xml(Delta delta) {
  bool dm = delta != Delta::kAny;
  const Counts& c = g_counts;
  const Counts& p = g_prev;
  VG_(printf_xml)("<leak_summary>\n");
  xml_counts("definitely_lost", c.bytes[kDefinite], p.bytes[kDefinite], c.blocks[kDefinite], p.blocks[kDefinite], dm, true);
  xml_counts("indirectly_lost", c.bytes[kIndirect], p.bytes[kIndirect], c.blocks[kIndirect], p.blocks[kIndirect], dm, true);
  xml_counts("possibly_lost", c.bytes[kPossible], p.bytes[kPossible], c.blocks[kPossible], p.blocks[kPossible], dm, true);
  xml_counts("still_reachable", c.bytes[kReachable], p.bytes[kReachable], c.blocks[kReachable], p.blocks[kReachable], dm,
             false);
  static const char* names[kNumHeuristics] = {"", "stdstring", "length64", "newarray", "multipleinheritance"};
  for (UInt h = 1; h < kNumHeuristics; h++) {
    if (!c.heur_blocks[h] && !p.heur_blocks[h]) continue;
    char b1[64], b2[64];
    VG_(printf_xml)("    <reachable_heuristic>\n");
    VG_(printf_xml)("      <kind>%s</kind>\n", names[h]);
    VG_(printf_xml)("      <bytes>%s</bytes>\n", commas_delta(c.heur_bytes[h], p.heur_bytes[h], dm, b1, 64));
    VG_(printf_xml)("      <blocks>%s</blocks>\n", commas_delta(c.heur_blocks[h], p.heur_blocks[h], dm, b2, 64));
    VG_(printf_xml)("    </reachable_heuristic>\n");
  }
  VG_(printf_xml)("  </still_reachable>\n");
  xml_counts("suppressed", c.supp_bytes, p.supp_bytes, c.supp_blocks, p.supp_blocks, dm, true);
  VG_(printf_xml)("</leak_summary>\n\n");
}

void print_summary(Delta delta) {
  bool dm = delta != Delta::kAny;
  char b1[64], b2[64];
  const Counts& c = g_counts;
  const Counts& p = g_prev;
  VG_(umsg)("LEAK SUMMARY:\n");
  VG_(umsg)("   definitely lost: %s bytes in %s blocks\n", commas_delta(c.bytes[kDefinite], p.bytes[kDefinite], dm, b1, 64),
            commas_delta(c.blocks[kDefinite], p.blocks[kDefinite], dm, b2, 64));
  VG_(umsg)("   indirectly lost: %s bytes in %s blocks\n", commas_delta(c.bytes[kIndirect], p.bytes[kIndirect], dm, b1, 64),
            commas_delta(c.blocks[kIndirect], p.blocks[kIndirect], dm, b2, 64));
  VG_(umsg)("     possibly lost: %s bytes in %s blocks\n", commas_delta(c.bytes[kPossible], p.bytes[kPossible], dm, b1, 64),
            commas_delta(c.blocks[kPossible], p.blocks[kPossible], dm, b2, 64));
  VG_(umsg)("   still reachable: %s bytes in %s blocks\n", commas_delta(c.bytes[kReachable], p.bytes[kReachable], dm, b1, 64),
            commas_delta(c.blocks[kReachable], p.blocks[kReachable], dm, b2, 64));
  bool any_heur = false;
  for (UInt h = 1; h < kNumHeuristics; h++)
    if (c.heur_blocks[h] || p.heur_blocks[h]) any_heur = true;
  if (any_heur) {
    static const char* names[kNumHeuristics] = {"", "stdstring", "length64", "newarray", "multipleinheritance"};
    VG_(umsg)("                      of which reachable via heuristic:\n");
    for (UInt h = 1; h < kNumHeuristics; h++)
      if (c.heur_blocks[h] || p.heur_blocks[h])
        VG_(umsg)("                        %-19s: %s bytes in %s blocks\n", names[h],
                  commas_delta(c.heur_bytes[h], p.heur_bytes[h], dm, b1, 64), commas_delta(c.heur_blocks[h], p.heur_blocks[h], dm, b2, 64));
  }
  VG_(umsg)("        suppressed: %s bytes in %s blocks\n", commas_delta(c.supp_bytes, p.supp_bytes, dm, b1, 64),
            commas_delta(c.supp_blocks, p.supp_blocks, dm, b2, 64));
}

}  // namespace

void init() {
  g_lb.init("mt.leak.blocks");
  g_stack.init("mt.leak.stack");
  g_records.init("mt.leak.records");
  VG_(memset)(&g_counts, 0, sizeof g_counts);
  VG_(memset)(&g_prev, 0, sizeof g_prev);
}

const Counts& last_counts() { return g_counts; }
UInt search_number() { return g_search_number; }

void each_record(void (*f)(void* ctx, Kind kind, ULong direct, ULong indirect, ULong blocks, ExeContext* ec),
                 void* ctx) {
  for (SizeT i = 0; i < g_records.size(); i++) {
    const Record* r = g_records[i];
    if (r->seen && r->blocks > 0 && !r->suppressed) f(ctx, r->kind, r->direct, r->indirect, r->blocks, r->ec);
  }
}

namespace {

// Steps 1 to 4: every live block gets its state. False if there are none.
bool analyse(UInt heuristics) {
  UInt t0 = VG_(read_millisecond_timer)();
  g_heuristics = heuristics;

  // 1. The blocks, in address order (the index iterates in that order).
  // Blocks released by custom-allocator requests are freed to memcheck.
  g_lb.clear();
  auto push_block = [](Addr start, Addr end, Block* b, const custom::Chunk* c) {
    LB x;
    x.start = start;
    x.end = end;
    x.b = b;
    x.c = c;
    x.indirect = 0;
    x.state = kSUnreached;
    x.heur = kHeurNone;
    x.pending = false;
    g_lb.push(x);
  };
  if (!custom::any()) {
    heap::index().each([&](Block* b) { if (!b->released) push_block(b->start, b->start + b->size, b, nullptr); });
  } else {
    // Custom blocks join, by memcheck's rules (mt_custom).
    Vec<custom::LeakItem> items;
    items.init("mt.leak.custom");
    heap::index().each([&](Block* b) { if (!b->released) items.push({b->start, b->start + b->size, b, nullptr}); });
    custom::leak_blocks(&items);
    for (SizeT i = 0; i < items.size(); i++) push_block(items[i].start, items[i].end, items[i].b, items[i].c);
    items.free();
  }
  g_scanned = g_skipped = g_root_skipped = 0;
  g_rd_lo = 1;
  g_rd_hi = 0;
  if (g_lb.empty()) return false;
  g_lo = g_lb[0].start;
  g_hi = 0;
  for (SizeT i = 0; i < g_lb.size(); i++) g_hi = max(g_hi, g_lb[i].end);  // blocks may nest

  // 2-3. Roots and marking.
  g_clique = -1;
  g_stack.clear();
  g_pagemap = VG_(fd_open)("/proc/self/pagemap", VKI_O_RDONLY, 0);
  scan_roots();
  g_root_skipped = g_skipped;

  // 4. Cliques of unreached blocks.
  for (SizeT i = 0; i < g_lb.size(); i++) {
    if (g_lb[i].state != kSUnreached) continue;
    g_clique = (Int)i;
    push((UInt)i);
    while (!g_stack.empty()) {
      UInt j = g_stack.pop();
      g_lb[j].pending = false;
      scan_block(g_lb[j], false);
    }
  }
  g_clique = -1;
  if (g_pagemap >= 0) VG_(close)(g_pagemap);
  g_pagemap = -1;
  g_search_ms = VG_(read_millisecond_timer)() - t0;
  return true;
}

errors::LeakText text_of(const Record* r, UInt n, UInt of, Delta delta) {
  errors::LeakText t;
  t.kind = r->kind;
  t.direct = r->direct; t.indirect = r->indirect; t.blocks = r->blocks;
  t.old_direct = r->old_direct; t.old_indirect = r->old_indirect; t.old_blocks = r->old_blocks;
  t.delta = delta != Delta::kAny;
  t.n = n;
  t.of = of;
  t.search = g_search_number;
  return t;
}

// With a record limit, memcheck starts listing at the record where the
// limit is reached counting listable, unsuppressed records from the largest
// down; the smaller records are neither listed nor summed up.
// (Every record visited is matched against the suppressions, listable or
// not, which -s's use counts show, as memcheck's do.)
UInt first_listed(ThreadId tid, const Params& p, const Vec<Record*>& sorted) {
  UInt total = (UInt)sorted.size(), listable = 0;
  if (p.mode != Mode::kFull || p.max_records == 0 || p.max_records >= total) return 0;
  for (UInt i = total; i-- > 0;) {
    const Record* r = sorted[i];
    bool suppressed = errors::leak(tid, r->ec, text_of(r, i + 1, total, p.delta), false, false);
    bool listed = delta_ok(r, p.delta) && (p.show_kinds & bit(r->kind));
    if (listed && !suppressed && ++listable == p.max_records) return i;
  }
  return 0;
}

// Reports what analyse() found: loss records, summary, hints.
void report(ThreadId tid, const Params& p) {
  Mode mode = p.mode;
  Delta delta = p.delta;
  UInt t0 = VG_(read_millisecond_timer)();
  g_search_number++;
  custom::report_overlap();
  if (g_lb.empty()) {
    if (text_at(1)) {  // memcheck: verbosity only, not the mode
      VG_(umsg)("All heap blocks were freed -- no leaks are possible\n");
      VG_(umsg)("\n");
    }
    if (xml_at(1)) VG_(printf_xml)("<all_heap_blocks_freed>true</all_heap_blocks_freed>\n\n");
    for (SizeT i = 0; i < g_records.size(); i++) dealloc(g_records[i]);
    g_records.clear();
    g_prev = g_counts;
    VG_(memset)(&g_counts, 0, sizeof g_counts);
    g_searched = true;
    return;
  }
  if (xml_at(1)) VG_(printf_xml)("<all_heap_blocks_freed>false</all_heap_blocks_freed>\n\n");
  if (text_at(2)) {
    VG_(umsg)("Searching for pointers to %'lu not-freed blocks\n", (unsigned long)g_lb.size());
    VG_(umsg)("Checked %'llu bytes\n", g_scanned);
    if (g_root_skipped) VG_(umsg)("Skipped %'llu bytes due to read errors\n", g_root_skipped);
    VG_(umsg)("\n");
  }

  // Loss records: (kind, allocation stack) at --leak-resolution. Records
  // that were empty in the previous search go now (memcheck drops them at
  // the start of a search); the others remember their figures for deltas.
  {
    SizeT keep = 0;
    for (SizeT i = 0; i < g_records.size(); i++) {
      Record* r = g_records[i];
      if (r->blocks == 0) { dealloc(r); continue; }
      g_records[keep++] = r;
    }
    while (g_records.size() > keep) g_records.pop();
  }
  for (SizeT i = 0; i < g_records.size(); i++) {
    Record* r = g_records[i];
    r->old_direct = r->direct; r->old_indirect = r->indirect; r->old_blocks = r->blocks;
    r->direct = r->indirect = r->blocks = 0;
    r->seen = false;
    r->suppressed = false;
  }
  PtrMap<Record> by_key;
  by_key.init("mt.leak.bykey", 1024);
  index_records(&by_key);
  g_prev = g_counts;
  VG_(memset)(&g_counts, 0, sizeof g_counts);
  for (SizeT i = 0; i < g_lb.size(); i++) {
    const LB& x = g_lb[i];
    Kind k = kind_of(x.state);
    Record* r = record_for(k, ec_of(x), &by_key);
    r->direct += req_of(x);
    r->indirect += x.indirect;
    r->blocks++;
    r->seen = true;
    if (x.heur) {
      g_counts.heur_bytes[x.heur] += req_of(x);
      g_counts.heur_blocks[x.heur]++;
    }
  }
  // Records that went to zero stay one search, so deltas can show the drop.
  Vec<Record*> shown;
  shown.init("mt.leak.sorted");
  for (SizeT i = 0; i < g_records.size(); i++) shown.push(g_records[i]);
  sort_records(shown);

  UInt total = (UInt)shown.size();
  for (UInt i = first_listed(tid, p, shown); i < total; i++) {
    Record* r = shown[i];
    bool ok = delta_ok(r, delta);
    bool print = mode == Mode::kFull && ok && (p.show_kinds & bit(r->kind));
    bool count = mode == Mode::kFull && ok && (p.error_kinds & bit(r->kind));
    bool suppressed = errors::leak(tid, r->ec, text_of(r, i + 1, total, delta), print, count);
    r->suppressed = suppressed;
    if (suppressed) {
      g_counts.supp_bytes += r->direct;
      g_counts.supp_blocks += r->blocks;
    } else {
      g_counts.bytes[r->kind] += r->direct;
      g_counts.blocks[r->kind] += r->blocks;
    }
  }
  shown.free();
  by_key.free_table();

  if (text_at(1)) {
    print_summary(delta);
    bool any = false;
    for (UInt k = 0; k < kKindBits; k++) any = any || g_counts.blocks[k];
    if (mode == Mode::kSummary && any) {
      if (p.monitor) VG_(umsg)("To see details of leaked memory, give 'full' arg to leak_check\n");
      else VG_(umsg)("Rerun with --leak-check=full to see details of leaked memory\n");
    } else if (mode == Mode::kFull && g_counts.blocks[kReachable] && !(p.show_kinds & bit(kReachable))) {
      VG_(umsg)("Reachable blocks (those to which a pointer was found) are not shown.\n");
      if (p.monitor) VG_(umsg)("To see them, add 'reachable any' args to leak_check\n");
      else VG_(umsg)("To see them, rerun with: --leak-check=full --show-leak-kinds=all\n");
    }
    VG_(umsg)("\n");
  }
  if (xml_at(1)) print_summary_xml(delta);
  g_searched = true;
  if (text_at(2)) {  // whole search: marking plus loss records (bench/run reads this)
    UInt ms = g_search_ms + (VG_(read_millisecond_timer)() - t0);
    VG_(umsg)("leak search: %'lu blocks scanned in %u.%03u s\n\n", (unsigned long)g_lb.size(), ms / 1000, ms % 1000);
  }
}

}  // namespace

Params from_options(Mode mode, Delta delta) {
  Params p;
  p.mode = mode;
  p.delta = delta;
  p.show_kinds = g_opts.show_leak_kinds;
  p.error_kinds = g_opts.errors_for_leak_kinds;
  p.heuristics = g_opts.leak_heuristics;
  p.max_records = 0;
  p.monitor = false;
  return p;
}

void search(ThreadId tid, const Params& p) {
  if (p.mode == Mode::kNo) return;
  analyse(p.heuristics);
  report(tid, p);
}

void search(ThreadId tid, Mode mode, Delta delta) { search(tid, from_options(mode, delta)); }

void analyse_at_exit() {
  g_exit_analysed = g_opts.leak_check != Mode::kNo;
  if (!g_exit_analysed) return;
  analyse(g_opts.leak_heuristics);
  // Per-site figures for the profile.
  sites::each([](Site* s) { VG_(memset)(s->leak_bytes, 0, sizeof s->leak_bytes); VG_(memset)(s->leak_blocks, 0, sizeof s->leak_blocks); });
  for (SizeT i = 0; i < g_lb.size(); i++) {
    const LB& x = g_lb[i];
    if (!x.b) continue;  // custom blocks have no site: the profile is DHAT's
    Kind k = kind_of(x.state);
    x.b->site->leak_bytes[k] += x.b->req_size();
    x.b->site->leak_blocks[k]++;
  }
}

bool exit_analysed() { return g_exit_analysed; }

void report_at_exit() {
  ULong bytes = 0, blocks = 0;
  heap::index().each([&](Block* b) { if (!b->released) { bytes += b->req_size(); blocks++; } });
  custom::in_use(&bytes, &blocks);
  const heap::Usage& u = heap::usage();
  if (text_at(1)) {
    VG_(umsg)("\n");
    VG_(umsg)("HEAP SUMMARY:\n");
    VG_(umsg)("    in use at exit: %'llu bytes in %'llu blocks\n", bytes, blocks);
    VG_(umsg)("  total heap usage: %'llu allocs, %'llu frees, %'llu bytes allocated\n", u.allocs, u.frees, u.bytes);
    VG_(umsg)("\n");
  }
  if (xml_at(1)) {  // the same figures, with commas, as protocol 6 has them
    VG_(printf_xml)("<heap_summary>\n");
    VG_(printf_xml)("  <memory_in_use_at_exit>\n");
    VG_(printf_xml)("    <bytes>%'llu</bytes>\n", bytes);
    VG_(printf_xml)("    <blocks>%'llu</blocks>\n", blocks);
    VG_(printf_xml)("  </memory_in_use_at_exit>\n");
    VG_(printf_xml)("  <total_heap_usage>\n");
    VG_(printf_xml)("    <allocs>%'llu</allocs>\n", u.allocs);
    VG_(printf_xml)("    <frees>%'llu</frees>\n", u.frees);
    VG_(printf_xml)("    <bytes_allocated>%'llu</bytes_allocated>\n", u.bytes);
    VG_(printf_xml)("  </total_heap_usage>\n");
    VG_(printf_xml)("</heap_summary>\n\n");
  }
  if (!g_exit_analysed) {
    if (text_at(1)) {
      VG_(umsg)("For a detailed leak analysis, rerun with: --leak-check=full\n");
      VG_(umsg)("\n");
    }
    return;
  }
  report(1, from_options(g_opts.leak_check, Delta::kAny));
}

// ---- dead-stack scrubbing ----------------------------------------------------
//
// The ABI makes memory below SP - redzone dead; memcheck marks it
// unaddressable, memtrack zeroes it, so a frame grown there later holds no
// stale pointers for the leak scan to trust. The instrumentation
// (mt_instrument) zeroes constant pops of up to kInlinePop bytes itself;
// longer ones and stack-pointer writes it cannot follow come here. The core's
// die_mem_stack callbacks are not used: each would cost a helper call on
// every ret and pop.

namespace {

// The last client range found mapped and writable, so that the helpers
// need no address-space lookup for the usual pops within one stack. Any
// mapping (MAP_FIXED may put a read-only one over it), unmapping or
// protection change forgets it.
Addr g_writable_lo, g_writable_hi;
// The last registered stack found, [lo, end), kept for the same reason
// (generated code reads it too); forgotten with the mappings and when a
// stack is registered.
StackCache g_last_stack;
__attribute__((aligned(16))) UChar g_scratch[kScratch];

void forget_writable(Addr, SizeT) { g_writable_lo = g_writable_hi = g_last_stack.lo = g_last_stack.end = 0; }
void forget_writable_prot(Addr a, SizeT len, Bool, Bool, Bool) { forget_writable(a, len); }
void forget_writable_remap(Addr, Addr, SizeT) { forget_writable(0, 0); }
void forget_writable_mmap(Addr a, SizeT len, Bool, Bool, Bool, ULong) { forget_writable(a, len); }
void forget_stack(Addr, Addr) { g_last_stack.lo = g_last_stack.end = 0; }

// The client's own writable segment holding a, if any.
const NSegment* client_segment(Addr a) {
  const NSegment* seg = VG_(am_find_nsegment)(a);
  if (!seg || !seg->hasW || (seg->kind != SkAnonC && seg->kind != SkFileC && seg->kind != SkShmC)) return nullptr;
  return seg;
}

bool client_writable(Addr lo, Addr hi) {
  if (lo >= g_writable_lo && hi <= g_writable_hi) return true;
  const NSegment* seg = client_segment(lo);
  if (!seg) return false;
  if (hi > seg->end + 1) return VG_(am_is_valid_for_client)(lo, hi - lo, VKI_PROT_WRITE);
  g_writable_lo = seg->start;
  g_writable_hi = seg->end + 1;
  return true;
}

// Zeroes dead stack [lo, hi), if it is the client's writable memory.
void zero_dead(Addr lo, Addr hi) {
  if (hi <= lo) return;
  if (hi - lo > 64 * 1024) {
    // Big releases (thread exit, longjmp): clip to writable client memory.
    const NSegment* seg = client_segment(lo);
    if (!seg) return;
    if (hi > seg->end + 1) hi = seg->end + 1;
  } else if (!client_writable(lo, hi)) {
    return;
  }
  VG_(memset)(reinterpret_cast<void*>(lo), 0, hi - lo);
}

// Whether SP moving up from old_sp to new_sp stays on one stack, so that
// what it leaves is dead: both must lie on the same registered stack (the
// core registers every thread's; VALGRIND_STACK_REGISTER adds others). A
// move of more than --max-stackframe is a switch by the core's rule, and a
// move on or onto a stack nobody registered may be one too: coroutine
// stacks from mmap or malloc often lie next to each other, so a switch up
// to the next one looks like a pop. memcheck would only mark the memory
// between unaddressable; memtrack writes, so it leaves unregistered stacks
// alone rather than risk the program's live frames.
bool same_stack(Addr old_sp, Addr new_sp) {
  if (new_sp - old_sp > static_cast<Addr>(vg_core::max_stackframe())) return false;
  if (old_sp >= g_last_stack.lo && new_sp <= g_last_stack.end) return true;
  Addr lo, hi;
  if (!vg_core::registered_stack(old_sp, &lo, &hi) || new_sp - 1 > hi) return false;
  g_last_stack.lo = lo;
  g_last_stack.end = hi + 1;
  return true;
}

}  // namespace

namespace {
ULong g_popped_calls, g_written_calls, g_switches;  // for --stats
}  // namespace

// A constant pop (add rsp, N) is a pop on whatever stack SP is on (the
// instrumentation has left out the ones the core takes for switches).
VG_REGPARM(2) void stack_popped(Addr new_sp, UWord len) {
  g_popped_calls++;
  if (new_sp < len + arch::kStackRedzone) return;
  zero_dead(new_sp - len - arch::kStackRedzone, new_sp - arch::kStackRedzone);
}

VG_REGPARM(2) void sp_written(Addr old_sp, Addr new_sp) {
  g_written_calls++;
  if (new_sp <= old_sp) return;
  if (!same_stack(old_sp, new_sp)) { g_switches++; return; }
  // What left the red zone, not below the stack's own start.
  Addr lo = old_sp > g_last_stack.lo + arch::kStackRedzone ? old_sp - arch::kStackRedzone : g_last_stack.lo;
  zero_dead(lo, new_sp - arch::kStackRedzone);
}

const StackCache* stack_cache() { return &g_last_stack; }
Addr scratch() { return reinterpret_cast<Addr>(g_scratch); }

void scrub_stats(ULong* popped, ULong* written, ULong* switches) {
  *popped = g_popped_calls;
  *written = g_written_calls;
  *switches = g_switches;
}

bool scrubbing() {
  // auto: only when a full search will list and count loss records; the
  // stack hooks cost time and translation size on every pop.
  // (yes also serves programs that run memcheck.h's searches themselves
  // under --leak-check=no.)
  return g_opts.scrub_stack == kScrubYes || (g_opts.scrub_stack == kScrubAuto && g_opts.leak_check == Mode::kFull);
}

bool zero_filling() {
  // Costs too little to measure, so every mode that searches gets it.
  return g_opts.scrub_stack != kScrubNo && (g_opts.scrub_stack == kScrubYes || g_opts.leak_check != Mode::kNo);
}

void post_options() {
  // memcheck always searches fully when writing XML (its loss records are
  // the XML's leak errors), whatever --leak-check says; so does memtrack.
  if (VG_(clo_xml)) g_opts.leak_check = Mode::kFull;
  if (!scrubbing()) return;
  VG_(track_die_mem_munmap)(forget_writable);
  VG_(track_die_mem_brk)(forget_writable);
  VG_(track_change_mem_mprotect)(forget_writable_prot);
  VG_(track_copy_mem_remap)(forget_writable_remap);
  VG_(track_new_mem_mmap)(forget_writable_mmap);
  VG_(track_register_stack)(forget_stack);
}

}  // namespace mt::leak
