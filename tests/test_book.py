"""The book's staging (tools/build_book.py): what Sphinx is given. The build itself (warnings as
errors) and the browser check run in ``make test`` (``make book``, ``tools/check_book.py``)."""
import json
from pathlib import Path

import pytest

from tools import build_book as bb

ROOT = Path(__file__).resolve().parent.parent


def test_links_inside_the_book_are_repointed_and_the_others_become_text():
    page, base = Path("notebooks/06_figure1.ipynb"), ROOT / "notebooks"
    text = ("[results](../docs/results.md#paper-1) ![fig](../figures/06_figure1.png) [nb](08_figure3.ipynb) "
            "[`lib/stats.py`](../lib/stats.py) [the tables](../data/full/06_figure1/) [web](https://example.org)")
    out = bb.relink(text, page, base)
    assert "[results](../results.md#paper-1)" in out
    assert "![fig](../figures/06_figure1.png)" in out
    assert "[nb](../notebooks/08_figure3.ipynb)" in out
    assert "`lib/stats.py`" in out and "](../lib/stats.py)" not in out
    assert "the tables (`data/full/06_figure1/`)" in out
    assert "[web](https://example.org)" in out
    # a page at the top of the book, written in the repository root (the README)
    assert bb.relink("[02](notebooks/02_trpo_vs_xtrpo.ipynb)", Path("index.md"), ROOT) == \
        "[02](notebooks/02_trpo_vs_xtrpo.ipynb)"


def test_the_staged_book_holds_every_full_chapter_with_its_injected_cell_hidden(tmp_path, monkeypatch):
    monkeypatch.setattr(bb, "SRC", tmp_path / "src")
    bb.stage()
    src = tmp_path / "src"
    stems = bb.chapters()
    assert stems == sorted(p.stem for p in (ROOT / "docs" / "full").glob("[0-9][0-9]_*.ipynb")) and len(stems) >= 13
    for stem in stems:
        nb = json.loads((src / "notebooks" / f"{stem}.ipynb").read_text())
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and all("remove-cell" in c["metadata"]["tags"] for c in injected), stem
        first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
        assert "outputs saved in this copy are the full profile" in first, stem
    about = (src / "about.md").read_text()
    assert "{verdicts}" not in about and "| paper's claim | verdict |" in about
    index = (src / "index.md").read_text()
    assert "```{toctree}" in index and all(f"notebooks/{s}" in index for s in stems)
    for fig in (ROOT / "figures").glob("*.png"):
        assert (src / "figures" / fig.name).exists()


def test_the_committed_full_copies_hide_their_injected_cell_at_the_source():
    """tools/run_notebooks.py tags papermill's injected cell remove-cell when it writes a copy."""
    for path in (ROOT / "docs" / "full").glob("[0-9][0-9]_*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and all("remove-cell" in c["metadata"]["tags"] for c in injected), path.name


@pytest.mark.parametrize("page", bb.PAGES)
def test_every_reference_page_exists(page):
    assert (ROOT / "docs" / f"{page}.md").exists()
