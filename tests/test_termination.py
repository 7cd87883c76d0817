"""Every way a program can end, with every output memtrack writes enabled in
one run: the profile, the massif file, the summary, the SARIF file and the
XML leak report must all be written and valid, hold the figures the client
(tests/clients/life_end.c) has by construction, and say what memcheck says
about the leaks of that same ending; the exit status must be memcheck's.

Endings: return from main, exit(), _exit(), exit() from a second thread,
pthread_exit() in main with another thread still running, abort(), a bad
write (SIGSEGV), a stack overflow, and SIGINT / SIGTERM sent from outside."""
import json
import re
import signal
import xml.etree.ElementTree as ET

import pytest

import helpers
import profile_helpers as ph

ENDINGS = {
    # mode: exit status (negative: killed by that signal)
    "normal": 0,
    "exit3": 3,
    "_exit4": 4,
    "thread_exit5": 5,
    "main_pexit": 0,
    "abort": -signal.SIGABRT,
    "segv": -signal.SIGSEGV,
    "overflow": -signal.SIGSEGV,
    "SIGINT": -signal.SIGINT,
    "SIGTERM": -signal.SIGTERM,
}


def _run(tool, opts, exe, ending, cwd):
    """Runs exe under tool until the ending; SIGINT/SIGTERM are sent once
    the client has said 'ready' and waits in pause()."""
    if not ending.startswith("SIG"):
        return helpers.run_tool(tool, opts, [exe, ending], cwd)
    argv = [helpers.VG_IN_PLACE, f"--tool={tool}", *opts, exe, "wait"]
    return helpers.run_then_signal(argv, cwd, getattr(signal, ending))


KIND = {"Leak_DefinitelyLost": "definite", "Leak_IndirectlyLost": "indirect",
        "Leak_PossiblyLost": "possible", "Leak_StillReachable": "reachable"}


def _xml_leaks(path):
    """{kind: (bytes, blocks)} summed over the leak errors of an XML file,
    which must parse."""
    root = ET.parse(path).getroot()
    out = {k: [0, 0] for k in KIND.values()}
    for e in root.iter("error"):
        kind = KIND.get(e.findtext("kind"))
        if kind:
            out[kind][0] += int(e.findtext("xwhat/leakedbytes"))
            out[kind][1] += int(e.findtext("xwhat/leakedblocks"))
    return {k: tuple(v) for k, v in out.items()}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_output_written_whatever_the_ending(ending, clients, workdir):
    exe = clients.path("life_end")
    leak_opts = ["--leak-check=full", "--show-leak-kinds=all", "--xml=yes"]
    mt = _run("memtrack", [*leak_opts, "--xml-file=mt.xml", "--dhat-out-file=prof.json", "--massif-out-file=ms.out",
                           "--summary-file=sum.json", "--sarif-file=leaks.sarif"], exe, ending, workdir)
    mc = _run("memcheck", [*leak_opts, "--xml-file=mc.xml"], exe, ending, workdir)

    assert mt.returncode == ENDINGS[ending], mt
    assert mc.returncode == ENDINGS[ending], mc

    # The leak report (XML) says what memcheck's says.
    leaks = _xml_leaks(workdir / "mt.xml")
    assert leaks == _xml_leaks(workdir / "mc.xml"), (leaks, _xml_leaks(workdir / "mc.xml"))
    assert leaks["definite"][0] >= 222, leaks

    # The profile: the client's three blocks as it made them.
    prof = ph.checked_profile(workdir / "prof.json")
    k, lo, f = (ph.one_site(prof, fn) for fn in ("kept_block", "lost_block", "freed_block"))
    assert (k["tb"], k["tbk"], k["eb"], k["ebk"]) == (111, 1, 111, 1), k
    assert (lo["tb"], lo["tbk"], lo["eb"], lo["ebk"]) == (222, 1, 222, 1), lo
    assert (f["tb"], f["tbk"], f["eb"], f["ebk"]) == (333, 1, 0, 0), f

    # The summary: the profile's totals and the XML's leaks.
    summ = json.loads((workdir / "sum.json").read_text())
    assert summ["total"]["bytes"] == sum(pp["tb"] for pp in prof["pps"])
    assert {kind: (v["bytes"], v["blocks"]) for kind, v in summ["leaks"].items() if kind in leaks} == leaks

    # SARIF: valid JSON; one result per definitely lost record, same bytes.
    sarif = json.loads((workdir / "leaks.sarif").read_text())
    lost = [int(re.match(r"([\d,]+) bytes", x["message"]["text"])[1].replace(",", ""))
            for x in sarif["runs"][0]["results"] if x["ruleId"] == "definitely-lost"]
    assert sum(lost) == leaks["definite"][0], lost

    # The massif file: ms_print reads it, and its peak holds at least the
    # three blocks' 666 bytes (all three were live together).
    ms = helpers.run(["ms_print", "ms.out"], workdir)
    assert ms.returncode == 0, ms
    heap = [int(x) for x in re.findall(r"^mem_heap_B=(\d+)$", (workdir / "ms.out").read_text(), re.M)]
    assert max(heap) >= 666, heap
