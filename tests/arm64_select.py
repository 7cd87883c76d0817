"""What `make check-arm64` runs: the differential tests of an arm64 build
under qemu-user on a machine of another architecture (helpers.EMULATED),
and what of them cannot run there, each with the reason.

    python3 tests/arm64_select.py files    the test files, one a line

The files are the suite's own, unchanged: the oracles are the arm64
Valgrind's DHAT, memcheck and massif, run the same way as memtrack
(scripts/vg-in-place). Chosen to cover what the port changes: the
instruction clock and access counts (DHAT totals, per-site figures,
histograms), the heap functions reached through the fast client call,
leak summaries and loss records, massif's peak, heap errors and their exit
codes, threads, client requests, dead stack, and the unit tests of the
containers and block index. The rest of the suite tests option parsing,
file formats and scripts, which no architecture changes.

SKIPS maps a test id fragment to the reason it cannot run here;
conftest.py marks those tests skipped with that reason when
helpers.EMULATED, and only then. Two kinds: limits of the emulated
platform (a program the sysroot does not hold; exec, which is why
test_fork_exec.py is not in FILES), and clients written in amd64
assembly, which test amd64's stack (its red zone, push/pop frames) and
have no arm64 version yet.
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
]

_NOT_UNPACKED = ("Debian's arm64 {} is not unpacked into the sysroot (scripts/arm64-env unpacks "
                 "sqlite3, jq and coreutils); qemu would run the "
                 "host's amd64 binary")

_AMD64_ASM = ("its client is written in amd64 assembly ({}), with no arm64 version yet; "
              "on arm64 hardware too this test cannot build")

# Test id fragment -> reason.
SKIPS = {
    "leak_threads": _AMD64_ASM.format("leak_threads.c keeps a pointer in r12 across a raw pause syscall"),
    "test_threads_numbers": _AMD64_ASM.format("leak_threads.c"),
    "test_exited_threads_leave_dead_stack": _AMD64_ASM.format("leak_threads.c"),
    "leak_redzone": _AMD64_ASM.format("leak_redzone.c stores into amd64's red zone, which arm64 has not"),
    "test_redzone_pointer_is_no_root": _AMD64_ASM.format("leak_redzone.c; arm64 has no red zone"),
    "leak_stackpops": _AMD64_ASM.format("leak_stackpops.c's frames are rsp arithmetic"),
    "test_pointers_in_popped_frames_are_no_roots": _AMD64_ASM.format("leak_stackpops.c"),
    "test_default_summary_is_memchecks": _AMD64_ASM.format("leak_stackpops.c"),
    "test_max_stackframe_same_as_memcheck": _AMD64_ASM.format("leak_maxframe.c's frames are rsp arithmetic"),
    "[python3]": _NOT_UNPACKED.format("python3"),
    "[perl]": _NOT_UNPACKED.format("perl"),
    "[mawk]": _NOT_UNPACKED.format("mawk"),
    "[tar]": _NOT_UNPACKED.format("tar"),
    "[bash]": _NOT_UNPACKED.format("bash"),
    "[groff]": _NOT_UNPACKED.format("groff"),
    "[xz]": _NOT_UNPACKED.format("xz"),
    "test_real_program_same_as_massif": _NOT_UNPACKED.format("xz"),
    "test_real_program_peak_as_massif": _NOT_UNPACKED.format("xz"),
    "test_instruction_times_real_program": _NOT_UNPACKED.format("xz"),
    "test_ms_print_reads_a_real_programs_file": _NOT_UNPACKED.format("xz"),
}


def skip_reason(nodeid):
    for frag, why in SKIPS.items():
        if frag in nodeid:
            return "not runnable under emulation: " + why
    return None


if __name__ == "__main__":
    if sys.argv[1:] == ["files"]:
        print("\n".join(FILES))
    else:
        sys.exit("usage: arm64_select.py files")
