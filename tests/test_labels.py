"""Site labels (issue 19): every place that names an allocation site names
it by its first frame in the program's own code, not by the allocator, the
C++ or Rust standard library or libc; --alloc-fn and --ignore-fn (massif's
options, with Valgrind's wildcards) in the tool and the scripts; SARIF
locations relative to --sarif-root; memtrack_diff's matching by functions,
which an edit that moves every line does not disturb.

The oracles are independent of the labelling code: the user's own code of
a test client is the frames whose file is the client's source (the first
such frame is what the label must be); what each client allocates is known
by construction; the massif file with --alloc-fn/--ignore-fn is compared
with Valgrind's massif given the same functions by their exact names."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
import workloads

SCRIPTS = helpers.REPO / "scripts"
PYTHON = "/usr/bin/python3"
RUSTC = "/usr/bin/rustc"
ADDR = re.compile(r"^0x[0-9A-Fa-f]+: ")
SRC = helpers.REPO / "tests" / "clients"


def script(name, args, cwd, status=0):
    r = helpers.run([PYTHON, str(SCRIPTS / name), *[str(a) for a in args]], cwd)
    assert r.returncode == status, r
    return r


def print_json(prof, cwd, *opts):
    r = script("memtrack_print", ["--format=json", "--top=0", *opts, prof], cwd)
    return json.loads(r.stdout)


def profile(opts, argv, cwd, name="p"):
    prof = Path(cwd) / f"{name}.json"
    r = helpers.run_memtrack(["-q", f"--dhat-out-file={prof}", *opts], argv, cwd)
    assert r.returncode == 0, r
    return prof


def fn_of(frame):
    """'fn (file:line)' -> fn."""
    return re.sub(r" \((?:in [^()]*|[^()]*:\d+)\)$", "", ADDR.sub("", frame))


def first_in(frames, pred):
    for i, f in enumerate(frames):
        if pred(f):
            return i
    return None


# ---------------------------------------------------------------------------
# The C++ client: every site labelled by the user's function


USER_FUNCTIONS = ("make_names", "sort_batch", "make_widget", "read_buffer", "main")


def _cxx_binary(opt, clients, workdir):
    if opt == "O0":
        return clients.path("labels_app")
    exe = workdir / "labels_app"
    subprocess.run(["g++", "-g", "-O2", "-o", str(exe), str(SRC / "labels_app.cpp")], check=True)
    return str(exe)


@pytest.mark.parametrize("opt", ["O0", "O2"])
def test_cxx_client_sites_are_labelled_by_the_users_functions(opt, clients, workdir):
    exe = _cxx_binary(opt, clients, workdir)
    prof = profile(["--leak-check=full", "--num-callers=30"], [exe], workdir)
    doc = print_json(prof, workdir)
    own = lambda f: "(labels_app.cpp:" in f
    mine = [s for s in doc["top"] if first_in(s["frames"], own) is not None]
    assert len(mine) >= 5, doc["top"]
    for s in mine:
        # The oracle: the first frame in the client's own source.
        want = ADDR.sub("", s["frames"][first_in(s["frames"], own)])
        assert s["label"] == want, (s["label"], s["frames"])
        assert fn_of(want).split("(")[0].split("[")[0] in USER_FUNCTIONS
        # At -O2 the standard library is inlined: frames with unqualified
        # names from its headers come first and must not be the label.
        assert not s["label"].startswith(("allocate ", "std::", "operator new", "malloc"))
    # The runtime's own sites (libstdc++'s start-up pool) are never labelled
    # by the allocator.
    for s in doc["top"]:
        assert "vgpreload" not in s["label"] and not s["label"].startswith("malloc ")

    by = lambda name: [s for s in mine if fn_of(s["label"]).startswith(name)]
    # By construction: the 32 MiB vector is sort_batch's, the hot string
    # site (2,000 strings grown by appends) is make_names', the leaks are
    # make_widget's object and read_buffer's 4,096 bytes.
    assert any(s["value"] == 32 << 20 for s in by("sort_batch"))
    assert max(s["figures"]["tbk"] for s in by("make_names")) >= 2000
    lost = {(fn_of(x["label"]).split("(")[0], x["bytes"]) for x in doc["leaks"]["sites"]["definite"]}
    assert ("read_buffer", 4096) in lost
    assert any(f == "make_widget" for f, _ in lost)

    # The text report's headlines name them, and so does memtrack_print
    # --sort=peak's first site.
    r = script("memtrack_print", ["--sections=top", "--sort=peak", "--top=1", prof], workdir)
    head = [ln for ln in r.stdout.splitlines() if ln.startswith("[1] ")][0]
    assert re.search(r" from sort_batch\(\) \(labels_app\.cpp:\d+\)$", head), head


def test_cxx_client_report_tables_and_flame_names(clients, workdir):
    exe = _cxx_binary("O2", clients, workdir)
    prof = profile(["--leak-check=full", "--num-callers=30"], [exe], workdir)
    script("memtrack_report", [prof, "-o", workdir / "r.html"], workdir)
    page = (workdir / "r.html").read_text()
    data = json.loads(re.search(r'<script type="application/json" id="mt-data">(.*?)</script>',
                                page, re.S)[1].replace("<\\/", "</"))
    raw = json.loads(prof.read_text())
    own = lambda f: "(labels_app.cpp:" in f
    for i, pp in enumerate(raw["pps"]):
        frames = [raw["ftbl"][k] for k in pp["fs"]]
        j = first_in(frames, own)
        if j is not None:
            assert data["labels"][i][1] == ADDR.sub("", frames[j])
    # Each name of the flame graph has its short form: template arguments
    # folded, parameter lists folded.
    for full, short in zip(data["names"], data["shortNames"]):
        if ADDR.sub("", full).startswith("std::__cxx11::basic_string<char"):
            assert "basic_string<>" in short and "char_traits" not in short, short
    # The table cell: the label visible, the full frame on hover.
    cells = re.findall(r'<span class="frame site-frame" title="([^"]*)">([^<]*)</span>', page)
    assert cells and any(t.startswith("sort_batch()") for t, _ in cells)


def test_short_names_fold_templates_and_parameters():
    sys.path.insert(0, str(SCRIPTS))
    try:
        from memtrack_lib.labels import shorten
    finally:
        sys.path.pop(0)
    cases = {
        # heaptrack's example
        "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>"
        "(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
        "int const&)": "std::vector<>::_M_realloc_insert<>(\u2026)",
        "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
        "::_M_mutate(unsigned long, unsigned long, char const*, unsigned long)":
            "std::__cxx11::basic_string<>::_M_mutate(\u2026)",
        "sort_batch()": "sort_batch()",
        "main": "main",
        "std::less<int>::operator()(int const&, int const&) const": "std::less<>::operator()(\u2026)",
        "operator<<(std::ostream&, Foo const&)": "operator<<(\u2026)",
        "<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop":
            "<alloc::vec::Vec<> as core::ops::drop::Drop>::drop",
        "alloc::raw_vec::RawVec<T,A>::grow_one": "alloc::raw_vec::RawVec<>::grow_one",
        "(anonymous namespace)::helper(int)": "(anonymous namespace)::helper(\u2026)",
        "(below main)": "(below main)",
    }
    for full, short in cases.items():
        assert shorten(full) == short, (full, shorten(full))


def test_verbose_shows_the_full_name(workdir):
    # A profile made by hand: one site whose label is a long C++ name.
    frame = ("0x10A2B3: void ns::Pool<std::vector<int, std::allocator<int> > >::grow<int>"
             "(unsigned long, int const&) (pool.h:12)")
    doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": False,
           "bkacc": False, "tu": "instrs", "Mtu": "Minstr", "cmd": "./x", "pid": 1, "te": 10,
           "pps": [{"tb": 100, "tbk": 1, "fs": [1, 2]}],
           "ftbl": ["[root]", frame, "0x10A300: main (x.cpp:3)"]}
    p = workdir / "hand.json"
    p.write_text(json.dumps(doc))
    short = script("memtrack_print", ["--sections=top", p], workdir).stdout
    full = script("memtrack_print", ["--sections=top", "--verbose", p], workdir).stdout
    assert "[1] 100 bytes (100.00%) from ns::Pool<>::grow<>(\u2026) (pool.h:12)" in short
    assert f"[1] 100 bytes (100.00%) from {ADDR.sub('', frame)}" in full


# ---------------------------------------------------------------------------
# sqlite3 and a Rust program


def test_sqlite3_sites_are_named_by_the_api_the_program_called(workdir):
    w = workloads.sqlite3(str(workdir))
    prof = workdir / "sq.json"
    r = helpers.run_memtrack(["-q", f"--dhat-out-file={prof}", "--num-callers=40"], w["argv"],
                             workdir, env=w["env"], stdin=w["stdin"])
    assert r.returncode == 0, r
    doc = print_json(prof, workdir)
    wrappers = ("sqlite3Malloc", "sqlite3MallocZero", "sqlite3DbMallocRaw",
                "sqlite3DbMallocRawNN", "sqlite3DbMallocZero", "sqlite3Realloc")
    checked = api = 0
    for s in doc["top"]:
        fr = [ADDR.sub("", f) for f in s["frames"]]
        # The stripped shell's first frame, and the library frame it called.
        j = first_in(fr, lambda f: f.endswith("(in /usr/bin/sqlite3)"))
        if j is None or j == 0 or "libsqlite3.so" not in fr[j - 1]:
            continue
        checked += 1
        # The nearest frame with a name inside the program's.
        named = [f for f in fr[:j] if not f.startswith("???") and "alloc" not in fn_of(f).lower()]
        # (none but wrappers: the program's own nameless frame)
        assert s["label"] == (named[-1] if named else fr[j]), (s["label"], fr)
        assert fn_of(s["label"]) not in wrappers
        api += fn_of(s["label"]).startswith("sqlite3_")
    assert checked >= 10
    # Mostly the library's entry points, its public API, all named
    # sqlite3_ (internal functions where the call into the library went
    # through a nameless static one).
    assert api * 2 >= checked, (api, checked)
    labels = {fn_of(s["label"]) for s in doc["top"]}
    assert len(labels) >= 5, labels
    assert not labels & set(wrappers), labels


RUST_SRC = """
use std::collections::HashMap;

#[inline(never)]
fn fill(n: u64) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push(i * 3);
    }
    v
}

#[inline(never)]
fn index_words(words: &[&str]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (i, w) in words.iter().enumerate() {
        m.insert(w.to_string(), i);
    }
    m
}

fn main() {
    let v = fill(100000);
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
    let m = index_words(&words);
    println!("{} {}", v.len(), m.len());
}
"""


@pytest.mark.parametrize("opt", ["0", "2"])
def test_rust_sites_are_labelled_by_the_users_functions(opt, workdir):
    assert os.path.exists(RUSTC), f"{RUSTC} is not installed (package rustc)"
    src = workdir / "labels_rs.rs"
    src.write_text(RUST_SRC)
    exe = workdir / "labels_rs"
    subprocess.run([RUSTC, "-g", "-C", f"opt-level={opt}", "-o", str(exe), str(src)], check=True,
                   cwd=workdir)
    prof = profile(["--num-callers=40"], [str(exe)], workdir)
    doc = print_json(prof, workdir)
    own = lambda f: "(labels_rs.rs:" in f
    mine = [s for s in doc["top"] if first_in(s["frames"], own) is not None]
    assert mine
    for s in mine:
        assert s["label"] == ADDR.sub("", s["frames"][first_in(s["frames"], own)]), s["frames"]
    fill = [s for s in mine if "fill" in fn_of(s["label"])]
    # Vec::push doubling to 100,000 u64s: the last block is 131,072 * 8.
    assert fill and max(s["figures"]["tb"] for s in fill) >= 131072 * 8
    assert any("index_words" in fn_of(s["label"]) for s in mine)
    for s in doc["top"]:
        assert not fn_of(s["label"]).startswith(("alloc::", "core::", "<alloc::", "__rust_",
                                                  "__rdl_", "__rg_")), s["label"]


# ---------------------------------------------------------------------------
# --alloc-fn and --ignore-fn


def test_alloc_fn_and_ignore_fn_in_the_scripts(clients, workdir):
    exe = clients.path("alloc_fns")
    prof = profile(["--leak-check=full"], [exe], workdir)
    plain = print_json(prof, workdir)
    labels = {fn_of(s["label"]) for s in plain["top"]}
    # Without rules the program's wrappers are its own code. (A realloc
    # counts at its block's first site, as in DHAT: mylib_realloc and
    # cache_grow name none.)
    assert labels == {"xmalloc", "cache_fill"}, labels
    wrapped = print_json(prof, workdir, "--alloc-fn=x*alloc", "--alloc-fn=mylib_*")
    labels = {fn_of(s["label"]) for s in wrapped["top"]}
    assert labels == {"load_config", "load_table", "load_rows", "leak_rows", "cache_fill"}, labels
    # The leak's label and memtrack_diff's message follow the rules too.
    lost = wrapped["leaks"]["sites"]["definite"]
    assert [(fn_of(x["label"]), x["bytes"]) for x in lost] == [("leak_rows", 64)]
    # --ignore-fn: cache_fill's site goes, totals and all (5,000 bytes and
    # the realloc's 6,000).
    ign = print_json(prof, workdir, "--alloc-fn=x*alloc", "--alloc-fn=mylib_*",
                     "--ignore-fn=cache_*")
    assert ign["summary"]["total_bytes"] == plain["summary"]["total_bytes"] - 5000 - 6000
    assert ign["summary"]["ignored_sites"] == 1
    assert {fn_of(s["label"]) for s in ign["top"]} == labels - {"cache_fill"}
    # A pattern matches a C++-style name without its parameters too: a
    # profile made by hand.
    doc = {"dhatFileVersion": 2, "mode": "heap", "verb": "Allocated", "bklt": False,
           "bkacc": False, "tu": "instrs", "Mtu": "Minstr", "cmd": "./x", "pid": 1, "te": 10,
           "pps": [{"tb": 8, "tbk": 1, "fs": [1, 2]}],
           "ftbl": ["[root]", "0x1: mylib::Pool::get(unsigned long) (pool.cpp:4)",
                    "0x2: main (x.cpp:3)"]}
    p = workdir / "pool.json"
    p.write_text(json.dumps(doc))
    got = print_json(p, workdir, "--alloc-fn=mylib::Pool::get")["top"][0]["label"]
    assert got == "main (x.cpp:3)"


def _massif_figures(path):
    """The file without its desc: and cmd: lines (they list each tool's
    own options)."""
    return [ln for ln in Path(path).read_text().splitlines()
            if not ln.startswith(("desc:", "cmd:"))]


MASSIF_FNS = {
    "alloc": (["--alloc-fn=xmalloc", "--alloc-fn=mylib_alloc", "--alloc-fn=mylib_realloc"],
              ["--alloc-fn=mylib_*", "--alloc-fn=x*alloc"]),
    "ignore": (["--ignore-fn=cache_fill", "--ignore-fn=cache_grow"], ["--ignore-fn=cache_*"]),
    "both": (["--alloc-fn=xmalloc", "--alloc-fn=mylib_alloc", "--alloc-fn=mylib_realloc",
              "--ignore-fn=cache_fill", "--ignore-fn=cache_grow"],
             ["--alloc-fn=mylib_*", "--alloc-fn=x*alloc", "--ignore-fn=cache_*"]),
}


@pytest.mark.parametrize("opts", [["--time-unit=B", "--detailed-freq=1", "--threshold=0"],
                                  ["--time-unit=B", "--heap-admin=0", "--peak-inaccuracy=0"]],
                         ids=["all-trees", "peaks"])
@pytest.mark.parametrize("which", list(MASSIF_FNS))
def test_massif_file_alloc_fn_and_ignore_fn_as_massif(which, opts, clients, workdir):
    """memtrack given patterns writes the file massif writes given the
    functions they match by name (massif has no patterns)."""
    exe = clients.path("alloc_fns")
    massif_fns, our_fns = MASSIF_FNS[which]
    ms, mt = workdir / "ms.out", workdir / "mt.out"
    r = helpers.run_tool("massif", ["--stacks=no", f"--massif-out-file={ms}", *opts, *massif_fns],
                         [exe], workdir)
    assert r.returncode == 0, r
    r = helpers.run_memtrack([f"--massif-out-file={mt}", *opts, *our_fns], [exe], workdir)
    assert r.returncode == 0, r
    assert _massif_figures(mt) == _massif_figures(ms)
    # And the options did something: without them the file differs.
    plain = workdir / "plain.out"
    r = helpers.run_memtrack([f"--massif-out-file={plain}", *opts], [exe], workdir)
    assert _massif_figures(plain) != _massif_figures(mt)


@pytest.mark.parametrize("opt", ["--alloc-fn=", "--ignore-fn=", "--sarif-root=",
                                 "--sarif-root=/nonexistent/dir", "--sarif-root=/etc/passwd"])
def test_bad_values_stop_before_the_client(opt, clients, workdir):
    r = helpers.run_memtrack([opt], [clients.path("alloc_fns")], workdir)
    assert r.returncode == 1, r
    assert "alloc_fns: done" not in r.stdout
    assert f"Bad option: {opt}" in r.stderr


# ---------------------------------------------------------------------------
# SARIF locations


def _line_of(path, text):
    for no, ln in enumerate(Path(path).read_text().splitlines(), 1):
        if text in ln:
            return no
    raise AssertionError(f"{text!r} not in {path}")


def _results(sarif):
    run = json.loads(Path(sarif).read_text())["runs"][0]
    return run, [(r["ruleId"], r["locations"][0]["physicalLocation"]) for r in run["results"]]


def test_sarif_location_relative_to_sarif_root(workdir):
    proj = workdir / "proj"
    (proj / "src").mkdir(parents=True)
    src = proj / "src" / "labels_app.cpp"
    shutil.copy(SRC / "labels_app.cpp", src)
    # Built -O2 inside the checkout: the leaked string's stack starts with
    # frames inlined from basic_string.h, which a code-scanning page cannot
    # show.
    subprocess.run(["g++", "-g", "-O2", "-o", "app", "src/labels_app.cpp"], cwd=proj, check=True)
    want = {("definitely-lost", _line_of(src, "new Widget")),
            ("indirectly-lost", _line_of(src, "w->name =")),
            ("definitely-lost", _line_of(src, "malloc(4096)"))}
    for root, prefix in ((None, "src/"), ("..", "proj/src/"), ("src", ""),
                         (str(proj), "src/")):
        out = workdir / "out.sarif"
        opts = ["--leak-check=full", f"--sarif-file={out}"] + ([f"--sarif-root={root}"] if root else [])
        r = helpers.run_memtrack(opts, ["./app"], proj)
        assert r.returncode == 0, r
        run, res = _results(out)
        got = {(rule, loc["region"]["startLine"]) for rule, loc in res}
        assert got == want, (root, res)
        for _, loc in res:
            assert loc["artifactLocation"] == {"uri": f"{prefix}labels_app.cpp",
                                               "uriBaseId": "%SRCROOT%"}, (root, loc)
        base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        expect_root = os.path.normpath(os.path.join(proj, root or "."))
        assert base == "file://" + expect_root.rstrip("/") + "/"


def test_sarif_location_skips_alloc_fn(clients, workdir):
    exe = clients.path("alloc_fns")
    root = str(SRC)  # the client's source, where its debug information points
    out = workdir / "af.sarif"
    for opts, fn in (([], "xmalloc"), (["--alloc-fn=x*alloc"], "leak_rows")):
        r = helpers.run_memtrack(["--leak-check=full", f"--sarif-file={out}", f"--sarif-root={root}",
                                  *opts], [exe], workdir)
        assert r.returncode == 0, r
        _, res = _results(out)
        lost = [loc for rule, loc in res if rule == "definitely-lost"]
        assert len(lost) == 1
        text = (SRC / "alloc_fns.c").read_text().splitlines()
        line = lost[0]["region"]["startLine"]
        assert lost[0]["artifactLocation"]["uri"] == "alloc_fns.c"
        # The line that allocates in the function named: xmalloc's call of
        # malloc, or leak_rows' call of xmalloc.
        assert ("malloc(n)" if fn == "xmalloc" else "xmalloc(64)") in text[line - 1]


# ---------------------------------------------------------------------------
# memtrack_diff: an unrelated edit passes, a new leak behind the same
# functions fails


def _build_variant(workdir, name, comment, defines=()):
    d = workdir / name
    d.mkdir()
    text = (SRC / "diff_app.c").read_text()
    if comment:
        text = "/* a comment added above everything: every line moves down by one */\n" + text
    (d / "diff_app.c").write_text(text)
    subprocess.run(["gcc", "-g", "-O0", *[f"-D{x}" for x in defines], "-o", "app", "diff_app.c"],
                   cwd=d, check=True)
    prof = d / "p.json"
    r = helpers.run_memtrack(["-q", "--leak-check=full", f"--dhat-out-file={prof}"], ["./app"], d)
    assert r.returncode == 0, r
    return prof


GATE = ["--max-growth=10%", "--max-new-leaks=0"]


def test_diff_of_an_unrelated_edit_passes(workdir):
    # Both leak (the same 214 bytes at the same two functions).
    base = _build_variant(workdir, "v1", comment=False, defines=["LEAK"])
    moved = _build_variant(workdir, "v2", comment=True, defines=["LEAK"])
    # The edit moved every site's lines (the oracle that the test is real).
    b, m = json.loads(base.read_text()), json.loads(moved.read_text())
    lines = lambda doc: {re.sub(r"^0x[0-9A-Fa-f]+: ", "", f) for f in doc["ftbl"] if "diff_app.c:" in f}
    shift = lambda f: re.sub(r":(\d+)\)$", lambda x: f":{int(x[1]) + 1})", f)
    assert lines(b) and {shift(f) for f in lines(b)} == lines(m) != lines(b)
    r = script("memtrack_diff", [*GATE, base, moved], workdir)
    assert "Result: PASS" in r.stdout
    assert "sites: 4 in base, 4 in new: 0 new, 0 gone, 0 changed, 4 the same" in r.stdout
    # Exact matching by lines sees four new sites and four gone, and new
    # leaks (what the user saw).
    r = script("memtrack_diff", [*GATE, "--match=frames", base, moved], workdir, status=1)
    assert "4 new, 4 gone" in r.stdout
    assert "EXCEEDED  --max-new-leaks=0" in r.stdout


def test_diff_of_a_new_leak_behind_the_same_functions_fails(workdir):
    base = _build_variant(workdir, "v1", comment=False)
    leaky = _build_variant(workdir, "v3", comment=True, defines=["FORGET"])
    r = script("memtrack_diff", [*GATE, base, leaky], workdir, status=1)
    assert "Result: FAIL" in r.stdout
    # 3 names of 50 bytes, at the one site of make_names (no site is new).
    assert "new leaks: 150 bytes lost (150 definitely, 0 indirectly) in 3 blocks at 1 site" in r.stdout
    assert "0 new, 0 gone" in r.stdout
    err = [ln for ln in r.stderr.splitlines() if "--max-new-leaks=0" in ln]
    assert err and re.search(r"most from make_names \(diff_app\.c:\d+\) \(\+150 bytes\)$", err[0]), err
