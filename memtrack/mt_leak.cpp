// Leak checker. The algorithm is memcheck's (mc_leakcheck.c), so that
// categories and loss records agree with it:
//  1. every live block, in address order;
//  2. roots: client mappings that are readable and writable and not heap
//     (isCH), minus each thread's dead stack below SP and the stack words
//     its frames never wrote (mt_deadstack), plus every thread's
//     general-purpose registers;
//  3. marking: a pointer to a block's start (or an interior pointer that a
//     heuristic accepts) from a root or a reachable block makes it reachable;
//     any other pointer into an unreached block makes it possibly lost;
//  4. cliques: each still-unreached block, in address order, leads a clique;
//     unreached blocks it reaches become indirectly lost, counted in its
//     indirect total.
// memcheck trusts only words its definedness bits say are defined; memtrack
// has no such bits, so it knows dead stack in its own memory (mt_deadstack:
// stack words no frame wrote since it covered them are no roots) and zero-fills
// freshly allocated small blocks, which removes the stale pointers that
// would otherwise hide leaks. docs/manual.md lists what remains different.
#include "mt_leak.h"
#include "mt_arch.h"
#include "mt_custom.h"
#include "mt_deadstack.h"
#include "mt_errors.h"
#include "mt_store.h"
#include "mt_options.h"
#include "mt_sites.h"
#include "mt_undef.h"

namespace mt::leak {

namespace {

enum State : UChar { kSReachable = 0, kSPossible = 1, kSIndirect = 2, kSUnreached = 3 };

struct Record;

// A block of the search: [start, end) (counted size, so a 0-byte block
// covers 1 byte), a heap block b, or null and a custom allocator's block c.
struct LB : custom::LeakItem {
  ULong indirect;    // bytes indirectly lost through this clique leader
  // For block_list, which must not follow b or c (the program may have
  // freed them since, custom blocks without a free memcheck counts): the
  // loss record report() put the block in, and whether it is a 0-byte
  // block (its counted size is 1). With parent, 8 bytes a block more
  // during a search (56, was 48).
  Record* rec;
  Int parent;        // kSIndirect: the block whose scan reached it (memcheck's cur_clique)
  UChar state;
  UChar heur;        // what the last interior pointer into it matched (memcheck's tag)
  bool pending;
  bool zero;
};

Vec<LB> g_lb;
Vec<UInt> g_stack;
Addr g_lo, g_hi;   // bounds of all blocks, for a quick reject
UInt g_heuristics; // bitset over Heuristic, of the current search
Counts g_counts;   // of the last search that found blocks (memcheck's counters)
bool g_found_none; // the last search found no block
bool g_searched;   // any search so far (heuristic lines follow memcheck's rule)
bool g_exit_analysed;
UInt g_search_ms;      // analyse() of the last search, for the -v timing line
UInt g_search_number;  // for per-search suppression counts
Counts g_prev;
// What block_list needs of the last search besides its blocks: the frees
// counted when it ran (memcheck's marker: after any free its blocks may be
// gone) and its delta mode (the loss records' "(+n)" figures).
ULong g_list_frees;
Delta g_list_delta;

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


void on_fault(Int sig, Addr) {
  if (sig == VKI_SIGSEGV || sig == VKI_SIGBUS) {
    vg_core::unblock_signal(sig);
    VG_MINIMAL_LONGJMP(g_jmp);
  }
}

void on_heur_fault(Int sig, Addr) {
  if (sig == VKI_SIGSEGV || sig == VKI_SIGBUS) {
    vg_core::unblock_signal(sig);
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
  return custom::find_block(g_lb, a);
}

SizeT req_of(const LB& x) { return custom::req_size(x); }
ExeContext* ec_of(const LB& x) { return custom::shown_stack(x); }

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
// In clique mode, the block being scanned (memcheck's cur_clique): the
// parent block_list prints an indirectly lost block under.
Int g_scanning;

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
    x.parent = g_scanning;
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

// who_points_at is searching [lo, lo + len): scan_range reports, never marks.
struct WhoPointsAt { bool on; Addr lo; SizeT len; };
WhoPointsAt g_wpa;
void wpa_scan(Addr a, Addr b);

// Scans [a, b) word by word. Unreadable pages are skipped; a fault on a page
// the address space manager thought readable skips the rest of that page,
// counted as memcheck counts it ("Skipped N bytes due to read errors": it
// tries, and counts, each word of the page).
volatile Addr g_scan_at;
ULong g_scanned;
ULong g_skipped;       // bytes that faulted
ULong g_root_skipped;  // ... by the end of marking from the roots, which memcheck prints

// The word loops' step at their first word and at each start of a 4 KiB
// unit (mt_undef's records; a page on amd64, a part of one on arm64): false
// if the page is not the client's to read (g_scan_at moves to the next
// page), else the page's record of words memcheck.h's requests hid.
inline bool enter_page(Addr p, const undef::Page** hidden) {
  if (!VG_(am_is_valid_for_client)(p, sizeof(UWord), VKI_PROT_READ)) {
    g_scan_at = VG_PGROUNDUP(p + 1);
    return false;
  }
  *hidden = undef::page(p);
  return true;
}

void mark_range(Addr a, Addr b, bool prior_definite) {
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
  // The page's words memcheck.h's requests hid (set again at each page
  // start, where a fault also resumes).
  const undef::Page* hidden = nullptr;
  while (g_scan_at < b) {
    Addr p = g_scan_at;
    if ((p == a || (p & (arch::kMinPageSize - 1)) == 0) && !enter_page(p, &hidden)) continue;
    UWord w = *reinterpret_cast<const UWord*>(p);
    g_scanned += sizeof(UWord);
    if (w >= g_lo && w < g_hi && !(hidden && undef::unwritten(hidden, p, w))) found_word(w, prior_definite);
    g_scan_at = p + sizeof(UWord);
  }
  VG_(set_fault_catcher)(prev);
}

void scan_range(Addr a, Addr b, bool prior_definite) {
  if (g_wpa.on) wpa_scan(a, b);
  else mark_range(a, b, prior_definite);
}

// A page of private anonymous memory that the program never touched reads
// as zeros and holds no pointer; reading it maps the kernel's zero page,
// which costs about 0.3 s per GiB for programs that hold huge, barely used
// blocks or mappings (a 4 GiB mapping with one page used: 1.79 s at exit
// before roots were skipped too, 0.29 s after, memcheck 6.5 s, none 0.22 s).
// /proc/self/pagemap says which pages are present or swapped out: big heap
// blocks (private anonymous memory of the client arena) and big private
// anonymous roots have only those scanned. A page of a file mapping or of a
// shared one can hold data this process never touched (a forked child's
// write to a MAP_SHARED page), so those are read whole; Valgrind's segments
// do not tell shared anonymous mappings from private ones, /proc/self/maps
// does (read_private_anon below).
constexpr SizeT kPagemapMin = 1 << 20;
constexpr ULong kPagePresent = 1ULL << 63, kPageSwapped = 1ULL << 62;
Int g_pagemap = -1;  // open during a search, if the kernel lets us and its answers hold

// The private anonymous mappings of /proc/self/maps (perms "...p", inode
// 0), read once per search when a big anonymous root asks.
struct Span { Addr lo, hi; };
Vec<Span> g_private;
enum class Maps : UChar { kUnread, kRead, kFailed };
Maps g_maps = Maps::kUnread;

// n entries of the pagemap from page's on, or false.
bool pagemap_read(Addr page, ULong* ents, UWord n) {
  Off64T off = static_cast<Off64T>(page / VKI_PAGE_SIZE) * sizeof(ULong);
  Int want = static_cast<Int>(n * sizeof(ULong));
  return VG_(lseek)(g_pagemap, off, VKI_SEEK_SET) == off && VG_(read)(g_pagemap, ents, want) == want;
}

// Opens the pagemap for a search, and keeps it only if it says present of
// a page this process has just written: an emulator that passed the host's
// pagemap through (as qemu-user might) would answer for other pages.
volatile UWord g_pagemap_probe;
void open_pagemap() {
  g_maps = Maps::kUnread;
  g_pagemap = VG_(fd_open)("/proc/self/pagemap", VKI_O_RDONLY, 0);
  if (g_pagemap < 0) return;
  g_pagemap_probe = g_pagemap_probe + 1;
  ULong ent = 0;
  if (!pagemap_read(VG_PGROUNDDN(reinterpret_cast<Addr>(&g_pagemap_probe)), &ent, 1) || !(ent & kPagePresent)) {
    VG_(close)(g_pagemap);
    g_pagemap = -1;
  }
}

void close_pagemap() {
  if (g_pagemap >= 0) VG_(close)(g_pagemap);
  g_pagemap = -1;
}

// Calls scan(x, y) for each run of [a, b) whose pages may hold data
// (present or swapped out) and counts the rest as searched and found empty,
// as memcheck counts what it reads. Where the kernel gives no answer the
// rest is one run.
template <typename Scan>
void runs_with_data(Addr a, Addr b, Scan scan) {
  constexpr UWord kBatch = 512;
  ULong ents[kBatch];
  Addr page = VG_PGROUNDDN(a);
  Addr run = 0;  // start of the current run of pages with data, or 0
  while (page < b) {
    UWord n = min<UWord>(kBatch, (VG_PGROUNDUP(b) - page) / VKI_PAGE_SIZE);
    if (!pagemap_read(page, ents, n)) {
      scan(run ? max(a, run) : max(a, page), b);  // no answer: scan the rest
      return;
    }
    for (UWord i = 0; i < n; i++, page += VKI_PAGE_SIZE) {
      bool data = (ents[i] & (kPagePresent | kPageSwapped)) != 0;
      if (data && !run) run = page;
      if (!data) {
        if (run) scan(max(a, run), min(b, page));
        run = 0;
        g_scanned += min(b, page + VKI_PAGE_SIZE) - max(a, page);  // searched, and found empty
      }
    }
  }
  if (run) scan(max(a, run), b);
}

void scan_block(const LB& x, bool prior_definite) {
  if (!x.b || x.end - x.start < kPagemapMin || g_pagemap < 0) {
    scan_range(x.start, x.end, prior_definite);
    return;
  }
  runs_with_data(x.start, x.end, [prior_definite](Addr a, Addr b) { scan_range(a, b, prior_definite); });
}

bool read_private_anon() {
  g_private.clear();
  SizeT n;
  bool ok;
  char* buf = read_whole_file("/proc/self/maps", "mt.leak.maps", &n, &ok);
  if (!buf) return false;
  // Lines are "lo-hi perms offset dev inode [path]".
  const char* p = buf;
  const char* end = buf + n;
  auto num = [&](Addr* v, UInt base) {
    const char* s = p;
    Addr x = 0;
    for (; p < end; p++) {
      UInt d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : 99;
      if (d >= base) break;
      x = x * base + d;
    }
    *v = x;
    return p > s;
  };
  auto field = [&]() {  // skips one field and the blanks after it
    while (p < end && *p != ' ' && *p != '\n') p++;
    while (p < end && *p == ' ') p++;
  };
  while (ok && p < end) {
    Addr lo, hi, inode;
    if (!num(&lo, 16) || p == end || *p++ != '-' || !num(&hi, 16) || end - p < 6 || *p++ != ' ') {
      ok = false;
      break;
    }
    bool priv = p[3] == 'p';
    field();  // perms
    field();  // offset
    field();  // device
    if (!num(&inode, 10)) ok = false;
    else if (priv && inode == 0) g_private.push({lo, hi});
    while (p < end && *p++ != '\n') {}
  }
  dealloc(buf);
  return ok;
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
  if (g_wpa.on) return;  // who_points_at reports registers last, as memcheck
  if (v >= g_lo && v < g_hi) found_word(v, true);
}

void scan_live_run(Addr lo, Addr hi, void*) { scan_range(lo, hi, true); }

// A root range: stack words the frame covering them never wrote are no
// pointers (mt_deadstack).
void scan_root_range(Addr a, Addr b) {
  if (deadstack::enabled()) deadstack::live_runs(a, b, scan_live_run, nullptr);
  else scan_range(a, b, true);
}

// [a, b) of a root, in a big anonymous segment: where /proc/self/maps says
// private anonymous, only the pages with data; elsewhere (a shared
// mapping, or anything the file did not say) all of it.
void scan_anon_root(Addr a, Addr b) {
  if (g_maps == Maps::kUnread) g_maps = read_private_anon() ? Maps::kRead : Maps::kFailed;
  Addr at = a;
  if (g_maps == Maps::kRead) {
    // The spans are in address order, as the file: the first that ends
    // after a, by bisection (a process can have tens of thousands).
    SizeT lo = 0, hi = g_private.size();
    while (lo < hi) {
      SizeT mid = (lo + hi) / 2;
      if (g_private[mid].hi <= a) lo = mid + 1;
      else hi = mid;
    }
    for (SizeT i = lo; i < g_private.size(); i++) {
      const Span& s = g_private[i];
      if (s.lo >= b) break;
      if (s.lo > at) scan_root_range(at, s.lo);
      Addr to = min(b, s.hi);
      runs_with_data(max(at, s.lo), to, scan_root_range);
      at = to;
    }
  }
  if (at < b) scan_root_range(at, b);
}

// Roots: writable client memory that is not heap, and not dead stack.
void scan_roots() {
  Int got = 0;
  Addr* starts = VG_(get_segment_starts)(SkFileC | SkAnonC | SkShmC, &got);

  // Each thread's dead stack: [its mapping's start, SP). The red zone below
  // SP is garbage after every call and return (memcheck: undefined), and
  // the search never runs inside a leaf function that still uses it but for
  // memcheck.h's requests made from one.
  struct Dead { Addr lo, hi; };
  Vec<Dead> dead;
  dead.init("mt.leak.dead");
  struct Live { Addr sp, max; };
  Vec<Live> live;
  live.init("mt.leak.live");
  auto add_dead = [&](ThreadId tid, Addr sp, Addr smax) {
    const NSegment* seg = VG_(am_find_nsegment)(sp);
    if (!seg) return;  // SP outside any client mapping (sigaltstack, ...)
    Addr lo = seg->start;
    SizeT size = tid != VG_INVALID_THREADID ? VG_(thread_get_stack_size)(tid) : 0;
    if (size && smax + 1 > size && smax + 1 - size > lo) lo = smax + 1 - size;
    Addr hi = deadstack::enabled() ? sp : sp > arch::kStackRedzone ? sp - arch::kStackRedzone : 0;
    if (hi > lo) dead.push({lo, hi});
  };
  ThreadId tid;
  Addr smin, smax;
  VG_(thread_stack_reset_iter)(&tid);
  while (VG_(thread_stack_next)(&tid, &smin, &smax)) {
    live.push({smin, smax});
    add_dead(tid, smin, smax);
  }
  // Threads gone (at the end of the run, all of them) leave their dead stack
  // below where they exited, unless a live thread runs on that stack now.
  struct Ctx { Vec<Live>* live; decltype(add_dead)* add; };
  Ctx ctx = {&live, &add_dead};
  deadstack::exited_threads(
      [](Addr sp, Addr max, void* p) {
        Ctx* c = static_cast<Ctx*>(p);
        for (const Live& l : *c->live)
          if (l.sp <= max && l.max >= sp) return;
        (*c->add)(VG_INVALID_THREADID, sp, max);
      },
      &ctx);
  live.free();

  for (Int k = 0; k < got; k++) {
    const NSegment* seg = VG_(am_find_nsegment)(starts[k]);
    if (!seg || !seg->hasR || !seg->hasW || seg->isCH) continue;
    if (seg->kind == SkFileC && (VKI_S_ISCHR(seg->mode) || VKI_S_ISBLK(seg->mode))) {
      const HChar* name = VG_(am_get_filename)(seg);
      if (!name || VG_(strcmp)(name, "/dev/zero") != 0) continue;
    }
    Addr a = seg->start, b = seg->end + 1;
    // A big anonymous root: only the pages with data of its private parts.
    const bool skip_untouched = g_pagemap >= 0 && seg->kind == SkAnonC && b - a >= kPagemapMin;
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
      if (skip_untouched) scan_anon_root(from, to);
      else scan_root_range(from, to);
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
  UInt nr;                                     // block_list's numbering (from 1)
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
  // memcheck's order, from definite down; still_reachable stays open for
  // its heuristics.
  for (int k = kDefinite; k >= kReachable; k--)
    xml_counts(names(k).tag, c.bytes[k], p.bytes[k], c.blocks[k], p.blocks[k], dm, k != kReachable);
  for (UInt h = 1; h < kNumHeuristics; h++) {
    if (!c.heur_blocks[h] && !p.heur_blocks[h]) continue;
    char b1[64], b2[64];
    VG_(printf_xml)("    <reachable_heuristic>\n");
    VG_(printf_xml)("      <kind>%s</kind>\n", kHeuristicNames[h]);
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
  for (int k = kDefinite; k >= kReachable; k--)
    VG_(umsg)("%s: %s bytes in %s blocks\n", names(k).label, commas_delta(c.bytes[k], p.bytes[k], dm, b1, 64),
              commas_delta(c.blocks[k], p.blocks[k], dm, b2, 64));
  bool any_heur = false;
  for (UInt h = 1; h < kNumHeuristics; h++)
    if (c.heur_blocks[h] || p.heur_blocks[h]) any_heur = true;
  if (any_heur) {
    VG_(umsg)("                      of which reachable via heuristic:\n");
    for (UInt h = 1; h < kNumHeuristics; h++)
      if (c.heur_blocks[h] || p.heur_blocks[h])
        VG_(umsg)("                        %-19s: %s bytes in %s blocks\n", kHeuristicNames[h],
                  commas_delta(c.heur_bytes[h], p.heur_bytes[h], dm, b1, 64), commas_delta(c.heur_blocks[h], p.heur_blocks[h], dm, b2, 64));
  }
  VG_(umsg)("        suppressed: %s bytes in %s blocks\n", commas_delta(c.supp_bytes, p.supp_bytes, dm, b1, 64),
            commas_delta(c.supp_blocks, p.supp_blocks, dm, b2, 64));
}

}  // namespace

void init() {
  g_lb.init("mt.leak.blocks");
  g_private.init("mt.leak.private");
  g_stack.init("mt.leak.stack");
  g_records.init("mt.leak.records");
  VG_(memset)(&g_counts, 0, sizeof g_counts);
  VG_(memset)(&g_prev, 0, sizeof g_prev);
}

const Counts& last_counts() { return g_counts; }
const Counts& found_counts() {
  static const Counts kNone = {};
  return g_found_none ? kNone : g_counts;
}

void each_record(void (*f)(void* ctx, Kind kind, ULong direct, ULong indirect, ULong blocks, ExeContext* ec,
                           UInt nr, UInt of),
                 void* ctx) {
  // In report()'s order and numbering, which are memcheck's.
  Vec<Record*> sorted;
  sorted.init("mt.leak.each");
  for (SizeT i = 0; i < g_records.size(); i++) sorted.push(g_records[i]);
  sort_records(sorted);
  const UInt total = (UInt)sorted.size();
  for (UInt i = 0; i < total; i++) {
    const Record* r = sorted[i];
    if (r->seen && r->blocks > 0 && !r->suppressed)
      f(ctx, r->kind, r->direct, r->indirect, r->blocks, r->ec, i + 1, total);
  }
  sorted.free();
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
    store::index().each([&](Block* b) { if (!b->released) push_block(b->start, b->start + b->size, b, nullptr); });
  } else {
    // Custom blocks join, by memcheck's rules (mt_custom).
    Vec<custom::LeakItem> items;
    items.init("mt.leak.custom");
    store::index().each([&](Block* b) { if (!b->released) items.push({b->start, b->start + b->size, b, nullptr}); });
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
  open_pagemap();
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
      g_scanning = (Int)j;
      scan_block(g_lb[j], false);
    }
  }
  g_clique = -1;
  close_pagemap();
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
  errors::leak_search_begins(g_search_number);
  custom::report_overlap();
  if (g_lb.empty()) {
    if (text_at(1)) {  // memcheck: verbosity only, not the mode
      VG_(umsg)("All heap blocks were freed -- no leaks are possible\n");
      VG_(umsg)("\n");
    }
    if (xml_at(1)) VG_(printf_xml)("<all_heap_blocks_freed>true</all_heap_blocks_freed>\n\n");
    for (SizeT i = 0; i < g_records.size(); i++) dealloc(g_records[i]);
    g_records.clear();
    // memcheck returns here without touching its counters: the next
    // search's deltas and VALGRIND_COUNT_LEAKS still see the last search
    // that found blocks (3.24's reallocarray test shows "+0" after one).
    g_found_none = true;
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
  g_found_none = false;
  for (SizeT i = 0; i < g_lb.size(); i++) {
    LB& x = g_lb[i];
    Kind k = kind_of(x.state);
    Record* r = record_for(k, ec_of(x), &by_key);
    x.rec = r;
    x.zero = req_of(x) == 0;
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
  g_list_frees = store::usage().frees;
  g_list_delta = p.delta;
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
  store::index().each([&](Block* b) { if (!b->released) { bytes += b->req_size(); blocks++; } });
  custom::in_use(&bytes, &blocks);
  const store::Usage& u = store::usage();
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

// ---- vgdb's who_points_at and block_list -------------------------------------
//
// memcheck's two monitor commands that read the leak search's state.
// who_points_at scans what memcheck scans (mc_leakcheck.c's
// MC_(who_points_at)): the root set as the marking sees it (scan_roots,
// which cuts dead stack out where memcheck's definedness bits skip it),
// every live block, then the general-purpose registers of every thread. It
// reuses scan_roots and scan_block in a reporting mode (g_wpa) rather than
// a copy of the root rules, so that the two can never disagree. Live blocks
// are scanned in address order; memcheck takes them from its hash table,
// in an order that depends on its own addresses.
// block_list lists the blocks of loss records of the last search, with the
// blocks each clique leader holds indirectly as a tree, from what the
// search left in g_lb (LB::rec, LB::parent): nothing there points to a
// heap or custom block record, which the program may have freed since.

namespace {

// memcheck's test, wrap-around included: [lo, lo + len).
bool wpa_hit(UWord v) { return v >= g_wpa.lo && v < g_wpa.lo + g_wpa.len; }

// A word at `at` holding v, a pointer into the searched range: memcheck's
// two lines (and a description of `at`), then, for an interior pointer
// into a block of the last leak search, each heuristic that would take it
// as a pointer to that block's start.
void wpa_found(Addr at, UWord v) {
  if (v == g_wpa.lo) {
    VG_(umsg)("*%#lx points at %#lx\n", at, g_wpa.lo);
    errors::pp_describe_addr(at);
    return;
  }
  VG_(umsg)("*%#lx interior points at %lu bytes inside %#lx\n", at, (unsigned long)(v - g_wpa.lo), g_wpa.lo);
  errors::pp_describe_addr(at);
  if (!VG_(am_is_valid_for_client)(v, 1, VKI_PROT_READ)) return;
  Int i = find(v);  // the last search's blocks, as memcheck's lc_chunks
  if (i < 0) return;
  for (UInt h = kStdString; h < kNumHeuristics; h++) {
    g_heuristics = 1u << h;  // who_points_at restores the search's set
    if (heuristic_for(g_lb[i], v) == h)
      VG_(umsg)("block at %#lx considered reachable by ptr %#lx using %s heuristic\n", g_lb[i].start, v,
                kHeuristicNames[h]);
  }
}

// scan_range in reporting mode: the same words, and the same skipping of
// unreadable pages. A fault while a hit is being described (the heuristics
// read the block) skips only that word.
volatile bool g_wpa_describing;

void wpa_scan(Addr a, Addr b) {
  a = VG_ROUNDUP(a, sizeof(UWord));
  b = VG_ROUNDDN(b, sizeof(UWord));
  if (a >= b) return;
  fault_catcher_t prev = VG_(set_fault_catcher)(on_fault);
  g_scan_at = a;
  g_wpa_describing = false;
  if (VG_MINIMAL_SETJMP(g_jmp) != 0) {
    g_scan_at = g_wpa_describing ? g_scan_at + sizeof(UWord) : VG_PGROUNDUP(g_scan_at + 1);
    g_wpa_describing = false;
  }
  // (volatile: a fault while describing resumes within the page)
  const undef::Page* volatile hidden = nullptr;
  while (g_scan_at < b) {
    Addr p = g_scan_at;
    if (p == a || (p & (arch::kMinPageSize - 1)) == 0) {
      const undef::Page* h;
      if (!enter_page(p, &h)) continue;
      hidden = h;
    }
    UWord w = *reinterpret_cast<const UWord*>(p);
    if (wpa_hit(w) && !(hidden && undef::unwritten(hidden, p, w))) {
      g_wpa_describing = true;
      wpa_found(p, w);
      g_wpa_describing = false;
    }
    g_scan_at = p + sizeof(UWord);
  }
  VG_(set_fault_catcher)(prev);
}

void wpa_register(ThreadId tid, const HChar* name, UWord v) {
  if (!wpa_hit(v)) return;
  if (v == g_wpa.lo)
    VG_(umsg)("tid %u register %s pointing at %#lx\n", tid, name, g_wpa.lo);
  else
    VG_(umsg)("tid %u register %s interior pointing %lu bytes inside %#lx\n", tid, name,
              (unsigned long)(v - g_wpa.lo), g_wpa.lo);
}

// The blocks live now, as memcheck's who_points_at takes them: heap blocks
// and custom ones, by the leak search's rules (mt_custom).
void live_blocks(Vec<custom::LeakItem>* items) {
  store::index().each([&](Block* b) { if (!b->released) items->push({b->start, b->start + b->size, b, nullptr}); });
  if (custom::any()) custom::leak_blocks(items);
}

// One block of a block_list: "0x...[size]", with the heuristic that
// found it.
void print_listed_block(const LB& x) {
  SizeT size = x.zero ? 0 : x.end - x.start;
  if (x.heur)
    VG_(umsg)("%p[%lu] (found via heuristic %s)\n", reinterpret_cast<void*>(x.start), (unsigned long)size,
              kHeuristicNames[x.heur]);
  else
    VG_(umsg)("%p[%lu]\n", reinterpret_cast<void*>(x.start), (unsigned long)size);
}

// The blocks a block was the first to reach in its clique, and theirs, as
// memcheck's print_clique prints them (depth first, each level in address
// order, two spaces of indent a level), until *remaining runs out. With an
// explicit stack: a lost list of a million blocks is a million levels.
// first[i] / next[i]: the first block reached from block i, and the next
// block reached from the same parent, in address order (-1: none).
void print_reached(Int leader, UInt* remaining, const Vec<Int>& first, const Vec<Int>& next) {
  Vec<Int> stack;  // per level: the next block to print there
  stack.init("mt.leak.blocklist");
  stack.push(first[leader]);
  while (!stack.empty() && *remaining > 0) {
    Int c = stack.back();
    if (c < 0) {
      stack.pop();
      continue;
    }
    stack.back() = next[c];
    const LB& x = g_lb[c];
    for (SizeT l = 0; l < stack.size(); l++) VG_(umsg)("  ");
    VG_(umsg)("%p[%lu] indirect loss record %u\n", reinterpret_cast<void*>(x.start),
              (unsigned long)(x.zero ? 0 : x.end - x.start), x.rec->nr);
    (*remaining)--;
    stack.push(first[c]);
  }
  stack.free();
}

}  // namespace

void who_points_at(Addr a, SizeT len) {
  if (len == 1) VG_(umsg)("Searching for pointers to %#lx\n", a);
  else VG_(umsg)("Searching for pointers pointing in %lu bytes from %#lx\n", (unsigned long)len, a);
  UInt heuristics = g_heuristics;  // of the last search; wpa_found changes it
  g_wpa.on = true;
  g_wpa.lo = a;
  g_wpa.len = len;
  open_pagemap();  // scan_block and scan_roots skip untouched pages

  scan_roots();
  Vec<custom::LeakItem> items;
  items.init("mt.leak.wpa");
  live_blocks(&items);
  for (SizeT i = 0; i < items.size(); i++) {
    LB x;
    VG_(memset)(&x, 0, sizeof x);
    x.start = items[i].start;
    x.end = items[i].end;
    x.b = items[i].b;
    x.c = items[i].c;
    scan_block(x, true);
  }
  items.free();
  VG_(apply_to_GP_regs)(wpa_register);

  close_pagemap();
  g_wpa.on = false;
  g_heuristics = heuristics;
}

bool block_list(UInt from, UInt to, UInt max_blocks, UInt heuristics) {
  if (!g_searched || g_lb.empty()) {
    VG_(umsg)("Can't print block list : no valid leak search result\n");
    return false;
  }
  if (g_list_frees != store::usage().frees) {
    VG_(umsg)("Can't print obsolete block list : redo a leak search first\n");
    return false;
  }
  // The records in the order the search numbered them (report()'s sort,
  // with the figures it sorted on).
  Vec<Record*> sorted;
  sorted.init("mt.leak.blocklist");
  for (SizeT i = 0; i < g_records.size(); i++) sorted.push(g_records[i]);
  sort_records(sorted);
  UInt total = (UInt)sorted.size();
  for (UInt i = 0; i < total; i++) sorted[i]->nr = i + 1;
  if (from >= total) {
    sorted.free();
    return false;
  }
  if (to >= total) to = total - 1;

  // Who reached whom in the cliques, children in address order.
  SizeT n = g_lb.size();
  Vec<Int> first, next;
  first.init("mt.leak.blocklist");
  next.init("mt.leak.blocklist");
  first.resize(n);
  next.resize(n);
  for (SizeT i = 0; i < n; i++) first[i] = next[i] = -1;
  for (SizeT i = n; i-- > 0;) {
    const LB& x = g_lb[i];
    if (x.state != kSIndirect || x.parent < 0 || (SizeT)x.parent >= n) continue;
    next[i] = first[x.parent];
    first[x.parent] = (Int)i;
  }

  UInt remaining = max_blocks;
  for (UInt nr = from; nr <= to && remaining > 0; nr++) {
    Record* r = sorted[nr];
    // One record asked for: shown even without blocks; in a range, only
    // the records that show a block.
    bool shown = false;
    auto show = [&]() {
      errors::pp_loss_record(r->ec, text_of(r, nr + 1, total, g_list_delta));
      shown = true;
    };
    if (from == to) show();
    for (SizeT i = 0; i < n && remaining > 0; i++) {
      const LB& x = g_lb[i];
      if (x.rec != r || (heuristics && !(heuristics & (1u << x.heur)))) continue;
      if (!shown) show();
      print_listed_block(x);
      remaining--;
      // Any state but reachable may head blocks reached in a clique.
      if (x.state != kSReachable) print_reached((Int)i, &remaining, first, next);
    }
  }
  first.free();
  next.free();
  sorted.free();
  return true;
}

}  // namespace mt::leak
