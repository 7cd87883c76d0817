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
  VG_USERREQ__MEMTRACK_RESERVED_1,  /* MEMTRACK_DUMP_PROFILE (planned) */
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

#ifdef __cplusplus
}
#endif

#endif /* MEMTRACK_H */
