"""Rust (issue 20): the memtrack crate (rust/memtrack), `cargo memtrack`
(scripts/cargo-memtrack) and Rust programs (tests/rust/programs) under
memtrack, each compared with DHAT and memcheck on the same binary.

Everything is built with Debian's rustc and cargo (/usr/bin: a newer
toolchain elsewhere on PATH must not be picked), offline, with CARGO_HOME
in the build folder, once per session."""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

import helpers
import leak_helpers as lh
import profile_helpers as ph

RUSTC = "/usr/bin/rustc"
CARGO = "/usr/bin/cargo"
RUST_SRC = helpers.REPO / "tests" / "rust"
CRATE = helpers.REPO / "rust" / "memtrack"
WORKSPACE = RUST_SRC / "workspace"
CARGO_MEMTRACK = helpers.REPO / "scripts" / "cargo-memtrack"
BUILD = helpers.CLIENT_BUILD / "rust"

# What every Rust program is run with under each tool (memcheck gets the
# same; DHAT only the profile's).
LEAK_OPTS = ["--leak-check=full", "--show-leak-kinds=all"]
ALLOC_FUNCTIONS = ("malloc", "free", "calloc", "realloc", "posix_memalign", "memalign", "aligned_alloc",
                   "malloc_usable_size")


def rust_env(extra=None):
    """Debian's toolchain first on PATH, offline, and no influence from the
    user's cargo configuration."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CARGO", "RUSTUP", "RUSTFLAGS", "RUSTDOCFLAGS")) and k != "RUSTC"}
    env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
    env["RUSTC"] = RUSTC
    env["RUSTDOC"] = "/usr/bin/rustdoc"
    env["CARGO_HOME"] = str(BUILD / "cargo-home")
    env["CARGO_NET_OFFLINE"] = "true"
    env["CARGO_TERM_COLOR"] = "never"
    if extra:
        env.update(extra)
    return env


def _require_toolchain():
    for p in (RUSTC, CARGO):
        if not os.access(p, os.X_OK):
            pytest.fail(f"{p} is not installed; {helpers.FIX_HINT} (it installs rustc and cargo)", pytrace=False)


def _check(cmd, cwd, env=None):
    p = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env or rust_env(), capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(f"$ {' '.join(map(str, cmd))}\n{p.stdout}\n{p.stderr}", pytrace=False)
    return p


# ---------------------------------------------------------------------------
# Builds, once per session


@pytest.fixture(scope="session")
def rust_programs(built_tool):
    """{name: path} of the Rust test programs, built with -g and opt-level 1
    (mangling_v0 with -C symbol-mangling-version=v0, panics_abort with
    -C panic=abort, static_alloc with tests/rust/bumpalloc.c linked in)."""
    _require_toolchain()
    out = BUILD / "programs"
    out.mkdir(parents=True, exist_ok=True)
    src = RUST_SRC / "programs"
    builds = {
        "leaks": ("leaks.rs", []),
        "panics": ("panics.rs", []),
        "panics_abort": ("panics.rs", ["-C", "panic=abort"]),
        "threads": ("threads.rs", []),
        "keep": ("keep.rs", []),
        "sigint": ("sigint.rs", []),
        "global_alloc": ("global_alloc.rs", []),
        "mangling": ("mangling.rs", []),
        "mangling_v0": ("mangling.rs", ["-Z", "unstable-options", "-C", "symbol-mangling-version=v0"]),
        # The object itself, not an archive: rustc puts -l libraries before
        # std's, so an archive's malloc would not be pulled in for std.
        "static_alloc": ("static_alloc.rs", ["-C", f"link-arg={out / 'bumpalloc.o'}"]),
        "static_alloc_hidden": ("static_alloc.rs", ["-C", f"link-arg={out / 'bumpalloc_hidden.o'}"]),
    }
    # One pytest worker builds at a time: rustc writes its codegen units
    # beside the output (`sigint.sigint.<hash>-cgu.0.rcgu.o`) and deletes
    # them when it links, so two workers building one program at once find
    # each other's objects gone (CI, 3.24's check-versions run: three
    # setup errors, "cannot find ...rcgu.o"). The later worker then finds
    # the programs built and their stamps written, and builds nothing.
    with open(out / "programs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_rust_programs(out, src, builds)


def _build_rust_programs(out, src, builds):
    _check(["gcc", "-O2", "-g", "-c", RUST_SRC / "bumpalloc.c", "-o", out / "bumpalloc.o"], out)
    _check(["gcc", "-O2", "-g", "-DBUMPALLOC_HIDDEN", "-c", RUST_SRC / "bumpalloc.c", "-o",
            out / "bumpalloc_hidden.o"], out)
    paths = {}
    for name, (file, flags) in builds.items():
        exe = out / name
        paths[name] = exe
        # The crate name stays the file's, so frames read `leaks::main`.
        cmd = [RUSTC, "--edition=2021", "-g", "-C", "opt-level=1", "--crate-name", Path(file).stem, *flags,
               src / file, "-o", exe]
        stamp = out / (name + ".cmd")
        deps = [src / file, RUST_SRC / "bumpalloc.c", Path(RUSTC).resolve()]
        if (exe.exists() and exe.stat().st_mtime > max(d.stat().st_mtime for d in deps)
                and stamp.exists() and stamp.read_text() == repr(cmd)):
            continue  # built by an earlier session from the same source and command
        _check(cmd, out, env=rust_env({"RUSTC_BOOTSTRAP": "1"} if "-Z" in flags else None))
        if name == "static_alloc_hidden":
            # Local symbols, as an LTO build or a version script leaves them.
            _check(["objcopy", *[f"--localize-symbol={f}" for f in ALLOC_FUNCTIONS], exe], out)
        stamp.write_text(repr(cmd))
    return paths


def _cargo_test_executables(manifest_dir, target_dir, extra=()):
    p = _check([CARGO, "test", "--offline", "--no-run", "--message-format=json", *extra], manifest_dir,
               env=rust_env({"CARGO_TARGET_DIR": str(target_dir)}))
    exes = []
    for line in p.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["profile"].get("test"):
            exes.append(Path(msg["executable"]))
    return exes


@pytest.fixture(scope="session")
def crate_tests(built_tool):
    """The memtrack crate's test binaries (unit and integration)."""
    _require_toolchain()
    exes = _cargo_test_executables(CRATE, BUILD / "crate-target")
    assert any(e.name.startswith("requests-") for e in exes), exes
    return exes


# ---------------------------------------------------------------------------
# The crate


def _libtest_passed(r):
    m = re.findall(r"^test result: ok\. (\d+) passed; 0 failed", r.stdout, re.M)
    assert m and r.returncode == 0, r
    return int(m[-1])


def test_crate_tests_pass_natively_and_the_calls_are_no_ops(crate_tests, workdir):
    for exe in crate_tests:
        _libtest_passed(helpers.run_native([exe], workdir, env={"MEMTRACK_EXPECT": "no"}))


def test_crate_doc_examples_run_natively(built_tool):
    """Every item's rustdoc example compiles and runs (natively: rustdoc
    runs them itself, stable cargo cannot give them a runner)."""
    _require_toolchain()
    p = _check([CARGO, "test", "--offline", "--doc"], CRATE,
               env=rust_env({"CARGO_TARGET_DIR": str(BUILD / "crate-target")}))
    m = re.search(r"test result: ok\. (\d+) passed; 0 failed", p.stdout)
    assert m and int(m.group(1)) >= 20, p.stdout


@pytest.mark.parametrize("threads", ["1", "4"])
def test_crate_tests_pass_under_memtrack(crate_tests, workdir, threads):
    """Under memtrack every request answers, with the figures the tests
    expect; with 4 test threads each Measure still counts its own test's
    heap calls only."""
    # The leak-search test needs the process to itself (see its comment).
    skip = [] if threads == "1" else ["--skip", "leak_checks_see_a_forgotten_vec"]
    for exe in crate_tests:
        r = helpers.run_memtrack(["-q"], [exe, f"--test-threads={threads}", *skip], workdir,
                                 env={"MEMTRACK_EXPECT": "yes"})
        _libtest_passed(r)


def test_failed_assertion_writes_a_profile_under_memtrack(crate_tests, workdir):
    exe = next(e for e in crate_tests if e.name.startswith("requests-"))
    r = helpers.run_memtrack(["-q"], [exe, "--exact", "failed_assertions_name_the_profile_under_memtrack"],
                             workdir, env={"MEMTRACK_EXPECT": "yes"})
    assert _libtest_passed(r) == 1
    # The test checked the file exists; here: it is a profile DHAT's viewer reads.


# ---------------------------------------------------------------------------
# Rust programs: memtrack against memcheck (leaks) and DHAT (profile)


def _three_runs(argv, wd, mt_opts=(), mc_opts=None):
    """memtrack (profile and leak report in one run), memcheck and DHAT."""
    mt, mt_path = ph.run_memtrack([*LEAK_OPTS, *mt_opts], argv, wd)
    mc = helpers.run_memcheck(list(mc_opts if mc_opts is not None else [*LEAK_OPTS, *mt_opts]), argv, wd)
    dh, dh_path = ph.run_dhat([o for o in mt_opts if o.startswith("--soname")], argv, wd)
    return mt, ph.load(mt_path), mc, dh, ph.load(dh_path)


def _site_problems(mt_prof, dh_prof):
    """compare_sites, less the reads and writes of the blocks in which
    glibc's pthread_getattr_np reads /proc/self/maps (Rust's runtime asks
    for the main thread's stack at start-up): the file's text differs
    between the tools (their preloads' paths and mappings), so the bytes
    read and written there do too. Every other figure of those sites, and
    every figure of the others, must be equal."""
    probs, _ = ph.compare_sites(mt_prof, dh_prof)
    out = []
    for p in probs:
        if "pthread_getattr_np" in p or "_IO_file_underflow" in p:
            rest = [x for x in p.split(": memtrack vs DHAT: ", 1)[-1].split("; ")
                    if not re.match(r"(rb|wb) \d+ vs \d+$|acc differs", x)]
            if not rest:
                continue
        out.append(p)
    return out


def _assert_equal_to_oracles(mt, mt_prof, mc, dh, dh_prof):
    lh.assert_same_leak_output(mt, mc)
    assert helpers.parse_summary(mt.stderr) == helpers.parse_summary(dh.stderr)
    assert mt.returncode == dh.returncode and mt.stdout == dh.stdout
    probs = _site_problems(mt_prof, dh_prof)
    assert not probs, "\n".join(probs)


def _records(stderr):
    return [(r.kind if hasattr(r, "kind") else r.headline) for r in lh.parse(stderr).exit_records]


def _kinds(stderr):
    """{kind: [bytes of each record]} from memtrack's loss records."""
    out = {}
    for r in lh.parse(stderr).exit_records:
        m = lh.LOSS_RECORD.match(r.headline)
        out.setdefault(m.group("kind"), []).append(int(m.group("total").replace(",", "")))
    return out


PROGRAMS = ["leaks", "panics_unwind", "panics_abort", "threads", "global_alloc", "mangling", "mangling_v0"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_equals_dhat_and_memcheck(name, rust_programs, workdir):
    exe = rust_programs["panics" if name == "panics_unwind" else name]
    args = {"panics_unwind": ["unwind"], "panics_abort": ["abort"]}.get(name, [])
    mt, mt_prof, mc, dh, dh_prof = _three_runs([exe, *args], workdir)
    _assert_equal_to_oracles(mt, mt_prof, mc, dh, dh_prof)
    kinds = _kinds(mt.stderr)
    if name == "leaks":
        # The Rc cycle (two RcBox<Node> of 56 bytes, names of 40 and 60):
        # one node definitely lost, 212 bytes with what it holds, the other
        # node and both names indirectly; Box::leak thrown away (100) and
        # mem::forget (500): definitely; Box::leak kept in a static (64)
        # and the static Vec (256): still reachable.
        assert sorted(kinds["definitely lost"]) == [100, 212, 500], kinds
        assert sorted(kinds["indirectly lost"]) == [40, 56, 60], kinds
        assert sorted(kinds["still reachable"]) == [64, 256], kinds
    elif name == "panics_abort":
        assert mt.returncode == -signal.SIGABRT, mt
        assert "too long: 30" in mt.stderr
        assert any(pp["tb"] == 1234 for pp in mt_prof["pps"])
    elif name == "panics_unwind":
        assert "caught both" in mt.stdout and "definitely lost" not in kinds, kinds
    elif name == "threads":
        assert "10080 bytes" in mt.stdout and "definitely lost" not in kinds, kinds


@pytest.mark.parametrize("name", ["mangling", "mangling_v0"])
def test_symbols_demangled_in_every_output(name, rust_programs, workdir):
    """Legacy (_ZN...E) and v0 (_R...) symbols come out demangled in the
    profile and in the leak report: Valgrind 3.19's demangler reads both."""
    exe = rust_programs[name]
    syms = subprocess.run(["nm", exe], capture_output=True, text=True).stdout
    assert ("_RNv" in syms) == (name == "mangling_v0"), "the binary is not mangled as the test means"
    mt, mt_path = ph.run_memtrack(LEAK_OPTS, [exe], workdir)
    prof = ph.load(mt_path)
    frames = prof["ftbl"]
    text = "\n".join(frames) + "\n" + mt.stderr
    assert not re.search(r"\b_ZN\w+|\b_R[A-Z]\w+", text), re.findall(r"\b_ZN\w+|\b_R[A-Z]\w+", text)[:5]
    assert any("<mangling::Shelf as mangling::Store>::keep" in f for f in frames), frames
    assert any(re.search(r"mangling::make_many(::<u64>)?", f) for f in frames), frames
    assert re.search(r"by 0x\w+: mangling::main \(mangling\.rs:\d+\)", mt.stderr), mt


def test_sigint_writes_every_output_as_memcheck_and_dhat(rust_programs, workdir):
    exe = rust_programs["sigint"]
    outs = [f"--dhat-out-file={workdir}/mt.json", f"--summary-file={workdir}/sum.json",
            f"--massif-out-file={workdir}/massif.out"]
    mt = helpers.run_then_signal([helpers.VG_IN_PLACE, *LEAK_OPTS, *outs, exe], workdir, signal.SIGINT)
    mc = helpers.run_then_signal([helpers.VG_IN_PLACE, "--tool=memcheck", *LEAK_OPTS, exe], workdir,
                                 signal.SIGINT)
    dh = helpers.run_then_signal([helpers.VG_IN_PLACE, "--tool=dhat", f"--dhat-out-file={workdir}/dh.json", exe],
                                 workdir, signal.SIGINT)
    assert mt.returncode == mc.returncode == dh.returncode == -signal.SIGINT
    lh.assert_same_leak_output(mt, mc)
    assert helpers.parse_summary(mt.stderr) == helpers.parse_summary(dh.stderr)
    probs = _site_problems(ph.load(workdir / "mt.json"), ph.load(workdir / "dh.json"))
    assert not probs, "\n".join(probs)
    summary = json.loads((workdir / "sum.json").read_text())
    assert summary["leaks"]["definite"]["bytes"] == 333, summary
    assert "mem_heap_B=" in (workdir / "massif.out").read_text()


RUST_SUPP = helpers.REPO / "scripts" / "memtrack_lib" / "rust.supp"


def test_rust_suppressions_leave_a_correct_program_clean(rust_programs, workdir):
    """tests/rust/programs/keep.rs exits with a worker thread still running
    and HashMaps alive in a static and a thread-local: memcheck's default
    reports blocks possibly lost (errors under cargo memtrack's default
    --errors-for-leak-kinds=definite,possible); with rust.supp, none, under
    memtrack as under memcheck (the same file, the same output)."""
    exe = rust_programs["keep"]
    opts = ["--leak-check=full", "--show-leak-kinds=all", "--errors-for-leak-kinds=definite,possible"]
    mt, mc = lh.run_pair(opts, [exe], workdir)
    lh.assert_same_leak_output(mt, mc)
    before = lh.parse(mt.stderr).summary_numbers()
    assert before["possibly lost"][1] >= 3 and helpers.parse_error_summary(mt.stderr)["errors"] >= 3, before
    mt, mc = lh.run_pair([*opts, f"--suppressions={RUST_SUPP}"], [exe], workdir)
    lh.assert_same_leak_output(mt, mc)
    after = lh.parse(mt.stderr).summary_numbers()
    assert after["possibly lost"] == (0, 0) and after["definitely lost"] == (0, 0), after
    assert helpers.parse_error_summary(mt.stderr)["errors"] == 0
    # What stays reported is the program's own: the String its thread
    # keeps in a thread-local.
    assert after["still reachable"][1] <= 1, after
    assert after["suppressed"][1] >= 8, after


def _symbol(exe, sym):
    """nm's type letter of sym in exe's symbol table ('T' global, 't'
    local), or None."""
    nm = subprocess.run(["nm", "--defined-only", exe], capture_output=True, text=True).stdout
    m = re.search(rf"^\w+ ([A-Za-z]) {sym}$", nm, re.M)
    return m and m.group(1)


def test_static_allocator_exported_is_seen_by_default(rust_programs, workdir):
    """A malloc linked into the program and exported (jemalloc or mimalloc
    with unprefixed names): Valgrind replaces every global malloc since
    3.12, so memtrack sees the program's blocks with no option, as DHAT and
    memcheck do."""
    exe = rust_programs["static_alloc"]
    assert _symbol(exe, "malloc") == "T", "the program does not define a global malloc"
    mt, mt_prof, mc, dh, dh_prof = _three_runs([exe], workdir)
    _assert_equal_to_oracles(mt, mt_prof, mc, dh, dh_prof)
    assert helpers.parse_summary(mt.stderr)["total_blocks"] >= 100
    assert 256 in _kinds(mt.stderr)["definitely lost"]


def test_static_allocator_hidden_needs_soname_synonyms(rust_programs, workdir):
    """The same allocator with hidden visibility, its functions local
    symbols of the program (as LTO or a version script leaves them):
    without --soname-synonyms=somalloc=NONE no tool sees the
    program's own blocks, only glibc's; with it memtrack's figures are
    DHAT's and its leak report memcheck's."""
    exe = rust_programs["static_alloc_hidden"]
    assert _symbol(exe, "malloc") == "t", "the program's malloc is not a local symbol"
    blind = helpers.run_memtrack([], [exe], workdir)
    blind_dh = helpers.run_dhat([], [exe], workdir)
    assert helpers.parse_summary(blind.stderr) == helpers.parse_summary(blind_dh.stderr)
    assert helpers.parse_summary(blind.stderr)["total_blocks"] < 10, blind
    mt, mt_prof, mc, dh, dh_prof = _three_runs([exe], workdir, mt_opts=["--soname-synonyms=somalloc=NONE"])
    _assert_equal_to_oracles(mt, mt_prof, mc, dh, dh_prof)
    assert helpers.parse_summary(mt.stderr)["total_blocks"] >= 100
    assert 256 in _kinds(mt.stderr)["definitely lost"]


# ---------------------------------------------------------------------------
# cargo memtrack


def _cargo_memtrack(args, cwd, target, extra_env=None):
    env = rust_env({"CARGO": CARGO, "MEMTRACK": str(helpers.VG_IN_PLACE), "CARGO_TARGET_DIR": str(target),
                    **(extra_env or {})})
    return helpers.run([CARGO_MEMTRACK, "memtrack", *args], cwd, env=env)


@pytest.fixture(scope="session")
def workspace_run(built_tool, tmp_path_factory):
    """`cargo memtrack test` on tests/rust/workspace, one test thread per
    binary (so that the memcheck and DHAT runs below see the same run)."""
    _require_toolchain()
    target = BUILD / "ws-target"
    BUILD.mkdir(parents=True, exist_ok=True)
    # Once per test run, whichever pytest worker comes first: two workers
    # running it at once into one target folder would each find the other's
    # files there (and name their own clean-2, leaky-2). The later worker
    # waits on the lock and reads the first one's result.
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    record = BUILD / "ws-target.run.json"
    with open(BUILD / "ws-target.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if run_id and record.exists():
            d = json.loads(record.read_text())
            if d["run"] == run_id:
                return helpers.Result(d["argv"], d["returncode"], d["stdout"], d["stderr"]), \
                    target / "memtrack", target
        r = _cargo_memtrack(["test", "--offline", "--", "--test-threads=1"], WORKSPACE, target)
        record.write_text(json.dumps({"run": run_id, "argv": r.argv, "returncode": r.returncode,
                                      "stdout": r.stdout, "stderr": r.stderr}))
    return r, target / "memtrack", target


def _table_rows(stderr):
    lines = stderr.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith("cargo memtrack: per binary"))
    head = lines[i + 1].split()
    assert head[:3] == ["binary", "status", "tests"], lines[i + 1]
    rows = {}
    for l in lines[i + 2:]:
        if not l.strip() or l.startswith("cargo memtrack:"):
            break
        rows[l.split()[0]] = l
    return rows


def test_cargo_memtrack_workspace_table_and_exit_status(workspace_run):
    r, out, _ = workspace_run
    assert r.returncode == 1, r  # the leaky crate fails the run
    rows = _table_rows(r.stderr)
    # leaky's lib tests, then its bin's (no tests: leaky_tool), and clean's
    # bin (waiter, no tests).
    assert set(rows) == {"clean", "leaky", "leaky_tool", "waiter"}, rows
    assert re.search(r"^clean\s+ok\s+2 passed\s", rows["clean"]), rows["clean"]
    assert re.search(r"^leaky\s+ok\s+2 passed\s", rows["leaky"]), rows["leaky"]
    assert re.search(r"^leaky_tool\s+ok\s+0 passed\s", rows["leaky_tool"]), rows["leaky_tool"]
    assert "cargo memtrack: failed: leaky" in r.stderr
    for name in ("clean", "leaky"):
        for ext in ("dhat.json", "summary.json", "log"):
            assert (out / f"{name}.{ext}").is_file(), f"no {name}.{ext}"
    clean = json.loads((out / "clean.summary.json").read_text())
    leaky = json.loads((out / "leaky.summary.json").read_text())
    assert clean["errors"] == 0, clean  # the shipped suppressions leave a clean crate clean
    for k in ("definite", "indirect", "possible"):
        assert clean["leaks"][k]["bytes"] == 0, clean
    assert leaky["leaks"]["definite"]["bytes"] >= 4321 + 800, leaky
    # [package.metadata.memtrack] of leaky asked for --num-callers=4.
    records = lh.parse((out / "leaky.log").read_text()).exit_records
    assert records and all(len(r.frames) == 4 for r in records), records


def test_cargo_memtrack_figures_equal_memcheck_and_dhat(workspace_run, workdir):
    """The leaky crate's test binary run by hand under memcheck and DHAT
    gives the figures cargo memtrack's run recorded."""
    _, out, target = workspace_run
    exe = next(p for p in (target / "debug" / "deps").iterdir()
               if p.name.startswith("leaky-") and os.access(p, os.X_OK) and p.suffix == "")
    args = [exe, "--test-threads=1"]
    mc = helpers.run_memcheck(["--leak-check=full", f"--suppressions={RUST_SUPP}"], args, workdir)
    dh = helpers.run_dhat([], args, workdir)
    summary = json.loads((out / "leaky.summary.json").read_text())
    mc_leaks = lh.parse(mc.stderr).leak_summaries[-1]
    words = {"definite": "definitely lost", "indirect": "indirectly lost", "possible": "possibly lost",
             "reachable": "still reachable", "suppressed": "suppressed"}
    for k, w in words.items():
        line = next(l for l in mc_leaks if l.strip().startswith(w + ":"))
        b, k_ = re.search(r"([\d,]+) bytes in ([\d,]+) blocks", line).groups()
        assert (summary["leaks"][k]["bytes"], summary["leaks"][k]["blocks"]) == \
            (int(b.replace(",", "")), int(k_.replace(",", ""))), (k, line, summary["leaks"])
    d = helpers.parse_summary(dh.stderr)
    assert (summary["total"]["bytes"], summary["total"]["blocks"]) == (d["total_bytes"], d["total_blocks"])
    assert (summary["peak"]["bytes"], summary["peak"]["blocks"]) == (d["gmax_bytes"], d["gmax_blocks"])


def test_cargo_memtrack_run_passes_arguments_and_flags(workspace_run, workdir):
    """`cargo memtrack run`: the program's arguments and output pass
    through, MEMTRACKFLAGS reaches memtrack and --memtrack-args comes after
    it (wins), the leaks fail the run."""
    _, _, target = workspace_run
    out = workdir / "mt"  # not the workspace run's folder, which other tests read
    r = _cargo_memtrack(["--memtrack-args=--num-callers=3", f"--memtrack-dir={out}", "run", "--offline", "-q",
                         "--bin", "leaky-tool",
                         "--", "ab", "cde"], WORKSPACE, target, extra_env={"MEMTRACKFLAGS": "--num-callers=30"})
    assert r.returncode == 1, r
    assert r.stdout == "ab 200\ncde 300\n", r
    assert re.search(r"^leaky-tool\s+ok\s+-\s", _table_rows(r.stderr)["leaky-tool"], re.M), r
    assert str(out) in r.stderr
    s = json.loads((out / "leaky-tool.summary.json").read_text())
    assert s["leaks"]["definite"] == {"bytes": 500, "blocks": 2}, s
    records = lh.parse((out / "leaky-tool.log").read_text()).exit_records
    assert records and all(len(rec.frames) == 3 for rec in records), records


def test_cargo_memtrack_bench_runs_the_bench_binary(workspace_run, workdir):
    """`cargo memtrack bench`: the bench target (harness = false, as on
    stable Rust) runs under memtrack, built as cargo bench builds it
    (release); its row and summary give the figures DHAT gives for the same
    binary run by hand, and churn.rs's 10 vectors of 8,000 bytes are in them."""
    _, _, target = workspace_run
    out = workdir / "mt"
    r = _cargo_memtrack([f"--memtrack-dir={out}", "bench", "--offline", "-p", "clean", "--bench", "churn"],
                        WORKSPACE, target)
    assert r.returncode == 0, r
    assert re.search(r"^churn \d+$", r.stdout, re.M), r
    rows = _table_rows(r.stderr)
    assert set(rows) == {"churn"} and re.search(r"^churn\s+ok\s+-\s", rows["churn"]), rows
    s = json.loads((out / "churn.summary.json").read_text())
    exe = next(p for p in (target / "release" / "deps").iterdir()
               if p.name.startswith("churn-") and os.access(p, os.X_OK) and p.suffix == "")
    d = helpers.parse_summary(helpers.run_dhat([], [exe, "--bench"], workdir).stderr)
    assert (s["total"]["bytes"], s["total"]["blocks"]) == (d["total_bytes"], d["total_blocks"]), (s, d)
    assert (s["peak"]["bytes"], s["peak"]["blocks"]) == (d["gmax_bytes"], d["gmax_blocks"]), (s, d)
    prof = json.loads((out / "churn.dhat.json").read_text())
    # (release code: the loop may be unrolled, one site per copy)
    eights = sum(pp["tbk"] for pp in prof["pps"] if pp["tb"] == 8000 * pp["tbk"])
    assert eights == 10, [(pp["tb"], pp["tbk"]) for pp in prof["pps"]]


def test_cargo_memtrack_ctrl_c_still_writes_and_tabulates(workspace_run, workdir):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
    during `cargo memtrack run`: the binary ends, memtrack writes its
    profile and summary on the way out (the 4,096-byte buffer live at
    t-end), cargo memtrack lives on to print its table, with the binary's
    status "signal 2", and fails."""
    _, _, target = workspace_run
    out = workdir / "mt"
    env = helpers.base_env(rust_env({"CARGO": CARGO, "MEMTRACK": str(helpers.VG_IN_PLACE),
                                     "CARGO_TARGET_DIR": str(target)}))
    p = subprocess.Popen([CARGO_MEMTRACK, "memtrack", f"--memtrack-dir={out}", "run", "--offline", "-q",
                          "-p", "clean", "--bin", "waiter"], cwd=str(WORKSPACE), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                         preexec_fn=None)
    try:
        first = p.stdout.readline()
        assert first == "ready 4096\n", (first, p.stderr.read() if p.poll() is not None else "")
        os.killpg(p.pid, signal.SIGINT)
        rest, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert "not interrupted" not in rest
    assert p.returncode != 0, (p.returncode, err)
    rows = _table_rows(err)
    assert re.search(r"^waiter\s+signal 2\s", rows["waiter"]), rows
    s = json.loads((out / "waiter.summary.json").read_text())
    prof = json.loads((out / "waiter.dhat.json").read_text())
    assert any(pp["eb"] == 4096 and pp["ebk"] == 1 for pp in prof["pps"]), prof["pps"]
    assert s["total"]["blocks"] >= 1, s


def test_cargo_memtrack_crate_tests_with_many_threads(built_tool, workdir):
    """The crate's own tests through cargo memtrack with 4 test threads:
    every Measure stays per thread, no errors, exit 0."""
    _require_toolchain()
    # The tests leak and search for leaks on purpose: no leak kind fails.
    r = _cargo_memtrack(["--errors-for-leak-kinds=none", "test", "--offline", "--test", "requests", "--",
                         "--test-threads=4", "--skip", "leak_checks_see_a_forgotten_vec"], CRATE,
                        BUILD / "crate-target", extra_env={"MEMTRACK_EXPECT": "yes"})
    assert r.returncode == 0, r
    rows = _table_rows(r.stderr)
    assert re.search(r"^requests\s+ok\s+12 passed\s", rows["requests"]), rows


def test_cargo_memtrack_says_when_a_binary_hides_its_own_malloc(rust_programs, workdir):
    """The runner mode on the program with a hidden malloc of its own: one
    line naming the option, and the run goes on; none for an exported
    malloc (Valgrind replaces it) or none at all."""
    session = workdir / "session.json"
    rows = workdir / "rows.jsonl"
    session.write_text(json.dumps({"outdir": str(workdir), "memtrack": [str(helpers.VG_IN_PLACE)],
                                   "opts": ["--leak-check=full"], "opts_for": {}, "rows": str(rows)}))
    r = helpers.run([CARGO_MEMTRACK, "--runner", rust_programs["static_alloc_hidden"]], workdir,
                    env={"MEMTRACK_CARGO_SESSION": str(session)})
    assert r.returncode == 0, r
    assert "cargo memtrack: static_alloc_hidden defines malloc itself, not exported" in r.stderr
    assert "--soname-synonyms=somalloc=NONE" in r.stderr
    for name in ("static_alloc", "leaks"):  # an exported malloc is replaced anyway; none at all
        r2 = helpers.run([CARGO_MEMTRACK, "--runner", rust_programs[name]], workdir,
                         env={"MEMTRACK_CARGO_SESSION": str(session)})
        assert "defines malloc" not in r2.stderr, r2
    names = [json.loads(l)["name"] for l in rows.read_text().splitlines()]
    assert names == ["static_alloc_hidden", "static_alloc", "leaks"]


def test_cargo_memtrack_bad_options(workdir):
    for args, msg in [(["--errors-for-leak-kinds=lots", "test"], "--errors-for-leak-kinds=lots"),
                      (["--frobnicate", "test"], "unknown option --frobnicate"),
                      (["--memtrack-args"], "--memtrack-args needs a value"),
                      (["build"], "expected test, run or bench")]:
        r = helpers.run([CARGO_MEMTRACK, "memtrack", *args], workdir)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and msg in r.stderr, r


# ---------------------------------------------------------------------------
# Site labels (issue 19) skip alloc::, core::, std:: frames

def _first_user_frame(prof, pp, source):
    """The first frame in the program's own source file: Valgrind names
    inlined frames without their module path (alloc_zeroed, {closure#0}),
    so the file, not the name, tells the standard library's frames from
    the program's."""
    for f in ph.frames(prof, pp):
        if f"({source}:" in f:
            return re.sub(r"^0x[0-9A-Fa-f]+: ", "", f)
    return None


@pytest.mark.parametrize("name", ["mangling", "mangling_v0"])
def test_first_user_frame_of_rust_sites(name, rust_programs, workdir):
    """What issue 19's labels must show for Rust sites: the first frame
    below the allocator that is the program's own, past alloc::, core::
    and std:: (and their inlined helpers), demangled with its path.
    Checked here on the profile's frames; the labels themselves are the
    next test's."""
    _, path = ph.run_memtrack([], [rust_programs[name]], workdir)
    prof = ph.load(path)
    firsts = [_first_user_frame(prof, pp, "mangling.rs") for pp in prof["pps"]]
    assert any(f and re.match(r"mangling::make_many(::<u64>)? \(mangling\.rs:\d+\)$", f) for f in firsts), firsts
    assert any(f and f.startswith("<mangling::Shelf as mangling::Store>::keep (mangling.rs:") for f in firsts), firsts


@pytest.mark.parametrize("name", ["mangling", "mangling_v0"])
def test_site_labels_skip_rust_internals(name, rust_programs, workdir):
    """Site labels (issue 19, memtrack_lib.labels) as memtrack_print gives
    them: the Vec grown in make_many and the one kept by Shelf::keep are
    labelled by those functions, not by alloc::, core:: or std:: frames,
    and no label is a standard library frame or an allocator shim."""
    _, path = ph.run_memtrack([], [rust_programs[name]], workdir)
    r = helpers.run(["/usr/bin/python3", helpers.REPO / "scripts" / "memtrack_print", "--format=json",
                     "--sections=top", "--top=0", "--verbose", path], workdir)
    assert r.returncode == 0, r
    labels = []

    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("label"), str):
                labels.append(x["label"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(json.loads(r.stdout))
    assert labels, r.stdout[:2000]
    assert any(re.match(r"mangling::make_many(::<u64>)? \(mangling\.rs:\d+\)$", lb) for lb in labels), labels
    assert any(lb.startswith("<mangling::Shelf as mangling::Store>::keep (mangling.rs:") for lb in labels), labels
    internal = [lb for lb in labels if re.match(r"^<?(alloc|core|std)::|^__r(ust|dl|g)_", lb)]
    assert not internal, internal
