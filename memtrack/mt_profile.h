// The DHAT-format profile (dhatFileVersion 2): the file DHAT's viewer,
// dh_view.html, and other DHAT consumers read.
#pragma once

#include "mt_rt.h"

namespace mt::profile {

// Expands --dhat-out-file (%p, %q{VAR}) now; the result is VG_(malloc)'d.
HChar* expand_path(const char* templ);

// Writes the profile of the run so far to path. Blocks still live count as
// live at the end of the profile (lifetimes up to now). On failure prints
// one line saying why and returns false.
bool write(const char* path);

// The file of the profile numbered n (--dump-every's dumps are 1, 2, ...;
// the exit profile has the next number): --dhat-out-file with %n replaced
// by n; a name without %n gets ".<n>" for the dumps and stays as it is for
// the exit profile. %p and %q{VAR} expand as for every output file.
HChar* numbered_path(ULong n, bool at_exit);

// --dump-every: hooks the core's start of client code, where the clock is
// read; the dumps are written there, between two time slices of a thread.
void post_options();
// Dumps written so far; the exit profile is number dumps_written() + 1.
ULong dumps_written();

}  // namespace mt::profile
