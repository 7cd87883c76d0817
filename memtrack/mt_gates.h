// CI gates and machine-readable results: --peak-limit, --total-limit and
// --leak-limit turn a breach into an error (counted by --error-exitcode,
// reported at the site that contributed most); --summary-file writes a
// small JSON summary and --sarif-file the leaks and breaches as SARIF 2.1.0.
#pragma once

#include "mt_rt.h"

namespace mt::gates {

// (Limits that could never be checked are refused with the options:
// options::settle.)
// After every allocation's accounting (cheap: two compares when no limit).
void after_alloc(ThreadId tid);
// At exit, after the leak search was analysed and reported.
void at_exit();
// After the run's last error: writes --summary-file and --sarif-file.
void write_files();

}  // namespace mt::gates
