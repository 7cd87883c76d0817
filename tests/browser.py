"""Opening profiles in DHAT's own viewer, and other HTML pages (memtrack_report's),
in a real browser.

DHAT's viewer is dh_view.html in the tool directory of the build's Valgrind (with dh_view.js and
dh_view.css beside it). tests/browser_driver.js drives Debian's chromium
(/usr/bin/chromium) with playwright-core from tests/node_modules (pinned in
tests/package.json and tests/package-lock.json; scripts/bootstrap installs
both, and no browser is ever downloaded). This module starts that driver
once per test session (one node process, one chromium) and sends it the
profiles to open.

    import browser
    res = browser.assert_viewer_accepts(path, stderr=r.stderr)   # in a test
    results = browser.view_profiles([p1, p2])                    # a batch
    results = browser.open_pages([{"page": html, "steps": [...]}])  # any HTML file

A test that cannot start the browser fails (BrowserUnavailable, with a
message that says to run scripts/bootstrap); it never skips.

Standard library only.
"""
import atexit
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path

import helpers

TESTS = Path(__file__).resolve().parent
DRIVER = TESTS / "browser_driver.js"
# playwright-core: tests/node_modules (scripts/bootstrap's `npm ci`), or a
# node_modules given by MEMTRACK_NODE_MODULES (e.g. the checkout's, for a
# `make distcheck` whose unpacked tree has none).
NODE_MODULES = Path(os.environ.get("MEMTRACK_NODE_MODULES") or TESTS / "node_modules").resolve()
VIEWER = Path(os.environ.get("MEMTRACK_DH_VIEW", helpers.VG_TOOLDIR / "dh_view.html"))
CHROMIUM = Path(os.environ.get("MEMTRACK_CHROMIUM", "/usr/bin/chromium"))

HINT = ("run scripts/bootstrap --tests (it apt-installs chromium, and node/npm if missing, "
        "and runs `npm ci` in tests/)")

# Seconds: chromium's start, and one request (a batch of profiles).
START_TIMEOUT = 90
REQUEST_TIMEOUT = 300


class BrowserUnavailable(Exception):
    """The browser (or what drives it) cannot be started."""


def problems():
    """Everything missing for the browser tests, as a list of sentences."""
    out = []
    if shutil.which("node") is None:
        out.append("`node` is not on PATH (package nodejs)")
    if not CHROMIUM.exists():
        out.append(f"{CHROMIUM} is missing (package chromium)")
    if not (NODE_MODULES / "playwright-core" / "package.json").exists():
        out.append(f"{NODE_MODULES}/playwright-core is missing (`npm ci` in tests/)")
    for f in ("dh_view.html", "dh_view.js", "dh_view.css"):
        if not (VIEWER.parent / f).exists():
            out.append(f"{VIEWER.parent / f} is missing (package valgrind)")
    return out


class Driver:
    """One node process running browser_driver.js, hence one chromium."""

    def __init__(self):
        bad = problems()
        if bad:
            raise BrowserUnavailable(f"cannot start the browser ({HINT}):\n  " + "\n  ".join(bad))
        self._stderr = tempfile.TemporaryFile()
        self._buf = b""
        self._next_id = 0
        self._lock = threading.Lock()
        env = dict(os.environ, MEMTRACK_DH_VIEW=str(VIEWER), MEMTRACK_CHROMIUM=str(CHROMIUM),
                   NODE_PATH=str(NODE_MODULES))
        env.pop("NODE_OPTIONS", None)
        t0 = time.monotonic()
        self.proc = subprocess.Popen(["node", str(DRIVER)], cwd=tempfile.gettempdir(), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr)
        try:
            hello = self._read_line(START_TIMEOUT)
        except BrowserUnavailable as e:
            self.close()
            raise BrowserUnavailable(f"cannot start the browser ({HINT}): {e}") from None
        if not hello.get("ready"):
            self.close()
            raise BrowserUnavailable(f"cannot start the browser ({HINT}): {hello.get('error')}"
                                     f"{self._stderr_tail()}")
        self.info = hello
        self.start_seconds = time.monotonic() - t0

    def _stderr_tail(self):
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        text = text[-3000:].strip()
        return f"\n--- driver stderr ---\n{text}" if text else ""

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserUnavailable(f"no answer from the browser driver in {timeout} s"
                                         f"{self._stderr_tail()}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                code = self.proc.poll()
                raise BrowserUnavailable(f"the browser driver exited (status {code})"
                                         f"{self._stderr_tail()}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def view(self, jobs, timeout=REQUEST_TIMEOUT):
        """Sends the jobs (dicts, see browser_driver.js) and returns the results."""
        with self._lock:
            if self.proc.poll() is not None:
                raise BrowserUnavailable(f"the browser driver has exited{self._stderr_tail()}")
            self._next_id += 1
            req = {"id": self._next_id, "jobs": jobs}
            try:
                self.proc.stdin.write((json.dumps(req) + "\n").encode())
                self.proc.stdin.flush()
            except OSError as e:
                raise BrowserUnavailable(f"cannot talk to the browser driver: {e}"
                                         f"{self._stderr_tail()}") from None
            reply = self._read_line(timeout)
            if reply.get("id") != req["id"] or "results" not in reply:
                raise BrowserUnavailable(f"unexpected reply from the browser driver: {reply!r}")
            return reply["results"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # EOF: the driver closes chromium and exits
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


_shared = None
_shared_error = None


def driver():
    """The session's driver, started on first use, closed at exit. If it
    could not be started once, every later call raises the same error at
    once (the suite does not wait for chromium again and again)."""
    global _shared, _shared_error
    if _shared_error is not None:
        raise BrowserUnavailable(_shared_error)
    if _shared is None or _shared.proc.poll() is not None:
        try:
            _shared = Driver()
        except BrowserUnavailable as e:
            _shared_error = str(e)
            raise
        atexit.register(_shared.close)
    return _shared


def view_profiles(paths, sorts=(), screenshot=None, timeout_ms=30000):
    """Opens each profile in turn in the viewer (one browser for all) and
    returns one dict per path: {path, ok, error, text, title, options,
    sorts, screenshot, ms} (see browser_driver.js). `paths` items may also
    be job dicts ({"path": ..., "sorts": [...], "screenshot": ...}) for
    per-profile settings; `sorts` and `screenshot` apply to plain paths
    (a screenshot for the first one only)."""
    jobs = []
    for i, p in enumerate(paths):
        if isinstance(p, dict):
            job = dict(p)
            job["path"] = str(Path(job["path"]).resolve())
            if job.get("screenshot"):
                job["screenshot"] = str(job["screenshot"])
        else:
            job = {"path": str(Path(p).resolve()), "sorts": list(sorts)}
            if screenshot and i == 0:
                job["screenshot"] = str(screenshot)
        job.setdefault("timeoutMs", timeout_ms)
        jobs.append(job)
    return driver().view(jobs)


def open_pages(jobs, timeout_ms=30000):
    """Opens HTML files themselves (not profiles in the viewer): each job is
    a dict {"page": path, "waitFor": js, "steps": [...], "viewport":
    {"width": w, "height": h}} (see
    browser_driver.js). Returns one dict per job: {page, ok, error, text,
    title, values, requests, screenshot, ms}."""
    out = []
    for job in jobs:
        job = dict(job)
        job["page"] = str(Path(job["page"]).resolve())
        for step in job.get("steps", []):
            if "screenshot" in step:
                step["screenshot"] = str(step["screenshot"])
        job.setdefault("timeoutMs", timeout_ms)
        out.append(job)
    return driver().view(out)


# ---------------------------------------------------------------------------
# What the viewer shows

_FIG = r"([\d,]+(?:\.\d+)?) (\S+) \([^)]*\) in ([\d,]+(?:\.\d+)?) (\S+) \("
_ROOT_LINES = {
    "total": re.compile(r"^\s*Total:\s+" + _FIG, re.M),
    "gmax": re.compile(r"^\s*At t-gmax:\s+" + _FIG, re.M),
    "end": re.compile(r"^\s*At t-end:\s+" + _FIG, re.M),
}
_STDERR_LINES = {
    "total": re.compile(r"^==\d+== Total:\s+([\d,]+) (\S+) in ([\d,]+) (\S+)$", re.M),
    "gmax": re.compile(r"^==\d+== At t-gmax:\s+([\d,]+) (\S+) in ([\d,]+) (\S+)$", re.M),
    "end": re.compile(r"^==\d+== At t-end:\s+([\d,]+) (\S+) in ([\d,]+) (\S+)$", re.M),
}


def _num(s):
    s = s.replace(",", "")
    return float(s) if "." in s else int(s)


def shown(text):
    """What the viewer's main section shows, parsed: {mode, cmd, pid, total,
    gmax, end}; total/gmax/end are (bytes, bytes_unit, blocks, blocks_unit)
    of the root node ("PP 1/1"), or None when the root shows no such line
    (At t-gmax and At t-end only appear when the profile has lifetimes)."""
    out = {"mode": None, "cmd": None, "pid": None}
    m = re.search(r"^Invocation \{\n  Mode:    ([^\n]*)\n  Command: (.*?)\n"
                  r"  PID:     ([^\n]*)\n\}", text, re.M | re.S)
    if m:
        out["mode"], out["cmd"], out["pid"] = m.group(1), m.group(2), m.group(3)
    start = text.find("PP 1/1 ")
    root = ""
    if start >= 0:
        end = text.find("PP 1.", start)
        root = text[start:end if end >= 0 else len(text)]
    for key, rx in _ROOT_LINES.items():
        found = rx.findall(root)
        out[key] = None if not found else (_num(found[0][0]), found[0][1], _num(found[0][2]),
                                           found[0][3])
    out["has_root"] = bool(root)
    return out


def stderr_figures(stderr):
    """memtrack's (or DHAT's) summary lines on stderr: {total, gmax, end},
    each (bytes, bytes_unit, blocks, blocks_unit) or None if absent."""
    out = {}
    for key, rx in _STDERR_LINES.items():
        found = rx.findall(stderr)
        if len(found) > 1:
            raise AssertionError(f"{len(found)} '{key}' summary lines on stderr")
        out[key] = None if not found else (_num(found[0][0]), found[0][1], _num(found[0][2]),
                                           found[0][3])
    return out


def _suspicious(text):
    """Values the viewer shows when it computed with missing data. The
    Invocation section is left out: the command may say anything."""
    bad = []
    text = re.sub(r"^Invocation \{\n.*?\n  PID: .*?\n\}\n", "", text, count=1, flags=re.M | re.S)
    for line in text.splitlines():
        m = re.match(r"^[\s│├└─]*[#^]\d+: (.*)$", line)
        if m:  # a frame: any text is legitimate, except a missing ftbl entry
            if m.group(1).strip() in ("undefined", "null", ""):
                bad.append(line.strip())
        elif re.search(r"\bNaN\b|\bundefined\b|\bnull\b", line):
            bad.append(line.strip())
    return bad


def check(res, expect_total_bytes=None, expect_total_blocks=None,
          expect_gmax_bytes=None, expect_gmax_blocks=None,
          expect_end_bytes=None, expect_end_blocks=None,
          expect_units=None, expect_mode=None, expect_cmd=None, expect_pid=None,
          stderr=None, expect_lifetimes=None):
    """Problems (a list of sentences, empty if none) with one result of
    view_profiles. `stderr`: memtrack's stderr; its Total: (and At t-gmax:,
    At t-end: if present) lines give the expected figures and units, and
    when it has no At t-gmax line the page must show none either."""
    out = []
    if not res.get("ok"):
        out.append(f"the viewer reported errors:\n{res.get('error')}")
    text = res.get("text") or ""
    s = shown(text)
    if not s["has_root"]:
        out.append("the page shows no root node (PP 1/1)")
    if s["mode"] is None:
        out.append("the page shows no Invocation section")
    bad = _suspicious(text)
    if bad:
        out.append("the page shows values computed from missing data:\n  " + "\n  ".join(bad[:10]))

    want = {}  # key -> (bytes, bunit, blocks, kunit), None entries unchecked
    if stderr is not None:
        fig = stderr_figures(stderr)
        if fig["total"] is None:
            out.append("no 'Total:' line on memtrack's stderr")
        for key in ("total", "gmax", "end"):
            if fig[key] is not None:
                want[key] = list(fig[key])
        if expect_lifetimes is None and fig["total"] is not None:
            expect_lifetimes = fig["gmax"] is not None
    for key, b, k in (("total", expect_total_bytes, expect_total_blocks),
                      ("gmax", expect_gmax_bytes, expect_gmax_blocks),
                      ("end", expect_end_bytes, expect_end_blocks)):
        if b is not None or k is not None:
            w = want.setdefault(key, [None, None, None, None])
            if b is not None:
                w[0] = b
            if k is not None:
                w[2] = k
    if expect_units is not None:
        for w in want.values():
            w[1], w[3] = expect_units
    labels = {"total": "Total:", "gmax": "At t-gmax:", "end": "At t-end:"}
    for key, w in want.items():
        got = s[key]
        if got is None:
            out.append(f"the root node shows no '{labels[key]}' line")
            continue
        for i, what in ((0, "amount"), (1, "unit"), (2, "count"), (3, "unit")):
            if w[i] is not None and got[i] != w[i]:
                out.append(f"root '{labels[key]}' shows {got[0]} {got[1]} in {got[2]} {got[3]}, "
                           f"expected {w[0]} {w[1]} in {w[2]} {w[3]} ({what} differs)")
                break
    if expect_lifetimes is not None and s["has_root"]:
        has = s["gmax"] is not None and s["end"] is not None
        if has != expect_lifetimes:
            out.append("the root node " + ("lacks" if expect_lifetimes else "shows")
                       + " 'At t-gmax:'/'At t-end:' lines")
    if expect_mode is not None and s["mode"] != expect_mode:
        out.append(f"Invocation shows Mode: {s['mode']!r}, expected {expect_mode!r}")
    if expect_cmd is not None and s["cmd"] != expect_cmd:
        out.append(f"Invocation shows Command: {s['cmd']!r}, expected {expect_cmd!r}")
    if expect_pid is not None and s["pid"] != str(expect_pid):
        out.append(f"Invocation shows PID: {s['pid']!r}, expected {expect_pid!r}")
    return out


def profile_json(path):
    """The profile as the viewer reads it (FileReader.readAsText: UTF-8,
    invalid bytes replaced)."""
    return json.loads(Path(path).read_bytes().decode("utf-8", "replace"))


def _fail(msg):
    import pytest

    pytest.fail(msg, pytrace=False)


def assert_viewer_accepts(path, sorts=(), screenshot=None, **expect):
    """Opens `path` in the viewer and fails the test unless the viewer shows
    it without any error, with the expected figures (see check(): e.g.
    expect_total_bytes=, expect_total_blocks=, or stderr=memtrack's stderr)
    and, unless given, Mode, Command and PID as the profile says. Returns the
    view_profiles result. Fails (never skips) if the browser cannot start."""
    try:
        doc = profile_json(path)
    except ValueError:
        doc = None  # not JSON: the viewer says so, and this fails below
    if isinstance(doc, dict):
        expect.setdefault("expect_mode", doc.get("mode"))
        expect.setdefault("expect_cmd", doc.get("cmd"))
        expect.setdefault("expect_pid", doc.get("pid"))
    res = unavailable = None
    try:
        res = view_profiles([path], sorts=sorts, screenshot=screenshot)[0]
    except BrowserUnavailable as e:
        unavailable = str(e)
    if unavailable:  # (outside the except: no "during handling of" noise)
        _fail(unavailable)
    bad = check(res, **expect)
    if bad:
        _fail(f"dh_view.html does not show {path} as expected:\n- " + "\n- ".join(bad)
              + f"\n--- the page shows (start) ---\n{(res.get('text') or '')[:3000]}")
    return res


# ---------------------------------------------------------------------------
# Screenshots


def png_colours(path):
    """(width, height, {bytes((r, g, b)): pixel count}) of an 8-bit RGB or
    RGBA non-interlaced PNG (what chromium writes)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    depth, ctype, interlace = ihdr[8], ihdr[9], ihdr[12]
    assert depth == 8 and ctype in (2, 6) and interlace == 0, f"unsupported PNG {ihdr!r}"
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    counts = {}
    i = 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            px = bytes(line[x:x + 3])
            counts[px] = counts.get(px, 0) + 1
        prev = line
    return w, h, counts
