"""Bad options stop Valgrind before the program runs, with exit status 1 and
one line naming the option; good ones are accepted."""
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


def _check_rejected(r, workdir, opt, shape):
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
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
