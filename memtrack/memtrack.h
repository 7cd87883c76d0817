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
