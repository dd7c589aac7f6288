"""Open the built book in a real browser (headless Chromium from Debian's package, driven by Playwright).

    python tools/check_book.py [--out /tmp/book-screens]   # after make book

Serves ``build/book/html`` on 127.0.0.1, opens the home page, the about page, a paper-1 chapter, a
paper-2 chapter and the results page, and fails (exit 1) on a console error, a page error, a request
that fails or returns >= 400, an image that did not load, or an internal link whose target is missing
(every same-site link on those pages is fetched). Screenshots of each page (full height) go to
``--out``, outside the repository. Without Chromium or Playwright it says so and exits 0, so
``make test`` passes on machines without a browser.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "book" / "html"
PAGES = ("index.html", "about.html", "notebooks/06_figure1.html", "notebooks/12_bomrl_authors_frozen_lake.html",
         "results.html")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    """The path of an installed Chromium, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A quiet static server of ``site`` on a free port of 127.0.0.1, running in a thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # a browser closing a connection early is not a fault
            pass

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def missing_links(hrefs: list[str], base: str) -> list[str]:
    """The same-site links (anchors dropped) whose target does not answer 200."""
    bad = []
    for href in sorted({urldefrag(h)[0] for h in hrefs if h}):
        if urlparse(href).netloc != urlparse(base).netloc:
            continue
        try:
            with urllib.request.urlopen(href) as r:
                ok = r.status == 200
        except urllib.error.URLError:
            ok = False
        if not ok:
            bad.append(href)
    return bad


def check_page(page, url: str, shot: Path) -> list[str]:
    """Open ``url``; the problems found (empty when the page is clean); a screenshot to ``shot``."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    broken = page.eval_on_selector_all("img", "els => els.filter(e => !e.complete || e.naturalWidth === 0)"
                                              ".map(e => e.getAttribute('src'))")
    problems += [f"image not loaded: {src}" for src in broken]
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    problems += [f"broken link: {h}" for h in missing_links(hrefs, url)]
    n_math = page.eval_on_selector_all(".MathJax, .MathJax_Display, mjx-container", "els => els.length")
    page.screenshot(path=str(shot), full_page=True)
    print(f"{urlparse(url).path}: {len(hrefs)} links, {len(page.query_selector_all('img'))} images, "
          f"{n_math} typeset formulas, {len(problems)} problems; screenshot {shot}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/book-screens", help="folder of the screenshots (outside the repo)")
    args = parser.parse_args(argv)
    exe = browser()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if exe is None or sync_playwright is None:
        print(f"SKIPPED the browser check of the book: {'no Chromium on PATH' if exe is None else 'no Playwright'} "
              "(Debian: apt-get install chromium; pip install playwright)")
        return 0
    if not (SITE / "index.html").exists():
        print(f"no book at {SITE}: run make book first")
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server, base = serve(SITE)
    problems = []
    try:
        with sync_playwright() as p:
            chrome = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            for name in PAGES:
                page = chrome.new_page(viewport={"width": 1280, "height": 900})
                problems += [f"{name}: {x}" for x in check_page(page, urljoin(base, name), out / (name.replace("/", "_")
                                                                                                + ".png"))]
                page.close()
            chrome.close()
    finally:
        server.shutdown()
    for x in problems:
        print(x)
    print("browser check:", "passed" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
