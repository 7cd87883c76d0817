"""Custom allocators (valgrind.h's MALLOCLIKE_BLOCK, FREELIKE_BLOCK,
RESIZEINPLACE_BLOCK and the mempool requests) under memtrack, against
memcheck: the HEAP SUMMARY ("in use at exit" counts MALLOCLIKE blocks, not
pool chunks; "total heap usage" counts both), every loss record and LEAK
SUMMARY, the errors ("Illegal memory pool address", "Invalid free()",
"Mismatched free()") with their descriptions, the error counts and the exit
status. The clients, tests/clients/custom_blocks.c and custom_pools.c,
re-create memcheck's own cases (custom_alloc, custom-overlap, leak-pool,
mempool, leak-autofreepool) and add the other requests. DHAT ignores these
requests, and memtrack's profile must stay DHAT's.
"""
import re

import pytest

import helpers
import leak_helpers
import profile_helpers as ph

FULL = ["--leak-check=full", "--show-leak-kinds=all"]


def run_pair(opts, argv, workdir, mc_opts=None):
    """leak_helpers.run_pair; with --leak-check=no memtrack is asked to know
    dead stack anyway (--scrub-stack=yes), its stand-in for memcheck's
    definedness bits, which it turns on by itself whenever the end of the
    run searches (docs/manual.md); the client's own searches need it."""
    mc_opts = opts if mc_opts is None else mc_opts
    scrub = ["--scrub-stack=yes"] if "--leak-check=no" in opts else []
    return leak_helpers.run_pair(opts + scrub, argv, workdir, mc_opts=mc_opts)

BLOCK_MODES = ["leaks", "mapped", "inside", "leak-fn"]
POOL_MODES = ["cells", "cells-trim", "cells-destroy", "levels", "ops", "static",
              "meta-0", "meta-1", "meta-2", "meta-4", "meta-6", "meta-heap", "meta-search", "in-blocks"]

# The allocator frames of the clients' custom blocks: a record whose stack
# starts in one of these is a custom block's.
CUSTOM_FRAMES = re.compile(r": (arena_alloc|inside_malloc|pool_get|stack_alloc|static_only|metapools|meta_heap) ")

# memcheck prints a pool's chunks with raw (not 0x) addresses.
_RAW_RANGE = re.compile(r"\[[0-9a-f]+,[0-9a-f]+\)")


def _unraw(*results):
    for r in results:
        r.stderr = _RAW_RANGE.sub("[?,?)", r.stderr)


def _custom_records(out):
    return [r for r in out.exit_records if r.frames and CUSTOM_FRAMES.search(r.frames[0])]


@pytest.mark.parametrize("opts", [FULL, []], ids=["full", "defaults"])
@pytest.mark.parametrize("mode", BLOCK_MODES)
def test_malloclike_blocks_like_memcheck(mode, opts, clients, workdir):
    mt, mc = run_pair(opts + ["--error-exitcode=9"], [clients.path("custom_blocks"), mode], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    if opts:
        # The custom blocks are in memcheck's report (so the comparison
        # above is about them), and so in memtrack's.
        assert _custom_records(b), mc
        assert mt.returncode == 9


def test_malloclike_record_kinds(clients, workdir):
    """The 'leaks' scenario reaches every kind memcheck has, through custom
    blocks only: written down from memcheck's report."""
    mt, mc = leak_helpers.run_pair_cached(FULL + ["--error-exitcode=9"], [clients.path("custom_blocks"), "leaks"],
                                          workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    kinds = {r.kind for r in _custom_records(a)}
    assert kinds == {"definitely lost", "indirectly lost", "possibly lost", "still reachable"}
    heads = [r.headline for r in _custom_records(a)]
    # the list head with its two nodes, and the block resized 200 -> 72
    assert any(h.startswith("96 (32 direct, 64 indirect) bytes in 1 blocks are definitely lost") for h in heads), heads
    assert any(h.startswith("72 bytes in 1 blocks are definitely lost") for h in heads), heads
    # in use at exit: the malloc'd arena and every live MALLOCLIKE block
    assert a.heap_summary[1] == "    in use at exit: 8,508 bytes in 10 blocks", a.heap_summary


def test_custom_block_errors_like_memcheck(clients, workdir):
    """FREELIKE/RESIZEINPLACE of unknown, interior, freed, stack and global
    addresses, a malloc'd block released by FREELIKE then by free(), free()
    and realloc() of MALLOCLIKE blocks: the same errors, in the same order,
    with the same descriptions and stacks."""
    mt, mc = leak_helpers.run_pair(FULL + ["--error-exitcode=5"],
                                   [clients.path("custom_blocks"), "errors"], workdir)
    leak_helpers.assert_same_leak_output(mt, mc)
    assert mt.returncode == 5
    heads = [e.headline for e in helpers.parse_errors(mc.stderr)]
    assert heads.count("Invalid free() / delete / delete[] / realloc()") == 10, heads
    assert heads.count("Mismatched free() / delete / delete []") == 3, heads
    assert [e.normalised for e in helpers.parse_errors(mt.stderr)] == \
        [e.normalised for e in helpers.parse_errors(mc.stderr)]


@pytest.mark.parametrize("opts", [FULL, []], ids=["full", "defaults"])
@pytest.mark.parametrize("mode", POOL_MODES)
def test_mempools_like_memcheck(mode, opts, clients, workdir):
    mt, mc = run_pair(opts, [clients.path("custom_pools"), mode], workdir)
    _unraw(mt, mc)
    leak_helpers.assert_same_leak_output(mt, mc)


def test_mempool_leak_pool_figures(clients, workdir):
    """memcheck's leak-pool expectations (research note, section 6): with
    full, case 0 gives 1,608 bytes in 100 blocks definitely lost and 16 in
    1 indirectly; the trimmed pool 346 in 22; the destroyed one 24 in 1
    with the 4,096-byte superblock indirectly lost."""
    expect = {"cells": {"definitely lost": (1608, 100), "indirectly lost": (16, 1)},
              "cells-trim": {"definitely lost": (346, 22), "indirectly lost": (0, 0)},
              "cells-destroy": {"definitely lost": (24, 1), "indirectly lost": (4096, 1)}}
    for mode, want in expect.items():
        mt, mc = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), mode], workdir)
        a, b = leak_helpers.assert_same_leak_output(mt, mc)
        got = a.summary_numbers()
        assert {k: got[k] for k in want} == want, (mode, got)


def test_autofree_metapool_frees_everything(clients, workdir):
    """leak-autofreepool 2 and 6: an auto-free metapool leaves nothing."""
    for mode in ("meta-2", "meta-6"):
        mt, mc = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), mode], workdir)
        a, b = leak_helpers.assert_same_leak_output(mt, mc)
        assert "All heap blocks were freed -- no leaks are possible" in a.at_exit


def test_pool_without_heap_blocks_is_not_searched(clients, workdir):
    """memcheck searches nothing when no malloc'd or MALLOCLIKE block is
    live, even with pool chunks (their pool was never malloc'd)."""
    mt, mc = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), "static"], workdir)
    a, b = leak_helpers.assert_same_leak_output(mt, mc)
    assert "All heap blocks were freed -- no leaks are possible" in b.at_exit
    assert b.heap_summary[2].startswith("  total heap usage: 8 allocs, 0 frees, 256 bytes"), b.heap_summary


def test_bad_pools_like_memcheck(clients, workdir):
    """Requests naming no pool: 'Illegal memory pool address' with the
    address described (stack, global, heap block, nothing), counted for
    --error-exitcode; requests naming a pool but no chunk: 'Invalid free()'
    (inside a chunk: 'client-defined'); overlapping chunks: the pool's
    sanity messages at each trim and destroy."""
    mt, mc = leak_helpers.run_pair(FULL + ["--error-exitcode=3"],
                                   [clients.path("custom_pools"), "bad"], workdir)
    _unraw(mt, mc)
    leak_helpers.assert_same_leak_output(mt, mc)
    assert mt.returncode == 3
    heads = [e.headline for e in helpers.parse_errors(mc.stderr)]
    assert heads.count("Illegal memory pool address") == 6, heads
    assert heads.count("Invalid free() / delete / delete[] / realloc()") == 4, heads
    assert any("client-defined" in l for e in helpers.parse_errors(mt.stderr) for l in e.lines)
    assert mt.stderr.count("overlaps with its successor") == 3


SUPP = """{
   pool errors
   %s:Mempool
   ...
   fun:bad
}
"""


@pytest.mark.parametrize("tool", ["Memcheck", "Memtrack"])
def test_illegal_pool_errors_are_suppressible(tool, clients, workdir):
    """The kind is Mempool, as memcheck's: Memtrack:Mempool entries, and
    Memcheck:Mempool ones from memcheck's suppression files, suppress
    them; the invalid frees stay."""
    supp = workdir / "pools.supp"
    supp.write_text(SUPP % tool)
    mc_supp = workdir / "pools-mc.supp"
    mc_supp.write_text(SUPP % "Memcheck")
    opts = FULL + ["--error-exitcode=3"]
    mt, mc = leak_helpers.run_pair(opts + [f"--suppressions={supp}"], [clients.path("custom_pools"), "bad"],
                                   workdir, mc_opts=opts + [f"--suppressions={mc_supp}"])
    _unraw(mt, mc)
    leak_helpers.assert_same_leak_output(mt, mc)
    es = helpers.parse_error_summary(mt.stderr)
    assert (es["errors"], es["suppressed"]) == (4, 6), es
    assert "Illegal memory pool address" not in mt.stderr


def test_illegal_pool_xml_kind(clients, workdir):
    """With --xml=yes the error is protocol 4's InvalidMemPool."""
    opts = ["--leak-check=full"]
    runs = []
    for tool in ("memtrack", "memcheck"):
        xml = workdir / f"{tool}.xml"
        runs.append((helpers.run_tool(tool, opts + ["--xml=yes", f"--xml-file={xml}"],
                                      [clients.path("custom_pools"), "bad"], workdir), xml))
    kinds = [re.findall(r"<kind>(\w+)</kind>", x.read_text()) for _, x in runs]
    assert kinds[1].count("InvalidMemPool") == 6, kinds[1]
    assert kinds[0] == kinds[1]


def test_overlap_message_like_memcheck(clients, workdir):
    """leak-autofreepool 5: MALLOCLIKE blocks inside a plain pool's chunk.
    memcheck prints the overlap and stops with an assertion; memtrack
    prints the same lines and goes on with both blocks, which gives the
    report memcheck gives when the pool is a METAPOOL (case 4)."""
    mt, mc = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), "meta-5"], workdir)

    def overlap(r):
        lines = leak_helpers.valgrind_lines(r.stderr)
        i = next(i for i, l in enumerate(lines) if l.startswith("Block 0x"))
        j = next(j for j, l in enumerate(lines) if l.startswith("This is usually caused"))
        return lines[i:j + 1]

    assert overlap(mt) == overlap(mc)
    assert "the 'impossible' happened" in mc.stderr and "the 'impossible' happened" not in mt.stderr
    assert mt.returncode == 0
    _, mc4 = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), "meta-4"], workdir)
    a, b4 = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc4.stderr)
    assert [(r.headline, r.frames) for r in a.exit_records] == [(r.headline, r.frames) for r in b4.exit_records]
    assert a.leak_summary == b4.leak_summary


def test_autofree_without_metapool_stops_like_memcheck(clients, workdir):
    """An AUTO_FREE pool that is not a METAPOOL: memcheck prints the
    request and its stack and stops the run; so does memtrack."""
    mt, mc = leak_helpers.run_pair(FULL, [clients.path("custom_pools"), "meta-3"], workdir)

    def head(r):
        lines = leak_helpers.valgrind_lines(r.stderr)
        i = next(i for i, l in enumerate(lines) if l.startswith("create_mempool("))
        return lines[i:i + 3]

    assert head(mt) == head(mc)
    assert "autofree=1, metapool=0)" in head(mc)[0]
    for r in (mt, mc):
        assert "Inappropriate use of mempool: an auto free pool must be a meta pool. Aborting" in r.stderr, r
        assert "HEAP SUMMARY:" not in r.stderr
    assert mt.returncode == mc.returncode != 0


# ---- the profile -----------------------------------------------------------

PROFILE_RUNS = [("custom_blocks", "leaks"), ("custom_blocks", "mapped"), ("custom_blocks", "inside"),
                ("custom_pools", "ops"), ("custom_pools", "cells"), ("custom_pools", "meta-heap"),
                ("custom_pools", "meta-6")]


@pytest.mark.parametrize("client,mode", PROFILE_RUNS, ids=[f"{c}-{m}" for c, m in PROFILE_RUNS])
def test_profile_is_dhats(client, mode, clients, workdir):
    """DHAT ignores the requests: memtrack's profile has the same sites and
    figures as DHAT's, and no site for a custom block, even for malloc'd
    blocks that FREELIKE or an auto-free pool released (meta-heap)."""
    argv = [clients.path(client), mode]
    mr, mp = ph.run_memtrack(["--leak-check=full"], argv, workdir)
    dr, dp = ph.run_dhat([], argv, workdir)
    assert mr.returncode == dr.returncode == 0, (mr, dr)
    assert helpers.summary_lines(mr.stderr) == helpers.summary_lines(dr.stderr)
    mt, dh = ph.checked_profile(mp, mr), ph.load(dp)
    probs, stats = ph.compare_sites(mt, dh)
    assert not probs, "\n".join(probs)
    assert len(mt["pps"]) == len(dh["pps"])
