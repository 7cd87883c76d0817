"""Valgrind's own regression tests as a differential suite (issue 17).

memcheck's and DHAT's regression tests (memcheck/tests, dhat/tests in
Valgrind's source) are the best outside check of a tool that claims their
answers. They are not copied into this repository: this module takes them
at test time from Debian's source package of the Valgrind the build uses
(scripts/other-valgrind --source SUITE: a private apt configuration whose
deb-src entry is derived from the system's own apt sources), builds their
programs as their Makefile.am says (Valgrind's own configure and make, in
a cache outside the tree), runs each selected test under the real tool and
under memtrack with the test's .vgtest options, and compares the two runs.
tests/check_valgrind_suite.py is the pytest front end (`make
check-valgrind-suite`); docs/manual.md, "Valgrind's own tests", describes
the whole for users.

    python3 tests/valgrind_suite.py prepare   fetch, configure, build (cached)
    python3 tests/valgrind_suite.py prepare-suite [SUITE...]
                                              the same for Debian suites by name
                                              (default: the system's), no build
                                              of memtrack needed (.ci/run does
                                              it in the background)
    python3 tests/valgrind_suite.py list      the selected tests and why
    python3 tests/valgrind_suite.py run NAME [MODE]
                                              one test, both tools, the verdict

What is selected (SELECTION below, a rule, not a list): every DHAT test,
and every memcheck test about heap blocks, frees, leaks, custom allocators,
mempools or malloc arguments, as told by the options it gives, the client
requests its program makes, what its expected output reports, or its name.

Each test runs in two modes (MODES): as written (vg_regtest's command line:
the test's options after --memcheck:leak-check=no, and memtrack's own name
for that default under memtrack), and as users run it (no -q, no leak-check
default from the harness, so Valgrind's default --leak-check=summary and
the summaries are compared too).

What is compared (compare()): exit status, the program's stdout and its own
lines on stderr (VALGRIND_COUNT_LEAKS results and the like are printed
there), every error about the heap with its stacks, every loss record
(headline and stack), HEAP SUMMARY, LEAK SUMMARY, ERROR SUMMARY, the XML
records, and then every other line Valgrind printed; for DHAT tests the
summary lines and every site's figures of the profile. What cannot agree
is in CANNOT_AGREE: each entry is a reason with what it removes from both
runs before they are compared, never a test name.

Standard library only, like helpers.py.
"""
import dataclasses
import difflib
import fcntl
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helpers  # noqa: E402
import leak_helpers  # noqa: E402

# ---------------------------------------------------------------------------
# Where the tests come from

CACHE = Path(os.environ.get("MEMTRACK_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "memtrack")
OTHER_VALGRIND = helpers.REPO / "scripts" / "other-valgrind"
TOOLS = ("memcheck", "dhat")


class SuiteError(Exception):
    """The suite cannot run here (no source, no build): one sentence."""


def debian_suite():
    """The Debian suite whose valgrind the build uses: the one
    scripts/other-valgrind unpacked when --with-valgrind names such a
    prefix, else the system's own release (its valgrind is the system's)."""
    prefix = os.path.realpath(helpers.VG_CONF["VG_PREFIX"])
    m = re.search(r"/valgrind-([a-z0-9-]+)/root/usr/?$", prefix)
    if m:
        return m.group(1)
    return system_suite()


def system_suite():
    """The system's Debian release (its valgrind is the system's)."""
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        text = ""
    m = re.search(r"^VERSION_CODENAME=\"?([a-z0-9-]+)\"?$", text, re.M)
    if not m:
        raise SuiteError("cannot tell the Debian release of the system's valgrind "
                         "(no VERSION_CODENAME in /etc/os-release)")
    return m.group(1)


def upstream(debian_version):
    """'1:3.19.0-1' -> '3.19.0'."""
    v = debian_version.split(":", 1)[-1]
    return v.rsplit("-", 1)[0] if "-" in v else v


def suite_source(suite):
    """The unpacked Debian source of suite's valgrind (fetched the first time)."""
    p = subprocess.run([str(OTHER_VALGRIND), "--source", suite], capture_output=True, text=True)
    if p.returncode != 0:
        raise SuiteError(f"scripts/other-valgrind --source {suite} failed:\n{p.stderr.strip()}")
    return Path(p.stdout.strip().splitlines()[-1])


def source_dir():
    """The unpacked Debian source of the Valgrind in use (fetched the first
    time), checked to be that version."""
    src = suite_source(debian_suite())
    have = upstream((src / ".version").read_text().strip())
    want = helpers.VG_CONF["VG_VERSION"]
    if have != want:
        raise SuiteError(f"Debian's {suite} has the source of valgrind {have}, but the build uses {want} "
                         f"({helpers.VALGRIND}); MEMTRACK_REFRESH=1 fetches it again")
    return src


# ---------------------------------------------------------------------------
# .vgtest files (tests/vg_regtest.in describes the format)


@dataclasses.dataclass
class VgTest:
    tool: str            # memcheck or dhat
    dir: str             # the test's directory in the source, e.g. memcheck/tests/linux
    name: str            # the file name without .vgtest
    fields: dict         # key -> value; vgopts, env: lists

    @property
    def id(self):
        sub = self.dir.split("/", 2)[2] if self.dir.count("/") >= 2 else ""
        return f"{self.tool}/{sub + '/' if sub else ''}{self.name}"

    def get(self, key, default=None):
        return self.fields.get(key, default)

    @property
    def vgopts(self):
        return " ".join(self.fields.get("vgopts", []))

    @property
    def prog(self):
        return self.fields.get("prog") or self.fields.get("prog-asis")


_KEYS = ("vgopts", "prog", "prog-asis", "args", "stdout_filter", "stderr_filter", "stdout_filter_args",
         "stderr_filter_args", "progB", "argsB", "stdinB", "stdoutB_filter", "stderrB_filter",
         "stdoutB_filter_args", "stderrB_filter_args", "prereq", "post", "cleanup", "env", "envB")


def read_vgtest(path, tool, rel_dir):
    fields = {"vgopts": [], "env": [], "envB": []}
    for line in Path(path).read_text(errors="replace").splitlines():
        if re.match(r"^\s*(#|$)", line):
            continue
        m = re.match(r"^\s*([A-Za-z_-]+):\s*(.*)$", line)
        if not m or m.group(1) not in _KEYS:
            raise SuiteError(f"{path}: a line vg_regtest would reject: {line!r}")
        k, v = m.group(1), m.group(2)
        if k in ("vgopts", "env", "envB"):
            fields[k].append(v)
        else:
            fields[k] = v
    return VgTest(tool, rel_dir, Path(path).name[:-len(".vgtest")], fields)


# ---------------------------------------------------------------------------
# Which tests: the rule

# memcheck's (and the core's) options about heap blocks and leaks. A test
# that gives one is about them; --leak-check=no alone says the opposite.
HEAP_OPTIONS = ("leak-check", "show-leak-kinds", "show-reachable", "show-possibly-lost",
                "errors-for-leak-kinds", "leak-check-heuristics", "leak-resolution", "keep-stacktraces",
                "freelist-vol", "freelist-big-blocks", "malloc-fill", "free-fill", "show-mismatched-frees",
                "realloc-zero-bytes-frees", "show-realloc-size-zero", "redzone-size", "xtree-memory",
                "xtree-leak", "alignment", "trace-malloc")
_HEAP_OPTION = re.compile(r"(?:^|\s)[\"']?--(?:memcheck:)?(" + "|".join(HEAP_OPTIONS) + r")(?:=(\S+))?")

# Client requests about heap blocks, custom allocators, mempools and leak
# searches (valgrind.h, memcheck.h), looked for in the program's sources and
# the test directory's headers they include (leak.h wraps COUNT_LEAKS).
HEAP_REQUESTS = re.compile(
    r"\bVALGRIND_(MALLOCLIKE_BLOCK|FREELIKE_BLOCK|RESIZEINPLACE_BLOCK|CREATE_MEMPOOL\w*|DESTROY_MEMPOOL"
    r"|MEMPOOL_\w+|MOVE_MEMPOOL|CHANGE_MEMPOOL|DO_\w*LEAK_CHECK|COUNT_LEAKS|COUNT_LEAK_BLOCKS)\b")

# What the expected output (<test>.stderr.exp*, .stdout.exp*) reports when
# the test is about the heap: a heap-call error or a leak report. (An
# invalid read or write placed "N bytes inside a block" is not enough: that
# is how memcheck describes any address, in tests about debug information,
# thread names or error limits as much as in tests about the heap; those of
# the heap's families are selected by their name or options.)
HEAP_REPORTS = re.compile(
    r"Invalid free\(\)|Mismatched free\(\)|Mismatched new/delete|fishy \(possibly negative\) value"
    r"|Illegal memory pool address|overlaps with (?:block|its successor)|Invalid alignment value"
    r"|realloc\(\) with size 0|Unsafe allocation with size of zero|invalid size value"
    r"|loss record \d+ of|LEAK SUMMARY|All heap blocks were freed"
    r"|<kind>(?:Leak_\w+|InvalidFree|MismatchedFree|FishyValue)<")

# Test names of the heap's families: a name token (split at - _ and
# digits) that names an allocation function or a heap topic.
HEAP_NAME_TOKENS = {"malloc", "calloc", "realloc", "reallocarray", "memalign", "alloc", "new", "delete",
                    "free", "freed", "mallinfo", "mempool", "pool", "leak", "leaks", "usable", "nothrow"}

# A program that reads or sets memcheck's definedness bits itself tests
# them, whatever its name (pdb-realloc2: realloc keeps partially defined
# bytes); it acts on answers no other tool gives (it asserts on them).
DEFINEDNESS_BITS = re.compile(r"\bVALGRIND_(GET|SET)_VBITS\b")

SELECTION = """\
Every DHAT test (dhat/tests), and every memcheck test (memcheck/tests and
the subdirectories its configured Makefile builds on this platform) for
which one of these holds:
  - its vgopts give one of memcheck's heap or leak options (HEAP_OPTIONS),
    other than --leak-check=no;
  - its program's sources, or the test directory's headers they include,
    make a client request about heap blocks, custom allocators, mempools or
    leak searches (HEAP_REQUESTS);
  - its expected output reports a heap-call error or a leak
    (HEAP_REPORTS);
  - its name has a token naming an allocation function or a heap topic
    (HEAP_NAME_TOKENS);
and whose program does not read or set definedness bits itself
(VALGRIND_GET_VBITS, VALGRIND_SET_VBITS: a test of those bits, whatever
its name)."""


def _sources(test, src):
    """The program's source text: <prog>.c/.cpp in the test directory and the
    test directory's headers they include (quoted includes)."""
    d = src / test.dir
    prog = test.prog or ""
    base = Path(prog).name
    files = [p for ext in (".c", ".cpp", ".cc", ".C") for p in [d / Path(prog).parent / (base + ext)] if p.exists()]
    text, seen = "", set()
    while files:
        f = files.pop()
        if f in seen:
            continue
        seen.add(f)
        t = f.read_text(errors="replace")
        text += t
        for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', t, re.M):
            h = f.parent / inc
            if h.exists() and h.resolve().parent == d.resolve():
                files.append(h)
    return text


def why_selected(test, src):
    """The rule's reasons this test is selected ([] if it is not)."""
    if test.tool == "dhat":
        return ["a DHAT test"]
    if DEFINEDNESS_BITS.search(_sources(test, src)):
        return []
    why = []
    opts = [(m.group(1), m.group(2)) for m in _HEAP_OPTION.finditer(test.vgopts)]
    opts = [o for o in opts if o != ("leak-check", "no")]
    if opts:
        why.append("option --" + opts[0][0])
    m = HEAP_REQUESTS.search(_sources(test, src))
    if m:
        why.append("request " + m.group(0))
    d = src / test.dir
    for exp in sorted(d.glob(f"{test.name}.std*.exp*")):
        m = HEAP_REPORTS.search(exp.read_text(errors="replace"))
        if m:
            why.append(f"expects '{m.group(0)}'")
            break
    tokens = set(re.split(r"[-_0-9.]+", test.name.lower()))
    if tokens & HEAP_NAME_TOKENS:
        why.append("name '" + sorted(tokens & HEAP_NAME_TOKENS)[0] + "'")
    return why


# ---------------------------------------------------------------------------
# Building the test programs (Valgrind's configure and make, once per
# version, in a cache outside the source tree and outside ours)

_PRINT_MK = "print-%:\n\t@echo '$($*)'\n"


class Build:
    """Valgrind's source configured in CACHE/valgrind-SUITE/regtests-VERSION/build,
    with the selected tests' programs made there."""

    def __init__(self, src=None):
        self.src = Path(src) if src else source_dir()
        version = (self.src / ".version").read_text().strip()
        self.top = self.src.parent / f"regtests-{version.replace(':', '_')}"
        self.dir = self.top / "build"

    # make's view of a directory's Makefile
    def make_var(self, rel, *names):
        mk = self.top / "print.mk"
        if not mk.exists():
            mk.write_text(_PRINT_MK)
        p = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(self.dir / rel), "-f", "Makefile",
                            "-f", str(mk), *[f"print-{n}" for n in names]], capture_output=True, text=True)
        if p.returncode != 0:
            raise SuiteError(f"make in {self.dir / rel} cannot print {names}: {p.stderr.strip()}")
        return [l.split() for l in p.stdout.splitlines()]

    def test_dirs(self):
        """(tool, rel_dir) for each directory vg_regtest would visit here:
        each tool's tests/ and the SUBDIRS its configured Makefile lists
        (the platform's arch, OS and platform directories)."""
        out = []
        for tool in TOOLS:
            todo = [f"{tool}/tests"]
            while todo:
                rel = todo.pop(0)
                out.append((tool, rel))
                subdirs, = self.make_var(rel, "SUBDIRS")
                todo += [f"{rel}/{s}" for s in subdirs if s != "."]
        return out

    def configure(self):
        if (self.dir / "config.status").exists():
            return
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        log = self.top / "configure.log"
        print(f"valgrind-suite: configuring valgrind {self.top.name[len('regtests-'):]} in {self.dir} (once)",
              file=sys.stderr)
        # Only the primary architecture: the tests run there, and the
        # secondary one (x86 on amd64) would need a 32-bit C library.
        with open(log, "w") as f:
            p = subprocess.run([str(self.src / "configure"), "-q", "--enable-only64bit"], cwd=self.dir,
                               stdout=f, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise SuiteError(f"valgrind's configure failed; see {log}:\n" + log.read_text()[-3000:])

    def tests(self):
        out = []
        for tool, rel in self.test_dirs():
            for p in sorted((self.src / rel).glob("*.vgtest")):
                out.append(read_vgtest(p, tool, rel))
        return out

    def programs(self, tests):
        """{build dir (relative): {program, ...}} the tests may need: their
        prog: and every word of their prereq: that names a file (such as
        ../../tests/arch_test or ./check_execveat). make() builds those its
        Makefile has."""
        need = {}
        for t in tests:
            words = [t.get("prog")] if t.get("prog") else []
            words += re.findall(r"[\w./-]+", t.get("prereq", ""))
            for w in words:
                p = os.path.normpath(os.path.join(t.dir, w))
                if not p.startswith("..") and re.fullmatch(r"[\w.-]+", os.path.basename(p)):
                    need.setdefault(os.path.dirname(p), set()).add(os.path.basename(p))
        return need

    def make(self, tests):
        stamp = self.top / "made"
        need = self.programs(tests)
        key = "\n".join(f"{d}: {' '.join(sorted(ps))}" for d, ps in sorted(need.items())) + "\n"
        if stamp.exists() and stamp.read_text() == key:
            return
        log = self.top / "make.log"
        with open(log, "a") as f:
            for rel, progs in sorted(need.items()):
                if not (self.dir / rel / "Makefile").exists():
                    continue
                progs = sorted(progs)
                buildable = set(self.make_var(rel, "check_PROGRAMS")[0]) | set(
                    self.make_var(rel, "noinst_PROGRAMS")[0])
                # Programs the Makefile does not build here (a compiler
                # feature configure did not find) are for the test's
                # prereq: to notice, as under vg_regtest.
                progs = [p for p in progs if p in buildable]
                if not progs:
                    continue
                print(f"valgrind-suite: make -C {rel} ({len(progs)} programs)", file=sys.stderr)
                # -k: a program that does not build fails its own test,
                # not the others.
                subprocess.run(["make", "-k", "-j2", "-C", str(self.dir / rel), *progs], stdout=f,
                               stderr=subprocess.STDOUT)
        stamp.write_text(key)

    def prepare(self):
        """Configures and builds under a lock (pytest's workers all call
        this; the first does the work). Returns the selected tests."""
        self.top.mkdir(parents=True, exist_ok=True)
        with open(self.top / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.configure()
            tests = self.tests()
            selected = [t for t in tests if why_selected(t, self.src)]
            self.make(selected)
        return selected

    def prereq(self, test):
        """None when the test may run here, else why not (vg_regtest: exit
        1 skips the test, any other failure is an error)."""
        cmd = test.get("prereq")
        if not cmd:
            return None
        p = subprocess.run(["/bin/sh", "-c", cmd], cwd=self.dir / test.dir, capture_output=True, text=True)
        if p.returncode == 0:
            return None
        if p.returncode == 1:
            return f"prereq failed: {cmd}"
        raise SuiteError(f"{test.id}: prereq returned {p.returncode}: {cmd}\n{p.stderr}")


# ---------------------------------------------------------------------------
# Running a test

MODES = ("as-written", "default")
MODE_DOC = {
    "as-written": "the test's command line as vg_regtest builds it: --memcheck:leak-check=no (memtrack: "
                  "--memtrack:leak-check=no) before the test's vgopts",
    "default": "as users run it: the test's vgopts without -q and without the leak-check=no default, so "
               "Valgrind's --leak-check=summary applies unless the test says otherwise",
}
TIMEOUT = 180


def vgopt_tokens(test):
    """The test's vgopts as words (vg_regtest pastes them into a shell
    command; ${PWD} is the directory it was started in)."""
    text = test.vgopts.replace("${PWD}", os.getcwd())
    return shlex.split(text)


def mode_applies(test, mode):
    """The default mode is run where it changes the command line: the test
    says -q, or leaves --leak-check to vg_regtest's no."""
    if mode == "as-written":
        return True
    toks = vgopt_tokens(test)
    if "-q" in toks or "--quiet" in toks:
        return True
    if test.tool == "memcheck" and not any(re.match(r"--(memcheck:)?leak-check=", t) for t in toks):
        return True
    return test.tool == "dhat"  # memtrack: --memtrack:leak-check=no vs its default summary search


def tool_options(test, tool, mode):
    """Valgrind's options for one run: tool is the real one or memtrack."""
    toks = vgopt_tokens(test)
    if mode == "default":
        toks = [t for t in toks if t not in ("-q", "--quiet")]
        first = []
    else:
        first = ["--memtrack:leak-check=no" if tool == "memtrack" else "--memcheck:leak-check=no"]
    return ["--command-line-only=yes", *first, f"--tool={tool}", *toks]


@dataclasses.dataclass
class Run:
    tool: str
    command: str
    returncode: int
    stdout: str
    stderr: str
    cwd: Path

    def __str__(self):
        return (f"$ (cd {self.cwd} && {self.command})\n[exit {self.returncode}]\n--- stdout ---\n"
                f"{helpers._clip(self.stdout, 4000)}\n--- stderr ---\n{helpers._clip(self.stderr, 12000)}")


def _scratch(build, test, where):
    """A directory of the run's own, standing in for the test's directory:
    links to the files of the test's source and build directories that the
    test can name (every word of its vgopts and args, such as a
    suppression file or an input it redirects, and every file whose name
    starts with the test's or its program's name, such as the library
    dlclose_leak loads from "./"), so that what the run writes (dhat.out,
    vgcore.*, memtrack's profile) stays its own. Only those: linking the
    whole directory (over a thousand files, for each run) left pytest
    minutes of cleaning up after a session."""
    where.mkdir(parents=True, exist_ok=True)
    words = set()
    for w in re.split(r"[\s=,<>|]+", f"{test.vgopts} {test.get('args', '')}"):
        words.add(os.path.basename(w.strip("'\"")))
    stems = (test.name, os.path.basename(test.prog or test.name))
    for d in (build.dir / test.dir, build.src / test.dir):
        if not d.is_dir():
            continue
        for e in d.iterdir():
            if e.name not in words and not e.name.startswith(stems):
                continue
            link = where / e.name
            if not link.exists() and not link.is_symlink():
                link.symlink_to(e)
    return where


def run(build, test, tool, mode, where):
    """Runs the test under tool (memcheck, dhat or memtrack) in a fresh
    directory `where`, as vg_regtest does: through /bin/sh, with the test's
    env: words before the command; its stdout_filter applied to stdout."""
    cwd = _scratch(build, test, Path(where))
    prog = test.get("prog-asis") or ""
    if test.get("prog"):
        rel = os.path.normpath(os.path.join(test.dir, test.get("prog")))
        prog = str(build.dir / rel) if (build.dir / rel).exists() else str(build.src / rel)
    opts = " ".join(shlex.quote(o) for o in tool_options(test, tool, mode))
    env = " ".join(test.get("env", []))
    cmd = f"{env + ' ' if env else ''}{shlex.quote(str(helpers.VG_IN_PLACE))} {opts} {shlex.quote(prog)} " \
          f"{test.get('args', '')}".rstrip()
    try:
        p = subprocess.run(["/bin/sh", "-c", cmd], cwd=cwd, env=helpers.base_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=TIMEOUT)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", (e.stderr or b"") + f"\n[timed out after {TIMEOUT} s]".encode()
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    if test.get("stdout_filter"):
        args = test.get("stdout_filter_args") or test.name
        f = subprocess.run(["/bin/sh", "-c", f"{test.get('stdout_filter')} {args}"], cwd=build.src / test.dir,
                           input=out.encode(), capture_output=True)
        out = f.stdout.decode("utf-8", "replace")
    return Run(tool, cmd, rc, out, err, cwd)


# ---------------------------------------------------------------------------
# What cannot agree: reasons, each removing the same things from both runs


@dataclasses.dataclass
class Reason:
    key: str
    why: str
    headlines: str = ""   # regex: error headlines (text) this reason removes
    xml_kinds: tuple = ()  # the same errors' XML kinds
    lines: str = ""       # regex: single Valgrind lines it removes


CANNOT_AGREE = [
    Reason("definedness",
           "memtrack keeps no definedness (V) bits, which is most of its speed: it reports no use of "
           "uninitialised values, so memcheck's errors about them (and their origins) are removed, and "
           "so is memtrack's one line saying that a definedness option (--track-origins, "
           "--partial-loads-ok, ...) has no effect",
           headlines=r"Conditional jump or move depends on uninitialised value\(s\)"
                     r"|Use of uninitialised value of size \d+"
                     r"|Syscall param .* (contains|points to) uninitialised byte\(s\)"
                     r"|Uninitialised byte\(s\) found during client check request",
           xml_kinds=("UninitCondition", "UninitValue", "ClientCheck"),
           lines=r"^Use --track-origins=yes to see where uninitialised values come from$"
                 r"|^memtrack does not check definedness: .* (has|have) no effect$"),
    Reason("addressability",
           "memtrack keeps no addressability (A) bits and puts no red zones around blocks: it checks "
           "heap calls, not accesses, so memcheck's errors about reads, writes and jumps to addresses "
           "nobody may use are removed, with memcheck's warnings about setting those bits",
           headlines=r"Invalid (read|write) of size \d+"
                     r"|Syscall param .* points to unaddressable byte\(s\)"
                     r"|Unaddressable byte\(s\) found during client check request"
                     r"|Jump to the invalid address stated on the next line",
           xml_kinds=("InvalidRead", "InvalidWrite", "InvalidJump"),
           lines=r"^Warning: set address range perms: large range"),
    Reason("string-overlap",
           "memtrack does not check the arguments of memcpy, strcpy and the other string functions "
           "(memcheck's 'Source and destination overlap' errors are removed)",
           headlines=r"Source and destination overlap in \w+",
           xml_kinds=("Overlap",)),
    Reason("error-count",
           "a program that asks how many errors were reported so far (VALGRIND_COUNT_ERRORS) counts the "
           "errors the reasons above take out of memcheck's run (even with --log-fd=-1, where they cannot "
           "be seen): the lines of such a program's own output that mention errors are not compared"),
    Reason("tool-name",
           "a program that asks for the tool's name (VALGRIND_GET_TOOLNAME, 3.27) is told 'memtrack': in "
           "its own output under memtrack, the name (or a truncated copy of it) reads as the real tool's"),
    Reason("tool-abort",
           "memcheck can stop in an internal error of its own ('the impossible happened', as "
           "leak-autofreepool-5 expects); memtrack carries on: only what memcheck printed before it "
           "is compared, with as many lines of memtrack's, and the exit status is not"),
]

_SYSCALL_PARAM_KINDS = ("SyscallParam",)
_COUNTS_ERRORS = re.compile(r"\bVALGRIND_COUNT_ERRORS\b")
_ERROR_WORD = re.compile(r"\berrors?\b", re.I)
_TOOL_NAME = re.compile(r"\bVALGRIND_GET_TOOLNAME\b")


def _as_tool(line, tool):
    """memtrack's name in a line of the program's output as the real
    tool's: whole, or as many of its first letters as a copy truncated to
    a small buffer holds ("memt" reads "memc")."""
    def swap(m):
        w = m.group(0)
        return tool[:len(w)] if "memtrack".startswith(w) and len(w) <= len(tool) else w
    return re.sub(r"\bmemt\w*", swap, line)


_DROP_LINE = re.compile("|".join(f"(?:{r.lines})" for r in CANNOT_AGREE if r.lines))
_DROP_KINDS = {k: r.key for r in CANNOT_AGREE for k in r.xml_kinds}
_CONTEXT = re.compile(r"^(\d+) errors? in context (\d+) of (\d+):$")
_FRAME = re.compile(r"^   (at|by) 0x")
_ERROR_SUMMARY = re.compile(r"^ERROR SUMMARY: ([\d,]+) errors? from ([\d,]+) contexts? "
                            r"\(suppressed: ([\d,]+) from ([\d,]+)\)$")
_ABORT = re.compile(r"the 'impossible' happened")


def drop_reason_for(headline):
    """The key of the reason that removes errors with this headline."""
    for r in CANNOT_AGREE:
        if r.headlines and re.fullmatch(r.headlines, headline.strip()):
            return r.key
    return None


# ---------------------------------------------------------------------------
# Taking a run apart


@dataclasses.dataclass
class Parsed:
    returncode: object
    stdout: list          # the program's stdout lines (after the stdout filter; XML taken out)
    client_stderr: list   # the program's own lines on stderr
    lines: list           # Valgrind's lines, normalised, what CANNOT_AGREE removes taken out
    errors: list          # each error about the heap: its lines
    dropped: list         # (reason, headline) of each error taken out
    records: list         # each loss record: headline + stack
    heap_summary: list
    leak_summaries: list
    error_summary: str
    xml: object           # ET root or None
    xml_problem: str      # why the XML could not be read, or ""
    aborted: bool         # the tool stopped in an internal error
    count: int            # Valgrind's lines kept, before any limit


_HEX = re.compile(r"0x[0-9A-Fa-f]+")
# A frame in a tool's preload as Valgrind prints it with --fullpath-after
# (badfree3): "free (m_replacemalloc/vg_replace_malloc.c:989)".
_PRELOAD_PATH = re.compile(r"\((?:[^\s()]*/)vg_replace_(malloc|strmem)\.c:(\d+)\)")
# A function of valgrind.h inlined into a tool's preload, which Debian
# ships with debug information from 3.22 on: memcheck names it
# ("VALGRIND_PRINTF_BACKTRACE (valgrind.h:6818)"), memtrack's preload, which
# has none, cannot ("??? (in .../vgpreload_memtrack-amd64-linux.so)").
_VALGRIND_H_FRAME = re.compile(r"^(==\d+==\s+(?:at|by) 0x[0-9A-Fa-f]+: )\S+ \(valgrind\.h:\d+\)$", re.M)
_UNNAMED_PRELOAD = re.compile(
    r"^(==\d+==\s+(?:at|by) 0x[0-9A-Fa-f]+: )\?\?\? \(in \S*/vgpreload_[a-z]+-[a-z0-9]+-linux\.so\)$", re.M)


def normalise_frames(text):
    """Frames named differently for Debian's packaging reasons alone (see
    docs/manual.md, "Supported Valgrind versions") read the same for both
    tools; helpers.normalise() does the rest (addresses, the preload's
    name)."""
    text = _PRELOAD_PATH.sub(r"(vg_replace_\1.c:\2)", text)
    text = _VALGRIND_H_FRAME.sub(r"\1??? (in vgpreload_TOOL.so)", text)
    return _UNNAMED_PRELOAD.sub(r"\1??? (in vgpreload_TOOL.so)", text)


def _split_xml(text):
    """(the text without the XML document, the document or None)."""
    start = text.find("<?xml")
    if start < 0:
        return text, None
    end = text.find("</valgrindoutput>", start)
    end = len(text) if end < 0 else end + len("</valgrindoutput>")
    doc = text[start:end]
    rest = text[:start] + text[end:].lstrip("\n")
    return rest, doc


def _xml_fd(test):
    m = None
    for t in vgopt_tokens(test):
        m = re.match(r"--xml-fd=(\d+)$", t) or m
    return int(m.group(1)) if m else None


def _blocks(lines):
    """Valgrind's lines cut into blocks at its blank lines."""
    out, cur = [], []
    for l in lines:
        if l.strip() == "":
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(l)
    if cur:
        out.append(cur)
    return out


def _is_error(block):
    return len(block) >= 2 and not block[0].startswith(" ") and bool(_FRAME.match(block[1]))


def _error_of(block):
    """(the 'N errors in context X of Y:' line or None, the error's lines
    or None): a block of Valgrind's lines that is an error (not a loss
    record), alone or in -s's list of contexts."""
    ctx = _CONTEXT.match(block[0])
    body = block[1:] if ctx else block
    if _is_error(body) and not leak_helpers.LOSS_RECORD.match(body[0]):
        return ctx, body
    return ctx, None


def parse(test, r, limit=None):
    """Takes a run apart. limit: how many of Valgrind's lines (of those
    CANNOT_AGREE keeps) to look at; the rest is cut off (tool-abort)."""
    out, err = r.stdout, r.stderr
    doc = None
    fd = _xml_fd(test)
    if fd == 1:
        out, doc = _split_xml(out)
    elif fd == 2:
        err, doc = _split_xml(err)
    # Valgrind's debug and trace lines (--PID--, e.g. --trace-malloc=yes)
    # are Valgrind's lines too, kept with their "--" mark.
    err = re.sub(r"^--(\d+)-- ", r"==\1== -- ", err, flags=re.M)
    err = normalise_frames(err)
    # A tool's internal error is printed without the ==PID== prefix: what
    # follows it is the tool's, not the program's.
    m = _ABORT.search(err)
    aborted = m is not None
    if aborted:
        err = err[:err.rfind("\n", 0, m.start()) + 1]
    vg = leak_helpers.valgrind_lines(err)
    # The program's own lines on stderr, addresses masked as the tests'
    # filter_stderr masks them (blocks lie elsewhere under memtrack, which
    # puts no red zones around them).
    client = [_HEX.sub("0x?", l) for l in err.splitlines() if not re.match(r"^(==\d+==|\*\*\d+\*\*)", l)]
    while aborted and client and client[-1].strip() == "":
        client.pop()
    kept, dropped = [], []
    for b in _blocks([l for l in vg if not (_DROP_LINE.pattern and _DROP_LINE.search(l))]):
        ctx, body = _error_of(b)
        if body:
            why = drop_reason_for(body[0])
            if why:
                if not ctx:
                    dropped.append((why, body[0]))
                continue
        kept.append(b)
    lines = [l for b in kept for l in b + [""]]
    count = len(lines)
    if limit is not None:
        lines = lines[:limit]
    errors = []
    for b in _blocks(lines):
        ctx, body = _error_of(b)
        if body and not ctx:
            errors.append(body)
    parsed_leaks = leak_helpers.parse("\n".join(f"==1== {l}" for l in lines))
    summaries = [l for l in lines if _ERROR_SUMMARY.match(l)]
    xml, problem = None, ""
    if doc is not None:
        try:
            xml = ET.fromstring(doc.encode())
        except ET.ParseError as e:
            problem = f"not well-formed XML: {e}"
    return Parsed(
        returncode=r.returncode,
        stdout=out.splitlines(),
        client_stderr=client,
        lines=[l for l in lines],
        errors=errors,
        dropped=dropped,
        records=[[rec.headline, *rec.frames] for rec in parsed_leaks.records],
        heap_summary=parsed_leaks.heap_summary if any(l == "HEAP SUMMARY:" for l in lines) else [],
        leak_summaries=parsed_leaks.leak_summaries,
        error_summary=summaries[-1] if summaries else "",
        xml=xml,
        xml_problem=problem,
        aborted=aborted,
        count=count,
    )


# ---------------------------------------------------------------------------
# Comparing


@dataclasses.dataclass
class Difference:
    part: str
    diff: str     # a unified diff, the real tool's lines to memtrack's
    first: str    # the first differing line, for tables

    def __str__(self):
        return f"{self.part}:\n{self.diff}"


def _differ(part, mine, theirs, tool):
    mine, theirs = [str(x) for x in mine], [str(x) for x in theirs]
    if mine == theirs:
        return None
    d = list(difflib.unified_diff(theirs, mine, tool, "memtrack", lineterm="", n=2))
    if len(theirs) == len(mine):
        # Line for line: the first that differs.
        i1 = j1 = next(i for i, (x, y) in enumerate(zip(theirs, mine)) if x != y)
        i2 = j2 = i1 + 1
    else:
        ops = difflib.SequenceMatcher(None, theirs, mine, autojunk=False).get_opcodes()
        _, i1, i2, j1, j2 = next(op for op in ops if op[0] != "equal")
    first = (f"{tool} {theirs[i1].strip()!r}" if i1 < i2 else f"{tool} has nothing") + ", " + \
            (f"memtrack {mine[j1].strip()!r}" if j1 < j2 else "memtrack has nothing")
    if i1 == i2:
        first += f" after {theirs[i1 - 1].strip()!r}" if i1 else " at the start"
    return Difference(part, "\n".join(d), first)


def _renumber_contexts(lines):
    """'N errors in context X of Y:' numbered again over the contexts that
    remain once CANNOT_AGREE has removed some."""
    ctx = [i for i, l in enumerate(lines) if _CONTEXT.match(l)]
    out = list(lines)
    for n, i in enumerate(ctx, 1):
        m = _CONTEXT.match(lines[i])
        out[i] = f"{m.group(1)} errors in context {n} of {len(ctx)}:"
    return out


def _summary_line(p, removed):
    """ERROR SUMMARY without the errors the reasons removed: their contexts
    are subtracted; their count of occurrences is unknown, so the error
    count is only compared when nothing was removed from either run."""
    m = _ERROR_SUMMARY.match(p.error_summary or "")
    if not m:
        return p.error_summary
    e, c, s, sc = (int(x.replace(",", "")) for x in m.groups())
    if removed:
        return f"ERROR SUMMARY: ? errors from {c - len(p.dropped)} contexts (suppressed: {s} from {sc})"
    return p.error_summary


def _xml_removed(root):
    """How many of the document's errors CANNOT_AGREE takes out."""
    return sum(1 for e in root.findall("error") if not _xml_kept(e))


def _xml_views(root, tool, removed):
    """The XML file's records as a consumer reads them, a line per item:
    each error (kind, what, auxwhat, stacks as function, file and line,
    leaked bytes and blocks, suppression) in order, errorcounts,
    suppcounts, protocol 6's summaries and the file's top-level shape,
    minus the errors CANNOT_AGREE removes. The readers are
    tests/test_leak_xml.py's."""
    import test_leak_xml as leak_xml  # pytest and _main have tests/ on sys.path

    errors = [e for e in root.findall("error") if _xml_kept(e)]
    views = [leak_xml.error_view(e, tool) for e in errors]
    run = leak_xml.XmlRun(tool, root, errors, views)
    lines = []
    for n, v in enumerate(views):
        lines.append(f"error {n}")
        for tag, value in v:
            if tag == "stack":
                lines += [f"  stack: {fn} ({file}:{line})" for fn, _, file, line in value]
            else:
                lines.append(f"  {tag}: {value}")
    index = {e.findtext("unique"): n for n, e in enumerate(errors)}
    counts = [f"{p.findtext('count')} x error {index[p.findtext('unique')]}"
              for p in root.findall("errorcounts/pair") if p.findtext("unique") in index]
    shape = []
    for el in root:
        if el.tag == "error":
            if _xml_kept(el):
                shape.append(f"error {el.findtext('kind')}")
        elif el.tag == "status":
            shape.append(f"status {el.findtext('state')}")
        elif el.tag not in ("pid", "ppid"):
            shape.append(el.tag)
    summaries = run.summaries()
    if removed:
        # As for the text's ERROR SUMMARY: contexts less those taken out,
        # the count of occurrences unknown.
        n = _xml_removed(root)
        fix = {"errors": lambda v: "?", "error_contexts": lambda v: str(int(v) - n)}
        summaries = [(tag, [(k, fix[k](v)) if k in fix else (k, v) for k, v in kids])
                     if tag == "error_summary" and isinstance(kids, list) else (tag, kids)
                     for tag, kids in summaries]
    return {
        "XML errors": lines,
        "XML errorcounts": counts,
        "XML suppcounts": run.suppcounts(),
        "XML summaries": summaries,
        "XML top-level elements": shape,
    }


def _xml_kept(e):
    kind = e.findtext("kind") or ""
    if kind in _DROP_KINDS:
        return False
    if kind in _SYSCALL_PARAM_KINDS:
        what = e.findtext("what") or ""
        return not drop_reason_for(what)
    return True


def compare(test, mode, ref, mt, src):
    """Every Difference between the real tool's run and memtrack's (src:
    the Valgrind source the test comes from)."""
    tool = ref.tool
    a = parse(test, ref)
    # tool-abort: memtrack's output as far as memcheck's went.
    b = parse(test, mt, limit=a.count if a.aborted else None)
    removed = bool(a.dropped or b.dropped)
    diffs = []

    def check(part, x, y):
        d = _differ(part, y, x, tool)
        if d:
            diffs.append(d)

    source = _sources(test, src)
    if _TOOL_NAME.search(source):
        b.stdout = [_as_tool(l, tool) for l in b.stdout]
        b.client_stderr = [_as_tool(l, tool) for l in b.client_stderr]
    if _COUNTS_ERRORS.search(source):
        for p in (a, b):
            p.stdout = [l for l in p.stdout if not _ERROR_WORD.search(l)]
            p.client_stderr = [l for l in p.client_stderr if not _ERROR_WORD.search(l)]
    # The program's stderr first: where memtrack rejects an option, its one
    # line says so there.
    check("program's stderr", a.client_stderr, b.client_stderr)
    check("program's stdout", a.stdout, b.stdout)
    if not a.aborted:
        check("exit status", [a.returncode], [b.returncode])
    if tool == "dhat":
        diffs += _compare_dhat(test, ref, mt)
        return diffs
    check("errors (headline, stacks, block descriptions)", _flat(a.errors), _flat(b.errors))
    check("HEAP SUMMARY", a.heap_summary, b.heap_summary)
    check("loss records (headline and stack)", _flat(a.records), _flat(b.records))
    check("LEAK SUMMARY", _flat(a.leak_summaries), _flat(b.leak_summaries))
    check("ERROR SUMMARY", [_summary_line(a, removed)], [_summary_line(b, removed)])
    if a.xml is not None or b.xml is not None or a.xml_problem or b.xml_problem:
        if a.xml is None or b.xml is None:
            check("XML document", [a.xml_problem or ("none" if a.xml is None else "one")],
                  [b.xml_problem or ("none" if b.xml is None else "one")])
        else:
            removed_xml = bool(_xml_removed(a.xml) or _xml_removed(b.xml))
            va, vb = _xml_views(a.xml, tool, removed_xml), _xml_views(b.xml, "memtrack", removed_xml)
            for k in va:
                check(k, va[k], vb[k])
    if not diffs:
        la, lb = _renumber_contexts(a.lines), _renumber_contexts(b.lines)
        la = [_summary_line(a, removed) if _ERROR_SUMMARY.match(l) else l for l in la]
        lb = [_summary_line(b, removed) if _ERROR_SUMMARY.match(l) else l for l in lb]
        check("every other line Valgrind printed", la, lb)
    return diffs


def _flat(groups):
    return [l for g in groups for l in list(g) + ["--"]]


def _profile_path(test, r):
    path = None
    for t in vgopt_tokens(test):
        m = re.match(r"--dhat-out-file=(.+)$", t)
        if m:
            path = m.group(1)
    return r.cwd / path if path else None


def _compare_dhat(test, ref, mt):
    import profile_helpers

    diffs = []
    fa = [l for l in leak_helpers.helpers.client_lines(ref.stderr)
          if l.startswith(("Total:", "At t-gmax:", "At t-end:", "Reads:", "Writes:"))]
    fb = [l for l in leak_helpers.helpers.client_lines(mt.stderr)
          if l.startswith(("Total:", "At t-gmax:", "At t-end:", "Reads:", "Writes:"))]
    d = _differ("DHAT's summary lines", fb, fa, "dhat")
    if d:
        diffs.append(d)
    pa, pb = _profile_path(test, ref), _profile_path(test, mt)
    if pa is None:
        return diffs
    problems = []
    try:
        da, db = profile_helpers.load(pa), profile_helpers.load(pb)
    except AssertionError as e:
        problems = [str(e).splitlines()[0]]
    else:
        problems, _ = profile_helpers.compare_sites(db, da)
        if da.get("mode") != db.get("mode"):
            problems.insert(0, f"mode {db.get('mode')!r}, DHAT's {da.get('mode')!r}")
    if problems:
        diffs.append(Difference("profile sites (tb, tbk, gb, gbk, eb, ebk, rb, wb, mb, acc)",
                                "\n".join(problems), problems[0]))
    return diffs


# ---------------------------------------------------------------------------
# Command line


def _main(argv):
    import tempfile

    if not argv or argv[0] not in ("prepare", "prepare-suite", "list", "run"):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    if argv[0] == "prepare-suite":
        status = 0
        for suite in argv[1:] or [None]:
            label = suite or "the system's release"
            try:
                build = Build(suite_source(suite or system_suite()))
                selected = build.prepare()
                print(f"valgrind-suite: {label}: {len(selected)} tests selected from {build.src}; "
                      f"programs in {build.dir}")
            except SuiteError as e:
                print(f"valgrind-suite: {label}: {e}", file=sys.stderr)
                status = 1
        return status
    try:
        build = Build()
        selected = build.prepare()
    except SuiteError as e:
        print(f"valgrind-suite: {e}", file=sys.stderr)
        return 1
    if argv[0] == "prepare":
        print(f"valgrind-suite: {len(selected)} tests selected from {build.src}; programs in {build.dir}")
        return 0
    if argv[0] == "list":
        print(SELECTION)
        print("\nModes:\n" + "".join(f"  {m}: {d}\n" for m, d in MODE_DOC.items()))
        print("What cannot agree:\n" + "".join(f"  {r.key}: {r.why}\n" for r in CANNOT_AGREE))
        for t in selected:
            pre = build.prereq(t)
            print(f"{t.id:45} {'; '.join(why_selected(t, build.src))}{'  [' + pre + ']' if pre else ''}")
        return 0
    tests = [t for t in selected if t.id == argv[1] or t.name == argv[1]]
    if not tests:
        print(f"valgrind-suite: no selected test {argv[1]}", file=sys.stderr)
        return 1
    t = tests[0]
    modes = argv[2:] or [m for m in MODES if mode_applies(t, m)]
    status = 0
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix="vgsuite.") as tmp:
            ref = run(build, t, t.tool, mode, Path(tmp) / t.tool)
            mt = run(build, t, "memtrack", mode, Path(tmp) / "memtrack")
            diffs = compare(t, mode, ref, mt, build.src)
            print(f"===== {t.id} [{mode}]\n{ref}\n\n{mt}\n")
            for d in diffs:
                print(d)
            print(f"{t.id} [{mode}]: {'same' if not diffs else 'DIFFERENT: ' + diffs[0].part}")
            status |= bool(diffs)
    return status


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
