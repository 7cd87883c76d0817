"""scripts/memtrack_print: the text (and JSON) report of a profile.

Every figure the report prints is checked against figures this file
computes on its own: sums and rankings over the profile's JSON, clients
whose allocations are known by construction (tests/clients/print_insights.c,
peak.c), memcheck's LEAK SUMMARY and loss records for the same program,
DHAT's summary lines for a profile written by the real DHAT, and, for the
heap-over-time graph, a massif file written by the real massif read by a
small parser here and by Valgrind's ms_print. --help, the man page and
`make install` cover every option. Bad input files and options, for this
script and the others: test_script_bad_input.py."""
import json
import math
import os
import re
import subprocess
from pathlib import Path

import pytest

import helpers
import leak_helpers
import profile_helpers as ph
import test_script_bad_input as tbi
import workloads

SCRIPT = helpers.REPO / "scripts" / "memtrack_print"
MAN = helpers.REPO / "docs" / "memtrack_print.1"
PYTHON = "/usr/bin/python3"
RULE = "-" * 80
ADDR = re.compile(r"^0x[0-9A-Fa-f]+: ")

# How each --sort metric is computed from a program point, written here
# from DHAT's definitions (docs/format.md), not taken from the script.
METRIC = {
    "total": lambda p: p["tb"], "total-blocks": lambda p: p["tbk"],
    "peak": lambda p: p["gb"], "peak-blocks": lambda p: p["gbk"], "max": lambda p: p["mb"],
    "end": lambda p: p["eb"], "end-blocks": lambda p: p["ebk"],
    "reads": lambda p: p["rb"], "writes": lambda p: p["wb"],
    "reads-per-byte": lambda p: p["rb"] / p["tb"] if p["tb"] else 0.0,
    "writes-per-byte": lambda p: p["wb"] / p["tb"] if p["tb"] else 0.0,
    "lifetime": lambda p: p["tl"] / p["tbk"] if p["tbk"] else 0.0,
    "avg-size": lambda p: p["tb"] / p["tbk"] if p["tbk"] else 0.0,
    "leaked": lambda p: p["ldb"] + p["lib"],
    # DHAT's short-lived blocks (tuth is 500 in memtrack's profiles) and
    # memtrack's temporary blocks (test_script_functions.py checks both).
    "short-lived": lambda p: p["tbk"] if p["tbk"] and p["tl"] <= 500 * p["tbk"] else 0,
    "temporary": lambda p: p["tmpbk"],
}


def mprint(args, cwd):
    return helpers.run([PYTHON, str(SCRIPT), *[str(a) for a in args]], cwd)


def ok(args, cwd):
    r = mprint(args, cwd)
    assert r.returncode == 0, r
    assert r.stderr == "", r
    return r.stdout


def as_json(args, cwd):
    return json.loads(ok([*args, "--format=json"], cwd))


def num(s):
    return int(s.replace(",", ""))


def frames(doc, pp):
    return [doc["ftbl"][i] for i in pp["fs"]]


def fn_of(frame):
    """'0x1234: get (peak.c:18)' -> 'get'."""
    return ADDR.sub("", frame).split(" (")[0]


def pp_by_function(doc, fn):
    pps = [pp for pp in doc["pps"] if fn_of(frames(doc, pp)[0]) == fn]
    assert len(pps) == 1, (fn, [frames(doc, p)[:2] for p in doc["pps"]])
    return pps[0]


def sums(doc, key):
    return sum(pp.get(key, 0) for pp in doc["pps"])


# ---------------------------------------------------------------------------
# Reading the text report


def text_sections(text):
    """The report's parts between its 80-dash rules (the header first)."""
    parts, cur = [], []
    for line in text.splitlines():
        if line == RULE:
            parts.append(cur)
            cur = []
        else:
            cur.append(line)
    parts.append(cur)
    return [p for p in parts if any(x.strip() for x in p)]


def section(text, first_words):
    for p in text_sections(text):
        body = [x for x in p if x.strip()]
        if body and body[0].startswith(first_words):
            return p
    raise AssertionError(f"no section starting {first_words!r} in:\n{text}")


ENTRY = re.compile(r"^\s*\[(\d+)\] (.*)$")
FRAME = re.compile(r"^\s+(at|by) (.*)$")


def entries(lines):
    """[{rank, head, details, frames}] for the '[n] ...' entries in lines;
    a new group heading (a line at column 0) ends the current entry."""
    out = []
    for line in lines:
        m = ENTRY.match(line)
        if m:
            out.append({"rank": int(m[1]), "head": m[2], "details": [], "frames": []})
        elif out and FRAME.match(line):
            out[-1]["frames"].append(FRAME.match(line)[2])
        elif out and line.startswith("    ") and not out[-1]["frames"]:
            out[-1]["details"].append(line.strip())
    return out


def summary_figures(text):
    """{'Total': (bytes, blocks), 'At t-gmax': ..., 'Reads': n, ...} from the
    Summary section (DHAT's summary lines' words)."""
    out = {}
    for line in section(text, "Summary"):
        m = re.match(r"^  (Total|At t-gmax|At t-end):\s+([\d,]+) \w+ in ([\d,]+) \w+", line)
        if m:
            out[m[1]] = (num(m[2]), num(m[3]))
        m = re.match(r"^  (Reads|Writes):\s+([\d,]+) bytes", line)
        if m:
            out[m[1]] = num(m[2])
    return out


# ---------------------------------------------------------------------------
# Runs shared by the tests of this module


def _memtrack(d, argv, name, opts=(), **kw):
    prof = d / f"{name}.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", *opts], argv, d, **kw)
    assert r.returncode == 0, r
    return r, prof


@pytest.fixture(scope="module")
def insights_run(clients, tmp_path_factory):
    """print_insights.c under memtrack (full leak search) and memcheck."""
    d = tmp_path_factory.mktemp("insights")
    exe = clients.path("print_insights")
    r, prof = _memtrack(d, [exe], "insights", ["--leak-check=full"])
    mc = helpers.run_memcheck(["--leak-check=full", "--show-leak-kinds=all"], [exe], d)
    assert mc.returncode == 0, mc
    return {"dir": d, "exe": exe, "prof": prof, "doc": json.loads(prof.read_text()),
            "stderr": r.stderr, "memcheck": mc.stderr}


@pytest.fixture(scope="module")
def peak_run(clients, tmp_path_factory):
    """peak.c under memtrack and under the real massif (time in bytes), and
    ms_print's view of massif's file."""
    d = tmp_path_factory.mktemp("peak")
    exe = clients.path("peak")
    r, prof = _memtrack(d, [exe], "peak", ["--leak-check=full"])
    massif = d / "peak.massif"
    m = helpers.run_tool("massif", ["--time-unit=B", "--stacks=no",
                                    f"--massif-out-file={massif}"], [exe], d)
    assert m.returncode == 0, m
    ms = helpers.run(["ms_print", massif], d)
    assert ms.returncode == 0, ms
    return {"dir": d, "exe": exe, "prof": prof, "doc": json.loads(prof.read_text()),
            "stderr": r.stderr, "massif": massif, "ms_print": ms.stdout}


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory):
    """sqlite3 on a generated script under memtrack and massif."""
    d = tmp_path_factory.mktemp("sqlite3")
    w = workloads.make("sqlite3", str(d / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, prof = _memtrack(d, w["argv"], "sqlite3", ["--leak-check=full"], env=w["env"],
                        stdin=w["stdin"])
    massif = d / "sqlite3.massif"
    m = helpers.run_tool("massif", ["--time-unit=B", "--stacks=no",
                                    f"--massif-out-file={massif}"], w["argv"], d,
                         env=w["env"], stdin=w["stdin"])
    assert m.returncode == 0, m
    ms = helpers.run(["ms_print", massif], d)
    assert ms.returncode == 0, ms
    return {"dir": d, "prof": prof, "doc": json.loads(prof.read_text()), "stderr": r.stderr,
            "massif": massif, "ms_print": ms.stdout}


# ---------------------------------------------------------------------------
# Summary


def test_summary_of_a_client_with_known_allocations(insights_run, workdir):
    """print_insights.c allocates 3,304 bytes in 80 blocks and leaves 288
    bytes in 6 blocks (see its header); the summary says so, and its other
    figures are the profile's sums."""
    doc = insights_run["doc"]
    text = ok([insights_run["prof"]], workdir)
    fig = summary_figures(text)
    assert fig["Total"] == (3304, 80)
    assert fig["At t-end"] == (288, 6)
    assert fig["Total"] == (sums(doc, "tb"), sums(doc, "tbk"))
    assert fig["At t-gmax"] == (sums(doc, "gb"), sums(doc, "gbk"))
    assert fig["Reads"] == sums(doc, "rb") and fig["Writes"] == sums(doc, "wb")
    # The same figures memtrack printed at exit (DHAT's summary lines).
    st = ph.stderr_figures(insights_run["stderr"])
    assert (fig["Total"], fig["At t-gmax"], fig["At t-end"], fig["Reads"], fig["Writes"]) == \
        (st["total"], st["gmax"], st["end"], st["reads"], st["writes"])
    summ = "\n".join(section(text, "Summary"))
    lost = sums(doc, "ldb") + sums(doc, "lib") + sums(doc, "lpb")
    assert lost == 40 + 56 + 72 + 88
    assert (f"  Leaks:     {lost:,} bytes lost at exit (definitely {sums(doc, 'ldb'):,}, "
            f"indirectly {sums(doc, 'lib'):,}, possibly {sums(doc, 'lpb'):,}); "
            f"{sums(doc, 'lrb'):,} bytes still reachable") in summ.splitlines()
    assert f"at {doc['tg']:,} of {doc['te']:,} instrs" in summ
    assert f"{len(doc['pps'])} allocation stacks" in summ
    # JSON: the same.
    js = as_json([insights_run["prof"]], workdir)["summary"]
    assert (js["total_bytes"], js["total_blocks"], js["gmax_bytes"], js["gmax_blocks"],
            js["end_bytes"], js["end_blocks"], js["reads"], js["writes"], js["sites"]) == \
        (3304, 80, sums(doc, "gb"), sums(doc, "gbk"), 288, 6, sums(doc, "rb"), sums(doc, "wb"),
         len(doc["pps"]))


# ---------------------------------------------------------------------------
# Top sites


def _expected_ranking(doc, metric):
    f = METRIC[metric]
    return sorted(doc["pps"], key=lambda p: (-f(p), -p["tb"], frames(doc, p)))


@pytest.mark.parametrize("metric", list(METRIC))
def test_top_sites_by_every_metric(metric, sqlite_run, workdir):
    """For each --sort metric, the top 15 sites of sqlite3's profile and their
    values are the ones this test ranks from the JSON; the text report shows
    the same values and frames."""
    doc = sqlite_run["doc"]
    f = METRIC[metric]
    want = _expected_ranking(doc, metric)[:15]
    js = as_json([sqlite_run["prof"], f"--sort={metric}", "--top=15"], workdir)
    assert js["sort"] == metric
    got = js["top"]
    assert [g["rank"] for g in got] == list(range(1, len(want) + 1))
    assert [pytest.approx(g["value"]) for g in got] == [f(p) for p in want]
    # The same sites (ties may come in another order only if their frames
    # sort alike, which the frames then settle).
    assert [g["frames"] for g in got] == [frames(doc, p) for p in want]
    for g, p in zip(got, want):
        for k in ("tb", "tbk", "gb", "eb", "mb", "rb", "wb", "ldb", "lib", "lpb", "lrb"):
            assert g["figures"][k] == p[k], (k, g, p)
    # Text: the headline value of each entry, and its frames.
    text = ok([sqlite_run["prof"], f"--sort={metric}", "--top=15", "--frames=0"], workdir)
    top = section(text, "Top 15 of")
    assert f"(--sort={metric})" in top[0] or any(f"(--sort={metric})" in x for x in top)
    es = entries(top)
    assert len(es) == len(want)
    for e, p in zip(es, want):
        m = re.match(r"^([\d,.]+) ", e["head"])
        assert m, e
        shown = float(m[1].replace(",", ""))
        assert shown == pytest.approx(f(p), abs=0.051 if isinstance(f(p), float) else 0), (e, p)
        assert e["frames"] == frames(doc, p)
    total = sum(f(p) for p in doc["pps"])
    if metric in ("total", "peak", "end", "reads", "writes") and total:
        # The share printed is of the profile's sum.
        m = re.search(r"\(([\d.]+)%\)", es[0]["head"])
        assert m, es[0]
        assert float(m[1]) == pytest.approx(100 * f(want[0]) / total, abs=0.006)


def test_site_entries_of_known_client(peak_run, workdir):
    """peak.c's sites in total order, every figure of each entry as the
    profile has it, and the remainder line when --top cuts the list."""
    doc = peak_run["doc"]
    text = ok([peak_run["prof"], "--top=2"], workdir)
    top = section(text, "Top 2 of 4")
    es = entries(top)
    want = _expected_ranking(doc, "total")
    assert want[0]["tb"] == 12000 and want[0]["tbk"] == 12  # get() from main's first loop
    for e, p in zip(es, want):
        d = " ".join(e["details"])
        assert f"total {p['tb']:,} bytes" in d
        assert f"live at t-gmax {p['gb']:,} bytes in {p['gbk']:,}" in d
        assert f"at t-end {p['eb']:,} bytes in {p['ebk']:,}" in d
        assert f"own peak {p['mb']:,} bytes in {p['mbk']:,}" in d
        assert f"reads {p['rb']:,} bytes" in d and f"writes {p['wb']:,} bytes" in d
        m = re.search(r"avg lifetime ([\d,.]+) instrs", d)
        assert m and float(m[1].replace(",", "")) == pytest.approx(p["tl"] / p["tbk"], abs=0.051)
        assert e["frames"] == frames(doc, p)
    rest = want[2:]
    line = [x for x in top if x.startswith("... ")]
    assert line == [f"... 2 more sites: {sum(p['tb'] for p in rest):,} bytes "
                    f"({100 * sum(p['tb'] for p in rest) / sums(doc, 'tb'):.2f}%)"]


def test_frames_limit(sqlite_run, workdir):
    doc = sqlite_run["doc"]
    deep = max(doc["pps"], key=lambda p: (len(p["fs"]), p["tb"]))
    assert len(deep["fs"]) > 3
    js = as_json([sqlite_run["prof"], "--top=0"], workdir)
    assert len(js["top"]) == len(doc["pps"])
    text = ok([sqlite_run["prof"], "--top=0", "--frames=3"], workdir)
    es = entries(section(text, "Top "))
    assert len(es) == len(doc["pps"])
    assert all(len(e["frames"]) <= 3 for e in es)
    assert any("more frames (--frames=0 shows all)" in x for x in text.splitlines())


# ---------------------------------------------------------------------------
# Leaks


def test_leaks_by_kind_and_site_match_memcheck(insights_run, workdir):
    """The leak summary is memcheck's LEAK SUMMARY for the same program;
    each kind lists its sites with the bytes print_insights.c leaks there by
    construction, which are memcheck's loss records."""
    doc = insights_run["doc"]
    text = ok([insights_run["prof"], "--leak-kinds=all"], workdir)
    leaks = section(text, "Leaks at exit")
    mine = {}
    for line in leaks:
        m = re.match(r"^  (definitely lost|indirectly lost|possibly lost|still reachable):\s+"
                     r"([\d,]+) bytes in\s+([\d,]+) blocks?$", line)
        if m:
            mine[m[1]] = (num(m[2]), num(m[3]))
    mc = leak_helpers.parse(insights_run["memcheck"]).summary_numbers()
    assert mine == {k: mc[k] for k in mine} and len(mine) == 4, (mine, mc)
    assert mine == {"definitely lost": (96, 2), "indirectly lost": (72, 1),
                    "possibly lost": (88, 1), "still reachable": (32, 2)}
    # Per kind: the sites, biggest first.
    groups, cur = {}, None
    for line in leaks:
        m = re.match(r"^(Definitely lost|Indirectly lost|Possibly lost|Still reachable): ", line)
        if m:
            cur = groups.setdefault(m[1].lower(), [])
        elif cur is not None:
            cur.append(line)
    got = {k: [(fn_of(e["frames"][0]), num(e["head"].split()[0])) for e in entries(v)]
           for k, v in groups.items()}
    assert got == {"definitely lost": [("lost_indirect", 56), ("lost_definite", 40)],
                   "indirectly lost": [("lost_child", 72)],
                   "possibly lost": [("lost_possible", 88)],
                   "still reachable": [("kept_reachable", 32)]}
    # memcheck's loss records: the same bytes per innermost program function
    # (for definite records the direct part, the rest being indirect).
    recs = leak_helpers.parse(insights_run["memcheck"]).exit_records
    by_fn = {}
    for rec in recs:
        fn = [re.sub(r"^\s+(at|by) 0x\S+: ", "", f).split(" (")[0] for f in rec.frames
              if "vgpreload" not in f][0]
        n = rec.numbers
        by_fn[(rec.kind, fn)] = n["direct"] if n["direct"] is not None else n["total"]
    for kind, sites in got.items():
        for fn, b in sites:
            assert by_fn[(kind, fn)] == b, (kind, fn, by_fn)
    # Default --leak-kinds: reachable sites are not listed.
    text = ok([insights_run["prof"]], workdir)
    assert "Still reachable: " not in text and "(sites not listed for: still reachable" in text
    js = as_json([insights_run["prof"]], workdir)["leaks"]
    assert js["kinds"]["definite"] == {"bytes": sums(doc, "ldb"), "blocks": sums(doc, "ldbk")}
    assert js["kinds"]["reachable"] == {"bytes": sums(doc, "lrb"), "blocks": sums(doc, "lrbk")}
    assert set(js["sites"]) == {"definite", "indirect", "possible"}


def test_no_leak_section_without_leak_search(clients, workdir):
    exe = clients.path("print_insights")
    _, prof = _memtrack(workdir, [exe], "noleak", ["--leak-check=no"])
    assert "mtleak" not in json.loads(prof.read_text())
    text = ok([prof], workdir)
    assert "Leaks at exit" not in text
    assert "Leaks:     not in this profile" in text
    r = mprint([prof, "--sort=leaked"], workdir)
    assert r.returncode == 2 and "has no leak figures" in r.stderr, r


# ---------------------------------------------------------------------------
# Access insights


def _insight_groups(text):
    """{heading: [(function, entry)]} from the Access insights section."""
    lines = section(text, "Access insights")
    groups, cur = {}, None
    for line in lines:
        m = re.match(r"^([A-Z][\w ,-]+): (\d+ sites?|none)", line)
        if m:
            cur = groups.setdefault(m[1], [])
        elif cur is not None:
            cur.append(line)
    return {k: [(fn_of(e["frames"][0]), e) for e in entries(v)] for k, v in groups.items()}


def test_access_insights_known_by_construction(insights_run, workdir):
    doc = insights_run["doc"]
    text = ok([insights_run["prof"], "--top=0"], workdir)
    g = _insight_groups(text)
    fns = {k: [fn for fn, _ in v] for k, v in g.items()}
    # By construction (print_insights.c's table).
    assert fns["Never accessed"] == ["never_touched"]
    assert fns["Read, never written"] == ["read_only"]
    assert {"write_only", "short_lived", "lost_definite", "lost_child", "lost_possible",
            "kept_reachable"} <= set(fns["Written, never read"])
    assert not {"used_fully", "half_used", "read_only"} & set(fns["Written, never read"])
    assert "short_lived" in fns["Short-lived"] and "used_fully" not in fns["Short-lived"]
    # And by DHAT's definitions over the JSON, the whole lists in order.
    pps = doc["pps"]
    name = lambda p: fn_of(frames(doc, p)[0])
    by_bytes = lambda ps: [name(p) for p in sorted(ps, key=lambda p: (-p["tb"], -p["tbk"],
                                                                      frames(doc, p)))]
    assert fns["Never accessed"] == by_bytes([p for p in pps if not p["rb"] and not p["wb"]])
    assert fns["Written, never read"] == by_bytes([p for p in pps if not p["rb"] and p["wb"]])
    assert fns["Read, never written"] == by_bytes([p for p in pps if p["rb"] and not p["wb"]])
    short = sorted((p for p in pps if p["tl"] / p["tbk"] <= doc["tuth"]),
                   key=lambda p: (-p["tbk"], -p["tb"], frames(doc, p)))
    assert fns["Short-lived"] == [name(p) for p in short]
    # Bytes never accessed: half_used touches bytes 8..23 of 48; short_lived
    # byte 0 of 24.
    unused = dict(g["Bytes never accessed"])
    assert list(unused) == ["short_lived", "half_used"]  # 50 x 23 bytes before 5 x 32
    assert unused["half_used"]["head"].startswith(
        "32 of 48 bytes of each block never accessed (offsets 0-7, 24-47); 160 bytes over 5 "
        "blocks")
    assert unused["short_lived"]["head"].startswith(
        "23 of 24 bytes of each block never accessed (offsets 1-23); 1,150 bytes over 50 blocks")
    for fn in ("never_touched", "used_fully", "write_only", "read_only"):
        assert fn not in unused  # fully used, or not at all (listed above instead)
    js = as_json([insights_run["prof"], "--top=0"], workdir)["insights"]
    hu = [x for x in js["unused_bytes"]["list"] if fn_of(x["frames"][0]) == "half_used"][0]
    assert hu["unused_offsets"] == list(range(0, 8)) + list(range(24, 48))
    assert hu["block_size"] == 48
    assert js["never_accessed"]["bytes"] == 192 and js["never_accessed"]["blocks"] == 3
    assert js["unused_bytes"]["unused_bytes"] == 160 + 1150
    # The unused offsets are the profile's zero counts.
    acc = ph.decode_acc(pp_by_function(doc, "half_used")["acc"])
    assert [i for i, v in enumerate(acc) if v == 0] == hu["unused_offsets"]


def test_short_lived_threshold(insights_run, workdir):
    doc = insights_run["doc"]
    longest = max(p["tl"] / p["tbk"] for p in doc["pps"])
    js = as_json([insights_run["prof"], f"--short-lived={math.ceil(longest)}"], workdir)
    assert js["insights"]["short_lived"]["sites"] == len(doc["pps"])
    js = as_json([insights_run["prof"], "--short-lived=0"], workdir)
    assert js["insights"]["short_lived"]["sites"] == sum(1 for p in doc["pps"] if p["tl"] == 0)
    t = min(p["tl"] / p["tbk"] for p in doc["pps"])
    js = as_json([insights_run["prof"], f"--short-lived={int(t)}"], workdir)
    assert js["insights"]["short_lived"]["sites"] == \
        sum(1 for p in doc["pps"] if p["tl"] / p["tbk"] <= int(t))


def test_insights_without_access_tracking(clients, workdir):
    exe = clients.path("print_insights")
    _, prof = _memtrack(workdir, [exe], "noacc", ["--access-tracking=no"])
    doc = json.loads(prof.read_text())
    assert doc["bkacc"] is False
    text = ok([prof], workdir)
    g = _insight_groups(text)
    assert list(g) == ["Short-lived"]
    assert "run memtrack with --access-tracking=yes" in text
    for m in ("reads", "writes", "reads-per-byte"):
        r = mprint([prof, f"--sort={m}"], workdir)
        assert r.returncode == 2 and "has no access counts" in r.stderr, r


# ---------------------------------------------------------------------------
# Heap over time, from a file written by the real massif


def massif_snapshots(path):
    """The snapshots of a massif file, read here line by line: [{time,
    total, kind}] in file order."""
    snaps = []
    for line in Path(path).read_text().splitlines():
        m = re.match(r"^(snapshot|time|mem_heap_B|mem_heap_extra_B|mem_stacks_B|heap_tree)"
                     r"=(.*)$", line)
        if not m:
            continue
        if m[1] == "snapshot":
            snaps.append({"total": 0})
        elif m[1] == "time":
            snaps[-1]["time"] = int(m[2])
        elif m[1] == "heap_tree":
            snaps[-1]["kind"] = m[2]
        else:
            snaps[-1]["total"] += int(m[2])
    return snaps


def graph_grid(lines):
    """The rows of an ASCII graph (top first) as strings of its width,
    from the row holding '^' down to the one above the '+' axis."""
    top = [i for i, l in enumerate(lines) if "^" in l][0]
    col = lines[top].index("^")
    end = [i for i, l in enumerate(lines) if i > top and len(l) > col and l[col] == "+"][0]
    width = len(lines[end]) - col - 1
    width = lines[end][col + 1:].index(">")
    return [l[col + 1:col + 1 + width].ljust(width) for l in lines[top:end]], lines[top], \
        lines[end + 1], width


def ms_print_facts(out):
    lines = out.splitlines()
    n = int(re.search(r"^Number of snapshots: (\d+)$", out, re.M)[1])
    det = re.search(r"^ Detailed snapshots: \[(.*)\]$", out, re.M)[1]
    start = [i for i, l in enumerate(lines) if re.match(r"^\s*[\d.]+\^", l)][0]
    grid, top, xlab, width = graph_grid(lines[start:start + 60])
    return {"n": n, "detailed": det, "grid": grid, "ylabel": re.match(r"^\s*([\d.]+)\^", top)[1],
            "xlabel": xlab.split()[-1], "width": width}


def _check_graph(text, snaps, width, height):
    """The graph drawn as the script's --help and the manual define it,
    checked against the snapshots read here: a column per width-th of the
    time axis, a bar of ceil(total * height / largest) rows, '#' for the
    peak, '@' detailed, ':' the rest, the highest bar of a column winning
    in height and the strongest character winning in kind."""
    lines = section(text, "Heap over time")
    grid, top, xlab, w = graph_grid(lines)
    assert w == width and len(grid) == height, (w, len(grid))
    tmax = snaps[-1]["time"]
    ymax = max(s["total"] for s in snaps)
    want = {}
    rank = {":": 0, "@": 1, "#": 2}
    for s in snaps:
        c = 0 if tmax == 0 else min(width - 1, s["time"] * width // tmax)
        h = -(-s["total"] * height // ymax)
        ch = {"peak": "#", "detailed": "@", "empty": ":"}[s["kind"]]
        oh, och = want.get(c, (0, ":"))
        want[c] = (max(oh, h), ch if rank[ch] > rank[och] else och)
    for c in range(width):
        column = "".join(row[c] for row in reversed(grid))  # bottom first
        if c in want:
            h, ch = want[c]
            assert column == ch * h + " " * (height - h), (c, column, want[c])
        else:
            assert set(column) <= {" ", "."} and column.count(".") <= 1, (c, column)
    return grid, top, xlab


def _near(mine, theirs):
    """Two axis labels agree to the precision of ms_print's (it prints a
    few significant digits, this script two decimals)."""
    dec = min(len(x.split(".")[1]) if "." in x else 0 for x in (mine, theirs))
    return abs(float(mine) - float(theirs)) <= 0.5 * 10 ** -dec + 1e-9


def _compare_with_ms_print(text, snaps, ms_out):
    grid, top, xlab = _check_graph(text, snaps, 72, 20)
    ms = ms_print_facts(ms_out)
    lines = section(text, "Heap over time")
    # The same snapshots, detailed ones and peak.
    assert len(snaps) == ms["n"]
    assert f"Snapshots: {ms['n']}; detailed: [{ms['detailed']}]" in lines
    # The axes: the largest total and the last time, in KiB/MiB (ms_print's
    # KB/MB are 1024s too).
    ymax = max(s["total"] for s in snaps)
    ylabel = re.match(r"^\s*([\d.]+) \^", top)[1]
    unit = lines[[i for i, l in enumerate(lines) if "^" in l][0] - 1].strip()
    div = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}[unit]
    assert ylabel == (f"{ymax / div:.2f}" if div > 1 else str(ymax))
    assert _near(ylabel, ms["ylabel"]), (ylabel, ms["ylabel"])
    assert _near(xlab.split()[-1], ms["xlabel"]), (xlab, ms["xlabel"])
    # The peak and the detailed snapshots stand in the same columns as in
    # ms_print's graph (its bottom row: every bar reaches it).
    cols = lambda g, chars: {c for c in range(len(g[0])) if g[-1][c] in chars}
    assert cols(grid, "#") == cols(ms["grid"], "#") and len(cols(grid, "#")) == 1
    assert cols(grid, "@#") == cols(ms["grid"], "@#")
    return lines


def test_graph_from_real_massif_matches_ms_print(peak_run, workdir):
    snaps = massif_snapshots(peak_run["massif"])
    text = ok([peak_run["prof"], "--massif", peak_run["massif"]], workdir)
    lines = _compare_with_ms_print(text, snaps, peak_run["ms_print"])
    # The peak line: massif's peak snapshot's figures.
    peak_pos = [i for i, s in enumerate(snaps) if s["kind"] == "peak"][0]
    p = snaps[peak_pos]
    line = [l for l in lines if l.startswith("Peak: ")][0]
    assert line.startswith(f"Peak: snapshot {peak_pos} at time {p['time']:,}: {p['total']:,} "
                           "bytes")
    # peak.c: at massif's peak the program holds 10,800 bytes (get's 8,400,
    # main's realloc'd 1,900 and 500): massif's useful heap.
    assert "= 10,800 useful heap + " in line
    assert any(re.match(r"^\s+[\d.]+%\s+8,400\s+0x[0-9A-F]+: get \(peak\.c:18\)$", l)
               for l in lines), lines


def test_graph_from_memtracks_own_massif_output(clients, workdir):
    """One memtrack run writes the profile and the massif-format file
    (--massif-out-file): memtrack_print draws it as the rules say, and as
    ms_print reads the same file."""
    exe = clients.path("peak")
    prof, massif = workdir / "one.json", workdir / "one.massif"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", f"--massif-out-file={massif}",
                              "--time-unit=B"], [exe], workdir)
    assert r.returncode == 0, r
    ms = helpers.run(["ms_print", massif], workdir)
    assert ms.returncode == 0, ms
    snaps = massif_snapshots(massif)
    text = ok([prof, "--massif", massif], workdir)
    lines = _compare_with_ms_print(text, snaps, ms.stdout)
    assert not any("(note: the massif file's command" in l for l in lines)
    # The peak snapshot's useful heap is at most memtrack's exact peak.
    p = [s for s in snaps if s["kind"] == "peak"][0]
    heap = int(re.search(r"= ([\d,]+) useful heap", "\n".join(lines))[1].replace(",", ""))
    assert heap <= sums(json.loads(prof.read_text()), "gb") and p["total"] >= heap


def test_graph_size_options_and_json(peak_run, workdir):
    snaps = massif_snapshots(peak_run["massif"])
    text = ok([peak_run["prof"], "--massif", peak_run["massif"], "--x=30", "--y=6"], workdir)
    _check_graph(text, snaps, 30, 6)
    js = as_json([peak_run["prof"], "--massif", peak_run["massif"]], workdir)["heap_over_time"]
    assert [s["time"] for s in js["snapshots"]] == [s["time"] for s in snaps]
    assert [s["total"] for s in js["snapshots"]] == [s["total"] for s in snaps]
    assert [s["kind"] for s in js["snapshots"]] == [s["kind"] for s in snaps]
    assert js["peak"] == [i for i, s in enumerate(snaps) if s["kind"] == "peak"][0]
    assert js["detailed"] == [i for i, s in enumerate(snaps) if s["kind"] != "empty"]
    assert js["time_unit"] == "B"
    # A copy with Windows line ends and blanks after the values (which
    # ms_print refuses) draws the same graph.
    crlf = workdir / "crlf.massif"
    crlf.write_bytes(peak_run["massif"].read_bytes().replace(b"\n", b" \r\n"))
    graph = lambda path: [l for l in section(ok([peak_run["prof"], "--massif", path], workdir),
                                              "Heap over time") if "(from " not in l]
    assert graph(crlf) == graph(peak_run["massif"])
    # Without --massif there is no graph.
    assert "Heap over time" not in ok([peak_run["prof"]], workdir)


def test_graph_of_sqlite3_matches_ms_print(sqlite_run, workdir):
    snaps = massif_snapshots(sqlite_run["massif"])
    text = ok([sqlite_run["prof"], "--massif", sqlite_run["massif"]], workdir)
    _compare_with_ms_print(text, snaps, sqlite_run["ms_print"])


def test_graph_in_instructions_with_stacks(clients, workdir):
    """massif's default time unit (instructions) and --stacks=yes: the
    total includes the stacks, the x axis is in instructions."""
    exe = clients.path("peak")
    massif = workdir / "i.massif"
    m = helpers.run_tool("massif", ["--stacks=yes", f"--massif-out-file={massif}"], [exe],
                         workdir)
    assert m.returncode == 0, m
    _, prof = _memtrack(workdir, [exe], "i")
    snaps = massif_snapshots(massif)
    assert any("mem_stacks_B=0" != l and l.startswith("mem_stacks_B=")
               for l in massif.read_text().splitlines())
    text = ok([prof, "--massif", massif], workdir)
    grid, top, xlab = _check_graph(text, snaps, 72, 20)
    tmax = snaps[-1]["time"]
    axis = [l for l in section(text, "Heap over time") if re.search(r"\+-+> ", l)][0]
    unit = axis.split("> ")[1]
    div = {"instrs": 1, "k instrs": 10 ** 3, "M instrs": 10 ** 6, "G instrs": 10 ** 9}[unit]
    assert div <= tmax < div * 1000 or (div == 10 ** 9 and tmax >= div)
    assert float(xlab.split()[-1]) == pytest.approx(tmax / div, abs=0.006)
    head = [l for l in section(text, "Heap over time") if l.strip()][0]
    assert f"(from {massif}, massif format; time in instructions)" in head


def test_massif_of_another_command_is_noted(peak_run, insights_run, workdir):
    text = ok([insights_run["prof"], "--massif", peak_run["massif"]], workdir)
    assert "(note: the massif file's command is " in text


# ---------------------------------------------------------------------------
# Real programs and DHAT's own profiles


@pytest.mark.parametrize("name", ["sqlite3", "python3", "xz"])
def test_real_program(name, workdir):
    w = workloads.make(name, str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, prof = _memtrack(workdir, w["argv"], name, env=w["env"], stdin=w["stdin"])
    doc = json.loads(prof.read_text())
    text = ok([prof], workdir)
    fig = summary_figures(text)
    assert fig["Total"] == (sums(doc, "tb"), sums(doc, "tbk"))
    assert fig["At t-gmax"] == (sums(doc, "gb"), sums(doc, "gbk"))
    assert fig["At t-end"] == (sums(doc, "eb"), sums(doc, "ebk"))
    assert fig["Reads"] == sums(doc, "rb") and fig["Writes"] == sums(doc, "wb")
    es = entries(section(text, "Top 10 of"))
    want = _expected_ranking(doc, "total")[:10]
    assert [num(e["head"].split()[0]) for e in es] == [p["tb"] for p in want]
    assert [e["frames"] for e in es] == [frames(doc, p) for p in want]
    js = as_json([prof, "--sort=peak", "--top=5"], workdir)
    assert [t["value"] for t in js["top"]] == [p["gb"] for p in _expected_ranking(doc, "peak")[:5]]
    # Insights over the whole profile: counts by DHAT's definitions.
    ins = js["insights"]
    assert ins["never_accessed"]["sites"] == sum(1 for p in doc["pps"]
                                                 if p["tb"] and not p["rb"] and not p["wb"])
    assert ins["write_only"]["bytes"] == sum(p["tb"] for p in doc["pps"]
                                             if not p["rb"] and p["wb"])
    assert ins["short_lived"]["blocks"] == sum(p["tbk"] for p in doc["pps"]
                                               if p["tl"] <= doc["tuth"] * p["tbk"])
    unused = 0
    for p in doc["pps"]:
        if "acc" in p:
            acc = ph.decode_acc(p["acc"])
            z = acc.count(0)
            if 0 < z < len(acc):
                unused += z * p["tbk"]
    assert ins["unused_bytes"]["unused_bytes"] == unused
    leaks = js["leaks"]["kinds"]
    assert leaks["definite"]["bytes"] == sums(doc, "ldb")
    assert leaks["reachable"]["blocks"] == sums(doc, "lrbk")


def test_profile_written_by_dhat(insights_run, workdir):
    """Valgrind's own DHAT writes the profile: memtrack_print reads it, and
    its summary is DHAT's summary lines."""
    dr, dp = ph.run_dhat([], [insights_run["exe"]], workdir)
    assert dr.returncode == 0, dr
    doc = json.loads(dp.read_text())
    text = ok([dp, "--top=3"], workdir)
    fig = summary_figures(text)
    st = ph.stderr_figures(dr.stderr)
    assert (fig["Total"], fig["At t-gmax"], fig["At t-end"], fig["Reads"], fig["Writes"]) == \
        (st["total"], st["gmax"], st["end"], st["reads"], st["writes"])
    assert "Leaks:     not in this profile" in text and "Leaks at exit" not in text
    es = entries(section(text, "Top 3 of"))
    assert [e["frames"] for e in es] == [frames(doc, p) for p in
                                         _expected_ranking(doc, "total")[:3]]
    # DHAT keeps its allocator frame where its preload has no debug info;
    # otherwise it drops it, as memtrack does (test_prof_sites_figures).
    if helpers.oracle_preload_has_debug_info("dhat"):
        assert not helpers.is_preload_frame(es[0]["frames"][0]), es[0]["frames"]
    else:
        assert "vgpreload_dhat" in es[0]["frames"][0]
    js = as_json([dp], workdir)
    assert js["insights"]["never_accessed"]["sites"] == 1  # never_touched()
    r = mprint([dp, "--sort=leaked"], workdir)
    assert r.returncode == 2 and "has no leak figures" in r.stderr, r


def test_copy_and_ad_hoc_profiles(clients, workdir):
    exe = ph.compile_client("prof_copy", ["-O0", "-fno-builtin"], out_name="prof_copy-plain")
    r, prof = _memtrack(workdir, [exe], "copy", ["--mode=copy"])
    doc = json.loads(prof.read_text())
    text = ok([prof], workdir)
    assert "(copy mode," in text
    assert summary_figures(text)["Total"] == (sums(doc, "tb"), sums(doc, "tbk"))
    assert ph.stderr_figures(r.stderr)["total"] == summary_figures(text)["Total"]
    assert "Access insights" not in text and "At t-gmax" not in text
    for m in ("peak", "end", "lifetime", "leaked"):
        rr = mprint([prof, f"--sort={m}"], workdir)
        assert rr.returncode == 2 and len(rr.stderr.splitlines()) == 1, rr
    r, prof = _memtrack(workdir, [clients.path("prof_adhoc")], "adhoc", ["--mode=ad-hoc"])
    doc = json.loads(prof.read_text())
    text = ok([prof, "--sort=total-blocks"], workdir)
    line = [l for l in section(text, "Summary") if l.startswith("  Total:")][0]
    assert line.startswith(f"  Total:     {sums(doc, 'tb'):,} units in {sums(doc, 'tbk'):,} "
                           "events")
    es = entries(section(text, "Top "))
    assert num(es[0]["head"].split()[0]) == max(p["tbk"] for p in doc["pps"])
    assert es[0]["head"].split()[1] == "events"


def test_odd_frame_strings_are_shown_safely(workdir):
    """Control characters in a frame come out as \\xNN (nothing reaches the
    terminal raw), a lone UTF-16 surrogate as an escape, not a crash."""
    doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": False,
           "bkacc": False, "tu": "instrs", "Mtu": "Minstr", "cmd": "x\x1b[2J", "pid": 1,
           "te": 10, "pps": [{"tb": 8, "tbk": 1, "fs": [1]}, {"tb": 4, "tbk": 1, "fs": [2]}],
           "ftbl": ["[root]", "0x1: evil\x1b]0;title\x07 (a.c:1)", "0x2: f\ud800g (a.c:2)"]}
    prof = workdir / "odd.json"
    prof.write_text(json.dumps(doc))
    r = mprint([prof], workdir)
    assert r.returncode == 0 and r.stderr == "", r
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "at 0x1: evil\\x1b]0;title\\x07 (a.c:1)" in r.stdout
    assert "at 0x2: f\\ud800g (a.c:2)" in r.stdout
    assert "Command:        x\\x1b[2J" in r.stdout


def test_closed_pipe_is_not_an_error(sqlite_run, workdir):
    p = subprocess.run(f"{PYTHON} {SCRIPT} --top=0 {sqlite_run['prof']} | head -1",
                       shell=True, capture_output=True, text=True, cwd=workdir)
    assert p.stdout == RULE + "\n"
    assert p.stderr == "", p.stderr


# ---------------------------------------------------------------------------
# A massif file cut short (bad input of every kind, for all the scripts:
# test_script_bad_input.py)


def test_massif_file_cut_between_snapshots_is_a_shorter_one(peak_run, workdir):
    """Cut between two snapshots, a massif file is a valid shorter one: the
    graph has the snapshots before the cut."""
    good = peak_run["massif"].read_text()
    path = workdir / "cut.massif"
    between, _ = tbi.massif_cuts(good)
    assert len(between) > 10, between
    for n, snaps in between[::3] + between[-1:]:
        path.write_text(good[:n])
        js = as_json([peak_run["prof"], "--massif", path, "--sections=graph"], workdir)
        assert len(js["heap_over_time"]["snapshots"]) == snaps


# ---------------------------------------------------------------------------
# --help, the man page, make install


def help_options(text):
    """The options --help lists (argparse puts them two spaces in; wrapped
    help text is indented further)."""
    return set(re.findall(r"^  (-[\w-]+|--[\w-]+)", text, re.M)) | \
        set(re.findall(r"^  -\w, (--[\w-]+)", text, re.M))


def man_options(path):
    """The options named in the tag lines (after .TP) of the man page's
    OPTIONS section."""
    sect = Path(path).read_text().split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]
    lines = sect.splitlines()
    found = set()
    for i, line in enumerate(lines[:-1]):
        if line == ".TP":
            for o in re.findall(r"\\-(?:\\-)?[a-z][a-z\\-]*", lines[i + 1]):
                found.add(o.replace("\\-", "-").rstrip("-"))
    return found, sect


def check_help_and_man(script, man, run, workdir, sample_args, must):
    r = run(["--help"], workdir)
    assert r.returncode == 0 and r.stderr == "", r
    opts = help_options(r.stdout)
    assert must <= opts, must - opts
    # Each option listed is one the script accepts.
    for o in sorted(opts - {"-h", "--help", "--version"}):
        rr = run([*sample_args, o], workdir)
        assert "unrecognized arguments" not in rr.stderr, (o, rr)
    mopts, sect = man_options(man)
    assert opts == mopts, ("--help vs man page", opts ^ mopts)
    r = run(["--version"], workdir)
    assert r.returncode == 0 and re.match(rf"^{Path(script).name} \(memtrack\) \d+\.\d+", r.stdout)
    return r, sect


def test_help_and_man_page_document_every_option(insights_run, workdir):
    must = {"-h", "--help", "--version", "--sort", "--top", "--frames", "--massif", "--x",
            "--y", "--leak-kinds", "--short-lived", "--sections", "--callers", "--format"}
    _, sect = check_help_and_man(SCRIPT, MAN, mprint, workdir, [insights_run["prof"]], must)
    help_text = mprint(["--help"], workdir).stdout
    for m in METRIC:
        assert m in help_text, m
        assert m.replace("-", "\\-") in sect, m


def man_renders(man):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(man)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    p = subprocess.run(["groff", "-man", "-Tutf8", str(man)], capture_output=True, text=True,
                       env=dict(os.environ, GROFF_NO_SGR="1"))
    text = re.sub(r".\x08", "", p.stdout)
    for word in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES",
                 "SEE ALSO", Path(man).stem):
        assert word in text, word


def test_man_page_renders_without_warnings():
    man_renders(MAN)


def test_make_install_installs_both_scripts_and_man_pages(insights_run, workdir):
    """memtrack_print and memtrack_diff (which loads memtrack_print from its
    own directory) work from where `make install` puts them."""
    dest = workdir / "dest"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"], cwd=helpers.BUILDDIR,
                       env=env, capture_output=True, text=True, timeout=helpers.TIMEOUT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for name in ("memtrack_print", "memtrack_diff"):
        scripts = list(dest.rglob(f"bin/{name}"))
        mans = list(dest.rglob(f"man1/{name}.1"))
        assert len(scripts) == 1 and len(mans) == 1, sorted(str(x) for x in dest.rglob("*"))
        assert os.access(scripts[0], os.X_OK)
        assert mans[0].read_text() == (helpers.REPO / "docs" / f"{name}.1").read_text()
    bindir = list(dest.rglob("bin/memtrack_print"))[0].parent
    prof = insights_run["prof"]
    r = helpers.run([bindir / "memtrack_print", prof, "--top=1"], workdir)
    assert r.returncode == 0 and "Top 1 of" in r.stdout, r
    r = helpers.run([bindir / "memtrack_diff", prof, prof, "--max-growth=0%"], workdir)
    assert r.returncode == 0 and "No site changed." in r.stdout, r
    assert not list(dest.rglob("__pycache__")), "the scripts must not write bytecode"
