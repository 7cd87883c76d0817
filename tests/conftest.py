"""pytest setup for the memtrack suite: the build must be there (the suite
fails, never skips, when it is not), test clients are compiled once per
session, and every test runs in its own temporary directory."""
import os

import pytest

import helpers
import tiers


def pytest_addoption(parser):
    parser.addoption("--tier", choices=("quick", "slow", "all"), default="all",
                     help="quick: leave out the tests tests/slow_tests.txt lists (make check); slow: "
                          "only those (make check-slow); all (the default): every test (tests/tiers.py)")
    parser.addoption("--versions", action="store_true",
                     help="what make check-versions runs against another Valgrind: leave out the tests "
                          "marked version_independent and those tests/no_oracle_tests.txt lists (tests/tiers.py)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "version_independent: the Valgrind in use cannot change what this test checks (no oracle, no "
        "build against it: static checks of the sources, the scripts on bad input, the Debian package, "
        "which builds against the system's Valgrind whatever the build tree uses); `make check-versions` "
        "leaves these out, the system's `make check` runs them")
    config.addinivalue_line(
        "markers",
        "oracle: compares with an oracle of the Valgrind in use that is no process the test starts "
        "(DHAT's dh_view.html in the browser); make check-versions runs it whatever "
        "tests/no_oracle_tests.txt says")
    if os.environ.get("MEMTRACK_TEST_TOOLLOG"):
        tiers.start_log(os.environ["MEMTRACK_TEST_TOOLLOG"])


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """MEMTRACK_TEST_TOOLLOG: the runs a fixture makes count for every test
    that uses it (tests/tiers.py)."""
    tiers.fixture_started(fixturedef.argname, fixturedef.scope, fixturedef.baseid)
    try:
        yield
    finally:
        tiers.fixture_done()


def pytest_runtest_setup(item):
    tiers.test_uses(item.nodeid, item.fixturenames)


@pytest.fixture(scope="session", autouse=True)
def built_tool():
    problems = helpers.build_problems()
    if problems:
        pytest.fail(
            f"memtrack build tree {helpers.BUILDDIR} is not usable ({helpers.FIX_HINT}):\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )
    return helpers.BUILDDIR


@pytest.fixture(scope="session")
def clients(built_tool):
    """clients.path('name') compiles tests/clients/name.c|.cpp (cached by
    mtime in <builddir>/tests/.build) and returns the binary's path."""
    return helpers.Clients()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh directory for the test, also its cwd, so nothing litters the
    repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pytest_collection_modifyitems(config, items):
    """--tier: the quick or the slow tier only, the others deselected (not
    skipped: the other make target runs them). --versions: the tests that
    compare with an oracle or build against the Valgrind in use (the others
    are deselected: the system's run has them). An arm64 build under qemu
    (helpers.EMULATED): the tests that cannot run there are skipped with
    the reason tests/arm64_select.py gives; on any arm64 build, the ones
    with no arm64 meaning (its NO_ARM64)."""
    tier = config.getoption("--tier")
    if tier != "all":
        slow = tiers.slow_ids()
        keep = [it for it in items if (it.nodeid in slow) == (tier == "slow")]
        gone = [it for it in items if (it.nodeid in slow) != (tier == "slow")]
        if gone:
            config.hook.pytest_deselected(items=gone)
            items[:] = keep
    if config.getoption("--versions"):
        free = tiers.no_oracle_ids()

        def left_out(it):
            if it.get_closest_marker("oracle"):
                return False
            return it.get_closest_marker("version_independent") is not None or it.nodeid in free

        gone = [it for it in items if left_out(it)]
        if gone:
            config.hook.pytest_deselected(items=gone)
            items[:] = [it for it in items if not left_out(it)]
    if helpers.VG_CONF.get("VG_PLATFORM") != "arm64-linux":
        return
    import arm64_select

    for item in items:
        why = arm64_select.skip_reason(item.nodeid, helpers.EMULATED)
        if why:
            item.add_marker(pytest.mark.skip(reason=why))
