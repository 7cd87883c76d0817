"""What a user reads first (issue 19, "Messages and docs"): the list of
files the run ends with and the commands that read them (run here as
printed), --help within 80 columns with memtrack's bug-report address, a
misspelt option's "did you mean" (the unknown-option lines memcheck
prints, compared with memcheck's own), the man pages (every option of
--help its own entry, rendered by man without a warning, SEE ALSO naming
every script) and memtrack_report taking memtrack_print's --sort names."""
import json
import re
import shlex
import subprocess

import pytest

import helpers

PYTHON = "/usr/bin/python3"
SCRIPTS_DIR = helpers.REPO / "scripts"
DOCS = helpers.REPO / "docs"


def _bug_address():
    m = re.search(r"^AC_INIT\(\[memtrack\], \[[^]]*\], \[([^]]*)\]", (helpers.REPO / "configure.ac").read_text(),
                  re.M)
    assert m and "@" in m[1], "configure.ac's AC_INIT has no bug-report address"
    return m[1]


def _run_printed(cmdline, cwd):
    """A command line as the run printed it, with the script from the
    source tree."""
    argv = shlex.split(cmdline)
    assert argv[0] in ("memtrack_print", "memtrack_report"), cmdline
    return helpers.run([PYTHON, SCRIPTS_DIR / argv[0], *argv[1:]], cwd)


# ---------------------------------------------------------------------------
# The end of a run


def _files_block(stderr):
    """The block from 'Files written:' to its end, as lines, and what follows it."""
    lines = helpers.client_lines(stderr)
    assert lines.count("Files written:") == 1, stderr[-3000:]
    i = lines.index("Files written:")
    assert lines[i - 1] == "", lines[i - 3:i + 1]
    end = i + 1
    while end < len(lines) and lines[end] and not lines[end].startswith(("ERROR SUMMARY", "For lists of")):
        end += 1
    return lines[:i], lines[i:end], lines[end:]


def test_end_of_run_names_every_file_and_how_to_read_it(clients, workdir):
    """Profile, massif file, summary and SARIF, each with what it holds, the
    memtrack_print and memtrack_report commands for the profile and the
    massif file (which work as printed, a name with a space quoted), then
    DHAT's viewer's steps; last, after the leak report."""
    opts = ["--leak-check=full", "--dhat-out-file=run one.json", "--massif-out-file=heap.massif",
            "--summary-file=summary.json", "--sarif-file=leaks.sarif"]
    r = helpers.run_memtrack(opts, [clients.path("peak")], workdir)
    assert r.returncode == 0, r
    before, block, after = _files_block(r.stderr)
    assert "LEAK SUMMARY:" in before and "HEAP SUMMARY:" in before
    assert after and after[0].startswith(("ERROR SUMMARY", "For lists of")), after
    prof, massif = workdir / "run one.json", workdir / "heap.massif"
    listed = [re.split(r"\s{2,}", l.strip(), maxsplit=1) for l in block[1:5]]
    assert listed == [["heap profile (DHAT format)", str(prof)],
                      ["heap over time (massif format)", str(massif)],
                      ["summary (JSON)", str(workdir / "summary.json")],
                      ["leaks and limit breaches (SARIF)", str(workdir / "leaks.sarif")]], block
    for _, path in listed:
        assert (workdir / path).is_file(), path
    assert block[5] == "To read the profile as a text report:"
    q = shlex.quote
    assert block[6] == f"  memtrack_print {q(str(prof))} --massif={q(str(massif))}", block
    assert block[7].startswith("or as an HTML page")
    assert block[8] == f"  memtrack_report {q(str(prof))} --massif={q(str(massif))} -o report.html", block
    assert block[9:] == ["To view it in DHAT's viewer instead, open",
                         f"  file://{helpers.VG_TOOLDIR}/dh_view.html",
                         'in a web browser, click on "Load...", and then select the file',
                         f"  {prof}",
                         "The text at the bottom explains the abbreviations used in the output."], block
    # The commands, as printed.
    p = _run_printed(block[6].strip(), workdir)
    assert p.returncode == 0 and "Heap over time" in p.stdout and "get (peak.c:" in p.stdout, p
    p = _run_printed(block[8].strip(), workdir)
    assert p.returncode == 0 and p.stderr == "", p
    assert "peak.c" in (workdir / "report.html").read_text()


def test_end_of_run_without_massif_file_and_when_the_profile_fails(clients, workdir):
    r = helpers.run_memtrack(["--dhat-out-file=p.json"], [clients.path("peak")], workdir)
    _, block, _ = _files_block(r.stderr)
    assert block[1].split() == ["heap", "profile", "(DHAT", "format)", str(workdir / "p.json")], block
    assert block[3] == f"  memtrack_print {workdir / 'p.json'}" and "--massif" not in block[5], block
    # A profile that cannot be written at exit (one that cannot be created
    # stops the run before the program: test_output_paths.py): the massif
    # file alone, no command for a profile that is not there.
    r = helpers.run_memtrack(["--dhat-out-file=/dev/full", "--massif-out-file=m.massif"],
                             [clients.path("peak")], workdir)
    _, block, _ = _files_block(r.stderr)
    assert block == ["Files written:", f"  {'heap over time (massif format)':<33} {workdir / 'm.massif'}"], block
    assert "error: writing memtrack profile file '/dev/full' failed" in r.stderr
    # -q: nothing.
    r = helpers.run_memtrack(["-q", "--dhat-out-file=q.json"], [clients.path("peak")], workdir)
    assert r.stderr == "", r


# ---------------------------------------------------------------------------
# --help and unknown options


def _help():
    r = helpers.run_memtrack(["--help"], [], ".")
    assert r.returncode == 0, r
    return r.stdout


def test_help_fits_80_columns_and_gives_memtracks_bug_address():
    text = _help()
    ours = text.split("user options for Memtrack:", 1)[1].split("Extra options read from", 1)[0]
    long_lines = [l for l in ours.splitlines() if len(l.expandtabs()) > 80]
    assert not long_lines, long_lines
    address = _bug_address()
    assert f"Report memtrack's bugs to {address}" in " ".join(ours.split()), ours[-600:]
    # Valgrind's line names Valgrind's address (the core prints it), which
    # is not ours.
    assert address not in text.split("Extra options read from", 1)[1]
    r = helpers.run_memtrack(["--help-debug"], [], ".")
    debug = r.stdout.split("debugging options for Memtrack:", 1)[1]
    assert "--arena-model-check=no|yes" in debug
    assert not [l for l in debug.splitlines() if len(l) > 80], debug


def test_help_lists_each_option_with_its_default_on_its_lines():
    """Wrapped help keeps each option's text together: the lines from one
    '--option=' to the next hold its default in brackets."""
    ours = _help().split("user options for Memtrack:", 1)[1].split("memcheck's options for checks", 1)[0]
    entries = re.split(r"\n(?=    --)", ours.strip("\n"))
    assert len(entries) >= 30, entries
    for e in entries:
        assert re.match(r"^    --[a-z0-9-]+=\S+", e), e
        assert all(l.startswith(" " * 37) for l in e.splitlines()[1:] if l.strip() and not l.startswith("    --")), e
    joined = {e.split("=", 1)[0].strip(): " ".join(e.split()) for e in entries}
    assert joined["--freed-history"].endswith("[4096]"), joined["--freed-history"]
    assert joined["--show-mismatched-frees"].endswith("[yes]")


MISSPELT = [
    ("--leak-chek=full", "--leak-check"),
    ("--leak_check=full", "--leak-check"),
    ("--dhat-out-fil=x.json", "--dhat-out-file"),
    ("--massif-outfile=m", "--massif-out-file"),
    ("--show-leak-kind=all", "--show-leak-kinds"),
    ("--peak-limt=10M", "--peak-limit"),
    ("--freed-historyy=3", "--freed-history"),
    ("--error-exitcod=3", "--error-exitcode"),   # the core's, handed to the tool
    ("--track-origin=yes", "--track-origins"),   # memcheck's, taken by memtrack
    ("--sumary-file=s.json", "--summary-file"),
]


@pytest.mark.parametrize("opt,meant", MISSPELT, ids=[o for o, _ in MISSPELT])
def test_misspelt_option_says_what_was_meant(opt, meant, workdir):
    r = helpers.run_memtrack([opt], ["/usr/bin/touch", "marker"], workdir)
    assert r.returncode == 1 and r.stdout == "", r
    assert r.stderr.splitlines() == [f"valgrind: Unknown option: {opt}: did you mean {meant}?",
                                     "valgrind: Use --help for more information or consult the user manual."], r
    assert not (workdir / "marker").exists()


@pytest.mark.parametrize("opt", ["--bogus", "--bogus=3", "--show-mismatched-frees-now=yes", "-z"])
def test_unknown_option_lines_are_memchecks(opt, workdir):
    """An option nothing is near: memcheck's two lines, word for word."""
    mt = helpers.run_memtrack([opt], ["/usr/bin/touch", "marker"], workdir)
    mc = helpers.run_memcheck([opt], ["/usr/bin/touch", "marker"], workdir)
    assert mc.returncode == 1 and mt.returncode == 1, (mt, mc)
    assert mt.stderr == mc.stderr, (mt, mc)
    assert mt.stderr.count("\n") == 2
    assert not (workdir / "marker").exists()


# ---------------------------------------------------------------------------
# Man pages


def _man_pages():
    text = (helpers.REPO / "Makefile.am").read_text()
    return sorted(set(re.findall(r"docs/(\w+\.1)", " ".join(re.findall(r"^dist_man_MANS \+?= (.*)$", text, re.M)))))


def _scripts():
    text = (helpers.REPO / "Makefile.am").read_text()
    names = re.findall(r"scripts/(memtrack\w*)", " ".join(re.findall(r"^dist_bin_SCRIPTS \+?= (.*)$", text, re.M)))
    return sorted(set(names))


def test_every_help_option_is_its_own_man_entry():
    """memtrack.1's OPTIONS: each option of --help starts a .TP entry of its
    own (the line after .TP), and each entry is an option --help has."""
    listed = re.findall(r"^    --([a-z0-9-]+)=", _help().split("user options for Memtrack:", 1)[1], re.M)
    man = (DOCS / "memtrack.1").read_text()
    opts = man.split("\n.SH OPTIONS\n", 1)[1].split("\n.SH ", 1)[0].splitlines()
    entries = []
    for i, l in enumerate(opts):
        if l == ".TP":
            tag = opts[i + 1]
            m = re.match(r"^\.BR? \\-\\-([a-z0-9\\-]+)=", tag)
            assert m, f"a .TP entry whose tag is not one option: {tag!r}"
            assert tag.count("\\-\\-") == 1, f"more than one option in one entry: {tag!r}"
            entries.append(m[1].replace("\\-", "-"))
    assert len(entries) == len(set(entries)), entries
    # (memcheck's --show-realloc-size-zero, and so memtrack's, exists from
    # Valgrind 3.21 on; the page documents it for every version.)
    extra = {"show-realloc-size-zero"} if helpers.VG_VERSION < (3, 21) else set()
    assert set(entries) - set(listed) == extra and set(listed) <= set(entries), \
        (set(entries) ^ set(listed))
    # No entry runs into the next: every '.BR \-\-x=' tag line starts an entry.
    for i, l in enumerate(opts):
        if re.match(r"^\.BR \\-\\-[a-z\\-]+= ", l):
            assert opts[i - 1] == ".TP", (opts[i - 1], l)


@pytest.mark.parametrize("page", _man_pages())
def test_man_page_renders_without_warnings(page, workdir):
    path = DOCS / page
    p = subprocess.run(f"man --warnings -l {shlex.quote(str(path))} 2>&1 >/dev/null", shell=True, cwd=workdir,
                       capture_output=True, text=True, env=helpers.base_env({"MANWIDTH": "80"}))
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p
    p = subprocess.run(["man", "-l", str(path)], capture_output=True, text=True, cwd=workdir,
                       env=helpers.base_env({"MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"}))
    assert p.returncode == 0, p
    name = page[:-2]
    assert re.search(rf"^NAME\n\s+{re.escape(name)}\s+-\s+\S", p.stdout, re.M), p.stdout[:300]
    see = p.stdout.split("SEE ALSO", 1)[1]
    others = [s for s in _scripts() if s != name]
    missing = [s for s in others if f"{s}(1)" not in see.replace("\u2010", "-").replace("\n", " ")]
    assert not missing, f"{page}'s SEE ALSO does not name {missing}"


def test_memtrack_name_says_what_it_does():
    name = (DOCS / "memtrack.1").read_text().split(".SH NAME\n", 1)[1].split("\n", 1)[0]
    for word in ("heap profile", "leak", "heap over time", "Valgrind"):
        assert word in name, name


def test_every_script_and_man_page_is_installed():
    """Each script has its man page, both in Makefile.am's install lists."""
    assert _scripts() == ["memtrack_diff", "memtrack_export", "memtrack_merge", "memtrack_print", "memtrack_report"]
    assert _man_pages() == ["memtrack.1"] + [f"{s}.1" for s in _scripts()]


# ---------------------------------------------------------------------------
# memtrack_report --sort takes memtrack_print's names

PRINT_SORTS = {
    "total": lambda pp: pp["tb"], "total-blocks": lambda pp: pp["tbk"], "blocks": lambda pp: pp["tbk"],
    "peak": lambda pp: pp["gb"], "t-gmax": lambda pp: pp["gb"], "peak-blocks": lambda pp: pp["gbk"],
    "max": lambda pp: pp["mb"], "end": lambda pp: pp["eb"], "t-end": lambda pp: pp["eb"],
    "end-blocks": lambda pp: pp["ebk"], "reads": lambda pp: pp["rb"], "writes": lambda pp: pp["wb"],
    "reads-per-byte": lambda pp: pp["rb"] / pp["tb"] if pp["tb"] else 0.0,
    "writes-per-byte": lambda pp: pp["wb"] / pp["tb"] if pp["tb"] else 0.0,
    "lifetime": lambda pp: pp["tl"] / pp["tbk"] if pp["tbk"] else 0.0,
    "avg-size": lambda pp: pp["tb"] / pp["tbk"] if pp["tbk"] else 0.0,
    "leaked": lambda pp: pp["ldb"] + pp["lib"],
}


@pytest.fixture(scope="module")
def sort_profile(clients, tmp_path_factory):
    d = tmp_path_factory.mktemp("sorts")
    prof = d / "p.json"
    r = helpers.run_memtrack([f"--dhat-out-file={prof}", "--leak-check=full"], [clients.path("export_app")], d)
    assert r.returncode == 0, r
    return prof


def test_print_sort_names_are_listed_in_its_help(workdir):
    """The names above are memtrack_print's (its --help lists them)."""
    r = helpers.run([PYTHON, SCRIPTS_DIR / "memtrack_print", "--help"], workdir)
    for name in PRINT_SORTS:
        if name not in ("blocks", "t-gmax", "t-end"):
            assert re.search(rf"^\s+{re.escape(name)}\s", r.stdout, re.M), name


@pytest.mark.parametrize("name", list(PRINT_SORTS))
def test_report_sorts_by_every_print_metric(name, sort_profile, workdir):
    doc = json.loads(sort_profile.read_text())
    page = workdir / "r.html"
    r = helpers.run([PYTHON, SCRIPTS_DIR / "memtrack_report", sort_profile, f"--sort={name}", "--top=0",
                     "-o", page], workdir)
    assert r.returncode == 0 and r.stderr == "", r
    text = page.read_text()
    table = text.split('id="top-table"', 1)[1].split("</table>", 1)[0]
    rows = [int(x) for x in re.findall(r'<tr data-site="(\d+)">', table)]
    f = PRINT_SORTS[name]
    pps = doc["pps"]
    assert rows == sorted(range(len(pps)), key=lambda i: (-f(pps[i]), -pps[i]["tb"], i)), name
    # memtrack_print takes the same name.
    p = helpers.run([PYTHON, SCRIPTS_DIR / "memtrack_print", "--format=json", f"--sort={name}", sort_profile],
                    workdir)
    assert p.returncode == 0, p
