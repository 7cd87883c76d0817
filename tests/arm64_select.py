"""What `make check-arm64` runs: the differential tests of an arm64 build
under qemu-user on a machine of another architecture (helpers.EMULATED),
and what of them cannot run there, each with the reason.

    python3 tests/arm64_select.py files    the test files, one a line

The files are the suite's own, unchanged: the oracles are the arm64
Valgrind's DHAT, memcheck and massif, run the same way as memtrack
(scripts/vg-in-place). Chosen to cover what the port changes: the
instruction clock and access counts (DHAT totals, per-site figures,
histograms), the heap functions reached through the fast client call, leak
summaries and loss records, massif's peak, heap errors and their exit
codes, threads, client requests (leak searches mid-run among them), the
leak report's -v search line and its XML form, dead stack, hostile clients
(pages the search cannot read, wild frees and mappings, fatal signals),
and the unit tests of the containers and block index. The rest of the
suite tests option parsing, file formats and scripts, which no
architecture changes.

Two maps of a test id fragment to the reason; conftest.py marks those
tests skipped with that reason. SKIPS: limits of the emulated platform (a
program the sysroot does not hold; exec, which is why test_fork_exec.py is
not in FILES; a process that exits while a thread is blocked in a system
call, which Valgrind cannot end under qemu-user), applied when
helpers.EMULATED only. NO_ARM64: tests with no arm64 meaning, applied on
any arm64 build, emulated or not: leak_redzone.c tests amd64's stack red
zone, which arm64 has not. The other clients written in assembly to build
stacks have an arm64 version beside the amd64 one: leak_stackpops.c's and
leak_maxframe.c's tests run here; leak_threads.c's (x19 across a blocking
ppoll) cannot, for the exit reason above. So have the clients with a raw
system call or a register cleared in assembly: leak_faults.c's and
leak_requests.c's tests run here (leak_hostile.c's arm64 side keeps its
partial munmaps inside its own mappings: see there); who_points_at.cpp's
(x19 across openat/faccessat/nanosleep) are test_leak_vgdb.py's, which is
not in FILES: its vgdb is a second program, the host's amd64 one (the
arm64 vgdb cannot be started without binfmt_misc), and when it sent its
first command to memtrack under qemu, qemu-user 7.2 aborted ("assertion
failed: (cpu == current_cpu)" in cpu_exec; likely cause, not investigated
further: the test's --max-invoke-ms=1 makes vgdb's invoker ptrace the
process, here qemu).
"""
import sys

FILES = [
    "tests/test_unit_runtime.py",
    "tests/test_dhat_totals.py",
    "tests/test_profile_dhat.py",
    "tests/test_alloc_functions.py",
    "tests/test_leak_cases.py",
    "tests/test_errors.py",
    "tests/test_massif_out.py",
    "tests/test_threads.py",
    "tests/test_client_requests.py",
    "tests/test_dead_stack.py",
    "tests/test_leak_requests.py",
    "tests/test_leak_hostile.py",
    "tests/test_leak_search_line.py",
    "tests/test_leak_xml.py",
]

_NOT_UNPACKED = ("Debian's arm64 {} is not unpacked into the sysroot (scripts/arm64-env unpacks "
                 "sqlite3, jq, xz and coreutils); qemu would run the "
                 "host's amd64 binary")

_NO_REDZONE = ("its client, leak_redzone.c, stores a pointer into amd64's red zone (the 128 bytes "
               "below SP a leaf function may use), which arm64 has not: there a store below SP is "
               "an invalid write to memcheck and a signal may overwrite it, so the test has no "
               "arm64 meaning (its client is amd64 assembly and does not build there; a pointer "
               "left in popped arm64 frames is leak_stackpops.c's test)")

# Test id fragment -> reason, on any arm64.
NO_ARM64 = {
    "leak_redzone": _NO_REDZONE,
    "test_redzone_pointer_is_no_root": _NO_REDZONE,
}

_BLOCKED_AT_EXIT = ("leak_threads.c exits while workers are blocked in system calls (futex, ppoll), "
                    "and Valgrind's core ends such a thread at exit with signal 64 (VG_SIGVGKILL), "
                    "which qemu-user 7.2 cannot deliver (an arm64 program's tgkill of signal 63 or 64 "
                    "fails with EINVAL under it): every tool, none included, then spins at exit for "
                    "good. Its arm64 version was checked under qemu with a search before the exit: "
                    "memcheck and memtrack keep worker 5's block through x19, and both lose it when "
                    "x19 does not hold it")

# Test id fragment -> reason, under emulation.
SKIPS = {
    "leak_threads": _BLOCKED_AT_EXIT,
    "test_threads_numbers": _BLOCKED_AT_EXIT,
    "test_exited_threads_leave_dead_stack": _BLOCKED_AT_EXIT,
    "[python3]": _NOT_UNPACKED.format("python3"),
    "[perl]": _NOT_UNPACKED.format("perl"),
    "[mawk]": _NOT_UNPACKED.format("mawk"),
    "[tar]": _NOT_UNPACKED.format("tar"),
    "[bash]": _NOT_UNPACKED.format("bash"),
    "[groff]": _NOT_UNPACKED.format("groff"),
    "[sed]": _NOT_UNPACKED.format("sed"),
    "[grep]": _NOT_UNPACKED.format("grep"),
    "[find]": _NOT_UNPACKED.format("find"),
}


def skip_reason(nodeid, emulated=True):
    for frag, why in NO_ARM64.items():
        if frag in nodeid:
            return "no arm64 meaning: " + why
    for frag, why in SKIPS.items() if emulated else ():
        if frag in nodeid:
            return "not runnable under emulation: " + why
    return None


if __name__ == "__main__":
    if sys.argv[1:] == ["files"]:
        print("\n".join(FILES))
    else:
        sys.exit("usage: arm64_select.py files")
