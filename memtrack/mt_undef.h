// Memory memcheck.h's requests declared undefined or unaddressable, known in
// the tool's own memory, for the leak search.
//
// memcheck's leak search takes a word for a possible pointer only when its
// shadow bits say it is addressable and defined. A program (or its custom
// allocator) that runs VALGRIND_MAKE_MEM_UNDEFINED or _NOACCESS on memory
// that still holds pointers hides them from memcheck: the blocks they point
// to become lost (memcheck's own leak-segv-jmp test makes a pointer
// undefined to create a leak; pool allocators mark freed chunks NOACCESS,
// and the stale pointers in them then keep nothing alive). memtrack has no
// shadow bits. It copies the words such a request covers into tool memory,
// and the leak search skips a word whose value still equals its copy: one
// the program has not written since. VALGRIND_MAKE_MEM_DEFINED (and
// _DEFINED_IF_ADDRESSABLE) makes words count again, and so does unmapping
// the memory or freeing the heap block that holds it.
//
// What differs from memcheck (docs/manual.md, "Client requests"): a word the
// program writes back with the value it held at the request counts as
// unwritten (memcheck: defined), as in the dead stack (mt_deadstack.h); a
// word the program wrote only in part counts as written (memcheck: partly
// undefined, so no pointer). Memory that could not be read at the request,
// and pages beyond 64 MiB of copies in all, are not remembered: their
// words count as pointers, as before memtrack honoured these requests.
#pragma once

#include "mt_rt.h"

namespace mt::undef {

// VALGRIND_MAKE_MEM_UNDEFINED / _NOACCESS on [a, a + len): each word with a
// byte in the range is hidden while it keeps its present value.
void hide(Addr a, SizeT len);
// VALGRIND_MAKE_MEM_DEFINED, unmapping, a heap block freed: each word wholly
// in [a, a + len) counts again.
void reveal(Addr a, SizeT len);

// The record of one page, for the leak search's word loops: null when no
// word of the page is hidden.
struct Page;
extern SizeT g_pages;  // pages with hidden words: the loops test it first
const Page* page(Addr a);
// Whether the word at a (in page pg) is hidden and still holds w.
bool unwritten(const Page* pg, Addr a, UWord w);

// For --stats: pages with hidden words now, and pages not remembered for the
// limit (64 MiB of copies).
void stats(ULong* pages, ULong* dropped);

}  // namespace mt::undef
