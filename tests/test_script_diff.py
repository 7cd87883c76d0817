"""scripts/memtrack_diff: per-site comparison of two profiles and the CI
regression gate (--max-growth, --max-peak, --max-new-leaks).

tests/clients/diff_app.c is built in variants with -D flags (same source
lines, so the same frames): unchanged, GROW (a table of bigger rows),
LEAK (one new leaking site and three names never freed) and SHRINK. What
each variant changes is known by construction (see the client's header);
every figure the script prints is also checked against a comparison this
file makes on its own from the two profiles' JSON. The gate must fail
(exit 1, naming the threshold) on the grown and the leaking program and
pass on the unchanged one; two profiles that cannot be compared give one
line and exit status 2 (other bad input files and options:
test_script_bad_input.py)."""
import json
import math
import re
from pathlib import Path

import pytest

import helpers
import profile_helpers as ph
import test_script_bad_input as tbi
import test_script_print as tsp
import workloads

SCRIPT = helpers.REPO / "scripts" / "memtrack_diff"
MAN = helpers.REPO / "docs" / "memtrack_diff.1"
PYTHON = "/usr/bin/python3"
ADDR = re.compile(r"^0x[0-9A-Fa-f]+: ")
FIELDS = ("tb", "tbk", "gb", "gbk", "eb", "ebk", "mb", "rb", "wb",
          "ldb", "ldbk", "lib", "libk", "lpb", "lpbk", "lrb", "lrbk")
KIND_KEYS = {"definite": ("ldb", "ldbk"), "indirect": ("lib", "libk"),
             "possible": ("lpb", "lpbk"), "reachable": ("lrb", "lrbk")}
DEFAULT_KINDS = ("definite", "indirect")  # what memtrack calls lost


def mdiff(args, cwd):
    return helpers.run([PYTHON, str(SCRIPT), *[str(a) for a in args]], cwd)


def as_json(args, cwd, status=0):
    r = mdiff([*args, "--format=json"], cwd)
    assert r.returncode == status, r
    return json.loads(r.stdout), r


def load(path):
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------
# The comparison, made here from the JSON


def sites(doc, match="functions", depth=0):
    """{key: summed figures}; key = the frames without addresses (and
    without line numbers for match='functions'), innermost depth only."""
    out = {}
    for pp in doc["pps"]:
        fr = [ADDR.sub("", doc["ftbl"][i]) for i in pp["fs"]]
        if depth:
            fr = fr[:depth]
        if match == "functions":
            fr = [re.sub(r":\d+\)$", ")", f) for f in fr]
        s = out.setdefault(tuple(fr), {k: 0 for k in FIELDS})
        for k in FIELDS:
            s[k] += pp.get(k, 0)
    return out


def leaked(s, kinds=DEFAULT_KINDS):
    return sum(s[KIND_KEYS[k][0]] for k in kinds), sum(s[KIND_KEYS[k][1]] for k in kinds)


def my_diff(base, new, kinds=DEFAULT_KINDS, **kw):
    """{key: (status, {field: change}, impact)} for every site that differs."""
    bs, ns = sites(base, **kw), sites(new, **kw)
    zero = {k: 0 for k in FIELDS}
    out = {}
    for k in set(bs) | set(ns):
        b, n = bs.get(k, zero), ns.get(k, zero)
        ch = {f: n[f] - b[f] for f in FIELDS}
        lb, ln = leaked(b, kinds), leaked(n, kinds)
        ch["leaked"], ch["leaked_blocks"] = ln[0] - lb[0], ln[1] - lb[1]
        if not any(ch.values()):
            continue
        status = "new" if k not in bs else "gone" if k not in ns else "changed"
        impact = max(abs(ch["tb"]), abs(ch["gb"]), abs(ch["eb"]), abs(ch["leaked"]))
        out[k] = (status, ch, impact)
    return out


def total(doc, key):
    return sum(pp.get(key, 0) for pp in doc["pps"])


def growth(b, n):
    return math.inf if b == 0 and n else (0.0 if b == 0 else 100.0 * (n - b) / b)


def check_against_my_diff(js, base, new, kinds=DEFAULT_KINDS, match="functions", depth=0):
    """The script's JSON (run with --top=0, and with the --match and
    --depth given here; the script's default is --match=functions) says what
    my_diff says. A merged site prints one member's frames, so its key is
    made from them as sites() makes keys."""
    want = my_diff(base, new, kinds, match=match, depth=depth)
    def key(frames):
        fr = frames[:depth] if depth else frames
        return tuple(re.sub(r":\d+\)$", ")", f) if match == "functions" else f for f in fr)
    got = {key(c["frames"]): c for c in js["changes"]}
    assert len(got) == len(js["changes"])
    assert set(got) == set(want), (set(got) ^ set(want))
    for k, (status, ch, impact) in want.items():
        c = got[k]
        assert c["status"] == status, (k, c["status"], status)
        assert c["impact"] == impact
        for f, v in ch.items():
            assert c["change"][f] == v, (k, f, c["change"][f], v)
    impacts = [c["impact"] for c in js["changes"]]
    assert impacts == sorted(impacts, reverse=True), impacts
    # The whole run's figures.
    for key in ("tb", "tbk", "gb", "eb", "rb", "wb", "ldb", "lrbk"):
        if key in js["totals"]:
            t = js["totals"][key]
            assert (t["base"], t["new"], t["change"]) == (total(base, key), total(new, key),
                                                           total(new, key) - total(base, key))
            g = growth(t["base"], t["new"])
            assert t["percent"] == (pytest.approx(g) if math.isfinite(g) else None)
    return want


# ---------------------------------------------------------------------------
# The variants of diff_app.c


VARIANTS = {"base": [], "base2": [], "GROW": ["-DGROW"], "LEAK": ["-DLEAK"],
            "SHRINK": ["-DSHRINK"]}


@pytest.fixture(scope="module")
def runs(built_tool, tmp_path_factory):
    """Each variant of diff_app.c under memtrack with a full leak search;
    'base2' is a second run of the unchanged program."""
    d = tmp_path_factory.mktemp("diff")
    out = {"dir": d}
    for v, flags in VARIANTS.items():
        exe = ph.compile_client("diff_app", ["-O0", *flags],
                                out_name=f"diff_app-{'base' if v == 'base2' else v}")
        prof = d / f"{v}.json"
        r = helpers.run_memtrack([f"--dhat-out-file={prof}", "--leak-check=full"], [exe], d)
        assert r.returncode == 0, r
        out[v] = prof
        out[v + "_exe"] = exe
    return out


def test_variants_allocate_what_they_say(runs):
    """diff_app.c's header, checked once, so that the gate tests below can
    rely on it."""
    b, g, l, s = (load(runs[v]) for v in ("base", "GROW", "LEAK", "SHRINK"))
    assert (total(b, "tb"), total(b, "tbk"), total(b, "gb"), total(b, "eb")) == \
        (9200, 29, 8200, 200)
    assert (total(g, "tb"), total(g, "gb")) == (13200, 12200)
    assert (total(l, "ldb"), total(l, "ldbk"), total(l, "lrb")) == (214, 4, 200)
    assert total(s, "tb") == 8700


def test_unchanged_program_passes_every_gate(runs, workdir):
    base, new = load(runs["base"]), load(runs["base2"])
    peak = total(new, "gb")
    args = [runs["base"], runs["base2"], "--max-growth=0%", f"--max-peak={peak}",
            "--max-new-leaks=0"]
    r = mdiff(args, workdir)
    assert r.returncode == 0, r
    assert r.stderr == ""
    assert "No site changed." in r.stdout
    assert "Result: PASS (4 thresholds kept)" in r.stdout  # growth of total and peak
    js, _ = as_json(args, workdir)
    assert js["result"] == "pass" and js["changes"] == []
    assert all(t["change"] == 0 for t in js["totals"].values())
    assert [(g["what"], g["exceeded"]) for g in js["thresholds"]] == \
        [("total", False), ("peak", False), ("peak", False), ("leaks", False)]
    assert js["sites"]["same"] == len(sites(base)) == js["sites"]["in_base"]


def test_grown_program_fails_the_growth_gate(runs, workdir):
    base, new = load(runs["base"]), load(runs["GROW"])
    r = mdiff([runs["base"], runs["GROW"], "--max-growth=10%"], workdir)
    assert r.returncode == 1, r
    lines = r.stderr.splitlines()
    gt = growth(total(base, "tb"), total(new, "tb"))
    gp = growth(total(base, "gb"), total(new, "gb"))
    assert lines[0].startswith(f"memtrack_diff: exceeded: --max-growth=10%: total bytes grew "
                               f"{gt:.2f}% (9,200 -> 13,200 bytes); most from make_table "
                               "(diff_app.c:"), lines
    assert lines[1].startswith(f"memtrack_diff: exceeded: --max-growth=10%: bytes at t-gmax "
                               f"(peak) grew {gp:.2f}% (8,200 -> 12,200 bytes)"), lines
    assert len(lines) == 2
    assert "Result: FAIL (2 of 2 thresholds exceeded)" in r.stdout
    # The boundary, from the JSON: the peak grew by gp percent.
    assert mdiff([runs["base"], runs["GROW"], f"--max-growth={gp - 0.001:.3f}%"],
                 workdir).returncode == 1
    assert mdiff([runs["base"], runs["GROW"], f"--max-growth={gp + 0.001:.3f}%"],
                 workdir).returncode == 0
    # Amounts: both grew by 4,000 bytes (TABLE_ROW 1,000 -> 1,500, 8 rows).
    for limit, status in (("4000B", 0), ("3999", 2), ("3999B", 1), ("3K", 1), ("4K", 0),
                          ("3.9KiB", 1), ("0.004m", 0)):
        rr = mdiff([runs["base"], runs["GROW"], f"--max-growth={limit}"], workdir)
        assert rr.returncode == status, (limit, rr)
    # Only the figures asked for.
    rr = mdiff([runs["base"], runs["GROW"], "--max-growth=0%", "--growth-of=blocks,end"],
               workdir)
    assert rr.returncode == 0, rr


def test_leaking_program_fails_the_new_leak_gate(runs, workdir):
    base, new = load(runs["base"]), load(runs["LEAK"])
    r = mdiff([runs["base"], runs["LEAK"], "--max-new-leaks=0", "--max-growth=10%",
               "--max-peak=64MiB"], workdir)
    assert r.returncode == 1, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r
    # 64 bytes at the new leak_buffer site, 3 x 50 at make_names, all
    # definitely lost; the gate says what it added up (definitely +
    # indirectly lost by default, as memtrack's --leak-limit).
    assert lines[0].startswith("memtrack_diff: exceeded: --max-new-leaks=0: new leaks: "
                               "214 bytes lost (214 definitely, 0 indirectly) in 4 blocks at 2 sites"
                               " (lost in total: 0 -> 214 bytes); most from make_names "
                               "(diff_app.c:"), lines
    assert sum(pp.get("ldb", 0) for pp in new["pps"]) - sum(pp.get("ldb", 0) for pp in base["pps"]) == 214
    rk = mdiff([runs["base"], runs["LEAK"], "--max-new-leaks=0", "--leak-kinds=possible,definite"], workdir)
    assert "new leaks: 214 bytes lost (214 definitely, 0 possibly) in 4 blocks" in rk.stderr, rk
    assert "EXCEEDED  --max-new-leaks=0" in r.stdout
    assert re.search(r"^  ok +--max-growth=10%: total bytes grew 0\.70%", r.stdout, re.M)
    js, _ = as_json([runs["base"], runs["LEAK"], "--top=0", "--max-new-leaks=0"], workdir, 1)
    want = check_against_my_diff(js, base, new)
    assert sum(max(0, w[1]["leaked"]) for w in want.values()) == 214
    news = [c for c in js["changes"] if c["status"] == "new"]
    assert [tsp.fn_of(c["frames"][0]) for c in news] == ["leak_buffer"]
    assert news[0]["change"]["ldb"] == 64
    # The limit is a size: 214 bytes pass at 214, fail at 213.
    assert mdiff([runs["base"], runs["LEAK"], "--max-new-leaks=214"], workdir).returncode == 0
    assert mdiff([runs["base"], runs["LEAK"], "--max-new-leaks=213"], workdir).returncode == 1
    # Nothing new is still reachable; and fewer leaks is no regression.
    assert mdiff([runs["base"], runs["LEAK"], "--max-new-leaks=0", "--leak-kinds=reachable"],
                 workdir).returncode == 0
    assert mdiff([runs["LEAK"], runs["base"], "--max-new-leaks=0"], workdir).returncode == 0


def test_peak_gate(runs, workdir):
    peak = total(load(runs["GROW"]), "gb")
    assert peak == 12200
    for limit, status in ((peak, 0), (peak - 1, 1), ("11K", 1), ("12K", 0), ("12KiB", 0),
                          ("11.9KB", 1), ("64MiB", 0), ("0.01M", 1), ("1g", 0)):
        r = mdiff([runs["base"], runs["GROW"], f"--max-peak={limit}"], workdir)
        assert r.returncode == status, (limit, r)
        if status == 1:
            assert r.stderr.startswith(f"memtrack_diff: exceeded: --max-peak={limit}: the peak "
                                       f"(t-gmax) is 12,200 bytes (11.91 KiB)"), r
            assert "from make_table (diff_app.c:" in r.stderr


def test_shrunk_program_passes_and_shows_the_change(runs, workdir):
    base, new = load(runs["base"]), load(runs["SHRINK"])
    r = mdiff([runs["base"], runs["SHRINK"], "--max-growth=0%"], workdir)
    assert r.returncode == 0, r
    assert "make_names (diff_app.c:" in r.stdout
    assert re.search(r"^\s+total \(bytes\)\s+1,000 -> 500  -500 \(-50\.00%\)$", r.stdout, re.M), \
        r.stdout
    js, _ = as_json([runs["base"], runs["SHRINK"], "--top=0"], workdir)
    check_against_my_diff(js, base, new)


@pytest.mark.parametrize("variant", ["GROW", "LEAK", "SHRINK"])
def test_site_changes_match_an_independent_comparison(variant, runs, workdir):
    base, new = load(runs["base"]), load(runs[variant])
    js, _ = as_json([runs["base"], runs[variant], "--top=0"], workdir)
    check_against_my_diff(js, base, new)
    assert js["result"] is None and js["thresholds"] == []


def test_text_report_figures(runs, workdir):
    """The text report's whole-run table and each changed site's rows."""
    base, new = load(runs["base"]), load(runs["LEAK"])
    text = mdiff([runs["base"], runs["LEAK"]], workdir).stdout
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^  ([a-z' -]+) \((bytes|blocks)\)\s+([\d,]+)\s+([\d,]+)  (.*)$", line)
        if m:
            rows[(m[1], m[2])] = (tsp.num(m[3]), tsp.num(m[4]), m[5])
    for (label, unit), key in {("total", "bytes"): "tb", ("total", "blocks"): "tbk",
                               ("at t-gmax", "bytes"): "gb", ("at t-end", "bytes"): "eb",
                               ("reads", "bytes"): "rb", ("writes", "bytes"): "wb",
                               ("definitely lost", "bytes"): "ldb",
                               ("still reachable", "blocks"): "lrbk"}.items():
        b, n, ch = rows[(label, unit)]
        assert (b, n) == (total(base, key), total(new, key)), (label, unit)
        assert ch == "=" if b == n else ch.startswith(f"{n - b:+,} "), (label, ch)
    want = my_diff(base, new)
    heads = re.findall(r"^\[(\d+)\] (new site|site gone|changed): total ([+-]?[\d,]+) bytes",
                       text, re.M)
    assert len(heads) == len(want)
    assert f"sites: {len(sites(base))} in base, {len(sites(new))} in new: 1 new, 0 gone, " \
           "1 changed" in text


def test_matching_by_functions_and_depth(workdir):
    """Profiles written here: the same two call chains with other addresses
    and line numbers (an edited source file)."""
    def prof(name, line_shift, addr_shift, sizes):
        f = lambda a, fn, ln: f"0x{a + addr_shift:X}: {fn} (a.c:{ln + line_shift})"
        ftbl = ["[root]", f(0x1000, "alloc_a", 10), f(0x2000, "main", 30),
                f(0x1100, "alloc_b", 20), f(0x2100, "main", 31)]
        doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": True,
               "bkacc": False, "tu": "instrs", "Mtu": "Minstr", "tuth": 500, "cmd": "./a",
               "pid": 1, "te": 1000, "tg": 500, "ftbl": ftbl, "pps": []}
        for fs, size in zip(([1, 2], [3, 4]), sizes):
            doc["pps"].append({"tb": size, "tbk": 1, "tl": 10, "mb": size, "mbk": 1,
                               "gb": size, "gbk": 1, "eb": 0, "ebk": 0, "fs": fs})
        p = workdir / name
        p.write_text(json.dumps(doc))
        return p, doc

    a, da = prof("a.json", 0, 0, (100, 200))
    b, db = prof("b.json", 2, 0x40, (100, 260))
    js, _ = as_json([a, b, "--top=0", "--match=frames"], workdir)
    assert js["sites"] == {"in_base": 2, "in_new": 2, "new": 2, "gone": 2, "changed": 0,
                           "same": 0}
    assert {c["status"] for c in js["changes"]} == {"new", "gone"}
    check_against_my_diff(js, da, db, match="frames")
    # The default: by functions and files, lines left out.
    js, _ = as_json([a, b, "--top=0"], workdir)
    assert [(c["status"], c["change"]["tb"]) for c in js["changes"]] == [("changed", 60)]
    assert js["changes"][0]["frames"][0] == "alloc_b (a.c:22)"  # shown as in the new profile
    check_against_my_diff(js, da, db, match="functions")
    # Same addresses and lines, depth 1: two sites of one function merge.
    c, dc = prof("c.json", 0, 0x10, (100, 260))
    js, _ = as_json([a, c, "--top=0"], workdir)
    assert [(c_["status"], c_["change"]["tb"]) for c_ in js["changes"]] == [("changed", 60)]
    js, _ = as_json([a, c, "--top=0", "--depth=1", "--max-growth=19%"], workdir, 1)
    assert js["sites"]["in_base"] == 2 and js["changes"][0]["change"]["tb"] == 60
    g = js["thresholds"][0]
    assert g["what"] == "total" and g["value"] == pytest.approx(20.0) and g["exceeded"]


# ---------------------------------------------------------------------------
# Real programs and DHAT's profiles


def _run_workload(name, scale, d, tag):
    w = workloads.make(name, str(d / f"inputs-{tag}"), scale=scale)
    helpers.require_program(w["argv"][0])
    prof = d / f"{name}-{tag}.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}"], w["argv"], d, env=w["env"],
                             stdin=w["stdin"])
    assert r.returncode == 0, r
    return prof


@pytest.mark.parametrize("name", ["sqlite3", "python3"])
def test_real_program_with_a_bigger_input(name, workdir):
    """The same program on a twice as big input: every site's change is the
    one computed here, and a growth gate set just under the real growth
    fails, just over it passes."""
    p1 = _run_workload(name, 1, workdir, "small")
    p2 = _run_workload(name, 2, workdir, "big")
    base, new = load(p1), load(p2)
    js, _ = as_json([p1, p2, "--top=0"], workdir)
    check_against_my_diff(js, base, new)
    g = growth(total(base, "tb"), total(new, "tb"))
    assert g > 5
    r = mdiff([p1, p2, f"--max-growth={g - 0.01:.2f}%", "--growth-of=total"], workdir)
    assert r.returncode == 1 and "--max-growth=" in r.stderr, r
    r = mdiff([p1, p2, f"--max-growth={g + 0.01:.2f}%", "--growth-of=total"], workdir)
    assert r.returncode == 0, r
    # And the other way round: nothing grew.
    r = mdiff([p2, p1, "--max-growth=0%", "--growth-of=total"], workdir)
    assert r.returncode == 0, r


def test_real_program_run_twice_passes(workdir):
    p1 = _run_workload("xz", 1, workdir, "one")
    p2 = _run_workload("xz", 1, workdir, "two")
    r = mdiff([p1, p2, "--max-growth=0%", "--max-new-leaks=0",
               f"--max-peak={total(load(p2), 'gb')}"], workdir)
    assert r.returncode == 0, r
    js, _ = as_json([p1, p2, "--top=0"], workdir)
    check_against_my_diff(js, load(p1), load(p2))


def test_profiles_written_by_dhat(runs, workdir):
    paths = []
    for v in ("base", "GROW"):
        dr, dp = ph.run_dhat([], [runs[v + "_exe"]], workdir, out=f"dh-{v}.json")
        assert dr.returncode == 0, dr
        paths.append(dp)
    base, new = load(paths[0]), load(paths[1])
    js, _ = as_json([*paths, "--top=0", "--max-growth=10%"], workdir, 1)
    check_against_my_diff(js, base, new)
    assert js["totals"]["tb"]["change"] == 4000
    r = mdiff([*paths, "--max-new-leaks=0"], workdir)
    assert r.returncode == 2 and "has no leak figures" in r.stderr, r


# ---------------------------------------------------------------------------
# Two profiles that cannot be compared (other bad input:
# test_script_bad_input.py)


def _bad(workdir, args, *expect):
    return tbi.bad("memtrack_diff", args, workdir, *expect)


def test_profiles_of_different_modes(runs, workdir):
    exe = ph.compile_client("prof_copy", ["-O0", "-fno-builtin"], out_name="prof_copy-plain")
    r, copy = ph.run_memtrack(["--mode=copy"], [exe], workdir, out="copy.json")
    assert r.returncode == 0, r
    _bad(workdir, [runs["base"], copy], "copy-mode profile", "heap-mode one",
         "cannot be compared")
    _bad(workdir, [copy, copy, "--max-peak=1M"], "--max-peak", "no peak figures")
    _bad(workdir, [copy, copy, "--max-growth=1%", "--growth-of=peak"], "--growth-of=peak")
    # Copy profiles compare with each other: total only by default.
    js, _ = as_json([copy, copy, "--max-growth=0%"], workdir)
    assert [g["what"] for g in js["thresholds"]] == ["total"]


def test_leak_gate_needs_leak_figures(runs, workdir):
    r, noleak = ph.run_memtrack(["--leak-check=no"], [runs["base_exe"]], workdir, out="nl.json")
    assert r.returncode == 0, r
    _bad(workdir, [runs["base"], noleak, "--max-new-leaks=0"], "--max-new-leaks",
         "has no leak figures")
    _bad(workdir, [noleak, runs["base"], "--max-new-leaks=0"], str(noleak))
    # Without the leak gate they compare.
    assert mdiff([runs["base"], noleak], workdir).returncode == 0


# ---------------------------------------------------------------------------
# --help, the man page


def test_help_and_man_page_document_every_option(runs, workdir):
    must = {"-h", "--help", "--version", "--max-growth", "--growth-of", "--max-peak",
            "--max-new-leaks", "--leak-kinds", "--match", "--depth", "--sort", "--top",
            "--frames", "--format"}
    tsp.check_help_and_man(SCRIPT, MAN, mdiff, workdir, [runs["base"], runs["base"]], must)
    text = mdiff(["--help"], workdir).stdout
    for word in ("KiB", "MiB", "GiB", "%", "exit", "Exit status: 0", "1 a threshold exceeded"):
        assert word in text, word


def test_man_page_renders_without_warnings():
    tsp.man_renders(MAN)
