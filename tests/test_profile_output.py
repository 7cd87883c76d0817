"""Where the profile goes and that it is always written, whole and valid:
%p and %q{VAR} in --dhat-out-file, a bad %q{} (stops before the client
runs), unwritable paths (one error line, the rest of the report, the
client's exit status), every way a program can end (exit, _exit, abort,
fatal signals, SIGINT/SIGTERM from outside, an uncaught C++ exception),
and command lines and symbol names JSON must escape."""
import codecs
import os
import re
import shutil
import signal

import pytest

import helpers
import profile_helpers as ph


def _pid(stderr):
    m = re.match(r"==(\d+)==", stderr)
    assert m, stderr[:2000]
    return int(m[1])


def _hint_path(stderr):
    lines = helpers.client_lines(stderr)
    i = lines.index('in a web browser, click on "Load...", and then select the file')
    return lines[i + 1].strip()


def _check_exit_client(prof):
    """prof_exit.c / prof_throw.cpp: kept_block(111) live, freed_block(222) freed."""
    k, f = ph.one_site(prof, "kept_block"), ph.one_site(prof, "freed_block")
    assert (k["tb"], k["tbk"], k["eb"], k["ebk"]) == (111, 1, 111, 1), k
    assert (f["tb"], f["tbk"], f["eb"], f["ebk"]) == (222, 1, 0, 0), f
    assert k["wb"] == 111 and f["wb"] == 222


# ---------------------------------------------------------------------------
# File names


def test_default_name_is_memtrack_out_pid(clients, workdir):
    r = helpers.run_memtrack([], [clients.path("prof_exit")], workdir)
    assert r.returncode == 0, r
    pid = _pid(r.stderr)
    path = workdir / f"memtrack.out.{pid}"
    assert sorted(p.name for p in workdir.iterdir()) == [path.name]
    assert _hint_path(r.stderr) == str(path)
    prof = ph.checked_profile(path, r)
    assert prof["pid"] == pid
    _check_exit_client(prof)


def test_percent_p_and_q_expand(clients, workdir):
    r = helpers.run_memtrack(["--dhat-out-file=prof.%p.%q{MT_PROF_NAME}.json"],
                             [clients.path("prof_exit")], workdir,
                             env={"MT_PROF_NAME": "hello-world"})
    assert r.returncode == 0, r
    pid = _pid(r.stderr)
    path = workdir / f"prof.{pid}.hello-world.json"
    assert path.exists(), sorted(os.listdir(workdir))
    assert _hint_path(r.stderr) == str(path)
    assert ph.checked_profile(path, r)["pid"] == pid


def test_bad_percent_q_stops_before_the_client_runs(workdir):
    assert "MT_SURELY_UNSET_VAR" not in os.environ
    r = helpers.run_memtrack(["--dhat-out-file=x.%q{MT_SURELY_UNSET_VAR}.json"],
                             ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    assert not (workdir / "marker").exists(), "the client ran"
    assert "--dhat-out-file=x.%q{MT_SURELY_UNSET_VAR}.json" in r.stderr, r
    assert "MT_SURELY_UNSET_VAR" in r.stderr
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("where", ["missing_dir", "a_directory"])
def test_unwritable_path(where, clients, workdir):
    """One error line; the summary lines still printed; no list of files
    written and no view hint; the
    client's exit status (3) unchanged; nothing written."""
    if where == "missing_dir":
        path = workdir / "no" / "such" / "dir" / "p.json"
    else:
        path = workdir / "adir"
        path.mkdir()
    r = helpers.run_memtrack([f"--dhat-out-file={path}"], [clients.path("prof_exit"), "exit3"], workdir)
    assert r.returncode == 3, r
    lines = helpers.client_lines(r.stderr)
    errs = [l for l in lines if l.startswith("error") or "can't open" in l]
    why = "No such file or directory" if where == "missing_dir" else "Is a directory"
    assert errs == [f"error: can't open memtrack profile file '{path}' for writing: {why}"], r
    fig = ph.stderr_figures(r.stderr)
    assert fig == {"total": (333, 2), "unit": "bytes", "gmax": (333, 2), "end": (111, 1),
                   "reads": 0, "writes": 333}, r
    assert "Files written:" not in lines and not any("dh_view.html" in l for l in lines), r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0
    assert r.stdout == "ready\n"
    if where == "a_directory":
        assert list(path.iterdir()) == []
    else:
        assert not (workdir / "no").exists()


# ---------------------------------------------------------------------------
# However the program ends


ENDINGS = [
    # (argument, exit status as subprocess reports it)
    ("normal", 0),
    ("exit3", 3),
    ("_exit4", 4),
    ("abort", -signal.SIGABRT),
    ("segv", -signal.SIGSEGV),
]


@pytest.mark.parametrize("how, status", ENDINGS, ids=[e[0] for e in ENDINGS])
def test_profile_written_however_the_program_ends(how, status, clients, workdir):
    r, p = ph.run_memtrack([], [clients.path("prof_exit"), how], workdir)
    assert r.returncode == status, r
    assert r.stdout == "ready\n"
    _check_exit_client(ph.checked_profile(p, r))


def test_profile_written_on_uncaught_exception(clients, workdir):
    r, p = ph.run_memtrack([], [clients.path("prof_throw")], workdir)
    assert r.returncode == -signal.SIGABRT, r
    assert "terminate called after throwing an instance of 'std::runtime_error'" in r.stderr
    _check_exit_client(ph.checked_profile(p, r))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_profile_written_when_killed_by_signal(sig, clients, workdir):
    """The client waits in pause(); the signal comes from outside, its
    default action ends the process, and the profile is still written."""
    path = workdir / "sig.json"
    argv = [helpers.VG_IN_PLACE, f"--dhat-out-file={path}", clients.path("prof_exit"), "wait"]
    r = helpers.run_then_signal(argv, workdir, sig)
    assert r.returncode == -sig, r
    assert f"Process terminating with default action of signal {int(sig)}" in r.stderr, r
    _check_exit_client(ph.checked_profile(path, r))


# ---------------------------------------------------------------------------
# Command lines and names JSON must escape


def _per_byte_replace(err):
    # memtrack writes one U+FFFD per byte that is not part of valid UTF-8.
    return ("\ufffd" * (err.end - err.start), err.end)


codecs.register_error("mt_per_byte", _per_byte_replace)

ODD_ARGS = [
    b"normal", b'quote"', b"back\\slash", b"tab\there", b"nl\nline", b"ctl\x01\x1f\x7f",
    "é€😀".encode(), b"\xff", b"bad\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
    b"\xe2\x82x", b"",
]


def _expected_cmd(parts):
    return b" ".join(parts).decode("utf-8", "mt_per_byte")


def test_odd_command_line_round_trips(clients, workdir):
    """A binary whose directory and name hold a quote, backslashes,
    spaces, a newline and bytes that are not UTF-8, and arguments with
    control characters, valid multi-byte UTF-8 and every kind of invalid
    UTF-8: the file is strict UTF-8 JSON and cmd is exe + args joined by
    spaces, each invalid byte as U+FFFD."""
    d = os.fsencode(workdir) + b'/odd "q\\b dir\xff'
    os.makedirs(d)
    exe = d + b'/pr"of\\ x\nnl\xfe\xc3'
    shutil.copy(clients.path("prof_exit"), exe)
    os.chmod(exe, 0o755)
    path = workdir / "odd.json"
    argv = [os.fsdecode(a) for a in (exe, *ODD_ARGS)]
    r = helpers.run_memtrack([f"--dhat-out-file={path}"], argv, workdir)
    assert r.returncode == 0, r
    prof = ph.checked_profile(path, r)
    assert prof["cmd"] == _expected_cmd([exe, *ODD_ARGS])
    _check_exit_client(prof)
    # The escapes themselves: control characters as \\u00XX, nothing raw.
    raw = path.read_bytes()
    line = raw[raw.index(b'"cmd"'):].split(b"\n", 1)[0]
    assert b"\\u000a" in line.lower() and b"\\u0001" in line.lower(), line
    assert not any(c < 0x20 for c in line), line


def test_odd_symbol_names(clients, workdir):
    """prof_odd.cpp: frames named operator"" _bytes(...), a lambda, an
    anonymous-namespace template: valid JSON, names intact."""
    r, p = ph.run_memtrack([], [clients.path("prof_odd")], workdir)
    assert r.returncode == 0, r
    prof = ph.checked_profile(p, r)
    firsts = sorted(re.sub(r"^0x[0-9A-F]+: ", "", ph.frames(prof, pp)[0]) for pp in prof["pps"]
                    if "prof_odd.cpp" in ph.frames(prof, pp)[0])
    assert firsts == [
        "(anonymous namespace)::Holder<char const*, 3>::make() (prof_odd.cpp:17)",
        "main::{lambda(unsigned long)#1}::operator()(unsigned long) const (prof_odd.cpp:24)",
        'operator"" _bytes(unsigned long long) (prof_odd.cpp:12)',
    ], firsts
    assert sorted(pp["tb"] for pp in prof["pps"]) == [24, 24, 40]


def test_queue_note_only_when_the_queue_is_on(clients, workdir):
    """With --leak-check=full memcheck's queue of freed blocks moves blocks
    away from where DHAT puts them; the end-of-run text says so, and says
    nothing when the queue is off (the default, or --freelist-vol=0)."""
    argv = [clients.path("dhat_basic")]
    note = "Note: freed blocks waited in memcheck's queue before reuse (--freelist-vol=20000000"
    full = helpers.run_memtrack(["--leak-check=full"], argv, workdir)
    assert note in full.stderr, full
    for opts in ([], ["--leak-check=full", "--freelist-vol=0"]):
        r = helpers.run_memtrack(opts, argv, workdir)
        assert "Note: freed blocks" not in r.stderr, (opts, r)
