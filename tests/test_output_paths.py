"""Output files that cannot be written. memtrack's own outputs
(--dhat-out-file, --massif-out-file, --summary-file, --sarif-file) are
written at exit: a name that is a directory, lies in a missing directory,
or under a regular file gives one line naming the file and the reason, every
other output is still written and valid, and the exit status stays the
program's. The core's --xml-file and --log-file are opened at start-up: a
bad one stops Valgrind before the program runs, with exit status 1 (as for
memcheck)."""
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
}


def _check_valid(name, path):
    if name == "dhat-out-file":
        ph.checked_profile(path)
    elif name == "massif-out-file":
        r = helpers.run(["ms_print", str(path)], path.parent)
        assert r.returncode == 0, r
    else:
        json.loads(path.read_text())


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("name", list(OUTPUTS))
def test_unwritable_output_is_reported_and_the_others_are_written(name, bad, clients, workdir):
    (workdir / "adir").mkdir()
    (workdir / "afile").write_text("a regular file\n")
    given, why = BAD[bad]
    opts = ["--leak-check=full"] + [f"--{o}={f}" for o, (f, _) in OUTPUTS.items() if o != name]
    opts.append(f"--{name}={given}")
    r = helpers.run_memtrack(opts, [clients.path("prof_exit"), "exit3"], workdir)
    assert r.returncode == 3, r
    errs = [l for l in helpers.client_lines(r.stderr) if l.startswith("error")]
    what = OUTPUTS[name][1]
    assert errs == [f"error: can't open {what} '{workdir / given}' for writing: {why}"], r
    for other, (f, _) in OUTPUTS.items():
        if other != name:
            _check_valid(other, workdir / f)
    assert re.search(r"LEAK SUMMARY", r.stderr), r


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
    assert f"Cannot create {kind} file '{workdir / given}': {why}" in r.stderr, r
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
