"""Output files that cannot be written. Every output memtrack writes at
exit (--dhat-out-file, --massif-out-file, --summary-file, --sarif-file) is
checked before the program runs, as the core checks its --xml-file and
--log-file (opened at start-up): a name that is a directory, lies in a
missing directory, under a regular file or in a directory that takes no new
file (/proc, whoever runs the test: chmod would not stop root) stops
Valgrind with the core's words and exit status 1. A write that fails at exit
all the same (a device that is full, a directory the program removed) gives
one line naming the file, every other output is still written and valid,
and the failure is an error: --error-exitcode's status, the program's
status without it."""
import json
import re

import pytest

import helpers
import profile_helpers as ph

OUTPUTS = {
    "dhat-out-file": ("ok.json", "memtrack profile file"),
    "massif-out-file": ("ok.massif", "massif-format output file"),
    "summary-file": ("ok.sum.json", "--summary-file file"),
    "sarif-file": ("ok.sarif", "--sarif-file file"),
}
BAD = {
    "directory": ("adir", "Is a directory"),
    "missing_dir": ("no/such/dir/x", "No such file or directory"),
    "under_a_file": ("afile/x", "Not a directory"),
    "under_dev_null": ("/dev/null/x", "Not a directory"),
    "in_proc": ("/proc/memtrack-test-x", None),  # the reason depends on the kernel
}


def _check_valid(name, path):
    if name == "dhat-out-file":
        ph.checked_profile(path)
    elif name == "massif-out-file":
        r = helpers.run(["ms_print", str(path)], path.parent)
        assert r.returncode == 0, r
    else:
        json.loads(path.read_text())


def _bad_dirs(workdir):
    (workdir / "adir").mkdir()
    (workdir / "afile").write_text("a regular file\n")


def _full(workdir, given):
    return given if given.startswith("/") else str(workdir / given)


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("name", list(OUTPUTS))
def test_unwritable_output_stops_before_the_program(name, bad, workdir):
    _bad_dirs(workdir)
    given, why = BAD[bad]
    r = helpers.run_memtrack([f"--{name}={given}"], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    what = OUTPUTS[name][1]
    lines = [l for l in r.stderr.splitlines() if "Cannot create" in l]
    assert len(lines) == 1, r
    # The core's words for a --log-file at the same path are the oracle.
    core = helpers.run_memtrack([f"--log-file={given}"], ["/usr/bin/touch", "marker"], workdir)
    assert core.returncode == 1, core
    m = re.fullmatch(r"valgrind: Cannot create log file '(.*)': (.*)", core.stderr.strip())
    assert m, core
    assert m[1] == _full(workdir, given)
    if why:
        assert m[2] == why
    assert lines[0] == f"valgrind: Cannot create {what} '{m[1]}': {m[2]}", lines
    assert not (workdir / "marker").exists(), "the program ran"
    assert sorted(p.name for p in workdir.iterdir()) == ["adir", "afile"], "something was left behind"
    assert list((workdir / "adir").iterdir()) == []


def test_names_expand_before_the_check(workdir):
    """%p and %q{VAR} expand before the directory is checked (the core's
    words name the expanded file)."""
    r = helpers.run_memtrack(["--sarif-file=%q{MT_OUT_DIR}/r.%p.sarif"], ["/usr/bin/touch", "marker"], workdir,
                             env={"MT_OUT_DIR": str(workdir / "nodir")})
    assert r.returncode == 1, r
    m = re.search(r"Cannot create --sarif-file file '(.*)': No such file or directory", r.stderr)
    assert m and re.fullmatch(re.escape(str(workdir / "nodir")) + r"/r\.\d+\.sarif", m[1]), r
    assert not (workdir / "marker").exists()


def test_writable_outputs_leave_nothing_behind_until_exit(clients, workdir):
    """The check leaves no file: what exists after the run is what it wrote."""
    (workdir / "out").mkdir()
    opts = [f"--{o}=out/{f}" for o, (f, _) in OUTPUTS.items()]
    r = helpers.run_memtrack(opts, [clients.path("prof_exit"), "exit3"], workdir)
    assert r.returncode == 3, r
    assert sorted(p.name for p in (workdir / "out").iterdir()) == sorted(f for f, _ in OUTPUTS.values())
    for o, (f, _) in OUTPUTS.items():
        _check_valid(o, workdir / "out" / f)


@pytest.mark.parametrize("exitcode", [None, 7])
@pytest.mark.parametrize("name", list(OUTPUTS))
def test_write_failing_at_exit_is_an_error(name, exitcode, clients, workdir):
    """/dev/full takes the open and refuses the write: one line naming the
    file; the others written; one error more, so --error-exitcode's status."""
    opts = ["--leak-check=full"] + [f"--{o}={f}" for o, (f, _) in OUTPUTS.items() if o != name]
    opts.append(f"--{name}=/dev/full")
    if exitcode:
        opts.append(f"--error-exitcode={exitcode}")
    r = helpers.run_memtrack(opts, [clients.path("prof_exit"), "exit3"], workdir)
    assert r.returncode == (exitcode or 3), r
    errs = [l for l in helpers.client_lines(r.stderr) if l.startswith("error")]
    assert errs == [f"error: writing {OUTPUTS[name][1]} '/dev/full' failed (disk full?)"], r
    for other, (f, _) in OUTPUTS.items():
        if other != name:
            _check_valid(other, workdir / f)
    assert re.search(r"LEAK SUMMARY", r.stderr), r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 1
    if name not in ("summary-file",):
        # Written after the profile and the massif file: counts their failure.
        assert json.loads((workdir / "ok.sum.json").read_text())["errors"] == (1 if name != "sarif-file" else 0)


def test_directory_removed_by_the_program(workdir):
    """The directory existed at start-up; the program removes it; the write
    at exit fails and the run fails with --error-exitcode's status."""
    (workdir / "out").mkdir()
    r = helpers.run_memtrack(["--error-exitcode=9", "--sarif-file=out/r.sarif", "--summary-file=s.json"],
                             ["/bin/sh", "-c", "rmdir out"], workdir)
    assert not (workdir / "out").exists()
    assert r.returncode == 9, r
    errs = [l for l in helpers.client_lines(r.stderr) if l.startswith("error")]
    assert errs == [f"error: can't open --sarif-file file '{workdir / 'out' / 'r.sarif'}' for writing: "
                    "No such file or directory"], r
    assert helpers.parse_error_summary(r.stderr)["errors"] == 1
    json.loads((workdir / "s.json").read_text())


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("opt", ["--log-file", "--xml-file"])
def test_core_output_files_stop_before_the_program(opt, bad, workdir):
    (workdir / "adir").mkdir()
    (workdir / "afile").write_text("a regular file\n")
    given, why = BAD[bad]
    extra = ["--xml=yes"] if opt == "--xml-file" else []
    r = helpers.run_memtrack([*extra, f"{opt}={given}"], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    kind = "XML" if opt == "--xml-file" else "log"
    assert f"Cannot create {kind} file '{_full(workdir, given)}': {why or ''}" in r.stderr, r
    assert not (workdir / "marker").exists(), "the program ran"


def test_missing_suppressions_file_stops_before_the_program(workdir):
    r = helpers.run_memtrack(["--suppressions=/nonexistent/x.supp"], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1, r
    assert "/nonexistent/x.supp" in r.stderr, r
    assert not (workdir / "marker").exists(), "the program ran"


@pytest.mark.parametrize("text,what", [
    ("{\n   name\n   Memtrack:Leak\n   fun:main\n", "unterminated"),
    ("{\n   name\n   Memtrack:Leak\n   match-leak-kinds: bogus\n   fun:main\n}\n", "bad leak kinds"),
    ("{\n   name\n   Memtrack:NoSuchKind\n   fun:main\n}\n", "unknown kind"),
    ("not a suppression at all\n", "garbage"),
], ids=lambda x: x if len(x) < 20 else None)
def test_bad_suppressions_file_stops_before_the_program(text, what, workdir):
    (workdir / "bad.supp").write_text(text)
    (workdir / "bad-mc.supp").write_text(text.replace("Memtrack:", "Memcheck:"))
    r = helpers.run_memtrack(["--suppressions=bad.supp"], ["/usr/bin/touch", "marker"], workdir)
    mc = helpers.run_memcheck(["--suppressions=bad-mc.supp"], ["/usr/bin/true"], workdir)
    assert r.returncode == 1, (what, r)
    assert "bad.supp" in r.stderr, r
    assert not (workdir / "marker").exists(), "the program ran"
    assert mc.returncode == 1, ("memcheck accepts the same entry for itself", mc)
