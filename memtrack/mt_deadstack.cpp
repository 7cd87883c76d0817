// Dead stack in tool memory: see mt_deadstack.h for what and why.
//
// One mirror per registered stack (each thread's, VALGRIND_STACK_REGISTER's),
// mapped on first use as zeroed tool memory the size of the stack's mapping;
// only pages a fall writes become resident (sqlite3 at scale 100: 12 KiB of
// mirror for an 8 MiB main stack). Zero in the mirror never matters: a word
// holding zero is no pointer either way.
#include "mt_deadstack.h"
#include "mt_arch.h"
#include "mt_options.h"

namespace mt::deadstack {

namespace {

struct Mirror {
  Addr lo, end;  // the stack's mapping as last seen
  Addr mlo;      // the mirror covers [mlo, end); mlo <= lo
  UChar* base;   // mirror of mlo
};

// A program that registers more stacks than this, or stacks this big, gets
// no knowledge of dead stack on the rest (its words count as written, as
// with --scrub-stack=no): address space for mirrors is the tool's.
constexpr SizeT kMaxMirrors = 4096;
constexpr SizeT kMaxMirrorBytes = SizeT(256) << 20;
constexpr ULong kMaxTotalBytes = ULong(4) << 30;

Vec<Mirror> g_mirrors;

// Where each thread's stack pointer was when it exited: the end-of-run
// search comes after the last thread is gone, when the core lists no
// thread, yet its dead stack below that point is no root (memcheck's
// definedness bits say so without any thread). Kept while the stack is
// mapped; a thread running on it again makes the entry void.
struct Exited { Addr sp, max; };
Vec<Exited> g_exited;
constexpr SizeT kMaxExited = 1024;
ULong g_mapped;
Cache g_cache;
__attribute__((aligned(16))) UChar g_scratch[kInlinePop];
ULong g_covered_calls, g_written_calls, g_switches;

void forget_cache() { g_cache.lo = g_cache.end = g_cache.delta = 0; }

void drop(SizeT i) {
  unmap(g_mirrors[i].base, g_mirrors[i].end - g_mirrors[i].mlo);
  g_mapped -= g_mirrors[i].end - g_mirrors[i].mlo;
  g_mirrors.remove_at(i);
}

// The cache covers the stack's mapping only, never the rest of the mirror:
// the fast path of snapshot() reads the client's memory there unchecked.
void use(const Mirror& m) {
  g_cache.lo = m.lo;
  g_cache.end = m.end;
  g_cache.delta = reinterpret_cast<Addr>(m.base) - m.mlo;
}

// The mirror of the registered stack holding sp, made or grown as needed;
// null when there is none (no registered stack, or over the limits).
const Mirror* mirror_for(Addr sp) {
  Addr lo, hi;
  if (!vg_core::registered_stack(sp, &lo, &hi)) return nullptr;
  const Addr end = hi + 1;
  Mirror old = {0, 0, 0, nullptr};
  for (SizeT i = 0; i < g_mirrors.size(); i++) {
    Mirror& m = g_mirrors[i];
    if (m.end <= lo || m.lo >= end) continue;
    if (m.end == end && m.mlo <= lo) {  // the common case: the same stack
      if (lo < m.lo) m.lo = lo;        // grown into the mirror's spare room
      use(m);
      return &m;
    }
    // The main stack grows down by extending its mapping: keep what the
    // smaller mirror knows. Any other overlap is a stack registered anew.
    if (m.end == end && !old.base) {
      old = m;
      g_mirrors.remove_at(i);
    } else {
      drop(i);
    }
    i--;
  }
  const SizeT need = end - lo;
  if (need > kMaxMirrorBytes || g_mirrors.size() >= kMaxMirrors || g_mapped + need > kMaxTotalBytes) {
    if (old.base) unmap(old.base, old.end - old.mlo), g_mapped -= old.end - old.mlo;
    forget_cache();
    return nullptr;
  }
  // The main stack grows a page at a time (the core extends its mapping on
  // each fault below it): a mirror made to the new size each time copied
  // the old one each time, quadratic in the stack's depth (a recursion to
  // 8 MiB took 125 s against memcheck's 1.7 s). A grown mirror doubles, so
  // the copies add up to less than twice the final size. Its spare room
  // below the stack costs address space only, never resident pages.
  SizeT size = need;
  if (old.base) {
    const SizeT twice = 2 * (old.end - old.mlo);
    if (twice > size) size = twice < kMaxMirrorBytes ? twice : kMaxMirrorBytes;
    if (size > end || g_mapped + size > kMaxTotalBytes) size = need;
  }
  Mirror m = {lo, end, end - size, static_cast<UChar*>(map_zeroed(size))};
  g_mapped += size;
  if (old.base) {
    VG_(memcpy)(m.base + (old.mlo - m.mlo), old.base, old.end - old.mlo);
    unmap(old.base, old.end - old.mlo);
    g_mapped -= old.end - old.mlo;
  }
  g_mirrors.push(m);
  use(g_mirrors.back());
  return &g_mirrors.back();
}

// A frame covers [a, b): copy its words, as they are before the frame
// writes any, into the mirror.
void snapshot(Addr a, Addr b) {
  if (b <= a) return;
  const Mirror* m = nullptr;
  if (a >= g_cache.lo && b <= g_cache.end) {
    VG_(memcpy)(reinterpret_cast<void*>(a + g_cache.delta), reinterpret_cast<const void*>(a), b - a);
    return;
  }
  m = mirror_for(b - 1);
  if (!m) return;
  if (a < m->lo) a = m->lo;
  if (b > m->end) b = m->end;
  if (b <= a) return;
  // The stack's mapping may have shrunk or changed since: copy only what the
  // client can read.
  if (!VG_(am_is_valid_for_client)(a, b - a, VKI_PROT_READ)) return;
  VG_(memcpy)(m->base + (a - m->mlo), reinterpret_cast<const void*>(a), b - a);
}

// Whether SP moving down from old_sp to new_sp stays on one stack, so that
// what it covers is a new frame: a move of more than --max-stackframe is a
// switch by the core's rule, and so is a move onto another registered stack
// (coroutine stacks from mmap or malloc often lie next to each other).
bool same_stack(Addr old_sp, Addr new_sp) {
  if (old_sp - new_sp > static_cast<Addr>(vg_core::max_stackframe())) return false;
  if (new_sp >= g_cache.lo && old_sp <= g_cache.end) return true;
  Addr lo, hi;
  if (!vg_core::registered_stack(new_sp, &lo, &hi) || old_sp - 1 > hi) return false;
  return true;
}

// Mappings change under a mirror: a stack unmapped (a thread's, at its
// exit or by its pthread cache) takes its mirror with it, so that a new
// stack there starts with no dead words; any change forgets the cache.
void forget_range(Addr a, SizeT len) {
  forget_cache();
  for (SizeT i = 0; i < g_exited.size(); i++)
    if (g_exited[i].sp >= a && g_exited[i].sp - a < len) g_exited.remove_at(i--);
  for (SizeT i = 0; i < g_mirrors.size(); i++) {
    const Mirror& m = g_mirrors[i];
    if (a < m.end && a + len > m.lo) drop(i--);
  }
}
void forget_prot(Addr, SizeT, Bool, Bool, Bool) { forget_cache(); }
void forget_remap(Addr a, Addr, SizeT len) { forget_range(a, len); }
void forget_mmap(Addr a, SizeT len, Bool, Bool, Bool, ULong) { forget_range(a, len); }
void forget_stack(Addr, Addr) { forget_cache(); }

// pthread reuses the stacks of threads that ended for new ones: the entry
// of the stack's latest thread replaces any earlier one. (A thread still
// running when the process exits gets here too, with the stack pointer it
// was stopped at.)
void thread_exits(ThreadId tid) {
  const Exited e = {VG_(get_SP)(tid), VG_(thread_get_stack_max)(tid)};
  for (SizeT i = 0; i < g_exited.size(); i++)
    if (g_exited[i].sp <= e.max && g_exited[i].max >= e.sp) g_exited.remove_at(i--);
  if (g_exited.size() >= kMaxExited) g_exited.remove_at(0);
  g_exited.push(e);
}

const Mirror* find(Addr a) {
  for (const Mirror& m : g_mirrors)
    if (a >= m.lo && a < m.end) return &m;
  return nullptr;
}

}  // namespace

bool enabled() { return g_opts.scrub_stack == kScrubYes; }  // auto is settled (options::settle)

void post_options() {
  g_exited.init("mt.deadstack.exited");
  VG_(track_pre_thread_ll_exit)(thread_exits);
  if (!enabled()) return;
  g_mirrors.init("mt.deadstack.mirrors");
  VG_(track_change_mem_mprotect)(forget_prot);
  VG_(track_copy_mem_remap)(forget_remap);
  VG_(track_new_mem_mmap)(forget_mmap);
  VG_(track_register_stack)(forget_stack);
}

void unmapped(Addr a, SizeT len) { forget_range(a, len); }

const Cache* cache() { return &g_cache; }
Addr scratch() { return reinterpret_cast<Addr>(g_scratch); }

// A constant fall (sub rsp, N) is a new frame on whatever stack SP is on
// (the instrumentation has left out the ones the core takes for switches).
VG_REGPARM(2) void covered(Addr new_sp, UWord len) {
  g_covered_calls++;
  if (new_sp + len < new_sp) return;
  snapshot(new_sp, new_sp + len);
}

VG_REGPARM(2) void sp_written(Addr old_sp, Addr new_sp) {
  g_written_calls++;
  if (new_sp >= old_sp) return;
  if (!same_stack(old_sp, new_sp)) {
    g_switches++;
    return;
  }
  snapshot(new_sp, old_sp);
}

void live_runs(Addr a, Addr b, void (*fn)(Addr, Addr, void*), void* ctx) {
  a = VG_ROUNDUP(a, sizeof(UWord));
  while (a < b) {
    const Mirror* m = find(a);
    if (!m) {
      // Up to the next mirror, if one starts inside.
      Addr to = b;
      for (const Mirror& o : g_mirrors)
        if (o.lo > a && o.lo < to) to = o.lo;
      fn(a, to, ctx);
      a = to;
      continue;
    }
    const Addr to = b < m->end ? b : m->end;
    Addr run = a;
    for (Addr p = a; p + sizeof(UWord) <= to;) {
      if (p == a || (p & (VKI_PAGE_SIZE - 1)) == 0) {
        if (!VG_(am_is_valid_for_client)(p, sizeof(UWord), VKI_PROT_READ)) {
          p = VG_PGROUNDUP(p + 1);  // the scan skips it too
          continue;
        }
      }
      const UWord v = *reinterpret_cast<const UWord*>(p);
      const UWord dead = *reinterpret_cast<const UWord*>(m->base + (p - m->mlo));
      if (v == dead && v != 0) {
        if (p > run) fn(run, p, ctx);
        run = p + sizeof(UWord);
      }
      p += sizeof(UWord);
    }
    if (to > run) fn(run, to, ctx);
    a = to;
  }
}

void exited_threads(void (*fn)(Addr sp, Addr max, void* ctx), void* ctx) {
  for (const Exited& e : g_exited) fn(e.sp, e.max, ctx);
}

void stats(ULong* covered, ULong* written, ULong* switches, ULong* mirror_bytes) {
  *covered = g_covered_calls;
  *written = g_written_calls;
  *switches = g_switches;
  *mirror_bytes = g_mapped;
}

}  // namespace mt::deadstack
