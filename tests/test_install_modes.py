"""The ways memtrack gets installed (issue 16), each into a scratch place in
a temporary directory, never into /usr:

* a user install: the distributed sources (`make distdir`) configured out
  of tree with --prefix=<tmp>/prefix, `make install`, the `memtrack`
  command and the scripts used from there, the man page read, `make
  uninstall` leaving no file;
* a root-style install of the build tree into a DESTDIR: exactly the
  expected files, and `make uninstall` removes them all;
* the Debian package: `dpkg-buildpackage -us -uc -b` on the distributed
  sources, its file list and Depends, and its tool run from the unpacked
  package.

These build memtrack again (tens of seconds each). The Debian test fails,
never skips, when debhelper is missing: scripts/bootstrap --tests installs
it."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import helpers
import leak_helpers
from helpers import BUILDDIR, REPO

BOOTSTRAP_HINT = "run scripts/bootstrap --tests (it installs the test packages)"
SCRIPTS = ("memtrack", "memtrack_print", "memtrack_diff", "memtrack_report", "memtrack_export", "memtrack_merge",
           "cargo-memtrack")
MANS = ("memtrack.1", "memtrack_print.1", "memtrack_diff.1", "memtrack_report.1", "memtrack_export.1",
        "memtrack_merge.1", "cargo-memtrack.1")
DOCS = ("README.md", "manual.md", "design.md", "format.md", "ci.md", "rust.md")
# The scripts' shared library, installed as PKGDATADIR/memtrack_lib (every
# file of its folder in the tree: one Makefile.am forgets is missed here).
LIB = tuple(sorted(p.name for p in (REPO / "scripts" / "memtrack_lib").iterdir() if p.is_file()))
JOBS = str(min(4, os.cpu_count() or 1))


def _version():
    m = re.search(r"^AC_INIT\(\[memtrack\], \[([^]]+)\]", (REPO / "configure.ac").read_text(), re.M)
    assert m, "no AC_INIT([memtrack], [version]) in configure.ac"
    return m.group(1)


def _build_env(extra=None):
    """For builds started from here: nothing of an enclosing make (make
    check's MAKEFLAGS would carry its jobserver and command-line variables
    such as DESTDIR into ours)."""
    env = {"MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": "", "DESTDIR": ""}
    env.update(extra or {})
    return env


def _run_ok(argv, cwd, env=None, timeout=helpers.TIMEOUT):
    r = helpers.run(argv, cwd, env=_build_env(env), timeout=timeout)
    assert r.returncode == 0, r
    return r


def _tree(root):
    """Every file and symlink under root, as paths relative to it."""
    root = Path(root)
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_symlink() or not p.is_dir()}


def _make_vars(names):
    """Variables of the build tree's Makefile, as make expands them."""
    rule = "mt-print-vars:\n" + "".join(f"\t@echo '{n}=$({n})'\n" for n in names)
    r = subprocess.run(["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "mt-print-vars"],
                       cwd=BUILDDIR, input=rule, capture_output=True, text=True,
                       env=helpers.base_env(_build_env()), timeout=helpers.TIMEOUT)
    assert r.returncode == 0, r.stderr
    out = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
    assert set(out) == set(names), r.stdout
    return out


@pytest.fixture(scope="module")
def distsrc(built_tool, tmp_path_factory):
    """The distributed sources (`make distdir` of the build tree), as a
    user unpacks a release: a clean tree, never configured."""
    top = tmp_path_factory.mktemp("dist")
    dest = top / f"memtrack-{_version()}"
    # An absolute distdir breaks automake's subdirectory rule; relative works.
    _run_ok(["make", "-s", "distdir", f"distdir={os.path.relpath(dest, BUILDDIR)}"], BUILDDIR)
    assert (dest / "configure").is_file() and (dest / "debian" / "rules").is_file(), _tree(dest)
    return dest


def _check_leak_run(r, workdir, tooldir):
    """A --leak-check=full run of leak_trivial: its profile and its leaks,
    from the tool in tooldir."""
    assert r.returncode == 0, r
    assert "leak_trivial: done" in r.stdout, r
    assert f"(in {tooldir}/vgpreload_memtrack-" in r.stderr, r
    # DHAT's viewer is Valgrind's own file, wherever memtrack is installed
    # (a user install's tool folder links to it too).
    assert f"file://{helpers.VG_TOOLDIR}/dh_view.html" in r.stderr, r
    assert os.path.exists(f"{helpers.VG_TOOLDIR}/dh_view.html")
    assert helpers.parse_summary(r.stderr)["end_blocks"] == 1000, r  # and stdio's buffer, freed
    leaks = leak_helpers.parse(r.stderr).summary_numbers()
    assert leaks["definitely lost"] == (1000, 1000), leaks
    profs = sorted(Path(workdir).glob("memtrack.out.*"))
    assert len(profs) == 1, profs
    prof = json.loads(profs[0].read_text())
    assert prof["dhatFileVersion"] == 2 and prof["mode"] == "heap", prof.keys()
    assert sum(pp.get("eb", 0) for pp in prof["pps"]) == 1000, prof["pps"]
    return profs[0]


def _check_report(prof, workdir, env, libdir):
    """The installed memtrack_report (first on env's PATH) and memtrack_diff
    work from where they are, with the library in libdir: the page inlines
    that folder's report.css and report.js."""
    page = Path(workdir) / "installed-report.html"
    r = helpers.run(["memtrack_report", prof, "-o", page], workdir, env=env)
    assert r.returncode == 0 and r.stderr == "", r
    text = page.read_text()
    for name in ("report.css", "report.js"):
        assert (Path(libdir) / name).read_text() in text, name
    r = helpers.run(["memtrack_diff", prof, prof, "--max-growth=0%"], workdir, env=env)
    assert r.returncode == 0 and "No site changed." in r.stdout, r
    page.unlink()


# ---------------------------------------------------------------------------
# A Valgrind older than the interface memtrack uses


def test_configure_refuses_a_valgrind_without_the_317_interface(distsrc, workdir):
    """Valgrind 3.16 (Debian 11) has no VG_(track_register_stack), no
    aligned operator new hooks and no VKI_ELOOP: configure says so in one
    line and fails, instead of leaving the compiler to fail on mt_heap.cpp.
    The Valgrind here is made one without them: a copy of its headers with
    the declaration and the define removed, behind a valgrind.pc of its own
    (checked by hand against Debian 11's real 3.16.1 too)."""
    inc = workdir / "include" / "valgrind"
    shutil.copytree(helpers.VALGRIND_INCLUDE, inc)
    iface = inc / "pub_tool_tooliface.h"
    text = iface.read_text()
    decl = re.search(r"^void VG_\(track_register_stack\)[^;]*;\n", text, re.M)
    assert decl, "no VG_(track_register_stack) declaration to remove"
    iface.write_text(text[:decl.start()] + text[decl.end():])
    vki = inc / "vki" / "vki-linux.h"
    text = vki.read_text()
    assert re.search(r"^#define VKI_ELOOP\b", text, re.M), "no VKI_ELOOP to remove"
    vki.write_text(re.sub(r"^#define VKI_ELOOP\b.*\n", "", text, flags=re.M))
    pcdir = workdir / "pc"
    pcdir.mkdir()
    pcfile = Path(subprocess.run(["pkg-config", "--variable=pcfiledir", "valgrind"], capture_output=True,
                                 text=True, env=helpers.base_env(), check=True).stdout.strip()) / "valgrind.pc"
    if helpers.VG_CONF["VG_PREFIX"] != "/usr":  # the build tree's other Valgrind
        pcfile = next(Path(helpers.VG_CONF["VG_PREFIX"]).glob("lib/**/pkgconfig/valgrind.pc"))
    pc = re.sub(r"^includedir=.*$", f"includedir={inc}", pcfile.read_text(), flags=re.M)
    (pcdir / "valgrind.pc").write_text(pc)
    build = workdir / "build"
    build.mkdir()
    r = helpers.run([distsrc / "configure", "-q"], build,
                    env=_build_env({"PKG_CONFIG_PATH": str(pcdir), "PKG_CONFIG_LIBDIR": str(pcdir)}))
    assert r.returncode == 1, r
    errors = [l for l in r.stderr.splitlines() if l.startswith("configure: error:")]
    assert len(errors) == 1 and "lacks VG_(track_register_stack)" in errors[0] \
        and "needs Valgrind 3.18 or newer" in errors[0], r.stderr
    assert not (build / "Makefile").exists()


# ---------------------------------------------------------------------------
# (a) ./configure --prefix=... && make install, without root


def test_user_install_gives_a_working_memtrack_command(distsrc, clients, workdir):
    build, prefix = workdir / "build", workdir / "prefix"
    build.mkdir()
    conf = [distsrc / "configure", "-q", f"--prefix={prefix}"]
    if helpers.VG_CONF["VG_PREFIX"] != "/usr":  # the build tree's other Valgrind
        conf.append(f"--with-valgrind={helpers.VG_CONF['VG_PREFIX']}")
    _run_ok(conf, build)
    _run_ok(["make", "-s", f"-j{JOBS}"], build)
    _run_ok(["make", "-s", "install"], build)

    plat = helpers.platform()
    tooldir = prefix / "libexec" / "memtrack"
    ours = {f"bin/{s}" for s in SCRIPTS} | {f"share/man/man1/{m}" for m in MANS} \
        | {f"share/doc/memtrack/{d}" for d in DOCS} \
        | {f"share/memtrack/memtrack_lib/{n}" for n in LIB} \
        | {f"libexec/memtrack/memtrack-{plat}", f"libexec/memtrack/vgpreload_memtrack-{plat}.so",
           "include/valgrind/memtrack.h", "include/valgrind/valgrind.h"}
    links = {f"libexec/memtrack/{n}" for n in os.listdir(helpers.VG_TOOLDIR) if "memtrack" not in n}
    assert _tree(prefix) == ours | links
    for n in links:
        assert os.readlink(prefix / n) == str(helpers.VG_TOOLDIR / Path(n).name), n
    assert os.readlink(prefix / "include/valgrind/valgrind.h") == str(helpers.VALGRIND_INCLUDE / "valgrind.h")

    # The command on the user's PATH runs the installed tool.
    env = {"PATH": f"{prefix / 'bin'}:{os.environ['PATH']}"}
    r = helpers.run(["memtrack", "--leak-check=full", clients.path("leak_trivial")], workdir, env=env)
    prof = _check_leak_run(r, workdir, tooldir)
    r = helpers.run(["memtrack_print", prof], workdir, env=env)
    assert r.returncode == 0 and "leak_trivial" in r.stdout, r
    _check_report(prof, workdir, env, prefix / "share/memtrack/memtrack_lib")

    # <valgrind/memtrack.h> with -I<prefix>/include: the prefix's copy, and
    # the valgrind.h it includes from beside it (a link to valgrind's).
    src = workdir / "stats.c"
    src.write_text('#include <valgrind/memtrack.h>\n#include <stdio.h>\n#include <stdlib.h>\n'
                   'int main(void) { MemtrackHeapStats st; free(malloc(10));\n'
                   '  int on = MEMTRACK_GET_HEAP_STATS(&st);\n'
                   '  printf("%d %llu\\n", on, (unsigned long long)st.total_blocks); return 0; }\n')
    r = _run_ok(["gcc", "-H", f"-I{prefix}/include", "-o", workdir / "stats", src], workdir)
    used = [l.lstrip(". ") for l in r.stderr.splitlines() if "valgrind/" in l]
    assert used[:2] == [f"{prefix}/include/valgrind/memtrack.h", f"{prefix}/include/valgrind/valgrind.h"], used
    r = helpers.run([prefix / "bin" / "memtrack", "-q", workdir / "stats"], workdir)
    assert r.returncode == 0 and r.stdout.split()[0] == "1", r

    # --tool: memtrack's own is accepted, another refused in one line;
    # after the program name it belongs to the program.
    r = helpers.run([prefix / "bin" / "memtrack", "--tool=memcheck", "/bin/true"], workdir)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr.count("\n") == 1 and "--tool=memcheck" in r.stderr and "valgrind" in r.stderr, r
    r = helpers.run([prefix / "bin" / "memtrack", "-q", "--tool=memtrack", "/bin/echo", "--tool=x"], workdir)
    assert r.returncode == 0 and r.stdout == "--tool=x\n" and r.stderr == "", r

    # The man page, as man reads it.
    r = helpers.run(["man", "-l", prefix / "share/man/man1/memtrack.1"], workdir,
                    env={"MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "80"})
    assert r.returncode == 0, r
    assert "THE MEMTRACK COMMAND" in r.stdout and "valgrind --tool=memtrack" in r.stdout, r
    # `man memtrack` and every script's page by name, with the prefix's
    # man folder on MANPATH as a user of the prefix sets it; the manual
    # beside the other documents.
    for m in MANS:
        name = m[:-2]
        r = helpers.run(["man", name], workdir, env={"MANPATH": str(prefix / "share/man"), "MANPAGER": "cat",
                                                     "PAGER": "cat", "MANWIDTH": "80"})
        assert r.returncode == 0 and r.stdout.lstrip().startswith(name.upper()), r
        assert re.search(rf"^NAME\n\s+{re.escape(name)}\s+-\s+", r.stdout, re.M), r.stdout[:400]
    assert "## 1. Building and installing" in (prefix / "share/doc/memtrack/manual.md").read_text()
    # The installed memtrack_export finds the installed library.
    r = helpers.run(["memtrack_export", "--format=collapsed", "--metric=leaked", prof], workdir, env=env)
    assert r.returncode == 0 and r.stderr == "", r
    assert sum(int(l.rsplit(" ", 1)[1]) for l in r.stdout.splitlines()) == 1000, r

    _run_ok(["make", "-s", "uninstall"], build)
    assert _tree(prefix) == set(), "make uninstall left files behind"


# ---------------------------------------------------------------------------
# (b) make install / make uninstall of the build tree, into a DESTDIR


def test_destdir_install_and_uninstall_list_exactly_our_files(built_tool, workdir):
    """What `make install` puts down for the build tree's configuration
    (plain ./configure, as scripts/bootstrap runs it: beside valgrind's own
    tools, the scripts under /usr/local) and that `make uninstall` takes
    exactly that away again."""
    v = _make_vars(["bindir", "mandir", "docdir", "pkgdatadir", "VG_TOOLDIR", "VG_SYSTOOLDIR", "VG_HEADERDIR",
                    "VG_INCLUDEDIR", "VG_PLATFORM", "VG_BINARY"])
    dest = workdir / "dest"
    _run_ok(["make", "-s", "install", f"DESTDIR={dest}"], BUILDDIR)

    rel = lambda d: d.lstrip("/")
    plat = v["VG_PLATFORM"]
    want = {f"{rel(v['bindir'])}/{s}" for s in SCRIPTS} \
        | {f"{rel(v['mandir'])}/man1/{m}" for m in MANS} \
        | {f"{rel(v['docdir'])}/{d}" for d in DOCS} \
        | {f"{rel(v['pkgdatadir'])}/memtrack_lib/{n}" for n in LIB} \
        | {f"{rel(v['VG_TOOLDIR'])}/memtrack-{plat}", f"{rel(v['VG_TOOLDIR'])}/vgpreload_memtrack-{plat}.so",
           f"{rel(v['VG_HEADERDIR'])}/memtrack.h"}
    beside_valgrind = v["VG_TOOLDIR"] == v["VG_SYSTOOLDIR"]
    if not beside_valgrind:  # a build configured for another prefix (make distcheck's)
        want |= {f"{rel(v['VG_TOOLDIR'])}/{n}" for n in os.listdir(v["VG_SYSTOOLDIR"]) if "memtrack" not in n}
    if v["VG_HEADERDIR"] != v["VG_INCLUDEDIR"]:
        want.add(f"{rel(v['VG_HEADERDIR'])}/valgrind.h")
    assert _tree(dest) == want

    for n in _tree(dest):
        p = dest / n
        if p.is_symlink():  # links point at the real system, never into DESTDIR
            assert not os.readlink(p).startswith(str(dest)), n
    for s in SCRIPTS:
        assert os.access(dest / rel(v["bindir"]) / s, os.X_OK), s
    # cargo memtrack finds the Rust suppressions it applies by default.
    r = helpers.run(["/usr/bin/python3", "-c", "import importlib.machinery, sys; "
                     "m = importlib.machinery.SourceFileLoader('cm', sys.argv[1]).load_module(); "
                     "print(m.lib_file('rust.supp'))", dest / rel(v["bindir"]) / "cargo-memtrack"], workdir)
    assert r.returncode == 0, r
    assert Path(r.stdout.strip()) == dest / rel(v["pkgdatadir"]) / "memtrack_lib" / "rust.supp", r
    assert Path(r.stdout.strip()).is_file()
    launcher = (dest / rel(v["bindir"]) / "memtrack").read_text()
    assert f"valgrind='{v['VG_BINARY']}'" in launcher
    assert f"libdir='{v['VG_TOOLDIR']}'" in launcher and str(dest) not in launcher
    if beside_valgrind:
        assert sorted(os.listdir(dest / rel(v["VG_TOOLDIR"]))) == sorted(
            [f"memtrack-{plat}", f"vgpreload_memtrack-{plat}.so"])

    _run_ok(["make", "-s", "uninstall", f"DESTDIR={dest}"], BUILDDIR)
    assert _tree(dest) == set(), "make uninstall left files behind"


# ---------------------------------------------------------------------------
# (c) the Debian package


def test_debian_changelog_version_is_configure_version():
    head = (REPO / "debian" / "changelog").read_text().splitlines()[0]
    m = re.match(r"^memtrack \(([^)]+)\) ", head)
    assert m, head
    assert re.fullmatch(re.escape(_version()) + r"-\d+", m.group(1)), \
        f"debian/changelog says {m.group(1)}, configure.ac's AC_INIT {_version()} (want {_version()}-1)"


def _require_debhelper():
    missing = [p for p in ("dpkg-buildpackage", "dh", "dh_autoreconf", "dpkg-deb") if shutil.which(p) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed (Debian packages debhelper, dpkg-dev); {BOOTSTRAP_HINT}",
                    pytrace=False)


def test_missing_debhelper_fails_with_bootstrap_hint(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None if name.startswith("dh") else f"/usr/bin/{name}")
    with pytest.raises(pytest.fail.Exception) as e:
        _require_debhelper()
    assert "dh, dh_autoreconf not installed" in str(e.value) and "scripts/bootstrap --tests" in str(e.value)


def _system_valgrind():
    """Debian's valgrind, the one dpkg-buildpackage builds against:
    (version from valgrind.pc, epoch from dpkg)."""
    p = subprocess.run(["pkg-config", "--modversion", "valgrind"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k != "PKG_CONFIG_PATH"})
    assert p.returncode == 0, p.stderr
    q = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "valgrind"], capture_output=True, text=True)
    assert q.returncode == 0, f"the Debian package valgrind is not installed: {q.stderr}"
    epoch = re.match(r"^(\d+:)?", q.stdout).group(0)
    return p.stdout.strip(), epoch


@pytest.mark.version_independent  # dpkg-buildpackage builds against the system's Valgrind
def test_debian_package_builds_installs_our_files_and_runs(distsrc, clients, workdir):
    _require_debhelper()
    version = _version()
    top = workdir / "pkg"
    src = top / f"memtrack-{version}"
    shutil.copytree(distsrc, src, symlinks=True)
    _run_ok(["dpkg-buildpackage", "-us", "-uc", "-b", f"-j{JOBS}"], src)
    debs = sorted(top.glob("*.deb"))
    assert [d.name for d in debs] == [f"memtrack_{version}-1_amd64.deb"], debs
    deb = debs[0]

    vg_version, epoch = _system_valgrind()
    major, minor, patch = (int(x) for x in vg_version.split(".")[:3])
    r = _run_ok(["dpkg-deb", "-f", deb, "Depends"], workdir)
    depends = [d.strip() for d in r.stdout.strip().split(",")]
    assert f"valgrind (>= {epoch}{vg_version})" in depends, depends
    assert f"valgrind (<< {epoch}{major}.{minor}.{patch + 1}~)" in depends, depends

    root = workdir / "root"
    _run_ok(["dpkg-deb", "-x", deb, root], workdir)
    files = {re.sub(r"\.gz$", "", n) for n in _tree(root)}
    assert files == ({f"usr/bin/{s}" for s in SCRIPTS}
                     | {f"usr/share/man/man1/{m}" for m in MANS}
                     | {f"usr/share/doc/memtrack/{d}" for d in (*DOCS, "copyright", "changelog.Debian")}
                     | {f"usr/share/memtrack/memtrack_lib/{n}" for n in LIB}
                     | {"usr/include/valgrind/memtrack.h",
                        "usr/libexec/valgrind/memtrack-amd64-linux",
                        "usr/libexec/valgrind/vgpreload_memtrack-amd64-linux.so"})
    launcher = (root / "usr/bin/memtrack").read_text()
    assert "valgrind='/usr/bin/valgrind'" in launcher and "libdir='/usr/libexec/valgrind'" in launcher

    # The unpacked tool with the system's Valgrind, as vg-in-place runs a build.
    systools = Path("/usr/libexec/valgrind")
    lib = workdir / "vglib"
    lib.mkdir()
    for n in os.listdir(systools):
        if "memtrack" not in n:
            os.symlink(systools / n, lib / n)
    for n in ("memtrack-amd64-linux", "vgpreload_memtrack-amd64-linux.so"):
        os.symlink(root / "usr/libexec/valgrind" / n, lib / n)
    run_dir = workdir / "run"
    run_dir.mkdir()
    r = helpers.run(["/usr/bin/valgrind", "--tool=memtrack", "--leak-check=full", clients.path("leak_trivial")],
                    run_dir, env={"VALGRIND_LIB": str(lib)})
    # The tool names dh_view.html where the package puts it (Valgrind's folder).
    assert "file:///usr/libexec/valgrind/dh_view.html" in r.stderr, r
    # The preload is the package's (Valgrind names a mapped file by its real path).
    assert f"(in {root}/usr/libexec/valgrind/vgpreload_memtrack-amd64-linux.so)" in r.stderr, r
    assert helpers.parse_summary(r.stderr)["end_blocks"] == 1000, r
    assert leak_helpers.parse(r.stderr).summary_numbers()["definitely lost"] == (1000, 1000), r
    profs = sorted(run_dir.glob("memtrack.out.*"))
    assert len(profs) == 1, profs
    r = helpers.run([root / "usr/bin/memtrack_print", profs[0]], run_dir)
    assert r.returncode == 0 and "leak_trivial" in r.stdout, r
    _check_report(profs[0], run_dir, {"PATH": f"{root / 'usr/bin'}:{os.environ['PATH']}"},
                  root / "usr/share/memtrack/memtrack_lib")
