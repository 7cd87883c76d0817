// Client requests: memtrack.h's, answered from the tool's accounting.
#pragma once

#include "mt_rt.h"

namespace mt::clientreq {
Bool handle(ThreadId tid, UWord* arg, UWord* ret);
// Lets the fast path serve the requests that need no scheduler.
void init();
}
