// Monitor commands, sent by vgdb or gdb ("monitor ...") to a running
// program: `help` and memcheck's `leak_check`, `block_list` and
// `who_points_at`.
#pragma once

#include "mt_rt.h"

namespace mt::monitor {
// One command line. False if it is not one of memtrack's commands: the core
// then says so (after trying its own v.* commands).
bool handle(ThreadId tid, const HChar* command);
}
