"""scripts/memtrack_report: the self-contained HTML report, opened in a real
browser (Debian's chromium driven by playwright-core, tests/browser.py).

Every page must load without a console error or page exception and without
asking for anything but itself (no network, no other file). What it shows is
checked against figures this file computes on its own: sums over the
profile's JSON, the massif file read by a small parser here, ms_print's
table of the same file, memcheck's LEAK SUMMARY of the same program, and
clients whose allocations are known by construction. Frame strings full of
HTML's special characters must come out as the same text. A screenshot must
be a real picture. --help, the man page and `make install` cover every
option and file; bad input files and options (one line, exit status 2):
test_script_bad_input.py."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import browser
import helpers
import workloads

sys.path.insert(0, str(helpers.REPO / "scripts"))
from memtrack_lib import labels as LABELS  # noqa: E402
sys.path.pop(0)

SCRIPT = helpers.REPO / "scripts" / "memtrack_report"
MAN = helpers.REPO / "docs" / "memtrack_report.1"
PYTHON = "/usr/bin/python3"
READY = 'document.body && document.body.dataset.ready === "1"'
FIELDS = ("tb", "tbk", "gb", "gbk", "eb", "ebk", "mb", "rb", "wb",
          "ldb", "ldbk", "lib", "libk", "lpb", "lpbk", "lrb", "lrbk")
# The top table's columns (data-col) and how a program point's value for it
# is computed.
COLUMN_VALUE = {
    "total": lambda p: p["tb"], "blocks": lambda p: p["tbk"], "peak": lambda p: p["gb"],
    "end": lambda p: p["eb"], "max": lambda p: p["mb"], "reads": lambda p: p["rb"],
    "writes": lambda p: p["wb"], "leaked": lambda p: p["ldb"] + p["lib"],
    # DHAT's short-lived (average lifetime at most tuth, 500 in memtrack's
    # profiles: test_profile_format.py) and memtrack's temporary blocks.
    "short-lived": lambda p: p["tbk"] if p["tbk"] and p["tl"] <= 500 * p["tbk"] else 0,
    "temporary": lambda p: p["tmpbk"],
}
FLAME_VALUE = {"total": "tb", "peak": "gb", "end": "eb"}


def report(args, cwd):
    return helpers.run([PYTHON, str(SCRIPT), *[str(a) for a in args]], cwd)


def make_report(cwd, prof, *args, name="report.html"):
    out = Path(cwd) / name
    r = report([prof, "-o", out, *args], cwd)
    assert r.returncode == 0, r
    assert r.stdout == "", r
    assert out.is_file(), r
    return out


def num(s):
    return int(str(s).replace(",", "").strip())


def frames_of(doc, pp):
    return tuple(doc["ftbl"][i] for i in pp["fs"])


def leaked(pp):
    return pp["ldb"] + pp["lib"]


# ---------------------------------------------------------------------------
# Opening pages


EXTRACT = r"""(() => {
  const num = (s) => Number(String(s).replace(/,/g, '').trim());
  const q = (s) => document.querySelector(s);
  const qa = (s, root) => Array.from((root || document).querySelectorAll(s));
  const rows = (sel) => qa(sel + ' tbody tr').map((tr) => ({
    frames: qa('li.frame', tr).map((li) => li.textContent),
    first: tr.querySelector('.site-frame') ? tr.querySelector('.site-frame').textContent : null,
    title: tr.querySelector('.site-frame') ? tr.querySelector('.site-frame').title : null,
    rank: tr.querySelector('td.rank') ? num(tr.querySelector('td.rank').textContent) : null,
    cols: Object.fromEntries(qa('td[data-col]', tr).map((td) => [td.dataset.col,
                                                                 num(td.textContent)])),
  }));
  const foot = (sel) => q(sel + ' tfoot tr')
    ? qa(sel + ' tfoot td', q(sel)).map((td) => td.textContent) : null;
  const svg = q('#flame');
  return {
    title: document.title,
    cards: Object.fromEntries(qa('.card').map((c) => [c.id, [
      c.querySelector('.big').textContent, c.querySelector('.small').textContent]])),
    info: Object.fromEntries(qa('#run-info tr').map((tr) => [tr.querySelector('th').textContent,
                                                             tr.querySelector('td').textContent])),
    top: rows('#top-table'), topFoot: foot('#top-table'),
    topSort: q('#top-table') ? q('#top-table').dataset.sort : null,
    topHeads: qa('#top-table thead th.sortable').map((th) => th.dataset.sort),
    leaks: rows('#leak-table'), leakFoot: foot('#leak-table'),
    leakSummary: Object.fromEntries(qa('#leak-summary tbody tr').map((tr) => [tr.dataset.kind,
      qa('td', tr).map((td) => num(td.textContent))])),
    flameWidth: svg ? Number(svg.getAttribute('width')) : null,
    flameMetric: svg ? svg.dataset.metric : null,
    flameEmpty: q('#flame-empty') ? q('#flame-empty').textContent : null,
    flame: qa('#flame g.fr').map((g) => ({
      node: Number(g.dataset.node), depth: Number(g.dataset.depth), frame: g.dataset.frame,
      title: g.querySelector('title').textContent, cls: g.getAttribute('class'),
      x: Number(g.querySelector('rect').getAttribute('x')),
      w: Number(g.querySelector('rect').getAttribute('width')),
      label: g.querySelector('text') ? g.querySelector('text').textContent : null })),
    metrics: qa('input[name=flame-metric]').map((r) => [r.value, r.checked, r.disabled]),
    status: q('#flame-status').textContent,
    chart: q('#heap-chart') ? {
      cls: q('#heap-chart').getAttribute('class'),
      ymax: Number(q('#heap-chart').dataset.ymax),
      peakLabel: q('#peak-label') ? q('#peak-label').textContent : null,
      points: qa('#heap-chart circle.snap').map((c) => ({
        cls: c.getAttribute('class'), n: Number(c.dataset.n), time: Number(c.dataset.time),
        heap: Number(c.dataset.heap), extra: Number(c.dataset.extra),
        stacks: Number(c.dataset.stacks), total: Number(c.dataset.total),
        cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')),
        title: c.querySelector('title').textContent })),
      moments: qa('#heap-chart rect.moment').map((r) => ({ id: r.id, time: Number(r.dataset.time),
        bytes: Number(r.dataset.bytes), blocks: Number(r.dataset.blocks),
        y: Number(r.getAttribute('y')), h: Number(r.getAttribute('height')),
        title: r.querySelector('title').textContent })),
    } : null,
    snapshotRows: qa('#snapshot-table tbody tr').map((tr) => qa('td', tr)
      .map((td) => td.textContent)),
    trees: qa('details.snap-tree').map((d) => ({ pos: Number(d.dataset.pos), open: d.open,
      summary: d.querySelector('summary').textContent,
      nodes: qa('li', d).map((li) => [num(li.querySelector('.num').textContent),
                                      li.querySelector('.frame').textContent]) })),
    noTimeline: q('#no-timeline') ? q('#no-timeline').textContent : null,
    noLeaks: q('#no-leaks') ? q('#no-leaks').textContent : null,
  };
})()"""


def open_page(path, steps=(), width=None, height=None):
    """Opens the page (in a window of width x height CSS pixels when
    given); fails the test on any page error, console error or request for
    anything but the page itself. Returns the driver's result; each
    {"eval": EXTRACT} step's value is in result["values"]."""
    res = unavailable = None
    job = {"page": path, "waitFor": READY, "steps": list(steps)}
    if width:
        job["viewport"] = {"width": width, "height": height or 900}
    try:
        res = browser.open_pages([job])[0]
    except browser.BrowserUnavailable as e:
        unavailable = str(e)
    if unavailable:
        pytest.fail(unavailable, pytrace=False)
    assert res["ok"], f"{path} did not load cleanly:\n{res['error']}"
    own = Path(path).resolve().as_uri()
    others = [u for u in res["requests"] if u != own and not u.startswith("data:")]
    assert not others, f"the page asked for more than itself: {others}"
    assert res["requests"] and res["requests"][0] == own, res["requests"]
    for bad in ("NaN", "undefined", "[object Object]"):
        assert bad not in res["text"], f"the page shows {bad!r}:\n{res['text'][:3000]}"
    return res


def view(path, steps=()):
    """The page's figures (EXTRACT) after the steps."""
    res = open_page(path, [*steps, {"eval": EXTRACT}])
    return res["values"][-1]


# ---------------------------------------------------------------------------
# Runs shared by several tests (one each per module)


def _run_memtrack(workdir, argv, name, opts=(), **kw):
    prof = workdir / f"{name}.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", *opts], argv, workdir, **kw)
    assert r.returncode == 0, r
    assert prof.is_file(), r
    return r, prof


def _run_massif(workdir, argv, name, **kw):
    out = workdir / f"{name}.massif"
    r = helpers.run_tool("massif", ["--time-unit=B", "--stacks=no", f"--massif-out-file={out}"],
                         argv, workdir, **kw)
    assert r.returncode == 0, r
    ms = helpers.run(["ms_print", out], workdir)
    assert ms.returncode == 0, ms
    return out, ms.stdout


@pytest.fixture(scope="module")
def peak_run(clients, tmp_path_factory):
    """tests/clients/peak.c under memtrack (leak search on) and massif."""
    d = tmp_path_factory.mktemp("peak")
    argv = [clients.path("peak")]
    r, prof = _run_memtrack(d, argv, "peak", ["--leak-check=full"])
    massif, ms_print = _run_massif(d, argv, "peak")
    return {"dir": d, "stderr": r.stderr, "prof": prof, "doc": json.loads(prof.read_text()),
            "massif": massif, "ms_print": ms_print}


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory):
    """sqlite3 on a generated script, under memtrack and massif."""
    d = tmp_path_factory.mktemp("sqlite3")
    w = workloads.make("sqlite3", str(d / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, prof = _run_memtrack(d, w["argv"], "sqlite3", ["--leak-check=full"], env=w["env"],
                            stdin=w["stdin"])
    massif, ms_print = _run_massif(d, w["argv"], "sqlite3", env=w["env"], stdin=w["stdin"])
    return {"dir": d, "stderr": r.stderr, "prof": prof, "doc": json.loads(prof.read_text()),
            "massif": massif, "ms_print": ms_print}


# ---------------------------------------------------------------------------
# An independent reading of a massif file, and of ms_print's table


def parse_massif(path):
    """[{n, time, heap, extra, stacks, kind, tree_bytes: [bytes of every
    tree node in file order], tree_text: [...]}]."""
    snaps, cur, tree_left = [], None, 0
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if tree_left:
            m = re.match(r"^\s*n(\d+): (\d+) ?(.*)$", line)
            assert m, line
            tree_left += int(m[1]) - 1
            cur["tree_bytes"].append(int(m[2]))
            cur["tree_text"].append(m[3])
            continue
        m = re.match(r"^(snapshot|time|mem_heap_B|mem_heap_extra_B|mem_stacks_B|heap_tree)=(.*)$",
                     line)
        if not m:
            continue
        key, val = m[1], m[2]
        if key == "snapshot":
            cur = {"n": int(val), "tree_bytes": [], "tree_text": []}
            snaps.append(cur)
        elif key == "heap_tree":
            cur["kind"] = val
            tree_left = 0 if val == "empty" else 1
        else:
            cur[{"time": "time", "mem_heap_B": "heap", "mem_heap_extra_B": "extra",
                 "mem_stacks_B": "stacks"}[key]] = int(val)
    return snaps


def parse_ms_print(text):
    """ms_print's snapshot table: {n: (time, total, useful, extra, stacks)},
    and the positions of its detailed snapshots and of the peak."""
    rows = {}
    for m in re.finditer(r"^\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s*$",
                         text, re.M):
        rows[int(m[1])] = tuple(num(m[i]) for i in range(2, 7))
    m = re.search(r"^ Detailed snapshots: \[(.*)\]$", text, re.M)
    detailed, peak = [], None
    for item in (m[1].split(",") if m else []):
        item = item.strip()
        detailed.append(int(item.split()[0]))
        if item.endswith("(peak)"):
            peak = int(item.split()[0])
    return rows, detailed, peak


def assert_linear(pairs, what):
    """Screen coordinates must be a linear function of the values."""
    pairs = sorted(set(pairs))
    lo, hi = pairs[0], pairs[-1]
    assert hi[0] > lo[0], f"{what}: all values equal"
    slope = (hi[1] - lo[1]) / (hi[0] - lo[0])
    for v, c in pairs:
        want = lo[1] + slope * (v - lo[0])
        assert abs(c - want) < 0.05, f"{what}: value {v} drawn at {c}, expected {want:.2f}"
    return slope


# ---------------------------------------------------------------------------
# Summary, chart


def check_summary(page, doc):
    s = {k: sum(p.get(k, 0) for p in doc["pps"]) for k in FIELDS}
    cards = page["cards"]
    assert cards["card-total"] == [f"{s['tb']:,} bytes", f"in {s['tbk']:,} blocks"], cards
    if doc.get("bklt"):
        assert cards["card-gmax"] == [f"{s['gb']:,} bytes", f"in {s['gbk']:,} blocks"], cards
        assert cards["card-end"] == [f"{s['eb']:,} bytes", f"in {s['ebk']:,} blocks"], cards
    if doc.get("bkacc"):
        assert cards["card-reads"][0] == f"{s['rb']:,} bytes", cards
        assert cards["card-writes"][0] == f"{s['wb']:,} bytes", cards
    if doc.get("mtleak"):
        assert cards["card-leaked"] == [f"{s['ldb'] + s['lib']:,} bytes",
                                        f"in {s['ldbk'] + s['libk']:,} blocks"], cards
    assert page["info"]["Command"] == doc["cmd"]
    assert page["info"]["PID"] == str(doc["pid"])
    assert page["info"]["Mode"] == doc["mode"]
    return s


def test_peak_client_summary_and_chart_from_massif(peak_run):
    """peak.c, whose figures are known: the summary cards, the massif chart
    (every snapshot where massif's file and ms_print put it), the peak, and
    the detailed snapshots' trees."""
    page_path = make_report(peak_run["dir"], peak_run["prof"], "--massif", peak_run["massif"])
    page = view(page_path)
    s = check_summary(page, peak_run["doc"])
    # Known by construction (tests/clients/peak.c).
    assert (s["tb"], s["tbk"], s["gb"], s["gbk"], s["eb"], s["ebk"]) == \
        (16800, 17, 10900, 9, 1600, 2)
    assert page["title"] == f"memtrack report: {peak_run['doc']['cmd']}"

    chart = page["chart"]
    snaps = parse_massif(peak_run["massif"])
    assert len(chart["points"]) == len(snaps) > 10
    for pt, sn in zip(chart["points"], snaps):
        assert (pt["n"], pt["time"], pt["heap"], pt["extra"], pt["stacks"]) == \
            (sn["n"], sn["time"], sn["heap"], sn["extra"], sn["stacks"]), (pt, sn)
        assert pt["total"] == sn["heap"] + sn["extra"] + sn["stacks"]
        assert f"total {pt['total']:,} bytes" in pt["title"]
        assert ("snap-" + sn["kind"]) in pt["cls"].split(), (pt, sn)
    # Drawn where the numbers say: y linear in the total (upwards), x in time.
    assert assert_linear([(p["total"], p["cy"]) for p in chart["points"]], "y") < 0
    assert assert_linear([(p["time"], p["cx"]) for p in chart["points"]], "x") > 0
    assert chart["ymax"] >= max(p["total"] for p in chart["points"])

    # ms_print's reading of the same file.
    rows, detailed, peak = parse_ms_print(peak_run["ms_print"])
    assert sorted(rows) == [p["n"] for p in chart["points"]]
    for p in chart["points"]:
        assert rows[p["n"]] == (p["time"], p["total"], p["heap"], p["extra"], p["stacks"])
    assert peak is not None, peak_run["ms_print"]
    peak_total = rows[peak][1]
    assert peak_total == max(r[1] for r in rows.values())
    assert chart["peakLabel"].startswith(f"peak: {peak_total:,} bytes"), chart["peakLabel"]
    assert chart["peakLabel"].endswith(f"at snapshot {peak}"), chart["peakLabel"]
    # The table of snapshots says the same.
    for row in page["snapshotRows"]:
        n = num(row[0])
        assert tuple(num(x) for x in row[1:6]) == rows[n]
    # One tree per detailed snapshot, all closed (the peak's too: a tree is
    # as wide as the program's stacks), each node's bytes as in the file.
    assert [t["pos"] for t in page["trees"]] == detailed
    assert [t["pos"] for t in page["trees"] if t["open"]] == []
    for t in page["trees"]:
        sn = snaps[t["pos"]]
        assert [n[0] for n in t["nodes"]] == sn["tree_bytes"]
        assert [n[1] for n in t["nodes"]] == [x.strip() for x in sn["tree_text"]]
    # Clicking a detailed point opens its tree.
    first = detailed[0]
    page2 = view(page_path, [{"click": f'#heap-chart circle[data-pos="{first}"]'}])
    assert [t["pos"] for t in page2["trees"] if t["open"]] == [first]


def test_peak_client_without_massif_shows_t_gmax_and_t_end(peak_run):
    page = view(make_report(peak_run["dir"], peak_run["prof"], name="nomassif.html"))
    doc = peak_run["doc"]
    s = check_summary(page, doc)
    note = page["noTimeline"]
    assert note and "no massif file" in note, note
    assert f"{s['gb']:,} bytes in {s['gbk']:,} blocks" in note
    assert f"{s['eb']:,} bytes in {s['ebk']:,} blocks" in note
    chart = page["chart"]
    assert "profile-only" in chart["cls"].split()
    assert chart["points"] == [] and chart["peakLabel"] is None
    m = {x["id"]: x for x in chart["moments"]}
    assert (m["moment-gmax"]["time"], m["moment-gmax"]["bytes"], m["moment-gmax"]["blocks"]) == \
        (doc["tg"], s["gb"], s["gbk"])
    assert (m["moment-end"]["time"], m["moment-end"]["bytes"], m["moment-end"]["blocks"]) == \
        (doc["te"], s["eb"], s["ebk"])
    # Bar heights in proportion to the bytes.
    g, e = m["moment-gmax"], m["moment-end"]
    assert abs(g["h"] / e["h"] - s["gb"] / s["eb"]) < 0.01, (g, e)
    assert f"{s['gb']:,} bytes in {s['gbk']:,} blocks at instruction {doc['tg']:,}" in g["title"]


def test_sqlite3_chart_matches_massif_and_ms_print(sqlite_run):
    page = view(make_report(sqlite_run["dir"], sqlite_run["prof"], "--massif",
                            sqlite_run["massif"]))
    check_summary(page, sqlite_run["doc"])
    snaps = parse_massif(sqlite_run["massif"])
    pts = page["chart"]["points"]
    assert [(p["n"], p["time"], p["heap"], p["extra"]) for p in pts] == \
        [(s["n"], s["time"], s["heap"], s["extra"]) for s in snaps]
    rows, detailed, peak = parse_ms_print(sqlite_run["ms_print"])
    assert {p["n"]: (p["time"], p["total"], p["heap"], p["extra"], p["stacks"])
            for p in pts} == rows
    assert page["chart"]["peakLabel"].startswith(f"peak: {rows[peak][1]:,} bytes")
    assert [t["pos"] for t in page["trees"]] == detailed
    assert_linear([(p["total"], p["cy"]) for p in pts], "y")


def test_chart_with_stacks_and_instruction_time(peak_run, workdir, clients):
    """massif's default time unit (instructions) and --stacks=yes: the third
    layer and the x axis in instructions, figures as ms_print reads them."""
    out = workdir / "stacks.massif"
    r = helpers.run_tool("massif", ["--stacks=yes", f"--massif-out-file={out}"],
                         [clients.path("peak")], workdir)
    assert r.returncode == 0, r
    ms = helpers.run(["ms_print", out], workdir)
    assert ms.returncode == 0, ms
    page_path = make_report(workdir, peak_run["prof"], "--massif", out)
    res = open_page(page_path, [{"eval": EXTRACT}, {"eval": "[document.querySelectorAll("
                                "'#heap-chart polygon.area-stacks').length, Array.from("
                                "document.querySelectorAll('#heap-chart text.xtick'))"
                                ".map((t) => t.textContent)]"}])
    page, (stack_areas, xticks) = res["values"]
    rows, detailed, peak = parse_ms_print(ms.stdout)
    pts = page["chart"]["points"]
    assert {p["n"]: (p["time"], p["total"], p["heap"], p["extra"], p["stacks"])
            for p in pts} == rows
    assert any(p["stacks"] for p in pts)
    assert stack_areas == 1
    assert all(t.endswith("instr") for t in xticks), xticks
    assert page["chart"]["peakLabel"].startswith(f"peak: {rows[peak][1]:,} bytes")
    assert_linear([(p["total"], p["cy"]) for p in pts], "y")


# ---------------------------------------------------------------------------
# Tables


def check_label(r):
    """A row names its site by its label (memtrack_lib.labels, tested in
    test_labels.py): one of its frames, whole on hover, shown with the same
    location and the function's name at most as long."""
    frames = [re.sub(r"^0x[0-9A-Fa-f]+: ", "", f) for f in r["frames"]]
    assert r["title"] in frames, (r["title"], frames)
    loc = re.search(r" \((in )?([^()]*)\)$", r["title"])
    if loc:
        shown = os.path.basename(loc[2]) if loc[1] else loc[2]
        assert r["first"].endswith(f" ({loc[1] or ''}{shown})"), (r["first"], r["title"])
    assert len(r["first"]) <= len(r["title"])


def check_top_rows(rows, doc, sort, top):
    """The rows are the profile's top `top` program points by `sort`, in
    order, each with its own figures."""
    by_stack = {frames_of(doc, pp): pp for pp in doc["pps"]}
    assert len(by_stack) == len(doc["pps"])
    key = COLUMN_VALUE[sort]
    want = sorted((key(pp) for pp in doc["pps"]), reverse=True)[:top]
    assert [r["cols"][sort] for r in rows] == want, sort
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    seen = set()
    for r in rows:
        stack = tuple(r["frames"])
        assert stack in by_stack, f"a row shows a stack the profile lacks: {stack}"
        assert stack not in seen
        seen.add(stack)
        pp = by_stack[stack]
        check_label(r)
        for col, v in r["cols"].items():
            assert v == COLUMN_VALUE[col](pp), (col, v, stack)
    return seen


def test_sqlite3_top_sites_table_in_every_order(sqlite_run):
    doc = sqlite_run["doc"]
    top = 15
    assert len(doc["pps"]) > top
    page_path = make_report(sqlite_run["dir"], sqlite_run["prof"], "--top", top, name="top.html")
    cols = ["total", "blocks", "peak", "end", "max", "reads", "writes", "leaked", "short-lived",
            "temporary"]
    steps = [{"eval": EXTRACT}]
    for c in cols:
        steps += [{"click": f'#top-table th[data-sort="{c}"]'}, {"eval": EXTRACT}]
    res = open_page(page_path, steps)
    first = res["values"][0]
    assert first["topHeads"] == cols
    assert first["topSort"] == "total"
    shown = check_top_rows(first["top"], doc, "total", top)
    rest = [pp for pp in doc["pps"] if frames_of(doc, pp) not in shown]
    foot = first["topFoot"]
    assert foot[1] == f"{len(rest):,} more sites (together)"
    assert [num(x) for x in foot[2:]] == [sum(COLUMN_VALUE[c](pp) for pp in rest) for c in cols]
    for c, page in zip(cols, res["values"][1:]):
        assert page["topSort"] == c
        check_top_rows(page["top"], doc, c, top)
        assert num(page["topFoot"][2 + cols.index(c)]) == \
            sum(sorted((COLUMN_VALUE[c](pp) for pp in doc["pps"]), reverse=True)[top:])


def test_sort_option_orders_table_and_starts_flame_graph(peak_run):
    doc = peak_run["doc"]
    page = view(make_report(peak_run["dir"], peak_run["prof"], "--sort=end", name="end.html"))
    assert page["topSort"] == "end"
    check_top_rows(page["top"], doc, "end", 20)
    assert page["flameMetric"] == "end"
    assert [m for m, checked, _ in page["metrics"] if checked] == ["end"]
    assert num(page["flame"][0]["title"].split("\n")[1].split()[0]) == \
        sum(pp["eb"] for pp in doc["pps"])
    # --sort=writes orders the table; the flame graph starts on total.
    page = view(make_report(peak_run["dir"], peak_run["prof"], "--sort=writes", "--top=0",
                            name="writes.html"))
    check_top_rows(page["top"], doc, "writes", len(doc["pps"]))
    assert page["topFoot"] is None
    assert page["flameMetric"] == "total"


def _memcheck_leak_summary(stderr):
    out = {}
    for word, key in (("definitely lost", "ldb"), ("indirectly lost", "lib"),
                      ("possibly lost", "lpb"), ("still reachable", "lrb")):
        m = re.search(rf"^==\d+==\s+{word}: ([\d,]+) bytes in ([\d,]+) blocks$", stderr, re.M)
        assert m, f"no '{word}' line in memcheck's LEAK SUMMARY:\n{stderr[-3000:]}"
        out[key] = [num(m[1]), num(m[2])]
    return out


def test_leak_table_matches_profile_and_memcheck(clients, workdir):
    """leak_cases.c (memcheck's leak-cases matrix: every kind): the leak
    summary equals memcheck's LEAK SUMMARY of the same program, and every
    row its program point's leak keys."""
    argv = [clients.path("leak_cases")]
    r, prof = _run_memtrack(workdir, argv, "leaks", ["--leak-check=full"])
    mc = helpers.run_memcheck(["--leak-check=full"], argv, workdir)
    assert mc.returncode == 0, mc
    doc = json.loads(prof.read_text())
    page = view(make_report(workdir, prof))
    check_summary(page, doc)
    mc_sum = _memcheck_leak_summary(mc.stderr)
    assert page["leakSummary"] == mc_sum
    for k, v in page["leakSummary"].items():
        assert v == [sum(pp[k] for pp in doc["pps"]), sum(pp[k + "k"] for pp in doc["pps"])]
    assert mc_sum["ldb"][0] and mc_sum["lib"][0] and mc_sum["lpb"][0] and mc_sum["lrb"][0]
    by_stack = {frames_of(doc, pp): pp for pp in doc["pps"]}
    leaking = [pp for pp in doc["pps"]
               if any(pp[k] or pp[k + "k"] for k in ("ldb", "lib", "lpb", "lrb"))]
    assert len(page["leaks"]) == min(len(leaking), 20)
    severity = []
    for row in page["leaks"]:
        pp = by_stack[tuple(row["frames"])]
        assert row["cols"] == {k: pp[k] for k in ("ldb", "ldbk", "lib", "libk", "lpb", "lpbk",
                                                  "lrb", "lrbk")}
        severity.append((leaked(pp), pp["lpb"], pp["lrb"]))
    assert severity == sorted(severity, reverse=True)


def test_profile_without_leak_search(peak_run, workdir, clients):
    r, prof = _run_memtrack(workdir, [clients.path("peak")], "noleak", ["--leak-check=no"])
    doc = json.loads(prof.read_text())
    assert "mtleak" not in doc
    page = view(make_report(workdir, prof))
    check_summary(page, doc)
    assert "did not search for leaks" in page["noLeaks"]
    assert page["leaks"] == [] and page["leakSummary"] == {}
    assert ["leaked", False, True] in page["metrics"]
    assert "leaked" not in page["topHeads"]
    r = report([prof, "--sort=leaked", "-o", workdir / "x.html"], workdir)
    assert r.returncode == 2, r
    assert len(r.stderr.splitlines()) == 1 and "no such figure" in r.stderr, r
    assert not (workdir / "x.html").exists()


# ---------------------------------------------------------------------------
# The flame graph


# The flame graph's switch to one box per line (frame) rather than per function.
SPLIT = {"check": "#flame-lines"}


def _path_sums(doc, key):
    """{tuple of frames, outermost first: summed value} for every prefix."""
    out = {}
    for pp in doc["pps"]:
        v = leaked(pp) if key == "leaked" else pp[key]
        path = tuple(reversed(frames_of(doc, pp)))
        for i in range(1, len(path) + 1):
            out[path[:i]] = out.get(path[:i], 0) + v
    return out


def _value(node):
    """The figure a flame-graph box shows in its tooltip."""
    return num(node["title"].split("\n")[1].split()[0])


def _check_flame(nodes, sums, W):
    """Every box drawn: its path (found from the boxes above it: a box lies
    under its caller), its value the sum the profile gives that path, its
    width in proportion to the zoomed box's; and every path wide enough to
    see (1 pixel) under a drawn box is drawn. Returns {path: box}."""
    anc = sorted((n for n in nodes if "anc" in n["cls"].split()), key=lambda n: n["depth"])
    rest = [n for n in nodes if "anc" not in n["cls"].split()]
    zdepth = min(n["depth"] for n in rest)
    zoomed = [n for n in rest if n["depth"] == zdepth]
    assert len(zoomed) == 1, zoomed
    zoomed = zoomed[0]
    assert [n["depth"] for n in anc] == list(range(zdepth)), anc
    for n in anc + [zoomed]:
        assert abs(n["x"]) < 0.01 and abs(n["w"] + 0.2 - W) < 0.05, n
    zpath = tuple(n["frame"] for n in anc[1:] + [zoomed]) if zdepth else ()
    total = sums[zpath] if zpath else sum(v for p, v in sums.items() if len(p) == 1)
    assert _value(zoomed) == total, (zoomed, total)
    paths = {zoomed["node"]: zpath}
    by_depth = {}
    for n in rest:
        by_depth.setdefault(n["depth"], []).append(n)
    drawn = {zpath: zoomed}
    for d in sorted(by_depth):
        if d == zdepth:
            continue
        callers = sorted(by_depth[d - 1], key=lambda n: n["x"])
        for n in by_depth[d]:
            parent = [c for c in callers if c["x"] <= n["x"] + 0.005][-1]
            assert n["x"] + n["w"] <= parent["x"] + parent["w"] + 0.25, (n, parent)
            path = paths[parent["node"]] + (n["frame"],)
            assert path in sums, f"the flame graph draws a path the profile lacks: {path}"
            assert path not in drawn, f"drawn twice: {path}"
            paths[n["node"]] = path
            drawn[path] = n
            assert _value(n) == sums[path], (path, _value(n), sums[path])
            assert abs(n["w"] + 0.2 - W * sums[path] / total) < 0.05, (n, sums[path], total)
    for path, v in sums.items():
        if path[:-1] in drawn and len(path) > len(zpath) and W * v / total >= 1:
            assert path in drawn, f"not drawn: {path} ({v} of {total})"
    return drawn


@pytest.mark.parametrize("metric", ["total", "peak", "end", "leaked"])
def test_sqlite3_flame_graph_widths_are_the_profile_sums(sqlite_run, metric):
    doc = sqlite_run["doc"]
    key = "leaked" if metric == "leaked" else FLAME_VALUE[metric]
    sums = _path_sums(doc, key)
    root_value = sum(v for p, v in sums.items() if len(p) == 1)
    page_path = make_report(sqlite_run["dir"], sqlite_run["prof"], name=f"flame-{metric}.html")
    # Split by line: one box per frame, as these sums are (the merged graph,
    # one box per function: test_report_layout.py).
    pick = {"check": f'input[name=flame-metric][value="{metric}"]'}
    page = view(page_path, [SPLIT, pick])
    if root_value == 0:
        assert page["flameEmpty"] and not page["flame"], page["flame"][:3]
        return
    assert page["flameMetric"] == metric
    root = [n for n in page["flame"] if n["depth"] == 0]
    assert len(root) == 1 and root[0]["frame"] == "all sites"
    W = page["flameWidth"]
    drawn = _check_flame(page["flame"], sums, W)
    assert len(drawn) > 10 or len(drawn) == len(sums) + 1, len(drawn)
    # Zoom into the widest outermost frame, then into its widest callee:
    # each spans the whole width, its callers shown above it.
    outer = max((p for p in drawn if len(p) == 1), key=lambda p: sums[p])
    steps = [SPLIT, pick, {"click": f'#flame g.fr[data-node="{drawn[outer]["node"]}"]'}]
    zoomed = view(page_path, steps)
    zdrawn = _check_flame(zoomed["flame"], sums, W)
    inner = [p for p in zdrawn if len(p) == 2]
    if inner:
        second = max(inner, key=lambda p: sums[p])
        steps.append({"click": f'#flame g.fr[data-node="{zdrawn[second]["node"]}"]'})
        _check_flame(view(page_path, steps)["flame"], sums, W)
    # Clicking the zoomed box again zooms out one level.
    again = {"click": f'#flame g.fr[data-node="{drawn[outer]["node"]}"]'}
    back = view(page_path, steps[:3] + [again])
    assert _check_flame(back["flame"], sums, W).keys() == drawn.keys()


def test_flame_graph_search_marks_matching_frames(sqlite_run):
    doc = sqlite_run["doc"]
    sums = _path_sums(doc, "tb")
    # Text found in some of the profile's frames but not all (with
    # Debian's stripped sqlite3, the library's name).
    word = next(w for w in ("sqlite3Malloc", "libsqlite3.so") if any(w in f for f in doc["ftbl"]))
    page = view(make_report(sqlite_run["dir"], sqlite_run["prof"], name="search.html"),
                [SPLIT, {"fill": ["#flame-search", word]}])
    marked = [n for n in page["flame"] if "match" in n["cls"].split()]
    assert marked and len(marked) < len(page["flame"]) - 1
    for n in page["flame"]:
        assert ("match" in n["cls"].split()) == (n["depth"] > 0 and word.lower() in
                                                 n["frame"].lower()), n
    # The share shown: every stack with a matching frame, counted once.
    want = sum(pp["tb"] for pp in doc["pps"]
               if any(word.lower() in f.lower() for f in frames_of(doc, pp)))
    assert f': {want:,} bytes (' in page["status"], page["status"]
    assert sums  # (the profile has stacks)


@pytest.mark.parametrize("name", ["python3", "xz"])
def test_real_program_report(name, workdir):
    """python3 and xz: the page loads cleanly, and its summary, top table and
    flame graph are the profile's."""
    w = workloads.make(name, str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, prof = _run_memtrack(workdir, w["argv"], name, ["--leak-check=full"], env=w["env"],
                            stdin=w["stdin"])
    doc = json.loads(prof.read_text())
    page = view(make_report(workdir, prof, "--top=30"), [SPLIT])
    check_summary(page, doc)
    fig = helpers.parse_summary(r.stderr)
    assert page["cards"]["card-total"] == [f"{fig['total_bytes']:,} bytes",
                                           f"in {fig['total_blocks']:,} blocks"]
    check_top_rows(page["top"], doc, "total", 30)
    assert len(_check_flame(page["flame"], _path_sums(doc, "tb"), page["flameWidth"])) > 10


# ---------------------------------------------------------------------------
# Escaping


ODD_NAME = "q'<b>&amp;\"x\".cpp"


def test_frame_strings_with_html_characters_render_as_text(workdir):
    """report_names.cpp compiled as a file whose name holds <, >, &, " and ':
    frames like `void* make<Box<int> >(Box<int>&, unsigned long)
    (q'<b>&amp;"x".cpp:18)` and `operator"" _kb(...)` show as exactly that
    text in the tables, the stacks, the flame graph's labels and tooltips."""
    src = workdir / ODD_NAME
    shutil.copy(helpers.CLIENT_SRC / "report_names.cpp", src)
    exe = workdir / "names"
    cc = subprocess.run(["g++", "-g", "-O0", "-o", str(exe), src.name], cwd=workdir,
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    r, prof = _run_memtrack(workdir, [str(exe)], "names", ["--leak-check=full"])
    doc = json.loads(prof.read_text())
    odd = [f for f in doc["ftbl"] if ODD_NAME in f]
    assert any("make<Box<int> >(Box<int>&" in f for f in odd), doc["ftbl"]
    assert any('operator"" _kb' in f for f in odd), doc["ftbl"]
    page_path = make_report(workdir, prof)
    html_text = page_path.read_text()
    assert "<b>" not in html_text and ODD_NAME not in html_text  # escaped everywhere
    page = view(page_path, [SPLIT, {"eval": "document.querySelectorAll('b, img, iframe').length"}])
    check_summary(page, doc)
    # Known by construction (tests/clients/report_names.cpp).
    s = {k: sum(pp[k] for pp in doc["pps"]) for k in ("tb", "tbk", "eb", "ebk")}
    assert s == {"tb": 5048, "tbk": 4, "eb": 3048, "ebk": 2}
    assert page["leakSummary"]["ldb"] == [1000, 1] and page["leakSummary"]["lrb"] == [2048, 1]
    # Every stack, as text.
    shown_stacks = {tuple(r["frames"]) for r in page["top"]}
    assert shown_stacks == {frames_of(doc, pp) for pp in doc["pps"]}
    for r in page["top"]:
        check_label(r)
    lost = [r for r in page["leaks"] if r["cols"]["ldb"]]
    assert len(lost) == 1 and "make<Box<int> >(Box<int>&, unsigned long)" in lost[0]["frames"][0]
    assert lost[0]["cols"]["ldb"] == 1000 and lost[0]["cols"]["ldbk"] == 1
    reach = [r for r in page["leaks"] if r["cols"]["lrb"]]
    assert len(reach) == 1 and 'operator"" _kb(unsigned long long)' in reach[0]["frames"][0]
    # The flame graph: frames, tooltips and labels.
    drawn = {n["frame"] for n in page["flame"] if n["depth"] > 0}
    assert drawn == {f for pp in doc["pps"] for f in frames_of(doc, pp)}
    for n in page["flame"]:
        assert n["title"].split("\n")[0] == n["frame"]
        if n["label"] and n["depth"] > 0:
            # A box shows the frame's short form (memtrack_lib.labels, tested
            # in test_labels.py), cut to fit.
            short = LABELS.frame_text(LABELS.parse_frame(re.sub(r"^0x[0-9A-Fa-f]+: ", "",
                                                                 n["frame"])), short=True)
            assert short.startswith(n["label"].rstrip("\u2026")), (n["label"], short)
    assert page["info"]["Command"] == doc["cmd"]


HOSTILE = ['<img src=x onerror="window.__pwned=1">',
           '</script><script>window.__pwned=2</script>',
           '&amp;&lt;&#x3C; "double" \'single\' `back`',
           '<!-- comment --> ]]> \\u003c \u2028 \u2029 end']


def test_hostile_strings_in_a_profile_stay_text(workdir):
    """A profile written here (what it holds is known): frame strings and a
    command that try to close the script element, inject markup or an event
    handler, or hide behind entities, all show as themselves; nothing runs."""
    ftbl = ["[root]"] + [f"0x{0x1000 + i:X}: {s} (f.c:{i})" for i, s in enumerate(HOSTILE)]
    pps = []
    for i in range(len(HOSTILE)):
        fs = [i + 1] + [j + 1 for j in range(len(HOSTILE)) if j != i][:2]
        pps.append({"tb": 100 * (i + 1), "tbk": i + 1, "tl": 10, "mb": 50, "mbk": 1, "gb": 10 * i,
                    "gbk": 1, "eb": i, "ebk": 1 if i else 0, "rb": 0, "wb": 0,
                    "ldb": i, "ldbk": 1 if i else 0, "lib": 0, "libk": 0, "lpb": 0, "lpbk": 0,
                    "lrb": 0, "lrbk": 0, "fs": fs})
    cmd = "./prog " + " ".join(HOSTILE)
    doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": True,
           "bkacc": True, "tu": "instrs", "Mtu": "Minstr", "tuth": 500, "cmd": cmd, "pid": 4242,
           "te": 1000, "tg": 500, "mtleak": True, "pps": pps, "ftbl": ftbl}
    prof = workdir / "hostile.json"
    prof.write_text(json.dumps(doc))
    page_path = make_report(workdir, prof)
    checks = "[window.__pwned === undefined, document.querySelectorAll('img, iframe, b').length, " \
             "document.scripts.length]"
    res = open_page(page_path, [{"eval": checks}, {"click": "#top-table th[data-sort=end]"},
                                SPLIT, {"eval": EXTRACT}, {"eval": checks}])
    assert res["values"][0] == [True, 0, 2], res["values"][0]
    assert res["values"][2] == [True, 0, 2], res["values"][2]
    page = res["values"][1]
    assert page["title"] == f"memtrack report: {cmd}"
    assert page["info"]["Command"] == cmd
    # The rows redrawn by the page's script (sorted by t-end) as well.
    assert {tuple(r["frames"]) for r in page["top"]} == {frames_of(doc, pp) for pp in pps}
    check_top_rows(page["top"], doc, "end", 20)
    assert {n["frame"] for n in page["flame"] if n["depth"] > 0} == set(ftbl[1:])
    # A title given on the command line too.
    page = view(make_report(workdir, prof, "--title", HOSTILE[1], name="titled.html"))
    assert page["title"] == HOSTILE[1]


# ---------------------------------------------------------------------------
# Other inputs


def test_copy_mode_profile(clients, workdir):
    # prof_copy makes its own copies (whatever the C library's start-up
    # copies, which DHAT 3.19 counts and 3.24's does not).
    r, prof = _run_memtrack(workdir, [clients.path("prof_copy")], "copy", ["--mode=copy"])
    doc = json.loads(prof.read_text())
    assert doc["mode"] == "copy" and not doc["bklt"] and doc["pps"]
    page = view(make_report(workdir, prof))
    s = check_summary(page, doc)
    assert page["metrics"] == [["total", True, False], ["peak", False, True],
                               ["end", False, True], ["leaked", False, True]]
    assert page["topHeads"] == ["total", "blocks"]
    check_top_rows(page["top"], doc, "total", 20)
    assert "records no heap sizes over time" in page["noTimeline"]
    assert num(page["flame"][0]["title"].split("\n")[1].split()[0]) == s["tb"]


def test_profile_from_valgrinds_dhat(clients, workdir):
    """DHAT's own file (no leak keys): the summary shows DHAT's own figures."""
    out = workdir / "dhat.json"
    r = helpers.run_tool("dhat", [f"--dhat-out-file={out}"], [clients.path("peak")], workdir)
    assert r.returncode == 0, r
    doc = json.loads(out.read_text())
    page = view(make_report(workdir, out))
    s = check_summary(page, doc)
    fig = helpers.parse_summary(r.stderr)
    assert (s["tb"], s["tbk"], s["gb"], s["gbk"], s["eb"], s["ebk"]) == \
        (fig["total_bytes"], fig["total_blocks"], fig["gmax_bytes"], fig["gmax_blocks"],
         fig["end_bytes"], fig["end_blocks"])
    check_top_rows(page["top"], doc, "total", 20)


# ---------------------------------------------------------------------------
# A screenshot


def _near(counts, rgb, tol=4):
    return sum(n for c, n in counts.items() if all(abs(c[i] - rgb[i]) <= tol for i in range(3)))


def test_screenshot_is_a_real_picture(peak_run):
    """The first screen (header, summary, chart): many colours, none on
    nearly all of it, and the colours the page's CSS gives the header, the
    chart's useful-heap area (85% opaque on white) and the peak marker."""
    page_path = make_report(peak_run["dir"], peak_run["prof"], "--massif", peak_run["massif"],
                            name="shot.html")
    png = peak_run["dir"] / "report.png"
    res = open_page(page_path, [{"eval": "document.getElementById('sec-time')"
                                         ".scrollIntoView({block: 'start'}) || 1"},
                                {"screenshot": png}])
    assert res["screenshot"] == str(png)
    w, h, counts = browser.png_colours(png)
    area = w * h
    top = max(counts.values()) / area
    heap = tuple(round(0.85 * c + 0.15 * 255) for c in (0x3b, 0x7d, 0xd8))
    shares = {"heap area": _near(counts, heap) / area,
              "peak": _near(counts, (0xd9, 0x34, 0x2b)) / area}
    print(f"{png}: {w}x{h}, {len(counts)} colours, commonest on {top:.0%}, {shares}")
    assert (w, h) == (1280, 900)
    assert len(counts) >= 50, len(counts)
    assert top < 0.9, top
    assert shares["heap area"] > 0.03, shares
    assert shares["peak"] > 0.0002, shares
    # The top of the page (no scrolling): the header's colour.
    png2 = peak_run["dir"] / "top.png"
    open_page(page_path, [{"screenshot": png2}])
    w, h, counts = browser.png_colours(png2)
    assert _near(counts, (0x22, 0x32, 0x4a), 1) / (w * h) > 0.03


# ---------------------------------------------------------------------------
# Output


def test_output_to_stdout_and_default_name(peak_run, workdir):
    shutil.copy(peak_run["prof"], workdir / "p.json")
    r = report(["p.json"], workdir)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    written = (workdir / "p.json.html").read_text()
    r = report(["p.json", "-o", "-"], workdir)
    assert r.returncode == 0, r
    assert r.stdout == written
    assert sorted(p.name for p in workdir.iterdir()) == ["p.json", "p.json.html"]
    r = report(["p.json", "-o", workdir / "no" / "such" / "dir.html"], workdir)
    assert r.returncode == 1, r
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("memtrack_report: error: "), r
    assert "Traceback" not in r.stderr


def test_massif_of_another_command_is_noted(peak_run, workdir, clients):
    other = workdir / "other.massif"
    r = helpers.run_tool("massif", ["--time-unit=B", f"--massif-out-file={other}"],
                         [clients.path("dhat_basic")], workdir)
    assert r.returncode == 0, r
    out = workdir / "r.html"
    r = report([peak_run["prof"], "--massif", other, "-o", out], workdir)
    assert r.returncode == 0, r
    assert r.stderr.startswith("memtrack_report: warning: the massif file is of another "), r
    res = open_page(out)
    assert "The massif file is of another command" in res["text"]


# ---------------------------------------------------------------------------
# Input files it must not overwrite (bad input files and options, for this
# script and the others: test_script_bad_input.py)


def test_page_inlines_the_librarys_style_and_script(peak_run, workdir):
    """The page's CSS and JavaScript are files of scripts/memtrack_lib,
    inlined whole; the script is JavaScript node can parse."""
    page = make_report(workdir, peak_run["prof"]).read_text()
    lib = helpers.REPO / "scripts" / "memtrack_lib"
    assert f"<style>\n{(lib / 'report.css').read_text()}</style>" in page
    assert f"<script>\n{(lib / 'report.js').read_text()}</script>" in page
    r = helpers.run(["node", "--check", lib / "report.js"], workdir)
    assert r.returncode == 0 and r.stderr == "", r


def test_report_never_overwrites_its_input(peak_run, workdir):
    prof = workdir / "p.json"
    shutil.copy(peak_run["prof"], prof)
    massif = workdir / "p.massif"
    shutil.copy(peak_run["massif"], massif)
    for args in ([prof, "-o", prof], [prof, "--massif", massif, "-o", massif],
                 [prof, "-o", workdir / "." / "p.json"]):
        r = report(args, workdir)
        assert r.returncode == 2, r
        assert len(r.stderr.splitlines()) == 1 and "is an input file" in r.stderr, r
    assert prof.read_bytes() == peak_run["prof"].read_bytes()
    assert massif.read_bytes() == peak_run["massif"].read_bytes()


def test_lone_surrogate_in_a_frame(workdir):
    """JSON can spell a lone UTF-16 surrogate ("\\ud800"), which UTF-8
    cannot: it shows as "?" and the rest of the frame as it is."""
    doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": False, "bkacc": False,
           "tu": "instrs", "Mtu": "Minstr", "cmd": "x", "pid": 1, "te": 10,
           "pps": [{"tb": 8, "tbk": 1, "fs": [1]}],
           "ftbl": ["[root]", "0x1: f\ud800g (a.c:1)"]}
    prof = workdir / "s.json"
    prof.write_text(json.dumps(doc))  # (ASCII: the surrogate as an escape)
    assert json.loads(prof.read_text())["ftbl"][1] == "0x1: f\ud800g (a.c:1)"
    page = view(make_report(workdir, prof))
    assert page["top"][0]["frames"] == ["0x1: f?g (a.c:1)"]


# ---------------------------------------------------------------------------
# --help, the man page, make install


def _help_options(text):
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", text)) - {"-"}


def test_help_and_man_page_document_every_option(workdir, peak_run):
    r = report(["--help"], workdir)
    assert r.returncode == 0 and r.stderr == "", r
    help_opts = {o for o in _help_options(r.stdout)
                 if re.search(rf"^\s+{re.escape(o)}\b", r.stdout, re.M) or
                 re.search(rf",\s+{re.escape(o)}\b", r.stdout, re.M)}
    # Each option the script accepts, found by asking it (a bad value or a
    # missing argument is an error naming the option; an unknown option is
    # "unrecognized").
    assert {"-h", "--help", "-o", "--output", "--massif", "--sort", "--top", "--title",
            "--version"} <= help_opts, help_opts
    for o in sorted(help_opts):
        rr = report([peak_run["prof"], o], workdir)
        assert "unrecognized" not in rr.stderr, (o, rr)
    # Every option in --help is in the man page's OPTIONS, and back.
    man = MAN.read_text()
    sect = man.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0]
    man_opts = set(re.findall(r"(?<![A-Za-z0-9])\\-(?:\\-)?[a-z][a-z\\-]*", sect))
    man_opts = {o.replace("\\-", "-") for o in man_opts}
    man_opts = {o for o in man_opts if re.match(r"^--?[a-z]", o)}
    assert help_opts == man_opts, (help_opts ^ man_opts)
    # The --sort metrics are listed in both.
    for m in ("total", "blocks", "peak", "end", "max", "reads", "writes", "leaked"):
        assert m in r.stdout and m in sect, m
    r = report(["--version"], workdir)
    assert r.returncode == 0 and re.match(r"^memtrack_report \(memtrack\) \d+\.\d+", r.stdout), r


def test_man_page_renders_without_warnings(workdir):
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    p = subprocess.run(["groff", "-man", "-Tutf8", str(MAN)], capture_output=True, text=True,
                       env=dict(os.environ, GROFF_NO_SGR="1"))
    text = re.sub(r".\x08", "", p.stdout)
    for word in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO",
                 "memtrack_report"):
        assert word in text, word


def test_make_install_installs_script_and_man_page(workdir):
    dest = workdir / "dest"
    # (A make of its own, also under `make check`: no jobserver from outside.)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    p = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"], cwd=helpers.BUILDDIR,
                       env=env, capture_output=True, text=True, timeout=helpers.TIMEOUT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    scripts = list(dest.rglob("bin/memtrack_report"))
    mans = list(dest.rglob("man1/memtrack_report.1"))
    assert len(scripts) == 1 and len(mans) == 1, sorted(str(p) for p in dest.rglob("*"))
    assert os.access(scripts[0], os.X_OK)
    assert mans[0].read_text() == MAN.read_text()
    r = helpers.run([scripts[0], "--help"], workdir)
    assert r.returncode == 0 and "--massif" in r.stdout, r
