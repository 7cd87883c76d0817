"""--xml=yes (protocol 4, or 6 from Valgrind 3.26) against memcheck: both
tools run with the same options on the same client, each writes an XML
file, and both files are read with xml.etree.ElementTree the way a
consumer (a CI plugin, an IDE) reads them: the envelope (protocol version,
tool, the two <status> elements), every <error> in order (kind, what/xwhat
with leakedbytes and leakedblocks, auxwhat, the stacks' function names,
files and lines, the <suppression> of --gen-suppressions=all),
<errorcounts> and <suppcounts>, and protocol 6's summaries
(<heap_summary>, <all_heap_blocks_freed>, <leak_summary> of every search,
<error_summary>) element by element, text for text.
What legitimately differs is normalised away: addresses (ip, obj,
"Address 0x..."), the tool's name in suppression kinds (Memtrack:Leak
where memcheck says Memcheck:Leak) and the name of the tool's preload.

Clients: leak_cases (every leak kind), bad_frees (each bad free alone),
xml_mix (heap errors while running and leaks at exit in one run, one error
three times from one place, malloc(-1), a function named
"void leak<void>(void*&)"; "clean" frees everything), leak_requests
(mid-run searches), leak_threads, leak_cxx, leak_hostile.
"""
import dataclasses
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import helpers
import leak_helpers

FULL_ALL = ["--leak-check=full", "--show-leak-kinds=all"]
GEN = ["--gen-suppressions=all"]

LEAK_KINDS = ["Leak_DefinitelyLost", "Leak_IndirectlyLost", "Leak_PossiblyLost", "Leak_StillReachable"]
KIND_WORD = {"Leak_DefinitelyLost": "definite", "Leak_IndirectlyLost": "indirect",
             "Leak_PossiblyLost": "possible", "Leak_StillReachable": "reachable"}
# A loss record's text, as in the text log (numbers with commas, deltas
# with " (+x)" / " (-x)").
_N = r"([\d,]+)(?: \([+-][\d,]+\))?"
RECORD_TEXT = re.compile(
    rf"^{_N}(?: \({_N} direct, {_N} indirect\))? bytes in {_N} blocks are "
    r"(definitely lost|indirectly lost|possibly lost|still reachable) in (?:new )?loss record [\d,]+ of [\d,]+$")

_HEX = re.compile(r"0x[0-9A-Fa-f]+")

# The protocol the Valgrind in use writes (its core writes the number, for
# every tool): 6 from 3.26 (docs/internals/xml-output-protocol6.txt), whose
# memcheck adds its summaries; parse_xml checks memcheck's file says it too.
PROTOCOL = "6" if helpers.VG_VERSION >= (3, 26) else "4"
SUMMARIES = ("heap_summary", "all_heap_blocks_freed", "leak_summary", "error_summary")


# ---------------------------------------------------------------------------
# Reading an XML file as a consumer does


def _text(el, path):
    x = el.find(path)
    return None if x is None else (x.text or "")


def _frames(stack):
    """A <stack>'s frames: function, directory, file and line (ip and obj
    are addresses and install paths). A frame in a tool's preload has no
    source position where the Valgrind in use ships its preloads without
    debug info, and memtrack's never has one (helpers.normalise_preload)."""
    def frame(f):
        if (_text(f, "file") or "").startswith("vg_replace_"):
            return (_text(f, "fn"), None, None, None)
        return (_text(f, "fn"), _text(f, "dir"), _text(f, "file"), _text(f, "line"))
    return [frame(f) for f in stack.findall("frame")]


def _tool_neutral(s, tool):
    """Memcheck:Leak -> Memtrack:Leak, vgpreload_memcheck -> vgpreload_memtrack."""
    if tool == "memcheck":
        s = s.replace("Memcheck:", "Memtrack:").replace("vgpreload_memcheck", "vgpreload_memtrack")
    return s


def _suppression(el, tool):
    frames = []
    for sf in el.findall("sframe"):
        if sf.find("fun") is not None:
            frames.append(("fun", sf.find("fun").text))
        else:
            frames.append(("obj", _tool_neutral(os.path.basename(_text(sf, "obj")), tool)))
    raw = _text(el, "rawtext").strip()
    raw = "\n".join(_tool_neutral(re.sub(r"obj:\S*/", "obj:*/", l), tool) for l in raw.splitlines())
    return {"sname": _text(el, "sname"), "skind": _tool_neutral(_text(el, "skind"), tool),
            "skaux": [x.text for x in el.findall("skaux")], "sframes": frames, "rawtext": raw}


def error_view(err, tool):
    """An <error> as a list of (tag, value) in document order, <unique>
    left out (it is an id; errorcounts are resolved through it)."""
    out = []
    for child in err:
        tag = child.tag
        if tag == "unique":
            continue
        if tag == "stack":
            out.append((tag, _frames(child)))
        elif tag == "xwhat":
            out.append((tag, (_text(child, "text"), _text(child, "leakedbytes"), _text(child, "leakedblocks"))))
        elif tag == "suppression":
            out.append((tag, _suppression(child, tool)))
        elif tag in ("what", "auxwhat"):
            # memcheck 3.19 ends a FishyValue's <what> with a newline:
            # consumers strip it.
            out.append((tag, _HEX.sub("0x?", (child.text or "").strip())))
        else:
            out.append((tag, (child.text or "").strip()))
    return out


@dataclasses.dataclass
class XmlRun:
    tool: str
    root: ET.Element
    errors: list       # <error> elements, in order
    views: list        # error_view() of each

    @property
    def kinds(self):
        return [e.findtext("kind") for e in self.errors]

    @property
    def leak_errors(self):
        return [e for e in self.errors if e.findtext("kind").startswith("Leak_")]

    def top_level(self):
        """The sequence of top-level elements, <status> with its state and
        <error> with its kind: the file's shape."""
        out = []
        for el in self.root:
            if el.tag == "status":
                out.append(("status", el.findtext("state")))
            elif el.tag == "error":
                out.append(("error", el.findtext("kind")))
            elif el.tag == "suppression":  # 3.19 repeats it after </error>
                out.append(("suppression", _suppression(el, self.tool)["rawtext"]))
            else:
                out.append((el.tag, None))
        return out

    def errorcounts(self):
        """[(count, the error's view)] in the file's order; each <unique>
        resolved to the error it names."""
        by_id = {e.findtext("unique"): v for e, v in zip(self.errors, self.views)}
        out = []
        for pair in self.root.findall("errorcounts/pair"):
            u = pair.findtext("unique")
            assert u in by_id, f"{self.tool}: errorcounts names unique {u}, which no <error> has"
            out.append((int(pair.findtext("count")), by_id[u]))
        return out

    def suppcounts(self):
        return [(int(p.findtext("count")), p.findtext("name")) for p in self.root.findall("suppcounts/pair")]

    def summaries(self):
        """Protocol 6's summary elements in document order, each as a tree
        of (tag, text or [children]): every figure as written (commas, and
        ' (+x)' deltas in a mid-run search's <leak_summary>)."""
        def tree(el):
            kids = list(el)
            return (el.tag, [tree(k) for k in kids] if kids else (el.text or "").strip())
        return [tree(el) for el in self.root if el.tag in SUMMARIES]


def parse_xml(path, tool):
    """Parses (a malformed file fails the test here) and checks the
    envelope every file of the protocol in use has."""
    text = open(path, "rb").read()
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        pytest.fail(f"{tool}'s XML {path} is not well-formed: {e}\n{text[-3000:].decode('utf-8', 'replace')}")
    assert root.tag == "valgrindoutput", root.tag
    assert root.findtext("protocolversion") == PROTOCOL, f"{tool}: Valgrind {helpers.VG_CONF['VG_VERSION']}"
    assert root.findtext("protocoltool") == tool
    assert root.findtext("tool") == tool
    assert [s.findtext("state") for s in root.findall("status")] == ["RUNNING", "FINISHED"]
    errors = root.findall("error")
    return XmlRun(tool, root, errors, [error_view(e, tool) for e in errors])


def run_xml_pair(opts, argv, workdir, mt_opts=(), env=None, tag="run"):
    """memtrack (with opts + mt_opts) and memcheck (with opts) on the same
    program, each writing <tag>.<tool>.xml in workdir. Returns (memtrack
    Result, memcheck Result, memtrack XmlRun, memcheck XmlRun)."""
    mtx, mcx = workdir / f"{tag}.memtrack.xml", workdir / f"{tag}.memcheck.xml"
    mt, mc = leak_helpers.run_pair(["--xml=yes", f"--xml-file={mtx}", *mt_opts, *opts], argv, workdir, env=env,
                                   mc_opts=["--xml=yes", f"--xml-file={mcx}", *opts])
    return mt, mc, parse_xml(mtx, "memtrack"), parse_xml(mcx, "memcheck")


def assert_same_errors(a, b):
    """Every error, in order, reads the same; so do the file's shape, the
    error and suppression counts and (protocol 6) the summaries."""
    assert a.kinds == b.kinds, f"error kinds {a.kinds}, memcheck's {b.kinds}"
    for i, (va, vb) in enumerate(zip(a.views, b.views)):
        assert va == vb, leak_helpers._diff(f"error {i} ({a.kinds[i]})", va, vb)
    assert a.top_level() == b.top_level(), leak_helpers._diff("top-level elements", a.top_level(), b.top_level())
    assert a.errorcounts() == b.errorcounts(), leak_helpers._diff("errorcounts", a.errorcounts(), b.errorcounts())
    assert a.suppcounts() == b.suppcounts(), f"suppcounts {a.suppcounts()}, memcheck's {b.suppcounts()}"
    assert a.summaries() == b.summaries(), leak_helpers._diff("summaries", a.summaries(), b.summaries())


def _args(xr):
    """The <args> a consumer reads: valgrind's options (minus the two that
    name the tool and the file) and the program's argv."""
    vargv = [a.text for a in xr.root.findall("args/vargv/arg")
             if not a.text.startswith(("--tool=", "--xml-file="))]
    return vargv, xr.root.findtext("args/argv/exe"), [a.text for a in xr.root.findall("args/argv/arg")]


def _record_numbers(err, direct=False):
    """(bytes, blocks) from a loss record's <text>, for comparison with
    its <leakedbytes>/<leakedblocks>; with direct, the bytes without the
    indirect ones."""
    m = RECORD_TEXT.match(err.findtext("xwhat/text"))
    assert m, err.findtext("xwhat/text")
    total = m[2] if direct and m[2] else m[1]
    return int(total.replace(",", "")), int(m[4].replace(",", ""))


# ---------------------------------------------------------------------------
# The envelope, leak kinds, no leaks


def test_envelope_like_memcheck(clients, workdir):
    """Well-formed; the protocol of the Valgrind in use; protocoltool and
    tool say memtrack; status RUNNING, then the run's errors, status
    FINISHED, then the loss records, errorcounts, suppcounts (and, in
    protocol 6, the summaries around the loss records and the error
    summary last); the args are the command line."""
    exe = clients.path("xml_mix")
    mt, mc, a, b = run_xml_pair(FULL_ALL, [exe, "mix"], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert mt.stdout == mc.stdout == "xml_mix: done\n"
    shape = [t for t, _ in a.top_level()]
    assert shape[:7] == ["protocolversion", "protocoltool", "preamble", "pid", "ppid", "tool", "args"], shape
    if PROTOCOL == "4":
        assert shape[-2:] == ["errorcounts", "suppcounts"], shape
        assert not set(shape) & set(SUMMARIES), shape
    else:
        assert shape[-4:] == ["leak_summary", "errorcounts", "suppcounts", "error_summary"], shape
        end = shape.index("status", shape.index("status") + 1)
        assert shape[end + 1:end + 3] == ["heap_summary", "all_heap_blocks_freed"], shape
    top = a.top_level()
    running, finished = top.index(("status", "RUNNING")), top.index(("status", "FINISHED"))
    during = [k for t, k in top[running:finished] if t == "error"]
    after = [k for t, k in top[finished:] if t == "error"]
    assert during == ["InvalidFree", "InvalidFree", "MismatchedFree", "FishyValue"], top
    assert after and all(k.startswith("Leak_") for k in after), top
    assert _args(a) == _args(b)
    assert _args(a)[1] == exe and _args(a)[2] == ["mix"]
    assert [p.text for p in a.root.findall("preamble/line")][0].startswith("Memtrack, ")
    assert_same_errors(a, b)


LEAK_OPTS = [
    ["--leak-check=full"],
    FULL_ALL,
    ["--leak-check=full", "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=all"],
    ["--leak-check=summary"],
    ["--leak-check=no"],
]


@pytest.mark.parametrize("opts", LEAK_OPTS, ids=[" ".join(o) for o in LEAK_OPTS])
def test_leak_kinds_like_memcheck(opts, clients, workdir):
    """leak_cases has blocks of every kind: each listed loss record is an
    <error> of its Leak_ kind whose text, leakedbytes, leakedblocks and
    allocation stack are memcheck's. memcheck always searches fully
    when it writes XML, so --leak-check=summary and no list the records
    of a full search too."""
    mt, mc, a, b = run_xml_pair(opts, [clients.path("leak_cases")], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert_same_errors(a, b)
    kinds = set(a.kinds)
    if opts == FULL_ALL:
        assert kinds == set(LEAK_KINDS), a.kinds
    else:
        assert a.errors and kinds <= set(LEAK_KINDS), a.kinds
    for e in a.errors:
        text = e.findtext("xwhat/text")
        assert leak_helpers.KIND_WORD[KIND_WORD[e.findtext("kind")]] in text, text
        assert _record_numbers(e) == (int(e.findtext("xwhat/leakedbytes")),
                                      int(e.findtext("xwhat/leakedblocks"))), text
        assert e.find("stack/frame") is not None, text


@pytest.mark.parametrize("mode", ["no", "summary"])
def test_recycled_heap_with_xml_like_memcheck(mode, clients, workdir):
    """--xml=yes makes every search a full one, whatever --leak-check says,
    and memtrack must then zero-fill new blocks as a full search needs:
    leak_recycled.c leaves the only pointer to a block in freed memory that
    the next malloc gets back (with --freelist-vol=0: a full search would
    otherwise hold freed memory back, as memcheck does). memcheck reports
    the block definitely lost (once mid-run, once at exit); so must
    memtrack."""
    mt, mc, a, b = run_xml_pair([f"--leak-check={mode}", "--freelist-vol=0"], [clients.path("leak_recycled")],
                                workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert "took the freed one's place" in mt.stdout, mt
    assert b.kinds == ["Leak_DefinitelyLost"] * 2, b.kinds
    assert_same_errors(a, b)


def test_no_leaks_no_leak_errors(clients, workdir):
    """A client that frees everything: no <error> at all, empty counts, in
    either tool, even with every kind shown."""
    mt, mc, a, b = run_xml_pair(FULL_ALL, [clients.path("xml_mix"), "clean"], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert b.errors == [], b.kinds
    assert a.errors == [], a.kinds
    assert a.errorcounts() == [] and a.suppcounts() == []
    assert_same_errors(a, b)


SUMMARY_CASES = [
    ("leak_cases", FULL_ALL),
    ("xml_mix clean", FULL_ALL),
    ("gates", ["--leak-check=summary"]),  # figures of four digits: commas
    ("leak_requests added", FULL_ALL),    # a <leak_summary> per search, with deltas
    ("leak_requests quick", []),
    ("leak_cxx", ["--leak-check-heuristics=all"]),  # <reachable_heuristic>s
    ("leak_cases", ["-q"]),               # verbosity 0: no summaries
]


@pytest.mark.parametrize("client,opts", SUMMARY_CASES, ids=[f"{c} {' '.join(o)}" for c, o in SUMMARY_CASES])
def test_summaries_like_memcheck(client, opts, clients, workdir):
    """Protocol 6 (3.26+): the <heap_summary> after FINISHED, each
    search's <all_heap_blocks_freed> and <leak_summary> (every figure as
    memcheck writes it), the <error_summary>. Protocol 4 has none of them,
    in either tool."""
    name, *args = client.split()
    mt, mc, a, b = run_xml_pair(opts, [clients.path(name), *args], workdir)
    assert mt.returncode == mc.returncode, (mt, mc)
    assert_same_errors(a, b)
    tags = [t for t, _ in b.summaries()]
    if PROTOCOL == "4" or "-q" in opts:
        assert a.summaries() == b.summaries() == [], b.summaries()
        return
    # What memcheck wrote, so that the comparison above covers each case:
    # one <heap_summary> after FINISHED, before the exit search (mid-run
    # searches come earlier); a <leak_summary> for each search that found
    # blocks.
    top = [t for t, _ in b.top_level()]
    assert tags.count("heap_summary") == 1 and tags[-1] == "error_summary", tags
    assert top.index("heap_summary") == top.index("status", top.index("status") + 1) + 1, top
    found = [v for t, v in b.summaries() if t == "all_heap_blocks_freed"]
    if client == "xml_mix clean":
        assert tags[-3:] == ["heap_summary", "all_heap_blocks_freed", "error_summary"], tags
        assert found[-1] == "true" and "leak_summary" not in tags, tags
        return
    searches = found.count("false")
    assert searches == tags.count("leak_summary") and searches >= 1, tags
    text = ET.tostring(b.root, encoding="unicode")
    if name == "leak_requests" and args == ["added"]:
        assert searches > 1 and re.search(r"<bytes>[\d,]+ \(\+[\d,]+\)</bytes>", text), tags
    if name == "gates":
        assert re.search(r"<bytes>\d,\d{3}</bytes>", text), "no four-digit figure in memcheck's summaries"
    if name == "leak_cxx":
        assert b.root.find("leak_summary/still_reachable/reachable_heuristic") is not None


@pytest.mark.parametrize("client", ["leak_threads", "leak_cxx", "leak_requests added", "leak_requests changed",
                                    "leak_hostile frees", "leak_hostile segv", "leak_manysites"])
def test_other_clients_like_memcheck(client, clients, workdir):
    """Threads (tids), C++ allocators, mid-run searches (loss records
    while RUNNING, ' (+x)' texts whose leakedbytes are the totals), bad
    frees before the leaks, and a run that dies of SIGSEGV."""
    name, *args = client.split()
    mt, mc, a, b = run_xml_pair(FULL_ALL, [clients.path(name), *args], workdir)
    assert mt.returncode == mc.returncode, (mt, mc)
    assert_same_errors(a, b)
    assert a.leak_errors, a.kinds
    for e in a.leak_errors:
        assert _record_numbers(e) == (int(e.findtext("xwhat/leakedbytes")), int(e.findtext("xwhat/leakedblocks")))


# ---------------------------------------------------------------------------
# Bad frees, mismatches, fishy values


BAD_FREES = {
    "double_free": ("InvalidFree", [r"^Address 0x\? is 0 bytes inside a block of size 10 free'd$",
                                    r"^Block was alloc'd at$"]),
    "free_stack": ("InvalidFree", [r"^Address 0x\? is on thread 1's stack$"]),
    "free_of_new": ("MismatchedFree", [r"^Address 0x\? is 0 bytes inside a block of size 4 alloc'd$"]),
    "fishy_malloc": ("FishyValue", []),
}


@pytest.mark.parametrize("case", list(BAD_FREES))
def test_bad_free_like_memcheck(case, clients, workdir):
    """One error of the expected kind, whose what, stack and auxwhat
    descriptions (with their stacks) are memcheck's."""
    kind, aux = BAD_FREES[case]
    mt, mc, a, b = run_xml_pair(GEN, [clients.path("bad_frees"), case], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert b.kinds == [kind], b.kinds
    assert_same_errors(a, b)
    auxwhat = [v for t, v in a.views[0] if t == "auxwhat"]
    for pattern in aux:
        assert any(re.match(pattern, x) for x in auxwhat), (pattern, auxwhat)
    supp = dict(a.views[0])["suppression"]
    assert supp["skind"] == ("Memtrack:FishyValue" if kind == "FishyValue" else "Memtrack:Free")
    assert a.errorcounts() == [(1, a.views[0])]


def test_all_bad_frees_in_one_run_like_memcheck(clients, workdir):
    mt, mc, a, b = run_xml_pair([], [clients.path("bad_frees")], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert_same_errors(a, b)
    # 3.22+ also checks sized deletes: delete_of_new_vec's `delete p` of a
    # new int[10] is a size mismatch too (test_errors.py's ALSO).
    sized = {"MismatchedAllocateDeallocateSize"} if helpers.VG_VERSION >= (3, 22) else set()
    assert set(a.kinds) == {"InvalidFree", "MismatchedFree", "FishyValue"} | sized, a.kinds


def test_mixed_run_like_memcheck(clients, workdir):
    """Errors while running and leaks at exit in one file: the stack
    address freed three times from one place is one <error> counted 3
    times in errorcounts; malloc(-1) is a FishyValue; the loss records are
    not in errorcounts (they are unique errors), as in memcheck."""
    mt, mc, a, b = run_xml_pair(FULL_ALL, [clients.path("xml_mix"), "mix"], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert_same_errors(a, b)
    counts = a.errorcounts()
    assert sorted(c for c, _ in counts) == [1, 1, 1, 3], counts
    three = [v for c, v in counts if c == 3][0]
    assert dict(three)["kind"] == "InvalidFree" and dict(three)["stack"][1][0] == "free_local()", three
    fishy = [v for v in a.views if dict(v)["kind"] == "FishyValue"]
    assert [dict(v)["what"] for v in fishy] == [
        "Argument 'size' of function malloc has a fishy (possibly negative) value: -1"]
    assert {dict(v)["kind"] for v in a.views} >= {"Leak_DefinitelyLost", "Leak_IndirectlyLost", "Leak_StillReachable"}


@pytest.mark.parametrize("mode", ["alloc-and-free", "alloc-then-free", "alloc", "free", "none"])
def test_keep_stacktraces_like_memcheck(mode, clients, workdir):
    """Each --keep-stacktraces mode writes memcheck's <auxwhat>s and
    <stack>s for a freed block (a double free) and a live one (a
    mismatched free): with alloc-then-free a freed block has its free stack
    only (memcheck's xml1 case), with none or free the live block's stack
    is the null one."""
    opts = [f"--keep-stacktraces={mode}"]
    mt, mc, a, b = run_xml_pair(opts, [clients.path("bad_frees"), "double_free,free_of_new"], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert b.kinds == ["InvalidFree", "MismatchedFree"], b.kinds
    assert_same_errors(a, b)
    # memcheck: kind, what, stack, auxwhat (free'd), stack (free or null)
    # [, auxwhat (Block was alloc'd at), stack (alloc)].
    tags = [t for t, _ in a.views[0]]
    i = tags.index("auxwhat")
    with_alloc = mode in ("alloc-and-free", "alloc")
    assert tags[i:] == (["auxwhat", "stack", "auxwhat", "stack"] if with_alloc else ["auxwhat", "stack"]), tags


# ---------------------------------------------------------------------------
# Suppressions


def _write_generated(path, xr):
    """The <rawtext> of every error's <suppression>, each renamed gen-<i>."""
    entries = []
    for i, e in enumerate(xr.errors):
        raw = e.find("suppression/rawtext")
        assert raw is not None, f"{xr.tool}: error {i} has no <suppression>"
        entries.append(raw.text.strip().replace("<insert_a_suppression_name_here>", f"gen-{i}"))
    path.write_text("\n".join(entries) + "\n")
    return path


@pytest.mark.parametrize("client", ["leak_cases", "xml_mix mix"])
def test_gen_suppressions_like_memcheck(client, clients, workdir):
    """--gen-suppressions=all: each error carries a <suppression> (and
    3.19 repeats it after </error>); a leak's has skind Memtrack:Leak, one
    <skaux> 'match-leak-kinds: <its kind>' and memcheck's sframes."""
    name, *args = client.split()
    mt, mc, a, b = run_xml_pair(FULL_ALL + GEN, [clients.path(name), *args], workdir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    assert_same_errors(a, b)
    assert a.leak_errors
    for e, v in zip(a.errors, a.views):
        s = dict(v)["suppression"]
        kind = e.findtext("kind")
        if kind.startswith("Leak_"):
            assert e.find("suppression/skind").text == "Memtrack:Leak"
            assert s["skaux"] == [f"match-leak-kinds: {KIND_WORD[kind]}"], s
        # One sframe per frame of the (allocation) stack.
        assert len(s["sframes"]) == len(dict(v)["stack"]), s
    repeated = [x for t, x in a.top_level() if t == "suppression"]
    assert repeated == [dict(v)["suppression"]["rawtext"] for v in a.views]


def test_generated_suppressions_fed_back(clients, workdir):
    """The <rawtext>s of a --gen-suppressions=all run, fed back with
    --suppressions: no loss record is listed any more, each entry is used
    once (suppcounts), and the text log's LEAK SUMMARY says as suppressed
    exactly what the first run listed, as memcheck does with its own."""
    argv = [clients.path("leak_cases")]
    mt, mc, a, b = run_xml_pair(FULL_ALL + GEN, argv, workdir, tag="gen")
    assert_same_errors(a, b)
    # A definite record's leakedbytes include its indirect bytes, which
    # the indirect records list again: count direct bytes only.
    leaked = sum(_record_numbers(e, direct=True)[0] for e in a.errors)
    blocks = sum(int(e.findtext("xwhat/leakedblocks")) for e in a.errors)
    mt_supp = _write_generated(workdir / "memtrack.supp", a)
    mc_supp = _write_generated(workdir / "memcheck.supp", b)
    assert "Memtrack:Leak" in mt_supp.read_text() and "Memcheck:Leak" in mc_supp.read_text()

    mtx, mcx = workdir / "fed.memtrack.xml", workdir / "fed.memcheck.xml"
    mt2, mc2 = leak_helpers.run_pair(["--xml=yes", f"--xml-file={mtx}", f"--suppressions={mt_supp}", *FULL_ALL],
                                     argv, workdir,
                                     mc_opts=["--xml=yes", f"--xml-file={mcx}", f"--suppressions={mc_supp}",
                                              *FULL_ALL])
    a2, b2 = parse_xml(mtx, "memtrack"), parse_xml(mcx, "memcheck")
    assert a2.errors == [] and b2.errors == [], (a2.kinds, b2.kinds)
    assert a2.suppcounts() == b2.suppcounts()
    # Entries whose functions are the same (leak_cases allocates every
    # block through mk() from make_cases()) leave the later ones unused.
    assert a2.suppcounts() and {n for _, n in a2.suppcounts()} <= {f"gen-{i}" for i in range(len(a.errors))}

    # The text log says where those bytes went.
    mt3, mc3 = leak_helpers.run_pair([f"--suppressions={mt_supp}", *FULL_ALL], argv, workdir,
                                     mc_opts=[f"--suppressions={mc_supp}", *FULL_ALL])
    s3 = leak_helpers.parse(mt3.stderr).summary_numbers()
    assert s3 == leak_helpers.parse(mc3.stderr).summary_numbers()
    assert s3["suppressed"] == (leaked, blocks), s3
    assert all(s3[k] == (0, 0) for k in leak_helpers.KIND_WORD.values()), s3


def test_suppression_file_suppcounts_like_memcheck(clients, workdir):
    """A hand-written file: the entries used and their counts are
    memcheck's, whether memtrack reads the Memtrack:Leak spelling or
    memcheck's own Memcheck:Leak file (translated at start-up)."""
    src = helpers.CLIENT_SRC / "leak_kinds.supp"
    mc_file = workdir / "leak_kinds.memcheck.supp"
    mc_file.write_text(src.read_text().replace("Memtrack:Leak", "Memcheck:Leak"))
    argv = [clients.path("leak_cases")]
    mtx, mcx = workdir / "own.memtrack.xml", workdir / "own.memcheck.xml"
    mt, mc = leak_helpers.run_pair(["--xml=yes", f"--xml-file={mtx}", f"--suppressions={src}", *FULL_ALL],
                                   argv, workdir,
                                   mc_opts=["--xml=yes", f"--xml-file={mcx}", f"--suppressions={mc_file}", *FULL_ALL])
    a, b = parse_xml(mtx, "memtrack"), parse_xml(mcx, "memcheck")
    assert_same_errors(a, b)
    assert [n for _, n in b.suppcounts()] == ["leak_cases_lost"], b.suppcounts()
    assert "Leak_DefinitelyLost" not in a.kinds and "Leak_IndirectlyLost" not in a.kinds, a.kinds
    # memcheck's own file, unchanged, under memtrack.
    mtx2 = workdir / "theirs.memtrack.xml"
    helpers.run_memtrack(["--xml=yes", f"--xml-file={mtx2}", f"--suppressions={mc_file}", *FULL_ALL], argv, workdir)
    a2 = parse_xml(mtx2, "memtrack")
    assert a2.views == a.views
    assert a2.suppcounts() == b.suppcounts()


# ---------------------------------------------------------------------------
# Exit status, the text log, other destinations, awkward names


EXITCODE_CASES = [
    ("xml_mix mix", ["--leak-check=full"], 42),
    ("leak_cases", ["--leak-check=full"], 42),
    ("leak_cases", ["--leak-check=full", "--errors-for-leak-kinds=reachable"], 42),
    ("leak_cases", ["--leak-check=full", "--errors-for-leak-kinds=none"], 0),
    ("leak_cases", ["--leak-check=summary"], 42),  # the search is full with XML
    ("leak_cases", ["--leak-check=no"], 42),
    ("xml_mix clean", FULL_ALL, 0),
]


@pytest.mark.parametrize("client,opts,status", EXITCODE_CASES,
                         ids=[f"{c} {' '.join(o)}" for c, o, _ in EXITCODE_CASES])
def test_error_exitcode_like_memcheck(client, opts, status, clients, workdir):
    name, *args = client.split()
    mt, mc, a, b = run_xml_pair(opts + ["--error-exitcode=42"], [clients.path(name), *args], workdir)
    assert mc.returncode == status, mc
    assert mt.returncode == mc.returncode, (mt, mc)
    assert_same_errors(a, b)


@pytest.mark.parametrize("client", ["xml_mix mix", "leak_cases"])
def test_no_text_summaries(client, clients, workdir):
    """With --xml=yes the text log has no HEAP SUMMARY, LEAK SUMMARY,
    ERROR SUMMARY, DHAT summary or list of files written: neither tool's has, and
    memtrack's Valgrind lines are memcheck's. The profile is still
    written."""
    name, *args = client.split()
    mt, mc, a, b = run_xml_pair(["--leak-check=full"], [clients.path(name), *args], workdir)
    for r in (mt, mc):
        for text in ("HEAP SUMMARY", "LEAK SUMMARY", "ERROR SUMMARY", "in use at exit", "Files written:", "dh_view.html"):
            assert text not in r.stderr, r
        assert not re.search(r"^==\d+== (Total|At t-gmax|At t-end|Reads|Writes):", r.stderr, re.M), r
    assert helpers.client_lines(mt.stderr) == helpers.client_lines(mc.stderr)
    assert mt.stderr == mc.stderr
    assert a.errors, a.kinds
    assert list(workdir.glob("memtrack.out.*")), "no profile written"


def test_xml_fd_like_memcheck(clients, workdir):
    """--xml-fd=N writes the same XML as --xml-file."""
    argv = [clients.path("leak_cases")]
    results = {}
    for tool in ("memtrack", "memcheck"):
        out = workdir / f"fd.{tool}.xml"
        r = helpers.run(["sh", "-c", 'exec 3>"$0"; exec "$@"', out, helpers.VG_IN_PLACE, f"--tool={tool}",
                         "--xml=yes", "--xml-fd=3", *FULL_ALL, *argv], workdir)
        assert r.returncode == 0, r
        results[tool] = parse_xml(out, tool)
    assert_same_errors(results["memtrack"], results["memcheck"])
    mtx = workdir / "file.memtrack.xml"
    helpers.run_memtrack(["--xml=yes", f"--xml-file={mtx}", *FULL_ALL], argv, workdir)
    assert parse_xml(mtx, "memtrack").views == results["memtrack"].views


def test_special_characters_in_names(clients, workdir):
    """A client built from a copy of its source in a directory named with
    &<>"' and an argument with them too: both files stay well-formed and a
    consumer reads the real names back (exe, arg, obj, dir), and the frame
    'void leak<void>(void*&)'."""
    weird = workdir / "a&b<c>d\"e'f"
    weird.mkdir()
    src = weird / "xml_mix.cpp"
    shutil.copy(helpers.CLIENT_SRC / "xml_mix.cpp", src)
    exe = weird / "xml_mix"
    subprocess.run([helpers.CROSS + "g++", "-g", "-O0", "-o", str(exe), str(src)], check=True, capture_output=True)
    mtx, mcx = weird / "out&<>\"'.memtrack.xml", weird / "out&<>\"'.memcheck.xml"
    mt, mc = leak_helpers.run_pair(["--xml=yes", f"--xml-file={mtx}", *FULL_ALL, *GEN],
                                   [exe, "mix"], workdir,
                                   mc_opts=["--xml=yes", f"--xml-file={mcx}", *FULL_ALL, *GEN])
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    a, b = parse_xml(mtx, "memtrack"), parse_xml(mcx, "memcheck")
    assert_same_errors(a, b)
    raw = mtx.read_text()
    assert "&amp;" in raw and "&lt;" in raw
    assert a.root.findtext("args/argv/exe") == str(exe)
    assert f"--xml-file={mtx}" in [x.text for x in a.root.findall("args/vargv/arg")]
    objs = {f.findtext("obj") for f in a.root.iter("frame")}
    assert str(exe) in objs, objs
    dirs = {f.findtext("dir") for f in a.root.iter("frame")}
    assert str(weird) in dirs, dirs
    fns = {f.findtext("fn") for f in a.root.iter("frame")}
    assert "void leak<void>(void*&)" in fns, fns
