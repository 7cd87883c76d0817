"""Shared helpers for the memtrack test suite: where things are, building the
test clients, running memtrack and its oracles (DHAT, memcheck) through
scripts/vg-in-place, and parsing what Valgrind prints.

Standard library only (the suite runs under Debian's python3 + pytest).
"""
import copy
import dataclasses
import os
import re
import select
import signal
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import workloads

REPO = Path(__file__).resolve().parent.parent
BUILDDIR = Path(os.environ.get("MEMTRACK_BUILDDIR") or REPO).resolve()
VG_IN_PLACE = REPO / "scripts" / "vg-in-place"
CLIENT_SRC = REPO / "tests" / "clients"
CLIENT_BUILD = BUILDDIR / "tests" / ".build"
MEMTRACK_INCLUDE = REPO / "memtrack"


def _vg_conf():
    """The Valgrind the build is for, from <builddir>/.in-place/vg.conf (make
    writes it): the system's, or the one ./configure --with-valgrind chose.
    Its tools are the oracles, its headers build the clients."""
    conf = {"VG_VERSION": "", "VG_PREFIX": "/usr", "VG_BINARY": "/usr/bin/valgrind",
            "VG_INCLUDEDIR": "/usr/include/valgrind", "VG_SYSTOOLDIR": "/usr/libexec/valgrind"}
    try:
        text = (BUILDDIR / ".in-place" / "vg.conf").read_text()
    except OSError:
        return conf
    for line in text.splitlines():
        m = re.match(r"(\w+)='(.*)'$", line)
        if m:
            conf[m.group(1)] = m.group(2)
    return conf


VG_CONF = _vg_conf()
VG_VERSION = tuple(int(x) for x in re.findall(r"\d+", VG_CONF["VG_VERSION"])[:2]) or (0, 0)
VALGRIND = VG_CONF["VG_BINARY"]
VG_BINDIR = Path(VALGRIND).parent
VG_TOOLDIR = Path(VG_CONF["VG_SYSTOOLDIR"])
VALGRIND_INCLUDE = Path(VG_CONF["VG_INCLUDEDIR"])


def _vgdb():
    """vgdb of the build's Valgrind; the system's where that one cannot run
    here (3.24's and 3.27's need glibc 2.38, Debian 12 has 2.36). vgdb only
    relays monitor commands through the gdbserver's FIFOs and shared page,
    whose layout these versions share, so the answers come from the tool
    either way."""
    own = VG_BINDIR / "vgdb"
    try:
        p = subprocess.run([str(own), "--help"], capture_output=True, text=True, timeout=30)
        if "GLIBC_" not in p.stderr:
            return str(own)
    except OSError:
        pass
    return shutil.which("vgdb") or str(own)


VGDB = _vgdb()

# An arm64 build tested on another machine (make check-arm64; docs/manual.md,
# "arm64"): the tools run under qemu-user (scripts/vg-in-place does that),
# the test clients are cross-compiled, and a client run "natively" runs under
# qemu too, with the sysroot scripts/arm64-env unpacked (the folder above the
# Valgrind prefix, or MEMTRACK_SYSROOT).
EMULATED = VG_CONF.get("VG_PLATFORM") == "arm64-linux" and os.uname().machine != "aarch64"
CROSS = "aarch64-linux-gnu-" if EMULATED else ""
QEMU = os.environ.get("MEMTRACK_QEMU", "qemu-aarch64-static")
SYSROOT = os.environ.get("MEMTRACK_SYSROOT") or str(Path(VG_CONF["VG_PREFIX"]).parent)


def native_prefix():
    """What a client's command line needs in front to run here: nothing, or
    qemu-user with the arm64 sysroot."""
    return [QEMU, "-L", SYSROOT] if EMULATED else []

FIX_HINT = "run scripts/bootstrap --tests (or ./configure && make) first"

# Generous: the slowest run in the suite takes a few seconds.
TIMEOUT = 300


# ---------------------------------------------------------------------------
# The build


def platform():
    """Valgrind's platform name of the built tool (e.g. amd64-linux), or None."""
    for p in sorted((BUILDDIR / "memtrack").glob("memtrack-*-linux")):
        if p.is_file():
            return p.name[len("memtrack-"):]
    return None


def build_problems():
    """Everything missing for the suite to run, as a list of sentences."""
    problems = []
    plat = platform()
    if plat is None:
        problems.append(f"the tool is not built: no {BUILDDIR}/memtrack/memtrack-<platform>")
        plat = "amd64-linux"
    need = [
        BUILDDIR / "memtrack" / f"memtrack-{plat}",
        BUILDDIR / "memtrack" / f"vgpreload_memtrack-{plat}.so",
        BUILDDIR / ".in-place" / f"memtrack-{plat}",
        BUILDDIR / ".in-place" / f"vgpreload_memtrack-{plat}.so",
        BUILDDIR / ".in-place" / f"dhat-{plat}",
        BUILDDIR / ".in-place" / f"vgpreload_dhat-{plat}.so",
        BUILDDIR / ".in-place" / f"memcheck-{plat}",
        BUILDDIR / ".in-place" / f"vgpreload_memcheck-{plat}.so",
        VG_IN_PLACE,
    ]
    for p in need:
        if not p.exists():
            problems.append(f"missing {p}")
    if not os.access(VALGRIND, os.X_OK):
        problems.append(f"{VALGRIND} (the build's valgrind) is not there")
    for prog in (CROSS + "gcc", CROSS + "g++") + ((QEMU,) if EMULATED else ()):
        if shutil.which(prog) is None:
            problems.append(f"{prog} is not on PATH")
    if not (VALGRIND_INCLUDE / "valgrind.h").exists():
        problems.append(f"missing {VALGRIND_INCLUDE}/valgrind.h (package valgrind)")
    return problems


def require_program(path):
    """Fail (never skip) when a program an oracle comparison needs is missing."""
    import pytest

    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{path} is not installed; {FIX_HINT} (it installs the test programs)",
                    pytrace=False)


# ---------------------------------------------------------------------------
# Test clients (tests/clients/*.c, *.cpp)


def client_sources():
    return sorted(p for p in CLIENT_SRC.iterdir() if p.suffix in (".c", ".cpp"))


class Clients:
    """Compiles tests/clients/<name>.c|.cpp into <builddir>/tests/.build/<name>
    on first use, reusing the binary while it is newer than its source and
    the headers it may include."""

    def __init__(self):
        self._done = {}

    def _source(self, name):
        for ext in (".c", ".cpp"):
            p = CLIENT_SRC / (name + ext)
            if p.exists():
                return p
        raise KeyError(f"no client source tests/clients/{name}.c or .cpp")

    def path(self, name):
        if name in self._done:
            return self._done[name]
        src = self._source(name)
        out = CLIENT_BUILD / name
        deps = [src, MEMTRACK_INCLUDE / "memtrack.h", *CLIENT_SRC.glob("*.h")]
        newest = max(p.stat().st_mtime for p in deps if p.exists())
        if not out.exists() or out.stat().st_mtime < newest:
            CLIENT_BUILD.mkdir(parents=True, exist_ok=True)
            cc = CROSS + ("g++" if src.suffix == ".cpp" else "gcc")
            # Build under a temporary name and rename, so that concurrent
            # runs of the suite never see a half-written binary.
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=CLIENT_BUILD)
            os.close(fd)
            cmd = [cc, "-g", "-O0", "-pthread", f"-I{MEMTRACK_INCLUDE}", f"-I{VALGRIND_INCLUDE}",
                   "-o", tmp, str(src)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                if os.path.exists(tmp):  # the linker removes its output when it fails
                    os.unlink(tmp)
                import pytest

                pytest.fail(f"could not compile {src}:\n$ {' '.join(cmd)}\n{p.stderr}", pytrace=False)
            os.replace(tmp, out)
        self._done[name] = str(out)
        return str(out)


# ---------------------------------------------------------------------------
# Running things


@dataclasses.dataclass(repr=False)
class Result:
    argv: list
    returncode: int
    stdout: str
    stderr: str

    def __str__(self):
        return (f"$ {' '.join(self.argv)}\n[exit {self.returncode}]\n"
                f"--- stdout ---\n{_clip(self.stdout, 4000)}\n--- stderr ---\n{_clip(self.stderr)}")

    def __repr__(self):
        # Short, for assertion messages (pytest truncates those); the whole
        # output of every run is printed and shown in the captured stdout
        # of a failing test.
        tail = "\n".join(self.stderr.rstrip("\n").splitlines()[-4:])
        return f"<{os.path.basename(self.argv[0])} ... exit {self.returncode}; stderr ends:\n{tail}>"


def _clip(text, limit=30000):
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters left out ...]\n" + text[-limit:]


def base_env(extra=None):
    """The environment every run gets: ours (nothing of it if extra is a
    workloads.ClientEnv), minus anything that would feed Valgrind options from
    outside, plus MEMTRACK_BUILDDIR."""
    env = {} if isinstance(extra, workloads.ClientEnv) else dict(os.environ)
    for k in ("VALGRIND_OPTS", "VALGRIND_LIB", "LD_PRELOAD"):
        env.pop(k, None)
    env["MEMTRACK_BUILDDIR"] = str(BUILDDIR)
    if extra:
        env.update(extra)
    return env


# MEMTRACK_TEST_RUNLOG=FILE: every run() appends one JSON line (test, argv,
# seconds) to FILE, to find where the suite's time goes (which tools, which
# runs repeat across tests).
RUN_LOG = os.environ.get("MEMTRACK_TEST_RUNLOG")


def _log_run(argv, cwd, env, stdin, seconds):
    import json
    rec = {"test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0], "argv": argv,
           "env": {k: v for k, v in (env or {}).items()} if isinstance(env, dict) else None,
           "stdin": str(stdin) if stdin else None, "cwd": str(cwd), "s": round(seconds, 3)}
    with open(RUN_LOG, "a") as f:
        f.write(json.dumps(rec) + "\n")


def run(argv, cwd, env=None, stdin=None, timeout=TIMEOUT):
    """Runs argv in cwd with base_env(env); stdin is a path or None."""
    argv = [str(a) for a in argv]
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=str(cwd), env=base_env(env), stdin=fin,
                           capture_output=True, timeout=timeout)
    finally:
        if stdin:
            fin.close()
    if RUN_LOG:
        _log_run(argv, cwd, env, stdin, time.monotonic() - t0)
    r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))
    print(f"\n===== {r}")  # shown by pytest when the test fails
    return r


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_then_signal(argv, cwd, sig, ready=b"ready\n", timeout=TIMEOUT):
    """Runs argv, waits until the program writes `ready` on stdout (it then
    waits in pause()), sends sig from outside and returns the Result. The
    child gets SIGINT's default action back (Python ignores it in children
    of a background shell)."""
    argv = [str(a) for a in argv]
    proc = subprocess.Popen(argv, cwd=str(cwd), env=base_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint)
    try:
        got = b""
        deadline = time.monotonic() + timeout
        while ready not in got:
            left = deadline - time.monotonic()
            assert left > 0, f"the program never said {ready!r}; stdout so far {got!r}"
            if select.select([proc.stdout], [], [], left)[0]:
                chunk = os.read(proc.stdout.fileno(), 100)
                assert chunk, f"the program's stdout closed before {ready!r}: {got!r}"
                got += chunk
        time.sleep(0.2)  # into pause()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = Result(argv, proc.returncode, (got + out).decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    print(f"\n===== {r}")
    return r


def run_tool(tool, opts, argv, cwd, **kw):
    """Runs `scripts/vg-in-place --tool=<tool> <opts> <argv>`."""
    return run([str(VG_IN_PLACE), f"--tool={tool}", *opts, *argv], cwd, **kw)


def run_memtrack(opts, argv, cwd, **kw):
    return run_tool("memtrack", opts, argv, cwd, **kw)


_dhat_runs = 0


def run_dhat(opts, argv, cwd, **kw):
    """DHAT always gets --dhat-out-file inside cwd so that it never writes
    dhat.out.<pid> anywhere else."""
    global _dhat_runs
    _dhat_runs += 1
    out = Path(cwd) / f"dhat.out.{_dhat_runs}"
    return run_tool("dhat", [f"--dhat-out-file={out}", *opts], argv, cwd, **kw)


def run_memcheck(opts, argv, cwd, **kw):
    return run_tool("memcheck", opts, argv, cwd, **kw)


def run_native(argv, cwd, **kw):
    return run([*native_prefix(), *argv], cwd, **kw)


# ---------------------------------------------------------------------------
# Parsing Valgrind's output

_PREFIX = re.compile(r"^==\d+== ?")

_SUMMARY = {
    "total": re.compile(r"^==\d+== Total:     ([\d,]+) bytes in ([\d,]+) blocks$", re.M),
    "gmax": re.compile(r"^==\d+== At t-gmax: ([\d,]+) bytes in ([\d,]+) blocks$", re.M),
    "end": re.compile(r"^==\d+== At t-end:  ([\d,]+) bytes in ([\d,]+) blocks$", re.M),
}


def _num(s):
    return int(s.replace(",", ""))


def parse_summary(stderr):
    """DHAT's three summary lines as numbers:
    {total_bytes, total_blocks, gmax_bytes, gmax_blocks, end_bytes, end_blocks}.
    Raises AssertionError (with the output) if any line is missing or
    appears more than once."""
    out = {}
    for key, rx in _SUMMARY.items():
        found = rx.findall(stderr)
        assert len(found) == 1, f"expected one '{key}' summary line, found {len(found)} in:\n{stderr[-4000:]}"
        out[f"{key}_bytes"] = _num(found[0][0])
        out[f"{key}_blocks"] = _num(found[0][1])
    return out


def summary_lines(stderr):
    """The summary lines' text without the ==PID== prefix, in order."""
    keep = ("Total:", "At t-gmax:", "At t-end:")
    return [_PREFIX.sub("", l) for l in stderr.splitlines()
            if _PREFIX.match(l) and _PREFIX.sub("", l).startswith(keep)]


_ERROR_SUMMARY = re.compile(
    r"^==\d+== ERROR SUMMARY: ([\d,]+) errors? from ([\d,]+) contexts? "
    r"\(suppressed: ([\d,]+) from ([\d,]+)\)$", re.M)


def parse_error_summary(stderr):
    """{errors, contexts, suppressed, suppressed_contexts} from the ERROR
    SUMMARY line (Valgrind prints it twice with -s or -v: both the same)."""
    found = _ERROR_SUMMARY.findall(stderr)
    assert found, f"no ERROR SUMMARY line in:\n{stderr[-4000:]}"
    assert len(set(found)) == 1, f"different ERROR SUMMARY lines in:\n{stderr[-4000:]}"
    e, c, s, sc = (_num(x) for x in found[0])
    return {"errors": e, "contexts": c, "suppressed": s, "suppressed_contexts": sc}


def client_lines(stderr):
    """Valgrind's own lines (those with the ==PID== prefix), prefix removed."""
    return [_PREFIX.sub("", l) for l in stderr.splitlines() if _PREFIX.match(l)]


@dataclasses.dataclass
class VgError:
    headline: str
    lines: list  # the whole error, headline first, prefix removed

    @property
    def descriptions(self):
        """The lines that describe the address (' Address 0x... is ...',
        ' in frame #1, created by ...', ' Block was alloc'd at'), i.e. all
        but the headline and stack frames, addresses normalised away."""
        return [normalise(l).strip() for l in self.lines[1:]
                if not re.match(r"^\s+(at|by) 0x[0-9A-Fa-f]+: ", l)]

    @property
    def normalised(self):
        return [normalise(l) for l in self.lines]


_HEX = re.compile(r"0x[0-9A-Fa-f]+")
# A frame in a tool's preload: "(in .../vgpreload_TOOL-PLATFORM.so)", or,
# where the Valgrind in use ships its preloads with their debug info
# (Debian's 3.22 and later), "(vg_replace_malloc.c:446)" or
# "(vg_replace_strmem.c:1154)". memtrack's preload is linked from the kit's
# replacement archive, which has no debug info in any version, so its frames
# are always of the first form (docs/manual.md, chapter 12).
_PRELOAD = re.compile(r"\(in \S*/vgpreload_[a-z]+-[a-z0-9]+-linux\.so\)"
                      r"|\(vg_replace_(?:malloc|strmem)\.c:\d+\)")


def elf_sections(path):
    """The section names of an ELF64 little-endian file (enough for the
    preloads of amd64 and arm64 Linux)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF" and data[4] == 2, f"{path} is not an ELF64 file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def section(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    _, _, _, _, stroff, strsize = section(shstrndx)
    names = []
    for i in range(shnum):
        name = section(i)[0]
        end = data.index(b"\0", stroff + name)
        names.append(data[stroff + name:end].decode())
    return names


def oracle_preload_has_debug_info(tool):
    """Whether the Valgrind in use ships <tool>'s preload with its debug info
    (Debian does from 3.22 on). Then the oracle names its replacement frames
    "(vg_replace_malloc.c:N)", and DHAT leaves them out of its profile,
    as its write_PPInfo_frame skips every frame so described."""
    plat = platform() or "amd64-linux"
    return ".debug_line" in elf_sections(VG_TOOLDIR / f"vgpreload_{tool}-{plat}.so")


def is_preload_frame(text):
    """Whether a frame's text names a function in a tool's preload, as
    Valgrind printed it or already normalised (normalise_preload)."""
    return _PRELOAD.search(text) is not None or "(in vgpreload_TOOL.so)" in text


def normalise_preload(line):
    """The tool's preload named the same for every tool and version."""
    return _PRELOAD.sub("(in vgpreload_TOOL.so)", line)


def normalise(line):
    """Hides what legitimately differs between tools and runs: addresses and
    the name of the tool's preload."""
    return _HEX.sub("0x?", normalise_preload(line))


def parse_errors(stderr):
    """The errors Valgrind printed, in order. An error is a block of lines
    (between blank ==PID== lines) whose second line is a stack frame."""
    blocks, cur = [], []
    for l in client_lines(stderr):
        if l.strip() == "":
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(l)
    if cur:
        blocks.append(cur)
    errors = []
    for b in blocks:
        if len(b) >= 2 and not b[0].startswith(" ") and re.match(r"^   at 0x[0-9A-Fa-f]+: ", b[1]):
            errors.append(VgError(b[0], b))
    return errors


def gen_suppressions(stderr):
    """The suppression blocks printed by --gen-suppressions (the lines
    from '{' to '}' that are not prefixed with ==PID==)."""
    out, cur = [], None
    for l in stderr.splitlines():
        if _PREFIX.match(l):
            continue
        if l.strip() == "{":
            cur = [l]
        elif cur is not None:
            cur.append(l)
            if l.strip() == "}":
                out.append("\n".join(cur))
                cur = None
    return out


def dhat_pair_envs(workload):
    """Environments for running a tests/workloads.py workload under memtrack
    and under DHAT so that the program sees the same environment size.
    Python copies its whole environment into its own heap, and Valgrind puts
    the tool's preload in LD_PRELOAD: "vgpreload_memtrack-..." is 4
    characters longer than "vgpreload_dhat-...". An extra variable 4
    characters longer in the DHAT run makes the environments the same size,
    so the heaps are the same. perl and bash copy theirs too. The other
    programs do not (their totals are equal without padding, which the
    tests check). Returns (memtrack_env, dhat_env)."""
    mt_env, dh_env = copy.copy(workload["env"]), copy.copy(workload["env"])
    if workload["name"] in ("python3", "perl", "bash"):
        mt_env["MT_PAD"] = "x" * 8
        dh_env["MT_PAD"] = "x" * (8 + len("memtrack") - len("dhat"))
    return mt_env, dh_env
