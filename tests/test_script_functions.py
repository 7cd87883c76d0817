"""Temporary blocks (memtrack's tmpb/tmpbk, heaptrack's "temporary
allocations"), short-lived blocks (DHAT's) and memtrack_print --callers
(heaptrack's caller/callee view), on tests/clients/temporaries.c, whose
allocations are known by construction, and on DHAT's own profile of it
(no temporary keys: the scripts must say nothing of them, and the other
figures must be the same as from memtrack's profile)."""
import json
import re

import pytest

import helpers
import profile_helpers as ph

PRINT = helpers.REPO / "scripts" / "memtrack_print"
PYTHON = "/usr/bin/python3"


def sites_of(doc, fn):
    """The program points whose innermost frame is in function fn."""
    pps = [pp for pp in doc["pps"] if pp["fs"] and ph.function_name(ph.frames(doc, pp)[0]) == fn]
    assert pps, fn
    return pps


@pytest.fixture(scope="module")
def temps(clients, tmp_path_factory):
    d = tmp_path_factory.mktemp("temps")
    prof = d / "temps.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", "--leak-check=full"],
                             [clients.path("temporaries")], d)
    assert r.returncode == 0, r
    dprof = d / "dhat.json"
    rd = helpers.run_dhat([f"--dhat-out-file={dprof}"], [clients.path("temporaries")], d)
    assert rd.returncode == 0, rd
    return {"dir": d, "prof": prof, "doc": json.loads(prof.read_text()), "dhat": dprof,
            "dhat_doc": json.loads(dprof.read_text())}


def mprint(args, cwd):
    r = helpers.run([PYTHON, str(PRINT), *[str(a) for a in args]], cwd)
    assert r.returncode == 0, r
    return r.stdout


# ---------------------------------------------------------------------------
# The tool's count


def test_temporary_blocks_per_site(temps):
    doc = temps["doc"]
    assert doc["mttemp"] is True
    want = {  # innermost function: (tb, tbk, tmpb, tmpbk), from temporaries.c
        "temp_loop": (3200, 50, 3200, 50),
        "pair_first": (32, 1, 0, 0),
        "pair_second": (48, 1, 48, 1),
        "grow": (4016, 2, 4000, 1),
        "thread_alloc": (24, 1, 24, 1),
        "main_alloc": (40, 1, 0, 0),
        "leaf": (2000, 11, 0, 0),
    }
    for fn, figs in want.items():
        pps = sites_of(doc, fn)
        assert len(pps) == (2 if fn == "leaf" else 1), pps  # leaf: from worker, from recurse
        got = tuple(sum(pp[k] for pp in pps) for k in ("tb", "tbk", "tmpb", "tmpbk"))
        assert got == figs, (fn, pps)
    # Every site: temporary blocks are freed ones.
    for pp in doc["pps"]:
        assert pp["tmpbk"] <= pp["tbk"] - pp["ebk"], pp


def test_dhat_agrees_on_the_other_figures(temps):
    """The sites' totals are DHAT's (the oracle), so the count of
    temporaries changed nothing else."""
    mt, dh = temps["doc"], temps["dhat_doc"]

    def sums(doc):
        out = {}
        for pp in doc["pps"]:
            fr = [f for f in ph.frames(doc, pp) if not helpers.is_preload_frame(f)]
            if not fr:
                continue
            fn = ph.function_name(fr[0])
            out[fn] = tuple(a + b for a, b in zip(out.get(fn, (0, 0, 0)),
                                                  (pp["tb"], pp["tbk"], pp["eb"])))
        return out
    a, b = sums(mt), sums(dh)
    for fn in ("temp_loop", "pair_first", "pair_second", "grow", "thread_alloc", "main_alloc",
               "leaf"):
        assert a[fn] == b[fn], (fn, a[fn], b[fn])


# ---------------------------------------------------------------------------
# memtrack_print: summary, site lines, --sort


def test_print_summary_temporary_and_short_lived(temps):
    doc = temps["doc"]
    out = json.loads(mprint([temps["prof"], "--format=json"], temps["dir"]))
    s = out["summary"]
    assert s["temporary_blocks"] == sum(pp["tmpbk"] for pp in doc["pps"]) >= 53
    assert s["temporary_bytes"] == sum(pp["tmpb"] for pp in doc["pps"]) >= 3200 + 48 + 4000 + 24
    short = [pp for pp in doc["pps"] if pp["tl"] <= doc["tuth"] * pp["tbk"]]
    assert s["short_lived_blocks"] == sum(pp["tbk"] for pp in short)
    assert s["short_lived_sites"] == len(short)
    # temp_loop's blocks live a few instructions each; leaf's to the end.
    assert sites_of(doc, "temp_loop")[0] in short
    assert not any(pp in short for pp in sites_of(doc, "leaf"))
    text = mprint([temps["prof"], "--sections=summary"], temps["dir"])
    assert re.search(rf"^  Temporary: {s['temporary_blocks']:,} blocks ", text, re.M), text
    assert re.search(rf"^  Short-lived: {s['short_lived_blocks']:,} blocks ", text, re.M), text
    top = mprint([temps["prof"], "--sort=temporary", "--top=1", "--sections=top"], temps["dir"])
    assert "[1] 50 blocks" in top and "temp_loop" in top, top
    assert "temporary 50 blocks of 50 (100.00%), 3,200 bytes" in top, top


def test_print_without_temporary_keys(temps):
    """DHAT's profile has no tmpb: no Temporary line, and --sort=temporary
    is refused with one line."""
    text = mprint([temps["dhat"], "--sections=summary"], temps["dir"])
    assert "Temporary:" not in text and "Short-lived:" in text
    r = helpers.run([PYTHON, str(PRINT), temps["dhat"], "--sort=temporary"], temps["dir"])
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r
    assert "temporary blocks" in r.stderr, r.stderr


# ---------------------------------------------------------------------------
# memtrack_print --callers


def test_callers_figures_are_the_sums_of_the_profile(temps):
    doc = temps["doc"]
    out = json.loads(mprint([temps["prof"], "--callers", "--top=0", "--format=json"],
                            temps["dir"]))
    funcs = {f["function"]: f for f in out["callers"]["functions"]}
    # By construction (temporaries.c).
    assert funcs["leaf"]["inclusive"]["bytes"] == 2000 and funcs["leaf"]["self"]["bytes"] == 2000
    assert funcs["leaf"]["inclusive"]["blocks"] == 11
    assert funcs["worker"]["inclusive"]["bytes"] == 2000 and funcs["worker"]["self"]["bytes"] == 0
    # recurse is four deep in its one stack: its bytes count once.
    stacks = [[ph.function_name(f) for f in ph.frames(doc, pp)] for pp in doc["pps"]]
    assert max(s.count("recurse") for s in stacks) == 4
    assert funcs["recurse"]["inclusive"]["bytes"] == 1000
    assert funcs["recurse"]["inclusive"]["blocks"] == 1
    assert funcs["temp_loop"]["self"]["temporary"] == 50
    # Every function: hand sums over the profile's program points.
    for name, f in funcs.items():
        inc = [pp for pp, st in zip(doc["pps"], stacks) if name in st]
        own = [pp for pp, st in zip(doc["pps"], stacks) if st and st[0] == name]
        for part, pps in (("inclusive", inc), ("self", own)):
            assert f[part]["bytes"] == sum(pp["tb"] for pp in pps), (name, part)
            assert f[part]["blocks"] == sum(pp["tbk"] for pp in pps), (name, part)
            assert f[part]["peak"] == sum(pp["gb"] for pp in pps), (name, part)
            assert f[part]["end"] == sum(pp["eb"] for pp in pps), (name, part)
            assert f[part]["leaked"] == sum(pp["ldb"] + pp["lib"] for pp in pps), (name, part)
            assert f[part]["temporary"] == sum(pp["tmpbk"] for pp in pps), (name, part)
    # Edges: worker calls leaf (1,000 bytes directly) and recurse (1,000);
    # recurse calls leaf, never "itself".
    callees = dict((k, v["bytes"]) for k, v in funcs["worker"]["callees"])
    assert callees == {"leaf": 1000, "recurse": 1000}, callees
    assert [k for k, _ in funcs["recurse"]["callees"]] == ["leaf"]
    assert dict((k, v["bytes"]) for k, v in funcs["leaf"]["callers"]) == \
        {"worker": 1000, "recurse": 1000}
    # Largest inclusive bytes first.
    incl = [f["inclusive"]["bytes"] for f in out["callers"]["functions"]]
    assert incl == sorted(incl, reverse=True)


def test_callers_text(temps):
    text = mprint([temps["prof"], "--callers", "--top=0", "--sections=callers"], temps["dir"])
    block = text[text.index("] recurse\n"):]
    block = block[:block.index("\n\n")]
    assert "inclusive 1,000 bytes" in block and "in 1 block," in block, block
    assert "self      0 bytes" in block, block
    assert "calls:       leaf 1,000" in block, block
    # Not printed unless asked for.
    assert "caller/callee" not in mprint([temps["prof"]], temps["dir"])
