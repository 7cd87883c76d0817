"""vgdb's monitor commands for watching a running program (issue 21):
`dump_profile`, `heap_stats`, `snapshot`, `detailed_snapshot`,
`all_snapshots` and `top`, each against a tool that answers the same
question about the same program stopped at the same point
(tests/clients/leak_vgdb.c, which waits at two points):

* heap_stats: live bytes and blocks against memcheck's LEAK SUMMARY of a
  `leak_check summary any` at the same point (every live block is in one
  kind), the total against memcheck's "total heap usage" at exit and the
  peak against DHAT's "At t-gmax" at exit (after point 2 the client only
  returns, so neither changes);
* top: each site's live bytes and blocks and its first frame against
  memcheck's loss records of `leak_check full kinds all any` (a record is
  a stack and a kind; the kinds of one stack add up to what it holds);
* dump_profile: the profile at point 2 against DHAT's at exit, site by
  site (allocated, peak and live figures);
* snapshot, detailed_snapshot, all_snapshots: massif's own monitor
  commands, sent to massif running the same program with the same
  --time-unit=B (a clock both tools count alike): the same snapshots,
  figures and trees.

The commands never change what the run reports at exit: memtrack's exit
leak report stays memcheck's.
"""
import json
import re

import pytest

import helpers
import leak_helpers
import profile_helpers as ph
from test_leak_vgdb import Running, finish_both, monitor_lines, same_answer
from test_massif_out import figures, read_massif, trees

FULL = ["--leak-check=full"]


@pytest.fixture
def start(clients, workdir):
    """start({tool: opts}) runs leak_vgdb under each tool, all stopped at
    point 1; returns the Running objects in the order given."""
    runs = []

    def _start(tools, client="leak_vgdb"):
        path = clients.path(client)
        for tool, opts in tools.items():
            root = workdir / tool.replace(":", "_")
            root.mkdir()
            runs.append(Running(tool.split(":")[0], opts, path, root))
        for r in runs:
            r.wait_at(1)
        return runs

    yield _start
    for r in runs:
        print(f"\n===== {r}")
        r.kill()


def leak_summary_totals(lines):
    """(bytes, blocks) live, from a LEAK SUMMARY's kinds (suppressed too)."""
    b = k = 0
    for l in lines:
        m = re.match(r"^\s+(definitely lost|indirectly lost|possibly lost|still reachable|suppressed): "
                     r"([\d,]+) bytes in ([\d,]+) blocks$", l)
        if m:
            b += int(m[2].replace(",", ""))
            k += int(m[3].replace(",", ""))
    return b, k


def heap_stats(mt):
    out = {}
    for l in monitor_lines(mt.send("heap_stats")):
        m = re.match(r"^(Now|At t-gmax|Total): +([\d,]+) bytes in ([\d,]+) blocks$", l)
        if m:
            out[m[1]] = (int(m[2].replace(",", "")), int(m[3].replace(",", "")))
        m = re.match(r"^Instrs: +([\d,]+)$", l)
        if m:
            out["instrs"] = int(m[1].replace(",", ""))
    assert set(out) == {"Now", "At t-gmax", "Total", "instrs"}, out
    return out


_TOP = re.compile(r"^ *(\d+): ([\d,]+) bytes in ([\d,]+) blocks live, ([\d,]+) in ([\d,]+) allocated, "
                  r"peak ([\d,]+): (.*)$")


def top_lines(mt, command):
    lines = monitor_lines(mt.send(command))
    assert lines and re.match(r"^\d+ sites? with the most ", lines[0]), lines
    rows = []
    for l in lines[1:]:
        m = _TOP.match(l)
        assert m, f"not a line of top: {l!r} in {lines}"
        n = [int(x.replace(",", "")) for x in m.groups()[:6]]
        rows.append({"rank": n[0], "bytes": n[1], "blocks": n[2], "tb": n[3], "tbk": n[4], "mb": n[5],
                     "label": m[7]})
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1)), lines
    assert int(lines[0].split()[0]) == len(rows), lines
    return rows


def memcheck_sites(mt, mc):
    """{first frame outside the preload: (bytes, blocks)} summed over
    memcheck's loss records of every kind, from a search listing all (sent
    to both: a search numbers the next one's records)."""
    lines = same_answer(mt, mc, "leak_check full kinds all any")
    out = {}
    for r in leak_helpers._records_in(lines):
        frames = [re.sub(r"^   (at|by) 0x\?: ", "", f) for f in r.frames]
        frames = [f for f in frames if not helpers.is_preload_frame(f)]
        n = r.numbers
        b, k = out.get(frames[0], (0, 0))
        out[frames[0]] = (b + n["total"] - (n["indirect"] or 0), k + n["blocks"])
    return out


def test_heap_stats_and_top_against_memcheck(start):
    mt, mc = start({"memtrack": FULL, "memcheck": FULL})
    for point in (1, 2):
        if point == 2:
            for r in (mt, mc):
                r.go(1)
            mt.wait_at(2)
            mc.wait_at(2)
        st = heap_stats(mt)
        summary = same_answer(mt, mc, "leak_check summary any")
        assert st["Now"] == leak_summary_totals(summary), (st, summary)
        assert st["Now"][0] > 0
        theirs = memcheck_sites(mt, mc)
        rows = top_lines(mt, "top 100")
        ours = {}
        for r in rows:
            b, k = ours.get(r["label"], (0, 0))
            ours[r["label"]] = (b + r["bytes"], k + r["blocks"])
        assert ours == theirs, (rows, theirs)
        # Biggest first, and a site's live figures within what it allocated.
        assert [r["bytes"] for r in rows] == sorted((r["bytes"] for r in rows), reverse=True)
        assert all(r["bytes"] <= r["mb"] <= r["tb"] and r["blocks"] <= r["tbk"] for r in rows), rows
        assert sum(r["bytes"] for r in rows) == st["Now"][0]
        # top N is the head of the list; by blocks is ordered by blocks.
        assert top_lines(mt, "top 2") == rows[:2]
        by_blocks = top_lines(mt, "top 100 blocks")
        assert [r["blocks"] for r in by_blocks] == sorted((r["blocks"] for r in by_blocks), reverse=True)
        assert sorted(r["label"] for r in by_blocks) == sorted(r["label"] for r in rows)
        by_total = top_lines(mt, "top 3 total")
        assert [r["tb"] for r in by_total] == sorted((r["tb"] for r in rows), reverse=True)[:3]
    # leak_small holds 16-byte blocks: 3 at point 1, 5 at point 2.
    small = [r for r in rows if r["label"].startswith("leak_small ")]
    assert len(small) == 1 and small[0]["blocks"] == 5 and small[0]["bytes"] == 80, rows
    # Bad arguments: one line each, and the program runs on.
    for cmd, want in [("top 0", "top: <n> must be a number >= 1, got 0"),
                      ("top 3x", "top: <n> must be a number >= 1, got 3x")]:
        assert monitor_lines(mt.send(cmd)) == [want]
    bad = monitor_lines(mt.send("top size"))
    assert len(bad) == 1 and "size" in bad[0] and "bytes" in bad[0], bad
    # The exit: after point 2 the client only returns. memcheck's total
    # heap usage is memtrack's total; the exit report is memcheck's.
    a, b = finish_both(mt, mc, points=(2,))
    m = re.search(r"total heap usage: ([\d,]+) allocs, [\d,]+ frees, ([\d,]+) bytes allocated", b.stderr)
    assert m, b
    assert st["Total"] == (int(m[2].replace(",", "")), int(m[1].replace(",", ""))), (st, m[0])


def test_heap_stats_peak_against_dhat(start):
    mt, dh = start({"memtrack": [], "dhat": []})
    for r in (mt, dh):
        r.go(1)
    mt.wait_at(2)
    dh.wait_at(2)
    st = heap_stats(mt)
    mt.go(2)
    dh.go(2)
    a, b = mt.finish(), dh.finish()
    assert a.returncode == b.returncode == 0
    theirs = helpers.parse_summary(b.stderr)
    assert st["At t-gmax"] == (theirs["gmax_bytes"], theirs["gmax_blocks"])
    assert st["Total"] == (theirs["total_bytes"], theirs["total_blocks"])
    assert st["Now"] == (theirs["end_bytes"], theirs["end_blocks"])


def test_dump_profile_against_dhat(start, workdir):
    """The profile dumped at point 2 is DHAT's at exit (after point 2 the
    client only returns), site by site; at point 1 it holds less. The
    default name; %p expands; a name the core could not expand gets one
    line and no dump, and the program runs on."""
    mt, dh = start({"memtrack": [], "dhat": []})
    first = mt.dir / "one.%p.json"
    reply = monitor_lines(mt.send(f"dump_profile {first}"))
    one = mt.dir / f"one.{mt.proc.pid}.json"
    assert reply == [f"profile written to {one}"]
    for r in (mt, dh):
        r.go(1)
    mt.wait_at(2)
    dh.wait_at(2)
    reply = monitor_lines(mt.send("dump_profile"))
    default = mt.dir / f"memtrack.vgdb.out.{mt.proc.pid}"
    assert reply == [f"profile written to {default}"], reply
    for cmd, want in [("dump_profile x.%q{MT_NO_SUCH_VARIABLE}",
                       "dump_profile: environment variable 'MT_NO_SUCH_VARIABLE' is not set"),
                      ("dump_profile x.%z", "dump_profile: expected 'p', 'n', 'q' or '%' after '%'"),
                      ("dump_profile a b", "dump_profile: one <filename> only (no spaces in it)")]:
        assert monitor_lines(mt.send(cmd)) == [want]
    bad = mt.dir / "no" / "dir" / "x.json"
    assert monitor_lines(mt.send(f"dump_profile {bad}")) == [
        f"error: can't open memtrack profile file '{bad}' for writing: No such file or directory",
        f"dump_profile: {bad} not written"]
    mt.go(2)
    dh.go(2)
    a, b = mt.finish(), dh.finish()
    assert a.returncode == b.returncode == 0
    dump = ph.checked_profile(default)
    dhat = ph.load(next(dh.dir.glob("dhat.out.*")))
    probs, stats = ph.compare_sites(dump, dhat, exact=("tb", "tbk", "gb", "gbk", "eb", "ebk"))
    assert not probs, "\n".join(probs)
    assert stats["sites"] >= 6
    early = ph.checked_profile(one)
    assert ph.profile_sums(early)["total"] < ph.profile_sums(dump)["total"]
    assert early["te"] < dump["te"] and early["pid"] == dump["pid"] == mt.proc.pid
    assert early["mtms"] <= dump["mtms"]


MASSIF_B = ["--time-unit=B"]


def test_snapshots_against_massif(start):
    """massif's snapshot, detailed_snapshot and all_snapshots at point 2,
    with --time-unit=B: the same files, figures and trees; with
    --massif-out-file (massif's figures over the run) and without it (the
    live blocks now). Default file massif.vgdb.out, as massif's."""
    mt, bare, ms = start({"memtrack": ["--massif-out-file=exit.massif", *MASSIF_B],
                          "memtrack:bare": MASSIF_B,
                          "massif": ["--stacks=no", "--massif-out-file=exit.massif", *MASSIF_B]})
    for r in (mt, bare, ms):
        r.go(1)
    for r in (mt, bare, ms):
        r.wait_at(2)
    for cmd in ("snapshot s.out", "detailed_snapshot d.out", "all_snapshots a.out", "detailed_snapshot"):
        for r in (mt, bare, ms):
            if r is bare and cmd.startswith("all_"):
                continue
            assert monitor_lines(r.send(cmd)) == [], (r.tool, cmd)
    ours, theirs = {}, {}
    for name in ("s.out", "d.out", "a.out", "massif.vgdb.out"):
        theirs[name] = read_massif(ms.dir / name, allow_hash=True)
        ours[name] = read_massif(mt.dir / name)
        assert figures(ours[name]) == figures(theirs[name]), name
        assert trees(ours[name]) == trees(theirs[name]), name
    assert len(theirs["a.out"]["snapshots"]) > 2
    assert [s["kind"] for s in theirs["d.out"]["snapshots"]] == ["detailed"]
    assert [s["kind"] for s in theirs["s.out"]["snapshots"]] == ["empty"]
    # Without --massif-out-file: heap, extra and the tree from the live
    # blocks; all_snapshots says why it has nothing.
    for name in ("s.out", "d.out"):
        got = read_massif(bare.dir / name)
        assert [f[1:] for f in figures(got)] == [f[1:] for f in figures(theirs[name])], name
        assert trees(got) == trees(theirs[name]), name
    reply = monitor_lines(bare.send("all_snapshots a.out"))
    assert len(reply) == 1 and "--massif-out-file" in reply[0], reply
    assert not (bare.dir / "a.out").exists()
    for r in (mt, bare, ms):
        r.go(2)
    results = [r.finish() for r in (mt, bare, ms)]
    assert all(r.returncode == 0 for r in results)
    # The monitor's snapshots are outside the run's list: the exit file is
    # still massif's.
    a, b = read_massif(mt.dir / "exit.massif"), read_massif(ms.dir / "exit.massif", allow_hash=True)
    assert figures(a) == figures(b) and trees(a) == trees(b)


def test_help_lists_the_server_commands(start):
    """help lists the new commands with their arguments; 'h' and 'he'
    still mean help (as under memcheck), 'hea' is heap_stats."""
    (mt,) = start({"memtrack": []})
    own = "\n".join(monitor_lines(mt.send("help")))
    for syntax in ["dump_profile [<filename>]", "heap_stats", "snapshot [<filename>]",
                   "detailed_snapshot [<filename>]", "all_snapshots [<filename>]",
                   "top [<n>] [bytes|blocks|total|peak]"]:
        assert re.search(rf"^  {re.escape(syntax)}$", own, re.M), f"{syntax!r} not in:\n{own}"
    assert monitor_lines(mt.send("h")) == monitor_lines(mt.send("help"))
    assert monitor_lines(mt.send("he")) == monitor_lines(mt.send("help"))
    assert monitor_lines(mt.send("hea"))[0].startswith("Now: ")
    assert monitor_lines(mt.send("t 1"))[0].startswith("1 site with the most live bytes")
    mt.go(1)
    mt.wait_at(2)
    mt.go(2)
    assert mt.finish().returncode == 0
