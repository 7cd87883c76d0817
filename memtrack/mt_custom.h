// Custom allocators: blocks the program declares with valgrind.h's
// MALLOCLIKE_BLOCK / FREELIKE_BLOCK / RESIZEINPLACE_BLOCK and the mempool
// requests. memcheck keeps them with its malloc'd blocks for the leak checker,
// the HEAP SUMMARY and its errors; DHAT ignores them. So does the profile:
// these blocks have no site and enter none of the DHAT figures.
//
// They live here and not in the block index because they may lie inside a
// malloc'd block (a pool carved from malloc'd memory) or inside each other
// (metapools), and the index assumes live blocks never overlap.
#pragma once

#include "mt_rt.h"
#include "mt_blocks.h"
#include "mt_errors.h"

namespace mt::custom {

struct Mempool;

// A MALLOCLIKE block (pool null) or a mempool chunk.
struct Chunk {
  Addr start;
  SizeT size;       // as the program gave it; 0 stays 0
  ExeContext* ec;   // the stack of the request that allocated it
  Chunk* next;      // an older chunk with the same start (memcheck allows those)
  Mempool* pool;
};

void init();

// valgrind.h's requests 0x1301..0x130b. False if arg[0] is not one of them.
bool handle(ThreadId tid, UWord* arg, UWord* ret);

// free()/delete/delete[] of p where no malloc'd block starts: a MALLOCLIKE
// block there is freed (with memcheck's mismatch error). False if none.
bool free_malloclike(ThreadId tid, Addr p, errors::FreeFn fn);
// realloc of a MALLOCLIKE block: as above, and its size for the copy.
bool realloc_malloclike(ThreadId tid, Addr p, SizeT* old_size);

// What an error says of address a, in memcheck's order of search: a chunk
// of a plain pool, a live malloc'd block (mt_store), a MALLOCLIKE block, a
// recent free (mt_store), a chunk of a metapool. Custom blocks interleave
// with the heap's there, so the whole search is here, above the store.
errors::Known describe(Addr a);
// The MALLOCLIKE block holding a (with memcheck's red zone), if any.
bool describe_malloclike(Addr a, errors::Known* k);

// MALLOCLIKE blocks count in the HEAP SUMMARY's "in use at exit"; pool
// chunks do not (memcheck's rule).
void in_use(ULong* bytes, ULong* blocks);

// ---- the leak search ----------------------------------------------------

// One block of a leak search: a heap block (b) or a custom one (c).
struct LeakItem {
  Addr start, end;  // [start, end); a 0-byte block covers 1 byte
  Block* b;
  const Chunk* c;
};
// Its size as the program asked for it (memcheck's: a 0-byte block adds 0)
// and the allocation stack a report shows for it (--keep-stacktraces: with
// none or free every block has the null stack, so each kind is one loss
// record, as in memcheck).
inline SizeT req_size(const LeakItem& x) { return x.b ? x.b->req_size() : x.c->size; }
ExeContext* shown_stack(const LeakItem& x);

// memcheck's binary search over a leak search's blocks in address order
// (find_chunk_for): the index of a block holding p, or -1. With overlapping
// blocks (metapools) it is the one the search lands on first, which need
// not be the innermost: the block a pointer reaches in memcheck. T is
// LeakItem or a record that extends it.
template <class T> Int find_block(const Vec<T>& v, Addr p) {
  Int lo = 0, hi = (Int)v.size() - 1;
  while (lo <= hi) {
    Int mid = (lo + hi) / 2;
    if (p < v[mid].start) hi = mid - 1;
    else if (p >= v[mid].end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

// Whether any custom block or pool chunk is live (else the leak search
// needs nothing from this module).
bool any();

// Turns the heap blocks of a leak search (in address order) into memcheck's
// block set, in address order: every pool chunk and MALLOCLIKE block; no
// malloc'd block (or MALLOCLIKE block) holding the first or last byte of a
// pool chunk; no malloc'd block holding a MALLOCLIKE block. Overlaps other
// than those and metapool ones get memcheck's message. With no malloc'd or
// MALLOCLIKE block at all there is nothing to search, as in memcheck.
void leak_blocks(Vec<LeakItem>* items);
// Prints memcheck's message for the first overlap leak_blocks could not
// resolve, if any (memcheck prints it as the search starts to report).
void report_overlap();

}  // namespace mt::custom
