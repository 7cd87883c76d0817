"""Loss records as errors, as memcheck counts them: only full searches
count, only the kinds in --errors-for-leak-kinds, whatever
--show-leak-kinds shows; --error-exitcode and --exit-on-first-error act
on them through the core. Every case runs memtrack and memcheck on
tests/clients/leak_cases (15 records: 4 reachable, 6 possible, 2 indirect,
3 definite) and must agree on the exit status, the ERROR SUMMARY, which
records are printed, and the whole leak output; the memcheck numbers are
written down too (research note, section 3.2).
"""
import pytest

import helpers
import leak_helpers

# (options, exit status with --error-exitcode=42, errors counted, records printed)
CASES = [
    (["--leak-check=full"], 42, 9, 9),
    ([], 0, 0, 0),                                           # summary: never counts
    (["--leak-check=summary", "--errors-for-leak-kinds=all"], 0, 0, 0),
    (["--leak-check=no"], 0, 0, 0),
    (["--leak-check=full", "--errors-for-leak-kinds=none"], 0, 0, 9),
    (["--leak-check=yes", "--errors-for-leak-kinds=all"], 42, 15, 9),
    (["--leak-check=full", "--show-leak-kinds=definite", "--errors-for-leak-kinds=all"], 42, 15, 3),
    (["--leak-check=full", "--show-leak-kinds=none", "--errors-for-leak-kinds=definite"], 42, 3, 0),
    (["--leak-check=full", "--errors-for-leak-kinds=reachable,indirect"], 42, 6, 9),
    (["--leak-check=full", "--show-possibly-lost=no"], 42, 9, 3),
    # The old switches edit the show set; the last one wins.
    (["--leak-check=full", "--show-reachable=yes", "--show-possibly-lost=no"], 42, 9, 9),
    (["--leak-check=full", "--show-possibly-lost=no", "--show-reachable=yes"], 42, 9, 15),
    (["--leak-check=full", "--show-leak-kinds=indirect,definite", "--errors-for-leak-kinds=possible"], 42, 6, 5),
]


@pytest.mark.parametrize("opts,status,errors,printed", CASES, ids=[" ".join(c[0]) or "defaults" for c in CASES])
def test_counts_like_memcheck(opts, status, errors, printed, clients, workdir):
    mt, mc = leak_helpers.run_pair(opts + ["--error-exitcode=42"], [clients.path("leak_cases")], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert mt.returncode == status
    es = helpers.parse_error_summary(mt.stderr)
    assert es["errors"] == errors and es["contexts"] == errors
    assert len(a.exit_records) == printed


def test_exit_on_first_error_like_memcheck(clients, workdir):
    """3.19 stops at the first printed record (here a possibly lost one,
    the smallest kind shown by default)."""
    opts = ["--leak-check=full", "--exit-on-first-error=yes", "--error-exitcode=9"]
    mt, mc = leak_helpers.run_pair(opts, [clients.path("leak_cases")], workdir)
    assert mt.returncode == mc.returncode == 9, (mt, mc)
    a, b = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)
    assert [r.headline for r in a.records] == [r.headline for r in b.records]
    assert len(a.records) == 1
    assert a.records[0].frames == b.records[0].frames


def test_no_leaks_no_errors(clients, workdir):
    """leak_freed frees everything; its mid-run searches with live blocks
    are summary ones ("quick"), which never count."""
    mt, mc = leak_helpers.run_pair(["--leak-check=full", "--errors-for-leak-kinds=all", "--error-exitcode=42"],
                                   [clients.path("leak_freed"), "quick"], workdir)
    leak_helpers.assert_same_leak_output(mt, mc)
    assert mt.returncode == 0
    assert helpers.parse_error_summary(mt.stderr)["errors"] == 0


@pytest.mark.parametrize("opt", [
    "--leak-check=maybe", "--show-leak-kinds=bad", "--errors-for-leak-kinds=definite,bogus",
    "--leak-check-heuristics=foo", "--leak-resolution=x", "--show-reachable=perhaps",
])
def test_bad_values_are_fatal_like_memcheck(opt, clients, workdir):
    """memcheck rejects these before the client runs (exit status 1); the
    wording of the complaint is the core's and may differ."""
    mt, mc = leak_helpers.run_pair([opt], [clients.path("leak_cases")], workdir)
    assert mc.returncode == 1 and mc.stdout == "", mc
    assert mt.returncode == 1 and mt.stdout == "", mt
    assert opt.split("=")[0] in mt.stderr
