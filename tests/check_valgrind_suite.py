"""Valgrind's own regression tests, run under the real tool and under
memtrack and compared (issue 17): one pytest test per selected .vgtest and
mode. tests/valgrind_suite.py is the engine (where the tests come from,
which are selected, how they are built, run and compared, and what cannot
agree); docs/manual.md, "Valgrind's own tests", explains it for users.

`make check-valgrind-suite` runs this file. Its name does not match
test_*.py, so `make check` (pytest tests/) leaves it out: the first run
fetches Debian's valgrind source package and runs Valgrind's configure, and
the whole takes minutes. A failing test's message starts with the first
part that differs and its first differing line, which pytest's short
summary shows (one line per failing test and mode).
"""
import concurrent.futures

import pytest

import valgrind_suite as vs


def _collect():
    try:
        build = vs.Build()
        tests = build.prepare()
    except vs.SuiteError as e:
        return None, [], str(e)
    params = [(t, m) for t in tests for m in vs.MODES if vs.mode_applies(t, m)]
    return build, params, None


BUILD, PARAMS, PROBLEM = _collect()


def test_suite_is_there():
    """The source could be fetched and the programs built (else every
    comparison below is missing: this fails instead of passing empty)."""
    assert PROBLEM is None, PROBLEM
    assert PARAMS, "no test selected"


_LEAK_PARTS = ("loss records (headline and stack)", "LEAK SUMMARY")


@pytest.mark.parametrize("test,mode", PARAMS, ids=[f"{t.id}-{m}" for t, m in PARAMS])
def test_same_as_real_tool(test, mode, tmp_path):
    why_not = BUILD.prereq(test)
    if why_not:
        # The test's own prereq: (a compiler feature, another platform):
        # vg_regtest skips it the same way.
        pytest.skip(why_not)
    def both(where):
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            ref = pool.submit(vs.run, BUILD, test, test.tool, mode, where / test.tool)
            mt = pool.submit(vs.run, BUILD, test, "memtrack", mode, where / "memtrack")
            return ref.result(), mt.result()

    ref, mt = both(tmp_path)
    print(f"===== {test.tool}\n{ref}\n\n===== memtrack\n{mt}")
    diffs = vs.compare(test, mode, ref, mt, BUILD.src)
    if any(d.part in _LEAK_PARTS for d in diffs):
        # A word of ld.so's data (its relocation time, a root) points into a
        # big lost block in about one run in 40, for memcheck as for memtrack
        # (docs/manual.md, "Valgrind's own tests"): a leak difference gets
        # one more pair of runs, printed too; a real one shows in both.
        print(f"\n===== the leak figures differ ({diffs[0].first}): both tools run once more")
        ref, mt = both(tmp_path / "again")
        print(f"===== {test.tool}\n{ref}\n\n===== memtrack\n{mt}")
        diffs = vs.compare(test, mode, ref, mt, BUILD.src)
    # The message's first line is what pytest's short summary shows.
    assert not diffs, f"{diffs[0].part}: {diffs[0].first}\n\n" + "\n\n".join(str(d) for d in diffs)


# ---------------------------------------------------------------------------
# The comparison itself, on made-up runs: it must see a difference in each
# part it claims to compare, and CANNOT_AGREE must take out exactly what
# its reasons say.

_MC = """\
==11== Memcheck, a memory error detector
==11== Command: ./prog
==11== 
==11== Conditional jump or move depends on uninitialised value(s)
==11==    at 0x401000: main (prog.c:5)
==11== 
==11== Invalid free() / delete / delete[] / realloc()
==11==    at 0x4841000: free (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==11==    by 0x401010: main (prog.c:7)
==11==  Address 0x4a4a040 is 0 bytes inside a block of size 10 free'd
==11==    at 0x4841000: free (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==11==    by 0x401008: main (prog.c:6)
==11==  Block was alloc'd at
==11==    at 0x4842000: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==11==    by 0x401004: main (prog.c:4)
==11== 
client line
==11== 
==11== HEAP SUMMARY:
==11==     in use at exit: 8 bytes in 1 blocks
==11==   total heap usage: 2 allocs, 2 frees, 18 bytes allocated
==11== 
==11== 8 bytes in 1 blocks are definitely lost in loss record 1 of 1
==11==    at 0x4842000: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==11==    by 0x401020: main (prog.c:8)
==11== 
==11== LEAK SUMMARY:
==11==    definitely lost: 8 bytes in 1 blocks
==11==    indirectly lost: 0 bytes in 0 blocks
==11==      possibly lost: 0 bytes in 0 blocks
==11==    still reachable: 0 bytes in 0 blocks
==11==         suppressed: 0 bytes in 0 blocks
==11== 
==11== Use --track-origins=yes to see where uninitialised values come from
==11== For lists of detected and suppressed errors, rerun with: -s
==11== ERROR SUMMARY: 3 errors from 3 contexts (suppressed: 0 from 0)
"""


def _memtrack_of(mc):
    """What memtrack says for the same run: its own preamble and preload,
    no definedness error, its heap profile lines, one context less."""
    mt = mc.replace("Memcheck, a memory error detector", "Memtrack, heap profiles, leak checks and heap over time")
    mt = mt.replace("vgpreload_memcheck", "vgpreload_memtrack").replace("==11==", "==12==")
    mt = mt.replace("==12== Conditional jump or move depends on uninitialised value(s)\n"
                    "==12==    at 0x401000: main (prog.c:5)\n==12== \n", "")
    mt = mt.replace("==12== Use --track-origins=yes to see where uninitialised values come from\n", "")
    mt = mt.replace("==12== \n==12== HEAP SUMMARY:", "==12== \n==12== Total:     18 bytes in 2 blocks\n"
                    "==12== At t-gmax: 10 bytes in 1 blocks\n==12== \n==12== HEAP SUMMARY:")
    return mt.replace("3 errors from 3 contexts", "2 errors from 2 contexts")


def _compare(mc, mt, tmp_path, rc=(0, 0), vgopts="--leak-check=full"):
    t = vs.VgTest("memcheck", "memcheck/tests", "prog", {"vgopts": [vgopts], "env": [], "prog": "prog"})
    ref = vs.Run("memcheck", "valgrind ./prog", rc[0], "out\n", mc, tmp_path)
    mine = vs.Run("memtrack", "valgrind ./prog", rc[1], "out\n", mt, tmp_path)
    return [d.part for d in vs.compare(t, "as-written", ref, mine, tmp_path)]


def test_compare_same_run_agrees(tmp_path):
    """The definedness error and its hint are taken out of memcheck's run;
    its context out of the ERROR SUMMARY; memtrack's profile lines are its
    own. What remains agrees."""
    assert _compare(_MC, _memtrack_of(_MC), tmp_path) == []


@pytest.mark.parametrize("change,part", [
    (("by 0x401008: main (prog.c:6)", "by 0x401008: other (prog.c:6)"),
     "errors (headline, stacks, block descriptions)"),
    (("==12==   total heap usage: 2 allocs, 2 frees", "==12==   total heap usage: 2 allocs, 1 frees"),
     "HEAP SUMMARY"),
    (("by 0x401020: main (prog.c:8)", "by 0x401020: main (prog.c:9)"), "loss records (headline and stack)"),
    (("==12==    definitely lost: 8 bytes", "==12==    definitely lost: 9 bytes"), "LEAK SUMMARY"),
    (("2 errors from 2 contexts", "2 errors from 1 contexts"), "ERROR SUMMARY"),
    (("client line", "another line"), "program's stderr"),
    (("==12== For lists of", "==12== Something else\n==12== For lists of"), "every other line Valgrind printed"),
])
def test_compare_sees_each_part(change, part, tmp_path):
    mt = _memtrack_of(_MC)
    assert change[0] in mt
    assert _compare(_MC, mt.replace(*change), tmp_path)[:1] == [part]


def test_compare_sees_exit_status(tmp_path):
    assert _compare(_MC, _memtrack_of(_MC), tmp_path, rc=(0, 1)) == ["exit status"]


def test_compare_keeps_heap_errors_memtrack_lacks(tmp_path):
    """Only what a reason names is taken out: a free error memtrack does
    not report is a difference."""
    mt = _memtrack_of(_MC)
    start = mt.index("==12== Invalid free()")
    end = mt.index("client line")
    assert "errors (headline, stacks, block descriptions)" in _compare(_MC, mt[:start] + mt[end:], tmp_path)


def test_compare_tool_abort_cuts_both_runs(tmp_path):
    """memcheck's internal error (printed without the ==PID== prefix): its
    run is compared up to it, memtrack's as far, and the exit status not."""
    cut = _MC.index("==11== 8 bytes in 1 blocks")
    mc = _MC[:cut] + "\nMemcheck: mc_leakcheck.c:2141 (vgMemCheck_detect_memory_leaks): " \
                     "the 'impossible' happened.\n\nhost stacktrace:\n"
    assert _compare(mc, _memtrack_of(_MC), tmp_path, rc=(1, 0)) == []
    mt = _memtrack_of(_MC).replace("in use at exit: 8 bytes", "in use at exit: 9 bytes")
    assert _compare(mc, mt, tmp_path, rc=(1, 0)) == ["HEAP SUMMARY"]


def _xml(tool, errors, n):
    """A protocol-6-shaped document with the given <error> bodies."""
    body = "".join(f"<error><unique>0x{i}</unique><tid>1</tid>{e}</error>" for i, e in enumerate(errors))
    pairs = "".join(f"<pair><count>1</count><unique>0x{i}</unique></pair>" for i in range(len(errors)))
    return (f"<?xml version=\"1.0\"?>\n<valgrindoutput><protocolversion>6</protocolversion>"
            f"<protocoltool>{tool}</protocoltool><pid>1</pid><tool>{tool}</tool>"
            f"<status><state>RUNNING</state></status>{body}<status><state>FINISHED</state></status>"
            f"<errorcounts>{pairs}</errorcounts><suppcounts/>"
            f"<error_summary><errors>{n}</errors><error_contexts>{n}</error_contexts>"
            f"<suppressed>0</suppressed><suppressed_contexts>0</suppressed_contexts></error_summary>"
            f"</valgrindoutput>\n")


_FREE = ("<kind>InvalidFree</kind><what>Invalid free() / delete / delete[] / realloc()</what>"
         "<stack><frame><ip>0x1</ip><fn>free</fn></frame><frame><ip>0x2</ip><fn>main</fn>"
         "<dir>/t</dir><file>prog.c</file><line>7</line></frame></stack>")
_UNINIT = ("<kind>UninitCondition</kind><what>Conditional jump or move depends on uninitialised value(s)</what>"
           "<stack><frame><ip>0x3</ip><fn>main</fn><dir>/t</dir><file>prog.c</file><line>5</line></frame></stack>")


def _compare_xml(mc, mt, tmp_path):
    t = vs.VgTest("memcheck", "memcheck/tests", "prog",
                  {"vgopts": ["--xml=yes --xml-fd=2 --log-file=/dev/null"], "env": [], "prog": "prog"})
    ref = vs.Run("memcheck", "valgrind ./prog", 0, "", mc, tmp_path)
    mine = vs.Run("memtrack", "valgrind ./prog", 0, "", mt, tmp_path)
    return [d.part for d in vs.compare(t, "as-written", ref, mine, tmp_path)]


def test_compare_xml(tmp_path):
    """XML on stderr: memcheck's UninitCondition is taken out (with its
    context from <error_summary>); a free error with another stack is a
    difference."""
    mc = _xml("memcheck", [_UNINIT, _FREE], 2)
    assert _compare_xml(mc, _xml("memtrack", [_FREE], 1), tmp_path) == []
    other = _xml("memtrack", [_FREE.replace("<line>7</line>", "<line>8</line>")], 1)
    assert _compare_xml(mc, other, tmp_path)[:1] == ["XML errors"]
    assert _compare_xml(mc, _xml("memtrack", [_FREE, _FREE], 2), tmp_path)[:1] == ["XML errors"]
