"""The profile's format, independent of any browser: the keys dh_view.js
requires (and exactly DHAT's set, nothing missing, nothing extra), unique
stacks, ftbl[0] == "[root]" and never in fs, frame strings in Valgrind's
shape, acc saturated and as long as the blocks, per-pp sums equal to the
stderr summary, and DHAT's own viewer (dh_view.js under node, through
tests/dh_view_headless.js, or shared/research/ beside the clone) rendering
every profile with a root Total equal to memtrack's stderr."""
import json
import re

import pytest

import helpers
import profile_helpers as ph
import workloads

TOP = {
    "heap": {"dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "tuth", "cmd", "pid",
             "te", "tg", "pps", "ftbl"},
    "copy": {"dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid", "te",
             "pps", "ftbl"},
    "ad-hoc": {"dhatFileVersion", "mode", "verb", "bklt", "bkacc", "bu", "bsu", "bksu", "tu", "Mtu",
               "cmd", "pid", "te", "pps", "ftbl"},
}
PP_HEAP = {"tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "fs"}
PP_ACC = {"rb", "wb"}
# memtrack's extra keys (docs/format.md) when the end-of-run leak search ran
# (the default, --leak-check=summary): bytes/blocks still live by leak kind.
PP_LEAK = {"ldb", "ldbk", "lib", "libk", "lpb", "lpbk", "lrb", "lrbk"}

# (id, client, memtrack options, arguments)
SCENARIOS = [
    ("heap-sites", "prof_sites", [], []),
    ("heap-acc", "prof_acc", [], []),
    ("heap-cxx", "prof_cxx", [], []),
    ("heap-merged", "prof_merge", [], []),
    ("heap-empty", "dhat_empty", [], []),
    ("heap-threads", "threads", [], ["phased"]),
    ("heap-no-access", "prof_sites", ["--access-tracking=no"], []),
    ("heap-odd-names", "prof_odd", [], []),
    ("copy", "prof_copy", ["--mode=copy"], []),
    ("ad-hoc", "prof_adhoc", ["--mode=ad-hoc"], []),
    ("ad-hoc-empty", "dhat_empty", ["--mode=ad-hoc"], []),
]

_FRAME = re.compile(r"^0x[0-9A-F]+: \S.*$")


def _check_shape(prof):
    mode = prof["mode"]
    leaks = prof.get("mtleak") is True
    # memtrack's extra keys (docs/format.md): the leak flag, temporary blocks
    # (heap mode), and in every profile the parent's pid and the wall-clock
    # time of writing.
    assert set(prof) - {"mtleak", "mttemp", "mtppid", "mtms"} == TOP[mode], f"top-level keys {sorted(prof)}"
    assert prof.get("mttemp") is (True if mode == "heap" else None), "mttemp in heap mode only"
    assert isinstance(prof["mtppid"], int) and prof["mtppid"] > 0 and prof["mtppid"] != prof["pid"]
    assert isinstance(prof["mtms"], int) and prof["mtms"] >= 0
    assert not leaks or mode == "heap", "leak figures outside heap mode"
    assert prof["dhatFileVersion"] == 2 and isinstance(prof["dhatFileVersion"], int)
    assert (prof["verb"], prof["bklt"]) == {"heap": ("Allocated", True), "copy": ("Copied", False),
                                            "ad-hoc": ("Occurred", False)}[mode]
    assert (prof["tu"], prof["Mtu"]) == ("instrs", "Minstr")
    if mode == "heap":
        assert prof["tuth"] == 500
        assert 0 <= prof["tg"] <= prof["te"]
    else:
        assert prof["bkacc"] is False
    for pp in prof["pps"]:
        keys = set(pp) - {"acc"}
        if mode == "heap":
            assert keys == PP_HEAP | (PP_ACC if prof["bkacc"] else set()) | (PP_LEAK if leaks else set()) \
                | {"tmpb", "tmpbk"}, pp
            # Temporary blocks are some of the site's freed blocks.
            assert pp["tmpbk"] <= pp["tbk"] - pp["ebk"] and pp["tmpb"] <= pp["tb"], pp
            assert pp["tl"] <= pp["tbk"] * prof["te"], pp
            if leaks:
                # Every block live at the end is in exactly one leak kind; leak
                # bytes are requested sizes, so a 0-byte block adds 0, not 1.
                assert pp["ldbk"] + pp["libk"] + pp["lpbk"] + pp["lrbk"] == pp["ebk"], pp
                assert pp["ebk"] - pp["eb"] <= 0 and pp["ldb"] + pp["lib"] + pp["lpb"] + pp["lrb"] <= pp["eb"], pp
        else:
            assert keys == {"tb", "tbk", "fs"}, pp
            assert "acc" not in pp
        assert pp["tbk"] > 0, f"a pp with no blocks: {pp}"
    ftbl = prof["ftbl"]
    assert ftbl[0] == "[root]"
    used = {i for pp in prof["pps"] for i in pp["fs"]}
    assert 0 not in used
    # Every frame but the root is used, and looks like Valgrind's.
    assert used == set(range(1, len(ftbl))), "unused or missing ftbl entries"
    for f in ftbl[1:]:
        assert _FRAME.match(f), f"frame {f!r} is not '0x<HEX>: ...'"


@pytest.mark.parametrize("client, opts, args", [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_profile_format_and_viewer(client, opts, args, clients, workdir):
    exe = clients.path(client) if client != "prof_copy" else \
        ph.compile_client("prof_copy", ["-O0", "-fno-builtin"], out_name="prof_copy-plain")
    r, p = ph.run_memtrack(opts, [exe, *args], workdir)
    assert r.returncode == 0, r
    prof = ph.checked_profile(p, r)  # dh_view's checks, sums == stderr, viewer root == stderr
    _check_shape(prof)
    assert prof["cmd"] == " ".join([exe, *args])
    assert prof["pid"] == int(re.match(r"==(\d+)==", r.stderr)[1])
    if client == "dhat_empty":
        assert prof["pps"] == [] and prof["ftbl"] == ["[root]"]


def test_real_program_profile_format_and_viewer(workdir):
    w = workloads.make("jq", str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, p = ph.run_memtrack([], w["argv"], workdir, env=w["env"], stdin=w["stdin"])
    assert r.returncode == 0, r
    prof = ph.checked_profile(p, r)
    _check_shape(prof)
    assert len(prof["pps"]) > 100


def test_every_sort_metric_renders(clients, workdir):
    """dh_view's 14 sort metrics (Total bytes/blocks, tiny, short-lived,
    zero reads or writes, low-access, t-gmax, t-end, reads, writes,
    high-access...), each on a profile with acc, lifetimes and leaks."""
    r, p = ph.run_memtrack([], [clients.path("prof_acc")], workdir)
    assert r.returncode == 0, r
    ph.checked_profile(p, r)
    for i in range(14):
        text = ph.render(p, sort_index=i)
        assert "PP 1/1" in text, f"sort metric {i}:\n{text[:2000]}"
    # Saturated counts show as the viewer's infinity.
    assert "∞" in ph.render(p)


def test_checks_are_not_vacuous(clients, workdir):
    """The format checker and the viewer harness do reject broken files:
    a repeated stack, an access count above 65535, a missing key."""
    r, p = ph.run_memtrack([], [clients.path("prof_acc")], workdir)
    assert r.returncode == 0, r
    good = ph.checked_profile(p, r)

    def broken(name, change):
        prof = json.loads(json.dumps(good))
        change(prof)
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(prof))
        return prof, path

    def dup(prof):
        prof["pps"].append(dict(prof["pps"][0]))

    def big(prof):
        pp = next(pp for pp in prof["pps"] if "acc" in pp)
        pp["acc"] = [65536] + ph.decode_acc(pp["acc"])[1:]

    def missing(prof):
        del prof["pps"][0]["gbk"]

    for name, change, viewer_says in (("dup", dup, "repeated location"),
                                      ("big", big, "too-large access value"),
                                      ("missing", missing, "missing a field: gbk")):
        prof, path = broken(name, change)
        assert ph.format_problems(prof), f"the checker accepts the {name} file"
        with pytest.raises(AssertionError, match=re.escape(viewer_says)):
            ph.render(path)
