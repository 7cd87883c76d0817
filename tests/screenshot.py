#!/usr/bin/python3
"""The README's picture of memtrack_report's page: `make screenshot`
writes docs/report.png from a real run.

    MEMTRACK_BUILDDIR=... python3 tests/screenshot.py [OUT.png]

tests/clients/report_templates.cpp (a hot std::string site, a 4 MiB
peak in a std::vector, two leaks, long template names) runs under memtrack
with its profile, massif file and leak search; memtrack_report makes the
page; the browser tests' machinery (tests/browser.py: Debian's chromium
through playwright-core) opens it 1,280 px wide and takes the top of the
page, 1,280 x 860 px: the summary and the heap over time. The PNG must stay
under 150 KB (the README's budget; exit status 1 past it).
tests/test_report_layout.py runs this into a temporary file and checks the
picture, and checks docs/report.png.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True
import browser  # noqa: E402
import helpers  # noqa: E402

MAX_BYTES = 150 * 1024
WIDTH, HEIGHT = 1280, 860


def shoot(out):
    out = Path(out).resolve()
    exe = helpers.Clients().path("report_templates")
    with tempfile.TemporaryDirectory(prefix="memtrack-shot.") as d:
        d = Path(d)
        prof, massif, page = d / "memtrack.out.json", d / "massif.out", d / "report.html"
        # Run from the folder, by relative names: the page shows the
        # command and massif's arguments, which should not name this
        # machine's folders.
        shutil.copy(exe, d / "report_templates")
        r = helpers.run_memtrack([f"--dhat-out-file={prof.name}", f"--massif-out-file={massif.name}",
                                  "--leak-check=full"], ["./report_templates"], d)
        if not prof.is_file() or not massif.is_file():
            raise SystemExit(f"screenshot: memtrack wrote no profile:\n{r.stderr[-2000:]}")
        r = helpers.run(["/usr/bin/python3", str(helpers.REPO / "scripts" / "memtrack_report"),
                         prof.name, "--massif", massif.name, "--top=8", "-o", page.name], d)
        if r.returncode != 0:
            raise SystemExit(f"screenshot: memtrack_report failed:\n{r.stderr}")
        res = browser.open_pages([{
            "page": str(page), "waitFor": 'document.body && document.body.dataset.ready === "1"',
            "viewport": {"width": WIDTH, "height": HEIGHT},
            "steps": [{"screenshot": str(out)}]}])[0]
        if not res["ok"]:
            raise SystemExit(f"screenshot: the page did not load cleanly:\n{res['error']}")
    size = out.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"screenshot: {out} is {size:,} bytes, more than {MAX_BYTES:,}")
    return size


def main(argv):
    out = argv[1] if len(argv) > 1 else str(helpers.REPO / "docs" / "report.png")
    size = shoot(out)
    print(f"screenshot: wrote {out} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main(sys.argv))
