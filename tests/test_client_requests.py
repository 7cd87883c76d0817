"""Client (6): MEMTRACK_GET_HEAP_STATS (memtrack/memtrack.h). The client
checks the figures itself: every expected number is what it allocated or
freed between two requests (see tests/clients/heap_stats.cpp)."""
import helpers


def test_heap_stats_under_memtrack(clients, workdir):
    r = helpers.run_memtrack([], [clients.path("heap_stats")], workdir)
    assert "FAILED" not in r.stderr, r
    assert r.returncode == 0, r
    assert r.stdout == "heap_stats: all checks passed\n", r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0, r


def test_heap_stats_natively_returns_0_and_leaves_struct_alone(clients, workdir):
    r = helpers.run_native([clients.path("heap_stats")], workdir)
    assert r.returncode == 0, r
    assert r.stdout == "heap_stats: not under memtrack\n", r


def test_heap_stats_under_another_tool_returns_0(clients, workdir):
    """A program built with memtrack.h still runs under memcheck: the request
    is not memcheck's, so it evaluates to 0 and leaves the struct alone."""
    r = helpers.run_memcheck([], [clients.path("heap_stats")], workdir)
    assert r.returncode == 0, r
    assert r.stdout == "heap_stats: not under memtrack\n", r


def test_heap_stats_agree_with_the_exit_summary(clients, workdir):
    """The figures a request returns are the ones the summary prints: a
    program whose last act is a request, with nothing freed or allocated by
    the C library after it, sees the exit summary's Total and t-gmax."""
    r = helpers.run_memtrack([], [clients.path("heap_stats_last")], workdir)
    assert r.returncode == 0, r
    s = helpers.parse_summary(r.stderr)
    fields = dict(kv.split("=") for kv in r.stdout.split())
    got = {k: int(v) for k, v in fields.items()}
    assert got["total_bytes"] == s["total_bytes"]
    assert got["total_blocks"] == s["total_blocks"]
    assert got["max_bytes"] == s["gmax_bytes"]
    assert got["max_blocks"] == s["gmax_blocks"]
    assert got["curr_bytes"] == s["end_bytes"]
    assert got["curr_blocks"] == s["end_blocks"]
    # And they are what heap_stats_last.c did: 8 blocks of 100..800 bytes,
    # the even ones freed, realloc 200 -> 5000, calloc(4, 1000) freed; the
    # peak is while the calloc'd block is live.
    live = 200 + 400 + 600 + 800 - 200 + 5000
    assert got == {
        "total_bytes": sum(range(100, 900, 100)) + 5000 + 4000, "total_blocks": 8 + 1 + 1,
        "max_bytes": live + 4000, "max_blocks": 5,
        "curr_bytes": live, "curr_blocks": 4,
    }


def test_measure_requests_under_memtrack(clients, workdir):
    """MEMTRACK_MEASURE_*: tests/clients/measure.c checks the scope's
    figures (allocated, net change, its own peak, per thread or for all
    threads) and that bad handles and pointers are refused, not crashed on."""
    r = helpers.run_memtrack([], [clients.path("measure")], workdir)
    assert "FAILED" not in r.stderr, r
    assert r.returncode == 0 and r.stdout == "measure: all checks passed\n", r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0, r


def test_measure_requests_natively_and_under_memcheck(clients, workdir):
    for r in (helpers.run_native([clients.path("measure")], workdir),
              helpers.run_memcheck([], [clients.path("measure")], workdir)):
        assert r.returncode == 0 and r.stdout == "measure: not under memtrack\n", r
