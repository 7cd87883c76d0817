"""Hostile clients (the leak issue's 'bad input'): after a fatal signal,
garbage frees, self-corrupted heap pointers and wild mmap/munmap, memtrack
still prints the leak report memcheck prints (same errors, same loss
records, same summaries, same exit status), and never crashes."""
import json
import re
import signal

import pytest

import helpers
import profile_helpers as ph

import leak_helpers


@pytest.mark.parametrize("mode", ["segv", "abort", "frees", "corrupt", "mmap", "mprotect"])
def test_hostile_client_like_memcheck(mode, clients, workdir):
    exe = clients.path("leak_hostile")
    opts = ["--leak-check=full", "--show-leak-kinds=all", "--error-exitcode=7"]
    mt, mc = leak_helpers.run_pair(opts, [exe, mode], workdir)
    assert "the 'impossible' happened" not in mt.stderr, mt
    a, _ = leak_helpers.assert_same_leak_output(mt, mc)
    assert a.leak_summaries, mt
    if mode in ("segv", "abort"):
        assert mt.returncode < 0 or mt.returncode > 128, mt  # died by the signal, after the report


def test_stacks_in_heap_blocks_left_alone(clients, workdir):
    """stack_switch.c runs coroutines on two heap-block stacks with a data
    block between them and switches from the lower stack straight to the
    upper one: the stack pointer rises by less than --max-stackframe, like a
    pop. The stacks are registered, as memcheck's manual asks. memtrack's
    stack scrubbing must not take that switch for dead stack and zero what
    lies between: the program checks its data and a live local of the lower
    coroutine, and the leak report is memcheck's."""
    mt, mc = leak_helpers.run_pair(["--leak-check=full", "--error-exitcode=7"],
                                   [clients.path("stack_switch"), "heap"], workdir)
    assert "data and live frames intact" in mt.stdout, mt
    assert "mid between" in mt.stdout, mt  # the layout the test needs
    leak_helpers.assert_same_leak_output(mt, mc)


@pytest.mark.parametrize("mode", ["heap-unreg", "mmap"])
def test_unregistered_stacks_left_alone(clients, workdir, mode):
    """The same switches between stacks nobody registered: heap blocks, or
    two adjacent halves of one mapping (as coroutine libraries allocate
    them). Nothing tells such a switch from a pop, so memtrack zeroes no
    stack on it (memcheck, which only marks bits, takes it for a pop, warns
    "client switching stacks?" and reports invalid reads of the lower
    coroutine's frames later). The program's data and frames stay intact
    and the run ends normally with the leak report."""
    r = helpers.run_memtrack(["--leak-check=full", "--stats=yes"], [clients.path("stack_switch"), mode], workdir)
    assert "data and live frames intact" in r.stdout, r
    assert r.returncode == 0, r
    assert "LEAK SUMMARY" in r.stderr, r
    m = re.search(r"\(([\d,]+) taken for stack switches\)", r.stderr)
    assert m and int(m.group(1).replace(",", "")) > 0, r
    if mode == "mmap":
        # memcheck's misjudged "pop" only hides the lower coroutine's frames,
        # which hold no heap pointer: the leak summaries must agree.
        mc = helpers.run_memcheck(["--leak-check=full"], [clients.path("stack_switch"), mode], workdir)
        assert leak_helpers.parse(r.stderr).leak_summaries == leak_helpers.parse(mc.stderr).leak_summaries, (r, mc)


@pytest.mark.parametrize("queue", ["off", "default"])
def test_overwritten_allocator_bookkeeping(queue, clients, workdir):
    """A program that writes over the allocator's bookkeeping around its
    blocks and then frees them corrupts memtrack's client heap as it would
    glibc's (memcheck alone catches the writes, with its red zones). The
    tool must not fail: without the queue of freed blocks
    (--freelist-vol=0) the program dies of the fault at its free, as it
    would natively; with it (--leak-check=full's default) the blocks wait in
    the queue, as under memcheck, and the program ends normally. Either way
    every output is written and valid (DHAT 3.19 itself dies of an internal
    error here)."""
    exe = clients.path("leak_hostile")
    opts = ["--freelist-vol=0"] if queue == "off" else []
    r = helpers.run_memtrack(["--leak-check=full", "--dhat-out-file=p.json", "--summary-file=s.json", *opts],
                             [exe, "metadata"], workdir)
    assert "the 'impossible' happened" not in r.stderr and "INTERNAL ERROR" not in r.stderr, r
    if queue == "off":
        assert r.returncode in (-signal.SIGSEGV, -signal.SIGABRT), r
    else:
        assert r.returncode == 0, r
    assert "LEAK SUMMARY" in r.stderr, r
    ph.checked_profile(workdir / "p.json", r)
    assert json.loads((workdir / "s.json").read_text())["leaks"]["definite"]["bytes"] >= 100
