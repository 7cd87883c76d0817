"""memtrack_report's page in the real browser (Debian's chromium through
tests/browser.py; the tests fail, never skip, when it is missing): the
layout at 1,280 and 1,920 px, the flame graph merged by function and split
by line, the caller/callee table, the temporary and short-lived figures,
the peak note and the time axis.

Layout: for sqlite3 and for a C++ program with long template names
(tests/clients/report_templates.cpp), the page never scrolls sideways
(document.documentElement.scrollWidth <= clientWidth), the tables fit
their box at 1,280 px, the massif trees are closed, and a screenshot at
each width is a PNG of that width. Figures: sums this file computes from
the profile's JSON with its own reading of a frame's function name."""
import json
import re
from pathlib import Path

import pytest

import browser
import helpers
import profile_helpers as ph
import test_script_report as tsr
import workloads

# Version independent: the page of a profile, in the browser: memtrack_report and chromium, whatever Valgrind made the profile.
pytestmark = pytest.mark.version_independent

WIDTHS = (1280, 1920)

LAYOUT = r"""(() => {
  const de = document.documentElement;
  const boxes = Array.from(document.querySelectorAll('.scroll')).map((b) => ({
    id: b.firstElementChild ? b.firstElementChild.id : '', scroll: b.scrollWidth,
    client: b.clientWidth }));
  const wide = Array.from(document.querySelectorAll('body *')).filter((e) => {
    const r = e.getBoundingClientRect();
    return r.right > de.clientWidth + 0.5 && !e.closest('.scroll');
  }).map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 10);
  return { scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, boxes, wide,
           trees: Array.from(document.querySelectorAll('details.snap-tree')).map((d) => d.open),
           flameWidth: document.querySelector('#flame') ?
             Number(document.querySelector('#flame').getAttribute('width')) : null };
})()"""

FLAME = r"""(() => Array.from(document.querySelectorAll('#flame g.fr')).map((g) => ({
  node: Number(g.dataset.node), depth: Number(g.dataset.depth), frame: g.dataset.frame,
  x: Number(g.querySelector('rect').getAttribute('x')),
  w: Number(g.querySelector('rect').getAttribute('width')),
  value: Number(g.dataset.value), split: g.closest('svg').dataset.split })))()"""

FUNCS = r"""(() => Array.from(document.querySelectorAll('#func-table tbody tr')).map((tr) => ({
  name: tr.querySelector('.fn-name').textContent,
  cols: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-col]')).map((td) =>
    [td.dataset.col, Number(td.textContent.replace(/,/g, ''))])),
  callers: Array.from(tr.querySelectorAll('.edges')).map((d) => d.textContent) })))()"""


# One way to write and open the page for both files: test_script_report's
# (its checks of the script's output and of what the page asks for).
report = tsr.report
make_report = tsr.make_report


def open_page(path, steps=(), width=1280, height=900):
    return tsr.open_page(path, steps, width=width, height=height)


def path_sums(doc, key, by_function):
    out = {}
    for pp in doc["pps"]:
        v = pp["ldb"] + pp["lib"] if key == "leaked" else pp[key]
        fr = ph.frames(doc, pp)
        path = tuple(ph.function_name(f) if by_function else f for f in reversed(fr))
        for i in range(1, len(path) + 1):
            out[path[:i]] = out.get(path[:i], 0) + v
    return out


def check_flame(boxes, sums):
    """Each box's path (from the boxes above it) and value are the profile's
    sums; no path drawn twice (so one box per function under a caller)."""
    paths, drawn = {}, {}
    by_depth = {}
    for b in boxes:
        by_depth.setdefault(b["depth"], []).append(b)
    root = by_depth[0][0]
    paths[root["node"]] = ()
    assert root["value"] == sum(v for p, v in sums.items() if len(p) == 1)
    for d in sorted(by_depth)[1:]:
        callers = sorted(by_depth[d - 1], key=lambda n: n["x"])
        for b in by_depth[d]:
            parent = [c for c in callers if c["x"] <= b["x"] + 0.005][-1]
            path = paths[parent["node"]] + (b["frame"],)
            assert path in sums, f"a path the profile lacks: {path}"
            assert path not in drawn, f"drawn twice: {path}"
            assert b["value"] == sums[path], (path, b["value"], sums[path])
            paths[b["node"]] = path
            drawn[path] = b
    return drawn


# ---------------------------------------------------------------------------
# Runs


def _run(workdir, argv, name, **kw):
    prof = workdir / f"{name}.json"
    massif = workdir / f"{name}.massif"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", f"--massif-out-file={massif}",
                              "--leak-check=full"], argv, workdir, **kw)
    assert r.returncode in (0, 1), r
    assert prof.is_file() and massif.is_file(), r
    return {"dir": workdir, "prof": prof, "massif": massif,
            "doc": json.loads(prof.read_text()), "stderr": r.stderr}


@pytest.fixture(scope="module")
def sqlite_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("sqlite3")
    w = workloads.make("sqlite3", str(d / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    return _run(d, w["argv"], "sqlite3", env=w["env"], stdin=w["stdin"])


@pytest.fixture(scope="module")
def cxx_run(clients, tmp_path_factory):
    d = tmp_path_factory.mktemp("cxx")
    return _run(d, [clients.path("report_templates")], "cxx")


RUNS = {"sqlite3": "sqlite_run", "cxx": "cxx_run"}


# ---------------------------------------------------------------------------
# Layout


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("which", sorted(RUNS))
def test_no_horizontal_overflow(which, width, request):
    run = request.getfixturevalue(RUNS[which])
    if which == "cxx":  # the point of this client: frames hundreds of characters long
        assert max(len(f) for f in run["doc"]["ftbl"]) > 200, run["doc"]["ftbl"]
    page = make_report(run["dir"], run["prof"], "--massif", run["massif"], "--top=0",
                       name=f"layout-{width}.html")
    png = run["dir"] / f"layout-{which}-{width}.png"
    # Open every tree and stack fold-out too: what a reader may do must not
    # widen the page either.
    open_all = ("document.querySelectorAll('details').forEach((d) => { d.open = true; }); "
                "true")
    res = open_page(page, [{"eval": LAYOUT}, {"screenshot": png}, {"eval": open_all},
                           {"eval": LAYOUT}], width=width)
    first, opened = res["values"][0], res["values"][2]
    for lay in (first, opened):
        assert width - 20 <= lay["clientWidth"] <= width, lay  # (less a scroll bar)
        assert lay["scrollWidth"] <= lay["clientWidth"], \
            f"the page scrolls sideways at {width} px: {lay['scrollWidth']} > " \
            f"{lay['clientWidth']}; too wide: {lay['wide']}"
        assert not lay["wide"], lay["wide"]
    # The tables fit their box: nothing to scroll inside them either, with
    # the fold-outs closed as the page opens.
    for box in first["boxes"]:
        assert box["scroll"] <= box["client"], f"{box['id']} is wider than its box: {box}"
    # The massif trees start closed, the peak's too.
    assert first["trees"] and not any(first["trees"]), first["trees"]
    # The flame graph takes the width it has.
    assert first["flameWidth"] and first["flameWidth"] <= width
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == width, "screenshot width"


# ---------------------------------------------------------------------------
# Flame graph: merged by function, split by line


@pytest.mark.parametrize("metric", ["total", "peak", "leaked"])
def test_flame_graph_merges_by_function_and_splits_by_line(sqlite_run, metric):
    doc = sqlite_run["doc"]
    key = {"total": "tb", "peak": "gb", "leaked": "leaked"}[metric]
    page = make_report(sqlite_run["dir"], sqlite_run["prof"], name=f"flame-{metric}.html")
    pick = {"check": f'input[name=flame-metric][value="{metric}"]'}
    res = open_page(page, [pick, {"eval": FLAME}, {"check": "#flame-lines"}, {"eval": FLAME}])
    merged, split = res["values"]
    fsums, lsums = path_sums(doc, key, True), path_sums(doc, key, False)
    if not sum(v for p, v in fsums.items() if len(p) == 1):
        assert merged == [] and split == []
        return
    assert merged[0]["split"] == "function" and split[0]["split"] == "line"
    drawn = check_flame(merged, fsums)
    check_flame(split, lsums)
    # One box per function under a given caller: sqlite3's stacks reach
    # some function from more than one line, which split mode shows apart.
    assert len(lsums) > len(fsums), "the profile has no function reached from two lines"
    names = [p for p in drawn if len(p) == 1]
    assert len(names) == len(set(names))
    # A function reached from several lines of one caller is one box
    # holding their sum: find such a (caller, function) pair in the
    # profile and check its box.
    pairs = {}
    for pp in doc["pps"]:
        fr = list(reversed(ph.frames(doc, pp)))
        for i in range(1, len(fr)):
            pairs.setdefault(tuple(ph.function_name(f) for f in fr[:i + 1]), set()).add(fr[i])
    multi = [p for p, lines in pairs.items() if len(lines) > 1 and p in drawn]
    assert multi, "no function reached from two lines under one caller path"
    for p in multi:
        assert drawn[p]["value"] == fsums[p]


def test_cxx_flame_graph_one_box_per_function(cxx_run):
    """report_templates.cpp calls make_word from three lines of two
    functions: merged, tokenize has one make_word box holding both of its
    lines' bytes."""
    doc = cxx_run["doc"]
    page = make_report(cxx_run["dir"], cxx_run["prof"], name="cxx-flame.html")
    merged, split = open_page(page, [{"eval": FLAME}, {"check": "#flame-lines"},
                                     {"eval": FLAME}])["values"]
    fsums = path_sums(doc, "tb", True)
    drawn = check_flame(merged, fsums)
    # (Demangled names carry their parameters: "make_word[abi:cxx11](int)".)
    under = [p for p in drawn if len(p) >= 2 and p[-2].startswith("tokenize(")
             and p[-1].startswith("make_word")]
    assert len(under) == 1, [p for p in drawn if any(x.startswith("tokenize(") for x in p)]
    # tokenize allocates through four calls on one line (two make_word, the
    # map's operator[], emplace_back: four return addresses, four frames):
    # split by line they are four boxes under main, merged one.
    calls = {f for pp in doc["pps"] for f, g in zip(ph.frames(doc, pp), ph.frames(doc, pp)[1:])
             if ph.function_name(f).startswith("tokenize(") and
             ph.function_name(g).startswith("main")}
    assert len(calls) == 4, calls
    assert len([p for p in drawn if len(p) >= 2 and p[-2] == "main"
                and p[-1].startswith("tokenize(")]) == 1
    sdrawn = check_flame(split, path_sums(doc, "tb", False))
    under_main = [p for p in sdrawn if len(p) >= 2 and ph.function_name(p[-2]) == "main"
                  and ph.function_name(p[-1]).startswith("tokenize(")]
    assert len(under_main) >= 2, under_main


# ---------------------------------------------------------------------------
# Caller/callee table


def function_sums(doc):
    """Per function name: inclusive and self sums of tb, tbk, gb, leaked,
    tmpbk; a site counts once per function however often the function is
    in its stack."""
    out = {}
    for pp in doc["pps"]:
        names = [ph.function_name(f) for f in ph.frames(doc, pp)]
        v = {"bytes": pp["tb"], "blocks": pp["tbk"], "peak": pp["gb"], "end": pp["eb"],
             "leaked": pp.get("ldb", 0) + pp.get("lib", 0), "temporary": pp.get("tmpbk", 0)}
        for n in set(names):
            e = out.setdefault(n, {"inclusive": dict.fromkeys(v, 0), "self": dict.fromkeys(v, 0)})
            for k in v:
                e["inclusive"][k] += v[k]
        if names:
            for k in v:
                out[names[0]]["self"][k] += v[k]
    return out


@pytest.mark.parametrize("which", sorted(RUNS))
def test_function_table_is_the_profiles_sums(which, request):
    run = request.getfixturevalue(RUNS[which])
    doc = run["doc"]
    page = make_report(run["dir"], run["prof"], "--top=0", name="funcs.html")
    rows = open_page(page, [{"eval": FUNCS}])["values"][0]
    want = function_sums(doc)
    assert sorted(r["name"] for r in rows) == sorted(want)
    for r in rows:
        w = want[r["name"]]
        for col, v in r["cols"].items():
            part, k = col.split("-", 1)
            assert v == w[part][k], (r["name"], col, v, w[part][k])
    incl = [r["cols"]["inclusive-bytes"] for r in rows]
    assert incl == sorted(incl, reverse=True)
    # A function called from many places is one row holding every stack
    # through it (sqlite3's main has no symbol in Debian's build).
    name = "main" if which == "cxx" else "sqlite3Malloc"
    row = next(r for r in rows if r["name"] == name)
    assert row["cols"]["inclusive-bytes"] == sum(
        pp["tb"] for pp in doc["pps"] if any(ph.function_name(f) == name
                                             for f in ph.frames(doc, pp)))
    assert row["cols"]["inclusive-bytes"] > 0


# ---------------------------------------------------------------------------
# Peaks, time axis, temporary and short-lived figures


AXIS = r"""(() => ({
  xmax: Number(document.querySelector('#heap-chart').dataset.xmax),
  ticks: Array.from(document.querySelectorAll('#heap-chart text.xtick')).map((t) =>
    [Number(t.getAttribute('x')), t.textContent]),
  points: Array.from(document.querySelectorAll('#heap-chart circle.snap')).map((c) =>
    [Number(c.dataset.time), Number(c.getAttribute('cx'))]),
  note: document.querySelector('#peak-note') ? document.querySelector('#peak-note').textContent
    : null,
  cards: Object.fromEntries(Array.from(document.querySelectorAll('.card')).map((c) =>
    [c.id, c.querySelector('.big').textContent + ' | ' + c.querySelector('.small').textContent])),
}))()"""


def test_time_axis_ends_at_the_runs_end_and_peaks_are_explained(sqlite_run):
    doc = sqlite_run["doc"]
    page = make_report(sqlite_run["dir"], sqlite_run["prof"], "--massif",
                       sqlite_run["massif"], name="axis.html")
    v = open_page(page, [{"eval": AXIS}])["values"][0]
    last_time = max(t for t, _ in v["points"])
    assert v["xmax"] == last_time, (v["xmax"], last_time)
    # The last point sits on the axis' end, and the last tick is there.
    right = max(cx for _, cx in v["points"])
    assert abs(v["ticks"][-1][0] - right) < 0.01, v["ticks"]
    # The chart's peak (useful + extra heap) differs from t-gmax's bytes:
    # one sentence says why, with both figures.
    gb = sum(pp["gb"] for pp in doc["pps"])
    assert v["note"], "no note on the two peaks"
    assert f"({gb:,} bytes" in v["note"] and "extra bytes" in v["note"], v["note"]
    assert v["note"].count(". ") == 0, "one sentence"
    if "time_unit: i\n" in sqlite_run["massif"].read_text():
        assert f"({gb:,} bytes at instruction {doc['tg']:,})" in v["note"], v["note"]


def test_profile_only_time_axis_ends_at_t_end(sqlite_run):
    doc = sqlite_run["doc"]
    page = make_report(sqlite_run["dir"], sqlite_run["prof"], name="noaxis.html")
    v = open_page(page, [{"eval": AXIS}])
    xmax = v["values"][0]["xmax"]
    assert xmax == doc["te"]


def test_summary_cards_temporary_and_short_lived(sqlite_run):
    doc = sqlite_run["doc"]
    page = make_report(sqlite_run["dir"], sqlite_run["prof"], name="cards.html")
    cards = open_page(page, [{"eval": AXIS}])["values"][0]["cards"]
    tmpk = sum(pp["tmpbk"] for pp in doc["pps"])
    tmpb = sum(pp["tmpb"] for pp in doc["pps"])
    def blocks(n):
        return f"{n:,} block{'' if n == 1 else 's'}"
    assert cards["card-temporary"].startswith(f"{blocks(tmpk)} | {tmpb:,} bytes"), cards
    short = [pp for pp in doc["pps"] if pp["tl"] <= doc["tuth"] * pp["tbk"]]
    assert cards["card-short"].startswith(
        f"{blocks(sum(pp['tbk'] for pp in short))} | {sum(pp['tb'] for pp in short):,} bytes"), \
        cards
    assert tmpk > 0, "sqlite3 frees some blocks right after allocating them"


# ---------------------------------------------------------------------------
# The README's screenshot


def test_screenshot_script_makes_the_readmes_picture(workdir):
    """tests/screenshot.py (make screenshot) from a real run: a 1,280 px wide
    PNG under 150 KB with the chart's colours in it; docs/report.png is one
    such picture and the README shows it."""
    import screenshot
    out = workdir / "shot.png"
    try:
        size = screenshot.shoot(out)
    except browser.BrowserUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    for png in (out, helpers.REPO / "docs" / "report.png"):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", png
        assert int.from_bytes(data[16:20], "big") == 1280, png
        assert len(data) < 150 * 1024, (png, len(data))
    assert size == out.stat().st_size
    # A real picture: many colours, the header's and the chart's among them.
    w, h, counts = browser.png_colours(out)
    assert len(counts) >= 50 and max(counts.values()) < 0.9 * w * h, len(counts)
    heap = tuple(round(0.85 * c + 0.15 * 255) for c in (0x3b, 0x7d, 0xd8))
    assert sum(n for c, n in counts.items()
               if all(abs(c[i] - heap[i]) <= 4 for i in range(3))) > 0.01 * w * h
    readme = (helpers.REPO / "README.md").read_text()
    assert "docs/report.png" in readme
