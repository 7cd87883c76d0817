"""The leak checker against memcheck, client by client: memcheck's own leak
tests (memcheck/tests/leak-cases, leak-cycle, leak-tree, leak-0,
trivialleak, leak_cpp_interior, reach_thread_register), rewritten as
tests/clients/leak_*.c|cpp, run by memtrack and memcheck with the same
command line. Everything memcheck says about leaks must be said the same
way: HEAP SUMMARY, every loss record (headline and allocation stack, in
order), LEAK SUMMARY, hints, ERROR SUMMARY, exit status.

The second half checks memtrack's own output against the numbers memcheck's
algorithm gives on these clients (research note, section 6), so that a
client that stopped reproducing its case would be noticed too.
"""
import re

import pytest

import helpers
import leak_helpers

FULL_ALL = ["--leak-check=full", "--show-leak-kinds=all"]
DEFAULTS = []

# (client, its arguments). "exit" makes the client leave through exit()
# instead of returning from main, which keeps main's frame live.
CLIENTS = [
    ("leak_cases", []),
    ("leak_cases", ["exit"]),
    ("leak_cycle", []),
    ("leak_tree", []),
    ("leak_zero", []),
    ("leak_trivial", []),
    ("leak_graph", []),
    ("leak_graph", ["exit"]),
    ("leak_threads", []),
    ("leak_threads", ["exit"]),
    ("leak_cxx", []),
    ("leak_cxx", ["exit"]),
    ("leak_cxx_cow", []),
    ("leak_redzone", []),
    ("leak_stackpops", []),
    ("leak_freed", []),
    ("leak_freed", ["quick"]),
    ("leak_bigblock", []),
    ("leak_bigmix", []),
    ("leak_manysites", []),
]


def _id(c):
    return "-".join([c[0], *c[1]])


# The default options (--leak-check=summary) on the clients whose summary
# mode says something different: hints, 'All heap blocks were freed', a
# leak only a full search would show in detail.
SUMMARY_CLIENTS = [("leak_cases", []), ("leak_graph", ["exit"]), ("leak_cxx", []),
                   ("leak_redzone", []), ("leak_freed", [])]


@pytest.mark.parametrize("client,args", CLIENTS, ids=[_id(c) for c in CLIENTS])
def test_same_as_memcheck(client, args, clients, workdir):
    if client in leak_helpers.TIMING_WORD_CLIENTS:
        mt, mc = leak_helpers.run_pair_without_timing_word(FULL_ALL, [clients.path(client), *args], workdir)
    else:
        mt, mc = leak_helpers.run_pair_cached(FULL_ALL, [clients.path(client), *args], workdir)
    _, b = leak_helpers.assert_same_leak_output(mt, mc)
    if client == "leak_manysites":
        # Over a thousand records, so that their numbers carry separators.
        assert b.records[-1].numbers["of"] > 1000, b.records[-1].headline


@pytest.mark.parametrize("client,args", SUMMARY_CLIENTS, ids=[_id(c) for c in SUMMARY_CLIENTS])
def test_defaults_same_as_memcheck(client, args, clients, workdir):
    """Default options on both sides. leak_redzone leaves its only pointer
    in the dead red zone below the stack pointer: memcheck's definedness bits
    ignore it; so does memtrack's knowledge of dead stack, on by default
    whenever a search runs (--scrub-stack=auto)."""
    mt, mc = leak_helpers.run_pair(DEFAULTS, [clients.path(client), *args], workdir, mc_opts=DEFAULTS)
    leak_helpers.assert_same_leak_output(mt, mc)


# Each heuristic on its own and in sets (the default, all, is in
# test_same_as_memcheck): which interior-pointed blocks become reachable,
# and the 'of which reachable via heuristic' lines.
HEURISTICS = [
    ("leak_cxx", "none"), ("leak_cxx", "newarray"),
    # length64 blocks match newarray too: length64 is tried first.
    ("leak_cxx", "length64,multipleinheritance"),
    ("leak_cxx_cow", "none"), ("leak_cxx_cow", "length64"),
]


@pytest.mark.parametrize("client,heur", HEURISTICS, ids=[f"{c}-{h}" for c, h in HEURISTICS])
def test_heuristics_same_as_memcheck(client, heur, clients, workdir):
    opts = FULL_ALL + [f"--leak-check-heuristics={heur}"]
    mt, mc = leak_helpers.run_pair_cached(opts, [clients.path(client)], workdir)
    leak_helpers.assert_same_leak_output(mt, mc)


@pytest.mark.parametrize("res", ["low", "med"])
def test_leak_resolution_same_as_memcheck(res, clients, workdir):
    """--leak-resolution merges records whose first 2 / 4 frames match
    (high, the default, is everywhere else); leak_cases allocates
    everything through mk() from make_cases()."""
    opts = FULL_ALL + [f"--leak-resolution={res}"]
    mt, mc = leak_helpers.run_pair(opts, [clients.path("leak_cases")], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    if res == "low":
        # malloc + mk: one record per kind.
        assert len(a.exit_records) == 4


def test_quiet_same_as_memcheck(clients, workdir):
    """-q: the loss records are still printed, the summaries are not."""
    mt, mc = leak_helpers.run_pair(["-q"] + FULL_ALL, [clients.path("leak_cases")], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert len(a.records) == 15
    assert a.leak_summaries == [] and a.heap_summary == b.heap_summary
    assert "ERROR SUMMARY" not in mt.stderr


def test_quiet_all_freed_same_as_memcheck(clients, workdir):
    """-q with everything freed: memcheck prints nothing at all (not even
    'All heap blocks were freed'), in full mode as in summary mode."""
    for mode in ("full", "summary"):
        mt, mc = leak_helpers.run_pair(["-q", f"--leak-check={mode}"], [clients.path("leak_freed")], workdir)
        leak_helpers.assert_same_leak_output(mt, mc)
        assert mt.stderr.count("All heap blocks were freed") == mc.stderr.count("All heap blocks were freed"), mt


# ---------------------------------------------------------------------------
# memtrack's own output: the numbers memcheck's algorithm gives


def _mt(clients, workdir, client, args=(), opts=FULL_ALL):
    """memtrack's run of a client (shared with the comparison above)."""
    r, _ = leak_helpers.run_pair_cached(opts, [clients.path(client), *args], workdir)
    assert r.returncode == 0, r
    return leak_helpers.parse(r.stderr), r


def _headlines(out):
    return [r.headline.rsplit(" in loss record", 1)[0] for r in out.exit_records]


def test_leak_cases_numbers(clients, workdir):
    out, r = _mt(clients, workdir, "leak_cases")
    assert out.summary_numbers() == {
        "definitely lost": (48, 3), "indirectly lost": (32, 2),
        "possibly lost": (96, 6), "still reachable": (64, 4), "suppressed": (0, 0)}
    heads = _headlines(out)
    assert len(heads) == 15
    assert heads.count("16 bytes in 1 blocks are possibly lost") == 6
    assert heads.count("16 bytes in 1 blocks are definitely lost") == 1
    assert heads.count("32 (16 direct, 16 indirect) bytes in 1 blocks are definitely lost") == 2
    assert heads.count("16 bytes in 1 blocks are still reachable") == 4
    assert heads.count("16 bytes in 1 blocks are indirectly lost") == 2
    # Records are numbered 1..15 and sorted by size, then kind.
    assert [x.numbers["n"] for x in out.exit_records] == list(range(1, 16))
    assert helpers.parse_error_summary(r.stderr)["errors"] == 9


def test_leak_cycle_numbers(clients, workdir):
    out, r = _mt(clients, workdir, "leak_cycle")
    heads = _headlines(out)
    assert heads.count("48 (16 direct, 32 indirect) bytes in 1 blocks are definitely lost") == 2
    assert heads.count("96 (16 direct, 80 indirect) bytes in 1 blocks are definitely lost") == 2
    assert heads.count("16 bytes in 1 blocks are definitely lost") == 1   # the self-loop
    assert out.summary_numbers()["definitely lost"] == (80, 5)
    assert out.summary_numbers()["indirectly lost"] == (224, 14)
    assert out.summary_numbers()["still reachable"] == (48, 3)


def test_leak_tree_numbers(clients, workdir):
    out, r = _mt(clients, workdir, "leak_tree")
    heads = _headlines(out)
    assert heads[-3:] == [
        "16 bytes in 1 blocks are definitely lost",
        "48 (16 direct, 32 indirect) bytes in 1 blocks are definitely lost",
        "112 (16 direct, 96 indirect) bytes in 1 blocks are definitely lost",
    ]
    assert out.summary_numbers()["indirectly lost"] == (128, 8)
    assert out.summary_numbers()["still reachable"] == (32, 2)


def test_leak_zero_numbers(clients, workdir):
    """A malloc(0) block covers one byte for the scan but counts 0 bytes:
    the 16-byte block holding the only pointer to one is '16 bytes ...
    definitely lost' (0 indirect bytes), as memcheck says."""
    out, r = _mt(clients, workdir, "leak_zero")
    heads = _headlines(out)
    assert heads == [
        "0 bytes in 1 blocks are still reachable",
        "0 bytes in 1 blocks are indirectly lost",
        "0 bytes in 1 blocks are definitely lost",
        "0 bytes in 1 blocks are definitely lost",
        "16 bytes in 1 blocks are definitely lost",
    ]
    assert out.summary_numbers()["definitely lost"] == (16, 3)
    assert out.summary_numbers()["indirectly lost"] == (0, 1)


def test_trivialleak_numbers(clients, workdir):
    out, r = _mt(clients, workdir, "leak_trivial")
    assert _headlines(out) == ["1,000 bytes in 1,000 blocks are definitely lost"]
    frames = out.exit_records[0].frames
    assert len(frames) == 3, frames
    assert ": malloc (" in frames[0] and ": leak_one (leak_trivial.c:" in frames[1]


@pytest.mark.parametrize("how", ["return", "exit"])
def test_exit_versus_return(how, clients, workdir):
    """main's local is reachable if the process leaves through exit() (main's
    frame is live) and definitely lost if main returns, as in memcheck."""
    args = ["exit"] if how == "exit" else []
    out, r = _mt(clients, workdir, "leak_graph", args)
    local = [x.headline for x in out.exit_records if x.headline.startswith("120 bytes in 1 blocks")]
    kind = "still reachable" if how == "exit" else "definitely lost"
    assert len(local) == 1 and f"are {kind} in" in local[0], local


def test_heuristics_numbers(clients, workdir):
    out, r = _mt(clients, workdir, "leak_cxx")
    summary = out.leak_summary
    assert "                      of which reachable via heuristic:" in summary
    names = [l.split(":")[0].strip() for l in summary if l.startswith(" " * 24)]
    assert names == ["length64", "newarray", "multipleinheritance"]
    # new Elem[0]: the pointer is one past the 8-byte block.
    assert "8 bytes in 1 blocks are definitely lost" in _headlines(out)
    out, r = _mt(clients, workdir, "leak_cxx", opts=FULL_ALL + ["--leak-check-heuristics=none"])
    assert not any("via heuristic" in l for l in out.leak_summary)
    assert out.summary_numbers()["possibly lost"] == (216, 3)
    out, r = _mt(clients, workdir, "leak_cxx_cow")
    assert any(l.strip().startswith("stdstring          : 74 bytes in 1 blocks") for l in out.leak_summary)


def test_threads_numbers(clients, workdir):
    """Each worker's kept block: a global, a live thread's TLS, stack or
    register keep it; a joined thread's TLS and a returned frame do not."""
    out, r = _mt(clients, workdir, "leak_threads")
    kinds = {}
    for x in out.exit_records:
        n = x.numbers
        if n["blocks"] == 1 and 200 <= n["total"] <= 205:
            kinds[n["total"] - 200] = x.kind
    assert kinds == {0: "still reachable", 1: "definitely lost", 2: "still reachable",
                     3: "still reachable", 4: "definitely lost", 5: "still reachable"}
    assert "615 bytes in 6 blocks are definitely lost" in _headlines(out)


def test_redzone_pointer_is_no_root(clients, workdir):
    """A pointer left in the red zone below SP is garbage after the next
    call (memcheck: undefined), so it keeps nothing alive: the block is
    definitely lost, both in the mid-run search and at exit."""
    out, r = _mt(clients, workdir, "leak_redzone")
    assert [s[1] for s in out.leak_summaries] == ["   definitely lost: 40 bytes in 1 blocks"] * 2


def test_pointers_in_popped_frames_are_no_roots(clients, workdir):
    """leak_stackpops.c leaves the only pointer to each of five blocks in
    stack freed five different ways (a short and a long constant pop, a long
    and a short leave, longjmp), then covers them all with a frame it never
    writes and searches. Dead stack keeps nothing alive: all five are
    definitely lost (memcheck says the same, above). With --scrub-stack=no
    memtrack's search from probe() sees the stale words and keeps all five,
    which shows the pointers really are where the probe's frame covers them;
    the end-of-run search, after probe() returned, finds them below the
    stack pointer where the program exited and loses all five either way."""
    out, _ = _mt(clients, workdir, "leak_stackpops")
    lost = sorted(_headlines(out))
    assert lost == [f"{n} bytes in 1 blocks are definitely lost" for n in (40, 48, 56, 64, 72)], lost
    # The probe's search too (the exit records above come after probe()
    # returned, when the words are below SP and no root either way).
    assert [s[1] for s in out.leak_summaries] == ["   definitely lost: 280 bytes in 5 blocks"] * 2, out.leak_summaries
    stale = helpers.run_memtrack(FULL_ALL + ["--scrub-stack=no"], [clients.path("leak_stackpops")], workdir)
    assert stale.returncode == 0, stale
    kept = leak_helpers.parse(stale.stderr)
    assert [s[1] for s in kept.leak_summaries] == ["   definitely lost: 0 bytes in 0 blocks",
                                                   "   definitely lost: 280 bytes in 5 blocks"], stale


def test_big_blocks_pointers_found_in_touched_pages(clients, workdir):
    """leak_bigblock.c: the search skips the untouched pages of big blocks,
    never the ones holding pointers: the four small blocks stay reachable,
    only the 4 MiB block nothing points to is lost (by construction). Under
    load ld.so's relocation time can fall into the lost block and keep it
    (possibly) reachable, for memcheck too: such a run, which memcheck's
    run beside it does not match, runs again
    (leak_helpers.run_pair_without_timing_word)."""
    mt, _ = leak_helpers.run_pair_without_timing_word(FULL_ALL, [clients.path("leak_bigblock")], workdir)
    out = leak_helpers.parse(mt.stderr)
    lost = [r.headline.split(" in loss record")[0] for r in out.records if "definitely lost" in r.headline]
    assert lost == ["4,194,304 bytes in 1 blocks are definitely lost"], lost
    reachable = " ".join(r.headline for r in out.records if "still reachable" in r.headline)
    for n in (10, 20, 30, 40):
        assert re.search(rf"(^| ){n} bytes in 1 blocks are still reachable", reachable), (n, reachable)


def test_big_anonymous_roots_read_where_pages_hold_data(clients, workdir):
    """leak_bigroots.c: pointers in the only touched pages of a 64 MiB
    private anonymous mapping, and one in a page of a shared mapping that
    only a forked child wrote (not present in the process that searches).
    The search skips the untouched pages of big private anonymous roots and
    reads shared mappings whole, so memtrack's loss records and summaries
    are memcheck's (only the 50-byte block lost; a search that trusted
    the pagemap for the shared mapping would lose the 40-byte one too). The
    client counts the private mapping's present pages after a search:
    memcheck's reads map every page, memtrack's search leaves the untouched
    ones alone (3 touched; a transparent huge page could bring 512 with
    each)."""
    opts = FULL_ALL + ["--child-silent-after-fork=yes"]
    mt, mc = leak_helpers.run_pair(opts, [clients.path("leak_bigroots"), "count"], workdir)
    a, _ = leak_helpers.assert_same_leak_output(mt, mc, same_stdout=False)
    lost = [r.headline.split(" in loss record")[0] for r in a.records if "definitely lost" in r.headline]
    assert lost == ["50 bytes in 1 blocks are definitely lost"] * 2, lost

    def present(r):
        m = re.search(r"leak_bigroots: (\d+) of (\d+) pages", r.stdout)
        assert m, r.stdout
        return int(m.group(1)), int(m.group(2))
    (mt_n, total), (mc_n, _) = present(mt), present(mc)
    assert mc_n == total, f"memcheck's search mapped {mc_n} of {total} pages: the count does not see reads"
    assert mt_n <= 3 * 512, f"memtrack's search left {mt_n} of {total} pages present"


@pytest.mark.parametrize("limit", [None, "64"])
def test_max_stackframe_same_as_memcheck(clients, workdir, limit):
    """leak_maxframe.c leaves the only pointers to two blocks in stack freed
    by a 264-byte constant pop and by a 120-byte leave (which memtrack
    otherwise zeroes inline). Under the default limit both are deaths and
    both blocks are lost; with --max-stackframe=64 the core takes both moves
    for stack switches, memcheck marks nothing dead and keeps both blocks
    reachable, and memtrack must zero nothing there either. (With the small
    limit memcheck's bits go astray elsewhere, as its "client switching
    stacks?" warnings say, and it reports thousands of reads of undefined
    values, so there only the leak reports are compared.)"""
    opts = FULL_ALL + ([f"--max-stackframe={limit}"] if limit else [])
    mt, mc = leak_helpers.run_pair(opts, [clients.path("leak_maxframe")], workdir)
    a, b = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)
    if not limit:
        leak_helpers.assert_same_leak_output(mt, mc)
    else:
        assert [r.headline for r in a.records] == [r.headline for r in b.records], (mt, mc)
        assert a.leak_summaries == b.leak_summaries, (mt, mc)
    # The probe's search (the first one), run while the stashed words lie in
    # its frame; at exit that frame is gone too.
    kinds = {}
    for r in a.records:
        size, kind = r.headline.split(" bytes")[0], r.headline.split(" are ")[1].split(" in loss")[0]
        kinds.setdefault(size, kind)
    want = "still reachable" if limit else "definitely lost"
    assert kinds.get("40") == want and kinds.get("72") == want, kinds


@pytest.mark.parametrize("mode", ["summary", "full"])
def test_pointer_in_recycled_heap_same_as_memcheck(clients, workdir, mode):
    """leak_recycled.c leaves the only pointer to a block in a freed block
    whose memory the next malloc gets back under memtrack (its stdout says
    so) and never writes. memcheck never scans freed memory and keeps it
    from reuse, so the block is definitely lost; memtrack must say the same
    in both modes: it zero-fills new blocks whenever a leak search may run,
    the default --leak-check=summary included. (--freelist-vol=0 makes
    memtrack reuse freed memory at once in full mode too, where it would
    otherwise hold it back as memcheck does; memcheck, given it too, still
    never scans the freed block.)"""
    mt, mc = leak_helpers.run_pair([f"--leak-check={mode}", "--freelist-vol=0"], [clients.path("leak_recycled")],
                                   workdir)
    assert "took the freed one's place" in mt.stdout, mt
    leak_helpers.assert_same_leak_output(mt, mc, same_stdout=False)
    for out in (leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)):
        assert out.summary_numbers()["definitely lost"] == (24, 1), out.leak_summary


# memcheck's queue of freed blocks (--freelist-vol, --freelist-big-blocks),
# which memtrack keeps with --leak-check=full: (options, leak_freed_queue's
# argument, what it prints under both tools). See the client for each case.
FREED_QUEUE = [
    ([], None, "new address"),
    # memcheck's warning: big blocks above the (default) volume mean nothing.
    (["--freelist-big-blocks=30000000"], None, "new address"),
    (["--freelist-vol=0"], None, "same address"),
    (["--freelist-vol=2000000"], None, "new address"),
    (["--freelist-vol=2000000", "--freelist-big-blocks=10000000"], None, "same address"),
    (["--freelist-vol=2000000", "--freelist-big-blocks=10000000"], "direct", "new address"),
]


@pytest.mark.parametrize("opts,arg,printed", FREED_QUEUE,
                         ids=[" ".join(o + [a or ""]).strip() or "default" for o, a, _ in FREED_QUEUE])
def test_freed_block_queue_like_memcheck(opts, arg, printed, clients, workdir):
    """A pointer left to a freed block reaches a new block only if the
    freed memory left the queue in time: memtrack's queue must hold and
    release blocks as memcheck's does (volume, big blocks first, released
    when the next block is made), so the stale pointer finds the same
    block, or none, and the leak reports are the same. The pair is one
    where ld.so's relocation time, a root, points into no block or changed
    neither LEAK SUMMARY (leak_helpers.TIMING_WORD_CLIENTS)."""
    argv = [clients.path("leak_freed_queue")] + ([arg] if arg else [])
    mt, mc = leak_helpers.run_pair_without_timing_word(["--leak-check=full", "--show-leak-kinds=all", *opts],
                                                       argv, workdir)
    assert printed in mc.stdout, mc
    leak_helpers.assert_same_leak_output(mt, mc)
    nums = leak_helpers.parse(mt.stderr).summary_numbers()
    reached = printed == "same address"
    assert (nums["definitely lost"][0] >= 40000) != reached, nums


def test_no_queue_below_full_search(clients, workdir):
    """The default --leak-check=summary keeps no queue (memory stays as
    lean as DHAT's): the freed block is reused at once and the stale
    pointer reaches the new block, where memcheck calls it lost
    (docs/manual.md, section 4). Asking for memcheck's queue with
    --freelist-vol brings memcheck's answer back."""
    exe = clients.path("leak_freed_queue")
    # Runs where ld.so's relocation time points into no block: memcheck's
    # 40 KB block is then definitely lost (leak_helpers.TIMING_WORD_CLIENTS).
    mt, mc = leak_helpers.run_pair_without_timing_word([], [exe], workdir, same_summary=False)
    assert "same address" in mt.stdout and "new address" in mc.stdout, (mt.stdout, mc.stdout)
    assert leak_helpers.parse(mt.stderr).summary_numbers()["definitely lost"][0] < 40000, mt
    assert leak_helpers.parse(mc.stderr).summary_numbers()["definitely lost"][0] >= 40000, mc
    mt, mc = leak_helpers.run_pair_without_timing_word(["--freelist-vol=20000000"], [exe], workdir, mc_opts=[])
    assert "new address" in mt.stdout, mt.stdout
    leak_helpers.assert_same_leak_output(mt, mc)
