"""vgdb's monitor commands on a running program, memtrack against
memcheck: `leak_check`, `block_list`, `who_points_at` and `help`.
tests/clients/leak_vgdb.c and who_points_at.cpp stop at two points and
wait there (asleep, so vgdb has to wake Valgrind's gdbserver up); both
tools run one side by side with --vgdb=yes, and every command goes to both
through `vgdb --pid=<pid> <command>`. What vgdb prints back (loss records,
LEAK SUMMARY, hints, block lists, the places that point at a block, one-line
complaints about bad arguments) must be memcheck's, line for line,
addresses and the preload's name aside; so must the report at exit, which
the commands in between must not disturb (they never count errors).

Each run keeps its vgdb FIFOs in the test's own directory (--vgdb-prefix);
every wait has a deadline, and the programs are killed and the FIFOs
removed whatever happens.
"""
import concurrent.futures
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
        # --max-invoke-ms: the client sleeps, so vgdb must wake the gdbserver
        # up anyway; its default 100 ms wait first cost about 10 s a test.
        argv = [VGDB, f"--pid={self.proc.pid}", f"--vgdb-prefix={self.prefix}", "--max-invoke-ms=1", command]
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

    def addrs(self):
        """{name: (address, size)} of the blocks who_points_at.cpp wrote
        down (its <dir>/addrs): each run has its own addresses."""
        out = {}
        for line in (self.dir / "addrs").read_text().splitlines():
            name, addr, size = line.split()
            out[name] = (int(addr, 16), int(size))
        return out

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

    def _start(opts, mc_opts=None, client="leak_vgdb"):
        client = clients.path(client)
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
    and the preload's name hidden. The core's "Thread N:" line goes too: it
    heads a loss record when the thread the command runs on (the one the
    scheduler had running when vgdb asked, in memcheck as in memtrack)
    differs from the last one printed, so with two threads it comes and
    goes from run to run of either tool (CI, 3.27: memtrack's search once
    ran on thread 2, memcheck's on thread 1)."""
    out = [helpers.normalise(re.sub(r"^==\d+== ?", "", l)) for l in lines]
    return [l for l in out if not re.fullmatch(r"Thread \d+:", l)]


def same_answer(mt, mc, command):
    """Sends command to both; memtrack's answer must be memcheck's.
    Returns memcheck's (normalised) lines."""
    # Both at once: each answer takes vgdb's start and a wake-up (~0.13 s).
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        fa, fb = pool.submit(mt.send, command), pool.submit(mc.send, command)
        a, b = monitor_lines(fa.result()), monitor_lines(fb.result())
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


# memcheck's monitor commands that need its definedness bits.
DEFINEDNESS = ["xb", "get_vbits", "make_memory", "check_memory"]


def test_help(start):
    """'help': the core's general part (the same as under memcheck), then
    memtrack's own text: leak_check with every argument explained,
    block_list and who_points_at with memcheck's syntax lines, and one
    line saying that the definedness commands need memcheck. Every command
    memcheck lists is either there or named as missing, and every one gets
    an answer (not the core's 'not recognised')."""
    mt, mc = start(FULL)
    a, b = mt.send("help"), mc.send("help")
    general = b[:b.index("memcheck monitor commands:")]
    assert general and a[:len(general)] == general
    own_lines = a[len(general):]
    own = "\n".join(own_lines)
    theirs = b[len(general):]
    assert own.startswith("memtrack monitor commands:"), own
    assert re.search(r"^  leak_check ", own, re.M), own
    for w in LEAK_CHECK_WORDS:
        assert re.search(rf"\b{w}\b", own), f"'{w}' not explained in:\n{own}"
    # memcheck's syntax lines of the two commands memtrack has as they are.
    for cmd in ["block_list", "who_points_at"]:
        line = next(l for l in theirs if l.startswith(f"  {cmd} "))
        assert line in own_lines, f"{line!r} not in:\n{own}"
    definedness = [l for l in own_lines if all(c in l for c in DEFINEDNESS)]
    assert len(definedness) == 1, own
    i = own_lines.index(definedness[0])
    assert "memcheck" in " ".join(own_lines[i:i + 3]), own
    for cmd in DEFINEDNESS + ["xtmemory"]:
        assert not re.search(rf"^  {cmd}\b.*<", own, re.M), own  # no syntax line: not a command here
    memcheck_cmds = re.findall(r"^  ([a-z_]+) ", "\n".join(theirs), re.M)
    assert set(memcheck_cmds) >= set(DEFINEDNESS + ["leak_check", "block_list", "who_points_at", "xtmemory"])
    for cmd in memcheck_cmds:
        assert re.search(rf"\b{cmd}\b", own), f"memcheck's {cmd} not mentioned in:\n{own}"
    # Every command gets an answer. Both tools get the ones memtrack has
    # (a search leaves loss records behind, which the numbering of the
    # next search, here the one at exit, includes); without arguments
    # block_list and who_points_at give memcheck's one-line complaints.
    for cmd in memcheck_cmds:
        if cmd in DEFINEDNESS or cmd == "xtmemory":
            lines = mt.send(f"{cmd} 0x1000")
            assert len(lines) == 1 and cmd in lines[0] and "not recognised" not in lines[0], lines
            if cmd != "xtmemory":
                assert "memcheck" in lines[0], lines
        else:
            arg = " summary" if cmd == "leak_check" else ""
            lines = same_answer(mt, mc, cmd + arg)
            assert lines and not any("not recognised" in l for l in lines), lines
    finish_both(mt, mc)


def test_never_counts_errors(start):
    """Searches from vgdb list records but never count them as errors: with
    --leak-check=summary at exit, --error-exitcode=42 does not fire, as
    under memcheck."""
    opts = ["--leak-check=summary", "--error-exitcode=42"]
    mt, mc = start(opts, mc_opts=opts)
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


# ---- who_points_at and block_list ------------------------------------------

WPA = "who_points_at"


def fill(command, addrs):
    """command with {name}, {name+N} and {name.size} replaced by this run's
    address (hex) and size of the block who_points_at.cpp named so."""
    command = re.sub(r"\{(\w+)\.size\}", lambda m: str(addrs[m[1]][1]), command)
    return re.sub(r"\{(\w+)([+-]\d+)?\}", lambda m: hex(addrs[m[1]][0] + int(m[2] or 0)), command)


def hit_groups(lines):
    """who_points_at's answer: its first line, and the places found, each a
    tuple of lines (the pointer line and the description under it).
    memcheck scans live blocks in the order of its hash table, which
    depends on its own addresses; memtrack in address order. So the places
    are compared as a sorted list."""
    head, groups = lines[:1], []
    for l in lines[1:]:
        if l.startswith("*") or l.startswith("tid "):
            groups.append([l])
        else:
            assert groups, lines
            groups[-1].append(l)
    return head, sorted(tuple(g) for g in groups)


def same_places(mt, mc, command):
    """Sends who_points_at to both, each with its own addresses; the same
    places must be found (normalised). Returns memcheck's lines."""
    a = monitor_lines(mt.send(fill(command, mt.addrs())))
    b = monitor_lines(mc.send(fill(command, mc.addrs())))
    assert hit_groups(a) == hit_groups(b), leak_helpers._diff(f"answers to 'vgdb {command}'", a, b)
    return b


def test_who_points_at(start):
    """Pointers from a global (to the start and 10 bytes in), from another
    heap block, from a local of main's, from register r12 of each thread;
    interior pointers with <len>, in both syntaxes; no pointer at all; and
    memcheck's complaints. Before any leak search, no heuristic lines."""
    mt, mc = start(FULL, client="who_points_at")
    expect = {
        f"{WPA} {{global}}": r'^ Address 0x\? is 0 bytes inside data symbol "global"$',
        f"{WPA} {{inner}} {{inner.size}}": r"^\*0x\? interior points at 10 bytes inside 0x\?$",
        f"{WPA} {{inner+10}}": r'^ Address 0x\? is 0 bytes inside data symbol "inner"$',
        f"{WPA} {{inner}}": None,
        f"{WPA} {{held}}": r"^ Address 0x\? is 16 bytes inside a block of size 32 alloc'd$",
        f"{WPA} {{mid1}}": r"^ Address 0x\? is 0 bytes inside a block of size 16 alloc'd$",
        f"{WPA} {{leaf}} 40": r"^ Address 0x\? is 8 bytes inside a block of size 16 alloc'd$",
        f"{WPA} {{stack}}": r"^ Address 0x\? is on thread 1's stack$",
        f"{WPA} {{reg}}": r"^tid 1 register \w+ pointing at 0x\?$",
        f"{WPA} {{reg-8}} 16": r"^tid 1 register \w+ interior pointing 8 bytes inside 0x\?$",
        f"{WPA} {{thread}}": r"^tid 2 register \w+ pointing at 0x\?$",
        f"{WPA} {{counted}}[48]": r"^\*0x\? interior points at 8 bytes inside 0x\?$",
        f"{WPA} {{global}} 0": None,
        f"{WPA} 0xffffffffffffff00 0x1000": None,
    }
    for cmd, pattern in expect.items():
        lines = same_places(mt, mc, cmd)
        assert lines[0].startswith("Searching for pointers "), lines
        if pattern is None:
            assert len(lines) == 1, lines
        else:
            assert any(re.match(pattern, l) for l in lines), (cmd, lines)
        assert not any("heuristic" in l for l in lines), lines
    for cmd in [WPA, f"{WPA} 0", f"{WPA} 0x0", f"{WPA} nothex", f"{WPA} 0x1000 12x", "w 0x1000 0b12"]:
        lines = same_answer(mt, mc, cmd)
        assert len(lines) == 1, lines
    finish_both(mt, mc)


def test_who_points_at_heuristics(start):
    """After a leak search, an interior pointer into one of its blocks also
    names each heuristic that accepts it (memcheck tries all four, whatever
    the search used)."""
    mt, mc = start(FULL, client="who_points_at")
    same_answer(mt, mc, "leak_check full kinds all any")
    for cmd, heurs in [(f"{WPA} {{counted}} 48", ["length64", "newarray"]),
                       (f"{WPA} {{str}} {{str.size}}", ["stdstring"]),
                       (f"{WPA} {{mi}} {{mi.size}}", ["multipleinheritance"]),
                       (f"{WPA} {{inner}} 100", []),
                       (f"{WPA} {{counted+8}}", [])]:
        lines = same_places(mt, mc, cmd)
        found = re.findall(r"^block at 0x\? considered reachable by ptr 0x\? using (\w+) heuristic$",
                           "\n".join(lines), re.M)
        assert found == heurs, lines
    finish_both(mt, mc)


def test_block_list(start):
    """block_list of each loss record and of ranges after a search, with
    its tree of indirectly lost blocks, limits, heuristics, the records'
    delta figures; its complaints; and its refusals: before any search, and
    once the program has freed a block since the last search."""
    mt, mc = start(FULL, client="who_points_at")
    lines = same_answer(mt, mc, "block_list 1")
    assert lines == ["Can't print block list : no valid leak search result", "invalid loss record nr"], lines
    n = len(records(same_answer(mt, mc, "leak_check full kinds all any")))
    assert n >= 12
    lists = [same_answer(mt, mc, f"block_list {nr}") for nr in range(1, n + 1)]
    for nr, lines in enumerate(lists, 1):
        assert re.match(rf"^.* in loss record {nr} of {n}$", lines[0]), lines
        assert re.match(r"^0x\?\[\d+\]$", lines[-1]) or "indirect loss record" in lines[-1], lines
    # The lost tree: root holds mid1 (which holds leaf) and mid2.
    tree = next(lines for lines in lists if "80 indirect" in lines[0])
    assert [l for l in tree if "indirect loss record" in l] == [
        l for l in tree if re.match(r"^(  0x\?\[(16|24)\]|    0x\?\[40\]) indirect loss record \d+$", l)]
    assert len([l for l in tree if "indirect loss record" in l]) == 3, tree
    for cmd in [f"block_list 1..{n}", f"block_list 2..{n} limited 3", f"block_list 1 ..{n}", f"block_list 2 .. 5",
                f"block_list 1..{n} limited 1", "block_list 3..3", f"block_list {n}..{n + 5}", "b 2..4",
                "block_list 1..100 unlimited"]:
        lines = same_answer(mt, mc, cmd)
        assert lines, cmd
    same_answer(mt, mc, "leak_check full heuristics all any")
    lines = same_answer(mt, mc, "block_list 1..100 heuristics length64,stdstring,multipleinheritance")
    assert sorted(re.findall(r"\(found via heuristic (\w+)\)", "\n".join(lines))) == \
        ["length64", "multipleinheritance", "stdstring"], lines
    for cmd in ["block_list 1..100 heuristics all limited 2", "block_list 1..100 heuristics none"]:
        same_answer(mt, mc, cmd)
    # Complaints: one line each, and no list.
    for cmd in ["block_list", "block_list x", "block_list 0", f"block_list {n + 40}", "block_list 5..3",
                "block_list 2.. 5", "block_list 5.", "block_list 3..x", "block_list 3 foo", "block_list 3 limited",
                "block_list 3 limited x", "block_list 3 limited 0", "block_list 3 limited -2",
                "block_list 3 heuristics", "block_list 3 heuristics bad"]:
        lines = same_answer(mt, mc, cmd)
        assert len(lines) == 1, (cmd, lines)
    # memcheck crashes reading the missing <to> of "1 .."; memtrack says so.
    assert mt.send("block_list 1 ..") == ["missing/wrong 'to' of slice <from>..<to>"]
    mt.go(1)
    mc.go(1)
    mt.wait_at(2)
    mc.wait_at(2)
    lines = same_answer(mt, mc, "block_list 1")
    assert lines == ["Can't print obsolete block list : redo a leak search first", "invalid loss record nr"], lines
    same_answer(mt, mc, "leak_check summary")
    # A record that went to zero: shown when asked for alone, with the
    # delta figures of the last search (and 'new' where memcheck has it).
    for nr in range(1, n + 1):
        lines = same_answer(mt, mc, f"block_list {nr}")
        assert re.search(r"\((\+|-)[\d,]+\)", lines[0]), lines
    finish_both(mt, mc, points=(2,))
