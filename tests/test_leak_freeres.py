"""--run-libc-freeres and --run-cxx-freeres, memtrack against memcheck.

Both tools ask the core to run glibc's __libc_freeres and libstdc++'s
__gnu_cxx::__freeres before the exit summaries, so memory that only those
routines free (libstdc++'s emergency exception pool, locale data) is not
reported as still in use. Turning either off must change the HEAP SUMMARY
and the loss records exactly as it does for memcheck.
"""
import pytest

import leak_helpers


@pytest.mark.parametrize("libc", ["yes", "no"])
@pytest.mark.parametrize("cxx", ["yes", "no"])
def test_freeres_like_memcheck(libc, cxx, clients, workdir):
    exe = clients.path("leak_freeres")
    opts = ["--leak-check=full", "--show-leak-kinds=all",
            f"--run-libc-freeres={libc}", f"--run-cxx-freeres={cxx}"]
    mt, mc = leak_helpers.run_pair(opts, [exe], workdir)
    a, _ = leak_helpers.assert_same_leak_output(mt, mc)
    assert a.heap_summary, mt


def test_cxx_freeres_frees_the_exception_pool(clients, workdir):
    """The test above would pass if neither option did anything: check that
    turning libstdc++'s freeres off really leaves its pool in use."""
    exe = clients.path("leak_freeres")
    on, _ = leak_helpers.run_pair(["--leak-check=full"], [exe], workdir)
    off, _ = leak_helpers.run_pair(["--leak-check=full", "--run-cxx-freeres=no"], [exe], workdir)
    in_use = [next(line for line in leak_helpers.parse(r.stderr).heap_summary if "in use at exit" in line)
              for r in (on, off)]
    assert in_use[0].endswith("in use at exit: 0 bytes in 0 blocks"), in_use
    assert in_use[1] != in_use[0], in_use
