"""The stress suite (issue 7): random programs from tests/stressgen.py, each
run under memtrack, DHAT and memcheck; every figure the oracles print must
be memtrack's (tests/stress_check.py lists them: DHAT's Total / At t-gmax /
At t-end / Reads / Writes lines, every site's tb, tbk, gb, gbk, eb, ebk, rb,
wb, mb range and histogram in the profiles, memcheck's HEAP SUMMARY, loss
records with their stacks, LEAK SUMMARY and ERROR SUMMARY, and the profile's
leak keys against memcheck's LEAK SUMMARY).

A handful of fixed seeds here (C and C++, -O0 and -O2); bench/stress runs
hundreds. A seed's program is the same on every machine, so a failure here
reproduces with `python3 tests/stressgen.py SEED -o stress_SEED.c`.
"""
import copy
import os
import re
import subprocess
import sys

import pytest

import helpers
import leak_helpers
import stress_check
import tiers
import stressgen

# (seed, optimisation): odd seeds are C++. Chosen so that together they use
# every allocation function and every operation of the generator
# (test_seeds_cover_the_generator); 4, 22, 11 and 19 run 3 threads, 24, 37
# and 22 end with a thread blocked at exit holding blocks on its stack.
SEEDS = [(4, "-O0"), (24, "-O0"), (11, "-O0"), (37, "-O0"), (22, "-O2"), (19, "-O2")]

_outcomes = {}


def _outcome(seed, opt, tmp_path_factory):
    """One run of a seed's program per session (shared by the tests)."""
    if (seed, opt) not in _outcomes:
        wd = tmp_path_factory.mktemp(f"stress{seed}{opt}")
        _outcomes[(seed, opt)] = (stress_check.check_seed(seed, wd, opt=opt), wd)
    else:
        for r in _outcomes[(seed, opt)][0].runs.values():
            tiers.ran(r.argv, cached=True)
    return _outcomes[(seed, opt)]


@pytest.mark.parametrize("seed,opt", SEEDS, ids=[f"{s}{o}" for s, o in SEEDS])
def test_memtrack_agrees_with_dhat_and_memcheck(seed, opt, built_tool, tmp_path_factory):
    out, wd = _outcome(seed, opt, tmp_path_factory)
    print(out.report())
    assert not out.disagreements, (
        f"seed {seed} ({opt}): {len(out.disagreements)} disagreements "
        f"(program {wd / out.program.filename}):\n" + stress_check.table(out.disagreements))


@pytest.mark.parametrize("seed,opt", SEEDS, ids=[f"{s}{o}" for s, o in SEEDS])
def test_oracles_see_every_kind_of_leak(seed, opt, built_tool, tmp_path_factory):
    """What the generator means to make, memcheck finds: blocks definitely
    and indirectly lost, possibly lost and still reachable, in every
    program; and DHAT sees blocks live at exit."""
    out, _ = _outcome(seed, opt, tmp_path_factory)
    kinds = stress_check.oracle_leak_kinds(out)
    for k in ("definitely lost", "indirectly lost", "possibly lost", "still reachable"):
        assert kinds.get(k, (0, 0))[1] > 0, f"seed {seed}: memcheck found no block {k}: {kinds}"
    dh = helpers.parse_summary(out.runs["dhat"].stderr)
    assert dh["end_blocks"] > 0 and dh["total_blocks"] > dh["end_blocks"], dh


def test_heuristics_are_exercised(built_tool, tmp_path_factory):
    """The C++ programs keep some blocks only through pointers memcheck's
    heuristics accept (new[] with a cookie, the second base of an object):
    the suite's LEAK SUMMARYs show 'of which reachable via heuristic'."""
    found = set()
    for seed, opt in SEEDS:
        if seed % 2:
            out, _ = _outcome(seed, opt, tmp_path_factory)
            s = leak_helpers.parse(out.runs["memcheck"].stderr).leak_summary or []
            found |= {l.split(":")[0].strip() for l in s if l.startswith(" " * 24)}
    assert {"newarray", "multipleinheritance"} <= found, found


def test_generator_is_reproducible():
    """The same seed gives the same program, in another process with
    another hash seed too; different seeds give different programs."""
    a = stressgen.generate(11)
    assert a.source == stressgen.generate(11).source
    p = subprocess.run([sys.executable, str(helpers.REPO / "tests" / "stressgen.py"), "11"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert p.returncode == 0, p.stderr
    assert p.stdout == a.source
    assert a.source != stressgen.generate(12).source
    assert (a.lang, stressgen.generate(12).lang) == ("cpp", "c")


def test_seeds_cover_the_generator():
    """Together the suite's seeds call every allocation and deallocation
    function, realloc in all its forms, and every access and pointer
    operation the generator knows."""
    used = {}
    for seed, _ in SEEDS:
        for k, v in stressgen.generate(seed).counts.items():
            if isinstance(v, int):
                used[k] = used.get(k, 0) + v
    want = set(stressgen.C_KINDS) | set(stressgen.CXX_KINDS) | {
        "free", "delete", "realloc_grow", "realloc_shrink", "realloc_same", "realloc_to_0",
        "write_bytes", "write_words", "memset", "memcpy", "write_string", "read_bytes",
        "read_words", "strlen", "store_pointer", "store_interior_pointer", "global_pointer",
        "global_interior_pointer", "ring", "leak_definite", "leak_indirect", "leak_possible",
        "leak_reachable", "keeper", "thread_stack_pointer", "thread_stack_interior_pointer"}
    assert not want - set(used), sorted(want - set(used))
    assert any(stressgen.generate(s).counts["threads"] == 3 for s, _ in SEEDS)
    phases = {p for s, _ in SEEDS for p in stressgen.generate(s).counts["phases"]}
    assert phases == {"turn", "alloc", "free"}


def test_comparison_can_fail(built_tool, tmp_path_factory, tmp_path):
    """The comparison is not vacuous: one figure changed in memtrack's
    output or profile gives exactly the disagreement expected."""
    seed, opt = SEEDS[0]
    out, wd = _outcome(seed, opt, tmp_path_factory)
    assert not out.disagreements, "test_memtrack_agrees_with_dhat_and_memcheck fails for this seed"
    prog = out.program

    def rows_with(mt_stderr=None, mc_stderr=None, profile=None):
        runs = {k: copy.copy(v) for k, v in out.runs.items()}
        if mt_stderr:
            runs["memtrack"].stderr = mt_stderr(runs["memtrack"].stderr)
        if mc_stderr:
            runs["memcheck"].stderr = mc_stderr(runs["memcheck"].stderr)
        mt_json = wd / "mt.json"
        if profile:
            text = profile((wd / "mt.json").read_text())
            mt_json = tmp_path / "mt.json"
            mt_json.write_text(text)
        return [d.figure for d in stress_check.compare(prog, runs, mt_json, wd / "dh.json")]

    assert rows_with() == []
    # DHAT's line: one byte more.
    def more(s):
        return re.sub(r"(Total:\s+)([\d,]+)", lambda m: m[1] + f"{int(m[2].replace(',', '')) + 1:,}", s, count=1)
    got = rows_with(mt_stderr=more)
    assert "Total bytes" in got, got
    # memcheck's summary: one more block still reachable.
    def more_blocks(s):
        return re.sub(r"(still reachable: [\d,]+ bytes in )([\d,]+)",
                      lambda m: m[1] + str(int(m[2].replace(",", "")) + 1), s)
    got = rows_with(mc_stderr=more_blocks)
    assert "LEAK SUMMARY still reachable" in got, got
    # A site's tb in memtrack's profile.
    def tb(text):
        return text.replace('"tb":', '"tb":1', 1)  # "tb":43 -> "tb":143
    got = rows_with(profile=tb)
    assert any(f.startswith("tb of ") for f in got), got
