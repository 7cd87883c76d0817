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

}  // namespace mt::profile
