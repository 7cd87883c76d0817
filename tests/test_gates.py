"""memtrack's CI gates: --peak-limit, --total-limit and --leak-limit (an
error counted by --error-exitcode, reported at the site that contributed
most), --summary-file (JSON) and --sarif-file (SARIF 2.1.0).

Every expected number comes from an oracle, never from memtrack's output:
the limits' boundaries from DHAT's "At t-gmax:" and "Total:" lines and
memcheck's LEAK SUMMARY; the site that contributed most from DHAT's profile
(the program point with the largest "gb" or "tb") or from memcheck's loss
records (summed by stack), and for tests/clients/gates.c also from the
client's construction (see its header comment); the SARIF locations from
the first non-allocator frame of memcheck's loss records; the summary's
"cmd" from the argv the test passed; sizes like 64K from their documented
binary meaning.
"""
import json
import os
import re
import shutil
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import helpers
import leak_helpers
import profile_helpers
import tiers

EXIT = 3
EXITCODE = [f"--error-exitcode={EXIT}"]

# The gate's headline, e.g. "Heap peak limit of 42,999 bytes exceeded:
# 43,000 bytes live; the most from big_buffers (gates.c:35): 40,000 bytes
# in 4 blocks live at": the site by its label, then its stack.
LIMIT_HEADLINE = re.compile(
    r"^(?P<what>Heap peak limit|Total allocation limit|Leak limit) of (?P<limit>[\d,]+) bytes exceeded: "
    r"(?P<value>[\d,]+) bytes (?P<measured>live|allocated|lost)(?: \((?P<parts>[^)]*)\))?; "
    r"the most from (?P<label>.+): (?P<site_bytes>[\d,]+) bytes in (?P<site_blocks>[\d,]+) blocks "
    r"(?P<verb>live|allocated|lost) at$")
WHAT = {"peak": ("Heap peak limit", "live"), "total": ("Total allocation limit", "allocated"),
        "leak": ("Leak limit", "lost")}
XML_KIND = {"peak": "PeakLimit", "total": "TotalLimit", "leak": "LeakLimit"}
SARIF_RULE = {"definitely lost": "definitely-lost", "indirectly lost": "indirectly-lost",
              "possibly lost": "possibly-lost"}
KIND_OF_WORD = {"definitely lost": "definite", "indirectly lost": "indirect",
                "possibly lost": "possible", "still reachable": "reachable"}
SUMMARY_WORD = {"definite": "definitely lost", "indirect": "indirectly lost",
                "possible": "possibly lost", "reachable": "still reachable"}
# How the leak gate names the parts it added up ("320 definitely, 1,640
# indirectly"), from definite down (docs/manual.md, section 10).
PART_WORD = {"definite": "definitely", "indirect": "indirectly", "possible": "possibly",
             "reachable": "still reachable"}
KIND_ORDER = ("definite", "indirect", "possible", "reachable")

_FRAME = re.compile(r"^\s+(?:at|by) 0x[0-9A-Fa-f?]+: (?P<rest>.*)$")
_SOURCE = re.compile(r"\((?P<file>[^():]+):(?P<line>\d+)\)$")


def _n(s):
    return int(s.replace(",", ""))


def _pid(stderr):
    m = re.search(r"^==(\d+)== ", stderr, re.M)
    assert m, f"no ==PID== line in:\n{stderr[-2000:]}"
    return int(m[1])


def _site(stack_lines):
    """A stack (Valgrind's '   at 0x..: f (file:line)' lines) as DHAT's
    site_key: without leading allocator frames and without addresses."""
    frames = []
    for l in stack_lines:
        m = _FRAME.match(l)
        assert m, f"not a stack frame: {l!r}"
        frames.append(m["rest"])
    while frames and helpers.is_preload_frame(frames[0]):
        frames = frames[1:]
    return tuple(frames)


def _source_of(stack_lines):
    """(file, line) of the first frame with source, as memcheck prints it."""
    for l in stack_lines:
        m = _FRAME.match(l)
        if m and not helpers.is_preload_frame(m["rest"]):
            s = _SOURCE.search(m["rest"])
            if s:
                return s["file"], int(s["line"])
    raise AssertionError(f"no frame with source in {stack_lines}")


def _first_own_frame(stack_lines):
    """'fn (file:line)' of the first frame that is not the preload's."""
    for line in stack_lines:
        m = _FRAME.match(line)
        if m and not helpers.is_preload_frame(m["rest"]):
            return m["rest"]
    raise AssertionError(f"no frame below the allocator in {stack_lines}")


def _limit_errors(r):
    """The gate errors memtrack printed: [(match, VgError)]."""
    out = []
    for e in helpers.parse_errors(r.stderr):
        m = LIMIT_HEADLINE.match(e.headline)
        if m:
            out.append((m, e))
    return out


# ---------------------------------------------------------------------------
# Oracles, run once per client per session


class Oracles:
    def __init__(self, clients, tmp):
        self._clients = clients
        self._tmp = tmp
        self._cache = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        else:
            print(f"\n===== (oracle {key} run earlier in this session)")
            tiers.ran(["valgrind", f"--tool={key[0]}"], cached=True)
        return self._cache[key]

    def dhat(self, name):
        """(DHAT's summary figures, DHAT's profile) for a client."""
        def make():
            d = self._tmp / f"dhat-{name}"
            d.mkdir()
            r, path = profile_helpers.run_dhat([], [self._clients.path(name)], d)
            assert r.returncode == 0, r
            return profile_helpers.stderr_figures(r.stderr), profile_helpers.load(path)
        return self._get(("dhat", name), make)

    def memcheck(self, name, opts=()):
        """memcheck's run with --leak-check=full --show-leak-kinds=all (plus
        opts): (Result, leak_helpers.LeakOutput)."""
        def make():
            d = self._tmp / f"memcheck-{name}-{len(self._cache)}"
            d.mkdir()
            r = helpers.run_memcheck(["--leak-check=full", "--show-leak-kinds=all", *opts],
                                     [self._clients.path(name)], d)
            assert r.returncode == 0, r
            return r, leak_helpers.parse(r.stderr)
        return self._get(("memcheck", name, tuple(opts)), make)


@pytest.fixture(scope="module")
def oracles(clients, tmp_path_factory):
    return Oracles(clients, tmp_path_factory.mktemp("gates-oracles"))


def _largest(prof, key):
    """DHAT's program point with the largest figure `key` (and that it is
    the only one with it, so that 'the most' is well defined)."""
    pps = sorted(prof["pps"], key=lambda pp: pp[key], reverse=True)
    assert pps and pps[0][key] > 0
    assert len(pps) == 1 or pps[1][key] < pps[0][key], "two sites tie for the most; pick another client"
    return pps[0]


def _lost_by_site(lo, kinds):
    """memcheck's loss records of the given kinds summed by allocation
    stack: {site: [direct bytes, blocks]} (memtrack's per-site figures for
    the leak gate count each block's own bytes, like the LEAK SUMMARY)."""
    out = {}
    for rec in lo.exit_records:
        if KIND_OF_WORD[rec.kind] not in kinds:
            continue
        n = rec.numbers
        direct = n["direct"] if n["direct"] is not None else n["total"]
        s = out.setdefault(_site(rec.frames), [0, 0])
        s[0] += direct
        s[1] += n["blocks"]
    return out


def _check_breach(r, which, limit, value, site_bytes, site_blocks, site):
    """Exactly one gate error, of this kind, saying these numbers, at this
    site, counted once; exit status EXIT."""
    errs = _limit_errors(r)
    assert len(errs) == 1, f"expected one limit error, got {[e.headline for _, e in errs]}"
    m, e = errs[0]
    what, verb = WHAT[which]
    assert m["what"] == what and m["measured"] == verb and m["verb"] == verb, e.headline
    assert _n(m["limit"]) == limit, e.headline
    assert _n(m["value"]) > limit, e.headline
    assert _n(m["value"]) == value, e.headline
    assert (_n(m["site_bytes"]), _n(m["site_blocks"])) == (site_bytes, site_blocks), e.headline
    assert (m["parts"] is not None) == (which == "leak"), e.headline
    assert _site(e.lines[1:]) == site, f"stack of '{e.headline}':\n" + "\n".join(e.lines[1:])
    # The label: the first frame below the allocator, all of these
    # clients' frames being their own code.
    assert m["label"] == _first_own_frame(e.lines[1:]), e.headline
    assert r.returncode == EXIT, r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 1
    return e


def _check_pass(r):
    assert _limit_errors(r) == [], r
    assert r.returncode == 0, r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0


# ---------------------------------------------------------------------------
# The peak and total gates against DHAT

# gates: the site is known by construction; peak: the peak is reached by a
# realloc that grows a block (the realloc path of the check).
HEAP_CLIENTS = ["gates", "peak"]
BY_CONSTRUCTION = {
    ("gates", "peak"): ("big_buffers", 40000, 4),
    ("gates", "total"): ("churn", 200000, 2000),
}


def _heap_oracle(oracles, name, which):
    """(boundary, value at the breach, site_bytes, site_blocks, site) from DHAT."""
    figs, prof = oracles.dhat(name)
    if which == "peak":
        boundary = figs["gmax"][0]
        pp = _largest(prof, "gb")
        site_fig = (pp["gb"], pp["gbk"])
    else:
        boundary = figs["total"][0]
        pp = _largest(prof, "tb")
        site_fig = (pp["tb"], pp["tbk"])
    site = profile_helpers.site_key(prof, pp)
    known = BY_CONSTRUCTION.get((name, which))
    if known:
        fn, b, k = known
        assert site_fig == (b, k), f"DHAT disagrees with {name}.c's construction: {site_fig}"
        assert site[0].startswith(f"{fn} ("), site
    return boundary, site_fig, site


@pytest.mark.parametrize("which", ["peak", "total"])
@pytest.mark.parametrize("name", HEAP_CLIENTS)
def test_limit_equal_to_dhat_figure_passes(name, which, oracles, clients, workdir):
    boundary, _, _ = _heap_oracle(oracles, name, which)
    r = helpers.run_memtrack([*EXITCODE, f"--{which}-limit={boundary}"], [clients.path(name)], workdir)
    _check_pass(r)


@pytest.mark.parametrize("which", ["peak", "total"])
@pytest.mark.parametrize("name", HEAP_CLIENTS)
def test_limit_one_byte_below_dhat_figure_fails_once(name, which, oracles, clients, workdir):
    boundary, (sb, sk), site = _heap_oracle(oracles, name, which)
    r = helpers.run_memtrack([*EXITCODE, f"--{which}-limit={boundary - 1}"], [clients.path(name)], workdir)
    # The check runs after every allocation, so the breach is seen the
    # moment the figure first reaches DHAT's: the value said is DHAT's.
    _check_breach(r, which, boundary - 1, boundary, sb, sk, site)


def test_limits_far_below_are_each_reported_once(oracles, clients, workdir):
    """A limit passed thousands of times is still one error; three gates
    breached are three errors."""
    r = helpers.run_memtrack([*EXITCODE, "--peak-limit=1", "--total-limit=1", "--leak-limit=1"],
                             [clients.path("gates")], workdir)
    whats = sorted(m["what"] for m, _ in _limit_errors(r))
    assert whats == ["Heap peak limit", "Leak limit", "Total allocation limit"], r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 3
    assert r.returncode == EXIT


def test_no_limit_no_error(clients, workdir):
    r = helpers.run_memtrack(EXITCODE, [clients.path("gates")], workdir)
    _check_pass(r)


# ---------------------------------------------------------------------------
# The leak gate against memcheck's LEAK SUMMARY

# --lost-kinds: what the leak gate adds up.
LEAK_KIND_SETS = [
    (None, ("definite", "indirect")),  # the default: lost = definitely + indirectly lost
    ("definite", ("definite",)),
    ("possible", ("possible",)),
    ("indirect", ("indirect",)),
    ("definite,possible", ("definite", "possible")),
]
# gates.c: the site that loses most of these kinds.
LEAK_BY_CONSTRUCTION = {
    ("definite", "possible"): ("leak_blocks", 3000, 3),
    ("definite",): ("leak_blocks", 3000, 3),
    ("possible",): ("leak_inside", 500, 1),
    ("indirect",): ("leak_chain", 2000, 1),
    ("definite", "indirect"): ("leak_blocks", 3000, 3),
}


def _commas(n):
    return f"{n:,}"


def _lost_parts(nums, kinds):
    """The gate's "(3,064 definitely, 2,000 indirectly)" from memcheck's
    LEAK SUMMARY."""
    return ", ".join(f"{_commas(nums[SUMMARY_WORD[k]][0])} {PART_WORD[k]}" for k in KIND_ORDER if k in kinds)


def _leak_oracle(oracles, kinds):
    _, lo = oracles.memcheck("gates")
    nums = lo.summary_numbers()
    boundary = sum(nums[SUMMARY_WORD[k]][0] for k in kinds)
    by_site = _lost_by_site(lo, kinds)
    ranked = sorted(by_site.items(), key=lambda kv: kv[1][0], reverse=True)
    assert len(ranked) == 1 or ranked[1][1][0] < ranked[0][1][0], "two sites tie for the most lost"
    site, (sb, sk) = ranked[0]
    fn, b, k = LEAK_BY_CONSTRUCTION[kinds]
    assert (sb, sk) == (b, k) and site[0].startswith(f"{fn} ("), \
        f"memcheck disagrees with gates.c's construction: {site} {sb} {sk}"
    return boundary, sb, sk, site


@pytest.mark.parametrize("opt,kinds", LEAK_KIND_SETS, ids=lambda x: str(x))
def test_leak_limit_equal_to_memcheck_passes(opt, kinds, oracles, clients, workdir):
    boundary, _, _, _ = _leak_oracle(oracles, kinds)
    opts = [*EXITCODE, f"--leak-limit={boundary}"] + ([f"--lost-kinds={opt}"] if opt else [])
    r = helpers.run_memtrack(opts, [clients.path("gates")], workdir)
    _check_pass(r)


@pytest.mark.parametrize("opt,kinds", LEAK_KIND_SETS, ids=lambda x: str(x))
def test_leak_limit_one_byte_below_memcheck_fails_once(opt, kinds, oracles, clients, workdir):
    boundary, sb, sk, site = _leak_oracle(oracles, kinds)
    opts = [*EXITCODE, f"--leak-limit={boundary - 1}"] + ([f"--lost-kinds={opt}"] if opt else [])
    r = helpers.run_memtrack(opts, [clients.path("gates")], workdir)
    e = _check_breach(r, "leak", boundary - 1, boundary, sb, sk, site)
    _, lo = oracles.memcheck("gates")
    assert LIMIT_HEADLINE.match(e.headline)["parts"] == _lost_parts(lo.summary_numbers(), kinds), e.headline


def test_leak_limit_message_says_what_it_added_up(oracles, clients, workdir):
    """The exact words, every figure from memcheck's LEAK SUMMARY and loss
    records of the same client (gates.c: 3 x 1,000 + 64 bytes definitely
    lost, 2,000 indirectly): lost is definitely + indirectly lost, whatever
    --errors-for-leak-kinds says (memcheck's option keeps its meaning: it
    picks which loss records are errors)."""
    _, lo = oracles.memcheck("gates")
    nums = lo.summary_numbers()
    definite, indirect = nums["definitely lost"][0], nums["indirectly lost"][0]
    assert (definite, indirect) == (3064, 2000), "memcheck disagrees with gates.c's construction"
    _, sb, sk, site = _leak_oracle(oracles, ("definite", "indirect"))
    want = (f"Leak limit of 1,024 bytes exceeded: {_commas(definite + indirect)} bytes lost "
            f"({_commas(definite)} definitely, {_commas(indirect)} indirectly); "
            f"the most from {site[0]}: "
            f"{_commas(sb)} bytes in {_commas(sk)} blocks lost at")
    for extra in ([], ["--errors-for-leak-kinds=possible"], ["--errors-for-leak-kinds=all", "--leak-check=full"]):
        r = helpers.run_memtrack([*EXITCODE, "--leak-limit=1K", *extra], [clients.path("gates")], workdir)
        heads = [e.headline for _, e in _limit_errors(r)]
        assert heads == [want], (extra, heads)
        assert r.returncode == EXIT, r


def test_leak_limit_xml_what_says_the_parts(oracles, clients, workdir):
    _, lo = oracles.memcheck("gates")
    nums = lo.summary_numbers()
    r = helpers.run_memtrack(["--xml=yes", "--xml-file=out.xml", "--leak-limit=1K", "--lost-kinds=definite,possible"],
                             [clients.path("gates")], workdir)
    assert r.returncode == 0, r
    whats = [e.findtext("what") for e in ET.parse(workdir / "out.xml").getroot().iter("error")
             if e.findtext("kind") == "LeakLimit"]
    assert len(whats) == 1, whats
    lost = nums["definitely lost"][0] + nums["possibly lost"][0]
    assert whats[0].startswith(f"Leak limit of 1,024 bytes exceeded: {_commas(lost)} bytes lost "
                               f"({_lost_parts(nums, ('definite', 'possible'))}); the most from "), whats[0]


def test_leak_limit_with_nothing_to_count_is_rejected(workdir):
    r = _run_touch(["--leak-limit=1", "--lost-kinds=none"], workdir)
    assert r.returncode == 1, r
    assert "Bad option: --leak-limit" in r.stderr, r
    assert not (workdir / "marker").exists()


def test_leak_limit_counts_with_loss_records_in_a_full_search(oracles, clients, workdir):
    """With --leak-check=full the loss records are errors too: memcheck's
    count plus one for the gate."""
    mc = helpers.run_memcheck(["--leak-check=full"], [clients.path("gates")], workdir)
    mc_errors = helpers.parse_error_summary(mc.stderr)["errors"]
    assert mc_errors > 0
    r = helpers.run_memtrack([*EXITCODE, "--leak-check=full", "--leak-limit=1"], [clients.path("gates")], workdir)
    assert len(_limit_errors(r)) == 1
    assert helpers.parse_error_summary(r.stderr)["errors"] == mc_errors + 1
    assert r.returncode == EXIT


# ---------------------------------------------------------------------------
# Suppressions (Memtrack:Limit)


def _write(path, text):
    Path(path).write_text(text)
    return str(path)


PEAK_SUPP = """{
   big buffers may be big
   Memtrack:Limit
   fun:malloc
   fun:big_buffers
}
"""


def test_limit_suppression_suppresses_the_breach(oracles, clients, workdir):
    boundary, _, _ = _heap_oracle(oracles, "gates", "peak")
    supp = _write(workdir / "peak.supp", PEAK_SUPP)
    r = helpers.run_memtrack([*EXITCODE, f"--suppressions={supp}", f"--peak-limit={boundary - 1}",
                              "--summary-file=sum.json", "--sarif-file=out.sarif"],
                             [clients.path("gates")], workdir)
    assert "Heap peak limit" not in r.stderr, r
    assert helpers.parse_error_summary(r.stderr) == {"errors": 0, "contexts": 0, "suppressed": 1,
                                                     "suppressed_contexts": 1}
    assert r.returncode == 0, r
    # The summary still says the limit was exceeded, and that the breach
    # was suppressed; SARIF leaves suppressed findings out.
    s = json.loads((workdir / "sum.json").read_text())
    assert s["errors"] == 0
    assert s["limits"] == [{"name": "peak", "limit": boundary - 1, "exceeded": True, "value": boundary,
                            "suppressed": True}]
    sarif = json.loads((workdir / "out.sarif").read_text())
    assert "peak-limit" not in [x["ruleId"] for x in sarif["runs"][0]["results"]]


def test_limit_suppression_matches_only_its_stack(oracles, clients, workdir):
    peak, _, _ = _heap_oracle(oracles, "gates", "peak")
    total, _, _ = _heap_oracle(oracles, "gates", "total")
    supp = _write(workdir / "peak.supp", PEAK_SUPP)
    r = helpers.run_memtrack([*EXITCODE, f"--suppressions={supp}", f"--peak-limit={peak - 1}",
                              f"--total-limit={total - 1}"], [clients.path("gates")], workdir)
    assert [m["what"] for m, _ in _limit_errors(r)] == ["Total allocation limit"], r
    assert helpers.parse_error_summary(r.stderr) == {"errors": 1, "contexts": 1, "suppressed": 1,
                                                     "suppressed_contexts": 1}
    assert r.returncode == EXIT


def test_leak_suppression_does_not_suppress_a_limit(oracles, clients, workdir):
    boundary, _, _ = _heap_oracle(oracles, "gates", "peak")
    supp = _write(workdir / "leak.supp", PEAK_SUPP.replace("Memtrack:Limit", "Memtrack:Leak"))
    r = helpers.run_memtrack([*EXITCODE, f"--suppressions={supp}", f"--peak-limit={boundary - 1}"],
                             [clients.path("gates")], workdir)
    assert len(_limit_errors(r)) == 1
    assert r.returncode == EXIT


def test_generated_limit_suppressions_round_trip(oracles, clients, workdir):
    peak, _, _ = _heap_oracle(oracles, "gates", "peak")
    total, _, _ = _heap_oracle(oracles, "gates", "total")
    limits = [f"--peak-limit={peak - 1}", f"--total-limit={total - 1}", "--leak-limit=1"]
    r = helpers.run_memtrack([*EXITCODE, "--gen-suppressions=all", *limits], [clients.path("gates")], workdir)
    supps = [s for s in helpers.gen_suppressions(r.stderr) if "Memtrack:Limit" in s]
    assert len(supps) == 3, r
    f = _write(workdir / "gen.supp", "\n".join(supps) + "\n")
    r2 = helpers.run_memtrack([*EXITCODE, f"--suppressions={f}", *limits], [clients.path("gates")], workdir)
    assert _limit_errors(r2) == []
    assert helpers.parse_error_summary(r2.stderr)["suppressed"] == 3
    assert r2.returncode == 0, r2


# ---------------------------------------------------------------------------
# --xml=yes


def test_xml_breach_is_an_error_of_its_kind(oracles, clients, workdir):
    peak, (sb, sk), site = _heap_oracle(oracles, "gates", "peak")
    total, _, _ = _heap_oracle(oracles, "gates", "total")
    leak, _, _, _ = _leak_oracle(oracles, ("definite", "indirect"))
    r = helpers.run_memtrack([*EXITCODE, "--xml=yes", "--xml-file=out.xml", f"--peak-limit={peak - 1}",
                              f"--total-limit={total - 1}", f"--leak-limit={leak - 1}"],
                             [clients.path("gates")], workdir)
    assert r.returncode == EXIT, r
    root = ET.parse(workdir / "out.xml").getroot()
    errors = root.findall("error")
    by_kind = {}
    for e in errors:
        by_kind.setdefault(e.findtext("kind"), []).append(e)
    for which, value in (("peak", peak), ("total", total), ("leak", leak)):
        found = by_kind.get(XML_KIND[which], [])
        assert len(found) == 1, f"{XML_KIND[which]}: {len(found)} errors"
        m = LIMIT_HEADLINE.match(found[0].findtext("what") or "")
        assert m, found[0].findtext("what")
        assert (_n(m["limit"]), _n(m["value"])) == (value - 1, value)
    pk = by_kind["PeakLimit"][0]
    m = LIMIT_HEADLINE.match(pk.findtext("what"))
    assert (_n(m["site_bytes"]), _n(m["site_blocks"])) == (sb, sk)
    fns = [f.findtext("fn") for f in pk.find("stack").findall("frame")]
    assert fns[:2] == ["malloc", "big_buffers"], fns
    frame = pk.find("stack").findall("frame")[1]
    assert frame.findtext("file") == "gates.c"
    # DHAT's frame says the same line.
    assert site[0].endswith(f"(gates.c:{frame.findtext('line')})"), (site[0], frame.findtext("line"))
    # The text log has no error text with --xml=yes.
    assert "limit of" not in r.stderr


# ---------------------------------------------------------------------------
# --summary-file


def _load_json(path):
    return profile_helpers.load(path)


def test_summary_file_matches_the_oracles(oracles, clients, workdir):
    figs, _ = oracles.dhat("gates")
    _, lo = oracles.memcheck("gates")
    peak, total = figs["gmax"][0], figs["total"][0]
    r = helpers.run_memtrack([*EXITCODE, "--summary-file=sum.%p.json", "--dhat-out-file=prof.json",
                              f"--peak-limit={peak}",
                              f"--total-limit={total - 1}", "--leak-limit=1M"],
                             [clients.path("gates")], workdir)
    pid = _pid(r.stderr)
    s = _load_json(workdir / f"sum.{pid}.json")
    assert s["memtrackSummaryVersion"] == 2
    assert s["cmd"] == clients.path("gates")
    assert s["pid"] == pid
    assert s["mode"] == "heap"
    assert (s["total"]["bytes"], s["total"]["blocks"]) == figs["total"]
    assert (s["peak"]["bytes"], s["peak"]["blocks"]) == figs["gmax"]
    assert (s["end"]["bytes"], s["end"]["blocks"]) == figs["end"]
    assert (s["reads"], s["writes"]) == (figs["reads"], figs["writes"])
    assert 0 < s["peak"]["t"] <= s["instructions"]
    # The times are the profile's (docs/format.md says so).
    prof = _load_json(workdir / "prof.json")
    assert (s["peak"]["t"], s["instructions"]) == (prof["tg"], prof["te"])
    nums = lo.summary_numbers()
    for k in ("definite", "indirect", "possible", "reachable"):
        assert (s["leaks"][k]["bytes"], s["leaks"][k]["blocks"]) == nums[SUMMARY_WORD[k]], k
    assert (s["leaks"]["suppressed"]["bytes"], s["leaks"]["suppressed"]["blocks"]) == nums["suppressed"]
    # lost: definitely + indirectly lost, the kinds named.
    assert s["lost"] == {"kinds": ["definite", "indirect"],
                         "bytes": nums["definitely lost"][0] + nums["indirectly lost"][0],
                         "blocks": nums["definitely lost"][1] + nums["indirectly lost"][1]}
    assert s["errors"] == helpers.parse_error_summary(r.stderr)["errors"] == 1
    assert s["limits"] == [
        {"name": "peak", "limit": peak, "exceeded": False},
        {"name": "total", "limit": total - 1, "exceeded": True, "value": total, "suppressed": False},
        {"name": "leak", "limit": 1 << 20, "exceeded": False},
    ]
    assert r.returncode == EXIT


def test_summary_file_counts_every_error(clients, workdir):
    """errors is the ERROR SUMMARY's count, whatever kind the errors are
    (here: leak errors of a full search and a breached leak limit)."""
    r = helpers.run_memtrack(["--leak-check=full", "--leak-limit=1", "--summary-file=sum.json"],
                             [clients.path("gates")], workdir)
    s = _load_json(workdir / "sum.json")
    assert s["errors"] == helpers.parse_error_summary(r.stderr)["errors"]
    assert s["errors"] > 1


def test_summary_file_without_leak_search_or_limits(clients, workdir):
    r = helpers.run_memtrack(["--leak-check=no", "--summary-file=sum.json"], [clients.path("gates")], workdir)
    assert r.returncode == 0, r
    s = _load_json(workdir / "sum.json")
    assert s["leaks"] is None and s["lost"] is None
    assert s["limits"] == []
    assert s["errors"] == 0


def test_summary_file_in_copy_mode_has_no_heap_figures(clients, workdir):
    r = helpers.run_memtrack(["--mode=copy", "--summary-file=sum.json"], [clients.path("gates")], workdir)
    assert r.returncode == 0, r
    s = _load_json(workdir / "sum.json")
    assert s["mode"] == "copy"
    assert "peak" not in s and "end" not in s


ODD_DIR = "odd dir 'q\" b\\s"
ODD_ARGS = ["a b", 'q"uote', "back\\slash", "tab\there", "{json}", "\u00fcn\u00efc\u00f6de", ""]


def test_summary_file_with_odd_command_and_names(clients, workdir):
    d = workdir / ODD_DIR
    d.mkdir()
    exe = d / "ga'te \"s\\x"
    shutil.copy(clients.path("gates"), exe)
    argv = [str(exe), *ODD_ARGS]
    r = helpers.run_memtrack(["--summary-file=s %p 'q\".json", "--sarif-file=r.%q{MT_GATES_TAG}.sarif"],
                             argv, workdir, env={"MT_GATES_TAG": "x y"})
    assert r.returncode == 0, r
    pid = _pid(r.stderr)
    s = _load_json(workdir / f"s {pid} 'q\".json")
    # The program and its arguments joined by single spaces (docs/format.md).
    assert s["cmd"] == " ".join(argv)
    assert s["pid"] == pid
    sarif = _load_json(workdir / "r.x y.sarif")
    assert sarif["runs"][0]["invocations"][0]["commandLine"] == " ".join(argv)


@pytest.mark.parametrize("opt", ["--summary-file=s.%q{MT_SURELY_UNSET_VAR}.json",
                                 "--sarif-file=%q{MT_SURELY_UNSET_VAR}",
                                 "--dhat-out-file=%q{MT_SURELY_UNSET_VAR}"])
def test_file_names_are_checked_before_the_client_runs(opt, workdir):
    assert "MT_SURELY_UNSET_VAR" not in os.environ
    r = _run_touch([opt], workdir)
    assert r.returncode == 1, r
    assert f"Bad option: {opt}" in r.stderr
    assert not (workdir / "marker").exists(), "the client ran although a file name was bad"
    _check_nothing_left(workdir)


def test_unwritable_summary_file_stops_before_the_client(workdir):
    """As a bad --log-file does (tests/test_output_paths.py has every output
    and the failures at exit)."""
    r = _run_touch(["--summary-file=/nonexistent-dir/s.json", "--sarif-file=r.sarif"], workdir)
    assert r.returncode == 1, r
    assert ("Cannot create --summary-file file '/nonexistent-dir/s.json': No such file or directory"
            in r.stderr), r
    assert not (workdir / "marker").exists(), "the client ran"
    assert not (workdir / "r.sarif").exists()


# ---------------------------------------------------------------------------
# One meaning of "lost" (docs/manual.md, section 10, "What "lost" means")

SCRIPTS = helpers.REPO / "scripts"


def _script(name, args, cwd):
    return helpers.run(["/usr/bin/python3", str(SCRIPTS / name), *[str(a) for a in args]], cwd)


@pytest.mark.parametrize("opt,kinds", [(None, ("definite", "indirect")), ("definite,possible", ("definite", "possible"))],
                         ids=["default", "definite,possible"])
def test_lost_is_the_same_figure_everywhere(opt, kinds, oracles, clients, workdir):
    """The leak gate, the summary file, the SARIF results, memtrack_diff and
    memtrack_report's card add up the same kinds, and the figure is
    memcheck's LEAK SUMMARY's lines of those kinds."""
    _, lo = oracles.memcheck("gates")
    nums = lo.summary_numbers()
    lost = sum(nums[SUMMARY_WORD[k]][0] for k in kinds)
    lost_blocks = sum(nums[SUMMARY_WORD[k]][1] for k in kinds)
    parts = _lost_parts(nums, kinds)
    kinds_opt = [f"--lost-kinds={opt}"] if opt else []
    r = helpers.run_memtrack([*EXITCODE, "--leak-limit=1", *kinds_opt, "--summary-file=s.json",
                              "--sarif-file=r.sarif", "--dhat-out-file=new.json"], [clients.path("gates")], workdir)
    # The gate.
    [(m, e)] = _limit_errors(r)
    assert (_n(m["value"]), m["parts"]) == (lost, parts), e.headline
    # The summary file.
    s = _load_json(workdir / "s.json")
    assert s["lost"] == {"kinds": list(kinds), "bytes": lost, "blocks": lost_blocks}
    assert s["limits"][0]["value"] == lost
    # SARIF: each record's own bytes, added up over the lost ones; the
    # breach says what the log says.
    results = _sarif_results(workdir / "r.sarif")
    recs = [res["properties"] for res in results if res["ruleId"] in SARIF_RULE.values()]
    assert all(p["lost"] == (p["kind"] in kinds) for p in recs), recs
    assert sum(p["bytes"] for p in recs if p["lost"]) == lost
    assert sum(p["blocks"] for p in recs if p["lost"]) == lost_blocks
    for k in ("definite", "indirect", "possible"):
        assert sum(p["bytes"] for p in recs if p["kind"] == k) == nums[SUMMARY_WORD[k]][0], k
    [breach] = [res for res in results if res["ruleId"] == "leak-limit"]
    assert breach["message"]["text"].split("\n")[0] == e.headline
    if "possible" in kinds:
        return  # the profile's scripts count definitely + indirectly lost (or --leak-kinds)
    # memtrack_diff from a run that lost nothing: every lost byte is new.
    rb = helpers.run_memtrack(["--dhat-out-file=base.json"], ["/usr/bin/true"], workdir)
    assert rb.returncode == 0, rb
    d = _script("memtrack_diff", ["--max-new-leaks=0", "base.json", "new.json"], workdir)
    assert d.returncode == 1, d
    assert (f"new leaks: {_commas(lost)} bytes lost ({parts}) in {_commas(lost_blocks)} blocks at "
            in d.stderr), d.stderr
    assert f"(lost in total: 0 -> {_commas(lost)} bytes)" in d.stderr, d.stderr
    # memtrack_report's red card.
    rep = _script("memtrack_report", ["new.json", "-o", "r.html"], workdir)
    assert rep.returncode == 0, rep
    card = re.search(r'id="card-leaked"><div class="label">([^<]*)</div><div class="big">([^<]*)</div>'
                     r'<div class="small">([^<]*)</div>', (workdir / "r.html").read_text())
    assert card, "no leaked card"
    assert card.groups() == ("Definitely + indirectly lost", f"{_commas(lost)} bytes", f"in {_commas(lost_blocks)} blocks")


# ---------------------------------------------------------------------------
# --sarif-file


def _sarif_results(path):
    s = _load_json(path)
    assert s["version"] == "2.1.0"
    assert s["$schema"].endswith("sarif-2.1.0.json")
    assert len(s["runs"]) == 1
    run = s["runs"][0]
    assert run["tool"]["driver"]["name"] == "memtrack"
    rule_ids = [x["id"] for x in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    bases = run.get("originalUriBaseIds", {})
    for res in run["results"]:
        assert res["ruleId"] in rule_ids, res["ruleId"]
        assert res["level"] in ("error", "warning")
        assert res["message"]["text"]
        res["_bases"] = bases  # for _location: relative URIs and their root
    return run["results"]


def _location(res):
    """(path, line) of a result, the URI decoded to a file name."""
    locs = res["locations"]
    assert len(locs) == 1
    pl = locs[0]["physicalLocation"]
    uri = pl["artifactLocation"]["uri"]
    # A URI, not a raw path: nothing that needs percent-encoding is left.
    assert re.fullmatch(r"[A-Za-z0-9\-._~/:%]+", uri), uri
    if "uriBaseId" in pl["artifactLocation"]:
        # Relative to the source root (--sarif-root, by default the current
        # directory), which the run's originalUriBaseIds gives.
        base = res["_bases"][pl["artifactLocation"]["uriBaseId"]]["uri"]
        assert base.endswith("/") and not uri.startswith("/"), (base, uri)
        uri = base + uri
    u = urllib.parse.urlparse(uri)
    assert u.scheme == "file" and u.netloc == "", uri
    return urllib.parse.unquote(u.path), (pl["region"]["startLine"] if "region" in pl else None)


def _expected_leak_results(lo, src, error_kinds=("definite", "possible")):
    """memcheck's loss records (not still reachable) as SARIF results should
    carry them: (rule, level, memcheck's headline, properties, file, line)."""
    out = []
    for rec in lo.exit_records:
        if rec.kind == "still reachable":
            continue
        n = rec.numbers
        f, line = _source_of(rec.frames)
        assert f == os.path.basename(src)
        kind = KIND_OF_WORD[rec.kind]
        level = "error" if kind in error_kinds else "warning"
        direct = n["direct"] if n["direct"] is not None else n["total"]
        props = {"kind": kind, "lost": kind in ("definite", "indirect"), "bytes": direct,
                 "indirectBytes": n["indirect"] or 0, "blocks": n["blocks"], "lossRecord": n["n"],
                 "lossRecords": n["of"]}
        out.append((SARIF_RULE[rec.kind], level, rec.headline, tuple(sorted(props.items())),
                    os.path.realpath(src), line))
    return out


def _leak_results(results):
    out = []
    for res in results:
        if res["ruleId"] not in SARIF_RULE.values():
            continue
        path, line = _location(res)
        out.append((res["ruleId"], res["level"], res["message"]["text"].split("\n")[0],
                    tuple(sorted(res["properties"].items())), os.path.realpath(path), line))
    return out


def test_sarif_has_memchecks_loss_records_at_their_source_lines(oracles, clients, workdir):
    peak, _, peak_site = _heap_oracle(oracles, "gates", "peak")
    total, _, total_site = _heap_oracle(oracles, "gates", "total")
    _, lo = oracles.memcheck("gates")
    _, _, _, leak_site = _leak_oracle(oracles, ("definite", "possible"))
    src = helpers.CLIENT_SRC / "gates.c"
    r = helpers.run_memtrack([f"--peak-limit={peak - 1}", f"--total-limit={total - 1}", "--leak-limit=1",
                              "--sarif-file=out.%p.sarif"], [clients.path("gates")], workdir)
    results = _sarif_results(workdir / f"out.{_pid(r.stderr)}.sarif")
    expected = _expected_leak_results(lo, src)
    assert len(expected) == 4  # gates.c: 2 definite, 1 indirect, 1 possible
    # memcheck's records, in memcheck's order, with its numbers and words.
    assert _leak_results(results) == expected
    # The breaches: one result each, at the source line of the site that
    # contributed most (DHAT's and memcheck's frames say which).
    breaches = {res["ruleId"]: res for res in results if res["ruleId"].endswith("-limit")}
    assert sorted(breaches) == ["leak-limit", "peak-limit", "total-limit"]
    for rule, site in (("peak-limit", peak_site), ("total-limit", total_site), ("leak-limit", leak_site)):
        res = breaches[rule]
        assert res["level"] == "error"
        path, line = _location(res)
        assert os.path.realpath(path) == os.path.realpath(src)
        assert site[0].endswith(f"(gates.c:{line})"), (rule, site[0], line)
    assert len(results) == len(expected) + 3


def test_sarif_levels_follow_errors_for_leak_kinds(oracles, clients, workdir):
    _, lo = oracles.memcheck("gates")
    r = helpers.run_memtrack(["--errors-for-leak-kinds=indirect", "--sarif-file=out.sarif"],
                             [clients.path("gates")], workdir)
    assert r.returncode == 0, r
    results = _sarif_results(workdir / "out.sarif")
    assert _leak_results(results) == _expected_leak_results(lo, helpers.CLIENT_SRC / "gates.c", ("indirect",))


def test_sarif_leaves_out_suppressed_loss_records(oracles, clients, workdir):
    """A memcheck suppression file (which memtrack reads too) hides the
    possibly lost record from both; the SARIF file has what memcheck still
    reports."""
    supp = _write(workdir / "mc.supp", "{\n   inside\n   Memcheck:Leak\n   match-leak-kinds: possible\n"
                                       "   fun:malloc\n   fun:leak_inside\n}\n")
    _, lo = oracles.memcheck("gates", (f"--suppressions={supp}",))
    assert not any(rec.kind == "possibly lost" for rec in lo.exit_records)
    r = helpers.run_memtrack([f"--suppressions={supp}", "--sarif-file=out.sarif"], [clients.path("gates")], workdir)
    assert r.returncode == 0, r
    results = _sarif_results(workdir / "out.sarif")
    assert _leak_results(results) == _expected_leak_results(lo, helpers.CLIENT_SRC / "gates.c")


def test_sarif_without_findings_has_no_results(workdir):
    r = helpers.run_memtrack(["--sarif-file=out.sarif"], ["/usr/bin/true"], workdir)
    assert r.returncode == 0, r
    assert _sarif_results(workdir / "out.sarif") == []


def test_sarif_uri_of_a_source_path_with_odd_characters(oracles, workdir):
    """The URI is percent-encoded and decodes to the source file's path."""
    _, lo = oracles.memcheck("gates")
    d = workdir / ODD_DIR / "s\u00fcb%20dir"
    d.mkdir(parents=True)
    src = d / "ga'te \"s#?.c"
    shutil.copy(helpers.CLIENT_SRC / "gates.c", src)
    exe = workdir / "gates_odd"
    p = subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(src)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = helpers.run_memtrack(["--sarif-file=out.sarif"], [str(exe)], workdir)
    assert r.returncode == 0, r
    got = _leak_results(_sarif_results(workdir / "out.sarif"))
    # Same source text, so memcheck's lines for the original still hold.
    want = [(rule, lvl, b, k, os.path.realpath(src), line)
            for rule, lvl, b, k, _, line in _expected_leak_results(lo, helpers.CLIENT_SRC / "gates.c")]
    assert got == want


def test_sarif_without_debug_information_points_at_the_program(oracles, workdir):
    """No frame has a source line: every result (code scanning wants a
    location for each) is placed at the program file, without a line."""
    _, lo = oracles.memcheck("gates")
    exe = workdir / "gates nodebug"
    p = subprocess.run(["gcc", "-O0", "-g0", "-o", str(exe), str(helpers.CLIENT_SRC / "gates.c")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = helpers.run_memtrack(["--peak-limit=1", "--sarif-file=out.sarif"], [str(exe)], workdir)
    assert "(gates.c:" not in r.stderr, "the client has debug information"
    results = _sarif_results(workdir / "out.sarif")
    want = [(rule, lvl, b, k, os.path.realpath(exe), None)
            for rule, lvl, b, k, _, _ in _expected_leak_results(lo, helpers.CLIENT_SRC / "gates.c")]
    assert _leak_results(results) == want
    breach = [res for res in results if res["ruleId"] == "peak-limit"]
    assert len(breach) == 1
    path, line = _location(breach[0])
    assert (os.path.realpath(path), line) == (os.path.realpath(exe), None)


# ---------------------------------------------------------------------------
# Option values


def _run_touch(opts, workdir):
    """Runs /usr/bin/touch under memtrack: if the client ran, 'marker'
    exists. Valgrind's temporary files (memtrack's copy of memcheck's
    suppressions) go to <workdir>/tmp."""
    (workdir / "tmp").mkdir(exist_ok=True)
    return helpers.run_memtrack(opts, ["/usr/bin/touch", "marker"], workdir, env={"TMPDIR": str(workdir / "tmp")})


def _check_nothing_left(workdir):
    """A run stopped by a bad option leaves no temporary file behind."""
    left = list((workdir / "tmp").iterdir())
    assert left == [], f"temporary files left behind: {left}"


BAD_VALUES = [
    "--peak-limit=abc",
    "--leak-limit=-1",
    "--summary-file=",
    "--sarif-file=",
    "--total-limit=10X",
    "--peak-limit=1.5M",
    "--peak-limit=",
    "--peak-limit=64 K",
    "--peak-limit=1KBB",
    "--peak-limit=99999999999999999999",
    "--total-limit=16777216T",  # 2^64
    "--peak-limit",
    "--summary-file",
]


@pytest.mark.parametrize("opt", BAD_VALUES)
def test_bad_value_is_rejected(opt, workdir):
    r = _run_touch([opt], workdir)
    assert r.returncode == 1, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr:\n{r}"
    assert lines[0].startswith(f"valgrind: Bad option: {opt}"), r
    assert r.stdout == ""
    assert not (workdir / "marker").exists(), "the client ran although an option was bad"


# Gates that could never be checked: rejected after the preamble (they
# depend on another option), before the client runs.
BAD_COMBINATIONS = [
    (["--leak-check=no", "--leak-limit=1"], "--leak-limit"),
    (["--mode=copy", "--peak-limit=1"], "--peak-limit"),
    (["--mode=ad-hoc", "--total-limit=1K"], "--total-limit"),
]


@pytest.mark.parametrize("opts,name", BAD_COMBINATIONS, ids=lambda x: " ".join(x) if isinstance(x, list) else x)
def test_gate_that_cannot_be_checked_is_rejected(opts, name, workdir):
    r = _run_touch(opts, workdir)
    assert r.returncode == 1, r
    assert re.search(rf"^==\d+== Bad option: {re.escape(name)}$", r.stderr, re.M), r
    assert "ERROR SUMMARY" not in r.stderr
    assert not (workdir / "marker").exists(), "the client ran although a gate could not be checked"
    _check_nothing_left(workdir)


def test_leak_limit_with_xml_is_accepted_whatever_leak_check_says(clients, workdir):
    """--xml=yes always searches (as memcheck does), so the gate works."""
    r = helpers.run_memtrack([*EXITCODE, "--xml=yes", "--xml-file=o.xml", "--leak-check=no", "--leak-limit=1"],
                             [clients.path("gates")], workdir)
    assert r.returncode == EXIT, r
    kinds = [e.findtext("kind") for e in ET.parse(workdir / "o.xml").getroot().findall("error")]
    assert kinds.count("LeakLimit") == 1


# Sizes in their documented meaning: binary multiples, optional i and B.
GOOD_SIZES = [
    ("4096", 4096), ("64K", 64 << 10), ("64k", 64 << 10), ("10M", 10 << 20), ("2G", 2 << 30),
    ("1T", 1 << 40), ("1KiB", 1024), ("1KB", 1024), ("3MiB", 3 << 20), ("100B", 100), ("100b", 100),
    ("18446744073709551615", (1 << 64) - 1), ("16777215T", 16777215 << 40),
]


@pytest.mark.parametrize("text,value", GOOD_SIZES, ids=[t for t, _ in GOOD_SIZES])
def test_good_sizes_mean_what_the_manual_says(text, value, workdir):
    # /usr/bin/true allocates nothing, so no limit is exceeded.
    r = helpers.run_memtrack([f"--peak-limit={text}", f"--total-limit={text}", f"--leak-limit={text}",
                              "--summary-file=sum.json"], ["/usr/bin/true"], workdir)
    assert r.returncode == 0, r
    s = _load_json(workdir / "sum.json")
    assert s["limits"] == [{"name": n, "limit": value, "exceeded": False} for n in ("peak", "total", "leak")]


def test_zero_means_no_limit(workdir):
    r = _run_touch(["--peak-limit=0", "--total-limit=0", "--leak-limit=0", "--summary-file=sum.json",
                    *EXITCODE], workdir)
    assert r.returncode == 0, r
    assert _load_json(workdir / "sum.json")["limits"] == []


def test_help_lists_the_gate_options():
    p = subprocess.run([str(helpers.VG_IN_PLACE), "--tool=memtrack", "--help"], capture_output=True, text=True,
                       env=helpers.base_env())
    for opt in ("--peak-limit=<size>", "--total-limit=<size>", "--leak-limit=<size>", "--summary-file=<file>",
                "--sarif-file=<file>"):
        assert opt in p.stdout, opt


# ---------------------------------------------------------------------------
# SARIF results are memcheck's loss records, on clients with many of them


@pytest.mark.parametrize("name", ["leak_tree", "leak_graph", "leak_cycle", "leak_cxx", "leak_bigmix",
                                  "leak_manysites"])
def test_sarif_results_are_memchecks_loss_records(name, oracles, clients, workdir):
    """One result per loss record that is not still reachable: the same
    count, memcheck's headline word for word (bytes, the direct/indirect
    split, blocks, "loss record N of M"), the same figures as properties;
    adding up the results' own bytes gives memcheck's LEAK SUMMARY and the
    summary file's "lost". leak_bigmix's two runs are a pair where ld.so's
    relocation time, a root, points into no block or changed neither LEAK
    SUMMARY (leak_helpers.run_pair_without_timing_word)."""
    opts = ["--sarif-file=r.sarif", "--summary-file=s.json"]
    if name in leak_helpers.TIMING_WORD_CLIENTS:
        r, mc = leak_helpers.run_pair_without_timing_word(opts, [clients.path(name)], workdir,
                                                          mc_opts=["--leak-check=full", "--show-leak-kinds=all"])
        assert mc.returncode == 0, mc
        lo = leak_helpers.parse(mc.stderr)
    else:
        _, lo = oracles.memcheck(name)
        r = helpers.run_memtrack(opts, [clients.path(name)], workdir)
    assert r.returncode == 0, r
    results = [res for res in _sarif_results(workdir / "r.sarif") if res["ruleId"] in SARIF_RULE.values()]
    want = [rec for rec in lo.exit_records if rec.kind != "still reachable"]
    assert len(want) > 1
    assert [res["message"]["text"].split("\n")[0] for res in results] == [rec.headline for rec in want]
    for res, rec in zip(results, want):
        n, p = rec.numbers, res["properties"]
        direct = n["direct"] if n["direct"] is not None else n["total"]
        assert (p["kind"], p["bytes"], p["indirectBytes"], p["blocks"], p["lossRecord"], p["lossRecords"]) == \
               (KIND_OF_WORD[rec.kind], direct, n["indirect"] or 0, n["blocks"], n["n"], n["of"]), rec.headline
        assert res["ruleId"] == SARIF_RULE[rec.kind]
    nums = lo.summary_numbers()
    for k in ("definite", "indirect", "possible"):
        assert sum(res["properties"]["bytes"] for res in results if res["properties"]["kind"] == k) == \
               nums[SUMMARY_WORD[k]][0], k
    s = _load_json(workdir / "s.json")
    assert s["lost"]["bytes"] == nums["definitely lost"][0] + nums["indirectly lost"][0] == \
           sum(res["properties"]["bytes"] for res in results if res["properties"]["lost"])


TEMPLATE_SITE = r"""
#include <string>
template <typename T> struct Box { T v[64]; };
template <typename T> __attribute__((noinline)) Box<T>* make_boxes(int n, const std::string& why) {
  return why.empty() ? nullptr : new Box<T>[n];
}
int main() {
  Box<char>* b = make_boxes<char>(2000, "peak");  // 128,000 bytes, more than libstdc++'s pool
  delete[] b;
  return 0;
}
"""


def test_limit_names_a_template_site_in_valid_xml(workdir):
    """The label in the breach's text holds what C++ names hold ('<', '>',
    '&'): the log says it as it is, the XML escapes it, and both name the
    stack's first frame below the allocator."""
    (workdir / "tmpl.cpp").write_text(TEMPLATE_SITE)
    p = subprocess.run(["g++", "-g", "-O0", "-o", str(workdir / "tmpl"), str(workdir / "tmpl.cpp")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = helpers.run_memtrack([*EXITCODE, "--peak-limit=150K"], [workdir / "tmpl"], workdir)
    [(m, e)] = _limit_errors(r)
    assert "make_boxes<char>" in m["label"] and "std::" in m["label"] and "&" in m["label"], m["label"]
    assert m["label"] == _first_own_frame(e.lines[1:]), e.headline
    r = helpers.run_memtrack(["--xml=yes", "--xml-file=out.xml", "--peak-limit=150K"], [workdir / "tmpl"], workdir)
    assert r.returncode == 0, r
    err = next(x for x in ET.parse(workdir / "out.xml").getroot().iter("error")
               if x.findtext("kind") == "PeakLimit")
    what = LIMIT_HEADLINE.match(err.findtext("what"))
    assert what and what["label"] == m["label"], err.findtext("what")
    frames = err.find("stack").findall("frame")
    own = next(f for f in frames if f.findtext("fn") and "make_boxes" in f.findtext("fn"))
    assert what["label"] == f"{own.findtext('fn')} ({own.findtext('file')}:{own.findtext('line')})"
