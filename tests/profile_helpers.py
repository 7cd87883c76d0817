"""Helpers for the DHAT-format profile tests (tests/test_profile_*.py):
running memtrack and DHAT with a known profile path, loading and checking
a profile the way DHAT's viewer does, matching program points between the
two tools, and rendering a profile with the headless viewer harness.

Standard library only, like helpers.py.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import helpers

# The viewer: Debian's dh_view.js run by our headless harness: the copy in
# tests/, else the one in the shared research folder beside the clone
# (<repo>/../shared/research).
SHARED = helpers.REPO.parent / "shared"
HEADLESS_PLACES = [helpers.REPO / "tests" / "dh_view_headless.js",
                   SHARED / "research" / "dh_view_headless.js"]
HEADLESS = next((p for p in HEADLESS_PLACES if p.exists()), HEADLESS_PLACES[0])
DH_VIEW_JS = helpers.VG_TOOLDIR / "dh_view.js"

HEAP_BKLT_KEYS = ("mb", "mbk", "gb", "gbk", "eb", "ebk")
ACC_MAX = 65535


# ---------------------------------------------------------------------------
# Running


def run_memtrack(opts, argv, cwd, out="mt.json", **kw):
    """memtrack with --dhat-out-file=<cwd>/<out>; returns (Result, Path)."""
    path = Path(cwd) / out
    r = helpers.run_memtrack([f"--dhat-out-file={path}", *opts], argv, cwd, **kw)
    return r, path


def run_dhat(opts, argv, cwd, out="dh.json", **kw):
    """DHAT with --dhat-out-file=<cwd>/<out>; returns (Result, Path)."""
    path = Path(cwd) / out
    r = helpers.run_tool("dhat", [f"--dhat-out-file={path}", *opts], argv, cwd, **kw)
    return r, path


def compile_client(name, extra_flags=(), out_name=None, out_dir=None):
    """Compiles tests/clients/<name>.c|.cpp with extra flags (the Clients
    fixture only knows -O0 -g); cached like Clients.path. Returns the path."""
    src = None
    for ext in (".c", ".cpp"):
        p = helpers.CLIENT_SRC / (name + ext)
        if p.exists():
            src = p
    assert src is not None, f"no client source tests/clients/{name}.c or .cpp"
    out_dir = Path(out_dir or helpers.CLIENT_BUILD)
    out = out_dir / (out_name or name)
    deps = [src, helpers.MEMTRACK_INCLUDE / "memtrack.h"]
    newest = max(p.stat().st_mtime for p in deps if p.exists())
    if out.exists() and out.stat().st_mtime >= newest:
        return str(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cc = helpers.CROSS + ("g++" if src.suffix == ".cpp" else "gcc")
    tmp = out_dir / f".{out.name}.{os.getpid()}.tmp"
    cmd = [cc, "-g", *extra_flags, "-pthread", f"-I{helpers.MEMTRACK_INCLUDE}",
           f"-I{helpers.VALGRIND_INCLUDE}", "-o", str(tmp), str(src)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"could not compile {src}:\n$ {' '.join(cmd)}\n{p.stderr}", pytrace=False)
    os.replace(tmp, out)
    return str(out)


# ---------------------------------------------------------------------------
# Loading


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    assert not dup, f"duplicate JSON keys {sorted(dup)}"
    return dict(pairs)


def load(path):
    """The profile as a dict. The file must be UTF-8 (memtrack writes \\ufffd
    escapes for bytes that are not) and strict JSON without repeated keys."""
    path = Path(path)
    assert path.exists(), f"no profile was written at {path}"
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"{path} is not valid UTF-8: {e}; bytes near it: "
                             f"{raw[max(0, e.start - 40):e.end + 40]!r}")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as e:
        raise AssertionError(f"{path} is not valid JSON: {e}\n{text[:2000]}")


def decode_acc(acc):
    """DHAT's run-length coded access counts as a plain list:
    a negative entry -N means that the next value repeats N times."""
    out, i = [], 0
    while i < len(acc):
        v = acc[i]
        if v < 0:
            assert i + 1 < len(acc), f"acc ends with a run length: {acc[-4:]}"
            out.extend([acc[i + 1]] * (-v))
            i += 2
        else:
            out.append(v)
            i += 1
    return out


def frames(prof, pp):
    return [prof["ftbl"][i] for i in pp["fs"]]


def function_name(frame):
    """The tests' own reading of a frame's function (independent of
    memtrack_lib.functions): the text between the address and the last
    ' (' of the location; '???' frames stay whole."""
    m = re.match(r"^0x[0-9A-Fa-f]+: (.*)$", frame)
    body = m.group(1) if m else frame
    if body.startswith("???"):
        return frame
    m = re.match(r"^(.*) \([^()]*\)$", body)
    return m.group(1) if m else body


# ---------------------------------------------------------------------------
# What a profile must look like (dh_view.js's checks, and ours)


def format_problems(prof):
    """Everything wrong with a profile as dh_view.js (3.19) would see it,
    plus memtrack's own promises (ftbl[0] is [root] and never used, unique
    stacks, saturated and well-sized acc). Returns a list of sentences."""
    probs = []
    top = ["dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid", "te",
           "pps", "ftbl"]
    if prof.get("bklt"):
        top += ["tg", "tuth"]
    for k in top:
        if k not in prof:
            probs.append(f"top level: missing {k}")
    if probs:
        return probs
    if prof["dhatFileVersion"] != 2:
        probs.append(f"dhatFileVersion is {prof['dhatFileVersion']!r}")
    for k in ("bklt", "bkacc"):
        if not isinstance(prof[k], bool):
            probs.append(f"{k} is not a boolean: {prof[k]!r}")
    for k in ("mode", "verb", "tu", "Mtu", "cmd"):
        if not isinstance(prof[k], str):
            probs.append(f"{k} is not a string: {prof[k]!r}")
    for k in ("pid", "te", "tg", "tuth"):
        if k in prof and not (isinstance(prof[k], int) and prof[k] >= 0):
            probs.append(f"{k} is not a non-negative integer: {prof[k]!r}")
    ftbl = prof["ftbl"]
    if not ftbl or ftbl[0] != "[root]":
        probs.append(f"ftbl[0] is {ftbl[:1]!r}, not '[root]'")
    if len(set(ftbl)) != len(ftbl):
        probs.append("ftbl has repeated entries")
    need = ["tb", "tbk", "fs"]
    if prof["bklt"]:
        need += list(HEAP_BKLT_KEYS)
    if prof["bkacc"]:
        need += ["rb", "wb"]
    seen = {}
    for n, pp in enumerate(prof["pps"]):
        where = f"pps[{n}]"
        for k in need:
            if k not in pp:
                probs.append(f"{where}: missing {k}")
        for k, v in pp.items():
            if k not in ("fs", "acc") and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                probs.append(f"{where}: {k} is not a non-negative integer: {v!r}")
        if not prof["bklt"]:
            extra = set(pp) & {"tl", *HEAP_BKLT_KEYS}
            if extra:
                probs.append(f"{where}: lifetime keys {sorted(extra)} although bklt is false")
        if not prof["bkacc"] and set(pp) & {"rb", "wb", "acc"}:
            probs.append(f"{where}: access keys although bkacc is false")
        fs = pp.get("fs", [])
        if not fs:
            probs.append(f"{where}: empty fs")
        if any((not isinstance(i, int)) or i <= 0 or i >= len(ftbl) for i in fs):
            probs.append(f"{where}: fs {fs} holds 0 ([root]) or an index outside ftbl")
        key = tuple(fs)
        if key in seen:
            probs.append(f"{where}: same fs as pps[{seen[key]}] (dh_view: repeated location)")
        seen[key] = n
        if "acc" in pp:
            try:
                acc = decode_acc(pp["acc"])
            except AssertionError as e:
                probs.append(f"{where}: {e}")
                continue
            if any(not (0 <= v <= ACC_MAX) for v in acc):
                probs.append(f"{where}: acc value above 65535 or negative")
            if pp.get("tbk") and pp.get("tb") != len(acc) * pp["tbk"]:
                probs.append(f"{where}: acc covers {len(acc)} bytes but the site's blocks are "
                             f"{pp['tb']}/{pp['tbk']} bytes on average")
        if prof["bklt"] and all(k in pp for k in ("tb", "tbk", *HEAP_BKLT_KEYS)):
            if not (pp["mb"] >= pp["gb"] and pp["mb"] >= pp["eb"] and pp["mb"] <= pp["tb"]):
                probs.append(f"{where}: mb {pp['mb']} not within max(gb {pp['gb']}, eb {pp['eb']})"
                             f"..tb {pp['tb']}")
            # mbk is the block count at the site's byte peak, which may be
            # below gbk or ebk (fewer, bigger blocks).
            if not (pp["mbk"] <= pp["tbk"] and (pp["mbk"] > 0) == (pp["mb"] > 0)):
                probs.append(f"{where}: mbk {pp['mbk']} for mb {pp['mb']}, tbk {pp['tbk']}")
            for b, k in (("gb", "gbk"), ("eb", "ebk"), ("tb", "tbk")):
                if pp[b] < pp[k]:
                    probs.append(f"{where}: {b} {pp[b]} below {k} {pp[k]} (a block is >= 1 byte)")
    return probs


def assert_format(prof, path=""):
    probs = format_problems(prof)
    assert not probs, f"profile {path} breaks the format:\n  " + "\n  ".join(probs[:40])


# ---------------------------------------------------------------------------
# stderr


_NUM = r"([\d,]+)"
_LINES = {
    "total": re.compile(rf"^==\d+== Total:     {_NUM} (bytes|units) in {_NUM} (blocks|events)$", re.M),
    "gmax": re.compile(rf"^==\d+== At t-gmax: {_NUM} bytes in {_NUM} blocks$", re.M),
    "end": re.compile(rf"^==\d+== At t-end:  {_NUM} bytes in {_NUM} blocks$", re.M),
    "reads": re.compile(rf"^==\d+== Reads:     {_NUM} bytes$", re.M),
    "writes": re.compile(rf"^==\d+== Writes:    {_NUM} bytes$", re.M),
}


def _n(s):
    return int(s.replace(",", ""))


def stderr_figures(stderr):
    """The summary lines that are there: {total: (bytes, blocks), gmax,
    end: (bytes, blocks), reads, writes: int, unit: 'bytes'|'units'}.
    Any line that appears more than once is an assertion failure."""
    out = {}
    for k, rx in _LINES.items():
        found = rx.findall(stderr)
        assert len(found) <= 1, f"{k} summary line appears {len(found)} times:\n{stderr[-3000:]}"
        if not found:
            continue
        f = found[0]
        if k == "total":
            out["total"] = (_n(f[0]), _n(f[2]))
            out["unit"] = f[1]
        elif k in ("gmax", "end"):
            out[k] = (_n(f[0]), _n(f[1]))
        else:
            out[k] = _n(f)
    return out


def profile_sums(prof):
    """The per-pp figures summed, in stderr_figures' shape."""
    pps = prof["pps"]
    s = lambda k: sum(pp.get(k, 0) for pp in pps)
    out = {"total": (s("tb"), s("tbk"))}
    if prof["bklt"]:
        out["gmax"] = (s("gb"), s("gbk"))
        out["end"] = (s("eb"), s("ebk"))
    if prof["bkacc"]:
        out["reads"] = s("rb")
        out["writes"] = s("wb")
    return out


# ---------------------------------------------------------------------------
# The viewer


def require_viewer():
    """Fails (never skips) when the headless viewer cannot run."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node is not on PATH")
    if not HEADLESS.exists():
        missing.append("the headless viewer harness is missing: neither "
                       + " nor ".join(str(p) for p in HEADLESS_PLACES) + " exists")
    if not DH_VIEW_JS.exists():
        missing.append(f"{DH_VIEW_JS} is missing (package valgrind)")
    if missing:
        pytest.fail("the headless DHAT viewer cannot run: " + "; ".join(missing)
                    + f"; {helpers.FIX_HINT}", pytrace=False)


def render(path, sort_index=None):
    """The viewer's text for the profile at path; fails on 'ERROR: ...'."""
    require_viewer()
    argv = ["node", str(HEADLESS), str(DH_VIEW_JS), "render", str(path)]
    if sort_index is not None:
        argv.append(str(sort_index))
    p = subprocess.run(argv, capture_output=True, timeout=helpers.TIMEOUT)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0 and "ERROR:" not in out, (
        f"dh_view rejects {path} (exit {p.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    return out


_ROOT_TOTAL = re.compile(r"Total:\s+([\d,]+) (\w+) \([^)]*\) in ([\d,]+) (\w+)")


def rendered_root_total(text):
    """(amount, unit, count, count-unit) from the root PP's Total line."""
    m = _ROOT_TOTAL.search(text)
    assert m, f"no Total line in the viewer's output:\n{text[:3000]}"
    return _n(m.group(1)), m.group(2), _n(m.group(3)), m.group(4)


# ---------------------------------------------------------------------------
# Everything at once


def checked_profile(path, result=None):
    """Loads the profile at path, checks its format, renders it with the
    viewer and, when the run's Result is given, checks that the per-pp sums
    and the viewer's root Total are what memtrack printed. Returns the dict."""
    prof = load(path)
    assert_format(prof, path)
    text = render(path)
    if result is not None:
        fig = stderr_figures(result.stderr)
        assert "total" in fig, f"no Total line on stderr:\n{result.stderr[-3000:]}"
        sums = profile_sums(prof)
        for k, v in sums.items():
            assert fig.get(k) == v, (f"profile {path}: summed per-pp {k} is {v}, "
                                     f"stderr says {fig.get(k)}")
        amount, unit, count, _ = rendered_root_total(text)
        assert (amount, count) == fig["total"], (
            f"the viewer's root shows {amount} {unit} in {count}, stderr {fig['total']}")
    return prof


# ---------------------------------------------------------------------------
# Matching program points between memtrack and DHAT

_ADDR = re.compile(r"^0x[0-9A-Fa-f]+: ")


def site_key(prof, pp):
    """A pp's stack without DHAT's leading preload (allocator) frames,
    without the '0x...: ' addresses (shared libraries load at different
    addresses under the two tools) and with the preload's file name the
    same for both tools in deeper frames (its putenv and setenv wrappers
    call glibc's, which may allocate)."""
    fr = frames(prof, pp)
    while fr and helpers.is_preload_frame(fr[0]):
        fr = fr[1:]
    return tuple(_TOOL_EXE.sub("(in TOOL)", helpers.normalise_preload(_ADDR.sub("", f))) for f in fr)


# A frame in the tool executable itself: on arm64 the signal return
# trampoline lives there, so a stack from a signal handler unwinds into
# "??? (in .../memtrack-arm64-linux)" under memtrack and into
# ".../dhat-arm64-linux" under DHAT: the same frame.
_TOOL_EXE = re.compile(r"\(in \S*/[a-z]+-(?:amd64|arm64)-linux\)$")


def group_sites(prof):
    """{site_key: [pp, ...]}. More than one pp per key happens only for
    frames without symbols ('??? (in lib.so)') at different addresses."""
    out = {}
    for pp in prof["pps"]:
        out.setdefault(site_key(prof, pp), []).append(pp)
    return out


EXACT = ("tb", "tbk", "gb", "gbk", "eb", "ebk", "wb")

# Real programs whose heap reads DHAT itself does not count the same from
# one run to the next on an arm64 Valgrind under qemu-user (helpers.EMULATED):
# jq, two DHAT runs of the same command: 116,351,120 and 116,351,112 bytes
# read, then 116,351,200 and 116,351,360 with the host's ASLR off, and
# 116,358,030 in a third (five sites differ, by 8 to 6,908 bytes); writes
# and every block figure equal; memtrack's runs spread as much (116,351,522
# to 116,375,442). On amd64 every run counts the same. There the whole
# run's reads are compared within READS_VARY's fraction (0.1%, the
# tolerance the amd64 comparison already gives the whole run's reads for
# system-call paths) and the per-site rb and acc are left out; everything
# else stays exact.
READS_VARY = {"jq": 0.001} if helpers.EMULATED else {}
# That amd64 tolerance for system-call paths, per program where the default
# (0.1% of the run's reads) is too tight: find gives the kernel a heap path
# for every file and directory (fts), two bytes more each, in a run that
# reads little else (0.16% in its test).
PATH_READS = {"find": 0.002}
PATH_READS_DEFAULT = 0.001


def _sum(pps, k):
    return sum(pp.get(k, 0) for pp in pps)


def fmt_key(key, n=4):
    shown = " <- ".join(key[:n])
    return shown + (" <- ..." if len(key) > n else "")


def compare_sites(mt, dh, exact=EXACT, rb_rule=True, reads_per_site=True):
    """Per-site comparison of two heap profiles of the same run. Returns
    (problems, stats): problems is a list of sentences (empty if all is
    well), stats some counts for messages. Sites whose key collides (same
    normalised stack, several pps on a side) are compared by their sums;
    acc only for sites with one pp on each side.

    rb_rule: rb must be equal, or memtrack's larger by a small even number
    (syscall path strings: memtrack counts strlen+1 bytes, DHAT 3.19 to
    3.27 strlen-1; at most 2 x 16 per block), with acc larger by as much in all.
    Without it rb must be equal.

    reads_per_site=False: rb and acc are not compared site by site (the
    caller compares the whole run's reads): for runs where DHAT's own
    per-site reads differ from one run to the next (READS_VARY)."""
    ms, ds = group_sites(mt), group_sites(dh)
    probs = []
    only_mt = sorted(set(ms) - set(ds))
    only_dh = sorted(set(ds) - set(ms))
    for k in only_mt[:10]:
        probs.append(f"site only in memtrack's profile (tb {_sum(ms[k], 'tb')}): {fmt_key(k, 8)}")
    for k in only_dh[:10]:
        probs.append(f"site only in DHAT's profile (tb {_sum(ds[k], 'tb')}): {fmt_key(k, 8)}")
    if len(only_mt) > 10 or len(only_dh) > 10:
        probs.append(f"... {len(only_mt)} sites only in memtrack's, {len(only_dh)} only in DHAT's")
    collisions = 0
    rb_diffs = []
    for k in sorted(set(ms) & set(ds)):
        a, b = ms[k], ds[k]
        if len(a) > 1 or len(b) > 1:
            collisions += 1
        fields = {f: (_sum(a, f), _sum(b, f)) for f in (*exact, "rb", "mb", "mbk")}
        bad = [f"{f} {x} vs {y}" for f, (x, y) in fields.items() if f in exact and x != y]
        x, y = fields["rb"]
        if x != y and reads_per_site:
            # Small: at most 16 path system calls per block of the site.
            if rb_rule and x > y and (x - y) % 2 == 0 and x - y <= 32 * _sum(a, "tbk"):
                rb_diffs.append((k, x, y))
            else:
                bad.append(f"rb {x} vs {y}")
        # memtrack may merge DHAT's pps whose stacks differ only in the
        # allocator frame (one call reaching malloc or valloc): never more.
        if len(a) > len(b):
            bad.append(f"{len(a)} pps vs {len(b)} with this stack")
        # mb: memtrack's is the site's own peak; DHAT's only moves with a new
        # global peak, so it may be smaller, never larger. (mbk is the block
        # count at that peak: it may be below gbk, so only its range is
        # checked.)
        mv, dv = fields["mb"]
        if len(b) > len(a):
            # memtrack merged several of DHAT's pps: the merged site's own
            # peak is at least each part's (DHAT's parts may be too small,
            # never too big); test_merged_stacks_one_pp_with_the_sites_own_peak
            # checks the exact figure.
            lo = max([p["mb"] for p in b] + [_sum(a, "gb"), _sum(a, "eb")])
            hi = _sum(a, "tb")
        else:
            lo = max(dv, _sum(a, "gb"), _sum(a, "eb"))
            hi = _sum(a, "tb")
        if not (lo <= mv <= hi):
            bad.append(f"mb {mv} (DHAT {dv}; must be >= DHAT's, gb {_sum(a, 'gb')}, "
                       f"eb {_sum(a, 'eb')} and <= tb {_sum(a, 'tb')})")
        mk = fields["mbk"][0]
        if not (mk <= _sum(a, "tbk") and (mk > 0) == (mv > 0)):
            bad.append(f"mbk {mk} for mb {mv}, tbk {_sum(a, 'tbk')}")
        if len(a) == 1 and len(b) == 1 and reads_per_site:
            bad += _acc_problems(a[0], b[0], rb_extra=max(0, x - y) if rb_rule else 0)
        if bad:
            probs.append(f"site {fmt_key(k)}: memtrack vs DHAT: " + "; ".join(bad))
    stats = {"sites": len(set(ms) & set(ds)), "collisions": collisions, "rb_diffs": rb_diffs,
             "mt_pps": len(mt["pps"]), "dh_pps": len(dh["pps"])}
    return probs, stats


def _acc_problems(m, d, rb_extra=0):
    ma, da = m.get("acc"), d.get("acc")
    if ma is None and da is None:
        return []
    if ma is None:
        return [f"memtrack has no acc, DHAT has one of {len(decode_acc(da))} bytes"]
    mv = decode_acc(ma)
    size = m["tb"] // m["tbk"] if m["tbk"] else 0
    sane = []
    if len(mv) != size or m["tb"] != size * m["tbk"]:
        sane.append(f"memtrack acc has {len(mv)} entries for blocks of {m['tb']}/{m['tbk']} bytes")
    if any(v > ACC_MAX for v in mv):
        sane.append("memtrack acc value above 65535")
    if da is None:
        # DHAT drops a pp's histogram when its first retired block was
        # realloc'd; memtrack's must only be sane then.
        return sane
    dv = decode_acc(da)
    if len(dv) != len(mv):
        return sane + [f"acc lengths {len(mv)} vs {len(dv)}"]
    # DHAT sums per-pp counts in 32 bits and prints them cast to 16 bits
    # (they wrap); memtrack saturates at 65535. Where memtrack saturated,
    # DHAT's value says nothing.
    diff = [i for i, (x, y) in enumerate(zip(mv, dv)) if x != y and x != ACC_MAX]
    if diff and rb_extra:
        # The syscall path rule: memtrack's extra reads are extra counts,
        # rb_extra of them in all, at the strings' last two bytes.
        extra = [mv[i] - dv[i] for i in diff]
        if all(e > 0 for e in extra) and sum(extra) == rb_extra:
            diff = []
    if diff:
        i = diff[0]
        sane.append(f"acc differs at {len(diff)} offsets, first [{i}]: {mv[i]} vs {dv[i]}")
    return sane


def site_table(mt, dh, keys, fields=("tb", "tbk", "mb", "gb", "eb", "rb", "wb")):
    """A small text table of the named sites on both sides, for messages."""
    ms, ds = group_sites(mt), group_sites(dh)
    rows = []
    for k in keys:
        a, b = ms.get(k, []), ds.get(k, [])
        rows.append(f"{fmt_key(k, 2)}\n    mt: " + " ".join(f"{f}={_sum(a, f)}" for f in fields)
                    + "\n    dh: " + " ".join(f"{f}={_sum(b, f)}" for f in fields))
    return "\n".join(rows)


def find_site(prof, function):
    """The pps whose innermost program frame is in the named function."""
    out = []
    for key, pps in group_sites(prof).items():
        if key and re.match(rf"^{re.escape(function)}[ (]", key[0]):
            out.extend(pps)
    return out


def one_site(prof, function):
    pps = find_site(prof, function)
    assert len(pps) == 1, (f"expected one pp allocated directly in {function}(), found {len(pps)}: "
                           + "; ".join(" <- ".join(frames(prof, p)[:3]) for p in prof["pps"]))
    return pps[0]
