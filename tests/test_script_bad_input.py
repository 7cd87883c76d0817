"""Bad input to every script (memtrack_print, memtrack_diff, memtrack_report,
memtrack_export, memtrack_merge):
one line on standard error, "SCRIPT: error: ...", exit status 2, nothing on
standard output and no file written (memtrack_report leaves neither its
page nor a temporary file).

The three read their files with the same readers (scripts/memtrack_lib),
so each case of tests/script_inputs.py must give the same words from each
script, whichever place the file has on its command line (both sides of
memtrack_diff). A file cut anywhere is "truncated", except a massif file
cut between two snapshots, which is a shorter valid one. The bad options
are each script's own; memtrack_diff's checks of two profiles against each
other (modes, figures a threshold needs) are in test_script_diff.py."""
import re

import pytest

import helpers
import script_inputs as inputs

pytestmark = pytest.mark.version_independent

PYTHON = "/usr/bin/python3"
SCRIPTS = ("memtrack_print", "memtrack_diff", "memtrack_report", "memtrack_export", "memtrack_merge")
GOOD = "<good profile>"  # in an argv below: the run's good profile

# The ways a script is given a profile to read (BAD: the file of the case).
BAD = "<bad file>"
PROFILE_READERS = {
    "print": ("memtrack_print", [BAD]),
    "diff-base": ("memtrack_diff", [BAD, GOOD, "--max-growth=10%"]),
    "diff-new": ("memtrack_diff", [GOOD, BAD, "--max-growth=10%"]),
    "report": ("memtrack_report", [BAD]),
    "export": ("memtrack_export", ["--format=callgrind", BAD]),
    "merge": ("memtrack_merge", [GOOD, BAD]),
}
# ... and a massif-format file.
MASSIF_READERS = {
    "print": ("memtrack_print", [GOOD, "--massif", BAD]),
    "report": ("memtrack_report", [GOOD, "--massif", BAD]),
}
# Bad options: (script, argv, words of the error line).
BAD_OPTIONS = [
    ("memtrack_print", ["--top=-1", GOOD], "--top"),
    ("memtrack_print", ["--top=x", GOOD], "--top"),
    ("memtrack_print", ["--sort=sideways", GOOD], "--sort"),
    ("memtrack_print", ["--frames=1.5", GOOD], "--frames"),
    ("memtrack_print", ["--x=3", GOOD], "--x"),
    ("memtrack_print", ["--y=1001", GOOD], "--y"),
    ("memtrack_print", ["--leak-kinds=lost", GOOD], "--leak-kinds"),
    ("memtrack_print", ["--sections=graph,footer", GOOD], "--sections"),
    ("memtrack_print", ["--short-lived=soon", GOOD], "--short-lived"),
    ("memtrack_print", ["--format=xml", GOOD], "--format"),
    ("memtrack_print", ["--bogus", GOOD], "--bogus"),
    ("memtrack_print", ["--growth-min=big", GOOD], "--growth-min"),
    ("memtrack_print", ["--max-site-growth=5%", GOOD], "--max-site-growth needs --growth"),
    ("memtrack_print", ["--growth", "--max-site-growth=5", GOOD], "say 5%"),
    ("memtrack_print", [GOOD, GOOD], "only with --growth"),
    ("memtrack_print", ["--growth", GOOD], "--growth needs a series"),
    ("memtrack_diff", [GOOD, GOOD, "--max-growth=ten%"], "--max-growth"),
    ("memtrack_diff", [GOOD, GOOD, "--max-growth=10"], "say 10%"),
    ("memtrack_diff", [GOOD, GOOD, "--max-growth=-5%"], "--max-growth"),
    ("memtrack_diff", [GOOD, GOOD, "--max-peak=64XB"], "--max-peak"),
    ("memtrack_diff", [GOOD, GOOD, "--max-peak=-1"], "--max-peak"),
    ("memtrack_diff", [GOOD, GOOD, "--max-new-leaks=lots"], "--max-new-leaks"),
    ("memtrack_diff", [GOOD, GOOD, "--growth-of=heap"], "--growth-of"),
    ("memtrack_diff", [GOOD, GOOD, "--depth=-1"], "--depth"),
    ("memtrack_diff", [GOOD, GOOD, "--match=lines"], "--match"),
    ("memtrack_diff", [GOOD, GOOD, "--sort=size"], "--sort"),
    ("memtrack_diff", [GOOD, GOOD, "--top=1e3"], "--top"),
    ("memtrack_diff", [GOOD, GOOD, "--leak-kinds=leaky"], "--leak-kinds"),
    ("memtrack_diff", [GOOD, GOOD, "--bogus"], "--bogus"),
    ("memtrack_diff", [GOOD], "required"),
    ("memtrack_diff", [GOOD, GOOD, "--max-site-growth=10"], "say 10%"),
    ("memtrack_diff", [GOOD, GOOD, "--max-site-growth=-1%"], "--max-site-growth"),
    ("memtrack_merge", ["--top=x", GOOD], "--top"),
    ("memtrack_merge", ["--leak-limit=lots", GOOD], "--leak-limit"),
    ("memtrack_merge", ["--bogus", GOOD], "--bogus"),
    ("memtrack_merge", [], "required"),
    ("memtrack_merge", [GOOD, GOOD], "two profiles of one process"),
    ("memtrack_report", ["--top=-1", GOOD], "--top"),
    ("memtrack_report", ["--top=x", GOOD], "--top"),
    ("memtrack_report", ["--sort=sideways", GOOD], "--sort"),
    ("memtrack_report", ["--bogus", GOOD], "--bogus"),
    ("memtrack_report", [], "required"),
    ("memtrack_export", ["--format=svg", GOOD], "--format"),
    ("memtrack_export", [GOOD], "--format"),
    ("memtrack_export", ["--format=collapsed", "--metric=sideways", GOOD], "--metric"),
    ("memtrack_export", ["--format=collapsed", "--metric=reads-per-byte", GOOD], "--metric"),
    ("memtrack_export", ["--format=collapsed", "--leak-kinds=lost", GOOD], "--leak-kinds"),
    ("memtrack_export", ["--format=collapsed", "--leak-kinds=none", GOOD], "--leak-kinds"),
    ("memtrack_export", ["--format=pprof", "--bogus", GOOD], "--bogus"),
]


@pytest.fixture(scope="module")
def good_run(clients, tmp_path_factory):
    """tests/clients/peak.c under memtrack (leak search on) and under the
    real massif (time in bytes): the good files each case is made from."""
    d = tmp_path_factory.mktemp("good")
    exe = clients.path("peak")
    prof = d / "peak.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", "--leak-check=full"], [exe], d)
    assert r.returncode == 0 and prof.is_file(), r
    massif = d / "peak.massif"
    m = helpers.run_tool("massif", ["--time-unit=B", "--stacks=no",
                                    f"--massif-out-file={massif}"], [exe], d)
    assert m.returncode == 0, m
    return {"prof": prof, "massif": massif}


def run(script, argv, workdir):
    """The script on argv (memtrack_report writing its page into workdir)."""
    out = ["-o", workdir / "out.html"] if script == "memtrack_report" else []
    return helpers.run([PYTHON, helpers.REPO / "scripts" / script, *argv, *out], workdir)


def _argv(argv, good, bad=None):
    return [good if a == GOOD else bad if a == BAD else a for a in argv]


def bad(script, argv, workdir, *expect):
    """Runs the script, which must refuse: one line naming the problem,
    status 2, no output; returns the line."""
    before = sorted(workdir.iterdir())
    r = run(script, argv, workdir)
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r
    assert lines[0].startswith(f"{script}: error: "), r
    assert "Traceback" not in r.stderr
    for e in expect:
        assert e in lines[0], (e, lines[0])
    assert r.stdout == ""
    assert sorted(workdir.iterdir()) == before, "a refused run wrote a file"
    return lines[0]


# ---------------------------------------------------------------------------
# Profiles


@pytest.mark.parametrize("reader", list(PROFILE_READERS))
@pytest.mark.parametrize("case", list(inputs.PROFILE_CASES))
def test_bad_profile(case, reader, good_run, workdir):
    content, expect = inputs.PROFILE_CASES[case]
    script, argv = PROFILE_READERS[reader]
    path = workdir / "in.json"
    inputs.write_profile_case(path, content, good_run["prof"].read_text())
    line = bad(script, _argv(argv, good_run["prof"], path), workdir, expect)
    assert str(path) in line


def _readers():
    """scripts/memtrack_lib's readers, which every script reads its files
    with, imported here (the scripts import them the same way)."""
    import importlib
    import sys
    lib = str(helpers.REPO / "scripts")
    if lib not in sys.path:
        sys.path.insert(0, lib)
    return importlib.import_module("memtrack_lib.readers"), importlib.import_module("memtrack_lib.cli")


def test_every_cut_of_a_profile_is_truncated(good_run, workdir):
    """Whatever byte the profile stops at, the readers every script shares
    say it is truncated (in this process: a script per cut would be 400
    start-ups; test_a_cut_profile_through_each_script runs the scripts)."""
    readers, cli = _readers()
    good = good_run["prof"].read_bytes().rstrip()
    assert good.endswith(b"}")
    path = workdir / "cut.json"
    cuts = sorted({1, 2, len(good) - 1, *range(1, len(good), max(1, len(good) // 400))})
    assert len(cuts) > 300
    for n in cuts:
        path.write_bytes(good[:n])
        with pytest.raises(cli.InputError) as e:
            readers.load_profile(str(path))
        assert "truncated memtrack profile" in str(e.value) and "\n" not in str(e.value), (n, e.value)
    path.write_bytes(good)
    readers.load_profile(str(path))  # the whole file is read


@pytest.mark.parametrize("reader", ["print", "diff-new", "report", "export"])
def test_a_cut_profile_through_each_script(reader, good_run, workdir):
    """The readers' error, through each script: one line, status 2, at the
    first byte, the middle and the last."""
    script, argv = PROFILE_READERS[reader]
    good = good_run["prof"].read_bytes().rstrip()
    path = workdir / "cut.json"
    for n in (1, len(good) // 3, len(good) // 2, len(good) - 1):
        path.write_bytes(good[:n])
        bad(script, _argv(argv, good_run["prof"], path), workdir, "truncated memtrack profile")


# ---------------------------------------------------------------------------
# Massif-format files


@pytest.mark.parametrize("reader", list(MASSIF_READERS))
@pytest.mark.parametrize("case", list(inputs.MASSIF_CASES))
def test_bad_massif_file(case, reader, good_run, workdir):
    content, expect = inputs.MASSIF_CASES[case]
    script, argv = MASSIF_READERS[reader]
    path = workdir / "in.massif"
    inputs.write_massif_case(path, content, good_run["massif"].read_text(), good_run["prof"])
    line = bad(script, _argv(argv, good_run["prof"], path), workdir, expect)
    assert str(path) in line


def massif_cuts(good):
    """Where massif's file may be cut after a whole line: (between, inside),
    between = [(byte offset, snapshots before it)] where a snapshot's
    header starts, inside = [byte offset] right after a figure of a
    snapshot that still has its tree to come or is not complete."""
    lines = good.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    between, inside = [], []
    for i in range(1, len(lines)):
        if (i + 1 < len(lines) and lines[i].startswith("#")
                and lines[i + 1].startswith("snapshot=")):
            n = sum(1 for ln in lines[:i] if ln.startswith("snapshot="))
            if n:
                between.append((offsets[i], n))
        elif re.match(r"^(time|mem_heap_B|mem_stacks_B|heap_tree)=", lines[i - 1]) \
                and not lines[i - 1].startswith("heap_tree=empty"):
            inside.append(offsets[i])
    return between, inside


def test_every_cut_of_a_massif_file(good_run, workdir):
    """Cut between two snapshots, a massif file is a shorter valid one (the
    readers give its snapshots before the cut); cut inside a snapshot or
    inside a line, it is "truncated", and never anything else. In this
    process, with the readers every script shares;
    test_a_cut_massif_file_through_each_script runs the scripts."""
    readers, cli = _readers()
    good = good_run["massif"].read_text()
    assert good.isascii()  # (byte offsets are character offsets)
    between, inside = massif_cuts(good)
    assert len(between) > 10 and len(inside) > 10, (between, inside)
    path = workdir / "cut.massif"
    for n, snaps in between:
        path.write_text(good[:n])
        assert len(readers.load_massif(str(path))["snapshots"]) == snaps, n
    for n in inside:
        path.write_text(good[:n])
        with pytest.raises(cli.InputError, match="truncated massif file"):
            readers.load_massif(str(path))
    # Every byte offset: one inside a line is truncated; one at a line end
    # may fall between two snapshots.
    for n in range(20, len(good) - 1):
        path.write_text(good[:n])
        try:
            readers.load_massif(str(path))
        except cli.InputError as e:
            assert "truncated massif file" in str(e) and "\n" not in str(e), (n, e)
        else:
            assert good[n - 1] == "\n", f"a file cut inside a line at {n} was read"


@pytest.mark.parametrize("reader", list(MASSIF_READERS))
def test_a_cut_massif_file_through_each_script(reader, good_run, workdir):
    """The readers' verdicts through each script: a file cut between
    snapshots is read (status 0, nothing on standard error), one cut inside
    a snapshot or inside a line is one line and status 2."""
    script, argv = MASSIF_READERS[reader]
    good = good_run["massif"].read_text()
    between, inside = massif_cuts(good)
    path = workdir / "cut.massif"
    args = _argv(argv, good_run["prof"], path)
    for n, _ in [between[0], between[len(between) // 2], between[-1]]:
        path.write_text(good[:n])
        r = run(script, args, workdir)
        assert r.returncode == 0 and r.stderr == "", r
        (workdir / "out.html").unlink(missing_ok=True)
    mid_line = next(n for n in range(len(good) // 2, len(good)) if good[n - 1] != "\n")
    for n in [inside[0], inside[len(inside) // 2], inside[-1], mid_line]:
        path.write_text(good[:n])
        bad(script, args, workdir, "truncated massif file")


# ---------------------------------------------------------------------------
# Options


@pytest.mark.parametrize("script,argv,expect", BAD_OPTIONS,
                         ids=[f"{s}:{' '.join(a) or 'nothing'}" for s, a, _ in BAD_OPTIONS])
def test_bad_options(script, argv, expect, good_run, workdir):
    bad(script, _argv(argv, good_run["prof"]), workdir, expect)


def test_every_script_of_the_library_is_covered():
    """Every script make install points at memtrack_lib (Makefile.am's
    SCRIPTS_USING_LIB) has its bad options here and reads bad profiles
    here: a new script joins these tables."""
    text = (helpers.REPO / "Makefile.am").read_text()
    m = re.search(r"^SCRIPTS_USING_LIB\s*=\s*(.*)$", text, re.M)
    assert m, "no SCRIPTS_USING_LIB in Makefile.am"
    # cargo-memtrack uses the library's install path (rust.supp) but reads
    # no profile: a cargo subcommand, whose bad options test_rust.py has.
    assert set(m[1].split()) - {"cargo-memtrack"} == set(SCRIPTS)
    assert {s for s, *_ in BAD_OPTIONS} == set(SCRIPTS)
    assert {s for s, _ in PROFILE_READERS.values()} == set(SCRIPTS)


# ---------------------------------------------------------------------------
# A massif file where the profile goes, and no arguments at all


@pytest.mark.parametrize("reader", list(PROFILE_READERS))
def test_massif_file_given_as_the_profile(reader, good_run, workdir):
    """The run's other file in the profile's place: the line says what it
    is and how to give it."""
    script, argv = PROFILE_READERS[reader]
    line = bad(script, _argv(argv, good_run["prof"], good_run["massif"]), workdir,
               "a massif-format file, not a memtrack profile", f"--massif={good_run['massif']}")
    assert str(good_run["massif"]) in line


def test_print_without_arguments_prints_usage(workdir):
    """memtrack_print alone: what it does, examples (one with --massif),
    where the options are; status 2, nothing on standard output."""
    r = run("memtrack_print", [], workdir)
    assert r.returncode == 2 and r.stdout == "", r
    err = r.stderr.splitlines()
    assert err[0].startswith("memtrack_print: a text report"), r
    assert "usage:" in err and any(l.strip().startswith("memtrack_print memtrack.out.") for l in err), r
    assert any("--massif=" in l for l in err) and "memtrack_print --help" in r.stderr, r
    assert "Traceback" not in r.stderr and list(workdir.iterdir()) == []
