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


# leak_faults.c: pages the search cannot read, made so by mprotect (the core
# knows: "sys") or by the same system call behind the core's back ("hidden",
# as memcheck's leak-segv-jmp does: reading them faults). memcheck's exit
# LEAK SUMMARY for each, so that a client that stopped making its case
# would be noticed: (definite, possible, reachable) as (bytes, blocks).
FAULTS = {
    # leak-segv-jmp's steps: "sys" hides the pointers in the protected pages
    # (a pointer into them is none), "hidden" makes the scan of b10 fault
    # page after page and the heuristics fault on the interior pointers.
    ("segvjmp", "sys"): ((401000, 3), (0, 0), (0, 0)),
    ("segvjmp", "hidden"): ((1000, 1), (200000, 1), (200000, 1)),
    # interior pointers only: none counts into a page the core knows is
    # PROT_NONE; into a hidden one they do, and the heuristics' reads fault.
    ("interior", "sys"): ((12288, 1), (0, 0), (0, 0)),
    ("interior", "hidden"): ((0, 0), (12288, 1), (0, 0)),
    # a root page whose first word sends the heuristics into a faulting
    # block: the pointers after it on that page still count.
    ("root", "sys"): ((4096 + 64, 2), (0, 0), (48 + 56 + 80, 3)),
    ("root", "hidden"): ((64, 1), (4096, 1), (48 + 56 + 80, 3)),
    # part of a reachable heap block: only its protected page is lost.
    ("part", "sys"): ((32, 1), (0, 0), (12288 + 24 + 40, 3)),
    ("part", "hidden"): ((32, 1), (0, 0), (12288 + 24 + 40, 3)),
}


@pytest.mark.parametrize("mode,how", list(FAULTS), ids=[f"{m}-{h}" for m, h in FAULTS])
def test_unreadable_pages_like_memcheck(mode, how, clients, workdir):
    """A page the search cannot read costs only itself, as in memcheck: a
    fault while scanning loses the rest of the faulting page, not of the
    root or block being scanned; a fault while a heuristic reads a block
    makes that pointer match no heuristic (possibly lost), not end the scan
    that found it; and a pointer into memory the core knows is unreadable is
    no pointer. Every search (one mid-run per step, one at exit) says what
    memcheck's says."""
    opts = ["--leak-check=full", "--show-leak-kinds=all"]
    argv = [clients.path("leak_faults"), mode, how]
    mt, mc = leak_helpers.run_pair(opts, argv, workdir)
    assert "the 'impossible' happened" not in mt.stderr, mt
    assert "finished" in mc.stderr, mc
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    numbers = b.summary_numbers()
    assert (numbers["definitely lost"], numbers["possibly lost"], numbers["still reachable"]) == FAULTS[mode, how], mc
    # With -v memcheck says when a page faulted, after "Checked N bytes"
    # (both counts are each tool's own: memcheck tries only the words its
    # definedness bits let it read); memtrack says it in the same cases.
    v = helpers.run_memtrack(opts + ["-v"], argv, workdir)
    skipped = re.findall(r"^==\d+== Checked [\d,]+ bytes\n==\d+== Skipped [\d,]+ bytes due to read errors$",
                         v.stderr, re.M)
    searches = len(re.findall(r"^==\d+== Searching for pointers to", v.stderr, re.M))
    # Every search after the first protection: leak-segv-jmp's first search
    # comes before it.
    after = searches - 1 if mode == "segvjmp" else searches
    assert len(skipped) == (after if how == "hidden" else 0), v
