"""Memory that grows without leaking (issue 21): --dump-every's numbered
profiles, memtrack_diff between two dumps of one run, and the growth
analysis of memtrack_print --growth with its gate --max-site-growth.

tests/clients/growth_patterns.c is a small server with five ways of
keeping memory between requests: an unbounded cache, a handler list
that only grows, a buffer cleared but keeping its capacity, thread-local
data of short-lived threads never freed, and a steady-state loop (a
bounded cache after a warm-up) and a sawtooth (a cache emptied every 50
requests) that must not be flagged. What each one
holds after each request is known from its source; every run is checked
three ways:

* the exit profile is DHAT's (site by site) although the dumps were
  written in between, and each dump holds what the client had allocated
  by then (its instruction count orders it between the others);
* the growth analysis flags exactly the sites that grow, and nothing of
  the steady server, both from the dumps and from the massif-format file
  of the same run;
* the gates fail (exit 1) on a growing site and pass on the steady one.
"""
import json
import re
import subprocess
import time

import pytest

import helpers
import profile_helpers as ph

PYTHON = "/usr/bin/python3"
PRINT = helpers.REPO / "scripts" / "memtrack_print"
DIFF = helpers.REPO / "scripts" / "memtrack_diff"
REPORT = helpers.REPO / "scripts" / "memtrack_report"
MERGE = helpers.REPO / "scripts" / "memtrack_merge"
ROUNDS = 240
# About 100,000 instructions a request: some twenty dumps a run.
EVERY = "2Mi"

# The functions whose sites grow, by pattern (the first frame of the
# stack: the site's label).
GROWING = {
    "cache": {"cache_entry", "cache_value"},
    "handlers": {"new_handler"},
    "buffer": {"buffer_append"},
    "threads": {"thread_main"},
    "steady": set(),
    "sawtooth": set(),
}
# Bounded patterns whose live bytes still differ between two points of the
# second half (a sawtooth's phase at the middle and at the end): the gates,
# which measure that difference, may go either way for them.
GATE_UNDECIDED = {"sawtooth"}
REACHABLE = {"cache": "still reachable at exit", "handlers": "still reachable at exit",
             "buffer": "still reachable at exit", "threads": "lost"}


def script(path, args, cwd):
    return helpers.run([PYTHON, str(path), *[str(a) for a in args]], cwd)


def run_pattern(clients, workdir, pattern, extra=()):
    """memtrack with dumps and a massif file; returns (result, dump paths
    in number order, exit profile path, massif path)."""
    opts = [f"--dump-every={EVERY}", "--dhat-out-file=p.%n.json", "--massif-out-file=m.out",
            "--detailed-freq=1", "--threshold=0", "--leak-check=full", *extra]
    r = helpers.run_memtrack(opts, [clients.path("growth_patterns"), pattern, str(ROUNDS)], workdir)
    assert r.returncode == 0, r
    files = {int(m[1]): p for p in workdir.glob("p.*.json") if (m := re.fullmatch(r"p\.(\d+)\.json", p.name))}
    n = max(files)
    assert sorted(files) == list(range(1, n + 1)), sorted(files)
    assert n >= 8, f"only {n} profiles: the run was shorter than expected"
    return r, [files[i] for i in range(1, n)], files[n], workdir / "m.out"


def live(prof, function):
    """(bytes, blocks) live in the sites allocating in function."""
    pps = ph.find_site(prof, function)
    return sum(p["eb"] for p in pps), sum(p["ebk"] for p in pps)


def funcs(sites):
    return {re.match(r"[\w.]+", s["label"])[0] for s in sites}


@pytest.mark.parametrize("pattern", sorted(GROWING))
def test_growth_patterns(pattern, clients, workdir):
    r, dumps, final, massif = run_pattern(clients, workdir, pattern)
    # The dumps: in order, numbered 1.., the exit profile last (it alone
    # has the exit leak search's keys).
    profs = [ph.checked_profile(p) for p in dumps]
    fin = ph.checked_profile(final, r)
    tes = [p["te"] for p in profs] + [fin["te"]]
    assert tes == sorted(tes) and len(set(tes)) == len(tes), tes
    assert all("mtleak" not in p for p in profs) and fin.get("mtleak") is True
    assert all(p["pid"] == fin["pid"] and p["mtppid"] == fin["mtppid"] for p in profs)
    # What the client held at each dump: request buffers and replies are
    # freed within a request, so at most one of each is live.
    if pattern == "cache":
        counts = [live(p, "cache_value") for p in profs]
        entries = [live(p, "cache_entry")[1] for p in profs]
        assert [c[0] for c in counts] == [200 * k for k in entries], (counts, entries)
        assert entries == sorted(entries) and entries[-1] > entries[0]
    if pattern == "steady":
        late = [live(p, "lru_value")[1] for p in profs[len(profs) // 2:]]
        assert late == [32] * len(late), late
    # The growth analysis, from the dumps and from the massif file.
    for source in ([*dumps, final], [final, "--massif", massif]):
        g = script(PRINT, ["--growth", "--format=json", "--top=0", *source], workdir)
        assert g.returncode == 0, g
        doc = json.loads(g.stdout)["growth"]
        flagged = doc["sites"]
        assert funcs(flagged) == GROWING[pattern], (source[-1], [(s["label"], s["samples"]) for s in flagged])
        for s in flagged:
            assert s["growth"] > 0 and s["bytes_now"] == s["samples"][-1] == max(s["samples"])
            assert s["rate"] > 0
        if pattern in REACHABLE:
            text = script(PRINT, ["--growth", "--sections=growth", *source], workdir).stdout
            for s in flagged:
                i = text.index(s["label"])
                assert REACHABLE[pattern] in text[i:i + 400], text[i:i + 400]
    # The HTML report's "Growing sites": the same sites, from the dumps.
    page = workdir / "r.html"
    rep = script(REPORT, ["--growth", *[f"--dump={d}" for d in dumps], final, "-o", page], workdir)
    assert rep.returncode == 0, rep
    html = page.read_text()
    section = html[html.index('<section id="sec-growth">'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r"<tr><td title=\"[^\"]*\">([\w.]+) \(", section)
    assert set(rows) == GROWING[pattern], section[:3000]
    if not GROWING[pattern]:
        assert "No site kept rising." in section
    # The gates: any growth of more than 1 KiB over the second half fails
    # a growing pattern; the steady one passes.
    if pattern in GATE_UNDECIDED:
        return
    gate = script(PRINT, ["--growth", "--max-site-growth=1KiB", *dumps, final], workdir)
    assert gate.returncode == (1 if GROWING[pattern] else 0), gate
    if GROWING[pattern]:
        assert re.search(r"^memtrack_print: exceeded: --max-site-growth=1KiB: ", gate.stderr, re.M), gate
    # memtrack_diff between two dumps of the second half shows what grew.
    d = script(DIFF, ["--format=json", "--max-site-growth=1KiB", dumps[len(dumps) // 2], dumps[-1]], workdir)
    assert d.returncode == (1 if GROWING[pattern] else 0), d
    gates = [x for x in json.loads(d.stdout)["thresholds"] if x["option"] == "--max-site-growth=1KiB"]
    assert len(gates) == 1 and gates[0]["exceeded"] == bool(GROWING[pattern]), gates
    grown = {re.sub(r"^0x[0-9A-Fa-f]+: ", "", s["frames"][0]).split(" ")[0] for s in gates[0]["sites"]}
    assert grown <= GROWING[pattern] | {"cache_buckets", "add_handler"}, grown
    assert grown >= GROWING[pattern] - {"thread_main"} or pattern == "threads"


def test_dumps_do_not_change_the_exit_profile(clients, workdir):
    """The exit profile of a run with dumps is DHAT's of the same run."""
    r, dumps, final, _ = run_pattern(clients, workdir, "cache")
    d = helpers.run_dhat([], [clients.path("growth_patterns"), "cache", str(ROUNDS)], workdir)
    assert d.returncode == 0, d
    dh = ph.load(next(workdir.glob("dhat.out.*")))
    probs, stats = ph.compare_sites(ph.checked_profile(final, r), dh)
    assert not probs, "\n".join(probs)
    # request_buffer, reply, cache_buckets, cache_entry, cache_value
    assert stats["sites"] == 5, stats


def test_numbering_without_percent_n(clients, workdir):
    """Without %n the dumps are <file>.1, <file>.2, ... and the exit
    profile keeps the name as given."""
    r = helpers.run_memtrack([f"--dump-every={EVERY}", "--dhat-out-file=prof.json"],
                             [clients.path("growth_patterns"), "steady", "80"], workdir)
    assert r.returncode == 0, r
    nums = sorted(int(p.suffix[1:]) for p in workdir.glob("prof.json.*"))
    assert nums and nums == list(range(1, len(nums) + 1)), nums
    fin = ph.checked_profile(workdir / "prof.json", r)
    last = ph.checked_profile(workdir / f"prof.json.{nums[-1]}")
    assert last["te"] < fin["te"]


def test_wall_clock_dumps_while_waiting(clients, workdir):
    """--dump-every in ms: a program asleep (waiting at point 1, waking
    every 10 ms) goes on writing dumps, each the same heap."""
    argv = [str(helpers.VG_IN_PLACE), "--tool=memtrack", "--dump-every=50ms", "--dhat-out-file=w.%n.json",
            clients.path("growth_patterns"), "cache", "40", str(workdir)]
    proc = subprocess.Popen(argv, cwd=workdir, env=helpers.base_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (workdir / "at1").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        first = len(list(workdir.glob("w.*.json")))
        while len(list(workdir.glob("w.*.json"))) < first + 3:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        (workdir / "go1").touch()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    nums = sorted(int(re.search(r"\.(\d+)\.json", p.name)[1]) for p in workdir.glob("w.*.json"))
    assert nums == list(range(1, len(nums) + 1))
    profs = [ph.checked_profile(workdir / f"w.{n}.json") for n in nums]
    waiting = [p for p in profs[first:first + 3]]
    ends = {ph.profile_sums(p)["end"] for p in waiting}
    assert len(ends) == 1, ends
    assert all(p["mtms"] > 0 for p in profs) and [p["mtms"] for p in profs] == sorted(p["mtms"] for p in profs)


@pytest.mark.parametrize("value,why", [
    ("10", "expected a unit after the number: ms, s, i, ki, Mi or Gi"),
    ("0s", "the interval must be above 0"),
    ("5x", "expected a unit after the number: ms, s, i, ki, Mi or Gi"),
    ("-1s", "expected a number and a unit such as 10s, 500ms or 100Mi"),
    ("s", "expected a number and a unit such as 10s, 500ms or 100Mi"),
    ("99999999999999999999i", "expected a number and a unit such as 10s, 500ms or 100Mi"),
])
def test_bad_dump_every(value, why, clients, workdir):
    r = helpers.run_memtrack([f"--dump-every={value}"], [clients.path("growth_patterns"), "steady", "1"], workdir)
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines[-1].endswith(f"Bad option: --dump-every={value}: {why}"), r.stderr
    assert not list(workdir.glob("memtrack.out.*"))


def test_growth_needs_a_series(clients, workdir):
    r, dumps, final, _ = run_pattern(clients, workdir, "steady")
    g = script(PRINT, ["--growth", final], workdir)
    assert g.returncode == 2 and g.stderr.startswith("memtrack_print: error: --growth needs a series"), g
    g = script(PRINT, [dumps[0], final], workdir)
    assert g.returncode == 2 and "only with --growth" in g.stderr, g
    g = script(PRINT, ["--growth", "--max-site-growth=12", dumps[0], final], workdir)
    assert g.returncode == 2 and "--max-site-growth: say 12% for a percentage" in g.stderr, g


def test_merge_a_forked_pair(clients, workdir):
    """memtrack_merge on tests/clients/life_fork.c's parent and child,
    whose figures are known by construction: parent 5,544 bytes in 3
    blocks allocated (100 + 1000 before the fork, 4444 after), child
    1,655 in 4 (the same two, then 222 + 333); lost at exit: 1000 each and
    333 in the child; and each printf's stdout buffer (4,096 bytes, stdout
    being a pipe). The tree: the child's parent is the parent."""
    r = helpers.run_memtrack(["--leak-check=full", "--dhat-out-file=f.%p.json", "--summary-file=f.%p.sum"],
                             [clients.path("life_fork")], workdir)
    assert r.returncode == 0, r
    roles = dict(l.split() for l in r.stdout.split("\n") if l)
    parent, child = int(roles["parent"]), int(roles["child"])
    files = sorted(workdir.glob("f.*"))
    m = script(MERGE, ["--format=json", "-o", workdir / "merged.json", *files], workdir)
    # Each process's definitely lost records are errors: the merged status
    # says both failed.
    assert m.returncode == 1, m
    assert sorted(int(x) for x in re.findall(r"failed: pid (\d+):", m.stderr)) == sorted([parent, child]), m.stderr
    doc = json.loads(m.stdout)
    assert doc["roots"] == [parent]
    assert {p["pid"]: p["ppid"] for p in doc["processes"]}[child] == parent
    assert (doc["totals"]["tb"], doc["totals"]["tbk"]) == (5544 + 1655 + 2 * 4096, 3 + 4 + 2)
    assert doc["leaks"]["definite"] == {"bytes": 1000 + 1000 + 333, "blocks": 3}
    assert doc["lost"] == 2333
    merged = ph.checked_profile(workdir / "merged.json")
    assert ph.profile_sums(merged)["total"] == (5544 + 1655 + 2 * 4096, 9)
    # The two processes' common sites are one merged site, with a column each.
    both = [s for s in doc["top"] if len(s["by_pid"]) == 2]
    assert sorted(s["tb"] for s in both) == [200, 2000], doc["top"]
    # Without the summaries, --leak-limit decides from the profiles' leak keys.
    profiles = sorted(workdir.glob("f.*.json"))
    assert script(MERGE, ["--leak-limit=2333", *profiles], workdir).returncode == 0
    over = script(MERGE, ["--leak-limit=2332", *profiles], workdir)
    assert over.returncode == 1 and "2,333 bytes lost, above --leak-limit=2332" in over.stderr, over
