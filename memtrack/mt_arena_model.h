// A model of Valgrind's client arena (coregrind/m_mallocfree.c) in tool
// memory: where the arena would place each client block, hence its usable
// size, if every free gave its block back at once, as under massif. With
// memcheck's queue of freed blocks on (--freelist-vol > 0, the default of
// --leak-check=full) the real arena holds freed blocks until they leave the
// queue, which changes which free blocks exist, how blocks are split, and so
// the slop massif's "extra heap" counts; mt_massif asks the model instead.
// The model runs only when it is needed: a massif-format file asked for with
// the queue on, or the debug self-check (--arena-model-check=yes), which runs
// it with the queue off beside the real arena and stops at the first block
// the two place differently.
#pragma once

#include "mt_rt.h"

namespace mt::arena_model {

extern bool g_active;
inline bool active() { return g_active; }

// After the options (settled: --freelist-vol is known).
void post_options();

// Every client-arena allocation memtrack makes for a client block, right
// after VG_(cli_malloc)(align, n) returned real (non-null).
void alloc(SizeT align, SizeT n, Addr real);
// A client block freed: at the program's free, whether or not the real
// arena gets the block back now (massif's arena would).
void free(Addr real);
// The usable size the model's arena gives the live block at real.
SizeT usable(Addr real);

// --stats=yes lines, and the tool memory the model holds.
void print_stats();
SizeT tool_bytes();

}  // namespace mt::arena_model
