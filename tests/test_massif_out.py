"""--massif-out-file: heap over time in massif's format, checked against the
installed massif (the same program, binary and inputs, run with
--stacks=no and the same --time-unit, --heap-admin, --threshold,
--detailed-freq, --max-snapshots and --peak-inaccuracy) and read back by
Valgrind's own ms_print.

With --time-unit=B the time is heap bytes allocated plus freed, which both
tools count alike, so the snapshots kept, their figures and their trees must
be massif's exactly. With --time-unit=i the time is instructions: memtrack's
preload replaces libc's string and memory functions (as DHAT's does) where
massif's leaves glibc's own, so the two count different instructions inside
those functions (start-up and dynamic linking use them too); everywhere else
they count the same instructions. The tests pin both halves down.
"""
import os
import re
import subprocess

import pytest

import helpers
import workloads

MS_PRINT = str(helpers.VG_BINDIR / "ms_print")
ROOT_TEXT = "(heap allocation functions) malloc/new/new[], --alloc-fns, etc."
_NODE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")
_ADDR = re.compile(r"^0x[0-9A-Fa-f]+: ")


# ---------------------------------------------------------------------------
# A strict reader of the format (what ms_print 3.19 requires, and more)


class Node:
    def __init__(self, nbytes, text, children):
        self.bytes, self.text, self.children = nbytes, text, children

    def shape(self):
        """The tree without code addresses: (bytes, text, [children])."""
        return (self.bytes, _ADDR.sub("", self.text), [c.shape() for c in self.children])


def parse_massif(text, where="massif file", allow_hash=False):
    """Parses a massif-format file, asserting every rule ms_print relies on:
    the header, six key=value lines per snapshot in order, snapshots
    numbered 0..N-1, times non-decreasing, a tree after each detailed or
    peak snapshot whose node counts add up, whose root is the heap size and
    where no node exceeds the snapshot's total or its parent, and no '#'
    in a node's text (allow_hash: massif's own files have them). Returns
    {desc, cmd, time_unit, snapshots: [{n, time, heap, extra, stacks, kind,
    tree}]}."""
    assert text.endswith("\n"), f"{where}: does not end with a newline"
    assert "\r" not in text, f"{where}: carriage return"
    lines = text[:-1].split("\n")
    pos = 0

    def take():
        nonlocal pos
        assert pos < len(lines), f"{where}: ends early"
        pos += 1
        return lines[pos - 1]

    desc = []
    while pos < len(lines) and lines[pos].startswith("desc:"):
        desc.append(take()[len("desc:"):])
    assert desc, f"{where}: no desc: line"
    line = take()
    assert line.startswith("cmd: "), f"{where}: line {pos}: expected 'cmd: ', got {line!r}"
    cmd = line[len("cmd: "):]
    line = take()
    m = re.fullmatch(r"time_unit: (i|ms|B)", line)
    assert m, f"{where}: line {pos}: bad time_unit line {line!r}"
    out = {"desc": desc, "cmd": cmd, "time_unit": m.group(1), "snapshots": []}

    def node(total, parent_bytes):
        line = take()
        m = _NODE.match(line)
        assert m, f"{where}: line {pos}: expected a tree node, got {line!r}"
        k, nbytes, text = int(m.group(2)), int(m.group(3)), m.group(4)
        assert allow_hash or "#" not in text, f"{where}: line {pos}: '#' in {line!r} (ms_print cuts the line there)"
        assert nbytes <= total, f"{where}: line {pos}: node of {nbytes} bytes in a snapshot of {total}"
        assert nbytes <= parent_bytes, f"{where}: line {pos}: node bigger than its parent"
        kids = [node(total, nbytes) for _ in range(k)]
        assert sum(c.bytes for c in kids) <= nbytes, f"{where}: node ending at line {pos}: children exceed it"
        sizes = [c.bytes for c in kids]
        assert sizes == sorted(sizes, reverse=True), f"{where}: children of line {pos} not biggest first"
        return Node(nbytes, text, kids)

    while pos < len(lines):
        n = len(out["snapshots"])
        assert take() == "#-----------", f"{where}: line {pos}"
        assert take() == f"snapshot={n}", f"{where}: line {pos}: snapshots must be numbered in file order"
        assert take() == "#-----------", f"{where}: line {pos}"
        snap = {"n": n}
        for key in ("time", "mem_heap_B", "mem_heap_extra_B", "mem_stacks_B"):
            line = take()
            m = re.fullmatch(key + r"=(\d+)", line)
            assert m, f"{where}: line {pos}: expected {key}=<number>, got {line!r}"
            snap[key] = int(m.group(1))
        line = take()
        m = re.fullmatch(r"heap_tree=(empty|detailed|peak)", line)
        assert m, f"{where}: line {pos}: bad heap_tree line {line!r}"
        snap["kind"] = m.group(1)
        snap["time"], snap["heap"], snap["extra"], snap["stacks"] = (
            snap.pop("time"), snap.pop("mem_heap_B"), snap.pop("mem_heap_extra_B"), snap.pop("mem_stacks_B"))
        total = snap["heap"] + snap["extra"] + snap["stacks"]
        snap["tree"] = None
        if snap["kind"] != "empty":
            root = node(total, total)
            assert root.text == ROOT_TEXT, f"{where}: snapshot {n}: root {root.text!r}"
            assert root.bytes == snap["heap"], f"{where}: snapshot {n}: root is not the heap size"
            snap["tree"] = root
        out["snapshots"].append(snap)
    snaps = out["snapshots"]
    assert snaps, f"{where}: no snapshots (ms_print fails on that)"
    times = [s["time"] for s in snaps]
    assert times == sorted(times), f"{where}: times go backwards"
    assert sum(s["kind"] == "peak" for s in snaps) <= 1, f"{where}: more than one peak snapshot"
    return out


def read_massif(path, allow_hash=False):
    assert os.path.exists(path), f"{path} was not written"
    with open(path, encoding="latin-1") as f:
        return parse_massif(f.read(), str(path), allow_hash)


def figures(parsed):
    """(time, heap, extra, kind) of each snapshot."""
    return [(s["time"], s["heap"], s["extra"], s["kind"]) for s in parsed["snapshots"]]


def trees(parsed):
    return [s["tree"].shape() if s["tree"] else None for s in parsed["snapshots"]]


def peak_of(parsed):
    peaks = [s for s in parsed["snapshots"] if s["kind"] == "peak"]
    assert len(peaks) == 1, "no peak snapshot"
    return peaks[0]


# ---------------------------------------------------------------------------
# Running both tools


def run_both(argv, workdir, opts, env=None, stdin=None, name="run"):
    """Runs massif and memtrack with the same options; returns the two
    parsed files (massif's, memtrack's) and the two results."""
    ms_out = workdir / f"{name}.massif.out"
    mt_out = workdir / f"{name}.memtrack.out"
    ms = helpers.run_tool("massif", ["--stacks=no", f"--massif-out-file={ms_out}", *opts], argv, workdir,
                          env=env, stdin=stdin)
    mt = helpers.run_memtrack([f"--massif-out-file={mt_out}", *opts], argv, workdir, env=env, stdin=stdin)
    assert ms.returncode == 0, f"massif failed: {ms!r}"
    assert mt.returncode == 0, mt
    assert mt.stdout == ms.stdout, "the program behaved differently under memtrack and massif"
    return read_massif(ms_out, allow_hash=True), read_massif(mt_out), ms_out, mt_out


def ms_print(path, *opts):
    p = subprocess.run([MS_PRINT, *opts, str(path)], capture_output=True, text=True, errors="replace",
                       timeout=helpers.TIMEOUT, env=helpers.base_env())
    print(f"\n===== ms_print {' '.join(opts)} {path}\n[exit {p.returncode}]\n{p.stdout[:3000]}\n{p.stderr}")
    return p


@pytest.fixture(scope="module", autouse=True)
def _need_massif():
    if not os.path.exists(MS_PRINT):
        pytest.fail(f"{MS_PRINT} is not installed (package valgrind)", pytrace=False)


# ---------------------------------------------------------------------------
# Identical to massif with --time-unit=B

SMALL = [
    ("peak", "peak", []),
    ("peak_equal", "peak", ["equal"]),
    ("dhat_basic", "dhat_basic", []),
    ("dhat_big", "dhat_big", []),
    ("dhat_single", "dhat_single", []),
    ("dhat_empty", "dhat_empty", []),
    ("alloc_cxx", "alloc_cxx", []),
    ("leak_zero", "leak_zero", []),
    # Bad frees change nothing (massif ignores them, as memtrack does).
    ("bad_frees", "bad_frees", ["double_free,delete_of_new_vec,free_of_new,delete_vec_of_malloc,"
                                "delete_vec_of_new,realloc_of_new,realloc_of_freed,fishy_malloc"]),
    ("churn", "massif_churn", []),
    # Custom allocators (valgrind.h's MALLOCLIKE, FREELIKE, RESIZEINPLACE):
    # pools carved from malloc'd and mmap'd memory, blocks inside and at
    # the start of malloc'd ones, and massif's one table of records.
    ("custom_leaks", "custom_blocks", ["leaks"]),
    ("custom_mapped", "custom_blocks", ["mapped"]),
    ("custom_inside", "custom_blocks", ["inside"]),
    ("custom_leak_fn", "custom_blocks", ["leak-fn"]),
    ("custom_records", "massif_custom", []),
]

# Option sets: massif's defaults; no admin bytes; heavy culling and many
# detailed snapshots; everything in the trees and a peak at every new high;
# coarse trees and rare peaks with every snapshot kept.
OPTION_SETS = [
    ("defaults", []),
    ("admin0", ["--heap-admin=0"]),
    ("cull", ["--max-snapshots=10", "--detailed-freq=3"]),
    ("thr0", ["--threshold=0", "--peak-inaccuracy=0", "--detailed-freq=2"]),
    ("coarse", ["--threshold=20", "--peak-inaccuracy=50", "--detailed-freq=1", "--max-snapshots=1000",
                "--heap-admin=16"]),
]


@pytest.mark.parametrize("client, args", [(c, a) for _, c, a in SMALL], ids=[i for i, _, _ in SMALL])
def test_small_clients_same_as_massif(client, args, clients, workdir):
    ms, mt, _, _ = run_both([clients.path(client), *args], workdir, ["--time-unit=B"])
    assert mt["time_unit"] == "B"
    assert figures(mt) == figures(ms)
    assert trees(mt) == trees(ms)
    assert mt["cmd"] == ms["cmd"]


@pytest.mark.parametrize("opts", [o for _, o in OPTION_SETS], ids=[i for i, _ in OPTION_SETS])
@pytest.mark.parametrize("client", ["massif_churn", "peak", "massif_custom"])
def test_options_mean_what_they_mean_in_massif(client, opts, clients, workdir):
    ms, mt, _, _ = run_both([clients.path(client)], workdir, ["--time-unit=B", *opts])
    assert figures(mt) == figures(ms)
    assert trees(mt) == trees(ms)
    if "--max-snapshots=10" in opts:
        # Culled: at most 10, and the churn run had far more events than that.
        assert len(mt["snapshots"]) <= 10
    if "--detailed-freq=1" in opts:
        assert all(s["tree"] for s in mt["snapshots"][1:])


def test_real_program_same_as_massif(workdir):
    """xz compressing a generated text: every snapshot (kept after many
    cullings), the peak and the trees are massif's. The trees show as many
    frames as memtrack's stacks have (--num-callers); massif keeps 30, and
    xz's stacks are shorter than that, so 40 callers give the whole trees."""
    w = workloads.make("xz", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    ms, mt, _, _ = run_both(w["argv"], workdir, ["--time-unit=B", "--num-callers=40"], env=w["env"])
    assert len(mt["snapshots"]) > 20
    assert figures(mt) == figures(ms)
    assert (peak_of(mt)["heap"], peak_of(mt)["extra"]) == (peak_of(ms)["heap"], peak_of(ms)["extra"])
    assert trees(mt) == trees(ms)


def test_real_program_peak_as_massif(workdir):
    """sqlite3 running SQL from a file: the peak snapshot is massif's.
    (Late in the run sqlite3 grows blocks within their rounding slop with
    realloc: massif keeps them in place, memtrack moves them as DHAT does,
    so the client arenas, hence the extra bytes and the B clock, can part;
    see docs/format.md. The peak comes before that.)"""
    w = workloads.make("sqlite3", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    ms, mt, _, _ = run_both(w["argv"], workdir, ["--time-unit=B", "--num-callers=40"], env=w["env"],
                            stdin=w["stdin"])
    pm, pt = peak_of(ms), peak_of(mt)
    assert (pt["time"], pt["heap"], pt["extra"]) == (pm["time"], pm["heap"], pm["extra"])
    assert pt["tree"].shape() == pm["tree"].shape()


# ---------------------------------------------------------------------------
# --time-unit=i


def test_instruction_times_differ_only_by_startup(clients, workdir):
    """massif_churn calls no string or memory function, and LD_BIND_NOW=1
    moves all symbol binding to start-up: between any two heap events both
    tools must count exactly the same instructions, so each memtrack time
    is massif's plus one constant, the start-up difference (the dynamic
    linker and libc's initialisation run memtrack's string functions, and
    the linker binds a different preload object). That constant is bounded
    here by 15% of the time of the first event."""
    argv = [clients.path("massif_churn"), "300"]
    ms, mt, _, _ = run_both(argv, workdir, ["--max-snapshots=1000"], env={"LD_BIND_NOW": "1"})
    assert mt["time_unit"] == "i"
    a, b = ms["snapshots"], mt["snapshots"]
    assert len(a) == len(b) > 300  # no culling: one snapshot per event
    assert [(s["heap"], s["extra"], s["kind"]) for s in b] == [(s["heap"], s["extra"], s["kind"]) for s in a]
    assert a[0]["time"] == b[0]["time"] == 0
    offset = b[1]["time"] - a[1]["time"]
    diffs = {y["time"] - x["time"] for x, y in zip(a[1:], b[1:])}
    assert diffs == {offset}, f"instructions between events differ: offsets {sorted(diffs)[:10]}"
    assert 0 <= offset <= 0.15 * a[1]["time"], (offset, a[1]["time"])


def test_instruction_times_are_dhats_clock(clients, workdir):
    """memtrack's massif time is the instruction clock of its DHAT profile:
    the first snapshot at the heap's maximum is at t-gmax, and that is
    DHAT's own t-gmax within the suite's 0.1% rule for the two tools'
    start-ups (test_dhat_totals): the string functions are the same, the
    preload objects the dynamic linker binds are not (LD_BIND_NOW=1 does
    that binding once, at start-up, for both)."""
    argv = [clients.path("massif_churn"), "300"]
    out = workdir / "mt.out"
    env = {"LD_BIND_NOW": "1"}
    mt = helpers.run_memtrack([f"--massif-out-file={out}", "--max-snapshots=1000", "--dhat-out-file=mt.json"],
                              argv, workdir, env=env)
    dh = helpers.run_dhat([], argv, workdir, env=env)
    assert mt.returncode == 0 and dh.returncode == 0, (mt, dh)
    import json

    tg_mt = json.loads((workdir / "mt.json").read_text())["tg"]
    dh_file = next(p for p in workdir.iterdir() if p.name.startswith("dhat.out."))
    tg_dh = json.loads(dh_file.read_text())["tg"]
    snaps = read_massif(out)["snapshots"]
    top = max(s["heap"] for s in snaps)
    first_top = next(s for s in snaps if s["heap"] == top)
    assert first_top["time"] == tg_mt
    assert abs(tg_mt - tg_dh) <= 0.001 * tg_dh, (tg_mt, tg_dh)


def test_instruction_times_real_program(workdir):
    """xz with --time-unit=i: the snapshots kept differ (culling depends on
    the times), but the peak does not depend on time: its figures are
    massif's exactly. Its time, and the last event's, are within 2% of
    massif's (xz spends few instructions in string functions)."""
    w = workloads.make("xz", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    ms, mt, _, _ = run_both(w["argv"], workdir, ["--num-callers=40"], env=w["env"])
    pm, pt = peak_of(ms), peak_of(mt)
    assert (pt["heap"], pt["extra"]) == (pm["heap"], pm["extra"])
    assert pt["tree"].shape() == pm["tree"].shape()
    for x, y in ((pm["time"], pt["time"]), (ms["snapshots"][-1]["time"], mt["snapshots"][-1]["time"])):
        assert abs(y - x) <= 0.02 * x, (x, y)


# ---------------------------------------------------------------------------
# ms_print reads it


def _ms_print_facts(text):
    """From ms_print's report: the command, the y-axis top label, the
    detailed snapshots line and the table rows (n, time, total, useful,
    extra, stacks)."""
    cmd = re.search(r"^Command:\s+(.*)$", text, re.M)
    top = re.search(r"^\s*([\d.]+)\^", text, re.M)
    detailed = re.search(r"^ Detailed snapshots: \[(.*)\]$", text, re.M)
    rows = re.findall(r"^\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$", text, re.M)
    return {"cmd": cmd and cmd.group(1), "top": top and top.group(1),
            "detailed": detailed and detailed.group(1),
            "rows": [tuple(int(x.replace(",", "")) for x in r) for r in rows]}


def _peak_index(facts):
    m = re.search(r"(\d+) \(peak\)", facts["detailed"] or "")
    assert m, f"no peak in ms_print's detailed snapshots: {facts['detailed']!r}"
    return int(m.group(1))


@pytest.mark.parametrize("client", ["peak", "massif_churn"])
def test_ms_print_reads_it_and_prints_massifs_peak(client, clients, workdir):
    ms, mt, ms_out, mt_out = run_both([clients.path(client)], workdir, ["--time-unit=B"])
    pa, pb = ms_print(ms_out), ms_print(mt_out)
    assert pa.returncode == 0, "ms_print failed on massif's own file"
    assert pb.returncode == 0 and pb.stderr == "", "ms_print failed on memtrack's file"
    fa, fb = _ms_print_facts(pa.stdout), _ms_print_facts(pb.stdout)
    ia, ib = _peak_index(fa), _peak_index(fb)
    assert ib == ia
    row = {r[0]: r for r in fb["rows"]}[ib]
    assert row == {r[0]: r for r in fa["rows"]}[ia]
    # The row shows the file's own peak figures.
    p = peak_of(mt)
    assert row[1:] == (p["time"], p["heap"] + p["extra"], p["heap"], p["extra"], 0)
    assert fb["top"] == fa["top"]
    assert fb["detailed"] == fa["detailed"]
    for opts in (["--threshold=0", "--x=40", "--y=8"], ["--threshold=50.5%"]):
        q = ms_print(mt_out, *opts)
        assert q.returncode == 0 and q.stderr == "", opts


def test_ms_print_reads_a_real_programs_file(workdir):
    w = workloads.make("xz", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    out = workdir / "xz.ms"
    r = helpers.run_memtrack([f"--massif-out-file={out}"], w["argv"], workdir, env=w["env"])
    assert r.returncode == 0, r
    parsed = read_massif(out)
    p = ms_print(out)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    facts = _ms_print_facts(p.stdout)
    peak = peak_of(parsed)
    idx = _peak_index(facts)
    assert idx == peak["n"]
    row = {r[0]: r for r in facts["rows"]}[idx]
    assert row[1:] == (peak["time"], peak["heap"] + peak["extra"], peak["heap"], peak["extra"], 0)
    assert len(facts["rows"]) == len(parsed["snapshots"])


# ---------------------------------------------------------------------------
# Names and lines from the program


def _escaped(s):
    """The documented rule: '#' becomes '?', newline, return and tab become
    \\n, \\r and \\t, other control bytes \\xHH."""
    out = []
    for ch in s:
        c = ord(ch)
        if ch == "#":
            out.append("?")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\x{c:02x}")
        else:
            out.append(ch)
    return "".join(out)


def test_odd_command_lines(clients, workdir):
    """A program whose path has spaces, quotes and '#', and arguments with
    newlines, quotes, '#', tabs and an empty one: the file still parses,
    ms_print reads it and shows the command with the documented escapes,
    and the figures are the ones the plain program gives."""
    odd_dir = workdir / "dir with 'quotes' & #hash"
    odd_dir.mkdir()
    prog = odd_dir / 'pe"ak #1'
    prog.write_bytes(open(clients.path("peak"), "rb").read())
    prog.chmod(0o755)
    args = ["a b", 'q"uote', "it's", "new\nline", "x#y", "tab\there", "cr\rhere", "bell\x07", ""]
    out = workdir / "odd #name\n.ms"
    r = helpers.run_memtrack([f"--massif-out-file={out}", "--time-unit=B"], [str(prog), *args], workdir)
    assert r.returncode == 0, r
    odd = read_massif(out)
    want_cmd = " ".join(_escaped(a) for a in [str(prog), *args])
    assert odd["cmd"] == want_cmd
    assert "\n" not in "".join(odd["desc"]) and "#" not in "".join(odd["desc"])
    p = ms_print(out)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert _ms_print_facts(p.stdout)["cmd"].rstrip() == want_cmd.rstrip()
    plain_out = workdir / "plain.ms"
    r2 = helpers.run_memtrack([f"--massif-out-file={plain_out}", "--time-unit=B"], [clients.path("peak")], workdir)
    assert r2.returncode == 0, r2
    assert [f[1:] for f in figures(odd)] == [f[1:] for f in figures(read_massif(plain_out))]


def test_hash_in_symbols_is_replaced(clients, workdir):
    """prof_odd allocates in a C++ lambda, whose frame GCC names
    'main::{lambda(unsigned long)#1}': ms_print would cut the line at the
    '#', so memtrack writes '?' there; massif writes the '#'."""
    ms, mt, _, _ = run_both([clients.path("prof_odd")], workdir, ["--time-unit=B", "--detailed-freq=1"])
    assert figures(mt) == figures(ms)

    def texts(parsed):
        out = []

        def walk(n):
            out.append(_ADDR.sub("", n.text))
            for c in n.children:
                walk(c)
        for s in parsed["snapshots"]:
            if s["tree"]:
                walk(s["tree"])
        return out

    ms_texts, mt_texts = texts(ms), texts(mt)
    assert any("#" in t for t in ms_texts), "the client no longer has a frame with '#'"
    assert mt_texts == [t.replace("#", "?") for t in ms_texts]


# ---------------------------------------------------------------------------
# The option itself


def test_no_file_unless_asked(clients, workdir):
    r = helpers.run_memtrack([], [clients.path("peak")], workdir)
    assert r.returncode == 0, r
    assert not [p for p in os.listdir(workdir) if "massif" in p], os.listdir(workdir)


def test_percent_p_and_q_expand(clients, workdir):
    r = helpers.run_memtrack(["--massif-out-file=ms.%p.%q{MT_MS_NAME}"], [clients.path("peak")], workdir,
                             env={"MT_MS_NAME": "hello"})
    assert r.returncode == 0, r
    pid = int(re.search(r"^==(\d+)==", r.stderr, re.M).group(1))
    parsed = read_massif(workdir / f"ms.{pid}.hello")
    assert any(d.strip().endswith("--massif-out-file=ms.%p.%q{MT_MS_NAME}") for d in parsed["desc"])


def test_program_without_heap_events(workdir):
    """/usr/bin/true allocates nothing... or little: the file has at least
    the start snapshot at time 0 with an empty heap, and ms_print reads it."""
    out = workdir / "true.ms"
    r = helpers.run_memtrack([f"--massif-out-file={out}"], ["/usr/bin/true"], workdir)
    assert r.returncode == 0, r
    snaps = read_massif(out)["snapshots"]
    assert (snaps[0]["time"], snaps[0]["heap"], snaps[0]["extra"]) == (0, 0, 0)
    assert ms_print(out).returncode == 0


@pytest.mark.parametrize("mode", ["copy", "ad-hoc"])
def test_every_mode_writes_the_same_heap_over_time(mode, clients, workdir):
    """The DHAT profile counts other things in copy and ad-hoc modes; the
    heap blocks, hence the massif file, are the same as in heap mode."""
    files = {}
    for m in ("heap", mode):
        out = workdir / f"{m}.ms"
        r = helpers.run_memtrack([f"--mode={m}", "--time-unit=B", f"--massif-out-file={out}"],
                                 [clients.path("peak")], workdir)
        assert r.returncode == 0, r
        files[m] = read_massif(out)
    assert figures(files[mode]) == figures(files["heap"])
    assert trees(files[mode]) == trees(files["heap"])


def test_time_unit_ms(clients, workdir):
    out = workdir / "ms.ms"
    r = helpers.run_memtrack([f"--massif-out-file={out}", "--time-unit=ms"], [clients.path("massif_churn")],
                             workdir)
    assert r.returncode == 0, r
    parsed = read_massif(out)
    assert parsed["time_unit"] == "ms"
    assert parsed["snapshots"][0]["time"] == 0
    p = ms_print(out)
    assert p.returncode == 0 and p.stderr == ""
    assert "time(ms)" in p.stdout


def test_unwritable_path(clients, workdir):
    """Found out before the program runs, as a bad --log-file is: the
    core's words, exit status 1 (tests/test_output_paths.py has the rest)."""
    path = workdir / "no" / "such" / "dir" / "x.ms"
    r = helpers.run_memtrack([f"--massif-out-file={path}"], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    assert f"valgrind: Cannot create massif-format output file '{path}': No such file or directory" in r.stderr, r
    assert not (workdir / "marker").exists(), "the program ran"


BAD_VALUES = [
    "--time-unit=s", "--time-unit=", "--time-unit=I", "--time-unit=b", "--time-unit=i ",
    "--max-snapshots=9", "--max-snapshots=1001", "--max-snapshots=x", "--max-snapshots=",
    "--detailed-freq=0", "--detailed-freq=1000001", "--detailed-freq=-1",
    "--threshold=100.5", "--threshold=-1", "--threshold=abc", "--threshold=1e1", "--threshold=",
    "--threshold=.", "--threshold=1.2.3", "--threshold=5%", "--threshold=inf",
    "--peak-inaccuracy=-0.5", "--peak-inaccuracy=x", "--peak-inaccuracy=",
    "--heap-admin=1025", "--heap-admin=-1", "--heap-admin=8K",
    "--massif-out-file=", "--massif-out-file", "--time-unit", "--threshold",
]


@pytest.mark.parametrize("opt", BAD_VALUES)
def test_bad_value_is_rejected(opt, workdir):
    r = helpers.run_memtrack([opt], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr:\n{r}"
    assert lines[0].startswith(f"valgrind: Bad option: {opt}"), r
    assert r.stdout == ""
    assert not (workdir / "marker").exists(), "the client ran although an option was bad"


def test_bad_percent_q_stops_before_the_client_runs(workdir):
    assert "MT_SURELY_UNSET_VAR" not in os.environ
    r = helpers.run_memtrack(["--massif-out-file=x.%q{MT_SURELY_UNSET_VAR}"], ["/usr/bin/touch", "marker"],
                             workdir)
    assert r.returncode == 1, r
    assert not (workdir / "marker").exists(), "the client ran"
    assert "--massif-out-file=x.%q{MT_SURELY_UNSET_VAR}" in r.stderr, r
    assert "MT_SURELY_UNSET_VAR" in r.stderr
    assert list(workdir.iterdir()) == []


GOOD = [
    ["--time-unit=i"], ["--time-unit=ms"], ["--time-unit=B"],
    ["--max-snapshots=10"], ["--max-snapshots=1000"],
    ["--detailed-freq=1"], ["--detailed-freq=1000000"],
    ["--threshold=0"], ["--threshold=100"], ["--threshold=0.25"], ["--threshold=5."],
    ["--peak-inaccuracy=0"], ["--peak-inaccuracy=250.5"],
    ["--heap-admin=0"], ["--heap-admin=1024"],
]


@pytest.mark.parametrize("opts", GOOD, ids=lambda o: " ".join(o))
def test_good_values_are_accepted(opts, clients, workdir):
    out = workdir / "good.ms"
    r = helpers.run_memtrack([f"--massif-out-file={out}", *opts], [clients.path("peak")], workdir)
    assert r.returncode == 0, r
    parsed = read_massif(out)
    assert any(opts[0] in d for d in parsed["desc"])
    assert ms_print(out).returncode == 0


def test_help_lists_the_options(workdir):
    r = helpers.run_memtrack(["--help"], [], workdir)
    for name in ("massif-out-file", "time-unit", "max-snapshots", "detailed-freq", "threshold",
                 "peak-inaccuracy", "heap-admin"):
        assert f"--{name}=" in r.stdout, name
