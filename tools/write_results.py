"""Render the study's claim records (``lib.claims.Claim``) from the committed full-profile tables.

    python tools/write_results.py           # rewrite docs/results.md and the README's verdict table
    python tools/write_results.py --check   # exit 1 if either is not what the records say

Every verdict is judged once, by the row's function in ``lib/trust_region_meta/claims.py`` or
``lib/bomrl/claims.py`` (the same function the notebook displays); this script only renders
the records: the README's table (one row per record, one bottom-line sentence per paper, counted
from the records) and ``docs/results.md`` (each record in full, with its figure).
``tests/test_results_doc.py`` runs ``--check``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.bomrl import claims as paper2  # noqa: E402
from lib.claims import Tables, bottom_line  # noqa: E402
from lib.trust_region_meta import claims as paper1  # noqa: E402

FULL = ROOT / "data" / "full"
RESULTS = ROOT / "docs" / "results.md"
README = ROOT / "README.md"
START, END = "<!-- verdicts:start (tools/write_results.py) -->", "<!-- verdicts:end -->"
ROWS = paper1.ROWS + paper2.ROWS


def records(root: Path = FULL) -> list:
    """Every README row's record, in order, from the tables under ``root``."""
    tables = Tables(root)
    return [fn(tables) for fn in ROWS]


def figure_line(claim) -> str:
    if claim.figure and (ROOT / "figures" / f"{claim.figure}.png").exists():
        return f"![{claim.figure}](../figures/{claim.figure}.png)"
    return ""


def render(claims) -> tuple[str, str]:
    """``(docs/results.md, the README's verdict block)``."""
    lines = [bottom_line(claims, 1), "", bottom_line(claims, 2), "",
             "| paper's claim | verdict | our result (full profile) | notebook |", "|---|---|---|---|"]
    lines += [c.row() for c in claims]
    doc = ["# Results at full profile", "",
           "Written by `tools/write_results.py` from the claim records (`lib/claims.py`; one function per row in "
           "`lib/trust_region_meta/claims.py` and `lib/bomrl/claims.py`), computed from the committed tables in "
           "`data/full/` (do not edit by hand; `make test` fails when this file and the tables disagree). The rules "
           "(statistic, margin, unit of replication, exclusions) are written in "
           "[`preregistration.md`](preregistration.md), which also says what \"in advance\" can mean for results that "
           "were already public.", "", bottom_line(claims, 1), "", bottom_line(claims, 2), ""]
    for paper in (1, 2):
        doc += [f"## Paper {paper}", ""]
        for c in claims:
            if c.paper == paper:
                fig = figure_line(c)
                doc += [c.markdown("###"), "", f"Notebook [`{c.notebook}`](../notebooks/{c.notebook}.ipynb)."
                        + (f" Figure:\n\n{fig}" if fig else ""), ""]
    return "\n".join(doc), "\n".join(lines)


def readme_with(verdicts: str) -> str:
    text = README.read_text()
    a, b = text.index(START) + len(START), text.index(END)
    return text[:a] + "\n" + verdicts + "\n" + text[b:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are not what the records say")
    args = parser.parse_args()
    doc, verdicts = render(records())
    readme = readme_with(verdicts)
    if args.check:
        stale = [p.name for p, text in ((RESULTS, doc + "\n"), (README, readme))
                 if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date with data/full: {', '.join(stale)}; run python tools/write_results.py")
            return 1
        return 0
    RESULTS.write_text(doc + "\n")
    README.write_text(readme)
    print(f"wrote {RESULTS.relative_to(ROOT)} and the verdict table of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
