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
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST = HERE / "slow_tests.txt"
# Tests at or above this many seconds are slow. 1.0 s is about a memtrack
# run and an oracle run of a small client plus their comparison: the quick
# tier keeps those, and leaves out what runs more.
SLOW_SECONDS = 1.0


def slow_ids():
    """The node ids tests/slow_tests.txt lists (comments and blank lines
    left out)."""
    if not LIST.exists():
        return set()
    out = set()
    for line in LIST.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.add(line)
    return out


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


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: tests/tiers.py JUNIT.xml > tests/slow_tests.txt\n")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
