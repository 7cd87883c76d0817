"""Client (1): every allocation function and glibc's documented edge cases.
The clients check their own results (exit 0 and 'all checks passed', or a
line per failed check); each group of checks runs on its own so that one
broken function does not hide the others.

Natively, the clients show what glibc does; under memtrack they must behave
the same and memtrack must report no bad frees. The errors allowed are
memcheck's: "fishy value" reports for sizes with the top bit set and, from
Valgrind 3.21 on, its checks of realloc(p, 0), of alignments and of aligned
allocations of size 0 (tests/test_alloc_versions.py); they must be exactly
the ones memcheck of the build's Valgrind reports for the same run."""
import pytest

import helpers

C_GROUPS = ["malloc", "calloc", "realloc", "absurd", "absurd_realloc", "memalign",
            "posix_memalign", "aligned_alloc", "valloc", "pvalloc"]
CXX_GROUPS = ["plain", "nothrow", "sized", "aligned", "library"]

CASES = [("alloc_c", g) for g in C_GROUPS] + [("alloc_cxx", g) for g in CXX_GROUPS]
IDS = [f"{c}-{g}" for c, g in CASES]


@pytest.mark.parametrize("client, groups", [("alloc_c", C_GROUPS), ("alloc_cxx", CXX_GROUPS)])
def test_group_list_is_complete(client, groups, clients, workdir):
    """The parametrisation below covers every group the client has."""
    r = helpers.run_native([clients.path(client), "--list"], workdir)
    assert r.returncode == 0, r
    assert r.stdout.split() == groups


@pytest.mark.parametrize("client, group", CASES, ids=IDS)
def test_native(client, group, clients, workdir):
    r = helpers.run_native([clients.path(client), group], workdir)
    assert r.returncode == 0, r
    assert r.stdout.startswith(f"{client}: all checks passed"), r


@pytest.mark.parametrize("client, group", CASES, ids=IDS)
def test_under_memtrack(client, group, clients, workdir):
    argv = [clients.path(client), group]
    r = helpers.run_memtrack([], argv, workdir)
    assert "FAILED" not in r.stderr, r
    assert r.returncode == 0, r
    assert r.stdout.startswith(f"{client}: all checks passed"), r
    helpers.parse_summary(r.stderr)

    errors = helpers.parse_errors(r.stderr)
    for e in errors:
        assert not e.headline.startswith(("Invalid free()", "Mismatched free()")), \
            f"unexpected error {e.headline!r}:\n{r}"
    # The reports are memcheck's, one for one.
    mc = helpers.run_memcheck([], argv, workdir)
    if group == "pvalloc":
        # Valgrind 3.19's standard replacement (memcheck's and DHAT's) aborts
        # on pvalloc; memtrack implements it, so there is nothing to compare.
        assert mc.returncode != 0 and "aborting because of call to pvalloc" in mc.stderr, mc
        assert not errors, r
        return
    assert mc.returncode == 0, mc
    assert [e.normalised for e in errors] == [e.normalised for e in helpers.parse_errors(mc.stderr)], (r, mc)
    mt_sum, mc_sum = helpers.parse_error_summary(r.stderr), helpers.parse_error_summary(mc.stderr)
    assert (mt_sum["errors"], mt_sum["contexts"]) == (mc_sum["errors"], mc_sum["contexts"]), (r, mc)
