"""pytest setup for the memtrack suite: the build must be there (the suite
fails, never skips, when it is not), test clients are compiled once per
session, and every test runs in its own temporary directory."""
import pytest

import helpers


def pytest_addoption(parser):
    parser.addoption("--tier", choices=("quick", "slow", "all"), default="all",
                     help="quick: leave out the tests tests/slow_tests.txt lists (make check); slow: "
                          "only those (make check-slow); all (the default): every test (tests/tiers.py)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "version_independent: the Valgrind in use cannot change what this test checks (no oracle, no "
        "build against it: static checks of the sources, the scripts on bad input, the Debian package, "
        "which builds against the system's Valgrind whatever the build tree uses); `make check-versions` "
        "leaves these out, the system's `make check` runs them")


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
    skipped: the other make target runs them). An arm64 build under qemu
    (helpers.EMULATED): the tests that cannot run there are skipped with
    the reason tests/arm64_select.py gives; on any arm64 build, the ones
    with no arm64 meaning (its NO_ARM64)."""
    tier = config.getoption("--tier")
    if tier != "all":
        import tiers

        slow = tiers.slow_ids()
        keep = [it for it in items if (it.nodeid in slow) == (tier == "slow")]
        gone = [it for it in items if (it.nodeid in slow) != (tier == "slow")]
        if gone:
            config.hook.pytest_deselected(items=gone)
            items[:] = keep
    if helpers.VG_CONF.get("VG_PLATFORM") != "arm64-linux":
        return
    import arm64_select

    for item in items:
        why = arm64_select.skip_reason(item.nodeid, helpers.EMULATED)
        if why:
            item.add_marker(pytest.mark.skip(reason=why))
