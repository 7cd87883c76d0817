"""Dead stack is known in the tool's own memory (mt_deadstack): the leak
search ignores stack words no frame wrote since it covered them, as
memcheck's definedness bits do, and the client's stack is never written."""
import pytest

import helpers
import leak_helpers


def _stdout_lines(r):
    return [l for l in r.stdout.splitlines() if l.startswith("stale block addresses")]


@pytest.mark.parametrize("opts", [[], ["--leak-check=full"], ["--scrub-stack=yes", "--leak-check=no"]],
                         ids=["default", "full", "scrub-yes"])
def test_program_reads_its_stack_unchanged(opts, clients, workdir):
    """stack_reader.c reads a frame it never wrote, where an earlier frame
    left block addresses: it prints what Valgrind's none tool and memcheck
    let it see (the block addresses among the stale words, and a checksum
    of the rest). Zeroing dead stack, as memtrack once did under
    --leak-check=full, changed this output."""
    argv = [clients.path("stack_reader")]
    none = helpers.run_tool("none", [], argv, workdir)
    mc = helpers.run_memcheck(opts if "--scrub-stack=yes" not in opts else ["--leak-check=no"], argv, workdir)
    mt = helpers.run_memtrack(opts, argv, workdir)
    assert none.returncode == mc.returncode == mt.returncode == 0, (none, mc, mt)
    want = _stdout_lines(mc)
    # fill() leaves a block address in every eighth of its 64 words.
    assert want and want[0].startswith("stale block addresses: 8,"), mc.stdout
    assert _stdout_lines(mt) == want, mt.stdout
    # Under none the program sees the same block addresses; the checksum of
    # the other stale words is the same too on amd64, but not on arm64,
    # where libc's own malloc (none replaces none) leaves other words in
    # that stack than Valgrind's replacement, which memcheck and memtrack
    # share (measured under qemu: 916,286 under none, 718,009 under both).
    nw = _stdout_lines(none)
    assert nw and nw[0].split(",")[0] == want[0].split(",")[0], none.stdout
    if helpers.VG_CONF.get("VG_PLATFORM") == "amd64-linux":
        assert nw == want, none.stdout


def test_default_summary_is_memchecks(clients, workdir):
    """The LEAK SUMMARY of the default --leak-check=summary: stale pointers
    left by returned frames (leak_stackpops.c, five ways a frame goes) keep
    nothing alive, as under memcheck, without --leak-check=full."""
    mt, mc = leak_helpers.run_pair([], [clients.path("leak_stackpops")], workdir, mc_opts=[])
    mt_out, mc_out = leak_helpers.parse(mt.stderr), leak_helpers.parse(mc.stderr)
    assert mt_out.leak_summaries == mc_out.leak_summaries, (mt.stderr, mc.stderr)
    assert mt_out.leak_summaries[0][1] == "   definitely lost: 280 bytes in 5 blocks", mt.stderr


def test_exited_threads_leave_dead_stack(clients, workdir):
    """The end-of-run search comes after every thread is gone; what each
    left below its stack pointer is dead (leak_threads.c: worker 4 loses a
    block whose only pointer was in a frame that returned), as memcheck's
    bits say without any thread, with and without --scrub-stack."""
    for extra in ([], ["--scrub-stack=no"]):
        mt, mc = leak_helpers.run_pair(["--leak-check=full"] + extra, [clients.path("leak_threads")], workdir,
                                       mc_opts=["--leak-check=full"])
        assert leak_helpers.parse(mt.stderr).leak_summaries == leak_helpers.parse(mc.stderr).leak_summaries, \
            (extra, mt.stderr, mc.stderr)
