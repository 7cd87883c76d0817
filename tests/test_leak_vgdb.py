"""vgdb's `leak_check` monitor command on a running program, memtrack
against memcheck. tests/clients/leak_vgdb.c stops at two points and waits
there (asleep, so vgdb has to wake Valgrind's gdbserver up); both tools run
it side by side with --vgdb=yes, and every command goes to both through
`vgdb --pid=<pid> leak_check ...`. What vgdb prints back (loss records,
LEAK SUMMARY, hints, one-line complaints about bad arguments) must be
memcheck's, line for line, addresses and the preload's name aside; so must
the report at exit, which the searches in between must not disturb (they
never count errors).

Each run keeps its vgdb FIFOs in the test's own directory (--vgdb-prefix);
every wait has a deadline, and the programs are killed and the FIFOs
removed whatever happens.
"""
import re
import subprocess
import time

import pytest

import helpers
import leak_helpers

VGDB = helpers.VGDB
DEADLINE = 120  # seconds for any one step (start-up, a command, the exit)

# memcheck's leak_check arguments (its monitor help), each of which the
# help must explain.
LEAK_CHECK_WORDS = ["full", "summary", "kinds", "reachable", "possibleleak", "definiteleak", "heuristics",
                    "increased", "changed", "any", "unlimited", "limited"]


class Running:
    """One tool running the client under vgdb, in its own directory."""

    def __init__(self, tool, opts, client, root):
        self.tool = tool
        self.dir = root / tool
        self.dir.mkdir()
        self.prefix = str(self.dir / "vgdb")
        self.argv = [str(helpers.VG_IN_PLACE), f"--tool={tool}", "--vgdb=yes", f"--vgdb-prefix={self.prefix}",
                     *opts, client, str(self.dir)]
        self.out = open(self.dir / "stdout", "w+b")
        self.err = open(self.dir / "stderr", "w+b")
        self.proc = subprocess.Popen(self.argv, cwd=str(self.dir), env=helpers.base_env(),
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err)
        self.sent = []

    def _text(self, f):
        f.flush()
        f.seek(0)
        return f.read().decode("utf-8", "replace")

    def __str__(self):
        lines = [f"$ {' '.join(self.argv)}", f"--- stderr ---\n{self._text(self.err)}"]
        for cmd, out in self.sent:
            lines.append(f"--- vgdb {cmd} ---\n{out}")
        return "\n".join(lines)

    def wait_at(self, n):
        marker = self.dir / f"at{n}"
        end = time.monotonic() + DEADLINE
        while not marker.exists():
            if self.proc.poll() is not None:
                pytest.fail(f"{self.tool} ended (status {self.proc.returncode}) before point {n}:\n{self}")
            if time.monotonic() > end:
                pytest.fail(f"{self.tool} did not reach point {n} in {DEADLINE} s:\n{self}")
            time.sleep(0.05)

    def send(self, command):
        """vgdb's stdout for one monitor command, as lines."""
        # One argument: vgdb would take a word like "-3" for an option.
        argv = [VGDB, f"--pid={self.proc.pid}", f"--vgdb-prefix={self.prefix}", command]
        try:
            p = subprocess.run(argv, capture_output=True, timeout=DEADLINE, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail(f"vgdb {command} to {self.tool} did not answer in {DEADLINE} s:\n{self}")
        out = p.stdout.decode("utf-8", "replace")
        self.sent.append((command, out + p.stderr.decode("utf-8", "replace")))
        assert p.returncode == 0, f"vgdb {command} exited with {p.returncode}:\n{self}"
        return out.splitlines()

    def go(self, n):
        (self.dir / f"go{n}").touch()

    def finish(self):
        """Lets the client run to its end; the run as a helpers.Result."""
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.tool} did not end in {DEADLINE} s:\n{self}")
        r = helpers.Result(self.argv, self.proc.returncode, self._text(self.out), self._text(self.err))
        print(f"\n===== {r}")
        return r

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()
        # Valgrind removes its FIFOs and shared-memory file at exit, but not
        # when killed.
        for p in self.dir.glob("vgdb-*"):
            p.unlink()


@pytest.fixture
def start(clients, workdir):
    """start(mt_opts, mc_opts=None) runs the client under memtrack and
    memcheck, both stopped at point 1; returns (memtrack, memcheck)."""
    runs = []

    def _start(opts, mc_opts=None):
        client = clients.path("leak_vgdb")
        mt = Running("memtrack", opts, client, workdir)
        runs.append(mt)
        mc = Running("memcheck", opts if mc_opts is None else mc_opts, client, workdir)
        runs.append(mc)
        mt.wait_at(1)
        mc.wait_at(1)
        return mt, mc

    yield _start
    for r in runs:
        print(f"\n===== {r}")
        r.kill()


def monitor_lines(lines):
    """vgdb's output with Valgrind's ==PID== prefix removed and addresses
    and the preload's name hidden."""
    return [helpers.normalise(re.sub(r"^==\d+== ?", "", l)) for l in lines]


def same_answer(mt, mc, command):
    """Sends command to both; memtrack's answer must be memcheck's.
    Returns memcheck's (normalised) lines."""
    a, b = monitor_lines(mt.send(command)), monitor_lines(mc.send(command))
    assert a == b, leak_helpers._diff(f"answers to 'vgdb {command}'", a, b)
    return b


def records(lines):
    return leak_helpers._records_in(lines)


def finish_both(mt, mc, points=(1, 2)):
    """Releases the programs from the given points; the exit reports must
    be the same."""
    for n in points:
        if n != points[0]:
            mt.wait_at(n)
            mc.wait_at(n)
        mt.go(n)
        mc.go(n)
    a, b = mt.finish(), mc.finish()
    leak_helpers.assert_same_leak_output(a, b)
    return a, b


FULL = ["--leak-check=full"]


def test_kinds(start):
    """The default search and each way of choosing kinds."""
    mt, mc = start(FULL)
    # Defaults: full, definite and possible, increased (the first search
    # shows every record as grown, with (+x) suffixes).
    first = same_answer(mt, mc, "leak_check")
    assert {r.kind for r in records(first)} == {"definitely lost", "possibly lost"}, first
    assert "(+" in records(first)[0].headline
    everything = same_answer(mt, mc, "leak_check full kinds all any")
    assert {r.kind for r in records(everything)} == set(leak_helpers.KIND_WORD.values()), everything
    assert len(records(everything)) == 8
    for cmd in ["leak_check any", "leak_check reachable any", "leak_check definiteleak any",
                "leak_check possibleleak any", "leak_check kinds indirect,possible any",
                "leak_check kinds none any", "leak_check f r a"]:
        same_answer(mt, mc, cmd)
    finish_both(mt, mc)


def test_summary(start):
    """'summary' prints the LEAK SUMMARY alone, whatever else is asked, and
    memcheck's monitor hint instead of the option one."""
    mt, mc = start(FULL)
    for cmd in ["leak_check summary", "leak_check summary any", "leak_check summary kinds all changed"]:
        lines = same_answer(mt, mc, cmd)
        assert not records(lines) and "LEAK SUMMARY:" in lines, lines
        assert "To see details of leaked memory, give 'full' arg to leak_check" in lines
    finish_both(mt, mc)


@pytest.mark.parametrize("n", [1, 3, 7, 100])
def test_limited(start, n):
    """limited N lists the N largest records (memcheck's summary then only
    sums up the records from there on)."""
    mt, mc = start(FULL)
    lines = same_answer(mt, mc, f"leak_check full kinds all any limited {n}")
    assert len(records(lines)) == min(n, 8), lines
    lines = same_answer(mt, mc, f"leak_check limited {n} any")
    assert len(records(lines)) == min(n, 4), lines
    finish_both(mt, mc)


@pytest.mark.parametrize("delta", ["increased", "changed", "any"])
def test_delta_modes(start, delta):
    """At point 2 one site has leaked two more blocks, a new site one, and a
    reachable block is gone: 'increased' lists the first two, 'changed' the
    freed one too (0 (-64) bytes), 'any' every record, without suffixes.
    A repeated search then finds nothing new."""
    mt, mc = start(FULL)
    same_answer(mt, mc, "leak_check full kinds all any")
    mt.go(1)
    mc.go(1)
    mt.wait_at(2)
    mc.wait_at(2)
    lines = same_answer(mt, mc, f"leak_check full kinds all {delta}")
    heads = [r.headline for r in records(lines)]
    if delta == "any":
        assert len(heads) == 8 and not any("(+" in h or "(-" in h for h in heads), heads
    else:
        grown = [h for h in heads if re.match(r"^[\d,]+ \(\+[1-9]", h)]
        assert len(grown) == 2, heads
        assert any(h.startswith("0 (-64) bytes") for h in heads) == (delta == "changed"), heads
    again = same_answer(mt, mc, f"leak_check full kinds all {delta}")
    assert len(records(again)) == (8 if delta == "any" else 0), again
    finish_both(mt, mc, points=(2,))


def test_heuristics(start):
    """memcheck's leak_check uses no heuristics unless asked: the block
    reached only 8 bytes in is possibly lost, and reachable via length64
    (or newarray) when asked for."""
    mt, mc = start(FULL)
    via = re.compile(r"^ +(length64|newarray) +: 48 bytes in 1 blocks$")
    for cmd, reached in [("leak_check full kinds all any", False),
                         ("leak_check full heuristics length64 any", True),
                         ("leak_check full heuristics newarray kinds all any", True),
                         ("leak_check heuristics all any", True),
                         ("leak_check heuristics none any", False),
                         ("leak_check summary heuristics stdstring,length64 any", True)]:
        lines = same_answer(mt, mc, cmd)
        assert any(via.match(l) for l in lines) == reached, lines
    finish_both(mt, mc)


def test_bad_arguments(start):
    """A bad argument gets memcheck's one-line complaint and no search (a
    bad 'limited' value: the complaint, then the search); a command neither
    tool has gets the core's answer. xtleak (an xtree file) is memcheck's
    alone: memtrack says so and does not search."""
    mt, mc = start(FULL)
    for cmd in ["leak_check foo", "leak_check kinds", "leak_check kinds bogus", "leak_check heuristics",
                "leak_check heuristics wrong", "leak_check full any bar", "no_such_command"]:
        lines = same_answer(mt, mc, cmd)
        assert len(lines) >= 1 and "LEAK SUMMARY:" not in lines, lines
        if cmd.startswith("leak_check"):
            assert len(lines) == 1, lines
    for cmd in ["leak_check limited", "leak_check limited x any", "leak_check limited 0 any",
                "leak_check limited -3 any"]:
        lines = same_answer(mt, mc, cmd)
        assert "LEAK SUMMARY:" in lines and not lines[0].startswith(("LEAK", " ")), lines
    xt = mt.send("leak_check xtleak")
    assert len(xt) == 1 and "xtleak" in xt[0] and "LEAK SUMMARY:" not in xt, xt
    # The search afterwards is unaffected by all of the above (memcheck had
    # no xtleak search: with 'any' the figures do not depend on it).
    same_answer(mt, mc, "leak_check full kinds all any")
    finish_both(mt, mc)


def test_help(start):
    """'help': the core's general part (the same as under memcheck), then
    memtrack's own text, which explains leak_check and every argument and
    lists no command memtrack does not have."""
    mt, mc = start(FULL)
    a, b = mt.send("help"), mc.send("help")
    general = b[:b.index("memcheck monitor commands:")]
    assert general and a[:len(general)] == general
    own = "\n".join(a[len(general):])
    assert own.startswith("memtrack monitor commands:"), own
    assert re.search(r"^  leak_check ", own, re.M), own
    for w in LEAK_CHECK_WORDS:
        assert re.search(rf"\b{w}\b", own), f"'{w}' not explained in:\n{own}"
    for cmd in ["xb", "get_vbits", "make_memory", "check_memory", "block_list", "who_points_at", "xtmemory"]:
        assert not re.search(rf"^  {cmd}\b", own, re.M), own
    # Every command the help lists is answered (not 'not recognised'). Both
    # get it: a search leaves loss records behind, which the numbering of
    # the next search (here the one at exit) includes.
    listed = re.findall(r"^  ([a-z_]+)", own, re.M)
    assert listed
    for cmd in listed:
        cmd = cmd + " summary" if cmd == "leak_check" else cmd
        assert not any("not recognised" in l for l in mt.send(cmd)), cmd
        mc.send(cmd)
    finish_both(mt, mc)


def test_never_counts_errors(start):
    """Searches from vgdb list records but never count them as errors: with
    --leak-check=summary at exit, --error-exitcode=42 does not fire, as
    under memcheck. (memtrack gets --scrub-stack=yes, its stand-in for
    memcheck's definedness bits outside --leak-check=full.)"""
    opts = ["--leak-check=summary", "--error-exitcode=42"]
    mt, mc = start(opts + ["--scrub-stack=yes"], mc_opts=opts)
    lines = same_answer(mt, mc, "leak_check full kinds all any")
    assert any(r.kind == "definitely lost" for r in records(lines))
    mt.go(1)
    mc.go(1)
    mt.wait_at(2)
    mc.wait_at(2)
    same_answer(mt, mc, "leak_check")
    a, b = finish_both(mt, mc, points=(2,))
    assert b.returncode == 0 and helpers.parse_error_summary(b.stderr)["errors"] == 0, b
    assert a.returncode == 0


def test_suppressions_given_by_v_clo(start, workdir):
    """vgdb's v.clo --suppressions=FILE loads a file while the program
    runs; its memcheck entries apply from then on under memtrack as under
    memcheck: the next leak_check and the report at exit leave out what
    they match and count it as suppressed."""
    supp = workdir / "small.supp"
    supp.write_text("{\n   leak_small_blocks\n   Memcheck:Leak\n   fun:malloc\n   fun:leak_small\n}\n")
    mt, mc = start(FULL)
    before = same_answer(mt, mc, "leak_check full kinds all any")
    same_answer(mt, mc, f"v.clo --suppressions={supp}")
    after = same_answer(mt, mc, "leak_check full kinds all any")
    # What memcheck does with it: the small blocks' record goes, and the
    # summary counts them as suppressed (48 bytes: 3 blocks of 16).
    assert len(records(after)) == len(records(before)) - 1, after
    assert any(re.fullmatch(r"\s+suppressed: 48 bytes in 3 blocks", l) for l in after), after
    a, _ = finish_both(mt, mc)
    assert leak_helpers.parse(a.stderr).summary_numbers()["suppressed"] == (80, 5), a
