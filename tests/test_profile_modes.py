"""--mode=copy and --mode=ad-hoc against DHAT's, the profile client
requests (MEMTRACK_DUMP_PROFILE, DHAT_HISTOGRAM_MEMORY /
MEMTRACK_HISTOGRAM_MEMORY), --access-tracking=no and --histogram-limit.
Every memtrack profile written here goes through
profile_helpers.checked_profile (format, dh_view, per-pp sums == stderr)."""
import os
import re

import pytest

import helpers
import profile_helpers as ph


def _lines(stderr):
    return helpers.client_lines(stderr)


def _summary_keys(stderr):
    """Which of DHAT's summary lines are there, in order."""
    keys = ("Total:", "At t-gmax:", "At t-end:", "Reads:", "Writes:")
    return [k for l in _lines(stderr) for k in keys if l.startswith(k)]


# ---------------------------------------------------------------------------
# Copy mode


COPY_BUILDS = {
    # id: (extra compiler flags, what the build calls)
    "plain": (["-O0", "-fno-builtin"], ("memcpy", "memmove", "strcpy", "strncpy", "stpcpy",
                                         "stpncpy", "mempcpy", "bcopy", "wcscpy")),
    "fortify": (["-O2", "-D_FORTIFY_SOURCE=2"], ("__memcpy_chk", "__memmove_chk",
                                                 "__strcpy_chk", "__strncpy_chk")),
}


@pytest.mark.parametrize("build", COPY_BUILDS)
def test_copy_mode_equals_dhat(build, workdir):
    flags, calls = COPY_BUILDS[build]
    exe = ph.compile_client("prof_copy", flags, out_name=f"prof_copy-{build}")
    nm = helpers.run(["nm", "-u", exe], workdir).stdout
    for fn in calls:
        assert re.search(rf"\b{re.escape(fn)}@", nm), f"the {build} build does not call {fn}:\n{nm}"
    mr, mp = ph.run_memtrack(["--mode=copy"], [exe], workdir)
    dr, dp = ph.run_dhat(["--mode=copy"], [exe], workdir)
    assert mr.returncode == dr.returncode == 0, (mr, dr)
    assert mr.stdout == dr.stdout
    # stderr: only the Total line (bytes in blocks), DHAT's, character for character.
    assert _summary_keys(mr.stderr) == ["Total:"], mr
    assert helpers.summary_lines(mr.stderr) == helpers.summary_lines(dr.stderr)
    mt, dh = ph.checked_profile(mp, mr), ph.load(dp)
    assert (mt["mode"], mt["verb"], mt["bklt"], mt["bkacc"]) == ("copy", "Copied", False, False)
    for pp in mt["pps"]:
        assert set(pp) == {"tb", "tbk", "fs"}, pp
    # Site by site (the copy function's own frame dropped on both sides).
    probs, _ = ph.compare_sites(mt, dh, exact=("tb", "tbk"), rb_rule=False)
    assert not probs, "\n".join(probs)
    # And the program's own calls are what it says it copied. (At -O2 the
    # str/mem call is an inline frame of string_fortified.h first, and gcc
    # renames copies() to copies.constprop.0.)
    m = re.search(r"^copied=(\d+) calls=(\d+)$", mr.stdout, re.M)
    assert m, mr.stdout
    copied, ncalls = int(m[1]), int(m[2])
    if build == "fortify":
        # wcscpy becomes __wcscpy_chk, which no DHAT (3.19 to 3.27) replaces:
        # its 16 characters (64 bytes) are not counted, by either tool.
        copied, ncalls = copied - 16 * 4, ncalls - 1
    own = [pp for key, pps in ph.group_sites(mt).items() for pp in pps
           if any(re.match(r"(copies|wide)(\.constprop\.\d+)? \(prof_copy\.c:", f) for f in key[:2])]
    assert (sum(p["tb"] for p in own), sum(p["tbk"] for p in own)) == (copied, ncalls)


def test_copy_mode_ignores_heap_and_heap_mode_ignores_copies(clients, workdir):
    """A copy-mode profile has no heap sites; a heap-mode run of the same
    program counts no copies."""
    exe = ph.compile_client("prof_copy", ["-O0", "-fno-builtin"], out_name="prof_copy-plain")
    mr, mp = ph.run_memtrack(["--mode=copy"], [exe], workdir, out="copy.json")
    mt = ph.checked_profile(mp, mr)
    for pp in mt["pps"]:
        assert "vgpreload_memtrack" in ph.frames(mt, pp)[0], ph.frames(mt, pp)[:3]
    hr, hp = ph.run_memtrack([], [exe], workdir, out="heap.json")
    heap = ph.checked_profile(hp, hr)
    # prof_copy's heap: its 2000-byte buffer and stdout's buffer.
    assert heap["mode"] == "heap"
    assert all("vgpreload_memtrack" not in ph.frames(heap, pp)[0] for pp in heap["pps"])
    assert any(pp["tb"] == 2000 for pp in heap["pps"])


# The str/mem functions DHAT replaces beyond 3.19's set, by the release
# that added them (mt_vgcompat.h, MT_VG_DHAT_STRMEM_3xx), with the soname
# pattern they are replaced in (Z-encoded) and whether they record copies.
NEWER_STRMEM = {
    "strncmp": ("ldZhlinuxZdsoZd2", False),
    "wmemcmp": ("libcZdsoZa", False),
    "wcsncpy": ("libcZdsoZa", True),
    "memccpy": ("libcZdsoZa", True),
    "wcpncpy": ("libcZdsoZa", True),
    "strlcpy": ("libcZdsoZa", True),
    "strlcat": ("libcZdsoZa", False),
    "__wcscat_avx2": ("libcZdsoZa", False),
}
# prof_copy's function that calls each.
NEWER_CALLER = {fn: f"via_{fn.lstrip('_')}" for fn in NEWER_STRMEM}
NEWER_CALLER["strncmp"] = "via_ldso_strncmp"

_REPLACEMENT = re.compile(r"^_vg[rw]\d{5}Z[UZ]_([^_]+)_(.+)$")


def _replacements(preload):
    """{(Z-encoded soname pattern, function)} a preload replaces or wraps:
    its exported _vgr/_vgw symbols (ZU names keep the function unencoded,
    which is all these are)."""
    nm = helpers.run(["nm", "-D", "--defined-only", str(preload)], preload.parent)
    assert nm.returncode == 0, nm
    syms = [l.split()[-1] for l in nm.stdout.splitlines() if l.strip()]
    return {m.groups() for m in map(_REPLACEMENT.match, syms) if m}


def _oracle_replaces(fn):
    soname, _ = NEWER_STRMEM[fn]
    plat = helpers.platform() or "amd64-linux"
    return (soname, fn) in _replacements(helpers.VG_TOOLDIR / f"vgpreload_dhat-{plat}.so")


def test_preload_replaces_what_dhat_replaces():
    """memtrack's preload replaces (and wraps) exactly the functions the
    DHAT of the Valgrind in use does, under the same soname patterns: the
    malloc side comes from the kit's archive, the str/mem side from
    mt_preload_strmem.c, version by version."""
    plat = helpers.platform() or "amd64-linux"
    mine = _replacements(helpers.BUILDDIR / "memtrack" / f"vgpreload_memtrack-{plat}.so")
    dhat = _replacements(helpers.VG_TOOLDIR / f"vgpreload_dhat-{plat}.so")
    assert sorted(mine - dhat) == [] and sorted(dhat - mine) == []
    assert ("libcZdsoZa", "strcpy") in mine  # the parse found the str/mem side


def _fake_libs(matching):
    """strmem_fakelib.c as the two stand-in libraries prof_copy dlopens:
    with sonames that Valgrind's patterns match (libc.so*, ld-linux.so.2),
    or, not matching=True, names no replacement applies to."""
    src = helpers.CLIENT_SRC / "strmem_fakelib.c"
    out = []
    for kind, soname in (("LIBC", "libc.so.mtfake"), ("LDSO", "ld-linux.so.2")):
        if not matching:
            soname = f"libmtfake-{kind.lower()}.so"
        lib = helpers.CLIENT_BUILD / f"strmem_fake_{kind.lower()}{'' if matching else '_plain'}.so"
        if not lib.exists() or lib.stat().st_mtime < src.stat().st_mtime:
            helpers.CLIENT_BUILD.mkdir(parents=True, exist_ok=True)
            tmp = lib.with_name(f".{lib.name}.{os.getpid()}.tmp")
            cmd = ["gcc", "-g", "-O0", "-fno-builtin", "-fPIC", "-shared", "-nostdlib",
                   f"-DFAKE_{kind}", f"-Wl,-soname,{soname}", "-o", str(tmp), str(src)]
            p = helpers.run(cmd, helpers.CLIENT_BUILD)
            assert p.returncode == 0, p
            os.replace(tmp, lib)
        out.append(str(lib))
    return out


def _newer_expected(stdout):
    """prof_copy's "newer fn=bytes/calls ..." line: the copies DHAT 3.24
    and later record for each newer copy function."""
    m = re.search(r"^newer (.*)$", stdout, re.M)
    assert m, stdout
    return {k: tuple(int(x) for x in v.split("/"))
            for k, v in (f.split("=") for f in m[1].split())}


def test_newer_strmem_functions_like_dhat(workdir):
    """The functions later DHATs replace (memccpy, wcsncpy, wcpncpy,
    wmemcmp from the C library; strlcpy, strlcat, __wcscat_avx2 and ld.so's
    strncmp from stand-in libraries), each called from its own function of
    prof_copy on heap blocks of its own. DHAT of the Valgrind in use is the
    oracle: in --mode=copy the same copy sites and counts, and where its
    preload replaces a copy function, a site for it with the bytes the
    client expects (memccpy: as 3.24 and later count); where it does not,
    none. In heap mode the same reads and writes site by site, and for the
    stand-in libraries' functions DHAT's reads differ from the stand-in's
    own (a memtrack run with sonames no pattern matches) exactly where its
    preload replaces them. The results are the C library's (the native
    run's)."""
    exe = ph.compile_client("prof_copy", ["-O0", "-fno-builtin"], out_name="prof_copy-plain")
    argv = [exe, *_fake_libs(True)]
    native = helpers.run_native(argv, workdir)
    assert native.returncode == 0, native
    expected = _newer_expected(native.stdout)
    replaced = {fn: _oracle_replaces(fn) for fn in NEWER_STRMEM}

    # Copy mode.
    mr, mp = ph.run_memtrack(["--mode=copy"], argv, workdir, out="copy-mt.json")
    dr, dp = ph.run_dhat(["--mode=copy"], argv, workdir, out="copy-dh.json")
    assert mr.returncode == dr.returncode == 0, (mr, dr)
    assert mr.stdout == dr.stdout == native.stdout
    assert helpers.summary_lines(mr.stderr) == helpers.summary_lines(dr.stderr)
    mt, dh = ph.checked_profile(mp, mr), ph.load(dp)
    probs, _ = ph.compare_sites(mt, dh, exact=("tb", "tbk"), rb_rule=False)
    assert not probs, "\n".join(probs)
    for fn, (_, copies) in NEWER_STRMEM.items():
        caller = NEWER_CALLER[fn]
        got = {name: (sum(p["tb"] for p in pps), sum(p["tbk"] for p in pps))
               for name, pps in (("dhat", ph.find_site(dh, caller)), ("memtrack", ph.find_site(mt, caller)))}
        if not (copies and replaced[fn]):
            # Nothing of its own (the C library's version may still copy
            # through a replaced memcpy: counted alike, checked above).
            assert got["dhat"] == got["memtrack"], (fn, got)
        elif fn == "memccpy" and helpers.VG_VERSION < (3, 24):
            # 3.23's DHAT recorded the bytes memccpy had not reached.
            assert got["dhat"] == got["memtrack"] and got["dhat"][1] == expected[fn][1], (fn, got)
        else:
            assert got == {"dhat": expected[fn], "memtrack": expected[fn]}, (fn, got)

    # Heap mode.
    mr, mp = ph.run_memtrack([], argv, workdir, out="heap-mt.json")
    dr, dp = ph.run_dhat([], argv, workdir, out="heap-dh.json")
    pr, pp_ = ph.run_memtrack([], [exe, *_fake_libs(False)], workdir, out="heap-plain.json")
    assert mr.returncode == dr.returncode == pr.returncode == 0, (mr, dr, pr)
    assert mr.stdout == dr.stdout == pr.stdout == native.stdout
    mt, dh, plain = ph.checked_profile(mp, mr), ph.load(dp), ph.checked_profile(pp_, pr)
    probs, _ = ph.compare_sites(mt, dh)
    assert not probs, "\n".join(probs)
    def blocks_of(prof, caller):  # allocated by heap_str/heap_wcs for caller
        return [pp for key, pps in ph.group_sites(prof).items() for pp in pps
                if len(key) > 1 and re.match(r"heap_(str|wcs) ", key[0])
                and re.match(rf"{caller} ", key[1])]

    # compare_sites lets memtrack's rb exceed DHAT's a little (system-call
    # path strings); these blocks see no system call, so exactly.
    for fn in NEWER_STRMEM:
        mine, dhat = (sorted((p["tb"], p.get("rb"), p.get("wb"), tuple(ph.decode_acc(p["acc"])))
                             for p in blocks_of(prof, NEWER_CALLER[fn])) for prof in (mt, dh))
        assert mine, (fn, "no heap blocks")
        assert mine == dhat, fn
    for fn in ("strlcpy", "strlcat", "__wcscat_avx2", "strncmp"):
        caller = NEWER_CALLER[fn]
        reads = [sum(p.get("rb", 0) for p in blocks_of(prof, caller)) for prof in (dh, plain)]
        assert reads[0] > 0, (fn, reads)
        assert (reads[0] != reads[1]) == replaced[fn], (fn, replaced[fn], reads)


# ---------------------------------------------------------------------------
# Ad-hoc mode


def _adhoc_expect(stdout):
    m = re.match(r"units=(\d+) events=(\d+)$", stdout.strip())
    assert m, stdout
    return int(m[1]), int(m[2])


@pytest.mark.parametrize("variant", ["dhat", "mt"])
def test_ad_hoc_mode_equals_dhat(variant, clients, workdir):
    """prof_adhoc.c: 30/20/10 from nested calls (as DHAT's ad-hoc.c), a 0
    and a 5e9 weight. memtrack with dhat.h's DHAT_AD_HOC_EVENT or with
    MEMTRACK_AD_HOC_EVENT (same lines) == DHAT with DHAT_AD_HOC_EVENT."""
    exe = clients.path("prof_adhoc")
    mr, mp = ph.run_memtrack(["--mode=ad-hoc"], [exe] + (["mt"] if variant == "mt" else []), workdir)
    dr, dp = ph.run_dhat(["--mode=ad-hoc"], [exe], workdir)
    assert mr.returncode == dr.returncode == 0, (mr, dr)
    assert "Warning" not in mr.stderr, mr
    assert _summary_keys(mr.stderr) == ["Total:"], mr
    units, events = _adhoc_expect(mr.stdout)
    assert f"Total:     {units:,} units in {events:,} events" in _lines(mr.stderr)
    assert helpers.summary_lines(mr.stderr) == helpers.summary_lines(dr.stderr)
    mt, dh = ph.checked_profile(mp, mr), ph.load(dp)
    assert (mt["mode"], mt["verb"], mt["bklt"], mt["bkacc"]) == ("ad-hoc", "Occurred", False, False)
    assert (mt["bu"], mt["bsu"], mt["bksu"]) == ("unit", "units", "events")
    assert "tg" not in mt and "tuth" not in mt
    for pp in mt["pps"]:
        assert set(pp) == {"tb", "tbk", "fs"}, pp
    probs, _ = ph.compare_sites(mt, dh, exact=("tb", "tbk"), rb_rule=False)
    assert not probs, "\n".join(probs)
    # f1 is reached 4 times (directly, from f2, from f3 twice): 120 units.
    f1 = ph.find_site(mt, "f1")
    assert sum(p["tb"] for p in f1) == 120 and sum(p["tbk"] for p in f1) == 4


@pytest.mark.parametrize("variant", ["dhat", "mt"])
def test_heap_mode_ignores_ad_hoc_events(variant, clients, workdir):
    exe = clients.path("prof_adhoc")
    mr, mp = ph.run_memtrack([], [exe] + (["mt"] if variant == "mt" else []), workdir)
    assert mr.returncode == 0, mr
    assert "Warning" not in mr.stderr, mr
    assert helpers.parse_summary(mr.stderr)["total_bytes"] == 300
    assert helpers.parse_summary(mr.stderr)["total_blocks"] == 2
    mt = ph.checked_profile(mp, mr)
    assert sorted(pp["tb"] for pp in mt["pps"]) == [100, 200]


# ---------------------------------------------------------------------------
# MEMTRACK_DUMP_PROFILE


def test_dump_profile_mid_run(clients, workdir):
    """prof_dump.c dumps after allocating 640 bytes in 4 blocks (440 in 3
    live, peak 600 in 3) and says so; the dump holds exactly that, the exit
    profile everything; %p expands in the request's file name too."""
    r, final = ph.run_memtrack([], [clients.path("prof_dump"), "dump.%p.json"], workdir)
    assert r.returncode == 0, r
    pid = int(re.match(r"==(\d+)==", r.stderr)[1])
    fields = dict(kv.split("=") for kv in r.stdout.split())
    assert fields["dump"] == "1" and fields["dump2"] == "-1", r.stdout
    # The client's own figures and MEMTRACK_GET_HEAP_STATS agree.
    assert r.stdout.split()[2:5] == ["total=640/4", "live=440/3", "max=600/3"]
    assert r.stdout.split()[6:] == ["total=640/4", "live=440/3", "max=600/3"], r.stdout
    dump_path = workdir / f"dump.{pid}.json"
    dump = ph.checked_profile(dump_path)
    sums = ph.profile_sums(dump)
    assert sums["total"] == (640, 4)
    assert sums["end"] == (440, 3)      # live at the dump
    assert sums["gmax"] == (600, 3)
    assert sums["reads"] == 0 and sums["writes"] == 100 + 8
    assert dump["pid"] == pid
    assert not ph.find_site(dump, "after")
    fin = ph.checked_profile(final, r)
    assert dump["te"] < fin["te"]
    assert ph.profile_sums(fin)["total"] == (640 + 5000 + 7, 6)
    # The dumped sites are in the final profile with the same totals.
    d_before = ph.find_site(dump, "before")
    f_before = ph.find_site(fin, "before")
    assert sorted(p["tb"] for p in d_before) == sorted(p["tb"] for p in f_before) == [100, 200, 300]


def test_dump_profile_unwritable_returns_0(clients, workdir):
    bad = workdir / "no" / "such" / "dir" / "x.json"
    r, final = ph.run_memtrack([], [clients.path("prof_dump"), "ok.json", str(bad)], workdir)
    assert r.returncode == 0, r
    assert "dump=1 dump2=0 " in r.stdout, r.stdout
    errs = [l for l in _lines(r.stderr) if l.startswith("error:")]
    assert errs == [f"error: can't open memtrack profile file '{bad}' for writing: No such file or directory"], r
    ph.checked_profile(workdir / "ok.json")
    ph.checked_profile(final, r)


# ---------------------------------------------------------------------------
# Histogram requests


def test_histogram_requests(clients, workdir):
    """prof_histo.c: DHAT_HISTOGRAM_MEMORY on a 2000-byte block and
    MEMTRACK_HISTOGRAM_MEMORY on a 3000-byte one give their sites acc of
    that length, counting from the request; 25,600 bytes is allowed; the
    warnings use DHAT's words (dh_main.c)."""
    r, p = ph.run_memtrack([], [clients.path("prof_histo")], workdir)
    assert r.returncode == 0, r
    prof = ph.checked_profile(p, r)
    a = ph.decode_acc(ph.one_site(prof, "hist_2000")["acc"])
    assert len(a) == 2000
    assert a == [1] * 5 + [101] + [1] * 1994
    m = ph.decode_acc(ph.one_site(prof, "hist_mt")["acc"])
    assert m == [1] * 10 + [0] * 2990
    x = ph.decode_acc(ph.one_site(prof, "hist_max")["acc"])
    assert x == [1] + [0] * 25599
    gone = re.search(r"gone=([0-9a-f]+)", r.stdout)[1]
    warnings = [l for l in _lines(r.stderr) if l.startswith("Warning")]
    assert warnings == [
        "Warning: request for user histogram of size 500 is smaller than the normal histogram limit, request ignored",
        "Warning: request for user histogram of size 1024 is smaller than the normal histogram limit, request ignored",
        f"Warning: address for user histogram request not found {gone}",
        "Warning: request for user histogram of size 100000 is larger than the maximum user request limit, request ignored",
        "Warning: request for user histogram of size 25601 is larger than the maximum user request limit, request ignored",
    ], r
    # The refused blocks (one per call of other()) keep the usual rule: acc
    # for the 500 and 1024-byte ones, none for the bigger ones.
    others = {pp["tb"]: "acc" in pp for pp in ph.find_site(prof, "other")}
    assert others == {500: True, 1024: True, 3000: False, 100000: False, 25601: False}


# ---------------------------------------------------------------------------
# --access-tracking=no, --histogram-limit


def test_access_tracking_no(clients, workdir):
    """Same program with and without access tracking: no rb/wb/acc, bkacc
    false, no Reads/Writes lines; everything else equal, the instruction
    counts included (they do not depend on the instrumentation)."""
    exe = clients.path("prof_sites")
    yr, yp = ph.run_memtrack([], [exe], workdir, out="yes.json")
    nr, np_ = ph.run_memtrack(["--access-tracking=no"], [exe], workdir, out="no.json")
    assert yr.returncode == nr.returncode == 0, (yr, nr)
    assert _summary_keys(yr.stderr) == ["Total:", "At t-gmax:", "At t-end:", "Reads:", "Writes:"]
    assert _summary_keys(nr.stderr) == ["Total:", "At t-gmax:", "At t-end:"], nr
    assert helpers.summary_lines(nr.stderr) == helpers.summary_lines(yr.stderr)
    yes, no = ph.checked_profile(yp, yr), ph.checked_profile(np_, nr)
    assert no["bkacc"] is False and yes["bkacc"] is True
    for pp in no["pps"]:
        assert not set(pp) & {"rb", "wb", "acc"}, pp

    def strip(prof):
        top = {k: v for k, v in prof.items() if k not in ("pps", "ftbl", "pid", "bkacc", "mtms")}  # mtms: wall clock
        pps = sorted((tuple(ph.frames(prof, pp)),
                      tuple(sorted((k, v) for k, v in pp.items() if k not in ("fs", "rb", "wb", "acc"))))
                     for pp in prof["pps"])
        return top, pps

    assert strip(no) == strip(yes)


def test_histogram_limit_option(clients, workdir):
    """prof_acc.c with --histogram-limit=16: only sites of one block size
    <= 16 keep acc; with 2000 the 1025-byte site gains one."""
    exe = clients.path("prof_acc")
    r16, p16 = ph.run_memtrack(["--histogram-limit=16"], [exe], workdir, out="h16.json")
    r2k, p2k = ph.run_memtrack(["--histogram-limit=2000"], [exe], workdir, out="h2k.json")
    assert r16.returncode == r2k.returncode == 0, (r16, r2k)
    h16, h2k = ph.checked_profile(p16, r16), ph.checked_profile(p2k, r2k)
    with_acc = sorted(k[0].split(" ")[0] for k, pps in ph.group_sites(h16).items() if "acc" in pps[0])
    assert with_acc == ["acc_lanes", "acc_live", "acc_one_over", "acc_realloc"], with_acc
    assert ph.decode_acc(ph.one_site(h16, "acc_live")["acc"]) == [1, 2, 3, 4] * 4
    e = ph.one_site(h2k, "acc_1025")
    assert ph.decode_acc(e["acc"]) == [2] * 1025   # e[i] += 1: a read and a write
    # The figures other than acc do not depend on the limit.
    for prof in (h16, h2k):
        assert ph.stderr_figures(r16.stderr) == ph.profile_sums(prof) | {"unit": "bytes"}


def test_copy_mode_overlapping_copies_like_dhat(clients, workdir):
    """Overlapping memcpy/strcpy/strncpy (undefined behaviour) and memmove in
    --mode=copy: the run goes on, and every copy is counted as DHAT counts
    it (same Total, the same copy sites)."""
    exe = clients.path("copy_overlap")
    mr, mp = ph.run_memtrack(["--mode=copy"], [exe], workdir)
    dr, dp = ph.run_dhat(["--mode=copy"], [exe], workdir)
    assert mr.returncode == dr.returncode == 0, (mr, dr)
    assert mr.stdout == dr.stdout
    assert helpers.summary_lines(mr.stderr) == helpers.summary_lines(dr.stderr)
    mt, dh = ph.checked_profile(mp, mr), ph.load(dp)
    probs, _ = ph.compare_sites(mt, dh)
    assert not probs, probs[:10]
