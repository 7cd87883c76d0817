"""The suite's two tiers: `make check` runs the quick one, `make check-slow`
the slow one, `make check-full` (and check-versions, and CI) both.

A test is slow when a whole-suite run measured it at SLOW_SECONDS or more
(its setup, call and teardown, on parallel workers): the real programs
under three tools, the builds (user install, Debian package, cargo), the
browsers, the servers, the long differential tables. tests/slow_tests.txt
lists them, one pytest node id a line; a test not in the list is quick,
so a new test runs in `make check` until the list is made again:

    make slow-list     # the whole suite with --junitxml, then this script

Why a measured list and not a marker by hand: the time of a test is the
Valgrind start-ups it makes (0.3 s for `none`, 0.45 for memtrack, 0.55
for memcheck on this 2-core machine kind, most of it Valgrind's core
reading libc's debug information and setting up its translation tables),
so which tests keep `make check` under 5 minutes is a measurement, kept
here with the command that made it.

    python3 tests/tiers.py JUNIT.xml > tests/slow_tests.txt

The same run also measures what `make check-versions` needs to run against
the other Valgrind versions: the tests that compare with an oracle of the
Valgrind in use or build against it (see "What make check-versions runs"
below; tests/no_oracle_tests.txt lists the others, conftest's --versions
leaves them out):

    python3 tests/tiers.py --no-oracle TOOLLOG JUNIT.xml > tests/no_oracle_tests.txt
"""
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST = HERE / "slow_tests.txt"
# Tests at or above this many seconds are slow. 1.0 s is about a memtrack
# run and an oracle run of a small client plus their comparison: the quick
# tier keeps those, and leaves out what runs more.
SLOW_SECONDS = 1.0


def _read_ids(path):
    """The node ids a list file holds (comments and blank lines left out)."""
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.add(line)
    return out


def slow_ids():
    """The node ids tests/slow_tests.txt lists."""
    return _read_ids(LIST)


def _node_id(classname, name):
    """pytest's node id from a junit testcase's classname and name:
    'tests.test_x.TestY' + 'test_z[a]' -> 'tests/test_x.py::TestY::test_z[a]'."""
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        path = Path(*parts[:i]).with_suffix(".py")
        if (HERE.parent / path).is_file():
            return "::".join([str(path), *parts[i:], name])
    raise ValueError(f"no test module for {classname}")


def from_junit(path):
    """{node id: seconds} of a junit file written by pytest --junitxml."""
    out = {}
    for tc in ET.parse(path).getroot().iter("testcase"):
        out[_node_id(tc.get("classname"), tc.get("name"))] = float(tc.get("time") or 0)
    return out


# ---------------------------------------------------------------------------
# What make check-versions runs against the other Valgrind versions: the
# tests that compare with an oracle of the Valgrind in use (its DHAT,
# memcheck, massif, ms_print, callgrind_annotate, DHAT's viewer) or build
# against it (configure, make: the install modes). The others (memtrack's
# options, messages and output files on their own, the scripts on memtrack's
# files) check what no Valgrind version changes and run once, against the
# system's Valgrind. Measured like the slow tier: with MEMTRACK_TEST_TOOLLOG
# set, every process the suite starts is logged with the test it ran for,
# also when a fixture or a cache ran it for several tests; the tests whose
# every log line is oracle-free go into tests/no_oracle_tests.txt, which
# check-versions leaves out (conftest's --versions). A test not in the list
# runs against every version until the list is made again.

NO_ORACLE_LIST = HERE / "no_oracle_tests.txt"
# Programs of the Valgrind in use that are oracles, and builds against it.
ORACLE_PROGRAMS = {"ms_print", "cg_annotate", "callgrind_annotate", "cg_merge", "cg_diff"}
BUILD_PROGRAMS = {"configure", "make"}
# Our own tools: memtrack, and mtunit, the unit tests of its containers
# (built from the same sources; nothing of the Valgrind in use to compare).
OUR_TOOLS = {"memtrack", "mtunit"}
# Where Valgrind itself is started: its tool is --tool's (memcheck when
# none is given, as valgrind does), memtrack for our launchers.
VALGRIND_PROGRAMS = {"valgrind": "memcheck", "valgrind.bin": "memcheck", "vg-in-place": "memtrack",
                     "memtrack": "memtrack", "cargo-memtrack": "memtrack"}


def is_oracle_run(argv):
    """Whether a process (its argv) compares with, or builds against, the
    Valgrind in use: a Valgrind tool other than memtrack, an oracle's own
    script, a build; a shell command line is split into words first."""
    import shlex
    argv = [str(a) for a in argv]
    if len(argv) >= 3 and Path(argv[0]).name in ("sh", "bash", "dash") and argv[1] == "-c":
        # The command line's words, then its arguments ("$0", "$@").
        try:
            argv = shlex.split(argv[2]) + argv[3:]
        except ValueError:
            argv = argv[2].split() + argv[3:]
    tool = None
    for i, a in enumerate(argv):
        name = Path(a).name
        if name in ORACLE_PROGRAMS or name in BUILD_PROGRAMS or a.endswith("dh_view.html"):
            return True
        if a.startswith("--tool="):
            tool = a[len("--tool="):]
        elif tool is None and name in VALGRIND_PROGRAMS and (i == 0 or argv[i - 1] == "exec"):
            # The program started (not a folder named valgrind among its
            # arguments).
            tool = VALGRIND_PROGRAMS[name]
    return tool is not None and tool not in OUR_TOOLS


_LOG = None
_FIXTURE = []  # the fixtures being set up, innermost last


def _write(rec):
    import json
    try:
        with open(_LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
    except OSError:
        pass


def _current_test():
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


def start_log(path):
    """Logs every process the suite starts from here on (subprocess.Popen,
    which subprocess.run uses) to path: the test, the fixture being set up
    (scope and id) if any, the argv."""
    import subprocess
    global _LOG
    if _LOG:
        return
    _LOG = path
    orig = subprocess.Popen.__init__

    def init(self, args, *a, **kw):
        if isinstance(args, (str, bytes)) or kw.get("shell"):
            line = args.decode("utf-8", "replace") if isinstance(args, bytes) else args
            ran(["/bin/sh", "-c", line if isinstance(line, str) else " ".join(str(x) for x in line)])
        else:
            ran(list(args))
        orig(self, args, *a, **kw)

    subprocess.Popen.__init__ = init


def ran(argv, cached=False):
    """Logs one run for the current test (and fixture); cached=True: a
    result reused from an earlier run (a cache hit), logged so that the test
    reading it counts as comparing with that run's tool as well."""
    if not _LOG:
        return
    rec = {"test": _current_test(), "argv": [str(a) for a in argv]}
    if _FIXTURE:
        rec["fixture"] = _FIXTURE[-1]
    if cached:
        rec["cached"] = True
    _write(rec)


def fixture_started(name, scope, baseid):
    if _LOG:
        _FIXTURE.append([name, scope, baseid])


def fixture_done():
    if _LOG and _FIXTURE:
        _FIXTURE.pop()


def test_uses(nodeid, fixtures):
    """Logs the fixtures a test uses (at its setup)."""
    if _LOG:
        _write({"uses": nodeid, "fixtures": list(fixtures)})


def oracle_tests(log_path, readers=None):
    """(every test the log names, the tests that compared with an oracle):
    a test's own runs, the runs of fixtures it uses (a fixture's id is its
    name and the node id prefix it was defined under), the tests whose code
    reads which Valgrind is in use (version_readers), and every instance of
    a parametrised test function when one of them did (a cache reused
    across its parameters)."""
    import json
    runs, uses = {}, {}
    fixture_oracle = set()
    for line in Path(log_path).read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        if "uses" in rec:
            uses[rec["uses"]] = rec["fixtures"]
            continue
        o = is_oracle_run(rec["argv"])
        fx = rec.get("fixture")
        if fx:
            if o:
                fixture_oracle.add((fx[0], fx[2]))
        else:
            runs[rec["test"]] = runs.get(rec["test"], False) or o
    tests = set(uses) | set(runs)
    oracle = set()
    for t in tests:
        if runs.get(t):
            oracle.add(t)
            continue
        for name in uses.get(t, ()):
            if any(n == name and t.startswith(base) for n, base in fixture_oracle):
                oracle.add(t)
                break
    if readers is None:
        readers = version_readers()
    oracle |= {t for t in tests if t.split("[")[0] in readers}
    functions = {t.split("[")[0] for t in oracle}
    oracle |= {t for t in tests if t.split("[")[0] in functions}
    return tests, oracle


# A test whose own code reads which Valgrind is in use (its version, its
# binary, tool folder or headers: helpers' VG_* and VALGRIND*) expects
# something of that Valgrind even when it starts no oracle (the folder of
# DHAT's viewer in memtrack's end-of-run text): it runs against every
# version too.
VERSION_NAMES = re.compile(r"\b(VG_VERSION|VG_TOOLDIR|VG_BINDIR|VG_CONF|VG_PREFIX|VALGRIND_INCLUDE|VALGRIND)\b")


def version_readers(test_dir=HERE):
    """{"tests/test_x.py::test_f", "tests/test_x.py::TestC::test_f", ...}:
    the test functions whose source names the Valgrind in use."""
    import ast
    out = set()
    for path in sorted(Path(test_dir).glob("test_*.py")):
        src = path.read_text()
        rel = f"tests/{path.name}"

        def visit(body, prefix):
            for node in body:
                if isinstance(node, ast.ClassDef):
                    visit(node.body, prefix + [node.name])
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    if VERSION_NAMES.search(ast.get_source_segment(src, node) or ""):
                        out.add("::".join([rel, *prefix, node.name]))
        visit(ast.parse(src).body, [])
    return out


def no_oracle_ids():
    """The node ids tests/no_oracle_tests.txt lists."""
    return _read_ids(NO_ORACLE_LIST)


def main(argv):
    if len(argv) == 3 and argv[0] == "--no-oracle":
        return write_no_oracle(argv[1], argv[2])
    if len(argv) != 1:
        sys.stderr.write("usage: tests/tiers.py JUNIT.xml > tests/slow_tests.txt\n"
                         "       tests/tiers.py --no-oracle TOOLLOG JUNIT.xml > tests/no_oracle_tests.txt\n")
        return 2
    times = from_junit(argv[0])
    slow = sorted(k for k, t in times.items() if t >= SLOW_SECONDS)
    quick = sum(t for t in times.values() if t < SLOW_SECONDS)
    print("# The slow tier (tests/tiers.py): tests a whole-suite run measured at "
          f"{SLOW_SECONDS} s or more.")
    print(f"# {len(slow)} of {len(times)} tests; {sum(times[k] for k in slow):.0f} s of test time slow, "
          f"{quick:.0f} s quick. Made by `make slow-list`.")
    for k in slow:
        print(k)
    return 0


def write_no_oracle(log_path, junit):
    times = from_junit(junit)
    _, oracle = oracle_tests(log_path)
    free = sorted(k for k in times if k not in oracle)
    print("# Tests that compared with no oracle of the Valgrind in use and built nothing against it "
          "(tests/tiers.py):")
    print(f"# `make check-versions` leaves them out. {len(free)} of {len(times)} tests, "
          f"{sum(times[k] for k in free):.0f} s of {sum(times.values()):.0f} s of test time. "
          "Made by `make slow-list`.")
    for k in free:
        print(k)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
