"""fork and exec: every process writes its own outputs.

* With %p in the file names, parent and child each write their own profile,
  massif file, summary, XML and log, with that process's own figures (known
  by construction, tests/clients/life_fork.c) and, for the leak report,
  exactly what memcheck says for that process.
* Without %p, a forked child adds ".<pid>" to every memtrack output name and
  says so on its log, so nothing is overwritten.
* exec with --trace-children=yes: the exec'd program is profiled too, and
  its figures are DHAT's for that program run alone; without it only the
  parent is profiled (the exec'd image runs natively, and the image that
  called exec never reaches its exit: Valgrind writes nothing for it, as
  with memcheck and DHAT)."""
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import helpers
import leak_helpers as lh
import profile_helpers as ph

# Not with --log-file=log.%p as well: Valgrind 3.19 then reopens only the log
# in a forked child, whose XML goes on into the parent's file (memcheck's
# too; docs/manual.md says so).
ALL_OUTPUTS = ["--leak-check=full", "--dhat-out-file=prof.%p", "--massif-out-file=ms.%p",
               "--summary-file=sum.%p.json", "--sarif-file=s.%p.sarif", "--xml=yes", "--xml-file=x.%p.xml"]


def _roles(stdout):
    """{'parent': pid, 'child': pid} from the clients' 'role pid' lines."""
    out = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"(parent|child) (\d+)", line.strip())
        if m:
            out[m[1]] = int(m[2])
    return out


def _totals(prof):
    return sum(pp["tb"] for pp in prof["pps"]), sum(pp["tbk"] for pp in prof["pps"])


def _ends(prof):
    return sum(pp["eb"] for pp in prof["pps"]), sum(pp["ebk"] for pp in prof["pps"])


def _log_result(path, argv, stdout, returncode):
    """A helpers.Result whose stderr is a --log-file, for leak_helpers."""
    text = Path(path).read_text(errors="replace")
    # The preamble names the launching process, which differs between runs.
    text = re.sub(r"Parent PID: \d+", "Parent PID: N", text)
    return helpers.Result(argv=argv, returncode=returncode, stdout=stdout, stderr=text)


# life_fork.c's figures: (total bytes, blocks), (bytes, blocks) at exit.
# Each process's first printf also allocates stdout's 4 KiB buffer (stdout
# is a pipe here), which libc's freeres frees at exit.
STDIO = 4096
FORK_FIGURES = {"child": ((1655 + STDIO, 5), (1655, 4)), "parent": ((5544 + STDIO, 4), (5544, 3))}
FORK_LOST = {"child": 1333, "parent": 1000}


def test_fork_with_pid_in_names_each_process_writes_its_own(clients, workdir):
    r = helpers.run_memtrack(ALL_OUTPUTS, [clients.path("life_fork")], workdir)
    assert r.returncode == 0, r
    roles = _roles(r.stdout)
    assert set(roles) == {"parent", "child"}, r.stdout
    for role, pid in roles.items():
        prof = ph.load(workdir / f"prof.{pid}")
        ph.assert_format(prof, f"prof.{pid}")
        assert (_totals(prof), _ends(prof)) == FORK_FIGURES[role], role
        summ = json.loads((workdir / f"sum.{pid}.json").read_text())
        assert summ["leaks"]["definite"]["bytes"] == FORK_LOST[role], (role, summ["leaks"])
        ms = (workdir / f"ms.{pid}").read_text()
        heap = [int(x) for x in re.findall(r"^mem_heap_B=(\d+)$", ms, re.M)]
        # Nothing is freed before exit: the peak is everything allocated.
        assert max(heap) == FORK_FIGURES[role][0][0], (role, heap)
        root = ET.parse(workdir / f"x.{pid}.xml").getroot()
        assert root.findtext("pid") == str(pid)
        lost = sum(int(e.findtext("xwhat/leakedbytes")) for e in root.iter("error")
                   if e.findtext("kind") == "Leak_DefinitelyLost")
        assert lost == FORK_LOST[role], role
        sarif = json.loads((workdir / f"s.{pid}.sarif").read_text())
        lost = [int(re.match(r"([\d,]+) bytes", x["message"]["text"])[1].replace(",", ""))
                for x in sarif["runs"][0]["results"] if x["ruleId"] == "definitely-lost"]
        assert sum(lost) == FORK_LOST[role], (role, lost)


def test_forked_processes_leak_reports_equal_memchecks(clients, workdir):
    """Per process, memtrack's leak report is memcheck's for the same process."""
    exe = clients.path("life_fork")
    mt_dir, mc_dir = workdir / "mt", workdir / "mc"
    mt_dir.mkdir()
    mc_dir.mkdir()
    opts = ["--leak-check=full", "--show-leak-kinds=all", "--log-file=log.%p"]
    mt = helpers.run_memtrack(opts, [exe], mt_dir)
    mc = helpers.run_memcheck(opts, [exe], mc_dir)
    assert mt.returncode == mc.returncode == 0, (mt, mc)
    mt_roles, mc_roles = _roles(mt.stdout), _roles(mc.stdout)
    assert set(mt_roles) == set(mc_roles) == {"parent", "child"}
    for role in ("parent", "child"):
        a = _log_result(mt_dir / f"log.{mt_roles[role]}", mt.argv, "", 0)
        b = _log_result(mc_dir / f"log.{mc_roles[role]}", mc.argv, "", 0)
        lh.assert_same_leak_output(a, b, same_stdout=False)


def test_fork_without_pid_in_names_nothing_is_overwritten(clients, workdir):
    r = helpers.run_memtrack(["--leak-check=full", "--dhat-out-file=prof.json", "--massif-out-file=ms.out",
                              "--summary-file=sum.json", "--sarif-file=leaks.sarif"],
                             [clients.path("life_fork")], workdir)
    assert r.returncode == 0, r
    roles = _roles(r.stdout)
    child = roles["child"]
    # The parent writes the names it was given; the child adds its pid.
    for name in ("prof.json", "ms.out", "sum.json", "leaks.sarif"):
        assert (workdir / name).exists(), name
        assert (workdir / f"{name}.{child}").exists(), name
        assert re.search(rf"^=={child}== --\S+ has no %p: this forked process writes "
                         rf"'{re.escape(str(workdir / name))}.{child}' instead$", r.stderr, re.M), name
    assert (_totals(ph.load(workdir / "prof.json")), _ends(ph.load(workdir / "prof.json"))) == FORK_FIGURES["parent"]
    kid = ph.load(workdir / f"prof.json.{child}")
    assert (_totals(kid), _ends(kid)) == FORK_FIGURES["child"]
    assert json.loads((workdir / f"sum.json.{child}").read_text())["leaks"]["definite"]["bytes"] == 1333
    json.loads((workdir / f"leaks.sarif.{child}").read_text())
    # Only the child says anything about file names.
    assert "this forked process writes" not in "\n".join(
        l for l in r.stderr.splitlines() if l.startswith(f"=={roles['parent']}=="))


def _exec_target(clients):
    return clients.path("dhat_basic")


def test_exec_with_trace_children_profiles_the_new_program(clients, workdir):
    target = _exec_target(clients)
    r = helpers.run_memtrack(["--trace-children=yes", "--dhat-out-file=prof.%p"],
                             [clients.path("life_exec"), target], workdir)
    assert r.returncode == 0, r
    roles = _roles(r.stdout)
    parent = ph.load(workdir / f"prof.{roles['parent']}")
    assert (_totals(parent), _ends(parent)) == ((4096 + STDIO, 2), (4096, 1))
    # The exec'd program (the child's pid) against DHAT on it alone.
    child = ph.checked_profile(workdir / f"prof.{roles['child']}")
    dr, dp = ph.run_dhat([], [target], workdir)
    assert dr.returncode == 0, dr
    dh = ph.load(dp)
    for k in ("tb", "tbk", "eb", "ebk", "gb", "gbk"):
        assert sum(pp[k] for pp in child["pps"]) == sum(pp[k] for pp in dh["pps"]), k
    assert child["cmd"].split()[0] == target
    probs, _ = ph.compare_sites(child, dh)
    assert not probs, probs[:10]


def test_exec_without_trace_children_profiles_only_the_parent(clients, workdir):
    r = helpers.run_memtrack(["--dhat-out-file=prof.%p"], [clients.path("life_exec"), _exec_target(clients)],
                             workdir)
    assert r.returncode == 0, r
    roles = _roles(r.stdout)
    assert sorted(p.name for p in workdir.glob("prof.*")) == [f"prof.{roles['parent']}"]
