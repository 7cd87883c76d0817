// Scoped measurements: a fixed table of slots, each a running sum of the
// heap events of one thread (or of all threads) since it opened. A test
// harness opens one per running test, so the table is small; a handle
// carries the slot's generation so that a stale or forged handle names no
// slot.
#include "mt_measure.h"

namespace mt::measure {

UInt g_open = 0;

namespace {

// 64 slots: more than any test harness runs tests at once (libtest runs as
// many as there are cores); a client that forgets to close them gets 0
// from start, never memory of ours.
constexpr UInt kSlots = 64;

struct Slot {
  bool open;
  bool all_threads;
  ThreadId tid;
  UInt gen;
  Figures f;
};

Slot g_slots[kSlots];

inline bool hears(const Slot& s, ThreadId tid) { return s.open && (s.all_threads || s.tid == tid); }

// DHAT's peak rule (as the run's t-gmax): the latest of equal peaks.
inline void note_growth(Slot& s) {
  if (s.f.curr_bytes >= 0 && (ULong)s.f.curr_bytes >= s.f.max_bytes) {
    s.f.max_bytes = (ULong)s.f.curr_bytes;
    s.f.max_blocks = s.f.curr_blocks > 0 ? (ULong)s.f.curr_blocks : 0;
  }
}

Slot* slot_of(UWord handle) {
  const UWord i = (handle & 0xff) - 1;
  if (i >= kSlots) return nullptr;
  Slot& s = g_slots[i];
  if (!s.open || (handle >> 8) != s.gen) return nullptr;
  return &s;
}

}  // namespace

void alloc_slow(ThreadId tid, SizeT bytes) {
  for (Slot& s : g_slots) {
    if (!hears(s, tid)) continue;
    s.f.total_bytes += bytes; s.f.total_blocks++;
    s.f.curr_bytes += (Long)bytes; s.f.curr_blocks++;
    note_growth(s);
  }
}

void free_slow(ThreadId tid, SizeT bytes) {
  for (Slot& s : g_slots) {
    if (!hears(s, tid)) continue;
    s.f.curr_bytes -= (Long)bytes; s.f.curr_blocks--;
  }
}

void resize_slow(ThreadId tid, SizeT old_bytes, SizeT new_bytes) {
  for (Slot& s : g_slots) {
    if (!hears(s, tid)) continue;
    s.f.total_bytes += new_bytes; s.f.total_blocks++;
    s.f.curr_bytes += (Long)new_bytes - (Long)old_bytes;
    if (new_bytes >= old_bytes) note_growth(s);
  }
}

UWord start(ThreadId tid, bool all_threads) {
  for (UInt i = 0; i < kSlots; i++) {
    Slot& s = g_slots[i];
    if (s.open) continue;
    const UInt gen = s.gen + 1;
    VG_(memset)(&s, 0, sizeof s);
    s.open = true;
    s.all_threads = all_threads;
    s.tid = tid;
    s.gen = gen & 0xffffff;  // the handle fits 32 bits
    g_open++;
    return ((UWord)s.gen << 8) | (i + 1);
  }
  return 0;
}

bool read(UWord handle, Figures* out) {
  const Slot* s = slot_of(handle);
  if (!s) return false;
  *out = s->f;
  return true;
}

bool stop(UWord handle) {
  Slot* s = slot_of(handle);
  if (!s) return false;
  s->open = false;
  g_open--;
  return true;
}

}  // namespace mt::measure
