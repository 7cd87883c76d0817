// Client calls without the scheduler round trip. Valgrind's malloc
// replacement reaches the tool through a client request (CLIENT_CALLn):
// the translation exits to the scheduler, which calls the tool and resumes
// the client. For a program that allocates a million times that round trip
// is a large share of memtrack's cost. A superblock that ends in a client
// request gets, in front of its exit, a helper that performs the call
// itself when it is one of memtrack's heap functions; anything else takes
// the ordinary exit to the scheduler.
#pragma once

#include "mt_rt.h"

namespace mt::fastcall {

// Registers the tool functions the helper may call directly.
void allow(const void* fn);

// Registers a tool request (not a CLIENT_CALLn) the helper may serve
// itself: fn(tid, args) with args the client's block ([0] the request)
// returns the request's result. Only for requests that read no guest
// register but those the unwinder starts from (mt_arch.h's kUnwindRegs:
// IP, SP and FP; LR too on arm64). The preload's copy event is one: every
// memcpy and strcpy makes it, and in heap mode it does nothing, yet each
// took the scheduler round trip (sqlite3 at scale 100: 1.07 million
// round trips, 16 thousand under `none`).
using RequestFn = UWord (*)(ThreadId tid, const UWord* args);
void allow_request(UWord req, RequestFn fn);

// Appends the fast path to out, whose jump kind must be Ijk_ClientReq.
void add(IRSB* out);

}  // namespace mt::fastcall
