"""scripts/memtrack_export: a profile as collapsed stacks, callgrind format
and pprof, each read back by its own reader where one is installed:
callgrind_annotate (installed with Valgrind) for the callgrind file, `go
tool pprof` (Debian's golang-go) for the pprof file. Every export's totals
must equal the profile's, computed here from the profile's JSON; the
figures of tests/clients/export_app.cpp are also known by construction
(its comment). Bad input is covered with the other scripts in
test_script_bad_input.py; here the export's own refusals (a metric the
profile lacks, an output that cannot be written, binary to a terminal)."""
import gzip
import json
import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

import helpers

# Version independent: its oracles are callgrind_annotate and go tool pprof reading our files, not a Valgrind tool.
pytestmark = pytest.mark.version_independent

PYTHON = "/usr/bin/python3"
SCRIPT = helpers.REPO / "scripts" / "memtrack_export"
GO = "/usr/bin/go"
CG_ANNOTATE = "/usr/bin/callgrind_annotate"
MAN = helpers.REPO / "docs" / "memtrack_export.1"

# The profile's key (or keys summed) behind each metric.
METRIC_KEYS = {
    "total": ("tb",), "total-blocks": ("tbk",), "peak": ("gb",), "peak-blocks": ("gbk",),
    "end": ("eb",), "end-blocks": ("ebk",), "leaked": ("ldb", "lib"),
    "leaked-blocks": ("ldbk", "libk"), "reads": ("rb",), "writes": ("wb",),
}
# pprof's sample types: (type, unit, keys).
PPROF_TYPES = [
    ("alloc_objects", "count", ("tbk",)), ("alloc_space", "bytes", ("tb",)),
    ("peak_inuse_objects", "count", ("gbk",)), ("peak_inuse_space", "bytes", ("gb",)),
    ("inuse_objects", "count", ("ebk",)), ("inuse_space", "bytes", ("eb",)),
    ("leaked_objects", "count", ("ldbk", "libk")), ("leaked_space", "bytes", ("ldb", "lib")),
]
# Callgrind events: (event, keys).
CG_EVENTS = [("Bytes", ("tb",)), ("Blocks", ("tbk",)), ("PeakBytes", ("gb",)),
             ("PeakBlocks", ("gbk",)), ("EndBytes", ("eb",)), ("EndBlocks", ("ebk",)),
             ("LeakedBytes", ("ldb", "lib")), ("LeakedBlocks", ("ldbk", "libk")),
             ("Reads", ("rb",)), ("Writes", ("wb",))]


def export(argv, cwd, **kw):
    return helpers.run([PYTHON, SCRIPT, *argv], cwd, **kw)


def value(pp, keys):
    return sum(pp.get(k, 0) for k in keys)


def total(doc, keys):
    return sum(value(pp, keys) for pp in doc["pps"])


# The test's own reading of Valgrind's frame text (not the script's):
# "0xADDR: fn (file:line)", "0xADDR: fn (in /obj)", "0xADDR: ???".
_FRAME = re.compile(r"^0x([0-9A-Fa-f]+): (.*?)(?: \((?:in (.+)|(.+):(\d+))\))?$")


def frame(text):
    m = _FRAME.match(text)
    assert m, text
    return {"addr": int(m[1], 16), "fn": None if m[2] == "???" else m[2], "obj": m[3],
            "file": m[4], "line": int(m[5]) if m[5] else 0}


def stack(doc, pp):
    """The pp's frames, parsed, innermost first."""
    return [frame(doc["ftbl"][i]) for i in pp["fs"]]


@pytest.fixture(scope="module")
def app(clients, tmp_path_factory):
    """export_app under memtrack (a full leak search) and under DHAT."""
    d = tmp_path_factory.mktemp("export")
    exe = clients.path("export_app")
    prof = d / "app.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", "--leak-check=full"], [exe], d)
    assert r.returncode == 0 and prof.is_file(), r
    dhat = d / "dhat.json"
    r = helpers.run_dhat([f"--dhat-out-file={dhat}"], [exe], d)
    assert r.returncode == 0 and dhat.is_file(), r
    return {"dir": d, "prof": prof, "doc": json.loads(prof.read_text()), "dhat": dhat,
            "dhat_doc": json.loads(dhat.read_text()), "src": Path(helpers.CLIENT_SRC / "export_app.cpp")}


def _line_of(src, text, nth=1):
    """The line number of the nth line of src containing text."""
    found = [i for i, l in enumerate(src.read_text().splitlines(), 1) if text in l]
    assert len(found) >= nth, (text, found)
    return found[nth - 1]


# ---------------------------------------------------------------------------
# Collapsed stacks


def collapsed(argv, cwd):
    r = export(["--format=collapsed", *argv], cwd)
    assert r.returncode == 0 and r.stderr == "", r
    out = {}
    for line in r.stdout.splitlines():
        m = re.fullmatch(r"(\S.*) (\d+)", line)
        assert m, line
        assert m[1] not in out, f"stack listed twice: {m[1]}"
        assert ";;" not in m[1] and not m[1].endswith(";"), line
        out[m[1]] = int(m[2])
        assert out[m[1]] > 0, line
    return out


@pytest.mark.parametrize("metric", list(METRIC_KEYS))
def test_collapsed_adds_up_to_the_profile(metric, app):
    lines = collapsed([f"--metric={metric}", app["prof"]], app["dir"])
    assert sum(lines.values()) == total(app["doc"], METRIC_KEYS[metric]), metric
    assert lines, "no line"


def test_collapsed_merges_frames_by_function_root_first(app):
    """tokenize is called from two lines of main: one stack by function
    (C++ names as Valgrind demangles them, with their parameters)
    (576 bytes = 12 blocks of 48), two by line (5 and 7 blocks); the
    vector's million bytes are sort_batch's at t-gmax; the leak is
    leak_node's 116 bytes (16 lost, 100 indirectly), the reachable config
    keep_config's 200 bytes at t-end."""
    by_fn = collapsed([app["prof"]], app["dir"])
    assert by_fn["main;tokenize(int)"] == 12 * 48, by_fn
    src = app["src"]
    l1, l2 = _line_of(src, "tokenize(5);"), _line_of(src, "tokenize(7);")
    lt = _line_of(src, "toks[i] = malloc(48);")
    by_line = collapsed(["--lines", app["prof"]], app["dir"])
    assert by_line[f"main (export_app.cpp:{l1});tokenize(int) (export_app.cpp:{lt})"] == 5 * 48, by_line
    assert by_line[f"main (export_app.cpp:{l2});tokenize(int) (export_app.cpp:{lt})"] == 7 * 48, by_line
    assert sum(by_line.values()) == sum(by_fn.values())
    peak = collapsed(["--metric=t-gmax", app["prof"]], app["dir"])
    sort = {k: v for k, v in peak.items() if k.startswith("main;sort_batch();")}
    assert sum(sort.values()) == 1_000_000, peak
    leaked = collapsed(["--metric=leaked", app["prof"]], app["dir"])
    assert leaked == {"main;leak_node()": 116}, leaked
    blocks = collapsed(["--metric=leaked-blocks", app["prof"]], app["dir"])
    assert blocks == {"main;leak_node()": 2}, blocks
    end = collapsed(["--metric=end", app["prof"]], app["dir"])
    assert end["main;keep_config()"] == 200 and end["main;leak_node()"] == 116, end
    every = collapsed(["--metric=leaked", "--leak-kinds=all", app["prof"]], app["dir"])
    assert every["main;keep_config()"] == 200, every


def test_collapsed_of_dhats_own_profile(app):
    """A profile written by Valgrind's DHAT (no leak keys) exports the same
    way; its totals are DHAT's."""
    for metric in ("total", "total-blocks", "peak", "end"):
        lines = collapsed([f"--metric={metric}", app["dhat"]], app["dir"])
        assert sum(lines.values()) == total(app["dhat_doc"], METRIC_KEYS[metric]), metric
    r = export(["--format=collapsed", "--metric=leaked", app["dhat"]], app["dir"])
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr.count("\n") == 1 and "has no leak figures" in r.stderr, r


# ---------------------------------------------------------------------------
# Callgrind format, read by callgrind_annotate


def _annotate(path, cwd, inclusive):
    r = helpers.run([CG_ANNOTATE, f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", "--show-percs=no",
                     path], cwd)
    assert r.returncode == 0, r
    assert "WARNING" not in r.stderr and "malformed" not in r.stderr, r
    return r.stdout


def _parse_annotate(text, n):
    """(events, program totals, {file:function: [costs]}) from
    callgrind_annotate's output with n events."""
    lines = text.splitlines()
    ev_line = next(l for l in lines if l.startswith("Events shown:"))
    events = ev_line.split(":", 1)[1].split()
    assert len(events) == n, ev_line
    num = r"(?:[\d,]+|\.)"
    row = re.compile(rf"^\s*((?:{num}\s+){{{n}}})(\S.*?)(?: \[.*\])?$")

    def nums(s):
        return [0 if x == "." else int(x.replace(",", "")) for x in s.split()]

    totals, fns, after = None, {}, False
    for l in lines:
        if l.rstrip().endswith("PROGRAM TOTALS"):
            totals = nums(l.rsplit("PROGRAM TOTALS", 1)[0])
            continue
        if l.rstrip().endswith("file:function"):
            after = True
            continue
        if after:
            m = row.match(l)
            if m:
                assert m[2] not in fns, l
                fns[m[2]] = nums(m[1])
            elif l.startswith("---") or not l.strip():
                if fns:
                    after = False
    assert totals is not None, text[:2000]
    return events, totals, fns


def _cg_key(f):
    fn = f["fn"] if f["fn"] is not None else f"0x{f['addr']:x}"
    return f"{f['file'] or '???'}:{fn}"


def test_callgrind_read_by_callgrind_annotate(app):
    doc, d = app["doc"], app["dir"]
    out = d / "callgrind.out.app"
    r = export(["--format=callgrind", "-o", out, app["prof"]], d)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    events = [(e, k) for e, k in CG_EVENTS]
    n = len(events)
    # The expectation, from the profile's JSON: a function's own cost is
    # that of the sites it called the allocator from; its inclusive cost
    # that of every site whose stack it is on.
    own, incl = {}, {}
    for pp in doc["pps"]:
        costs = [value(pp, k) for _, k in events]
        st = stack(doc, pp)
        own.setdefault(_cg_key(st[0]), [0] * n)
        own[_cg_key(st[0])] = [a + b for a, b in zip(own[_cg_key(st[0])], costs)]
        for key in {_cg_key(f) for f in st}:
            incl[key] = [a + b for a, b in zip(incl.get(key, [0] * n), costs)]
    want_totals = [total(doc, k) for _, k in events]

    ev, totals, fns = _parse_annotate(_annotate(out, d, False), n)
    assert ev == [e for e, _ in events]
    assert totals == want_totals
    got_own = {k: v for k, v in fns.items() if any(v)}
    assert got_own == {k: v for k, v in own.items() if any(v)}
    # Every function's inclusive figures (callers of the allocator's
    # callers too: main holds the whole program but the static
    # initialisers' blocks).
    ev, totals, fns = _parse_annotate(_annotate(out, d, True), n)
    assert totals == want_totals
    assert {k: v for k, v in fns.items() if any(v)} == {k: v for k, v in incl.items() if any(v)}
    main = fns["export_app.cpp:main"]
    assert main[0] >= 12 * 48 + 1_000_000 + 116 + 200, main
    assert fns["export_app.cpp:tokenize(int)"][:2] == [576, 12]


# ---------------------------------------------------------------------------
# pprof, read by go tool pprof


def _go(argv, cwd, tmp):
    """go tool pprof, offline, its caches in a temporary folder."""
    if not os.access(GO, os.X_OK):
        pytest.fail(f"{GO} is missing: install Debian's golang-go (scripts/bootstrap --tests does)",
                    pytrace=False)
    env = {"HOME": str(tmp), "GOCACHE": str(tmp / "gocache"), "GOPATH": str(tmp / "gopath"),
           "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local", "PPROF_TMPDIR": str(tmp),
           "PPROF_BINARY_PATH": str(tmp)}
    r = helpers.run([GO, "tool", "pprof", *argv], cwd, env=env)
    assert r.returncode == 0, r
    return r


def _raw(text):
    """Sample types and samples (values, location ids) and locations
    {id: [function names, innermost first]} of `pprof -raw`."""
    lines = text.splitlines()
    i = lines.index("Samples:")
    types = [t.split("/")[0] for t in lines[i + 1].replace("[dflt]", "").split()]
    samples = []
    j = i + 2
    while j < len(lines) and re.match(r"^\s*-?\d", lines[j]):
        vals, _, locs = lines[j].partition(":")
        samples.append(([int(v) for v in vals.split()], [int(x) for x in locs.split()]))
        j += 1
    locations = {}
    k = lines.index("Locations")
    cur = None
    # "  7: 0x1092ee M=1 name file:line s=0", then "(system name)" when
    # pprof shows a shorter name (it drops C++ parameters and template
    # arguments); more lines of the same location are its inlined calls.
    for l in lines[k + 1:]:
        m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ (?:M=\d+ )?(.*?) (\S*):(-?\d+) s=\d+(?:\((.*)\))?$", l)
        if m:
            cur = int(m[1])
            locations[cur] = [m[5] or m[2]]
            continue
        m = re.match(r"^\s+(.*?) (\S*):(-?\d+) s=\d+(?:\((.*)\))?$", l)
        if m and cur is not None:
            locations[cur].append(m[4] or m[1])
            continue
        if not l.startswith(" "):
            break
    return types, samples, locations


def test_pprof_read_by_go_tool_pprof(app, tmp_path):
    doc, d = app["doc"], app["dir"]
    out = d / "app.pb.gz"
    r = export(["--format=pprof", "-o", out, app["prof"]], d)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    assert gzip.decompress(out.read_bytes())  # a gzip file
    raw = _go(["-raw", out], d, tmp_path).stdout
    types, samples, locs = _raw(raw)
    assert types == [t for t, _, _ in PPROF_TYPES], raw[:500]
    assert "peak_inuse_space/bytes[dflt]" in raw
    # Each sample is one site: its stack (function names, innermost first)
    # and its figures, as the profile has them.
    got = sorted((tuple(n for lid in ids for n in locs[lid]), tuple(v)) for v, ids in samples)

    def name(f):
        return f["fn"] if f["fn"] is not None else (f"??? (in {f['obj']})" if f["obj"] else f"0x{f['addr']:X}")

    want = sorted((tuple(name(f) for f in stack(doc, pp)), tuple(value(pp, k) for _, _, k in PPROF_TYPES))
                  for pp in doc["pps"])
    assert got == want
    # -top's totals, per sample type, are the profile's.
    for t, unit, keys in PPROF_TYPES:
        r = _go(["-top", f"-sample_index={t}", "-unit=" + ("byte" if unit == "bytes" else "minimum"),
                 "-nodecount=1000", out], d, tmp_path)
        want_total = total(doc, keys)
        m = re.search(r"of ([\d.]+)(B?) total", r.stdout)
        if want_total == 0:
            assert m is None or float(m[1]) == 0, r.stdout
            continue
        assert m and int(float(m[1])) == want_total, (t, want_total, r.stdout[:800])


def _tokenize_sites(doc):
    """The profile's sites whose innermost frame is tokenize: 12 blocks of
    48 bytes (export_app.cpp's comment)."""
    pps = [pp for pp in doc["pps"] if (stack(doc, pp)[0]["fn"] or "").startswith("tokenize")]
    assert sum(pp["tb"] for pp in pps) == 576 and sum(pp["tbk"] for pp in pps) == 12, pps
    return pps


def test_alloc_fn_and_ignore_fn_in_every_format(app, tmp_path):
    """The label rules of the other scripts: --alloc-fn cuts an allocator
    wrapper's frames from the top of its stacks (its callers carry the
    bytes, as massif's --alloc-fn), --ignore-fn leaves its sites out of
    every figure. tokenize plays the wrapper here."""
    doc, d = app["doc"], app["dir"]
    tok = _tokenize_sites(doc)
    plain = collapsed([app["prof"]], d)
    cut = collapsed(["--alloc-fn=tokenize*", app["prof"]], d)
    assert not [k for k in cut if "tokenize" in k], cut
    assert cut["main"] == plain.get("main", 0) + 576, (plain, cut)
    assert sum(cut.values()) == total(doc, ("tb",))
    # The parameter list may be left out of a pattern, as in the tool's.
    assert collapsed(["--alloc-fn=tokenize", app["prof"]], d) == cut
    ign = collapsed(["--ignore-fn=tokenize*", app["prof"]], d)
    assert ign == {k: v for k, v in plain.items() if "tokenize" not in k}
    assert sum(ign.values()) == total(doc, ("tb",)) - 576
    # callgrind: tokenize's own cost becomes main's; the totals stay.
    out = d / "callgrind.alloc-fn"
    r = export(["--format=callgrind", "--alloc-fn=tokenize*", "-o", out, app["prof"]], d)
    assert r.returncode == 0 and r.stderr == "", r
    _, totals0, own0 = _parse_annotate(_annotate(_plain_cg(app), d, False), len(CG_EVENTS))
    _, totals, own = _parse_annotate(_annotate(out, d, False), len(CG_EVENTS))
    assert totals == totals0
    assert not [k for k in own if "tokenize" in k], own
    assert own["export_app.cpp:main"][:2] == [own0.get("export_app.cpp:main", [0, 0])[0] + 576,
                                              own0.get("export_app.cpp:main", [0, 0])[1] + 12]
    # pprof: without tokenize's sites, every sample type's total drops by
    # theirs.
    out = d / "ignore.pb.gz"
    r = export(["--format=pprof", "--ignore-fn=tokenize*", "-o", out, app["prof"]], d)
    assert r.returncode == 0 and r.stderr == "", r
    types, samples, locs = _raw(_go(["-raw", out], d, tmp_path).stdout)
    assert len(samples) == len(doc["pps"]) - len(tok)
    for i, (t, _, keys) in enumerate(PPROF_TYPES):
        assert sum(v[i] for v, _ in samples) == total(doc, keys) - sum(value(pp, keys) for pp in tok), t
    assert not [n for names in locs.values() for n in names if "tokenize" in n], locs


def _plain_cg(app):
    out = app["dir"] / "callgrind.plain"
    if not out.exists():
        r = export(["--format=callgrind", "-o", out, app["prof"]], app["dir"])
        assert r.returncode == 0, r
    return out


def test_pprof_of_dhats_own_profile(app, tmp_path):
    """DHAT's file: the types it has figures for (no leak types)."""
    d = app["dir"]
    out = d / "dhat.pb.gz"
    r = export(["--format=pprof", "-o", out, app["dhat"]], d)
    assert r.returncode == 0, r
    types, samples, _ = _raw(_go(["-raw", out], d, tmp_path).stdout)
    assert types == [t for t, _, _ in PPROF_TYPES[:6]]
    for i, (_, _, keys) in enumerate(PPROF_TYPES[:6]):
        assert sum(v[i] for v, _ in samples) == total(app["dhat_doc"], keys)


# ---------------------------------------------------------------------------
# The export's own refusals


def test_unwritable_output_is_one_line_status_1(app, workdir):
    for fmt in ("collapsed", "callgrind", "pprof"):
        target = workdir / "no" / "such" / "dir" / "out"
        r = export([f"--format={fmt}", "-o", target, app["prof"]], workdir)
        assert r.returncode == 1 and r.stdout == "", r
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("memtrack_export: error: cannot write"), r
        assert "No such file or directory" in r.stderr
        (workdir / "ro").mkdir(exist_ok=True)
        os.chmod(workdir / "ro", 0o555)
        try:
            if os.access(workdir / "ro", os.W_OK):
                continue  # (root writes anywhere)
            r = export([f"--format={fmt}", "-o", workdir / "ro" / "out", app["prof"]], workdir)
            assert r.returncode == 1 and r.stderr.count("\n") == 1, r
            assert list((workdir / "ro").iterdir()) == []
        finally:
            os.chmod(workdir / "ro", 0o755)
    assert sorted(p.name for p in workdir.iterdir()) == ["ro"]


def test_output_never_overwrites_the_profile(app, workdir):
    prof = workdir / "p.json"
    prof.write_bytes(app["prof"].read_bytes())
    r = export(["--format=callgrind", "-o", prof, prof], workdir)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is the input file" in r.stderr, r
    assert prof.read_bytes() == app["prof"].read_bytes()


def test_pprof_is_not_written_to_a_terminal(app, workdir):
    master, slave = pty.openpty()
    try:
        p = subprocess.run([PYTHON, str(SCRIPT), "--format=pprof", str(app["prof"])], stdout=slave,
                           stderr=subprocess.PIPE, text=True, cwd=workdir, env=helpers.base_env(),
                           timeout=helpers.TIMEOUT)
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "give -o FILE" in p.stderr, p


def test_no_arguments_prints_usage(workdir):
    r = export([], workdir)
    assert r.returncode == 2 and r.stdout == "", r
    assert "usage:" in r.stderr and "--format=pprof" in r.stderr and "--help" in r.stderr, r


def test_help_and_man_page_document_every_option(workdir):
    r = export(["--help"], workdir)
    assert r.returncode == 0, r
    opts = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", r.stdout.split("options:", 1)[1]
                          .split("metrics for", 1)[0]))
    every = {"--format", "-o", "--output", "--metric", "--lines", "--leak-kinds", "--alloc-fn",
             "--ignore-fn", "--version", "-h", "--help"}
    assert every <= opts, opts
    man = MAN.read_text()
    sect = man.split(".SH OPTIONS", 1)[1].split("\n.SH ", 1)[0].replace("\\-", "-")
    man_opts = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", sect))
    assert every <= man_opts, man_opts
    for m in ("total", "total-blocks", "peak", "end", "leaked"):
        assert m in r.stdout and m in sect, m
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_copy_mode_profile(app, tmp_path):
    """A copy-mode profile (bytes copied and calls): collapsed, callgrind and
    pprof carry its two figures, totals equal; the lifetime metrics are
    refused."""
    d = app["dir"]
    prof = d / "copy.json"
    r = helpers.run_memtrack(["--mode=copy", f"--dhat-out-file={prof}"], [helpers.Clients().path("export_app")], d)
    assert r.returncode == 0, r
    doc = json.loads(prof.read_text())
    assert doc["mode"] == "copy" and doc["pps"], doc.keys()
    for metric in ("total", "total-blocks"):
        lines = collapsed([f"--metric={metric}", prof], d)
        assert sum(lines.values()) == total(doc, METRIC_KEYS[metric])
    r = export(["--format=collapsed", "--metric=peak", prof], d)
    assert r.returncode == 2 and "has no block lifetimes" in r.stderr, r
    out = d / "copy.callgrind"
    assert export(["--format=callgrind", "-o", out, prof], d).returncode == 0
    ev, totals, _ = _parse_annotate(_annotate(out, d, False), 2)
    assert ev == ["Bytes", "Blocks"] and totals == [total(doc, ("tb",)), total(doc, ("tbk",))]
    out = d / "copy.pb.gz"
    assert export(["--format=pprof", "-o", out, prof], d).returncode == 0
    types, samples, _ = _raw(_go(["-raw", out], d, tmp_path).stdout)
    assert types == ["alloc_objects", "alloc_space"]
    assert [sum(v[i] for v, _ in samples) for i in range(2)] == [total(doc, ("tbk",)), total(doc, ("tb",))]
