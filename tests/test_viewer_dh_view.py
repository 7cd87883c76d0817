"""Every profile these tests write is opened in DHAT's own viewer
(dh_view.html of the build's Valgrind) in a real browser (Debian's chromium
driven by playwright-core, see tests/browser.py): the viewer must show it
without a single error (none in the page, no page exception, no console
error), and its root node must show the figures memtrack printed on stderr,
the Invocation section the mode and the command.

One chromium serves the whole session. A test that cannot start it fails
and says to run scripts/bootstrap; it never skips."""
import os
import subprocess
from pathlib import Path

import pytest

import browser
import helpers
import workloads

# DHAT's viewer of the Valgrind in use is the oracle (no process shows it).
pytestmark = pytest.mark.oracle

VG = str(helpers.VG_IN_PLACE)


def _view(paths, **kw):
    unavailable = None
    try:
        return browser.view_profiles(paths, **kw)
    except browser.BrowserUnavailable as e:
        unavailable = str(e)
    pytest.fail(unavailable, pytrace=False)


def _memtrack(workdir, name, opts, argv, **kw):
    """Runs memtrack with its profile at <workdir>/<name>.json; returns
    (result, profile path)."""
    out = Path(workdir) / f"{name}.json"
    r = helpers.run_memtrack([f"--dhat-out-file={out}", *opts], argv, workdir, **kw)
    assert r.returncode == 0, r
    assert out.is_file(), f"memtrack wrote no profile {out}: {r!r}"
    return r, out


def _enabled(res):
    return [o["label"] for o in res["options"] if not o["disabled"]]


# Sort metrics whose significance test the root always passes (its share is
# 100%, or 0 >= 0): the root shows all its figures. Under the others (e.g.
# "short-lived", "tiny") the viewer may show the root as insignificant,
# with some figures left out.
ROOT_ALWAYS_SIGNIFICANT = {"Total (bytes)", "Total (blocks)", "Total (units)", "Total (events)",
                           "At t-gmax (bytes)", "At t-end (bytes)", "Reads (bytes)",
                           "Writes (bytes)"}


def _check_sorts(res, root):
    """Each redisplay for another sort metric: no error, and the same root
    figures (where shown)."""
    for s in res["sorts"]:
        assert s["ok"], f"sort metric {s['label']!r}: {s['error']}"
        assert s["title"].endswith(f" - {s['label']}"), s["title"]
        bad = browser.check(s)
        assert not bad, (s["label"], bad)
        again = browser.shown(s["text"])
        for key in ("mode", "cmd"):
            assert again[key] == root[key], (s["label"], key, again[key], root[key])
        for key in ("total", "gmax", "end"):
            if again[key] is not None or s["label"] in ROOT_ALWAYS_SIGNIFICANT:
                assert again[key] == root[key], (s["label"], key, again[key], root[key])


# ---------------------------------------------------------------------------
# Heap profiles of the small test clients

CLIENTS = [
    ("dhat_basic", "dhat_basic", []),
    ("dhat_big", "dhat_big", []),
    ("dhat_empty", "dhat_empty", []),
    ("dhat_leak16", "dhat_leak16", []),
    ("dhat_single", "dhat_single", []),
    ("peak", "peak", []),
    ("alloc_cxx", "alloc_cxx", []),
    ("threads", "threads", []),
    ("bad_frees", "bad_frees", ["double_free,free_of_new,realloc_of_freed"]),
]


@pytest.mark.parametrize("client, args", [(c, a) for _, c, a in CLIENTS],
                         ids=[i for i, _, _ in CLIENTS])
def test_viewer_shows_client_heap_profile(client, args, clients, workdir):
    argv = [clients.path(client), *args]
    r, prof = _memtrack(workdir, client, [], argv)
    res = browser.assert_viewer_accepts(prof, stderr=r.stderr, expect_mode="heap",
                                        expect_cmd=" ".join(argv),
                                        expect_units=("bytes", "blocks"),
                                        expect_lifetimes=True)
    # With lifetimes and accesses, every sort metric is there to choose.
    assert all(not o["disabled"] for o in res["options"]), res["options"]


# ---------------------------------------------------------------------------
# Real programs, and the sort menu


@pytest.mark.parametrize("name", ["sqlite3", "jq"])
def test_viewer_shows_real_program_profile_in_every_sort_metric(name, workdir):
    w = workloads.make(name, str(workdir / "inputs"), scale=1)
    helpers.require_program(w["argv"][0])
    r, prof = _memtrack(workdir, name, [], w["argv"], env=w["env"], stdin=w["stdin"])
    labels = ["Total (bytes)", "At t-gmax (bytes)", "Reads (bytes)", "At t-end (bytes)",
              "Writes (bytes)", "Total (blocks), short-lived", "Total (bytes), low-access",
              "Total (bytes), zero reads or zero writes", "Reads (bytes), high-access",
              "Total (blocks), tiny", "Total (blocks)"]
    res = browser.assert_viewer_accepts(prof, sorts=labels, stderr=r.stderr, expect_mode="heap",
                                        expect_cmd=" ".join(w["argv"]),
                                        expect_units=("bytes", "blocks"))
    assert [s["label"] for s in res["sorts"]] == labels
    _check_sorts(res, browser.shown(res["text"]))
    # A real program's tree has many program points below the root.
    assert res["text"].count("PP 1.") >= 5, res["text"][:3000]
    assert "insignificant" in res["sorts"][0]["text"] or res["text"].count("PP 1.") >= 20


def test_viewer_screenshot_shows_the_tree(clients, workdir):
    """One screenshot, checked to be a real picture of the tree: many
    colours, not one colour nearly everywhere, and dh_view.css's colours of
    the Invocation section and of tree nodes on a good part of it (an empty
    viewer, or one showing an error, has none of them)."""
    r, prof = _memtrack(workdir, "peak", [], [clients.path("peak")])
    png = workdir / "dh_view.png"
    res = browser.assert_viewer_accepts(prof, screenshot=png, stderr=r.stderr,
                                        expect_total_bytes=10 * 1000 + 2000 + 100 + 1900 + 500
                                        + 1400 + 300 + 600,
                                        expect_gmax_bytes=10900, expect_gmax_blocks=9)
    assert res["screenshot"] == str(png)
    size = png.stat().st_size
    w, h, counts = browser.png_colours(png)
    share = lambda *hexes: sum(counts.get(bytes.fromhex(x), 0) for x in hexes) / (w * h)
    invocation = share("bfd7d7")
    # Internal nodes are blue, leaves green (dh_view.css: .expanded.ltN and
    # .leaf.ltN), from lt100 down to insig.
    levels = ("7f", "8f", "9f", "af", "bf", "cf", "df", "ef")
    nodes = share(*[f"{v}{v}ff" for v in levels]) + share(*[f"{v}ff{v}" for v in levels])
    top = max(counts.values()) / (w * h)
    print(f"screenshot {png}: {size} bytes, {w}x{h}, {len(counts)} colours, commonest on "
          f"{top:.0%}, Invocation colour on {invocation:.1%}, node colours on {nodes:.0%}")
    assert (w, h) == (1280, 900)
    assert size > 20000, size
    assert len(counts) >= 50, len(counts)
    assert top < 0.9, top
    assert invocation > 0.002, invocation
    assert nodes > 0.05, nodes


# ---------------------------------------------------------------------------
# Other modes and options


def test_viewer_shows_copy_mode_profile(clients, workdir):
    argv = [clients.path("dhat_basic")]
    r, prof = _memtrack(workdir, "copy", ["--mode=copy"], argv)
    doc = browser.profile_json(prof)
    assert (doc["mode"], doc["bklt"], doc["bkacc"]) == ("copy", False, False)
    res = browser.assert_viewer_accepts(prof, sorts=["Total (bytes)", "Total (blocks), tiny"],
                                        stderr=r.stderr, expect_mode="copy",
                                        expect_cmd=" ".join(argv),
                                        expect_units=("bytes", "blocks"), expect_lifetimes=False)
    assert _enabled(res) == ["Total (bytes)", "Total (blocks)", "Total (blocks), tiny"]
    assert "Copied at {" in res["text"]
    assert "Reads:" not in res["text"] and "Max:" not in res["text"]
    _check_sorts(res, browser.shown(res["text"]))


def test_viewer_shows_ad_hoc_profile(clients, workdir):
    argv = [clients.path("viewer_adhoc")]
    r, prof = _memtrack(workdir, "adhoc", ["--mode=ad-hoc"], argv)
    res = browser.assert_viewer_accepts(prof, sorts=["Total (units)", "Total (events), tiny"],
                                        stderr=r.stderr, expect_mode="ad-hoc",
                                        expect_cmd=" ".join(argv),
                                        expect_total_bytes=345, expect_total_blocks=20,
                                        expect_units=("units", "events"), expect_lifetimes=False)
    assert _enabled(res) == ["Total (units)", "Total (events)", "Total (events), tiny"]
    text = res["text"]
    assert "Occurred at {" in text
    for fn in ("small_events", "big_events", "zero_events", "main"):
        assert f": {fn} (viewer_adhoc.c:" in text, fn
    assert "300 units" in text and "in 3 events" in text
    _check_sorts(res, browser.shown(text))


def test_viewer_shows_profile_without_access_tracking(clients, workdir):
    argv = [clients.path("dhat_basic")]
    r, prof = _memtrack(workdir, "noacc", ["--access-tracking=no"], argv)
    doc = browser.profile_json(prof)
    assert (doc["bklt"], doc["bkacc"]) == (True, False)
    res = browser.assert_viewer_accepts(prof, sorts=["Total (bytes)", "At t-gmax (bytes)",
                                                     "At t-end (bytes)",
                                                     "Total (blocks), short-lived"],
                                        stderr=r.stderr, expect_mode="heap",
                                        expect_cmd=" ".join(argv), expect_lifetimes=True)
    enabled = _enabled(res)
    assert "Reads (bytes)" not in enabled and "At t-gmax (bytes)" in enabled, enabled
    assert "Reads:" not in res["text"] and "Accesses:" not in res["text"]
    _check_sorts(res, browser.shown(res["text"]))


# ---------------------------------------------------------------------------
# Odd program names and arguments: what memtrack writes must show as DHAT's
# does (the viewer reads the file as UTF-8, invalid bytes replaced).

ODD_ARGS = [b'quote"d', b"back\\slash", b"trailing\\", b"non-utf8-\xff\xfe-end", b"tab\there",
            b"new\nline", b"uni-\xc3\xa9\xe2\x9c\x93", b"", b"sp ace", b"{\"json\": [1]}",
            b"ctl-\x01\x1f", b"lone-\xc3"]


def _run_bytes(argv, cwd):
    """Runs argv (bytes) with the suite's environment; no printing of the
    command (it is not valid text)."""
    p = subprocess.run(argv, cwd=str(cwd), env=helpers.base_env(), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=helpers.TIMEOUT)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_viewer_shows_odd_program_name_and_args_as_dhat_does(clients, workdir):
    exe = os.fsencode(workdir) + b'/we"ird \\ na\'me-\xff-\xc3\xa9'
    with open(clients.path("dhat_single"), "rb") as f, open(exe, "wb") as g:
        g.write(f.read())
    os.chmod(exe, 0o755)
    profiles = {}
    for tool in ("memtrack", "dhat"):
        out = workdir / f"odd-{tool}.json"
        code, err = _run_bytes([os.fsencode(VG), f"--tool={tool}".encode(),
                                b"--dhat-out-file=" + os.fsencode(out), exe, *ODD_ARGS], workdir)
        assert code == 0, f"{tool} failed on odd arguments:\n{err[-3000:]}"
        profiles[tool] = (out, err)
    mt, dh = _view([profiles["memtrack"][0], profiles["dhat"][0]])
    assert dh["ok"], f"DHAT's own profile: {dh['error']}"  # the harness itself
    want = b" ".join([exe, *ODD_ARGS]).decode("utf-8", "replace")
    bad = browser.check(mt, stderr=profiles["memtrack"][1], expect_mode="heap", expect_cmd=want,
                        expect_total_bytes=16, expect_total_blocks=1)
    assert not bad, "\n".join(bad) + f"\n--- page ---\n{mt['text'][:2000]}"
    assert browser.shown(mt["text"])["cmd"] == browser.shown(dh["text"])["cmd"]
    assert browser.shown(dh["text"])["cmd"] == want


# ---------------------------------------------------------------------------
# Negative controls: the harness must be able to fail.


def _break(doc, how):
    doc = dict(doc)
    if how == "missing_pps":
        del doc["pps"]
    elif how == "duplicate_fs":
        doc["pps"] = doc["pps"] + [dict(doc["pps"][0])]
    elif how == "missing_tb":
        doc["pps"] = [{k: v for k, v in pp.items() if k != "tb"} for pp in doc["pps"]]
    elif how == "missing_lifetime_fields":
        doc["pps"] = [{k: v for k, v in pp.items() if k != "gb"} for pp in doc["pps"]]
    elif how == "wrong_version":
        doc["dhatFileVersion"] = 1
    elif how == "frame_out_of_range":
        doc["pps"] = [dict(pp, fs=pp["fs"] + [len(doc["ftbl"]) + 5]) for pp in doc["pps"]]
    elif how == "missing_te":
        del doc["te"]
    else:
        raise ValueError(how)
    return doc


BREAKAGES = {
    "missing_pps": "data file is missing a field: pps",
    "duplicate_fs": "repeated location",
    "missing_tb": "data file is missing a field: tb",
    "missing_lifetime_fields": "data file is missing a field: gb",
    "wrong_version": "data file has version number 1",
    "missing_te": "data file is missing a field: te",
    "frame_out_of_range": None,  # no exception: the page shows "undefined"
    "not_json": "SyntaxError",
}


def test_harness_reports_broken_profiles(clients, workdir):
    import json

    r, good = _memtrack(workdir, "good", [], [clients.path("dhat_basic")])
    doc = browser.profile_json(good)
    paths = [good]
    for how in BREAKAGES:
        p = workdir / f"broken-{how}.json"
        if how == "not_json":
            p.write_bytes(good.read_bytes()[:-40])
        else:
            p.write_text(json.dumps(_break(doc, how)))
        paths.append(p)
    results = _view(paths)  # one batch: the good one and every broken one
    assert results[0]["ok"], results[0]["error"]
    assert browser.check(results[0], stderr=r.stderr) == []
    for how, res in zip(BREAKAGES, results[1:]):
        bad = browser.check(res, stderr=r.stderr)
        assert bad, f"{how}: the harness accepted a broken profile:\n{res['text'][:2000]}"
        want = BREAKAGES[how]
        if want is None:
            assert "missing data" in "\n".join(bad), (how, bad)
        else:
            assert not res["ok"], how
            assert want in res["error"], (how, res["error"])
            # The viewer shows it as an error in the page, and the exception
            # is also reported as a page error.
            assert "viewer shows an error" in res["error"], (how, res["error"])
            assert "page error" in res["error"], (how, res["error"])
    # And the helper the other tests use fails (never passes) on one.
    with pytest.raises(pytest.fail.Exception) as e:
        browser.assert_viewer_accepts(paths[1], stderr=r.stderr)
    assert "data file is missing a field: pps" in str(e.value)


def test_harness_reports_a_wrong_total(clients, workdir):
    r, prof = _memtrack(workdir, "basic", [], [clients.path("dhat_basic")])
    with pytest.raises(pytest.fail.Exception) as e:
        browser.assert_viewer_accepts(prof, expect_total_bytes=7001)
    assert "expected 7001" in str(e.value)


def test_browser_that_cannot_start_fails_with_bootstrap_hint(monkeypatch, workdir):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(browser.BrowserUnavailable) as e:
        browser.Driver()
    assert "scripts/bootstrap" in str(e.value) and "/nonexistent/chromium" in str(e.value)
    # A program that is there but is no browser: the driver itself says so.
    monkeypatch.setattr(browser, "CHROMIUM", Path("/bin/false"))
    with pytest.raises(browser.BrowserUnavailable) as e:
        browser.Driver()
    assert "scripts/bootstrap" in str(e.value) and "/bin/false" in str(e.value)

    def unavailable():
        raise browser.BrowserUnavailable(f"cannot start the browser ({browser.HINT}): test")

    monkeypatch.setattr(browser, "driver", unavailable)
    p = workdir / "x.json"
    p.write_text("{}")
    # pytest.fail, not pytest.skip: the test fails.
    with pytest.raises(pytest.fail.Exception) as e:
        browser.assert_viewer_accepts(p)
    assert "scripts/bootstrap" in str(e.value)
