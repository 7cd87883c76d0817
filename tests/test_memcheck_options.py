"""memcheck's options that a memcheck command line may carry, run under
memtrack unchanged: --malloc-fill and --free-fill (memcheck's
malloc_free_fill and clireq_nofill cases), --keep-stacktraces in the leak
report, and the options for checks memtrack does not make (definedness,
accesses, xtree leak files), which are taken with one line saying they
have no effect. memcheck is the oracle throughout: the program's own output
with the fills, the leak report, which values are refused (exit status 1;
memtrack says why in one line)."""
import re

import pytest

import helpers
import leak_helpers
import profile_helpers as ph

FILLS = ["--malloc-fill=0x55", "--free-fill=0x77"]


def _runs_both(opts, argv, workdir, **kw):
    return leak_helpers.run_pair(opts, argv, workdir, **kw)


# ---------------------------------------------------------------------------
# --malloc-fill, --free-fill


@pytest.mark.parametrize("opts", [FILLS, FILLS + ["--leak-check=full"], ["--malloc-fill=ab"],
                                  ["--free-fill=0", "--leak-check=full"]],
                         ids=["fills", "fills-full", "malloc-only", "free-only-full"])
def test_fills_like_memcheck(opts, clients, workdir):
    """Fresh malloc'd blocks of every allocator hold the --malloc-fill byte,
    calloc's zeros, freed blocks (read back through dangling pointers) the
    --free-fill byte, a realloc the old bytes, the fill in its grown part and
    the free fill in the old block; blocks of custom allocators are never
    filled, a malloc'd block freed by FREELIKE_BLOCK is. The program prints
    what it reads: its output is memcheck's. (With --leak-check=full memtrack
    also zeroes recycled blocks for its leak search: the fill wins.)"""
    argv = [clients.path("heap_fill"), "heap", "custom"]
    mt, mc = _runs_both(opts, argv, workdir)
    assert mc.returncode == 0, mc
    assert mt.returncode == 0, mt
    assert mt.stdout == mc.stdout, leak_helpers._diff("the program's output", mt.stdout.splitlines(),
                                                      mc.stdout.splitlines())
    # What the comparison is about: the fill bytes are in memcheck's output.
    lines = dict(re.findall(r"^(\S.*?|  \S.*?)\s{2,}(\S.*)$", mc.stdout, re.M))
    malloc_fill = next((o.split("=")[1] for o in opts if o.startswith("--malloc-fill=")), None)
    free_fill = next((o.split("=")[1] for o in opts if o.startswith("--free-fill=")), None)
    if malloc_fill:
        b = "%02x" % int(malloc_fill, 16)
        assert lines["malloc(40)"] == f"{b} {b} {b}", mc.stdout
        assert lines["  grown part"] == f"{b} {b} {b}", mc.stdout
    if free_fill:
        b = "%02x" % int(free_fill, 16)
        assert lines["  old block"] == f"{b} {b} {b}", mc.stdout
    assert lines["calloc(10, 4)"] == "00 00 00", mc.stdout
    assert lines["MALLOCLIKE_BLOCK"] == lines["FREELIKE_BLOCK"] == "06 06 06", mc.stdout


FILL_VALUES = ["zz", "0x100", "-1", "0x1FF", "55 ", "0x", "ab", "0XAB", "+7f", ""]


@pytest.mark.parametrize("value", FILL_VALUES)
@pytest.mark.parametrize("name", ["malloc-fill", "free-fill"])
def test_fill_values_like_memcheck(name, value, workdir):
    """memcheck's parse, quirks included: hexadecimal with or without 0x,
    a sign, 0 to 0xFF; an empty value is 0 there, so here. A refused value
    stops both before the program runs; memtrack says so in one line."""
    opt = f"--{name}={value}"
    mt, mc = _runs_both([opt], ["/usr/bin/touch", "marker"], workdir)
    assert mt.returncode == mc.returncode, (mt, mc)
    if mc.returncode:
        assert mc.returncode == 1
        lines = [l for l in mt.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"valgrind: Bad option: {opt}"), mt
        assert not (workdir / "marker").exists()
    else:
        assert (workdir / "marker").exists()


# ---------------------------------------------------------------------------
# --keep-stacktraces in the leak report


@pytest.mark.parametrize("mode", ["none", "free", "alloc-then-free", "alloc"])
@pytest.mark.parametrize("client", ["leak_cases", "custom_blocks leaks"])
def test_keep_stacktraces_leak_report_like_memcheck(mode, client, clients, workdir):
    """A loss record's stack is the allocation stack the mode keeps for a
    live block: none and free keep none, so every block of a kind falls in
    one record whose stack is the null one; the others keep it. The leak
    report is memcheck's (the profile's sites are not affected: they always
    have allocation stacks)."""
    name, *args = client.split()
    opts = ["--leak-check=full", "--show-leak-kinds=all", f"--keep-stacktraces={mode}"]
    mt, mc = _runs_both(opts, [clients.path(name), *args], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert b.exit_records, mc
    null = [r for r in b.exit_records if r.frames == ["   at 0x?: ???"]]
    if mode in ("none", "free"):
        assert null == b.exit_records
        assert len({r.kind for r in b.exit_records}) == len(b.exit_records)
    else:
        assert not null


@pytest.mark.parametrize("mode", ["none", "free"])
def test_profile_keeps_allocation_sites(mode, clients, workdir):
    """The modes that show no allocation stacks leave the DHAT profile
    alone: its sites, with their totals, are DHAT's."""
    argv = [clients.path("leak_cases")]
    mt, mt_path = ph.run_memtrack([f"--keep-stacktraces={mode}"], argv, workdir)
    dh, dh_path = ph.run_dhat([], argv, workdir)
    assert mt.returncode == dh.returncode == 0, (mt, dh)
    mine, theirs = ph.group_sites(ph.load(mt_path)), ph.group_sites(ph.load(dh_path))
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        for k in ("tb", "tbk"):
            assert sum(pp[k] for pp in mine[key]) == sum(pp[k] for pp in theirs[key]), (key, k)
    assert any(any("mk (leak_cases.c:" in f for f in key) for key in theirs), list(theirs)


def test_keep_stacktraces_values_like_memcheck(workdir):
    for value in ["alloc", "free", "none", "alloc-then-free", "alloc-and-free", "bogus", "", "Alloc"]:
        opt = f"--keep-stacktraces={value}"
        mt, mc = _runs_both([opt], ["/usr/bin/true"], workdir)
        assert mt.returncode == mc.returncode, (mt, mc)
        if mc.returncode:
            lines = [l for l in mt.stderr.splitlines() if l.strip()]
            assert len(lines) == 1 and opt in lines[0], mt


# ---------------------------------------------------------------------------
# memcheck's options for checks memtrack does not make

NOTE = re.compile(r"^==\d+== memtrack does not (check definedness|check memory accesses|write xtree leak files): "
                  r"(.*) (has|have) no effect$", re.M)

# (options, the notes memtrack prints: (what it does not do, the options named))
NOTED = [
    (["--track-origins=yes"], [("check definedness", "--track-origins=yes")]),
    (["--undef-value-errors=yes"], [("check definedness", "--undef-value-errors=yes")]),
    (["--partial-loads-ok=no"], [("check definedness", "--partial-loads-ok=no")]),
    (["--expensive-definedness-checks=yes"], [("check definedness", "--expensive-definedness-checks=yes")]),
    (["--expensive-definedness-checks=no", "--track-origins=yes"],
     [("check definedness", "--track-origins=yes, --expensive-definedness-checks=no")]),
    (["--track-origins=yes", "--track-origins=no"], []),
    (["--undef-value-errors=no"], []),
    (["--partial-loads-ok=yes", "--expensive-definedness-checks=auto", "--workaround-gcc296-bugs=no",
      "--xtree-leak=no"], []),
    (["--workaround-gcc296-bugs=yes"], [("check memory accesses", "--workaround-gcc296-bugs=yes")]),
    (["--ignore-ranges=0x1000-0x2000", "--ignore-range-below-sp=1024-1000"],
     [("check memory accesses", "--ignore-ranges=0x1000-0x2000, --ignore-range-below-sp=1024-1000")]),
    (["--xtree-leak=yes", "--track-origins=yes"],
     [("check definedness", "--track-origins=yes"), ("write xtree leak files", "--xtree-leak=yes")]),
    (["--xtree-leak-file=x.kcg"], [("write xtree leak files", "--xtree-leak-file=x.kcg")]),
]


@pytest.mark.parametrize("opts,notes", NOTED, ids=[" ".join(o) for o, _ in NOTED])
def test_ignored_options_are_taken_with_one_note(opts, notes, workdir):
    """memcheck takes them; so does memtrack, and the program runs. Each
    group of options asking for something memtrack cannot do is named once,
    in one line; with -q nothing is said."""
    mt, mc = _runs_both(opts, ["/usr/bin/touch", "marker"], workdir)
    assert mc.returncode == 0, mc
    assert mt.returncode == 0, mt
    assert [(m[0], m[1]) for m in NOTE.findall(mt.stderr)] == notes, mt
    quiet = helpers.run_memtrack(["-q", *opts], ["/usr/bin/touch", "marker"], workdir)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet


IGNORED_BAD = ["--track-origins=maybe", "--track-origins=", "--undef-value-errors=1", "--partial-loads-ok=x",
               "--expensive-definedness-checks=x", "--expensive-definedness-checks=", "--workaround-gcc296-bugs=x",
               "--xtree-leak=x", "--track-origins", "--undef-value-errors",
               "--undef-value-errors=no --track-origins=yes", "--track-origins=yes --undef-value-errors=no"]


@pytest.mark.parametrize("opts", IGNORED_BAD)
def test_ignored_options_bad_values_like_memcheck(opts, workdir):
    """Values memcheck refuses, memtrack refuses: exit status 1 before the
    program runs, one line naming the option (the last one given, where
    --undef-value-errors=no and --track-origins=yes meet, as memcheck)."""
    opts = opts.split()
    mt, mc = _runs_both(opts, ["/usr/bin/touch", "marker"], workdir)
    assert mc.returncode == 1, mc
    assert mt.returncode == 1, mt
    lines = [l for l in mt.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, mt
    assert re.match(rf"^valgrind: (Bad|Unknown) option: {re.escape(opts[-1])}", lines[0]), mt
    assert re.search(rf"Bad option: {re.escape(opts[-1])}", mc.stderr) or \
        re.search(rf"Unknown option: {re.escape(opts[-1])}", mc.stderr), mc
    assert not (workdir / "marker").exists()


@pytest.mark.parametrize("mode", ["meta-0", "meta-1", "meta-2", "meta-4", "meta-6"])
def test_leak_autofreepool_with_track_origins(mode, clients, workdir):
    """memcheck's leak-autofreepool tests run with --track-origins=yes:
    under memtrack they run too, say once that the option has no effect,
    and the leak report is memcheck's."""
    opts = ["--leak-check=full", "--show-possibly-lost=no", "--track-origins=yes"]
    mt, mc = _runs_both(opts, [clients.path("custom_pools"), mode], workdir)
    notes = NOTE.findall(mt.stderr)
    assert [(m[0], m[1]) for m in notes] == [("check definedness", "--track-origins=yes")], mt
    mt.stderr = NOTE.sub("", mt.stderr)
    leak_helpers.assert_same_leak_output(mt, mc)
