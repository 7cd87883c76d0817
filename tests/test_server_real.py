"""Real servers nobody here wrote, under memtrack (issue 21): redis-server,
nginx (master and workers) and python3 -m http.server.

Every server listens on 127.0.0.1 only, on a port the test found free, in
the test's own directory (no persistence, a private prefix); every load is
a fixed, small number of requests (Valgrind makes servers slow); every
wait has a deadline; the test stops each server itself (SIGTERM, SIGQUIT
or SIGINT) and kills it if it does not end.

* redis: a dump_profile through vgdb between two bounded redis-benchmark
  runs, the exit profile after SIGTERM, and the same run shape under DHAT
  and memcheck. redis's figures move a little with the network's timing
  (how its query buffers grow depends on how reads split), so they are
  compared within bounds: totals within 5%, the exit's live bytes and
  memcheck's leak kinds within 5%, no definitely lost bytes under either.
* nginx: a master and two workers under --trace-children=yes with %p in
  the file names: one profile and one summary per process, the workers'
  parent is the master, and memtrack_merge puts them together.
* python3 -m http.server with PYTHONMALLOC=malloc and a handler module
  whose cache never evicts: the growth analysis names the cache's site.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import helpers
import profile_helpers as ph

PYTHON = "/usr/bin/python3"
SCRIPTS = helpers.REPO / "scripts"
DEADLINE = 180
REDIS = shutil.which("redis-server")
BENCH = shutil.which("redis-benchmark")
CLI = shutil.which("redis-cli")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
# redis links the system's jemalloc: its malloc is replaced like libc's.
JEMALLOC = "--soname-synonyms=somalloc=libjemalloc.so*"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server under a Valgrind tool, in its own directory."""

    def __init__(self, tool, opts, argv, cwd, env=None):
        self.cwd = cwd
        self.prefix = str(cwd / "vgdb")
        self.argv = [str(helpers.VG_IN_PLACE), f"--tool={tool}", "--vgdb=yes", f"--vgdb-prefix={self.prefix}",
                     *opts, *[str(a) for a in argv]]
        self.out = open(cwd / "stdout", "w+b")
        self.err = open(cwd / "stderr", "w+b")
        # SIGINT's default action back: a job started in the background
        # (make check from a script, CI) inherits SIGINT ignored, and
        # Python then never installs its KeyboardInterrupt handler, so the
        # server would not stop on SIGINT.
        self.proc = subprocess.Popen(self.argv, cwd=str(cwd), env=helpers.base_env(env), stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err, start_new_session=True,
                                     preexec_fn=helpers._default_sigint)

    def text(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def wait_until(self, ready, what):
        end = time.monotonic() + DEADLINE
        while not ready():
            if self.proc.poll() is not None:
                pytest.fail(f"the server ended (status {self.proc.returncode}) before {what}:\n{self.text()[-5000:]}")
            if time.monotonic() > end:
                pytest.fail(f"no {what} in {DEADLINE} s:\n{self.text()[-5000:]}")
            time.sleep(0.2)

    def vgdb(self, command, pid=None):
        p = subprocess.run([helpers.VGDB, f"--pid={pid or self.proc.pid}", f"--vgdb-prefix={self.prefix}", command],
                           capture_output=True, text=True, timeout=DEADLINE)
        assert p.returncode == 0, (command, p.stdout, p.stderr)
        return [re.sub(r"^==\d+== ?", "", l) for l in p.stdout.splitlines()]

    def stop(self, sig):
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not stop on {sig!r} in {DEADLINE} s:\n{self.text()[-5000:]}")
        r = helpers.Result(self.argv, self.proc.returncode, "", self.text())
        print(f"\n===== {r}")
        return r

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.out.close()
        self.err.close()
        for p in self.cwd.glob("vgdb-*"):
            p.unlink()


@pytest.fixture
def servers():
    started = []

    def _start(*a, **kw):
        s = Server(*a, **kw)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.kill()


def run(argv, cwd, timeout=DEADLINE):
    p = subprocess.run([str(a) for a in argv], cwd=str(cwd), capture_output=True, text=True, timeout=timeout)
    print(f"\n===== $ {' '.join(str(a) for a in argv)}\n[exit {p.returncode}]\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


# ---------------------------------------------------------------------------
# redis


def redis_run(servers, workdir, tool, opts, name, mid=None):
    """redis under tool: start, 2 x 200 requests (with mid(server) in
    between), SIGTERM. Returns (server, result)."""
    d = workdir / name
    d.mkdir()
    port = free_port()
    srv = servers(tool, [JEMALLOC, *opts],
                  [REDIS, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--daemonize", "no", "--dir", d, "--unixsocket", ""], d)

    def ping():
        p = subprocess.run([CLI, "-p", str(port), "ping"], capture_output=True, text=True, timeout=30)
        return p.stdout.strip() == "PONG"

    srv.wait_until(ping, "answer to PING")
    for half in (1, 2):
        b = run([BENCH, "-p", port, "-n", "200", "-c", "2", "-t", "set,get", "-q"], d)
        assert b.returncode == 0, b.stderr
        if half == 1 and mid:
            mid(srv)
    return srv, srv.stop(signal.SIGTERM)


needs_redis = pytest.mark.skipif(not (REDIS and BENCH and CLI),
                                 reason="redis-server and redis-tools are not installed (scripts/bootstrap --tests)")


@needs_redis
def test_redis_dump_in_the_middle_and_exit(servers, workdir):
    dumped = {}

    def mid(srv):
        dumped["lines"] = srv.vgdb("dump_profile mid.json")
        dumped["top"] = srv.vgdb("top 3")
        dumped["stats"] = srv.vgdb("heap_stats")

    srv, r = redis_run(servers, workdir, "memtrack",
                       ["--leak-check=full", "--dhat-out-file=redis.%p.json", "--summary-file=redis.%p.sum"],
                       "mt", mid)
    assert r.returncode == 0, r
    d = srv.cwd
    pid = srv.proc.pid
    assert dumped["lines"] == [f"profile written to {d / 'mid.json'}"], dumped
    assert len(dumped["top"]) == 4 and dumped["top"][0].startswith("3 sites with the most live bytes"), dumped
    mid_prof = ph.checked_profile(d / "mid.json")
    fin = ph.checked_profile(d / f"redis.{pid}.json", r)
    assert mid_prof["pid"] == fin["pid"] == pid
    assert mid_prof["te"] < fin["te"]
    assert ph.profile_sums(mid_prof)["total"][0] < ph.profile_sums(fin)["total"][0]
    m = re.search(r"^Now: +([\d,]+) bytes", "\n".join(dumped["stats"]), re.M)
    assert m and int(m[1].replace(",", "")) == ph.profile_sums(mid_prof)["end"][0], dumped["stats"]
    summ = json.loads((d / f"redis.{pid}.sum").read_text())
    assert summ["pid"] == pid and summ["ppid"] > 0
    assert summ["leaks"]["definite"]["bytes"] == 0
    # What grew between the dump and the exit, per site.
    diff = run([PYTHON, SCRIPTS / "memtrack_diff", "--format=json", d / "mid.json", d / f"redis.{pid}.json"], d)
    assert diff.returncode == 0, diff.stderr
    assert "sites" in diff.stdout

    # The same run shape under DHAT and memcheck.
    _, dh = redis_run(servers, workdir, "dhat", ["--dhat-out-file=dhat.json"], "dh")
    _, mc = redis_run(servers, workdir, "memcheck", ["--leak-check=full"], "mc")
    assert dh.returncode == 0 and mc.returncode == 0
    ours, theirs = helpers.parse_summary(r.stderr), helpers.parse_summary(dh.stderr)
    for k in ("total_bytes", "total_blocks", "end_bytes", "end_blocks"):
        assert abs(ours[k] - theirs[k]) <= 0.05 * theirs[k], (k, ours, theirs)
    import leak_helpers
    a, b = leak_helpers.parse(r.stderr).summary_numbers(), leak_helpers.parse(mc.stderr).summary_numbers()
    assert a["definitely lost"] == b["definitely lost"] == (0, 0), (a, b)
    for kind in ("possibly lost", "still reachable"):
        assert abs(a[kind][0] - b[kind][0]) <= 0.05 * max(b[kind][0], 1), (kind, a, b)


# ---------------------------------------------------------------------------
# nginx

NGINX_CONF = """
daemon off;
master_process on;
worker_processes 2;
user root;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "hello from nginx\\n"; }}
  }}
}}
"""


@pytest.mark.skipif(not NGINX, reason="nginx is not installed (scripts/bootstrap --tests)")
def test_nginx_master_and_workers(servers, workdir):
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=workdir, port=port))
    srv = servers("memtrack", ["--trace-children=yes", "--leak-check=full", "--dhat-out-file=ngx.%p.json",
                               "--summary-file=ngx.%p.sum"],
                  [NGINX, "-p", workdir, "-c", conf, "-e", workdir / "error.log"], workdir)

    def answers():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
                return resp.read() == b"hello from nginx\n"
        except OSError:
            return False

    srv.wait_until(answers, "answer over HTTP")
    for i in range(20):
        assert answers(), f"request {i} failed"
    r = srv.stop(signal.SIGQUIT)  # graceful: the master waits for its workers
    assert r.returncode == 0, r
    sums = {json.loads(p.read_text())["pid"]: json.loads(p.read_text()) for p in workdir.glob("ngx.*.sum")}
    profs = {int(re.search(r"ngx\.(\d+)\.json", p.name)[1]): ph.checked_profile(p) for p in workdir.glob("ngx.*.json")}
    master = srv.proc.pid
    assert set(profs) == set(sums), (sorted(profs), sorted(sums))
    assert master in profs and len(profs) == 3, sorted(profs)
    workers = [p for p in profs if p != master]
    for w in workers:
        assert profs[w]["mtppid"] == master and sums[w]["ppid"] == master
        assert profs[w]["pid"] == w
    # One view: the tree, the sums, and a merged profile memtrack_print reads.
    files = [*workdir.glob("ngx.*.json"), *workdir.glob("ngx.*.sum")]
    m = run([PYTHON, SCRIPTS / "memtrack_merge", "--format=json", "-o", workdir / "merged.json", *files], workdir)
    # The merged status: 1 if any process counted errors (with
    # --leak-check=full, possibly lost records are errors: nginx has some).
    failing = sorted(p for p, s in sums.items() if s["errors"])
    assert m.returncode == (1 if failing else 0), m.stderr
    assert sorted(int(x) for x in re.findall(r"^memtrack_merge: failed: pid (\d+): ", m.stderr, re.M)) == failing
    doc = json.loads(m.stdout)
    assert doc["roots"] == [master] or doc["roots"][0] == master, doc["roots"]
    by_pid = {p["pid"]: p for p in doc["processes"]}
    assert all(by_pid[w]["ppid"] == master for w in workers)
    for k, field in (("tb", "tb"), ("eb", "eb")):
        assert doc["totals"][k] == sum(pp[field] for p in profs.values() for pp in p["pps"])
    for kind in ("definite", "possible", "reachable"):
        assert doc["leaks"][kind]["bytes"] == sum(s["leaks"][kind]["bytes"] for s in sums.values())
    merged = ph.checked_profile(workdir / "merged.json")
    assert ph.profile_sums(merged)["total"] == (doc["totals"]["tb"], doc["totals"]["tbk"])
    text = run([PYTHON, SCRIPTS / "memtrack_merge", *files], workdir).stdout
    # Without the summaries nothing says the processes failed: status 0.
    assert run([PYTHON, SCRIPTS / "memtrack_merge", *workdir.glob("ngx.*.json")], workdir).returncode == 0
    assert re.search(rf"^  {master}.*nginx", text, re.M) and all(re.search(rf"^    {w} \(parent {master}\)", text, re.M)
                                                                 for w in workers), text
    # A leak limit below what they lost fails the merged status.
    lost = doc["lost"]
    if lost:
        bad = run([PYTHON, SCRIPTS / "memtrack_merge", f"--leak-limit={lost - 1}", *files], workdir)
        assert bad.returncode == 1 and "merged leaks" in bad.stderr, bad.stderr


# ---------------------------------------------------------------------------
# python3 -m http.server with an unbounded cache

HANDLER = '''
import http.server
import sys

CACHE = {}


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        body = remember(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def remember(path):
    # The cache that never evicts: one 4 KiB entry per distinct path.
    if path not in CACHE:
        CACHE[path] = bytearray(4096)
    return bytes(CACHE[path][:16])


if __name__ == "__main__":
    srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
'''


def test_python_http_server_cache_grows(servers, workdir):
    (workdir / "cachesrv.py").write_text(HANDLER)
    port = free_port()
    srv = servers("memtrack", ["--leak-check=full", "--dump-every=20Mi", "--dhat-out-file=py.%n.json"],
                  [PYTHON, "cachesrv.py", port], workdir, env={"PYTHONMALLOC": "malloc"})

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
                return resp.read()
        except OSError:
            return None

    srv.wait_until(lambda: get("/warm") is not None, "answer over HTTP")
    for i in range(120):
        assert get(f"/item/{i}") == bytes(16), i
    r = srv.stop(signal.SIGINT)
    assert r.returncode == 0, r
    files = sorted(workdir.glob("py.*.json"), key=lambda p: int(p.name.split(".")[1]))
    assert len(files) >= 5, files
    g = run([PYTHON, SCRIPTS / "memtrack_print", "--growth", "--sections=growth", "--format=json", "--top=0",
             *files], workdir)
    assert g.returncode == 0, g.stderr
    sites = json.loads(g.stdout)["growth"]["sites"]
    # The cache's bytearrays: allocated by bytearray's constructor.
    cache = [s for s in sites if any("bytearray" in f.lower() or "PyByteArray" in f for f in s["frames"][:4])]
    assert cache, [(s["label"], s["frames"][:4]) for s in sites]
    top = cache[0]
    assert top["bytes_now"] >= 100 * 4096, top
    # Python's finalisation frees the module's dictionary at exit: the
    # cache grew while the server ran, yet nothing of it is left at exit
    # (which is why the trend leaves the exit profile out).
    assert top["at_exit"] is not None and not any(top["at_exit"].values()), top
    # It heads the list: the interpreter's own growing sites (objects of
    # modules imported on the first requests, its caches) grew by less.
    assert sites[0] is top, [(s["label"], s["growth"]) for s in sites]
