// Scoped measurements (memtrack.h's MEMTRACK_MEASURE_* requests): what the
// heap did between a start and a read, for one thread or for the whole
// process. The whole-run figures (sites::totals) cannot give this: their
// peak is the run's, and a test harness running tests on several threads
// mixes every test's allocations into them. Each measurement keeps its own
// running sums and its own peak of net growth, updated at each heap event
// while it is open.
#pragma once

#include "mt_rt.h"

namespace mt::measure {

// What a measurement saw since it started (memtrack.h's MemtrackMeasure,
// field for field).
struct Figures {
  Long curr_bytes, curr_blocks;    // net change in live bytes and blocks
  ULong max_bytes, max_blocks;     // highest net growth in bytes; blocks then
  ULong total_bytes, total_blocks; // allocated inside (a realloc counts one more block)
};

// Measurements open now; the heap events test it before anything else, so
// a run that never asks costs one load and branch per heap call.
extern UInt g_open;

void alloc_slow(ThreadId tid, SizeT bytes);
void free_slow(ThreadId tid, SizeT bytes);
void resize_slow(ThreadId tid, SizeT old_bytes, SizeT new_bytes);

// Heap events, with DHAT's counted sizes (a 0-byte request counts 1).
inline void on_alloc(ThreadId tid, SizeT bytes) { if (g_open) alloc_slow(tid, bytes); }
inline void on_free(ThreadId tid, SizeT bytes) { if (g_open) free_slow(tid, bytes); }
inline void on_resize(ThreadId tid, SizeT old_bytes, SizeT new_bytes) {
  if (g_open) resize_slow(tid, old_bytes, new_bytes);
}

// Opens a measurement of thread tid's heap calls, or of every thread's if
// all_threads. Returns its handle (never 0), or 0 when all slots are taken.
UWord start(ThreadId tid, bool all_threads);
// The figures of an open measurement; false for a handle that is not one.
bool read(UWord handle, Figures* out);
// Closes it; false for a handle that is not an open measurement.
bool stop(UWord handle);

}  // namespace mt::measure
