"""The manual's ten-minute tutorial and the README's lead quote real output
of docs/examples/orders.cpp. This runs the program under memtrack and under
the real tools (DHAT for the Total/t-gmax/t-end lines, memcheck for the
LEAK SUMMARY) and checks that every quoted line is still what memtrack
prints and that memtrack's figures are the oracles'. A quoted line that no
longer matches means the tutorial needs new output, not a looser test."""
import re
import subprocess

import pytest

import helpers
import leak_helpers
import profile_helpers as ph

SRC = helpers.REPO / "docs" / "examples" / "orders.cpp"
MANUAL = helpers.REPO / "docs" / "manual.md"
README = helpers.REPO / "README.md"
SUMMARY_LINE = re.compile(r"^(Total|At t-gmax|At t-end): +[\d,]+ bytes in [\d,]+ blocks$")


@pytest.fixture(scope="module")
def orders(tmp_path_factory):
    d = tmp_path_factory.mktemp("tutorial")
    exe = d / "orders"
    p = subprocess.run(["g++", "-g", "-O0", "-o", str(exe), str(SRC)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return d, exe


def _tutorial():
    text = MANUAL.read_text()
    start = text.index("## Ten minutes with memtrack")
    return text[start:text.index("\n## 1. ", start)]


def _quoted(text, rx, valgrind_only=False):
    """Lines of the text's code blocks matching rx, ==PID== prefix removed
    (with valgrind_only, only the lines that had one: Valgrind's log, not a
    script's output)."""
    out = []
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        for l in block.splitlines():
            had = re.match(r"^==\d+== ?", l)
            l = re.sub(r"^==\d+== ?", "", l).strip()
            if rx.match(l) and (had or not valgrind_only):
                out.append(l)
    return out


def test_summary_lines_are_dhats(orders, workdir):
    d, exe = orders
    r = helpers.run_memtrack(["--leak-check=full"], [exe], workdir)
    dh, _ = ph.run_dhat([], [exe], workdir)
    assert r.returncode == 0 and dh.returncode == 0, (r, dh)
    mine = [l for l in helpers.client_lines(r.stderr) if SUMMARY_LINE.match(l)]
    theirs = [l for l in helpers.client_lines(dh.stderr) if SUMMARY_LINE.match(l)]
    assert [re.sub(r" +", " ", l) for l in mine] == [re.sub(r" +", " ", l) for l in theirs]
    quoted = _quoted(_tutorial(), SUMMARY_LINE, valgrind_only=True)
    assert quoted == mine, "the tutorial's summary lines are not what memtrack prints"
    # The README's lead quotes the same run (its Example section another).
    assert _quoted(README.read_text(), SUMMARY_LINE)[:3] == mine, "the README's summary lines"


def test_leaks_are_memchecks(orders, workdir):
    d, exe = orders
    r, mc = leak_helpers.run_pair(["--leak-check=full"], [exe], workdir)
    mt_out, mc_out = leak_helpers.parse(r.stderr), leak_helpers.parse(mc.stderr)
    assert mt_out.leak_summary == mc_out.leak_summary
    assert [x.headline for x in mt_out.exit_records] == [x.headline for x in mc_out.exit_records]
    tut = _tutorial()
    for line in mc_out.leak_summary[1:3] + [x.headline for x in mc_out.exit_records]:
        assert line.strip() in tut, line
    nums = mc_out.summary_numbers()
    assert nums["definitely lost"] == (1048, 2) and nums["indirectly lost"] == (117, 2)


def test_gates_say_what_the_tutorial_says(orders, workdir):
    d, exe = orders
    _, mc = leak_helpers.run_pair(["--leak-check=full"], [exe], workdir)
    nums = leak_helpers.parse(mc.stderr).summary_numbers()
    definite, indirect = nums["definitely lost"][0], nums["indirectly lost"][0]
    r = helpers.run_memtrack(["--leak-limit=1K", "--error-exitcode=1", "--dhat-out-file=v3.json"], [exe], workdir)
    assert r.returncode == 1, r
    [gate] = [l for l in helpers.client_lines(r.stderr) if l.startswith("Leak limit")]
    assert gate.startswith(f"Leak limit of 1,024 bytes exceeded: {definite + indirect:,} bytes lost "
                           f"({definite:,} definitely, {indirect:,} indirectly); "), gate
    assert gate in _tutorial()
    # The diff gate against a run without the leaks: a fixed copy.
    fixed = workdir / "orders2.cpp"
    fixed.write_text(SRC.read_text().replace("  return sum == 0;", "  free_order(lost);\n  free(scratch);\n"
                                                                  "  return sum == 0;"))
    p = subprocess.run(["g++", "-g", "-O0", "-o", str(workdir / "orders2"), str(fixed)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    r2 = helpers.run_memtrack(["--dhat-out-file=v2.json"], [workdir / "orders2"], workdir)
    assert "All heap blocks were freed -- no leaks are possible" in r2.stderr, r2
    diff = helpers.run(["/usr/bin/python3", helpers.REPO / "scripts" / "memtrack_diff", "--max-new-leaks=0",
                        "v2.json", "v3.json"], workdir)
    assert diff.returncode == 1, diff
    [line] = diff.stderr.splitlines()
    assert line in _tutorial(), line
    assert f"new leaks: {definite + indirect:,} bytes lost ({definite:,} definitely, {indirect:,} indirectly)" in line
