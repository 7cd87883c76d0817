"""The build tree holds the tool and its preload, scripts/vg-in-place runs
them (memtrack by default, the real DHAT and memcheck on request), and the
tool answers --help and runs an ordinary program."""
import os
import re

import helpers
from helpers import BUILDDIR, VG_IN_PLACE


def _elf_type(path):
    with open(path, "rb") as f:
        head = f.read(18)
    assert head[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(head[16:18], "little")  # e_type


def test_tool_and_preload_are_built():
    plat = helpers.platform()
    assert plat, f"no memtrack-<platform> in {BUILDDIR}/memtrack"
    tool = BUILDDIR / "memtrack" / f"memtrack-{plat}"
    preload = BUILDDIR / "memtrack" / f"vgpreload_memtrack-{plat}.so"
    assert os.access(tool, os.X_OK), f"{tool} is not executable"
    assert _elf_type(tool) in (2, 3), f"{tool} is not an executable"  # ET_EXEC / ET_DYN
    assert _elf_type(preload) == 3, f"{preload} is not a shared object"  # ET_DYN


def test_in_place_folder_links_our_files_and_the_real_oracles():
    plat = helpers.platform()
    inplace = BUILDDIR / ".in-place"
    assert os.path.samefile(inplace / f"memtrack-{plat}", BUILDDIR / "memtrack" / f"memtrack-{plat}")
    assert os.path.samefile(inplace / f"vgpreload_memtrack-{plat}.so",
                            BUILDDIR / "memtrack" / f"vgpreload_memtrack-{plat}.so")
    # The oracles are the system's tools, not something from our build.
    for tool in ("dhat", "memcheck"):
        for name in (f"{tool}-{plat}", f"vgpreload_{tool}-{plat}.so"):
            real = os.path.realpath(inplace / name)
            assert os.path.isfile(real), f"{inplace / name} is dangling"
            assert not real.startswith(str(BUILDDIR) + os.sep), f"{name} comes from the build tree: {real}"


def test_help_lists_memtrack_options(workdir):
    r = helpers.run([VG_IN_PLACE, "--help"], workdir)
    assert r.returncode == 0, r
    text = r.stdout
    m = re.search(r"^\s*user options for Memtrack:\n((?:[ \t]+\S.*\n)+)", text, re.M | re.I)
    assert m, f"no 'user options for Memtrack:' section in --help:\n{text}"
    # Help text wraps onto lines indented to its column: join them.
    section = re.sub(r"\n {37}(?=\S)", " ", m.group(1))
    assert re.search(r"^\s+--show-mismatched-frees=no\|yes\s+.*\[yes\]\s*$", section, re.M), section
    assert re.search(r"^\s+--freed-history=<number>\s+.*\[4096\]\s*$", section, re.M), section


def _make_dir(workdir):
    d = workdir / "listing"
    d.mkdir()
    for i, name in enumerate(["alpha.txt", "beta.bin", "gamma"]):
        p = d / name
        p.write_bytes(b"x" * (10 + 100 * i))
        os.utime(p, (1_600_000_000, 1_600_000_000))
    return d


def test_runs_ls_by_default(workdir):
    """vg-in-place with no --tool runs memtrack, and `ls -l` works under it
    exactly as natively."""
    d = _make_dir(workdir)
    native = helpers.run_native(["/bin/ls", "-l", d], workdir)
    assert native.returncode == 0, native
    r = helpers.run([VG_IN_PLACE, "/bin/ls", "-l", d], workdir)
    assert r.returncode == 0, r
    assert r.stdout == native.stdout
    assert re.search(r"^==\d+== Memtrack\b", r.stderr, re.M), r
    assert re.search(r"^==\d+== Command: /bin/ls -l ", r.stderr, re.M), r
    helpers.parse_summary(r.stderr)
    assert helpers.parse_error_summary(r.stderr)["errors"] == 0, r


def test_runs_ls_with_explicit_tool_and_matches_dhat(workdir):
    d = _make_dir(workdir)
    mt = helpers.run_memtrack([], ["/bin/ls", "-l", d], workdir)
    dh = helpers.run_dhat([], ["/bin/ls", "-l", d], workdir)
    assert mt.returncode == 0, mt
    assert dh.returncode == 0, dh
    assert mt.stdout == dh.stdout
    assert helpers.summary_lines(mt.stderr) == helpers.summary_lines(dh.stderr), (mt, dh)


def test_quiet_prints_nothing(workdir, clients):
    r = helpers.run_memtrack(["-q"], [clients.path("dhat_basic")], workdir)
    assert r.returncode == 0, r
    assert r.stderr == "", r
    assert r.stdout == ""


def test_dist_tarball_holds_every_file_the_suite_needs():
    """`make dist` ships what EXTRA_DIST names: every helper module, script
    and page driver of the suite (not only the test_*.py files, which a
    wildcard takes) must be named there, or the suite of an unpacked
    release (and `make distcheck`) fails to import it."""
    text = (helpers.REPO / "Makefile.am").read_text()
    m = re.search(r"^EXTRA_DIST\s*=(.*?)(?:\n\S|\Z)", text, re.S | re.M)
    assert m, "no EXTRA_DIST in Makefile.am"
    listed = set(m.group(1).replace("\\\n", " ").split())
    tests = helpers.REPO / "tests"
    needed = [p for p in sorted(tests.iterdir())
              if p.is_file() and (p.suffix in (".py", ".js") or p.name.startswith("package"))
              and not p.name.startswith("test_")]
    assert needed, "found no support files in tests/"
    missing = [p.name for p in needed if f"tests/{p.name}" not in listed]
    assert not missing, f"not in Makefile.am's EXTRA_DIST: {missing}"
