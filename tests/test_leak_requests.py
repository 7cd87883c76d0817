"""memcheck.h's leak client requests under memtrack, against memcheck:
VALGRIND_DO_LEAK_CHECK, DO_ADDED_LEAK_CHECK, DO_CHANGED_LEAK_CHECK and
DO_QUICK_LEAK_CHECK mid-run, with VALGRIND_COUNT_LEAKS and
VALGRIND_COUNT_LEAK_BLOCKS after each (tests/clients/leak_requests.c, after
memcheck's leak-delta and leak.h). The numbers the client prints, every
search's records (with the ' (+x)' / ' (-x)' suffixes of the delta modes),
their numbering, the summaries and the error counts must be memcheck's.
"""
import pytest

import leak_helpers

# What the client prints under memcheck (and so must print under
# memtrack); "reachable" includes stdout's 4,096-byte buffer once printf
# has run. The same in every mode: COUNT_* report the last search.
EXPECTED_STDOUT = """\
start      leaked 0/0 dubious 0/0 reachable 0/0 suppressed 0/0
allocated  leaked 0/0 dubious 48/1 reachable 4144/3 suppressed 0/0
lost one   leaked 16/1 dubious 48/1 reachable 4128/2 suppressed 0/0
pair       leaked 16/1 dubious 48/1 reachable 4272/4 suppressed 0/0
lost pair  leaked 160/3 dubious 48/1 reachable 4128/2 suppressed 0/0
freed one  leaked 160/3 dubious 48/1 reachable 4096/1 suppressed 0/0
fixed      leaked 160/3 dubious 0/0 reachable 4144/2 suppressed 0/0
same       leaked 160/3 dubious 0/0 reachable 4144/2 suppressed 0/0
"""

MODES = ["full", "added", "changed", "quick"]


@pytest.mark.parametrize("kinds", ["default-kinds", "all-kinds"])
@pytest.mark.parametrize("mode", MODES)
def test_requests_like_memcheck(mode, kinds, clients, workdir):
    opts = ["--leak-check=full"] + (["--show-leak-kinds=all"] if kinds == "all-kinds" else [])
    mt, mc = leak_helpers.run_pair(opts, [clients.path("leak_requests"), mode], workdir)
    assert mc.stdout == EXPECTED_STDOUT, mc
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert mt.stdout == EXPECTED_STDOUT
    # 8 searches by the client (the first finds no blocks: no summary) and
    # one at exit.
    assert len(a.leak_summaries) == 8
    if mode in ("added", "changed"):
        assert all("(+" in s[1] or "(-" in s[1] for s in a.leak_summaries[:7])
        assert any("(+" in r.headline for r in a.records)
    if mode == "changed" and kinds == "all-kinds":
        assert any(r.headline.startswith("0 (-") for r in a.records)


@pytest.mark.parametrize("mode,opts", [("full", []), ("quick", ["--leak-check=full"]),
                                       ("full", ["--leak-check=no"])],
                         ids=["full-requests-summary-exit", "quick-requests-full-exit", "full-requests-leak-check-no"])
def test_requests_count_errors_like_memcheck(mode, opts, clients, workdir):
    """Every full search counts its records as errors, whatever
    --leak-check says for the end of the run; summary ones never do. The
    client's searches run (and must find what memcheck finds) with
    --leak-check=no too. memtrack knows dead stack and zeroes recycled heap
    (its stand-in for memcheck's definedness bits) by default whenever the
    end of the run searches (--scrub-stack=auto, docs/manual.md); a program
    that runs searches itself under --leak-check=no asks for
    --scrub-stack=yes to get memcheck's exact answers."""
    scrub = ["--scrub-stack=yes"] if "--leak-check=no" in opts else []
    mt, mc = leak_helpers.run_pair(opts + scrub + ["--error-exitcode=42"], [clients.path("leak_requests"), mode],
                                   workdir, mc_opts=opts + ["--error-exitcode=42"])
    assert mc.stdout == EXPECTED_STDOUT, mc
    leak_helpers.assert_same_leak_output(mt, mc)


def test_no_blocks_mid_run(clients, workdir):
    """A search with no live blocks says 'All heap blocks were freed -- no
    leaks are possible' and nothing else, mid-run as at exit."""
    for mode in ("full", "quick"):
        args = [clients.path("leak_freed")] + ([mode] if mode == "quick" else [])
        mt, mc = leak_helpers.run_pair_cached(["--leak-check=full", "--show-leak-kinds=all"], args, workdir)
        a, b = leak_helpers.assert_same_leak_output(mt, mc)
        freed = [l for l in a.lines if l == "All heap blocks were freed -- no leaks are possible"]
        assert len(freed) == 3


def test_search_finding_no_block_keeps_counters(clients, workdir):
    """A search that finds no block ('All heap blocks were freed') leaves
    memcheck's counters alone: the next search's deltas are against the
    last one that found blocks (+0 here, not +40), and VALGRIND_COUNT_LEAKS
    in between still answers that search's counts."""
    mt, mc = leak_helpers.run_pair(["--leak-check=summary"], [clients.path("leak_empty_search")], workdir)
    assert "after a search that found none: leaked 0 dubious 0 reachable 40" in mc.stderr, mc
    assert "still reachable: 40 (+0) bytes in 1 (+0) blocks" in mc.stderr, mc
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert len(a.leak_summaries) == 3
