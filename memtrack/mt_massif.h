// Heap over time in massif's file format (--massif-out-file), for ms_print
// and massif-visualizer: snapshots of the live heap taken and culled by
// massif's rules, detailed ones with the allocation tree. Figures are the
// ones massif reports with --stacks=no and the same --heap-admin: bytes
// asked for, and extra = slop (usable minus asked) + heap-admin per block.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"
#include "mt_options.h"

namespace mt::massif {

void alloc_event(const Block* b);
void free_event(const Block* b);
void realloc_event(const Block* b, SizeT new_size);

// The heap module calls these once per event: on_alloc once the new block
// b is indexed; on_free and on_realloc before it changes or releases b, so
// b still describes the old block. One test when no massif file was asked for.
inline void on_alloc(const Block* b) { if (g_opts.massif_out_file) alloc_event(b); }
inline void on_free(const Block* b) { if (g_opts.massif_out_file) free_event(b); }
// A realloc of live block b to new_size (> 0) bytes, either in place or moved.
inline void on_realloc(const Block* b, SizeT new_size) {
  if (g_opts.massif_out_file) realloc_event(b, new_size);
}

// valgrind.h's custom-block requests, as massif handles them (mt_massif.cpp);
// p is never 0. Called before the leak checker's own handling of the request.
void custom_alloc(ExeContext* ec, Addr p, SizeT size);
void custom_free(Addr p);
void custom_resize(ExeContext* ec, Addr p, SizeT new_size);

// vgdb's `snapshot` and `detailed_snapshot` (massif's monitor commands): a
// file of massif's format holding one snapshot of now, numbered 0, outside
// the run's list. With --massif-out-file the figures are the ones the
// massif file keeps; without it they come from the live blocks. False if
// the file could not be written (a line on the log says why).
bool write_snapshot_now(const char* path, bool detailed);
// vgdb's `all_snapshots`: the snapshots held so far. False without
// --massif-out-file (none are taken) or if the file could not be written.
bool write_all_snapshots(const char* path);

// At exit: writes the file named by --massif-out-file, if one was given.
void write_at_exit();

}  // namespace mt::massif
