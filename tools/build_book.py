"""Build the study as a static book (Sphinx + MyST-NB, offline, no execution): ``make book``.

    python tools/build_book.py            # stage build/book-src/, then build build/book/html/
    python tools/build_book.py --stage    # only stage the sources (what the tests check)

The book holds, in reading order: a home page (what the study found: the README's verdict table),
"About this replication" (in the shape of a ReScience C article, its verdicts from the claim
records), the results page (``docs/results.md``: every record with its figure), the executed
full-profile notebooks of ``docs/full/`` (outputs as committed; papermill's injected-parameters
cell hidden by its ``remove-cell`` tag) and the docs pages. Links that leave the book (to
``lib/`` sources, tables, tools) become plain text naming the file: the static site has no copy
of them. Sphinx runs with warnings as errors. Maths is rendered by MathJax 2 from the
``jupyter-server-mathjax`` package, copied into the site: no network is needed to read it.
Publish the folder ``build/book/html/`` with any static web server (GitHub Pages, ``python -m
http.server``).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "build" / "book-src"
OUT = ROOT / "build" / "book" / "html"
CONF = ROOT / "docs" / "book" / "conf.py"
PAGES = ("preregistration", "paper1_trust_region_meta", "paper2_bomrl", "paper2_provenance", "layout",
         "install_and_tests", "cluster", "performance")
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def chapters() -> list[str]:
    """The executed full-profile notebooks, in order (stems)."""
    return sorted(p.stem for p in (ROOT / "docs" / "full").glob("[0-9][0-9]_*.ipynb"))


def target_of(link: str, page: Path, base: Path) -> str | None:
    """Where a relative link of a staged page points inside the book (a path relative to the page),
    or None if it leaves the book. ``page``: the page's path below :data:`SRC`; ``base``: the folder
    of the file it was staged from (links are relative to it)."""
    if link.startswith(("http://", "https://", "mailto:", "#")):
        return link
    path, _, anchor = link.partition("#")
    here = (base / path).resolve()
    rel = here.relative_to(ROOT) if here.is_relative_to(ROOT) else None
    if rel is None:
        return None
    parts = rel.parts
    mapped = None
    if parts[0] == "figures" and here.suffix == ".png" and here.exists():
        mapped = Path("figures") / here.name
    elif parts[0] in ("notebooks", "docs") and here.suffix == ".ipynb" and here.stem in chapters():
        mapped = Path("notebooks") / f"{here.stem}.ipynb"
    elif parts[0] == "docs" and here.suffix == ".md" and here.stem in (*PAGES, "results"):
        mapped = Path(f"{here.stem}.md")
    elif rel == Path("README.md"):
        mapped = Path("index.md")
    if mapped is None:
        return None
    up = "../" * len(page.parent.parts)
    return f"{up}{mapped.as_posix()}" + (f"#{anchor}" if anchor else "")


def relink(text: str, page: Path, base: Path) -> str:
    """Rewrite a page's Markdown links for the book: inside links re-pointed, outside ones as text
    (the label, and the path in code unless the label is already the path)."""
    def one(m):
        bang, label, link = m.groups()
        new = target_of(link, page, base)
        if new is not None:
            return f"{bang}[{label}]({new})"
        return label if label.startswith("`") else f"{label} (`{link.lstrip('./')}`)"
    return LINK.sub(one, text)


def stage_notebook(stem: str) -> None:
    """Copy one executed full notebook with its Markdown links rewritten (its injected-parameters
    cell already carries ``remove-cell``: tools/run_notebooks.py tags it when it writes the copy)."""
    nb = json.loads((ROOT / "docs" / "full" / f"{stem}.ipynb").read_text())
    page = Path("notebooks") / f"{stem}.ipynb"
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = relink("".join(cell["source"]), page, ROOT / "notebooks")
    (SRC / page).write_text(json.dumps(nb, indent=1, ensure_ascii=False))


def home() -> str:
    """The home page: the README's title, introduction and verdict table, relinked."""
    readme = (ROOT / "README.md").read_text()
    head = readme.split("## Two commands")[0]
    return relink(head, Path("index.md"), ROOT)


def stage() -> None:
    """Write :data:`SRC`: conf.py, the pages, the notebooks and the figures."""
    if SRC.exists():
        shutil.rmtree(SRC)
    (SRC / "notebooks").mkdir(parents=True)
    shutil.copy(CONF, SRC / "conf.py")
    shutil.copy(CONF.parent / "favicon.png", SRC / "favicon.png")
    shutil.copytree(ROOT / "figures", SRC / "figures", ignore=shutil.ignore_patterns("quick"))
    (SRC / "index.md").write_text(home() + "\n\n" + toctree())
    about = (ROOT / "docs" / "book" / "about.md").read_text()
    about = relink(about, Path("about.md"), CONF.parent)
    (SRC / "about.md").write_text(about.replace("{verdicts}", relink(verdicts(), Path("about.md"), ROOT)))
    for name in (*PAGES, "results"):
        text = (ROOT / "docs" / f"{name}.md").read_text()
        (SRC / f"{name}.md").write_text(relink(text, Path(f"{name}.md"), ROOT / "docs"))
    for stem in chapters():
        stage_notebook(stem)


def verdicts() -> str:
    """The bottom line of each paper and the verdict table: the README's block, which
    ``tools/write_results.py`` renders from the claim records (and ``make test`` checks)."""
    readme = (ROOT / "README.md").read_text()
    return readme.split("<!-- verdicts:start")[1].split("-->", 1)[1].split("<!-- verdicts:end -->")[0].strip()


def toctree() -> str:
    """The book's tables of contents: about and results, the chapters, the reference pages."""
    nbs = "\n".join(f"notebooks/{s}" for s in chapters())
    return ("```{toctree}\n:caption: The study\n:maxdepth: 1\n\nabout\nresults\n```\n\n"
            f"```{{toctree}}\n:caption: Chapters (full profile)\n:maxdepth: 1\n\n{nbs}\n```\n\n"
            "```{toctree}\n:caption: Reference\n:maxdepth: 1\n\n" + "\n".join(PAGES) + "\n```\n")


def build(python: str) -> int:
    """Run Sphinx (installed for ``python``) on the staged sources, warnings as errors; its exit code."""
    if OUT.exists():
        shutil.rmtree(OUT)
    cmd = [python, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(SRC), str(OUT)]
    return subprocess.call(cmd, cwd=ROOT)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", action="store_true", help="only stage the sources in build/book-src/")
    parser.add_argument("--sphinx-python", default=sys.executable,
                        help="the Python that has Sphinx and MyST-NB (make book: build/book-venv)")
    args = parser.parse_args(argv)
    stage()
    if args.stage:
        return 0
    rc = build(args.sphinx_python)
    if rc == 0:
        print(f"book: {OUT / 'index.html'} (publish the folder with any static web server)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
