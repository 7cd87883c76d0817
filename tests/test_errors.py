"""Client (2), tests/clients/bad_frees.cpp: bad frees and mismatched
deallocations must be reported as memcheck reports them (memcheck is the
oracle: same errors, same headlines, same address descriptions, same
stacks, same generated suppressions), count as errors, be suppressible as
Memtrack:Free / Memtrack:FishyValue, and never stop the program."""
import re

import pytest

import helpers

INVALID = "Invalid free() / delete / delete[] / realloc()"
MISMATCH = "Mismatched free() / delete / delete []"
FISHY = "Argument 'size' of function malloc has a fishy (possibly negative) value: -5"

# What each case in bad_frees.cpp does, and therefore what must be reported:
# (headline, the function in the error's first frame, patterns the address
# description lines must match). Sizes are the client's own.
A = r"Address 0x[0-9a-fA-F]+ is "
CASES = {
    "double_free": (INVALID, "free", [A + r"0 bytes inside a block of size 10 free'd$", r"^Block was alloc'd at$"]),
    "free_stack": (INVALID, "free", [A + r"on thread 1's stack$"]),
    "free_global": (INVALID, "free", [A + r'0 bytes inside data symbol "g_global"$']),
    "free_interior": (INVALID, "free", [A + r"8 bytes inside a block of size 16 alloc'd$"]),
    "free_never_allocated": (INVALID, "free", [r"^Address 0x1234560 is not stack'd, malloc'd or \(recently\) free'd$"]),
    "delete_of_new_vec": (MISMATCH, "operator delete", [A + r"0 bytes inside a block of size 40 alloc'd$"]),
    "free_of_new": (MISMATCH, "free", [A + r"0 bytes inside a block of size 4 alloc'd$"]),
    "delete_vec_of_malloc": (MISMATCH, "operator delete[]", [A + r"0 bytes inside a block of size 24 alloc'd$"]),
    "delete_vec_of_new": (MISMATCH, "operator delete[]", [A + r"0 bytes inside a block of size 8 alloc'd$"]),
    # realloc of a new[]'d block is a mismatch; the block realloc returns is
    # malloc'd (as in memcheck), so the client's later free() of it is fine.
    "realloc_of_new": (MISMATCH, "realloc", [A + r"0 bytes inside a block of size 32 alloc'd$"]),
    "realloc_of_freed": (INVALID, "realloc", [A + r"0 bytes inside a block of size 40 free'd$", r"^Block was alloc'd at$"]),
    # The block realloc moved to is realloc's: memcheck shows realloc's stack
    # under "Block was alloc'd at".
    "double_free_after_realloc": (INVALID, "free", [A + r"0 bytes inside a block of size 100 free'd$", r"^Block was alloc'd at$"]),
    "fishy_malloc": (FISHY, "malloc", []),
}
ALL = list(CASES)
MISMATCH_CASES = [c for c in ALL if CASES[c][0] == MISMATCH]
DONE = "bad_frees: done\n"

# Valgrind 3.22 and later also check sized deletes: `delete p` of a new
# int[10] is the compiler's operator delete(void*, 4), which memcheck
# reports before the mismatch as well (tests/test_alloc_versions.py has the
# other checks that came with releases).
SIZED = "Mismatched new/delete size value: 4"
ALSO = {"delete_of_new_vec": [SIZED]} if helpers.VG_VERSION >= (3, 22) else {}
N_ALSO = sum(len(v) for v in ALSO.values())


def _headlines(cases):
    """Every headline memcheck of this release prints for the cases, in order."""
    return [h for c in cases for h in ALSO.get(c, []) + [CASES[c][0]]]


@pytest.fixture(scope="module")
def bad_frees(clients):
    return clients.path("bad_frees")


def _frames(err):
    return [l for l in err.lines if re.match(r"^\s+(at|by) 0x[0-9A-Fa-f]+: ", l)]


def _sum(r):
    return helpers.parse_error_summary(r.stderr)


@pytest.mark.parametrize("case", ALL)
def test_case_reported_like_memcheck(case, bad_frees, workdir):
    """Each case on its own: exactly one error, of the expected kind and
    shape, and the whole report (addresses and preload names aside) and its
    generated suppression are memcheck's."""
    headline, fn, descs = CASES[case]
    opts = ["--gen-suppressions=all"]
    mt = helpers.run_memtrack(opts, [bad_frees, case], workdir)
    assert mt.returncode == 0 and mt.stdout == DONE, mt
    errors = helpers.parse_errors(mt.stderr)
    assert [e.headline for e in errors] == _headlines([case]), mt
    assert _sum(mt)["errors"] == len(errors), mt
    e = errors[-1]
    frames = _frames(e)
    assert re.match(rf"^   at 0x[0-9A-Fa-f]+: {re.escape(fn)}[ (].*\(in \S*vgpreload_memtrack-", frames[0]), e.lines
    assert re.match(rf"^   by 0x[0-9A-Fa-f]+: {case}\(\) \(bad_frees\.cpp:\d+\)$", frames[1]), e.lines
    got = [l.strip() for l in e.lines[1:] if not re.match(r"^\s+(at|by) 0x", l)]
    for pattern in descs:
        assert any(re.search(pattern, g) for g in got), f"no line matching {pattern!r} in {e.lines}"

    mc = helpers.run_memcheck(opts, [bad_frees, case], workdir)
    assert mc.returncode == 0 and mc.stdout == DONE, mc
    assert [x.normalised for x in errors] == [x.normalised for x in helpers.parse_errors(mc.stderr)]
    assert _sum(mt) == _sum(mc)
    mt_supp = helpers.gen_suppressions(mt.stderr)
    mc_supp = [s.replace("Memcheck:", "Memtrack:") for s in helpers.gen_suppressions(mc.stderr)]
    assert mt_supp == mc_supp


def test_all_cases_in_one_run_match_memcheck(bad_frees, workdir):
    """All cases in one run: the same number of errors and contexts, the same
    sequence of headlines and the same address descriptions as memcheck."""
    mt = helpers.run_memtrack([], [bad_frees], workdir)
    mc = helpers.run_memcheck([], [bad_frees], workdir)
    for r in (mt, mc):
        assert r.returncode == 0 and r.stdout == DONE, r
    mt_err, mc_err = helpers.parse_errors(mt.stderr), helpers.parse_errors(mc.stderr)
    assert [e.headline for e in mt_err] == [e.headline for e in mc_err]
    assert [e.descriptions for e in mt_err] == [e.descriptions for e in mc_err]
    assert _sum(mt) == _sum(mc)
    assert _sum(mt)["errors"] == len(ALL) + N_ALSO


def test_program_goes_on_after_every_error(bad_frees, workdir):
    r = helpers.run_memtrack([], [bad_frees], workdir)
    assert r.returncode == 0, r
    assert r.stdout == DONE
    helpers.parse_summary(r.stderr)
    assert _sum(r)["errors"] >= len(ALL)
    # Every expected kind shows up, in the client's order.
    headlines = [e.headline for e in helpers.parse_errors(r.stderr)]
    want = [CASES[c][0] for c in ALL]
    it = iter(headlines)
    assert all(h in it for h in want), headlines


def test_error_exitcode(bad_frees, clients, workdir):
    r = helpers.run_memtrack(["--error-exitcode=3"], [bad_frees, "double_free"], workdir)
    assert r.returncode == 3, r
    assert r.stdout == DONE
    r = helpers.run_memtrack(["--error-exitcode=3"], [bad_frees, "fishy_malloc"], workdir)
    assert r.returncode == 3, r
    r = helpers.run_memtrack(["--error-exitcode=3"], [clients.path("dhat_basic")], workdir)
    assert r.returncode == 0, r
    assert _sum(r)["errors"] == 0, r
    r = helpers.run_memtrack([], [bad_frees, "double_free"], workdir)
    assert r.returncode == 0, r


def _write(path, text):
    path.write_text(text)
    return str(path)


SUPP_ALL = """\
{
   every-bad-free
   Memtrack:Free
   fun:*
   ...
}
{
   negative-malloc
   Memtrack:FishyValue
   malloc(size)
   fun:*
   ...
}
""" + ("""\
{
   sized-delete
   Memtrack:SizeMismatch
   fun:*
   ...
}
""" if ALSO else "")


def test_suppression_file_suppresses_everything(bad_frees, workdir):
    plain = helpers.run_memtrack([], [bad_frees], workdir)
    n = _sum(plain)
    supp = _write(workdir / "all.supp", SUPP_ALL)
    r = helpers.run_memtrack([f"--suppressions={supp}", "--error-exitcode=3", "-s"], [bad_frees], workdir)
    assert r.returncode == 0, r
    assert r.stdout == DONE
    assert helpers.parse_errors(r.stderr) == [], r
    s = _sum(r)
    assert (s["errors"], s["contexts"]) == (0, 0), r
    assert (s["suppressed"], s["suppressed_contexts"]) == (n["errors"], n["contexts"]), r
    # -s lists the suppressions used, with their counts.
    used = dict((name, int(count)) for count, name in
                re.findall(r"used_suppression:\s+(\d+) (\S+) ", r.stderr))
    want = {"every-bad-free": n["errors"] - 1 - N_ALSO, "negative-malloc": 1}
    if ALSO:
        want["sized-delete"] = N_ALSO
    assert used == want, r


def test_free_suppression_leaves_fishy_value_errors(bad_frees, workdir):
    supp = _write(workdir / "free.supp", SUPP_ALL.split("{\n   negative-malloc")[0])
    r = helpers.run_memtrack([f"--suppressions={supp}"], [bad_frees], workdir)
    assert [e.headline for e in helpers.parse_errors(r.stderr)] == [SIZED] * N_ALSO + [FISHY], r
    assert _sum(r)["errors"] == 1 + N_ALSO


def test_fishy_suppression_must_name_function_and_argument(bad_frees, workdir):
    supp = _write(workdir / "fishy.supp", """\
{
   wrong-argument
   Memtrack:FishyValue
   calloc(nmemb)
   fun:*
   ...
}
""")
    r = helpers.run_memtrack([f"--suppressions={supp}"], [bad_frees, "fishy_malloc"], workdir)
    assert [e.headline for e in helpers.parse_errors(r.stderr)] == [FISHY], r
    assert _sum(r)["suppressed"] == 0


def test_suppression_by_stack(bad_frees, workdir):
    """A suppression matching one caller removes exactly that error."""
    plain = _sum(helpers.run_memtrack([], [bad_frees], workdir))
    supp = _write(workdir / "one.supp", """\
{
   only-the-double-free
   Memtrack:Free
   fun:free
   fun:_Z11double_freev
}
""")
    r = helpers.run_memtrack([f"--suppressions={supp}"], [bad_frees], workdir)
    s = _sum(r)
    assert s["suppressed"] == 1, r
    assert s["errors"] == plain["errors"] - 1, r
    assert not any(" double_free()" in l for e in helpers.parse_errors(r.stderr) for l in e.lines), r


def test_gen_suppressions_round_trip(bad_frees, workdir):
    """--gen-suppressions=all prints one suppression per error, of kind
    Memtrack:Free or Memtrack:FishyValue (with 'malloc(size)'; from 3.22 one
    Memtrack:SizeMismatch too), and those
    suppressions, fed back, suppress every error."""
    r = helpers.run_memtrack(["--gen-suppressions=all"], [bad_frees], workdir)
    assert r.returncode == 0 and r.stdout == DONE, r
    n = _sum(r)
    supps = helpers.gen_suppressions(r.stderr)
    assert len(supps) == n["errors"], r
    kinds = [s.splitlines()[2].strip() for s in supps]
    assert set(kinds) == {"Memtrack:Free", "Memtrack:FishyValue"} | ({"Memtrack:SizeMismatch"} if ALSO else set()), supps
    fishy = [s for s in supps if "Memtrack:FishyValue" in s]
    assert len(fishy) == 1 and fishy[0].splitlines()[3].strip() == "malloc(size)", fishy
    text = "\n".join(s.replace("<insert_a_suppression_name_here>", f"generated-{i}")
                     for i, s in enumerate(supps)) + "\n"
    supp = _write(workdir / "generated.supp", text)
    r2 = helpers.run_memtrack([f"--suppressions={supp}"], [bad_frees], workdir)
    s2 = _sum(r2)
    assert (s2["errors"], s2["suppressed"]) == (0, n["errors"]), r2


def test_show_mismatched_frees_no(bad_frees, workdir):
    """--show-mismatched-frees=no hides mismatches (and only them), as
    memcheck's option of the same name does."""
    opt = ["--show-mismatched-frees=no"]
    r = helpers.run_memtrack(opt, [bad_frees], workdir)
    assert r.returncode == 0 and r.stdout == DONE, r
    headlines = [e.headline for e in helpers.parse_errors(r.stderr)]
    assert MISMATCH not in headlines, r
    # Size mismatches are not mismatched families: memcheck still shows them.
    assert headlines == [h for c in ALL for h in ALSO.get(c, []) + ([] if c in MISMATCH_CASES else [CASES[c][0]])]
    mc = helpers.run_memcheck(opt, [bad_frees], workdir)
    assert headlines == [e.headline for e in helpers.parse_errors(mc.stderr)]
    assert _sum(r) == _sum(mc)
    # yes is the default.
    yes = helpers.run_memtrack(["--show-mismatched-frees=yes"], [bad_frees, ",".join(MISMATCH_CASES)], workdir)
    dflt = helpers.run_memtrack([], [bad_frees, ",".join(MISMATCH_CASES)], workdir)
    assert [e.headline for e in helpers.parse_errors(yes.stderr)] == _headlines(MISMATCH_CASES)
    assert _sum(yes) == _sum(dflt)


def test_freed_history_zero_forgets_freed_blocks(bad_frees, workdir):
    """With --freed-history=0 nothing is remembered about freed blocks: a
    double free is still an error, but the address is described without the
    block (not stack'd/malloc'd/free'd, or via the client arena)."""
    cases = ["double_free", "realloc_of_freed"]
    r = helpers.run_memtrack(["--freed-history=0"], [bad_frees, ",".join(cases)], workdir)
    assert r.returncode == 0 and r.stdout == DONE, r
    errors = helpers.parse_errors(r.stderr)
    assert [e.headline for e in errors] == [INVALID, INVALID], r
    for e in errors:
        d = e.descriptions
        assert len(d) == 1, e.lines
        assert re.match(r"^Address 0x\? is (not stack'd, malloc'd or \(recently\) free'd"
                        r"|[\d,]+ bytes inside an unallocated block of size [\d,]+ in arena \"client\")$", d[0]), d
        assert len(_frames(e)) == 3, e.lines  # only the bad free's own stack


def test_freed_history_one_remembers_the_last_free(bad_frees, workdir):
    r = helpers.run_memtrack(["--freed-history=1"], [bad_frees, "double_free"], workdir)
    errors = helpers.parse_errors(r.stderr)
    assert len(errors) == 1, r
    assert re.search(r"is 0 bytes inside a block of size 10 free'd$", errors[0].descriptions[0]), r


# --keep-stacktraces (memcheck's option, memcheck's default): which stacks
# each mode shows for a freed block (the free stack, then "Block was
# alloc'd at" and the allocation stack) and for a live one (its allocation
# stack); "???" is the null stack memcheck prints where it kept none.
KEEP = {
    None: ("free", True, "malloc"),
    "alloc-and-free": ("free", True, "malloc"),
    "alloc-then-free": ("free", False, "malloc"),
    "alloc": ("???", True, "malloc"),
    "free": ("free", False, "???"),
    "none": ("???", False, "???"),
}
KEEP_CASES = ["double_free", "realloc_of_freed", "double_free_after_realloc", "free_interior", "free_of_new"]


def _first_frame_fn(line):
    m = re.match(r"^\s+at 0x[0-9A-Fa-f]+: (\S+)", line)
    return m[1] if m else None


@pytest.mark.parametrize("mode", list(KEEP), ids=lambda m: m or "default")
def test_keep_stacktraces_like_memcheck(mode, bad_frees, workdir):
    """Each --keep-stacktraces mode (and the default, alloc-and-free for
    both) shows the stacks memcheck's shows, for freed blocks (a double
    free, a realloc of a freed block, a double free after a realloc) and
    live ones (an interior free, a mismatch): the whole errors are
    memcheck's, addresses and preload names aside."""
    opts = [f"--keep-stacktraces={mode}"] if mode else []
    argv = [bad_frees, ",".join(KEEP_CASES)]
    mt = helpers.run_memtrack(opts, argv, workdir)
    mc = helpers.run_memcheck(opts, argv, workdir)
    for r in (mt, mc):
        assert r.returncode == 0 and r.stdout == DONE, r
    mine, theirs = helpers.parse_errors(mt.stderr), helpers.parse_errors(mc.stderr)
    assert [e.normalised for e in mine] == [e.normalised for e in theirs]
    # The shapes the mode promises, so that the comparison is about them.
    free_fn, alloc_line, live_fn = KEEP[mode]
    double = [e for e in mine if any(re.search(r"double_free\(\)", l) for l in e.lines[1:4])][0]
    i = next(k for k, l in enumerate(double.lines) if "free'd" in l)
    assert _first_frame_fn(double.lines[i + 1]) == free_fn, double.lines
    assert ("Block was alloc'd at" in [l.strip() for l in double.lines]) == alloc_line, double.lines
    interior = [e for e in mine if any("free_interior()" in l for l in e.lines[1:4])][0]
    i = next(k for k, l in enumerate(interior.lines) if "alloc'd" in l)
    assert _first_frame_fn(interior.lines[i + 1]) == live_fn, interior.lines
