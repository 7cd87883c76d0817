"""memtrack -v prints, after each leak search, how many blocks it scanned
and how long that took ("leak search: N blocks scanned in S s"; bench/run
reads it). The time is not checked here (speed belongs to bench/); the count
must be the number of blocks memcheck searches: its "Searching for pointers
to N not-freed blocks" line (-v) for each search, and at exit the blocks of
its HEAP SUMMARY's "in use at exit".
"""
import re

import pytest

import helpers
import leak_helpers

SCAN = re.compile(r"^leak search: ([\d,]+) blocks scanned in (\d+\.\d{3}) s$")
SEARCHING = re.compile(r"^Searching for pointers to ([\d,]+) not-freed blocks$")
IN_USE = re.compile(r"^    in use at exit: [\d,]+ bytes in ([\d,]+) blocks$")


def _counts(rx, stderr):
    return [int(m.group(1).replace(",", "")) for m in map(rx.match, helpers.client_lines(stderr)) if m]


def _check(mt, mc, searches):
    scans = _counts(SCAN, mt.stderr)
    searched = _counts(SEARCHING, mc.stderr)
    in_use = _counts(IN_USE, mc.stderr)
    assert len(searched) == searches, mc
    assert scans == searched, f"memtrack scanned {scans}, memcheck searched {searched}"
    assert len(in_use) == 1 and scans[-1] == in_use[0], f"memtrack's last scan {scans}, memcheck in use {in_use}"
    assert scans[-1] > 0


@pytest.mark.parametrize("client", ["leak_tree", "leak_graph"])
def test_scan_line_counts_memchecks_blocks(client, clients, workdir):
    mt, mc = leak_helpers.run_pair(["-v", "--leak-check=full"], [clients.path(client)], workdir)
    _check(mt, mc, 1)


def test_scan_line_on_real_program(workdir):
    """jq ends with blocks still allocated."""
    helpers.require_program("/usr/bin/jq")
    (workdir / "small.json").write_text('{"a": [1, 2, {"b": "c"}], "e": 1.5}\n')
    mt, mc = leak_helpers.run_pair(["-v", "--leak-check=full"], ["/usr/bin/jq", ".", "small.json"], workdir)
    _check(mt, mc, 1)


def test_scan_line_after_each_client_search(clients, workdir):
    """leak_requests runs 8 searches itself (the first finds no block: no
    search, no line, as memcheck prints no 'Searching' line), then the one
    at exit."""
    mt, mc = leak_helpers.run_pair(["-v", "--leak-check=full"], [clients.path("leak_requests"), "full"], workdir)
    _check(mt, mc, 8)


def test_no_scan_line_without_verbose(clients, workdir):
    mt = helpers.run_memtrack(["--leak-check=full"], [clients.path("leak_tree")], workdir)
    assert mt.returncode == 0, mt
    assert "LEAK SUMMARY:" in mt.stderr
    assert "leak search:" not in mt.stderr
