// The memo behind unwind::here(), amd64 only: on arm64 here() always
// unwinds (mt_arch.h's kUnwindMemo says why).
//
// Why reusing an unwind is sound. Valgrind's amd64 unwinder goes from frame
// i (ip, sp, fp) to frame i+1 using only: the CFI of ip, which says where
// the caller's stack pointer (the CFA) is, relative to sp or to fp; the
// return address, read at CFA-8; and fp, which a frame may restore from its
// stack. Frames without CFI fall back to the fp chain or to "the word at sp
// is a return address". A memo is kept only for an unwind in which
//   * every frame's CFA was relative to sp: no frame's fp pointed into its
//     own frame (where a frame-pointer frame keeps it, and where the fp-chain
//     fallback reads), and
//   * every return address was the word at CFA-8 (the last-resort guess
//     reads elsewhere, so it is never memoised);
// then, by induction over the frames, the same start (ip, sp, and fp when
// frame 0 may use it) and the same words in those return-address slots give
// the same frames. A hit checks exactly that, plus the thread's stack and
// the debug-info epoch (a dlclose may change which CFI applies). Unwinds
// that stopped short of --num-callers are not kept: why they stopped
// depends on words the check does not see.
//
// A shallow stack runs out of real frames before --num-callers: past the
// outermost one (_start) the unwinder guesses, taking the word at sp for a
// return address, frame after frame. Such a guessed tail is kept too, when
// no frame of it has a frame pointer anywhere near the stack (so neither
// the fp chain nor a CFA computed from fp can read it) and it is short:
// then every word the tail's steps read lies between the last checked
// frame's sp and the last frame's sp (a CFI step reads below the new CFA, a
// guess reads the word at sp), and a hit compares those words too.
#include "mt_unwind.h"
#include "mt_arch.h"
#include "mt_rt.h"

namespace mt::unwind {

namespace {

constexpr UInt kMaxFrames = 32;   // longer --num-callers: no memo
constexpr UWord kWays = 4;        // a malloc wrapper is reached from many
constexpr UWord kBuckets = 256;   // callers at one depth: set-associative
constexpr UInt kTailWords = 16;   // longer guessed tails: no memo
constexpr Addr kFpMargin = 4096;

struct Memo {
  Addr ip0, sp0, fp0;
  Addr stack_max;
  ULong used;             // last hit or fill, for eviction
  UInt epoch;
  UInt n;                 // frames
  UInt checked;           // frames 1..checked-1 have their slots checked
  UInt n_tail;            // words of the guessed tail, from tail_lo
  Addr tail_lo;
  bool fp0_matters;       // frame 0 may have used fp for its CFA
  ExeContext* ec;
  // Then, for frames 1..n-1: sp (the return address is just below it) and
  // the return address found there; then the tail's words.
};

// Entries are handed out in order from one mapping, so a program with few
// heap calls touches few pages of it.
Memo** g_ways;            // kBuckets * kWays, or null: memo off
UChar* g_store;           // room for as many entries, of g_stride bytes
SizeT g_stride, g_used;
UInt g_frames;
ULong g_clock, g_unwound, g_reused;

// Where frame 0 (a heap function of the preload, a handful of them) keeps
// its return address, relative to sp: the word there sends calls from
// different callers to different buckets.
constexpr int kFrame0s = 16;
Addr g_f0_ip[kFrame0s];
Addr g_f0_off[kFrame0s];
int g_nf0;

Addr* frames(Memo* m) { return reinterpret_cast<Addr*>(m + 1); }  // sp[i], ra[i] pairs
UWord* tail(Memo* m) { return reinterpret_cast<UWord*>(frames(m) + 2 * g_frames); }

inline UWord word_at(Addr a) { return *reinterpret_cast<const UWord*>(a); }

// The return address of frame 1, if frame 0 is known and it lies on the stack.
UWord caller_of(Addr ip, Addr sp, Addr smax) {
  for (int i = 0; i < g_nf0; i++)
    if (g_f0_ip[i] == ip) return sp + g_f0_off[i] < smax ? word_at(sp + g_f0_off[i]) : 0;
  return 0;
}

void learn_frame0(Addr ip, Addr off) {
  for (int i = 0; i < g_nf0; i++)
    if (g_f0_ip[i] == ip) return;
  if (g_nf0 == kFrame0s) return;
  g_f0_ip[g_nf0] = ip;
  g_f0_off[g_nf0++] = off;
}

// Whether the client stack holds the memo's frames.
bool still_there(Memo* m) {
  const Addr* f = frames(m);
  for (UInt i = 1; i < m->checked; i++)
    if (word_at(f[2 * i] - arch::kRetAddrBelowCallerSP) != f[2 * i + 1]) return false;
  const UWord* t = tail(m);
  for (UInt i = 0; i < m->n_tail; i++)
    if (word_at(m->tail_lo + i * sizeof(UWord)) != t[i]) return false;
  return true;
}

// Whether an unwind may be reused (see the top): returns 0 if not, else the
// number of frames whose return-address slots prove them (frame 0 counts);
// frames after those form a guessed tail whose words are in
// [*tail_lo, *tail_hi).
UInt reusable(Addr sp0, Addr smax, const Addr* ips, const Addr* sps, const Addr* fps, UInt n, Addr* tail_lo,
              Addr* tail_hi) {
  if (n != g_frames) return 0;
  UInt i = 1;
  for (; i < n; i++) {
    Addr slot = sps[i] - arch::kRetAddrBelowCallerSP;
    if (sps[i] <= sps[i - 1] || slot < sp0 || sps[i] > smax) break;
    if (word_at(slot) != ips[i] + 1) break;  // ips[i] is the return address minus 1
    // Frame i-1 kept fp inside its own frame: it may be a frame-pointer
    // frame, whose CFA depends on a value the check cannot see (for frame
    // 0, fp is part of the key instead).
    if (i > 1 && fps[i - 1] + 2 * sizeof(Addr) >= sps[i - 1] && fps[i - 1] < sps[i]) return 0;
  }
  *tail_lo = *tail_hi = 0;
  if (i == n) return n;
  // A guessed tail: after at least one proven caller, every step from a
  // frame whose fp is nowhere near the stack (the fp chain needs one on
  // it, and a CFA computed from fp must not reach it either: CFI offsets
  // are far below a page).
  if (i < 2) return 0;
  for (UInt j = i - 1; j < n; j++) {
    if (fps[j] + kFpMargin >= sp0 - arch::kStackRedzone && fps[j] <= smax + kFpMargin) return 0;
    if (j >= i && (sps[j] < sps[j - 1] || sps[j] >= smax)) return 0;
  }
  *tail_lo = sps[i - 1];
  *tail_hi = sps[n - 1] + sizeof(UWord);
  if (*tail_hi > smax + 1 || *tail_hi - *tail_lo > kTailWords * sizeof(UWord)) return 0;
  return i;
}

void remember(Memo* m, Addr ip0, Addr sp0, Addr fp0, Addr smax, UInt epoch, const Addr* ips, const Addr* sps,
              UInt n, UInt checked, Addr tail_lo, Addr tail_hi, ExeContext* ec) {
  m->ip0 = ip0;
  m->sp0 = sp0;
  m->fp0 = fp0;
  m->fp0_matters = fp0 + 2 * sizeof(Addr) >= sp0 && fp0 < sps[1];
  m->stack_max = smax;
  m->epoch = epoch;
  m->ec = ec;
  m->used = ++g_clock;
  Addr* f = frames(m);
  for (UInt i = 1; i < n; i++) {
    f[2 * i] = sps[i];
    f[2 * i + 1] = ips[i] + 1;
  }
  m->n = n;
  m->checked = checked;
  m->tail_lo = tail_lo;
  m->n_tail = static_cast<UInt>((tail_hi - tail_lo) / sizeof(UWord));
  UWord* t = tail(m);
  for (UInt i = 0; i < m->n_tail; i++) t[i] = word_at(tail_lo + i * sizeof(UWord));
}

}  // namespace

void init() {
  if (!arch::kUnwindMemo) return;  // why: mt_arch.h
  g_frames = VG_(clo_backtrace_size);
  if (g_frames < 2 || g_frames > kMaxFrames) return;
  g_stride = sizeof(Memo) + (2 * g_frames + kTailWords) * sizeof(Addr);
  g_ways = map_array<Memo*>(kBuckets * kWays);
  g_store = static_cast<UChar*>(map_zeroed(kBuckets * kWays * g_stride));
}

ExeContext* here(ThreadId tid) {
  if (!g_ways) {
    g_unwound++;
    return VG_(record_ExeContext)(tid, 0);
  }
  Addr ip = VG_(get_IP)(tid), sp = VG_(get_SP)(tid), fp = arch::frame_pointer(tid);
  Addr smax = VG_(thread_get_stack_max)(tid);
  UInt epoch = VG_(current_DiEpoch)().n;
  // Off the thread's own stack (a signal stack, say) the unwinder picks its
  // limits differently: leave those to it.
  bool on_stack = sp < smax && sp >= smax - VG_(thread_get_stack_size)(tid);
  UWord bucket = hash_word(ip ^ (sp * 31) ^ (on_stack ? caller_of(ip, sp, smax) : 0)) % kBuckets;
  Memo** ways = g_ways + bucket * kWays;
  Memo** victim = nullptr;
  for (UWord w = 0; w < kWays; w++) {
    Memo* m = ways[w];
    if (!m) {
      if (!victim || *victim) victim = &ways[w];
      continue;
    }
    if (on_stack && m->ip0 == ip && m->sp0 == sp && m->stack_max == smax && m->epoch == epoch &&
        (!m->fp0_matters || m->fp0 == fp) && still_there(m)) {
      m->used = ++g_clock;
      g_reused++;
      return m->ec;
    }
    if (!victim || (*victim && m->used < (*victim)->used)) victim = &ways[w];
  }
  g_unwound++;
  Addr ips[kMaxFrames], sps[kMaxFrames], fps[kMaxFrames];
  UInt n = VG_(get_StackTrace)(tid, ips, g_frames, sps, fps, 0);
  ExeContext* ec = VG_(make_ExeContext_from_StackTrace)(ips, n);
  Addr tail_lo, tail_hi;
  UInt checked;
  if (on_stack && n >= 2 && sps[0] == sp && ips[0] == ip &&
      (checked = reusable(sp, smax, ips, sps, fps, n, &tail_lo, &tail_hi)) != 0) {
    learn_frame0(ip, sps[1] - arch::kRetAddrBelowCallerSP - sp);
    if (!*victim) {
      *victim = reinterpret_cast<Memo*>(g_store + g_used);
      g_used += g_stride;
    }
    remember(*victim, ip, sp, fp, smax, epoch, ips, sps, n, checked, tail_lo, tail_hi, ec);
  }
  return ec;
}

void stats(ULong* unwound, ULong* reused) {
  *unwound = g_unwound;
  *reused = g_reused;
}

}  // namespace mt::unwind
