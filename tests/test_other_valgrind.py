"""scripts/other-valgrind reads the Debian archive's address from the
system's apt sources (both formats) and changes only the suite; it never
carries an address of its own. The fetching itself is exercised by `make
check-versions`, which builds against what it unpacks."""
import subprocess

import pytest

import helpers

pytestmark = pytest.mark.version_independent

SCRIPT = helpers.REPO / "scripts" / "other-valgrind"


def _archive(etc):
    p = subprocess.run([str(SCRIPT), "--archive"], capture_output=True, text=True,
                       env={**helpers.base_env(), "MEMTRACK_APT_ETC": str(etc)}, timeout=60)
    print(p.stdout, p.stderr)
    return p


def _etc(tmp_path, files):
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (etc / name).write_text(text)
    return etc


SOURCES = {
    # deb822: security suites and deb-src entries are skipped, the first of
    # several URIs is taken.
    "deb822": ("sources.list.d/debian.sources",
               "Types: deb\nURIs: http://mirror.example/sec-archive\nSuites: bookworm-security\n"
               "Components: main\n\n"
               "Types: deb-src\nURIs: http://src.example/src-archive\nSuites: bookworm\nComponents: main\n\n"
               "Types: deb\nURIs: http://mirror.example/main-archive http://other.example/main-archive\n"
               "Suites: bookworm bookworm-updates\nComponents: main\n"),
    # one-line: comments, security and deb-src lines skipped, [options] read past.
    "one-line": ("sources.list",
                 "# a comment\n"
                 "deb http://mirror.example/sec-archive bookworm-security main\n"
                 "deb-src http://src.example/src-archive bookworm main\n"
                 "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/main-archive bookworm main\n"),
}


@pytest.mark.parametrize("form", sorted(SOURCES))
def test_archive_from_the_system_sources(form, tmp_path):
    name, text = SOURCES[form]
    p = _archive(_etc(tmp_path, {name: text}))
    assert p.returncode == 0 and p.stdout == "http://mirror.example/main-archive\n", p


def test_no_sources_is_one_line_and_status_1(tmp_path):
    etc = _etc(tmp_path, {"sources.list": "# nothing\n"})
    p = _archive(etc)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "no Debian archive found" in p.stderr, p


def test_the_script_names_no_archive_host():
    assert "://" not in SCRIPT.read_text(), \
        "scripts/other-valgrind must take the archive from the system's apt sources"


def test_bad_suite_name_is_refused(tmp_path):
    p = subprocess.run([str(SCRIPT), "trixie/../x"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "is not a Debian suite name" in p.stderr, p


def test_runs_for_one_suite_take_turns(tmp_path):
    """Two runs for one suite at once (.ci/run's background `make
    prepare-versions` and check-versions): the second waits for the first
    and finds its source there instead of fetching it again over it. apt is
    a stand-in that takes a second to fetch and counts its fetches."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "fetches"
    (bin_dir / "apt-get").write_text(
        "#!/bin/sh\n"
        "case \" $* \" in\n"
        f"  *' source '*) echo fetch >> '{log}'; sleep 1; mkdir valgrind-9.9.9 ;;\n"
        "esac\n")
    (bin_dir / "apt-cache").write_text("#!/bin/sh\necho 'Version: 1:9.9.9-1'\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    etc = _etc(tmp_path, {"sources.list": "deb http://mirror.example/main-archive bookworm main\n"})
    env = helpers.base_env()
    env.update(MEMTRACK_APT_ETC=str(etc), MEMTRACK_CACHE=str(tmp_path / "cache"),
               PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}")
    runs = [subprocess.Popen([str(SCRIPT), "--source", "fakesuite"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [r.communicate(timeout=60) for r in runs]
    print(outs)
    src = tmp_path / "cache" / "valgrind-fakesuite" / "src"
    assert [r.returncode for r in runs] == [0, 0]
    assert [o.strip().splitlines()[-1] for o, _ in outs] == [str(src)] * 2
    assert log.read_text() == "fetch\n", "both runs fetched the source"
    assert (src / ".version").read_text() == "1:9.9.9-1\n"
