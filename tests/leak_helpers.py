"""Helpers for the leak-checker tests (tests/test_leak_*.py): running
memtrack and its oracle memcheck on the same command line side by side, and
taking apart what memcheck-style leak output says.

Every comparison is on Valgrind's own lines (==PID== prefix removed) after
helpers.normalise(): addresses and the name (and directory) of the tool's
preload object are the only things allowed to differ. memtrack's extra
lines (DHAT's summary, printed at exit before the HEAP SUMMARY, and the
list of files written, printed last) are left out before comparing.
"""
import concurrent.futures
import dataclasses
import difflib
import re

import helpers
import tiers

# Each kind of loss record headline; in delta modes every number carries a
# " (+x)" / " (-x)" suffix.
_N = r"[\d,]+(?: \([+-][\d,]+\))?"
LOSS_RECORD = re.compile(
    rf"^(?P<total>{_N})(?: \((?P<direct>{_N}) direct, (?P<indirect>{_N}) indirect\))? bytes in "
    rf"(?P<blocks>{_N}) blocks are (?P<kind>definitely lost|indirectly lost|possibly lost|still reachable) "
    r"in (?:new )?loss record (?P<n>[\d,]+) of (?P<of>[\d,]+)$")
_FRAME = re.compile(r"^   (at|by) 0x(\?|[0-9A-Fa-f]+): ")  # normalised or not

# memtrack's heap-profile lines (DHAT's summary and the hint where the
# profile went): not part of memcheck's output.
_MEMTRACK_ONLY = re.compile(r"^(Total: |At t-gmax: |At t-end: |Reads: |Writes: |Note: freed blocks waited in memcheck.s queue)")
# The list of files written and the ways to read them, which memtrack
# prints last (after the leak report, whose blank line ends before it): the
# block's first line, and a pattern every line of it matches.
_FILES_START = "Files written:"
_FILES_LINE = re.compile(r"^(Files written:|  \S|To read the profile as a text report:|or as an HTML page |"
                         r"To view it in DHAT's viewer instead, open|in a web browser, click on |"
                         r"The text at the bottom explains the abbreviations)")

KIND_WORD = {"definite": "definitely lost", "indirect": "indirectly lost",
             "possible": "possibly lost", "reachable": "still reachable"}


def _num(s):
    return int(s.split(" ")[0].replace(",", ""))


_cache = {}


def run_pair_cached(opts, argv, cwd, env=None):
    """run_pair() once per session for a command line whose output does not
    depend on the directory it runs in (the test clients), so that tests
    looking at the same run from different angles share it. Reprints the
    runs, so that a failing test shows them."""
    key = (tuple(opts), tuple(str(a) for a in argv), type(env).__name__, tuple(sorted((env or {}).items())))
    if key in _cache:
        for r in _cache[key]:
            print(f"\n===== (run earlier in this session) {r}")
            tiers.ran(r.argv, cached=True)
    else:
        _cache[key] = run_pair(opts, argv, cwd, env=env)
    return _cache[key]


def run_pair(opts, argv, cwd, env=None, stdin=None, mc_opts=None):
    """Runs memtrack and memcheck with the same options (or memcheck with
    mc_opts) on the same program, at the same time (two cores), and returns
    (memtrack, memcheck)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        mt = pool.submit(helpers.run_memtrack, opts, argv, cwd, env=env, stdin=stdin)
        mc = pool.submit(helpers.run_memcheck, opts if mc_opts is None else mc_opts, argv, cwd,
                         env=env, stdin=stdin)
        return mt.result(), mc.result()


def valgrind_lines(stderr):
    """The ==PID== lines after the preamble (after 'Command: ...' and, with
    -v, everything up to the first blank line), prefix removed, normalised,
    memtrack's profile lines dropped."""
    lines = helpers.client_lines(stderr)
    for i, l in enumerate(lines):
        if l.startswith("Command: "):
            lines = lines[i + 1:]
            break
    out, in_files = [], False
    for l in lines:
        if l == _FILES_START:
            in_files = True
        if in_files:
            if _FILES_LINE.match(l):
                continue
            in_files = False
        if _MEMTRACK_ONLY.match(l):
            continue
        out.append(helpers.normalise(l))
    return out


def _strip_blanks(lines):
    return [l for l in lines if l.strip() != ""]


_THREAD = re.compile(r"^Thread (\d+):$")


def by_thread(lines):
    """lines with each thread's output gathered under its own "Thread N:"
    line, threads in number order, the program's order kept within each.
    Threads running between the same two barriers report their errors in
    whatever order the scheduler ran them, which differs from one memcheck
    run of a program to the next (and Valgrind prints "Thread N:" only when
    the reporting thread changes). Lines before the first "Thread N:" are
    thread 1's; without any such line the lines are returned unchanged."""
    if not any(_THREAD.match(l) for l in lines):
        return lines
    per, tid = {}, 1
    for l in lines:
        m = _THREAD.match(l)
        if m:
            tid = int(m[1])
        else:
            per.setdefault(tid, []).append(l)
    return [x for t in sorted(per) for x in [f"Thread {t}:"] + per[t]]


@dataclasses.dataclass
class Record:
    headline: str
    frames: list  # normalised stack lines

    @property
    def kind(self):
        return LOSS_RECORD.match(self.headline)["kind"]

    @property
    def numbers(self):
        m = LOSS_RECORD.match(self.headline)
        return {k: (_num(m[k]) if m[k] else None) for k in ("total", "direct", "indirect", "blocks", "n", "of")}


@dataclasses.dataclass
class LeakOutput:
    lines: list          # valgrind_lines()
    before_exit: list    # non-blank lines before the exit HEAP SUMMARY, by_thread()
    at_exit: list        # from 'HEAP SUMMARY:' to the end, blanks kept
    records: list        # every loss record printed, in order (mid-run ones too)
    exit_records: list   # the loss records printed at exit
    leak_summaries: list  # each LEAK SUMMARY block (list of lines), in order
    heap_summary: list   # the three HEAP SUMMARY lines
    hints: list          # lines after the last LEAK SUMMARY block's 'suppressed:' line up to the blank

    @property
    def leak_summary(self):
        """The exit LEAK SUMMARY block (or None when none was printed)."""
        return _summary_in(self.at_exit)

    def summary_numbers(self):
        """{'definitely lost': (bytes, blocks), ...} from the exit summary."""
        out = {}
        for l in self.leak_summary or []:
            m = re.match(r"^\s+(.+?)\s*: ([\d,]+) bytes in ([\d,]+) blocks$", l)
            if m:
                out[m[1]] = (_num(m[2]), _num(m[3]))
        return out


def _summary_in(lines):
    for i, l in enumerate(lines):
        if l == "LEAK SUMMARY:":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "":
                j += 1
            return lines[i:j]
    return None


def _records_in(lines):
    recs = []
    i = 0
    while i < len(lines):
        if LOSS_RECORD.match(lines[i]):
            j = i + 1
            while j < len(lines) and _FRAME.match(lines[j]):
                j += 1
            recs.append(Record(lines[i], lines[i + 1:j]))
            i = j
        else:
            i += 1
    return recs


def parse(stderr):
    lines = valgrind_lines(stderr)
    starts = [i for i, l in enumerate(lines) if l == "HEAP SUMMARY:"]
    cut = starts[-1] if starts else len(lines)
    before, after = lines[:cut], lines[cut:]
    summaries = []
    for i, l in enumerate(lines):
        if l == "LEAK SUMMARY:":
            summaries.append(_summary_in(lines[i:]))
    hints = []
    if summaries:
        last = max(i for i, l in enumerate(after) if l == "LEAK SUMMARY:") if "LEAK SUMMARY:" in after else None
        if last is not None:
            j = last + len(_summary_in(after[last:]))
            while j < len(after) and after[j].strip() != "":
                hints.append(after[j])
                j += 1
    return LeakOutput(
        lines=lines,
        before_exit=_strip_blanks(by_thread(before)),
        at_exit=after,
        records=_records_in(lines),
        exit_records=_records_in(after),
        leak_summaries=summaries,
        heap_summary=after[:3],
        hints=hints,
    )


def _diff(what, mine, theirs):
    """An assertion message: what differs, as a unified diff from
    memcheck's lines to memtrack's."""
    d = difflib.unified_diff([str(x) for x in theirs], [str(x) for x in mine],
                             "memcheck", "memtrack", lineterm="", n=2)
    return f"{what} differ from memcheck's:\n" + "\n".join(d)


def assert_same_leak_output(mt, mc, *, same_stdout=True):
    """memtrack's run must say what memcheck's says: exit status, the
    client's stdout, the HEAP SUMMARY, every loss record (headline and
    stack, in order), every LEAK SUMMARY, the hint lines, the ERROR SUMMARY,
    and then every Valgrind line from the HEAP SUMMARY to the end. Returns
    the two parsed outputs."""
    a, b = parse(mt.stderr), parse(mc.stderr)
    assert mt.returncode == mc.returncode, f"exit status {mt.returncode}, memcheck's {mc.returncode}"
    if same_stdout:
        assert mt.stdout == mc.stdout, _diff("the client's stdout lines", mt.stdout.splitlines(),
                                             mc.stdout.splitlines())
    assert a.heap_summary == b.heap_summary, _diff("HEAP SUMMARY lines", a.heap_summary, b.heap_summary)
    ha, hb = [r.headline for r in a.records], [r.headline for r in b.records]
    assert ha == hb, _diff("loss record headlines", ha, hb)
    for ra, rb in zip(a.records, b.records):
        assert rb.frames, f"no stack under memcheck's '{rb.headline}'"
        assert ra.frames == rb.frames, _diff(f"stacks of '{ra.headline}'", ra.frames, rb.frames)
    assert a.leak_summaries == b.leak_summaries, _diff(
        "LEAK SUMMARY blocks", sum(a.leak_summaries, []), sum(b.leak_summaries, []))
    assert a.hints == b.hints, _diff("hint lines", a.hints, b.hints)
    if "-q" not in mt.argv:
        ea, eb = helpers.parse_error_summary(mt.stderr), helpers.parse_error_summary(mc.stderr)
        assert ea == eb, f"ERROR SUMMARY {ea}, memcheck's {eb}"
    # Everything else memcheck prints during the run (mid-run searches,
    # 'All heap blocks were freed', the client's own lines on stderr) and
    # at exit.
    assert a.before_exit == b.before_exit, _diff("lines before the exit summaries", a.before_exit, b.before_exit)
    assert a.at_exit == b.at_exit, _diff("lines from HEAP SUMMARY on", a.at_exit, b.at_exit)
    return a, b


def gen_suppressions_as_memtrack(mc_stderr):
    """memcheck's generated suppressions with its tool name swapped for
    memtrack's."""
    return [s.replace("   Memcheck:Leak", "   Memtrack:Leak") for s in helpers.gen_suppressions(mc_stderr)]


# ---------------------------------------------------------------------------
# A root word that holds a time
#
# ld.so keeps how long it took to relocate the program, in TSC cycles, in a
# writable static (relocate_time in glibc's rtld.c, in ld.so's .bss): a
# root for memcheck and memtrack alike, whose value is a timing. Under
# Valgrind the relocation takes some 50 to 160 million cycles (the JIT
# translates ld.so as it runs), and Valgrind puts the client heap at
# 0x4000000 (67 million) and up: now and then the word lands inside a big
# block, which then counts as pointed to from a root (an interior pointer:
# possibly lost, and so is everything that block leads to). In
# leak_bigmix (about 4 MB of lost blocks) that happens to one run in 40,
# whichever tool runs it: the report then has a possibly lost record the
# other tool's run does not (memcheck's
# "720,976 bytes in 4 blocks are possibly lost" when the word fell into
# the lost chain's 256 KiB block, with the run's cycles 91,948,689 and
# memcheck's who_points_at naming the word at ld.so's .bss + 0x250).
#
# LD_DEBUG=statistics makes ld.so print the figure ("time needed for
# relocation: N cycles"; glibc 2.36 leaves out its last digit), and
# --trace-malloc=yes lists the blocks: together they say whether the word
# of a run could be a pointer into a block.

_RELOCATION = re.compile(r"time needed for relocation: (\d+) cycles")
# realloc(NULL, n) prints its own call and then, on the same line, the
# malloc it becomes: "realloc(0x0,100)malloc(100) = 0x4D2E580".
_TRACE_BLOCK = re.compile(r"^--\d+-- (?:realloc\(0x0,\d+\))?(\w+)\(([^)]*)\) = (0x[0-9A-Fa-f]+)$", re.M)
_TRACE_FREE = re.compile(r"^--\d+-- (\w+)\((0x[0-9A-Fa-f]+)\)$", re.M)
_TRACE_ANY = re.compile(f"{_TRACE_BLOCK.pattern}|{_TRACE_FREE.pattern}", re.M)


def _block_size(fn, args):
    nums = [int(a) for a in re.findall(r"(?<![x\w])\d+", args)]
    if fn.endswith("calloc") and len(nums) >= 2:
        return nums[-2] * nums[-1]
    m = re.search(r"size (\d+)", args)
    return int(m[1]) if m else (nums[-1] if nums else 0)


def trace_lines(stderr):
    """The --trace-malloc=yes lines of a run (calls, their arguments, the
    addresses returned), in order, without the --PID-- prefix."""
    return [m.group(0).split(" ", 1)[1] for m in _TRACE_ANY.finditer(stderr)]


def live_blocks(stderr):
    """{address: size} of the blocks --trace-malloc=yes leaves allocated."""
    live = {}
    for m in _TRACE_ANY.finditer(stderr):
        if m[1]:  # an allocation (realloc frees its first argument)
            if m[1].endswith("realloc"):
                old = re.match(r"\s*(0x[0-9A-Fa-f]+)", m[2])
                if old:
                    live.pop(int(old[1], 16), None)
            live[int(m[3], 16)] = max(1, _block_size(m[1], m[2]))
        else:
            live.pop(int(m[5], 16), None)
    return live


def relocation_word_hits(stderr):
    """The live block (address, size) at exit that the client's ld.so
    relocation time could point into, or None."""
    found = _RELOCATION.findall(stderr)
    assert found, "no ld.so statistics: the run needs LD_DEBUG=statistics"
    n = int(found[-1])  # the client's: the launcher's and the shell's come first
    candidates = [(n, n), (10 * n, 10 * n + 9)]
    for start, size in live_blocks(stderr).items():
        if any(lo < start + size and hi >= start for lo, hi in candidates):
            return start, size
    return None


# Clients with megabytes of lost blocks: where ld.so's relocation time
# falls decides whether one of them is possibly lost, one run in tens, for
# memcheck as for memtrack; a test that compares the two tools' reports on
# them compares runs where it falls outside every block or changed nothing
# (run_pair_without_timing_word). leak_freed_queue's lost block is 40 KB,
# but where the tools place it (about 78 million) is where the relocation
# time falls on a loaded machine: a .ci/run whose machine also ran other
# tests had memtrack's run call it possibly lost, memcheck's beside it not.
TIMING_WORD_CLIENTS = {"leak_bigmix", "leak_bigblock", "leak_freed_queue"}


def run_pair_without_timing_word(opts, argv, cwd, attempts=5, mc_opts=None, same_summary=True):
    """run_pair() for a client with big lost blocks, whose report depends
    on where ld.so's relocation time falls (see above): each run also
    prints that time and its blocks. The pair is kept when in neither run
    the word could point into a block, or when it could but the two LEAK
    SUMMARYs agree (the word then hit a block that is reachable anyway: a
    block with a pointer to its start from a root, as most of the big
    blocks of leak_bigblock are; on a loaded machine the relocation time
    lands in those 25 MB in most runs). Otherwise the pair runs again: a
    difference the word made is never blamed on memtrack, and one that
    stays in runs where the word points nowhere fails the caller's test.
    A caller whose two runs are meant to differ (same_summary=False) gets
    only pairs where the word points into no block. Prints what it saw.
    mc_opts, when given, are memcheck's options (run_pair's meaning)."""
    trace = ["--trace-malloc=yes"]
    for attempt in range(attempts):
        mt, mc = run_pair(opts + trace, argv, cwd, env={"LD_DEBUG": "statistics"},
                          mc_opts=None if mc_opts is None else list(mc_opts) + trace)
        hits = {name: relocation_word_hits(r.stderr) for name, r in (("memtrack", mt), ("memcheck", mc))}
        if not any(hits.values()):
            return mt, mc
        where = ", ".join(f"{k} {hex(v[0])} ({v[1]} bytes)" for k, v in hits.items() if v)
        sums = [parse(r.stderr).summary_numbers() for r in (mt, mc)]
        agree = same_summary and bool(sums[0]) and sums[0] == sums[1]
        print(f"\n===== attempt {attempt + 1}: ld.so's relocation time points into a block ({where}), "
              + ("and the two LEAK SUMMARYs agree: kept" if agree else "run again"))
        if agree:
            return mt, mc
    raise AssertionError(f"in {attempts} runs of each tool, ld.so's relocation time fell into a block "
                         + ("and the LEAK SUMMARYs differed every time" if same_summary else "every time"))
