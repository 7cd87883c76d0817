"""The massif-format file with memcheck's queue of freed blocks on
(--leak-check=full, whose --freelist-vol is 20,000,000): the queue holds
freed blocks in the client arena, which changes which free blocks the
arena has and so how much slop (usable minus asked) later blocks get;
massif's arena has no queue. The extra bytes come from mt_arena_model, a
simulation of the arena without the queue, so the file must still be
massif's, snapshot for snapshot (the installed massif is the oracle, run
as test_massif_out.py runs it, with --time-unit=B so that both clocks
count the same bytes).

The model's self-check (--arena-model-check=yes, a debugging option) runs
the model beside the real arena with the queue off and stops at the first
block the two place differently: it must pass on real programs and on
threads, aligned allocations, realloc and blocks of several MiB.
"""
import re

import pytest

import helpers
import workloads
from test_massif_out import figures, peak_of, read_massif, trees


def run_both(argv, workdir, opts, env=None, stdin=None, queue=("--leak-check=full",)):
    """massif and memtrack with the same massif options (--time-unit=B
    and opts); memtrack also gets queue, the options that turn memcheck's
    queue of freed blocks on. Returns the two parsed files."""
    ms_out, mt_out = workdir / "queue.massif.out", workdir / "queue.memtrack.out"
    ms = helpers.run_tool("massif", ["--stacks=no", f"--massif-out-file={ms_out}", "--time-unit=B", *opts], argv,
                          workdir, env=env, stdin=stdin)
    mt = helpers.run_memtrack([f"--massif-out-file={mt_out}", "--time-unit=B", *queue, *opts], argv, workdir, env=env,
                              stdin=stdin)
    assert ms.returncode == 0, f"massif failed: {ms!r}"
    assert mt.returncode == 0, mt
    assert mt.stdout == ms.stdout, "the program behaved differently under memtrack and massif"
    return read_massif(ms_out, allow_hash=True), read_massif(mt_out)


def _same_as_massif(ms, mt):
    assert figures(mt) == figures(ms)
    assert trees(mt) == trees(ms)


def test_designed_slop_is_massifs(clients, workdir):
    """arena_slop slop: 1,000 freed 64-byte blocks, then 1,000 blocks of 48
    bytes. Without a queue each gets a freed block whole (16 spare bytes
    are too few to split off); with it they would be cut exactly from
    fresh memory, 16,000 bytes less extra at the peak."""
    ms, mt = run_both([clients.path("arena_slop"), "slop", "1000"], workdir, [])
    # The pattern does what it is for: massif's peak counts the slop
    # (2,001 blocks' heap-admin, the 48-byte blocks' 16 bytes each).
    assert peak_of(ms)["extra"] == 2001 * 8 + 1000 * 16
    _same_as_massif(ms, mt)


@pytest.mark.parametrize("queue", [
    ["--leak-check=full"],
    # A queue that fills up: blocks leave it (big ones first) while the
    # program runs, so the real arena reuses some of them late.
    ["--freelist-vol=100000", "--freelist-big-blocks=1000"],
], ids=["default-queue", "small-queue"])
def test_mix_is_massifs(queue, clients, workdir):
    """A long mix of malloc, calloc, free, realloc, memalign and co. and
    blocks of 1 to 9 MiB (unsplittable superblocks)."""
    ms, mt = run_both([clients.path("arena_slop"), "mix"], workdir, [], queue=queue)
    assert len(mt["snapshots"]) > 20
    _same_as_massif(ms, mt)


REAL = ["xz", "jq", "groff", "tar", "mawk", "sort"]


def _real(name, workdir):
    if name in workloads.ALL:
        return workloads.make(name, str(workdir / "inputs"), scale=1)
    if name == "sort":
        workloads.extra("mawk", str(workdir / "inputs"))  # writes "numbers"
        return {"name": "sort", "argv": ["/usr/bin/sort", "-n", "-r", "numbers"], "env": {}, "stdin": None}
    return workloads.extra(name, str(workdir / "inputs"))


@pytest.mark.parametrize("name", REAL)
def test_real_program_is_massifs(name, workdir):
    """Real programs with the queue on: every snapshot, the peak and the
    trees are massif's."""
    w = _real(name, workdir)
    helpers.require_program(w["argv"][0])
    ms, mt = run_both(w["argv"], workdir / "inputs", ["--num-callers=40"], env=w["env"], stdin=w["stdin"])
    _same_as_massif(ms, mt)


def test_sqlite3_peak_is_massifs(workdir):
    """sqlite3 with the queue on: the peak snapshot is massif's (late in
    its run sqlite3 grows blocks within their slop, which massif keeps in
    place and memtrack moves, queue or not: test_massif_out.py)."""
    w = workloads.make("sqlite3", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    ms, mt = run_both(w["argv"], workdir, ["--num-callers=40"], env=w["env"], stdin=w["stdin"])
    pm, pt = peak_of(ms), peak_of(mt)
    assert (pt["time"], pt["heap"], pt["extra"]) == (pm["time"], pm["heap"], pm["extra"])
    assert pt["tree"].shape() == pm["tree"].shape()


# ---------------------------------------------------------------------------
# The self-check

_CHECKED = re.compile(r"memtrack: arena model check: ([\d,]+) allocations placed as the real arena placed them")


def _self_check(argv, cwd, env=None, stdin=None):
    r = helpers.run_memtrack(["--arena-model-check=yes", "--stats=yes", "--leak-check=full"], argv, cwd, env=env,
                             stdin=stdin)
    assert "ARENA MODEL CHECK FAILED" not in r.stderr
    assert r.returncode == 0, r
    m = _CHECKED.search(r.stderr)
    assert m, "no self-check line in --stats"
    return int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("mode", ["slop", "mix", "threads"])
def test_self_check_on_the_client(mode, clients, workdir):
    assert _self_check([clients.path("arena_slop"), mode], workdir) > 2000


@pytest.mark.parametrize("name", ["sqlite3", "python3", "jq", "groff"])
def test_self_check_on_real_programs(name, workdir):
    w = _real(name, workdir)
    helpers.require_program(w["argv"][0])
    assert _self_check(w["argv"], workdir / "inputs", env=w["env"], stdin=w["stdin"]) > 100


@pytest.mark.parametrize("opts", [["--arena-model-check=yes", "--freelist-vol=1000"],
                                  ["--freelist-vol=1000", "--arena-model-check=yes"]], ids=["check-first", "vol-first"])
def test_self_check_needs_the_queue_off(opts, clients, workdir):
    """It compares with the real arena, which the queue reshapes: an
    explicit queue is refused in one line before the program runs."""
    r = helpers.run_memtrack(opts, [clients.path("arena_slop")], workdir)
    assert r.returncode == 1
    assert f"Bad option: {opts[1]}:" in r.stderr and "--freelist-vol=0" in r.stderr
    assert len([l for l in r.stderr.splitlines() if l.strip()]) == 1, r.stderr


@pytest.mark.parametrize("arg", ["--arena-model-check=maybe", "--arena-model-check"])
def test_self_check_bad_value(arg, workdir):
    r = helpers.run_memtrack([arg], ["/bin/true"], workdir)
    assert r.returncode == 1
    assert f"Bad option: {arg}:" in r.stderr
    assert len([l for l in r.stderr.splitlines() if l.strip()]) == 1, r.stderr


def test_self_check_is_a_debugging_option(workdir):
    r = helpers.run_memtrack(["--help-debug"], [], workdir)
    assert "--arena-model-check=no|yes" in r.stdout
    r = helpers.run_memtrack(["--help"], [], workdir)
    assert "--arena-model-check" not in r.stdout
