"""tests/tiers.py's measurement of which tests compare with an oracle of
the Valgrind in use (what `make check-versions` runs against the other
versions): the rule for one process, and how a run's log gives the tests,
through fixtures, caches and parameters."""
import json

import pytest

import tiers

pytestmark = pytest.mark.version_independent


@pytest.mark.parametrize("argv, oracle", [
    (["/usr/bin/valgrind", "--tool=memcheck", "--leak-check=full", "./a"], True),
    (["/usr/bin/valgrind", "-q", "./a"], True),  # valgrind's default tool is memcheck
    (["/w/scripts/vg-in-place", "--tool=dhat", "./a"], True),
    (["/w/scripts/vg-in-place", "--tool=massif", "./a"], True),
    (["/w/scripts/vg-in-place", "--tool=none", "./a"], True),
    (["/w/scripts/vg-in-place", "--leak-check=full", "./a"], False),  # memtrack
    (["/w/scripts/vg-in-place", "--tool=memtrack", "./a"], False),
    (["/w/scripts/vg-in-place", "--tool=mtunit", "vec"], False),
    (["/home/u/.local/bin/memtrack", "./a"], False),
    (["/usr/bin/ms_print", "massif.out.1"], True),
    (["/usr/bin/callgrind_annotate", "x.out"], True),
    (["/w/versions/sid/configure", "-q"], True),
    (["make", "install"], True),
    (["/usr/bin/python3", "/w/scripts/memtrack_print", "p.json"], False),
    (["cargo", "memtrack", "test"], False),
    (["gcc", "-g", "-o", "x", "x.c"], False),
    (["ls", "/usr/libexec/valgrind"], False),
    (["/bin/sh", "-c", "cd /tmp && exec /usr/bin/valgrind ./a"], True),
    (["/bin/sh", "-c", "valgrind --tool=memtrack ./a | ms_print /dev/stdin"], True),
    (["/bin/sh", "-c", "valgrind --tool=memtrack ./a > out"], False),
    (["/bin/sh", "-c", "echo 'unbalanced"], False),
    (["sh", "-c", 'exec 3>"$0"; exec "$@"', "out.xml", "/w/scripts/vg-in-place", "--tool=memcheck", "./a"], True),
    (["sh", "-c", 'exec 3>"$0"; exec "$@"', "out.xml", "/w/scripts/vg-in-place", "./a"], False),
])
def test_one_process(argv, oracle):
    assert tiers.is_oracle_run(argv) is oracle


def _log(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_a_runs_log_gives_the_oracle_tests(tmp_path):
    m = "tests/test_m.py"
    log = tmp_path / "log.jsonl"
    dhat = ["vg-in-place", "--tool=dhat", "c"]
    mt = ["vg-in-place", "c"]
    _log(log, [
        # Its own run.
        {"uses": f"{m}::test_own", "fixtures": ["workdir"]},
        {"test": f"{m}::test_own", "argv": dhat},
        # memtrack only (but its code reads which Valgrind is in use, below).
        {"uses": f"{m}::test_plain", "fixtures": ["workdir"]},
        {"test": f"{m}::test_plain", "argv": mt},
        # A module fixture ran DHAT while test_a was being set up; test_b
        # uses it later; test_c uses another fixture of the same name in
        # another module.
        {"uses": f"{m}::test_a", "fixtures": ["prof", "workdir"]},
        {"test": f"{m}::test_a", "fixture": ["prof", "module", m], "argv": dhat},
        {"uses": f"{m}::test_b", "fixtures": ["prof"]},
        {"uses": "tests/test_n.py::test_c", "fixtures": ["prof"]},
        {"test": "tests/test_n.py::test_c", "fixture": ["prof", "module", "tests/test_n.py"], "argv": mt},
        # A cache hit.
        {"uses": f"{m}::test_hit", "fixtures": []},
        {"test": f"{m}::test_hit", "argv": ["valgrind", "--tool=memcheck"], "cached": True},
        # One parameter ran the oracle, the other read the run it left.
        {"uses": f"{m}::test_p[x]", "fixtures": []},
        {"test": f"{m}::test_p[x]", "argv": dhat},
        {"uses": f"{m}::test_p[y]", "fixtures": []},
        "not json",
    ])
    log.write_text(log.read_text() + "{broken\n")
    tests, oracle = tiers.oracle_tests(log, readers={f"{m}::test_plain"})
    assert tests == {f"{m}::test_own", f"{m}::test_plain", f"{m}::test_a", f"{m}::test_b",
                     "tests/test_n.py::test_c", f"{m}::test_hit", f"{m}::test_p[x]", f"{m}::test_p[y]"}
    assert oracle == {f"{m}::test_own", f"{m}::test_a", f"{m}::test_b", f"{m}::test_hit",
                      f"{m}::test_p[x]", f"{m}::test_p[y]", f"{m}::test_plain"}
    _, oracle = tiers.oracle_tests(log, readers=set())
    assert f"{m}::test_plain" not in oracle


def test_the_list_leaves_out_what_compares_and_only_that():
    """The list in the tree: no test that compares with DHAT, memcheck or
    massif in every case is in it (memcheck's leak cases, DHAT's sites and
    totals, massif's files), while tests that check memtrack against
    figures of their own are (the peak client's hand-counted totals, option
    parsing)."""
    free = tiers.no_oracle_ids()
    assert free, "tests/no_oracle_tests.txt is empty or missing"
    for prefix in ("tests/test_leak_cases.py", "tests/test_profile_dhat.py",
                   "tests/test_dhat_totals.py::test_small_client_totals_equal_dhat",
                   "tests/test_dhat_totals.py::test_real_program_totals_equal_dhat",
                   "tests/test_massif_out.py::test_small_clients_same_as_massif",
                   "tests/test_stress.py::test_oracles_see_every_kind_of_leak",
                   "tests/test_leak_xml.py::test_xml_fd_like_memcheck",
                   # Starts no oracle, but expects the folder of the Valgrind in use.
                   "tests/test_messages.py::test_end_of_run_names_every_file_and_how_to_read_it"):
        assert not [t for t in free if t.startswith(prefix)], prefix
    assert "tests/test_dhat_totals.py::test_peak_client_figures_follow_from_its_allocations" in free
    assert [t for t in free if t.startswith("tests/test_options.py")]
