"""Unit tests of the runtime containers (Vec, Pool, PtrMap) and the block
index (BlockIndex): memtrack/mt_unit.cpp, built by make as a Valgrind tool of
its own (mtunit, instrumenting nothing, as the none tool) from the same
sources and core library as memtrack, so that it tests the freestanding
code on the core's allocator. Its start-up runs every test and exits before
the client does: one line per test, one per failed check, and its status.
"""
import re

import pytest

import helpers

TESTS = ["vec", "pool", "ptrmap", "blockindex-edges", "blockindex-random", "blockindex-millions"]
TOOL = helpers.BUILDDIR / ".in-place" / f"mtunit-{helpers.VG_CONF.get('VG_PLATFORM', 'amd64-linux')}"


def run_unit(tmp_path, *opts):
    assert TOOL.exists(), f"{TOOL} is missing: {helpers.FIX_HINT}"
    return helpers.run_tool("mtunit", ["-q", *opts], ["/bin/true"], tmp_path)


def lines(r):
    return [re.sub(r"^==\d+== ?", "", line) for line in r.stderr.splitlines()]


@pytest.fixture(scope="module")
def unit_run(tmp_path_factory):
    return run_unit(tmp_path_factory.mktemp("mtunit"))


@pytest.mark.parametrize("name", TESTS)
def test_unit(unit_run, name):
    out = lines(unit_run)
    failed = [line for line in out if line.startswith(f"FAIL {name}:")]
    assert not failed, "\n".join(failed)
    assert any(line.startswith(f"ok {name} (") for line in out), f"test {name} did not run:\n{unit_run.stderr}"


def test_unit_status(unit_run):
    # Every check held, and the tool says so with its status.
    summary = [line for line in lines(unit_run) if line.startswith("mtunit: ")]
    assert summary and re.fullmatch(r"mtunit: \d+ checks, 0 failed", summary[-1]), unit_run.stderr
    assert unit_run.returncode == 0, unit_run


def test_unit_failure_is_seen(tmp_path):
    # A failing check (--mtunit-fail=yes adds one) is named and fails the run.
    r = run_unit(tmp_path, "--mtunit-fail=yes")
    assert r.returncode == 1, r
    assert "FAIL fail-on-purpose: 1 + 1 == 3 (mt_unit.cpp:" in r.stderr
    assert re.search(r"mtunit: \d+ checks, 1 failed", r.stderr)
