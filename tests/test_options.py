"""Bad options stop Valgrind before the program runs, with exit status 1 and
one line naming the option; good ones are accepted. Every option
`--help` lists must have wrong values in BAD_BY_OPTION: a new option
without them fails the suite."""
import re

import pytest

import helpers

BAD_VALUES = [
    "--show-mismatched-frees=maybe",
    "--show-mismatched-frees=",
    "--show-mismatched-frees=YESS",
    "--show-mismatched-frees=1",
    "--show-mismatched-frees",
    "--freed-history=-1",
    "--freed-history=abc",
    "--freed-history=",
    "--freed-history=12x",
    "--freed-history=1.5",
    "--freed-history=99999999999999999999999",
    "--freed-history",
]

# Wrong values for every option of memtrack's (and the memcheck options it
# takes); test_every_option_has_bad_values keeps this complete.
BAD_BY_OPTION = {
    "mode": ["heap2", "HEAP", ""],
    "dhat-out-file": ["", "x.%q{", "x.%q{MEMTRACK_NO_SUCH_VAR_42}", "x.%q"],
    "dump-every": ["10", "0s", "5x", "-1s", "s", "", "1.5s", "99999999999999999999i"],
    "access-tracking": ["maybe", "", "2"],
    "histogram-limit": ["-1", "abc", "25601", ""],
    "keep-stacktraces": ["bogus", "alloc-and", "ALLOC", "alloc,free", ""],
    # memcheck's parse: hexadecimal (0x optional), 0 to 0xFF
    "malloc-fill": ["zz", "0x100", "-1", "0x5g", "1FF"],
    "free-fill": ["zz", "0x1ff", "-0x1", "55 "],
    "leak-check": ["sometimes", "", "fulll"],
    "leak-resolution": ["medium", "", "4"],
    "show-leak-kinds": ["bogus", "definite,bogus", ""],
    "errors-for-leak-kinds": ["bogus", "possible,bogus", ""],
    "lost-kinds": ["bogus", "definite,bogus", ""],
    "leak-check-heuristics": ["bogus", "stdstring,bogus", ""],
    "show-reachable": ["maybe", ""],
    "show-possibly-lost": ["maybe", ""],
    "scrub-stack": ["sometimes", ""],
    "show-mismatched-frees": ["maybe"],
    "peak-limit": ["12QB", "-5", "abc", "", "99999999999999999999999"],
    "total-limit": ["12QB", "-1", ""],
    "leak-limit": ["12QB", "1x", ""],
    "summary-file": ["", "s.%q{", "s.%q{MEMTRACK_NO_SUCH_VAR_42}"],
    "sarif-file": ["", "s.%q{"],
    "sarif-root": ["", "/nonexistent/dir", "/etc/passwd"],
    "alloc-fn": [""],
    "ignore-fn": [""],
    "massif-out-file": ["", "m.%q{", "m.%q{MEMTRACK_NO_SUCH_VAR_42}"],
    "time-unit": ["s", "instr", ""],
    "max-snapshots": ["9", "1001", "x", ""],
    "detailed-freq": ["0", "x", ""],
    "threshold": ["101", "-1", "x", ""],
    "peak-inaccuracy": ["-1", "x", ""],
    "heap-admin": ["1025", "-8", ""],
    "freed-history": ["-1", "abc"],
    # memcheck's bounds: 0 to 10,000,000,000.
    "freelist-vol": ["-1", "abc", "10000000001", "20M"],
    "freelist-big-blocks": ["-1", "1.5", "10000000001"],
}
# memcheck's --show-realloc-size-zero exists from Valgrind 3.21 on, and so
# does memtrack's (tests/test_alloc_versions.py checks it is refused before).
if helpers.VG_VERSION >= (3, 21):
    BAD_BY_OPTION["show-realloc-size-zero"] = ["maybe", ""]
BAD_PAIRS = [(o, v) for o, vals in BAD_BY_OPTION.items() for v in vals]


def _listed_options():
    """Option names in memtrack's part of --help."""
    r = helpers.run_memtrack(["--help"], [], ".")
    text = r.stdout + r.stderr
    part = text.split("user options for Memtrack:", 1)
    assert len(part) == 2, text[-3000:]
    names = re.findall(r"^    --([a-z0-9-]+)=", part[1], re.M)
    assert len(names) >= 20, names
    return names


def test_every_option_has_bad_values():
    missing = [n for n in _listed_options() if n not in BAD_BY_OPTION]
    assert not missing, f"options --help lists without wrong values in BAD_BY_OPTION: {missing}"
    stale = [n for n in BAD_BY_OPTION if n not in _listed_options()]
    assert not stale, f"BAD_BY_OPTION names options --help does not list: {stale}"


@pytest.mark.parametrize("name,value", BAD_PAIRS, ids=[f"{o}={v}" for o, v in BAD_PAIRS])
def test_every_option_rejects_wrong_values(name, value, workdir):
    opt = f"--{name}={value}"
    r = _run_touch([opt], workdir)
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr:\n{r}"
    assert f"--{name}" in lines[0], f"the line does not name --{name}:\n{r}"
    assert r.stdout == ""
    assert not (workdir / "marker").exists(), "the client ran although an option was bad"


UNKNOWN = [
    "--bogus",
    "--bogus=3",
    "--freed-historyy=3",
    "--show-mismatched-frees-now=yes",
    "--dhat-out-fil=x",
]

GOOD = [
    ["--show-mismatched-frees=yes"],
    ["--show-mismatched-frees=no"],
    ["--freed-history=0"],
    ["--freed-history=1"],
    ["--freed-history=100000"],
    ["--show-mismatched-frees=no", "--freed-history=7"],
]


def _run_touch(opts, workdir):
    """Runs /usr/bin/touch under memtrack: if the client ran, 'marker' exists."""
    return helpers.run_memtrack(opts, ["/usr/bin/touch", "marker"], workdir)


HINT = "valgrind: Use --help for more information or consult the user manual."


def _check_rejected(r, workdir, opt, shape):
    """One line naming the option; an unknown option's line is followed by
    memcheck's hint to use --help (tests/test_messages.py compares them
    with memcheck's)."""
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    if "Unknown option" in shape:
        assert lines[1:] == [HINT], f"expected the --help hint after the line:\n{r}"
        lines = lines[:1]
    assert len(lines) == 1, f"expected exactly one line on stderr:\n{r}"
    assert lines[0].startswith(shape), f"expected a line starting with {shape!r}:\n{r}"
    assert opt in lines[0], f"the line does not name {opt!r}:\n{r}"
    assert r.stdout == ""
    assert not (workdir / "marker").exists(), "the client ran although an option was bad"


@pytest.mark.parametrize("opt", BAD_VALUES)
def test_bad_value_is_rejected(opt, workdir):
    r = _run_touch([opt], workdir)
    _check_rejected(r, workdir, opt, f"valgrind: Bad option: {opt}")


@pytest.mark.parametrize("opt", UNKNOWN)
def test_unknown_option_is_rejected(opt, workdir):
    r = _run_touch([opt], workdir)
    _check_rejected(r, workdir, opt, f"valgrind: Unknown option: {opt}")


def test_unknown_single_dash_option_is_rejected(workdir):
    r = _run_touch(["-z"], workdir)
    _check_rejected(r, workdir, "-z", "valgrind: Unknown option: -z")


def test_bad_option_after_good_ones_is_still_rejected(workdir):
    r = _run_touch(["--show-mismatched-frees=no", "--freed-history=x", "--freed-history=5"], workdir)
    _check_rejected(r, workdir, "--freed-history=x", "valgrind: Bad option: --freed-history=x")


@pytest.mark.parametrize("opts", GOOD, ids=lambda o: " ".join(o))
def test_good_options_are_accepted(opts, workdir):
    r = _run_touch(opts, workdir)
    assert r.returncode == 0, r
    assert (workdir / "marker").exists(), r
    helpers.parse_summary(r.stderr)
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0, r
