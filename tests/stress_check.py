"""One stress program (tests/stressgen.py) under memtrack and its oracles,
and every figure on which they must agree, as a list of disagreements.
Shared by tests/test_stress.py (a few seeds in `make check`) and
bench/stress (many seeds, a table).

A seed's program is compiled (gcc/g++ -g -O0 -pthread), run natively, then
under:
  memtrack  --leak-check=full --show-leak-kinds=all --dhat-out-file=mt.json
  dhat      --dhat-out-file=dh.json
  memcheck  --leak-check=full --show-leak-kinds=all
and compared:
  * every run: exit status 0 and the stdout the generator expects (the
    program prints a checksum of the bytes it read);
  * DHAT's lines Total, At t-gmax, At t-end (bytes and blocks), Reads,
    Writes: equal; memtrack may count more bytes read only where a heap
    string went to a system call (docs/format.md), which the per-site rule
    below bounds;
  * per site, memtrack's profile against DHAT's: profile_helpers.compare_sites
    (tb, tbk, gb, gbk, eb, ebk, wb exact; rb exact or the syscall-string
    rule; mb within its documented range; acc), and memtrack's profile must
    be well formed with its per-site sums equal to its own summary lines;
  * memcheck's HEAP SUMMARY, every loss record (headline and stack, in
    order), LEAK SUMMARY, ERROR SUMMARY and every other line from the HEAP
    SUMMARY on (leak_helpers.assert_same_leak_output's rules);
  * the leak keys of memtrack's profile (ldb, lib, lpb, lrb and their block
    counts) summed over its sites against memcheck's LEAK SUMMARY.

Standard library only, plus the suite's helpers.
"""
import concurrent.futures
import dataclasses
import re
import subprocess
from pathlib import Path

import helpers
import leak_helpers
import profile_helpers as ph
import stressgen

LEAK_OPTS = ["--leak-check=full", "--show-leak-kinds=all"]


@dataclasses.dataclass
class Disagreement:
    seed: int
    figure: str
    memtrack: str
    oracle: str      # the oracle's value, or what was expected
    oracle_name: str = ""


@dataclasses.dataclass
class Outcome:
    program: stressgen.Program
    binary: str
    runs: dict          # name -> helpers.Result (native, memtrack, dhat, memcheck)
    disagreements: list

    def report(self):
        """All runs, for a failing test's captured output."""
        return "\n".join(f"===== {name}\n{r}" for name, r in self.runs.items())


def build(prog, outdir, opt="-O0"):
    """Writes the program's source into outdir and compiles it."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    src = outdir / prog.filename
    src.write_text(prog.source)
    exe = outdir / f"stress_{prog.seed}"
    cc = "g++" if prog.lang == "cpp" else "gcc"
    cmd = [cc, "-g", opt, "-pthread", "-o", str(exe), str(src)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"could not compile {src}:\n$ {' '.join(cmd)}\n{p.stderr}")
    return str(exe)


def _run(argv, cwd):
    argv = [str(a) for a in argv]
    p = subprocess.run(argv, cwd=str(cwd), env=helpers.base_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=helpers.TIMEOUT)
    return helpers.Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                          p.stderr.decode("utf-8", "replace"))


def run_all(exe, workdir, jobs=2):
    """The four runs of one program, jobs at a time."""
    wd = Path(workdir)
    vg = str(helpers.VG_IN_PLACE)
    cmds = {
        "native": [exe],
        "memtrack": [vg, "--tool=memtrack", *LEAK_OPTS, f"--dhat-out-file={wd / 'mt.json'}", exe],
        "dhat": [vg, "--tool=dhat", f"--dhat-out-file={wd / 'dh.json'}", exe],
        "memcheck": [vg, "--tool=memcheck", *LEAK_OPTS, exe],
    }
    if jobs <= 1:
        return {k: _run(c, wd) for k, c in cmds.items()}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {k: pool.submit(_run, c, wd) for k, c in cmds.items()}
        return {k: f.result() for k, f in futs.items()}


# ---------------------------------------------------------------------------
# Comparisons, each adding Disagreements


class _Rows:
    def __init__(self, seed):
        self.seed, self.rows = seed, []

    def add(self, figure, mine, theirs, oracle):
        self.rows.append(Disagreement(self.seed, figure, str(mine), str(theirs), oracle))


def _runs_ok(rows, prog, runs):
    want = prog.expected_stdout
    for name, r in runs.items():
        oracle = "generator" if name == "native" else "expected"
        if r.returncode != 0:
            rows.add(f"{name}: exit status", r.returncode, 0, oracle)
        if r.stdout != want:
            rows.add(f"{name}: stdout", r.stdout.strip()[:80], want.strip(), oracle)


def _dhat_lines(rows, mt, dh, site_stats):
    a, b = ph.stderr_figures(mt.stderr), ph.stderr_figures(dh.stderr)
    names = {"total": "Total", "gmax": "At t-gmax", "end": "At t-end"}
    for k, name in names.items():
        if k not in a or k not in b:
            rows.add(f"DHAT line '{name}'", a.get(k, "missing"), b.get(k, "missing"), "DHAT")
            continue
        for i, unit in enumerate(("bytes", "blocks")):
            if a[k][i] != b[k][i]:
                rows.add(f"{name} {unit}", a[k][i], b[k][i], "DHAT")
    if a.get("writes") != b.get("writes"):
        rows.add("Writes bytes", a.get("writes"), b.get("writes"), "DHAT")
    # Reads: equal, or larger by what the syscall-string rule allowed per site.
    extra = sum(x - y for _, x, y in (site_stats or {}).get("rb_diffs", []))
    if a.get("reads") is None or b.get("reads") is None or a["reads"] - b["reads"] != extra:
        rows.add("Reads bytes", a.get("reads"), b.get("reads"),
                 "DHAT" + (f" (+{extra} allowed: syscall strings)" if extra else ""))


_PART = re.compile(r"^(\w+) (\S+) vs (\S+)$")


def _sites(rows, mt_prof, dh_prof):
    probs, stats = ph.compare_sites(mt_prof, dh_prof)
    for p in probs:
        if ": memtrack vs DHAT: " in p:
            where, parts = p.split(": memtrack vs DHAT: ", 1)
            for part in parts.split("; "):
                m = _PART.match(part.strip())
                if m:
                    rows.add(f"{m[1]} of {where}", m[2], m[3], "DHAT")
                else:
                    rows.add(f"{part.strip()} ({where})", "", "", "DHAT")
        else:
            rows.add(p, "", "", "DHAT")
    return stats


def _profile_sane(rows, mt, path):
    try:
        prof = ph.load(path)
    except AssertionError as e:
        rows.add("memtrack profile", str(e).splitlines()[0][:100], "valid JSON", "format")
        return None
    for p in ph.format_problems(prof)[:10]:
        rows.add("memtrack profile format", p, "", "format")
    fig = ph.stderr_figures(mt.stderr)
    for k, v in ph.profile_sums(prof).items():
        if fig.get(k) != v:
            rows.add(f"memtrack profile: summed per-site {k}", v, fig.get(k), "memtrack's own lines")
    return prof


_KIND_KEYS = {"definitely lost": ("ldb", "ldbk"), "indirectly lost": ("lib", "libk"),
              "possibly lost": ("lpb", "lpbk"), "still reachable": ("lrb", "lrbk")}


def _leaks(rows, mt, mc, mt_prof):
    a, b = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)
    n0 = len(rows.rows)
    if a.heap_summary != b.heap_summary:
        for i, (x, y) in enumerate(zip(a.heap_summary + [""] * 3, b.heap_summary + [""] * 3)):
            if x != y:
                rows.add(f"HEAP SUMMARY line {i + 1}", x.strip(), y.strip(), "memcheck")
    sa, sb = a.summary_numbers(), b.summary_numbers()
    for k in sorted(set(sa) | set(sb)):
        if sa.get(k) != sb.get(k):
            rows.add(f"LEAK SUMMARY {k}", sa.get(k), sb.get(k), "memcheck")
    ha, hb = [r.headline for r in a.records], [r.headline for r in b.records]
    if len(ha) != len(hb):
        rows.add("loss records", len(ha), len(hb), "memcheck")
    shown = 0
    for i, (x, y) in enumerate(zip(ha, hb)):
        if x != y and shown < 6:
            rows.add(f"loss record {i + 1}", x, y, "memcheck")
            shown += 1
    for i, (x, y) in enumerate(zip(a.records, b.records)):
        if x.headline == y.headline and x.frames != y.frames and shown < 6:
            diff = next((j for j, (f, g) in enumerate(zip(x.frames + [""] * 20, y.frames + [""] * 20)) if f != g), 0)
            rows.add(f"stack of loss record {i + 1}, frame {diff}",
                     (x.frames + [""] * 20)[diff].strip(), (y.frames + [""] * 20)[diff].strip(), "memcheck")
            shown += 1
    if "ERROR SUMMARY" in mc.stderr:
        ea, eb = helpers.parse_error_summary(mt.stderr), helpers.parse_error_summary(mc.stderr)
        if ea != eb:
            rows.add("ERROR SUMMARY", ea, eb, "memcheck")
    if len(rows.rows) == n0:
        # Anything else the HEAP SUMMARY to the end says (hints, blank lines).
        try:
            leak_helpers.assert_same_leak_output(mt, mc)
        except AssertionError as e:
            lines = [l for l in str(e).splitlines() if l.startswith(("-", "+")) and not l.startswith(("---", "+++"))]
            rows.add("other memcheck lines", " | ".join(l for l in lines if l.startswith("+"))[:120],
                     " | ".join(l for l in lines if l.startswith("-"))[:120], "memcheck")
    if mt_prof is not None and mt_prof.get("mtleak"):
        for kind, (kb, kk) in _KIND_KEYS.items():
            got = (sum(pp.get(kb, 0) for pp in mt_prof["pps"]), sum(pp.get(kk, 0) for pp in mt_prof["pps"]))
            want = sb.get(kind)
            if want is not None and got != want:
                rows.add(f"profile {kb}/{kk} summed (memcheck: {kind})", got, want, "memcheck")
    elif mt_prof is not None:
        rows.add("profile mtleak", mt_prof.get("mtleak"), True, "docs/format.md")


def compare(prog, runs, mt_json, dh_json):
    """Every disagreement between the runs of prog (run_all's dict) and the
    profiles at mt_json (memtrack's) and dh_json (DHAT's)."""
    rows = _Rows(prog.seed)
    _runs_ok(rows, prog, runs)
    mt, dh, mc = runs["memtrack"], runs["dhat"], runs["memcheck"]
    mt_prof = _profile_sane(rows, mt, mt_json) if Path(mt_json).exists() else None
    if mt_prof is None and not Path(mt_json).exists():
        rows.add("memtrack profile", "missing", str(mt_json), "format")
    dh_prof = ph.load(dh_json) if Path(dh_json).exists() else None
    if dh_prof is None:
        rows.add("DHAT profile", "", f"missing: {dh_json}", "DHAT")
    stats = _sites(rows, mt_prof, dh_prof) if mt_prof is not None and dh_prof is not None else None
    try:
        _dhat_lines(rows, mt, dh, stats)
    except AssertionError as e:
        rows.add("DHAT lines", str(e).splitlines()[0][:100], "", "DHAT")
    try:
        _leaks(rows, mt, mc, mt_prof)
    except AssertionError as e:
        rows.add("memcheck output", str(e).splitlines()[0][:100], "", "memcheck")
    return rows.rows


def check_program(prog, workdir, jobs=2, opt="-O0"):
    """Builds and runs one program; returns its Outcome."""
    wd = Path(workdir)
    exe = build(prog, wd, opt)
    runs = run_all(exe, wd, jobs=jobs)
    return Outcome(prog, exe, runs, compare(prog, runs, wd / "mt.json", wd / "dh.json"))


def check_seed(seed, workdir, jobs=2, scale=1.0, opt="-O0"):
    return check_program(stressgen.generate(seed, scale), workdir, jobs=jobs, opt=opt)


def table(rows, width=60):
    """Disagreements as a text table."""
    def clip(s):
        s = str(s)
        return s if len(s) <= width else s[:width - 3] + "..."
    head = ("seed", "figure", "memtrack", "oracle", "oracle value")
    body = [(str(d.seed), clip(d.figure), clip(d.memtrack), d.oracle_name, clip(d.oracle)) for d in rows]
    w = [max(len(r[i]) for r in [head] + body) for i in range(5)]
    fmt = "  ".join(f"{{:{n}}}" for n in w)
    lines = [fmt.format(*head), fmt.format(*("-" * n for n in w))] + [fmt.format(*r) for r in body]
    return "\n".join(l.rstrip() for l in lines)


def oracle_leak_kinds(outcome):
    """memcheck's LEAK SUMMARY of the run: {kind: (bytes, blocks)}."""
    return leak_helpers.parse(outcome.runs["memcheck"].stderr).summary_numbers()


__all__ = ["Disagreement", "Outcome", "build", "run_all", "compare", "check_program", "check_seed", "table",
           "oracle_leak_kinds"]
