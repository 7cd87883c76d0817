"""Real programs under --leak-check=full, memtrack against memcheck: the
HEAP SUMMARY, every loss record (all kinds shown), the LEAK SUMMARY and the
ERROR SUMMARY must be memcheck's.

Python runs with PYTHONMALLOC=malloc (every object through malloc) and
PYTHONHASHSEED=0. Its allocation count depends on what its stdio is (a
pipe, a file, /dev/null) and, for files, on the offset at which it finds
them, which differs between the tools because their banners differ; the
suite always hands both tools pipes, where the counts are the same.
"""
import re

import pytest

import helpers
import leak_helpers
import workloads

FULL_ALL = ["--leak-check=full", "--show-leak-kinds=all"]

SMALL_JSON = '{"a": [1, 2, {"b": "c", "d": [true, false, null]}], "e": 1.5, "f": "' + "x" * 200 + '"}\n'


def _prepare(workdir):
    (workdir / "small.json").write_text(SMALL_JSON)
    (workdir / "small").write_text("".join(f"line {i} of a small file for xz\n" for i in range(200)))


PROGRAMS = {
    "python3": (["/usr/bin/python3", "-c", "pass"], {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}),
    "sqlite3": (["/usr/bin/sqlite3", ":memory:", "select 1"], None),
    "jq": (["/usr/bin/jq", ".", "small.json"], None),
    "xz": (["/usr/bin/xz", "-c", "small"], None),
}


# The LEAK SUMMARY categories memcheck must find non-empty in each of
# workloads.EXTRA_PROGRAMS, so that the comparison is known to cover them:
#   perl: a hash of 2,000 array refs; perl frees little at exit, so every
#     category but still reachable is there, possibly lost by the hundred
#     (interior pointers into its arenas);
#   mawk: possibly lost blocks (pointers past a header into its own pools);
#   tar: old-style options ("cf") are rewritten into a new argument vector
#     that tar drops: a definitely lost block holding the only pointers to
#     two others;
#   bash: hundreds of still reachable blocks (variables, hash tables);
#   groff: hundreds of definitely lost blocks, one of which a stale pointer
#     (strtok's saved position in a freed line buffer) would reach if the
#     freed memory were reused at once (memtrack keeps memcheck's queue of
#     freed blocks with --leak-check=full; test_leak_cases.py tests the queue);
#   sed and grep: possibly lost blocks (pointers into the middle of their
#     compiled patterns' blocks) beside still reachable ones;
#   sort: a definitely lost block (its size follows the arguments);
#   find: still reachable blocks only (fts's directory buffers).
NON_EMPTY = {
    "perl": ["definitely lost", "indirectly lost", "possibly lost"],
    "mawk": ["possibly lost", "still reachable"],
    "tar": ["definitely lost", "indirectly lost"],
    "bash": ["still reachable"],
    "groff": ["definitely lost", "still reachable"],
    "sed": ["possibly lost", "still reachable"],
    "grep": ["possibly lost", "still reachable"],
    "sort": ["definitely lost", "still reachable"],
    "find": ["still reachable"],
}


@pytest.mark.parametrize("name", workloads.EXTRA_PROGRAMS)
def test_more_programs_like_memcheck(name, workdir):
    w = workloads.extra(name, str(workdir))
    helpers.require_program(w["argv"][0])
    mt, mc = leak_helpers.run_pair(FULL_ALL, w["argv"], workdir, env=w["env"])
    assert mc.returncode == 0, mc
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    found = b.summary_numbers()
    for kind in NON_EMPTY[name]:
        assert found.get(kind, (0, 0))[1] > 0, f"memcheck found no {kind} blocks in {name}: {found}"


def _moved_to_possibly(a, b):
    """(bytes, blocks) that memtrack's LEAK SUMMARY a calls possibly lost
    where memcheck's b calls them definitely lost; asserts that b has no
    possibly lost blocks and that nothing else differs."""
    assert b["possibly lost"] == (0, 0), b
    moved = a["possibly lost"]
    assert a["definitely lost"] == (b["definitely lost"][0] - moved[0], b["definitely lost"][1] - moved[1]), (a, b)
    for kind in ("indirectly lost", "still reachable"):
        assert a[kind] == b[kind], (kind, a, b)
    return moved


# PATH lengths for groff: the lost block holding GROFF_BIN_PATH + ":" + PATH
# grows with k, and lands in the freed line buffer for some sizes only.
GROFF_PATH_PADS = range(0, 32, 4)


def test_groff_needs_the_freed_block_queue(workdir):
    """What groff checks, over a range of PATH lengths: glibc's strtok keeps
    its position in a line buffer that groff frees, and groff loses a block
    holding GROFF_BIN_PATH + ":" + PATH. With memcheck's queue of freed
    blocks (--leak-check=full) memtrack's LEAK SUMMARY is memcheck's at
    every length. Without it (--freelist-vol=0) the lost block takes the
    buffer's place whenever its size fits there; the stale pointer then
    makes it possibly lost where memcheck says definitely lost, and nothing
    else differs (docs/manual.md, section 4, "Freed memory"). The whole
    environment is fixed (workloads.groff_env), so the lengths at which
    that happens are the same on every machine with Debian 12's groff."""
    w = workloads.extra("groff", str(workdir))
    helpers.require_program(w["argv"][0])
    moved_at = {}
    for k in GROFF_PATH_PADS:
        env = workloads.groff_env(k)
        mt, mc = leak_helpers.run_pair(FULL_ALL, w["argv"], workdir, env=env)
        a, b = leak_helpers.parse(mt.stderr).summary_numbers(), leak_helpers.parse(mc.stderr).summary_numbers()
        assert a == b, (k, a, b)
        without = helpers.run_memtrack(FULL_ALL + ["--freelist-vol=0"], w["argv"], workdir, env=env)
        moved = _moved_to_possibly(leak_helpers.parse(without.stderr).summary_numbers(), b)
        assert moved[1] <= 1, (k, moved)
        if moved[1]:
            moved_at[k] = moved
    # Some lengths and not others: the block's size decides, not the queue's absence alone.
    assert 0 < len(moved_at) < len(GROFF_PATH_PADS), moved_at


def test_groff_under_the_summary_mode(workdir):
    """The default --leak-check=summary keeps no queue of freed blocks and
    does not scrub dead stack (docs/manual.md, section 4): on groff its
    LEAK SUMMARY may call blocks possibly lost that memcheck calls
    definitely lost, stale pointers reaching them, and nothing else may
    differ."""
    w = workloads.extra("groff", str(workdir))
    helpers.require_program(w["argv"][0])
    mt, mc = leak_helpers.run_pair([], w["argv"], workdir, env=w["env"])
    _moved_to_possibly(leak_helpers.parse(mt.stderr).summary_numbers(),
                       leak_helpers.parse(mc.stderr).summary_numbers())


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_like_memcheck(name, workdir):
    argv, env = PROGRAMS[name]
    helpers.require_program(argv[0])
    _prepare(workdir)
    mt, mc = leak_helpers.run_pair(FULL_ALL, argv, workdir, env=env)
    assert mc.returncode == 0, mc
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert helpers.parse_error_summary(mt.stderr)["errors"] == 0


def test_program_default_options_like_memcheck(workdir):
    """The default --leak-check=summary on a program that ends with blocks
    still allocated."""
    helpers.require_program("/usr/bin/jq")
    _prepare(workdir)
    mt, mc = leak_helpers.run_pair([], ["/usr/bin/jq", ".", "small.json"], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert a.leak_summary is not None


_RAW_FRAME = re.compile(r"^   (?:at|by) (0x[0-9A-F]+): (\S+)(.*)$")
_OBJECT = re.compile(r"\(in (\S+)\)$")


def _records_by_first_two_frames(stderr, shifts=None):
    """{(kind, allocating function, caller): [bytes, blocks, records]} from
    the exit loss records, raw: the allocating function's address is left
    out (each tool has its own preload). The caller is its function and
    source line or object, or for a frame without a name ('???') its
    address: a shared library may load at another address under each tool
    (the preloads differ in size), so shifts maps such a library to what to
    add to this run's addresses in it (_library_shifts)."""
    lines = helpers.client_lines(stderr)
    out = {}
    for i, l in enumerate(lines):
        m = leak_helpers.LOSS_RECORD.match(l)
        if not m:
            continue
        f1, f2 = _RAW_FRAME.match(lines[i + 1]), _RAW_FRAME.match(lines[i + 2])
        assert f1 and f2, lines[i:i + 3]
        if f2[2] != "???":
            caller = f2[2] + f2[3]  # function and source line or object
        else:
            addr = int(f2[1], 16)
            obj = _OBJECT.search(f2[3])
            if shifts and obj:
                addr += shifts.get(obj[1], 0)
            caller = hex(addr)
        key = (m["kind"], f1[2], caller)
        got = out.setdefault(key, [0, 0, 0])
        got[0] += int(m["total"].replace(",", ""))
        got[1] += int(m["blocks"].replace(",", ""))
        got[2] += 1
    return out


def _library_shifts(mine, theirs):
    """{library: shift} that moves memtrack's caller addresses in each
    shared library onto memcheck's: the difference that lines up the most
    addresses (a library moves as a whole). Libraries at the same place
    under both tools get 0."""
    def by_object(stderr):
        out = {}
        for l in helpers.client_lines(stderr):
            f = _RAW_FRAME.match(l)
            obj = f and _OBJECT.search(f[3])
            if obj:
                out.setdefault(obj[1], set()).add(int(f[1], 16))
        return out
    a, b = by_object(mine), by_object(theirs)
    shifts = {}
    for obj in a.keys() & b.keys():
        votes = {}
        for x in a[obj]:
            for y in b[obj]:
                votes[y - x] = votes.get(y - x, 0) + 1
        shifts[obj] = max(votes, key=lambda d: (votes[d], -abs(d)))
    return shifts


@pytest.mark.parametrize("name", ["perl", "mawk"])
def test_low_resolution_merges_as_documented(name, workdir):
    """--leak-resolution=low (docs/manual.md, section 12): memtrack puts all
    blocks whose stacks match in their first 2 frames in one record, where
    memcheck sometimes keeps two (its record tree's order is not
    consistent at low resolution). The LEAK SUMMARY is memcheck's, and
    memcheck's records, grouped by their first 2 frames, add up to
    memtrack's. On both programs memcheck does split some records, so the
    test covers the difference it documents."""
    w = workloads.extra(name, str(workdir))
    helpers.require_program(w["argv"][0])
    mt, mc = leak_helpers.run_pair(["--leak-check=full", "--show-leak-kinds=all", "--leak-resolution=low"],
                                   w["argv"], workdir, env=w["env"])
    assert mc.returncode == 0 and mt.returncode == 0, (mt, mc)
    a, b = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)
    assert a.leak_summaries == b.leak_summaries
    shifts = _library_shifts(mt.stderr, mc.stderr)
    mine, theirs = _records_by_first_two_frames(mt.stderr, shifts), _records_by_first_two_frames(mc.stderr)
    assert all(n == 1 for _, _, n in mine.values()), {k: v for k, v in mine.items() if v[2] > 1}
    assert {k: v[:2] for k, v in mine.items()} == {k: v[:2] for k, v in theirs.items()}
    assert any(n > 1 for _, _, n in theirs.values()), "memcheck merged every record here too"
