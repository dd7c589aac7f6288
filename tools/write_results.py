"""Render the study's claim records (``lib.claims.Claim``) from the committed full-profile tables.

    python tools/write_results.py           # rewrite docs/results.md, the README's verdict table and full times
    python tools/write_results.py --check   # exit 1 if either is not what the records say

Every verdict is judged once, by the row's function in ``lib/trust_region_meta/claims.py`` or
``lib/bomrl/claims.py`` (the same function the notebook displays); this script only renders
the records: the README's table (one row per record, one bottom-line sentence per paper, counted
from the records) and ``docs/results.md`` (each record in full, with its figure). It also writes
the "full" column of the README's notebook table from ``docs/full/timings.json`` (seconds and the
cache state of each notebook's last full-profile run).
``tests/test_results_doc.py`` runs ``--check``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.bomrl import claims as paper2  # noqa: E402
from lib.claims import Tables, bottom_line  # noqa: E402
from lib.trust_region_meta import claims as paper1  # noqa: E402

FULL = ROOT / "data" / "full"
RESULTS = ROOT / "docs" / "results.md"
README = ROOT / "README.md"
START, END = "<!-- verdicts:start (tools/write_results.py) -->", "<!-- verdicts:end -->"
TIMINGS = ROOT / "docs" / "full" / "timings.json"
CACHE_STATES = ("empty", "items cached", "checkpoints")
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


def duration(seconds: float) -> str:
    """``8 s``, ``7 min``, ``1.8 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def full_time(notebook: str, entry: dict, root: Path = FULL) -> str:
    """The README's "full" cell of one notebook: its last full run's time and what it started from.
    A run resumed from committed checkpoints also names the compute its items hold (the sum of
    their meta-iterations' seconds in ``history.csv``, in core-hours)."""
    if entry["cache"] not in CACHE_STATES:
        raise ValueError(f"{notebook}: cache must be one of {CACHE_STATES}, got {entry['cache']!r}")
    text = duration(entry["seconds"])
    if entry["cache"] == "items cached":
        return f"{text} (items cached)"
    if entry["cache"] == "checkpoints":
        history = pd.read_csv(root / notebook / "history.csv")
        core_h = history[["sample_s", "adapt_s", "outer_s"]].to_numpy().sum() / 3600
        return f"{text} (checkpoints; run {core_h:.0f} core-h)"
    return text


def readme_with(verdicts: str, timings: dict | None = None) -> str:
    """The README with the verdict block and each notebook row's last cell (full time) rewritten."""
    text = README.read_text()
    a, b = text.index(START) + len(START), text.index(END)
    text = text[:a] + "\n" + verdicts + "\n" + text[b:]
    for name, entry in (timings or {}).items():
        stem = name.removesuffix(".ipynb")
        row = re.compile(rf"^(\| \[{re.escape(stem)}\]\(notebooks/{re.escape(name)}\) \|.*\| )[^|]*( \|)$", re.M)
        text, n = row.subn(lambda m, e=entry, s=stem: m.group(1) + full_time(s, e) + m.group(2), text)
        if n != 1:
            raise ValueError(f"README has {n} notebook-table rows for {name}")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are not what the records say")
    args = parser.parse_args()
    doc, verdicts = render(records())
    readme = readme_with(verdicts, json.loads(TIMINGS.read_text()))
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
