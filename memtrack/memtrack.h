/*
   memtrack.h: client requests for programs run under Valgrind's memtrack
   tool. Include it, call the macros; without Valgrind they do nothing and
   cost a few instructions, like valgrind.h's own requests.

   Licence: the same as valgrind.h (BSD-style), so any program may use it.
*/
#ifndef MEMTRACK_H
#define MEMTRACK_H

#include "valgrind.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Request codes: 'M','T' tool base. Only append; never renumber. */
typedef enum {
  VG_USERREQ__MEMTRACK_GET_HEAP_STATS = VG_USERREQ_TOOL_BASE('M', 'T'),
  VG_USERREQ__MEMTRACK_DUMP_PROFILE,
  VG_USERREQ__MEMTRACK_AD_HOC_EVENT,
  VG_USERREQ__MEMTRACK_HISTOGRAM_MEMORY,
  /* Internal: memtrack's pvalloc replacement asks the tool for the block. */
  _VG_USERREQ__MEMTRACK_PVALLOC,
  VG_USERREQ__MEMTRACK_MEASURE_START,
  VG_USERREQ__MEMTRACK_MEASURE_READ,
  VG_USERREQ__MEMTRACK_MEASURE_STOP,
  /* Sent by memtrack's own str/mem replacements in --mode=copy. */
  _VG_USERREQ__MEMTRACK_COPY = VG_USERREQ_TOOL_BASE('M', 'T') + 256
} Vg_MemtrackClientRequest;

/* Heap figures as memtrack counts them (DHAT's rules: a 0-byte request
   counts 1 byte; each realloc counts one more block). */
typedef struct {
  unsigned long long curr_bytes, curr_blocks;   /* live now */
  unsigned long long max_bytes, max_blocks;     /* at the global peak (t-gmax) */
  unsigned long long total_bytes, total_blocks; /* everything allocated so far */
} MemtrackHeapStats;

/* Fills *(stats) and evaluates to 1 under memtrack; leaves it alone and
   evaluates to 0 otherwise. */
#define MEMTRACK_GET_HEAP_STATS(stats)                                       \
  ((int)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, VG_USERREQ__MEMTRACK_GET_HEAP_STATS, \
                                        (stats), sizeof(MemtrackHeapStats), 0, 0, 0))

/* Writes a DHAT-format profile of the run so far to the named file (%p and
   %q{VAR} expand as in --dhat-out-file). Evaluates to 1 if written, 0 if
   not (or not under memtrack). */
#define MEMTRACK_DUMP_PROFILE(file)                                          \
  ((int)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, VG_USERREQ__MEMTRACK_DUMP_PROFILE,  \
                                        (file), 0, 0, 0, 0))

/* DHAT's requests under memtrack names (dhat.h's own macros work too).
   MEMTRACK_AD_HOC_EVENT counts one event of the given weight at the
   current stack, in --mode=ad-hoc. MEMTRACK_HISTOGRAM_MEMORY asks for
   per-byte access counts of the heap block holding addr (for blocks above
   --histogram-limit, up to 25,600 bytes). */
#define MEMTRACK_AD_HOC_EVENT(weight)                                        \
  VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__MEMTRACK_AD_HOC_EVENT,         \
                                  (weight), 0, 0, 0, 0)
#define MEMTRACK_HISTOGRAM_MEMORY(addr)                                      \
  VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ__MEMTRACK_HISTOGRAM_MEMORY,     \
                                  (addr), 0, 0, 0, 0)

/* Scoped measurements: what the heap did between MEMTRACK_MEASURE_START
   and MEMTRACK_MEASURE_READ, for the calling thread only (all_threads 0:
   a test harness that runs tests on several threads keeps each test's
   figures apart) or for every thread (all_threads 1). curr_* is the net
   change of live bytes and blocks (negative when the scope frees more
   than it allocates); max_bytes is the highest net growth since the start
   (0 if live bytes never rose above where they started), max_blocks the
   net growth in blocks at that moment; total_* is everything allocated
   inside (DHAT's rules, as MemtrackHeapStats). A thread's figures count
   the heap calls it makes: a block it frees counts against it whoever
   allocated it. At most 64 measurements are open at once. */
typedef struct {
  long long curr_bytes, curr_blocks;
  unsigned long long max_bytes, max_blocks;
  unsigned long long total_bytes, total_blocks;
} MemtrackMeasure;

/* Opens a measurement; evaluates to its handle (not 0), or to 0 when not
   under memtrack or when 64 are open already. */
#define MEMTRACK_MEASURE_START(all_threads)                                  \
  ((unsigned long)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, VG_USERREQ__MEMTRACK_MEASURE_START, \
                                                  (all_threads), 0, 0, 0, 0))
/* Fills *(stats) with the figures of an open measurement and evaluates to
   1; 0 (stats untouched) for a handle that is not open, or natively. */
#define MEMTRACK_MEASURE_READ(handle, stats)                                 \
  ((int)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, VG_USERREQ__MEMTRACK_MEASURE_READ, \
                                        (handle), (stats), sizeof(MemtrackMeasure), 0, 0))
/* Closes it (its handle then names nothing); evaluates to 1 if it was open. */
#define MEMTRACK_MEASURE_STOP(handle)                                        \
  ((int)VALGRIND_DO_CLIENT_REQUEST_EXPR(0, VG_USERREQ__MEMTRACK_MEASURE_STOP, \
                                        (handle), 0, 0, 0, 0))

/* dhat.h from Valgrind 3.19 lacks DHAT_HISTOGRAM_MEMORY (added in 3.21);
   programs written for newer DHATs still build and work here. */
#ifndef DHAT_HISTOGRAM_MEMORY
#define DHAT_HISTOGRAM_MEMORY(addr)                                          \
  VALGRIND_DO_CLIENT_REQUEST_STMT(VG_USERREQ_TOOL_BASE('D', 'H') + 1,        \
                                  (addr), 0, 0, 0, 0)
#endif

#ifdef __cplusplus
}
#endif

#endif /* MEMTRACK_H */
