"""Leak suppressions, against memcheck: --gen-suppressions=all writes
memcheck's entries with the tool name memtrack ("Memtrack:Leak" and a
match-leak-kinds line) for the printed records only; Memtrack:Leak entries
suppress what memcheck's Memcheck:Leak entries suppress (kinds, frames,
wildcards, "..."), and the LEAK SUMMARY's suppressed line, the ERROR
SUMMARY's suppressed counts and -s's used_suppression lines are memcheck's.

Hand-written files: tests/clients/leak_possible.supp, leak_kinds.supp,
leak_all.supp (memtrack's spelling; memcheck gets a copy saying Memcheck).
"""
import re

import pytest

import helpers
import leak_helpers

FULL_ALL = ["--leak-check=full", "--show-leak-kinds=all"]
GEN = ["--gen-suppressions=all"]


@pytest.mark.parametrize("client", ["leak_cases", "leak_cxx", "leak_threads"])
def test_generated_like_memcheck(client, clients, workdir):
    mt, mc = leak_helpers.run_pair_cached(FULL_ALL + GEN, [clients.path(client)], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    mine = helpers.gen_suppressions(mt.stderr)
    assert mine == leak_helpers.gen_suppressions_as_memtrack(mc.stderr)
    # One entry per printed record, each with the kind of its record.
    assert len(mine) == len(a.exit_records)
    words = {v: k for k, v in leak_helpers.KIND_WORD.items()}
    for supp, rec in zip(mine, a.exit_records):
        lines = [l.strip() for l in supp.splitlines()]
        assert lines[2] == "Memtrack:Leak"
        assert lines[3] == f"match-leak-kinds: {words[rec.kind]}"


PRINTED = [
    (["--leak-check=full"], 9),
    (["--leak-check=full", "--show-leak-kinds=definite"], 3),
    (["--leak-check=summary"], 0),
]


@pytest.mark.parametrize("opts,n", PRINTED, ids=[" ".join(p[0]) for p in PRINTED])
def test_generated_only_for_printed_records(opts, n, clients, workdir):
    mt, mc = leak_helpers.run_pair(opts + GEN, [clients.path("leak_cases")], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    mine = helpers.gen_suppressions(mt.stderr)
    assert mine == leak_helpers.gen_suppressions_as_memtrack(mc.stderr)
    assert len(mine) == len(a.exit_records) == n


def _write(path, entries):
    path.write_text("\n".join(entries) + "\n")
    return path


def test_generated_suppressions_suppress_everything(clients, workdir):
    """Each tool's generated file fed back to it: nothing is left, and the
    suppressed counts are memcheck's."""
    prog = clients.path("leak_cases")
    mt, mc = leak_helpers.run_pair_cached(FULL_ALL + GEN, [prog], workdir)
    (workdir / "memtrack").mkdir()
    (workdir / "memcheck").mkdir()
    mt_file = _write(workdir / "memtrack" / "gen.supp", helpers.gen_suppressions(mt.stderr))
    mc_file = _write(workdir / "memcheck" / "gen.supp", helpers.gen_suppressions(mc.stderr))
    with_mt, with_mc = leak_helpers.run_pair(FULL_ALL + [f"--suppressions={mt_file}"], [prog], workdir,
                                             mc_opts=FULL_ALL + [f"--suppressions={mc_file}"])
    a, b = leak_helpers.assert_same_leak_output(with_mt, with_mc)
    assert a.exit_records == []
    assert a.summary_numbers() == {
        "definitely lost": (0, 0), "indirectly lost": (0, 0), "possibly lost": (0, 0),
        "still reachable": (0, 0), "suppressed": (240, 15)}
    assert helpers.parse_error_summary(with_mt.stderr) == {
        "errors": 0, "contexts": 0, "suppressed": 9, "suppressed_contexts": 9}


# (suppression file, client, exit LEAK SUMMARY numbers, suppressed errors)
HANDWRITTEN = [
    ("leak_possible", "leak_cases",
     {"definitely lost": (48, 3), "indirectly lost": (32, 2), "possibly lost": (0, 0),
      "still reachable": (64, 4), "suppressed": (96, 6)}, 6),
    ("leak_kinds", "leak_cases",
     {"definitely lost": (0, 0), "indirectly lost": (0, 0), "possibly lost": (96, 6),
      "still reachable": (64, 4), "suppressed": (80, 5)}, 3),
    ("leak_all", "leak_graph",
     {"definitely lost": (0, 0), "indirectly lost": (0, 0), "possibly lost": (72, 1),
      "still reachable": (0, 0), "suppressed": (1560, 27)}, 5),
]


def _copies(workdir, name):
    """The file as memtrack reads it and memcheck's copy, in two folders
    under the same name (so that -s lines name the same file)."""
    text = (helpers.CLIENT_SRC / f"{name}.supp").read_text()
    assert "Memtrack:Leak" in text and "Memcheck" not in text
    out = []
    for tool, spelled in (("memtrack", text), ("memcheck", text.replace("Memtrack:Leak", "Memcheck:Leak"))):
        d = workdir / tool
        d.mkdir(exist_ok=True)
        out.append(_write(d / f"{name}.supp", [spelled.rstrip("\n")]))
    return out


@pytest.mark.parametrize("supp,client,summary,suppressed", HANDWRITTEN, ids=[h[0] for h in HANDWRITTEN])
def test_handwritten_like_memcheck(supp, client, summary, suppressed, clients, workdir):
    mt_file, mc_file = _copies(workdir, supp)
    prog = clients.path(client)
    mt, mc = leak_helpers.run_pair(FULL_ALL + [f"--suppressions={mt_file}"], [prog], workdir,
                                   mc_opts=FULL_ALL + [f"--suppressions={mc_file}"])
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert a.summary_numbers() == summary
    assert helpers.parse_error_summary(mt.stderr)["suppressed"] == suppressed


_USED = re.compile(r"^--\d+-- used_suppression: +(.*)$", re.M)


def _used(stderr, workdir):
    return [re.sub(r"/(memtrack|memcheck)/", "/TOOL/", u.replace(str(workdir), "WORKDIR"))
            for u in _USED.findall(stderr)]


def test_used_suppressions_like_memcheck(clients, workdir):
    """-s lists each used suppression with its count and, for leak
    suppressions, memcheck adds what the last search suppressed:
    'used_suppression:      6 name file:4 suppressed: 96 bytes in 6 blocks'."""
    mt_file, mc_file = _copies(workdir, "leak_possible")
    prog = clients.path("leak_cases")
    mt, mc = leak_helpers.run_pair(FULL_ALL + ["-s", f"--suppressions={mt_file}"], [prog], workdir,
                                   mc_opts=FULL_ALL + ["-s", f"--suppressions={mc_file}"])
    leak_helpers.assert_same_leak_output(mt, mc)
    assert _used(mc.stderr, workdir) == [
        "6 leak_cases_only_possible WORKDIR/TOOL/leak_possible.supp:4 suppressed: 96 bytes in 6 blocks"]
    assert _used(mt.stderr, workdir) == _used(mc.stderr, workdir)


def test_memcheck_suppression_files_work_unchanged(clients, workdir):
    """Teams already have memcheck suppression files: memcheck's own
    generated file (Memcheck:Leak entries with match-leak-kinds), given
    unchanged to both tools, suppresses the same records and bytes under
    memtrack as under memcheck, and so does a mixed file whose entries name
    both tools ('Memcheck,Memtrack:Leak') or kinds memtrack lacks (which it
    must skip, not choke on)."""
    prog = clients.path("leak_cases")
    _, mc = leak_helpers.run_pair_cached(FULL_ALL + GEN, [prog], workdir)
    blocks = helpers.gen_suppressions(mc.stderr)
    assert blocks and all("Memcheck:Leak" in b for b in blocks), mc
    supp = _write(workdir / "memcheck.supp", blocks)
    with_mt, with_mc = leak_helpers.run_pair(FULL_ALL + [f"--suppressions={supp}"], [prog], workdir)
    a, b = leak_helpers.assert_same_leak_output(with_mt, with_mc)
    assert a.exit_records == []
    assert a.summary_numbers()["suppressed"] == (240, 15)
    assert helpers.parse_error_summary(with_mt.stderr)["suppressed"] == 9

    # Only the 'possible' entries, under a two-tool name, plus a memcheck
    # kind memtrack does not have.
    possible = [b for b in blocks if "match-leak-kinds: possible" in b]
    assert possible
    mixed = [b.replace("Memcheck:Leak", "Memcheck,Helgrind:Leak") for b in possible]
    mixed.append("{\n   addr_entry\n   Memcheck:Addr4\n   fun:main\n}")
    supp2 = _write(workdir / "mixed.supp", mixed)
    with_mt, with_mc = leak_helpers.run_pair(FULL_ALL + [f"--suppressions={supp2}"], [prog], workdir)
    leak_helpers.assert_same_leak_output(with_mt, with_mc)
    assert with_mt.returncode == 0, with_mt


def _supp_tmpdir(workdir):
    """A TMPDIR of the test's own, to see that no temporary file is left."""
    d = workdir / "tmp"
    d.mkdir(exist_ok=True)
    return {"TMPDIR": str(d)}, d


LOADED_WHILE_RUNNING = [
    # memcheck's nanoleak_dynsupp: the file arrives by VALGRIND_CLO_CHANGE
    # only. Five errors before it (the mid-run search's leak record one of
    # them), five suppressed after it, plus the exit search's leak record.
    ("running", [], 5, 6),
    # Given on the command line too: the mid-run search's record is
    # suppressed as well; the core holds every entry twice, and the first
    # copy was used by the mid-run search only (-s shows its count without
    # "suppressed:", which covers the latest search alone).
    ("also_on_command_line", ["--suppressions=SUPP"], 4, 7),
]


@pytest.mark.parametrize("opts,errors,suppressed", [x[1:] for x in LOADED_WHILE_RUNNING],
                         ids=[x[0] for x in LOADED_WHILE_RUNNING])
def test_memcheck_entries_loaded_while_running(opts, errors, suppressed, clients, workdir):
    """A memcheck suppression file the program loads itself with
    VALGRIND_CLO_CHANGE("--suppressions=FILE") applies from then on, as under
    memcheck, whatever its kinds (Leak, Free for bad and mismatched frees,
    FishyValue, Mempool): the errors made before it stay, the same errors
    made after it and the leak records at exit are suppressed; the error
    counts, the loss records, the LEAK SUMMARY and -s's used_suppression
    lines (file and line of each entry) are memcheck's."""
    supp = helpers.CLIENT_SRC / "supp_dynamic.supp"
    assert "Memtrack" not in supp.read_text()
    env, tmp = _supp_tmpdir(workdir)
    opts = FULL_ALL + ["-s"] + [o.replace("SUPP", str(supp)) for o in opts]
    mt, mc = leak_helpers.run_pair(opts, [clients.path("supp_dynamic"), str(supp)], workdir, env=env)
    leak_helpers.assert_same_leak_output(mt, mc)
    assert _used(mt.stderr, workdir) == _used(mc.stderr, workdir)
    # What memcheck does with it, so that the comparison means something.
    counts = helpers.parse_error_summary(mc.stderr)
    assert (counts["errors"], counts["suppressed"]) == (errors, suppressed), mc
    assert leak_helpers.parse(mc.stderr).summary_numbers()["suppressed"] == (1100, 2)
    assert list(tmp.iterdir()) == []


def test_memcheck_entries_keep_their_place(clients, workdir):
    """Entries adopted from memcheck files given on the command line are
    reported by -s under their own file and line, as memcheck reports them,
    and the temporary copies are gone by the end of the run."""
    supp = helpers.CLIENT_SRC / "supp_dynamic.supp"
    env, tmp = _supp_tmpdir(workdir)
    mt, mc = leak_helpers.run_pair(FULL_ALL + ["-s", f"--suppressions={supp}"], [clients.path("supp_dynamic")],
                                   workdir, env=env)
    leak_helpers.assert_same_leak_output(mt, mc)
    used = _used(mc.stderr, workdir)
    assert any(f"leak_of_leak_block {supp}:7 suppressed: 1,100 bytes in 2 blocks" in u for u in used), mc
    assert _used(mt.stderr, workdir) == used
    assert list(tmp.iterdir()) == []
