"""Hostile clients (the leak issue's 'bad input'): after a fatal signal,
garbage frees, self-corrupted heap pointers and wild mmap/munmap, memtrack
still prints the leak report memcheck prints (same errors, same loss
records, same summaries, same exit status), and never crashes."""
import pytest

import leak_helpers


@pytest.mark.parametrize("mode", ["segv", "abort", "frees", "corrupt", "mmap"])
def test_hostile_client_like_memcheck(mode, clients, workdir):
    exe = clients.path("leak_hostile")
    # memcheck's default for the stacks kept with a freed block (memtrack's
    # default keeps only the allocation stack; the errors then say so)
    opts = ["--leak-check=full", "--show-leak-kinds=all", "--error-exitcode=7",
            "--keep-stacktraces=alloc-and-free"]
    mt, mc = leak_helpers.run_pair(opts, [exe, mode], workdir)
    assert "the 'impossible' happened" not in mt.stderr, mt
    a, _ = leak_helpers.assert_same_leak_output(mt, mc)
    assert a.leak_summaries, mt
    if mode in ("segv", "abort"):
        assert mt.returncode < 0 or mt.returncode > 128, mt  # died by the signal, after the report
