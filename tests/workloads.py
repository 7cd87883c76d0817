"""Real programs nobody here wrote, with generated inputs, shared by the test
suite (small scale) and bench/run (large scale).

Each workload is a dict: name, argv, env (extra variables, or a ClientEnv:
the whole environment), stdin (path or None). Inputs are generated
deterministically from a seed, so a workload is the same on every machine
and every run.
"""
import os
import random

REAL_PROGRAMS = ("sqlite3", "python3", "xz", "jq")


class ClientEnv(dict):
    """A workload environment that replaces the caller's instead of adding
    to it, for a program whose heap depends on its environment's contents:
    the tests' helpers.base_env() then adds only what the launcher needs."""


def _words(rng, n):
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(3, 12))) for _ in range(n)]


def sqlite3(workdir, scale=1):
    rng = random.Random(1)
    rows = 400 * scale
    path = os.path.join(workdir, f"sqlite-{scale}.sql")
    with open(path, "w") as f:
        f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, v REAL);\n")
        f.write("BEGIN;\n")
        words = _words(rng, 200)
        for i in range(rows):
            f.write(f"INSERT INTO t(name, grp, v) VALUES('{rng.choice(words)}-{i}', {rng.randint(0, 50)}, {rng.random():.6f});\n")
        f.write("COMMIT;\n")
        f.write("CREATE INDEX t_name ON t(name);\n")
        f.write("SELECT grp, count(*), sum(v) FROM t GROUP BY grp ORDER BY grp;\n")
        f.write("SELECT name FROM t WHERE name LIKE 'a%' ORDER BY v DESC LIMIT 20;\n")
        f.write("UPDATE t SET v = v * 2 WHERE grp % 3 = 0;\n")
        f.write("DELETE FROM t WHERE grp = 7;\n")
        f.write("SELECT count(*), group_concat(name, ',') FROM (SELECT name FROM t ORDER BY name LIMIT 200);\n")
    return {"name": "sqlite3", "argv": ["/usr/bin/sqlite3", ":memory:"], "env": {}, "stdin": path}


def python3(workdir, scale=1):
    path = os.path.join(workdir, f"py-{scale}.py")
    n = 3000 * scale
    with open(path, "w") as f:
        f.write(f"""
import random
rng = random.Random(2)
d = {{}}
for i in range({n}):
    d["k%d" % i] = [rng.random() for _ in range(i % 7)]
s = sorted(d.items(), key=lambda kv: sum(kv[1]))
words = " ".join(k for k, _ in s[:500]).split()
counts = {{}}
for w in words:
    counts[w[:3]] = counts.get(w[:3], 0) + 1
del d
class Node:
    __slots__ = ("v", "next")
    def __init__(self, v, nxt):
        self.v = v
        self.next = nxt
head = None
for i in range({n}):
    head = Node(i, head)
total = 0
while head is not None:
    total += head.v
    head = head.next
print(len(s), len(counts), total)
""")
    return {"name": "python3", "argv": ["/usr/bin/python3", "-S", path],
            "env": {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}, "stdin": None}


def xz(workdir, scale=1):
    rng = random.Random(3)
    path = os.path.join(workdir, f"xz-{scale}.bin")
    if not os.path.exists(path):
        words = _words(rng, 500)
        with open(path, "w") as f:
            for _ in range(4000 * scale):
                f.write(" ".join(rng.choice(words) for _ in range(8)) + "\n")
    return {"name": "xz", "argv": ["/usr/bin/xz", "-6", "-T1", "-c", path], "env": {}, "stdin": None}


def jq(workdir, scale=1):
    rng = random.Random(4)
    path = os.path.join(workdir, f"jq-{scale}.json")
    if not os.path.exists(path):
        words = _words(rng, 300)
        items = []
        for i in range(800 * scale):
            tags = ", ".join('"%s"' % rng.choice(words) for _ in range(rng.randint(0, 5)))
            items.append('{"id": %d, "name": "%s", "v": %d, "tags": [%s]}' % (i, rng.choice(words), rng.randint(0, 100), tags))
        with open(path, "w") as f:
            f.write("[" + ",\n".join(items) + "]\n")
    prog = "[.[] | select(.v > 20) | {k: .name, n: (.tags | length)}] | group_by(.k) | map({k: .[0].k, c: length}) | length"
    return {"name": "jq", "argv": ["/usr/bin/jq", prog, path], "env": {}, "stdin": None}


ALL = {"sqlite3": sqlite3, "python3": python3, "xz": xz, "jq": jq}


def make(name, workdir, scale=1):
    os.makedirs(workdir, exist_ok=True)
    return ALL[name](workdir, scale)


# More programs from Debian's essential and required packages, for the
# tests only (one small size), chosen for what their heaps hold at exit
# (test_leak_programs.py) as much as for their allocation patterns.
# perl's hash seed is fixed: with a random one its heap differs from run to
# run, under any tool.
EXTRA_PROGRAMS = ("perl", "mawk", "tar", "bash", "groff", "sed", "grep", "sort", "find")


def groff_env(pad=0):
    """groff's whole environment; pad > 0 adds a folder of that many
    characters to PATH (test_leak_programs.py varies PATH's length)."""
    return ClientEnv(GROFF_BIN_PATH="groff-bin", PATH="/usr/bin:/bin" + (":/" + "x" * pad if pad else ""))


def extra(name, workdir):
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "numbers"), "w") as f:
        f.write("".join(f"{i}\n" for i in range(1, 2001)))
    for d in ("a", os.path.join("b", "c")):
        os.makedirs(os.path.join(workdir, "tree", d), exist_ok=True)
        for i in range(3):
            with open(os.path.join(workdir, "tree", d, f"f{i}"), "w") as f:
                f.write(f"file {i} in {d}\n" * (i + 1))
    os.makedirs(os.path.join(workdir, "groff-bin"), exist_ok=True)
    for prog in ("troff", "grops"):
        path = os.path.join(workdir, "groff-bin", prog)
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, 0o755)
    argv, env = {
        "perl": (["/usr/bin/perl", "-e", 'my %h; $h{$_} = [$_] for 1 .. 2000; print scalar(keys %h), "\n"'],
                 {"PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}),
        "mawk": (["/usr/bin/mawk", "{ s += $1; a[$1] = $1 } END { print s, length(a) }", "numbers"], {}),
        # Old-style options ("cf"): tar rewrites them into an argument
        # vector it never frees.
        "tar": (["/usr/bin/tar", "cf", "-", "tree"], {}),
        "bash": (["/usr/bin/bash", "-c", "declare -A a; for ((i = 1; i <= 50; i++)); do a[k$i]=$i; done; echo ${#a[@]}"], {}),
        # Reads its device description with strtok, which keeps a pointer
        # into the line buffer after groff frees it. -v also runs troff -v
        # and grops -v, whose lines would come in any order: stand-ins
        # that print nothing take their place. groff copies GROFF_BIN_PATH + ":" + PATH into a block it loses,
        # and whether that block lands where the freed line buffer was
        # depends on its size: the whole environment is fixed (the stand-ins'
        # folder is named relative to the working directory).
        "groff": (["/usr/bin/groff", "-v"], groff_env()),
        # Regular expressions (sed's and grep's compiled patterns, grep's
        # 100 KB read buffer), a sort with a fixed buffer and one thread (its
        # default buffer follows the machine's free memory, its default
        # thread count the cores), a directory walk (fts: a path string in
        # the heap for every file, each given to a system call).
        "sed": (["/usr/bin/sed", "-E", r"s/([0-9])([0-9]*)/\2\1/", "numbers"], {}),
        "grep": (["/usr/bin/grep", "-c", "-E", "^(1|2)[0-9]*7$", "numbers"], {}),
        "sort": (["/usr/bin/sort", "-r", "-n", "-S", "1M", "--parallel=1", "numbers"], {}),
        "find": (["/usr/bin/find", "tree", "-name", "f*"], {}),
    }[name]
    return {"name": name, "argv": argv, "env": env, "stdin": None}
