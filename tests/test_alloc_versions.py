"""Heap calls whose checking Valgrind changed between releases
(tests/clients/alloc_versions.cpp): realloc(p, 0) and reallocarray(p, 0, n),
realloc(NULL, -5), bad alignments and sizes of zero for memalign,
posix_memalign, aligned_alloc and aligned new, sized and aligned delete
that do not match the block, free_sized and free_aligned_sized. memtrack
must report what memcheck of the build's Valgrind reports, error by error:
text, stacks, address descriptions, generated suppressions, the ERROR
SUMMARY, the exit status with --error-exitcode, and the HEAP SUMMARY; with
--xml=yes the same XML. On 3.19, whose memcheck makes none of the newer
checks, memtrack must make none either.

Every run has --soname-synonyms=somalloc=NONE, so that the client's own
free_sized and free_aligned_sized (glibc has them from 2.43) are replaced
where the release replaces them."""
import os
import re
import xml.etree.ElementTree as ET

import pytest

import helpers
import leak_helpers
import test_leak_xml

SYNONYMS = ["--soname-synonyms=somalloc=NONE"]
DONE = "alloc_versions: done\n"

V = helpers.VG_VERSION
REALLOC_ZERO = V >= (3, 21)     # "realloc() with size 0", --realloc-zero-bytes-frees
ALIGNED_CHECKS = V >= (3, 22)   # the preload's VERIFY_ALIGNMENT request
FREE_SIZED = V >= (3, 23)       # free_sized replaced
UNSAFE_ZERO = V >= (3, 26)      # "Unsafe allocation ...", free_aligned_sized on Linux
NAMES_FN = V >= (3, 27)         # "reallocarray() with size 0"
# glibc 2.38 made aligned_alloc a function of its own (before, memalign
# under another name): Valgrind then checks it as aligned_alloc.
_GLIBC = tuple(int(x) for x in re.findall(r"\d+", os.confstr("CS_GNU_LIBC_VERSION"))[:2])
OWN_ALIGNED_ALLOC = _GLIBC >= (2, 38)

CASES = ["realloc_zero", "realloc_zero_twice", "realloc_zero_freed", "realloc_zero_of_new",
         "reallocarray_zero", "realloc_null_fishy", "memalign_bad", "memalign_zero",
         "posix_memalign_bad", "posix_memalign_zero", "aligned_alloc_bad", "aligned_alloc_zero",
         "new_aligned_bad", "delete_sized_mismatch", "delete_sized_match", "delete_aligned_mismatch",
         "delete_default_of_aligned", "delete_sized_aligned", "delete_aligned_bad",
         "aligned_family_mismatch", "realloc_of_aligned", "free_sized_mismatch", "free_aligned_sized",
         "keep_one"]

INVALID = "Invalid free() / delete / delete[] / realloc()"
MISMATCH = "Mismatched free() / delete / delete []"


def _zero(fn):
    return "Unsafe allocation with size of zero is implementation-defined" if UNSAFE_ZERO else \
        f"{fn}() invalid size value: 0"


def _bad(align, why):
    return f"Invalid alignment value: {align} ({why})"


NEW_WHY = "should be non-zero and a power of 2"
PM_WHY = "should be non-zero, a power of 2 and a multiple of sizeof(void*)"


def expected(case):
    """The headlines this release's memcheck prints for a case run alone
    (up to glibc 2.37 aligned_alloc is memalign, so its checks are memalign's):
    the test's own statement of each version's behaviour, beside the
    comparison with the oracle."""
    rz = ["realloc() with size 0"] if REALLOC_ZERO else []
    al = ALIGNED_CHECKS
    return {
        "realloc_zero": rz,
        "realloc_zero_twice": rz,  # one context, counted twice
        "realloc_zero_freed": rz + [INVALID],
        "realloc_zero_of_new": rz + [MISMATCH],
        "reallocarray_zero": [("reallocarray" if NAMES_FN else "realloc") + "() with size 0"] if REALLOC_ZERO else [],
        "realloc_null_fishy": [f"Argument 'size' of function {'realloc' if REALLOC_ZERO else 'malloc'} "
                               "has a fishy (possibly negative) value: -5"],
        "memalign_bad": [_bad(24, "should be power of 2"), _bad(0, "should be power of 2")] if al else [],
        "memalign_zero": [_zero("memalign")] if al else [],
        "posix_memalign_bad": [_bad(12, PM_WHY), _bad(4, PM_WHY), _bad(0, PM_WHY)] if al else [],
        "posix_memalign_zero": [_zero("posix_memalign")] if al else [],
        "aligned_alloc_bad": ([_bad(24, "should be power of 2")] if not OWN_ALIGNED_ALLOC else
                              ["Invalid size value: 100 alignment value: 64 (size should be a multiple of alignment)",
                               _bad(24, "should be a power of 2")]) if al else [],
        "aligned_alloc_zero": [_zero("aligned_alloc" if OWN_ALIGNED_ALLOC else "memalign")] if al else [],
        "new_aligned_bad": [_bad(24, NEW_WHY)] * 2 + [_bad(0, NEW_WHY)] * 2 if al else [],
        "delete_sized_mismatch": ["Mismatched new/delete size value: 32",
                                  "Mismatched new[][/delete[] size value: 48"] if al else [],
        "delete_sized_match": [],
        "delete_aligned_mismatch": ["Mismatched new/delete alignment alloc value: 64 dealloc value: 32",
                                    "Mismatched new[]/delete[] alignment alloc value: 64 dealloc value: 128"]
        if al else [],
        "delete_default_of_aligned": [
            "Mismatched new/delete alignment alloc value: 64 dealloc value: default-aligned",
            "Mismatched new[]/delete[] alignment alloc value: 32 dealloc value: default-aligned"] if al else [],
        "delete_sized_aligned": ["Mismatched new/delete size value: 48",
                                 "Mismatched new/delete alignment alloc value: 64 dealloc value: 32",
                                 "Mismatched new[]/delete[] alignment alloc value: 64 dealloc value: 24",
                                 _bad(24, NEW_WHY)] if al else [],
        "delete_aligned_bad": [_bad(3, NEW_WHY), _bad(0, NEW_WHY)] if al else [],
        "aligned_family_mismatch": [MISMATCH, MISMATCH],
        "realloc_of_aligned": [],
        "free_sized_mismatch": ["Mismatched aligned_alloc/free_sized size value: 32"] if FREE_SIZED else [],
        "free_aligned_sized": [
            "Mismatched aligned_alloc/free_aligned_sized alignment alloc value: 64 dealloc value: 32",
            "Mismatched aligned_alloc/free_aligned_sized size value: 0",
            "Invalid alignment value: 24 (should be a power of 2)",
            # The size that is no multiple of 24 is the same error as the
            # line above for memcheck: counted, not shown.
            "Mismatched aligned_alloc/free_aligned_sized alignment alloc value: 32 dealloc value: 24"]
        if UNSAFE_ZERO else [],
        "keep_one": [],
    }[case]


@pytest.fixture(scope="module")
def client(clients):
    return clients.path("alloc_versions")


def run_both(opts, argv, workdir, mt_opts=()):
    return leak_helpers.run_pair([*SYNONYMS, *mt_opts, *opts], argv, workdir,
                                 mc_opts=[*SYNONYMS, *opts])


def assert_like_memcheck(mt, mc):
    """Exit status, stdout, every error (headline, stacks, descriptions) and
    every other Valgrind line, HEAP and ERROR SUMMARY included; the
    suppressions --gen-suppressions printed."""
    leak_helpers.assert_same_leak_output(mt, mc)
    mt_supp = helpers.gen_suppressions(mt.stderr)
    mc_supp = [s.replace("   Memcheck:", "   Memtrack:") for s in helpers.gen_suppressions(mc.stderr)]
    assert mt_supp == mc_supp, leak_helpers._diff("generated suppressions", mt_supp, mc_supp)


def headlines(r):
    return [e.headline for e in helpers.parse_errors(r.stderr)]


def test_case_list_is_complete(client, workdir):
    r = helpers.run_native([client, "--list"], workdir)
    assert r.returncode == 0 and r.stdout.split() == CASES, r


@pytest.mark.parametrize("case", CASES)
def test_case_like_memcheck(case, client, workdir):
    mt, mc = run_both(["--gen-suppressions=all"], [client, case], workdir)
    assert mt.returncode == 0 and mt.stdout == DONE, mt
    assert headlines(mc) == expected(case), mc
    assert_like_memcheck(mt, mc)
    if case == "realloc_zero_twice" and REALLOC_ZERO:
        s = helpers.parse_error_summary(mt.stderr)
        assert (s["errors"], s["contexts"]) == (2, 1), mt


def test_all_cases_in_one_run_like_memcheck(client, workdir):
    """One run of every case, with --error-exitcode: the same errors in the
    same order, the same counts (memcheck's rules for when two errors are
    one), exit status and heap summary."""
    mt, mc = run_both(["--error-exitcode=7", "--gen-suppressions=all"], [client], workdir)
    assert mt.returncode == 7 and mt.stdout == DONE, mt
    assert_like_memcheck(mt, mc)
    assert headlines(mt) == [h for c in CASES for h in expected(c)]


def _usage(r):
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees", r.stderr)
    assert m, r
    return tuple(int(x.replace(",", "")) for x in m.groups())


def test_realloc_zero_bytes_frees(client, workdir):
    """The core's option decides whether realloc(p, 0) frees p or resizes
    it to a 1-byte block; memtrack's errors and heap figures follow (a 3.19
    core has no such option: both tools refuse it alike)."""
    cases = ["realloc_zero", "realloc_zero_freed", "realloc_zero_of_new", "reallocarray_zero"]
    usage = {}
    for frees in ("yes", "no"):
        mt, mc = run_both([f"--realloc-zero-bytes-frees={frees}"], [client, *cases], workdir)
        if not REALLOC_ZERO:
            for r in (mt, mc):
                assert r.returncode == 1 and f"Unknown option: --realloc-zero-bytes-frees={frees}" in r.stderr, r
            continue
        assert mt.returncode == 0 and mt.stdout == DONE, mt
        assert_like_memcheck(mt, mc)
        usage[frees] = _usage(mt)
    if REALLOC_ZERO:
        # Resizing, each realloc(p, 0) is a realloc: one alloc and one free
        # (the freed block's too, refused); freeing, a free.
        assert usage["no"] == (usage["yes"][0] + 4, usage["yes"][1] + 3), usage


@pytest.mark.parametrize("show", ["yes", "no"])
def test_show_realloc_size_zero(show, client, workdir):
    """memcheck's --show-realloc-size-zero, where memcheck has it; elsewhere
    memtrack refuses it as memcheck does, and --help does not list it."""
    cases = ["realloc_zero", "reallocarray_zero", "memalign_zero"]
    mt, mc = run_both([f"--show-realloc-size-zero={show}"], [client, *cases], workdir)
    usage = helpers.run_memtrack(["--help"], [], workdir)
    if not REALLOC_ZERO:
        for r in (mt, mc):
            assert r.returncode == 1 and f"Unknown option: --show-realloc-size-zero={show}" in r.stderr, r
        assert "--show-realloc-size-zero" not in usage.stdout, usage
        return
    assert "--show-realloc-size-zero=no|yes" in usage.stdout, usage
    assert mt.returncode == 0 and mt.stdout == DONE, mt
    assert_like_memcheck(mt, mc)
    shown = [h for h in headlines(mt) if h.endswith("with size 0")]
    assert len(shown) == (2 if show == "yes" else 0), mt


def test_show_mismatched_frees_no(client, workdir):
    """memcheck's --show-mismatched-frees=no hides mismatched families only:
    size and alignment mismatches stay."""
    mt, mc = run_both(["--show-mismatched-frees=no"], [client], workdir)
    assert mt.returncode == 0 and mt.stdout == DONE, mt
    assert_like_memcheck(mt, mc)
    assert MISMATCH not in headlines(mt), mt
    if ALIGNED_CHECKS:
        assert "Mismatched new/delete size value: 32" in headlines(mt), mt


def _supp_text(kinds):
    return "".join(f"{{\n   all-{k}\n   Memcheck:{k}\n   fun:*\n   ...\n}}\n" for k in kinds)


def test_memcheck_suppressions_cover_the_new_kinds(client, workdir):
    """A memcheck suppression file with this release's kinds suppresses the
    same errors under memtrack (adopted as Memtrack's), with the same
    counts."""
    kinds = ["Free"]
    if REALLOC_ZERO:
        kinds.append("ReallocZero")
    if ALIGNED_CHECKS:
        kinds += ["BadAlign", "SizeMismatch", "AlignMismatch", "UnsafeZeroSize" if UNSAFE_ZERO else "BadSize"]
    supp = workdir / "mc.supp"
    supp.write_text(_supp_text(kinds))
    mt, mc = run_both([f"--suppressions={supp}", "-s"], [client], workdir)
    assert_like_memcheck(mt, mc)
    s = helpers.parse_error_summary(mt.stderr)
    # What is left: the fishy size only.
    assert (s["errors"], s["contexts"]) == (1, 1), mt
    used = lambda r: sorted(re.findall(r"used_suppression:\s+(\d+ \S+)", r.stderr))
    assert used(mt) == used(mc), (mt, mc)


def test_old_suppression_name_still_read(client, workdir):
    """3.26 renamed BadSize to UnsafeZeroSize and still reads the old name;
    before, only BadSize is known; before 3.22 neither, and a file naming
    one stops memtrack as it stops memcheck."""
    if not ALIGNED_CHECKS:
        for tool in ("memtrack", "memcheck"):
            supp = workdir / f"{tool}.supp"
            supp.write_text(_supp_text(["BadSize"]).replace("Memcheck:", f"{tool.capitalize()}:"))
            r = helpers.run_tool(tool, [f"--suppressions={supp}"], [client, "keep_one"], workdir)
            assert "unknown tool suppression type" in r.stderr and r.stdout == "", r
        return
    supp = workdir / "old.supp"
    supp.write_text(_supp_text(["BadSize"]))
    mt, mc = run_both([f"--suppressions={supp}"], [client, "memalign_zero", "posix_memalign_zero"], workdir)
    assert_like_memcheck(mt, mc)
    assert helpers.parse_error_summary(mt.stderr)["suppressed"] == 2, mt


def _xml_frames_alike(views):
    """Preload frames without their file and line: memcheck's preload has
    debug info in some releases, memtrack's never (as helpers.normalise)."""
    out = []
    for view in views:
        v = []
        for tag, val in view:
            if tag == "stack":
                val = [(fn, None, None, None) if (f or "").startswith("vg_replace_") else (fn, d, f, l)
                       for fn, d, f, l in val]
            v.append((tag, val))
        out.append(v)
    return out


def _xml_errors(path, tool):
    """The <error>s of an XML file as test_leak_xml reads them (kind, what,
    auxwhat, stacks, suppression), and <errorcounts> resolved to them. The
    rest of the file (its protocol version, the summaries protocol 6 adds)
    is not this test's subject."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        pytest.fail(f"{tool}'s XML {path} is not well-formed: {e}")
    errors = root.findall("error")
    views = _xml_frames_alike([test_leak_xml.error_view(e, tool) for e in errors])
    by_id = {e.findtext("unique"): v for e, v in zip(errors, views)}
    counts = [(int(p.findtext("count")), by_id.get(p.findtext("unique"))) for p in root.findall("errorcounts/pair")]
    return [e.findtext("kind") for e in errors], views, counts


def test_xml_like_memcheck(client, workdir):
    """--xml=yes: every error's kind, what, auxwhat, stacks and generated
    suppression, and the error counts, as memcheck writes them."""
    mtx, mcx = workdir / "memtrack.xml", workdir / "memcheck.xml"
    opts = ["--xml=yes", "--gen-suppressions=all"]
    mt, mc = leak_helpers.run_pair([*SYNONYMS, *opts, f"--xml-file={mtx}"], [client], workdir,
                                   mc_opts=[*SYNONYMS, *opts, f"--xml-file={mcx}"])
    assert mt.returncode == mc.returncode == 0 and mt.stdout == mc.stdout == DONE, (mt, mc)
    (ka, va, ca), (kb, vb, cb) = _xml_errors(mtx, "memtrack"), _xml_errors(mcx, "memcheck")
    assert ka == kb, leak_helpers._diff("error kinds", ka, kb)
    for i, (x, y) in enumerate(zip(va, vb)):
        assert x == y, leak_helpers._diff(f"error {i} ({ka[i]})", x, y)
    assert ca == cb, leak_helpers._diff("errorcounts", ca, cb)
    want = {"FishyValue", "MismatchedFree", "InvalidFree"}
    if REALLOC_ZERO:
        want.add("ReallocSizeZero")
    if ALIGNED_CHECKS:
        want |= {"InvalidAlignment", "InvalidSize", "MismatchedAllocateDeallocateSize",
                 "MismatchedAllocateDeallocateAlignment"}
    assert set(ka) == want, ka
