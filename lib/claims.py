"""Claims a referee can check: one record per README row, endpoints fixed in advance.

Every verdict of the study is a :class:`Claim`, built by one function per README row
(``lib/trust_region_meta/claims.py``, ``lib/bomrl/claims.py``) from the committed tables. The
notebook displays the record, ``tools/write_results.py`` renders the same record into the
README and ``docs/results.md``: there is no second judge. The rules (statistic, margin, unit
of replication, exclusions) are written in ``docs/preregistration.md`` and carried by each
record.

* :func:`lib.stats.interval` (re-exported here): the one interval routine of both papers. ``values`` is a (units, cells)
  matrix of paired differences (or scores); ``unit`` says what is resampled: ``"both"``
  (units, then cells inside each: the two-level bootstrap), ``"unit"`` (the unit is the unit
  of replication: the statistic per unit, then a Student-t interval over the units) or
  ``"cells"`` (every cell alike, one-level bootstrap). ``statistic``: mean, median or the
  10 %-trimmed mean. rliable's ``get_interval_estimates`` is the model.
* :func:`outcome`: what an interval says about one endpoint of a claim, for a
  ``"superiority"`` claim ("beats": the interval lies above 0) or a ``"non-inferiority"`` claim
  ("as good as": its lower bound lies above -δ).
* :func:`verdict_of`: the claim's word from its counted comparisons (:data:`VERDICTS`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lib.stats import STATISTICS, UNITS, Estimate, difference_of, interval, statistic_of  # noqa: F401 (the routine)

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "not testable at this budget")
OUTCOMES = ("supports", "contradicts", "inconclusive")
KINDS = ("superiority", "non-inferiority", "agreement")


def _check(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


# --- what an interval says about a claim ---------------------------------------------------

def outcome(lo: float, hi: float, kind: str, margin: float = 0.0) -> str:
    """One endpoint's outcome for a claim, from the interval ``[lo, hi]`` of (method - baseline),
    oriented so that larger is better.

    * ``"superiority"`` ("beats"): supports if lo > 0; contradicts if hi < margin (any gain is
      below the margin; with margin 0: significantly worse); else inconclusive.
    * ``"non-inferiority"`` ("as good as"): supports if lo > -margin; contradicts if hi < -margin;
      else inconclusive.
    * ``"agreement"`` (a reported value, subtracted): supports if the interval holds 0, else contradicts.
    """
    _check("kind", kind, KINDS)
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "inconclusive"
    if kind == "agreement":
        return "supports" if lo <= 0 <= hi else "contradicts"
    if kind == "superiority":
        return "supports" if lo > 0 else "contradicts" if hi < margin else "inconclusive"
    return "supports" if lo > -margin else "contradicts" if hi < -margin else "inconclusive"


def verdict_of(outcomes, testable: bool = True) -> str:
    """The claim's word: ``not testable at this budget`` if ``testable`` is false or nothing is
    counted; ``reproduced`` if every counted outcome supports; ``not reproduced`` if any
    contradicts; ``inconclusive`` otherwise."""
    outcomes = list(outcomes)
    if not testable or not outcomes:
        return "not testable at this budget"
    if all(o == "supports" for o in outcomes):
        return "reproduced"
    if any(o == "contradicts" for o in outcomes):
        return "not reproduced"
    return "inconclusive"


# --- the record ------------------------------------------------------------------------------

def fmt(x: float, spec: str = ".3g") -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:{spec}}"


def ci_text(est: float, lo: float, hi: float, spec: str = ".3g") -> str:
    return f"{fmt(est, spec)} [{fmt(lo, spec)}, {fmt(hi, spec)}]"


@dataclass(frozen=True)
class Comparison:
    """One endpoint of one panel of a claim.

    Attributes:
        panel: the panel (environment, architecture, family, cell).
        endpoint: e.g. ``"AUC"``, ``"final return"``.
        contrast: what is subtracted from what, e.g. ``"Meta-KL − Fixed-KL (xTRPO, λ = 0.05)"``.
        statistic, unit: as in :func:`interval` (``unit`` in words).
        kind, margin: as in :func:`outcome`.
        estimate, lo, hi: the difference and its interval (larger = better for the method).
        per_unit: ``"k of M"`` text, e.g. meta-models or seeds whose own interval supports.
        outcome: :func:`outcome`'s word, or ``"not counted"``.
        counted: whether it enters the verdict and the headline counts.
        note: why not counted, or what else to know (e.g. the goal-level interval).
    """

    panel: str
    endpoint: str
    contrast: str
    statistic: str
    unit: str
    kind: str
    margin: float
    estimate: float
    lo: float
    hi: float
    per_unit: str
    outcome: str
    counted: bool = True
    note: str = ""

    def line(self) -> str:
        margin = f", δ = {fmt(self.margin)}" if self.kind == "non-inferiority" else ""
        extra = f"; {self.per_unit}" if self.per_unit else ""
        note = f"; {self.note}" if self.note else ""
        value = (f" = {ci_text(self.estimate, self.lo, self.hi)}" if np.isfinite(self.lo) and np.isfinite(self.hi)
                 else f" = {fmt(self.estimate)}" if np.isfinite(self.estimate) else "")
        return (f"{self.panel}, {self.endpoint}: {self.contrast}{value} "
                f"({self.statistic}, over {self.unit}; {self.kind}{margin}) → **{self.outcome}**{extra}{note}")


@dataclass(frozen=True)
class Claim:
    """One README row: the paper's claim, how it was tested, and what the tables say.

    Attributes:
        key: a short id (``"fig1"``). paper: 1 or 2. notebook: the stage that computes it.
        claim: the paper's claim in words ("(beyond the paper)" for our own questions).
        endpoint, margin, unit: the pre-registered rule in words (``docs/preregistration.md``).
        budget, paper_budget: what we ran beside what the paper ran.
        verdict: one of :data:`VERDICTS`.
        result: one short line for the README after the verdict word.
        comparisons: the endpoints (:class:`Comparison`).
        evidence: further lines (tables of numbers, the authors' logs, sensitivity).
        rests_on: the tables read, each ``stage/name (code pinned|predates code fingerprints)``.
        figure: the figure's stem in ``figures/`` (or ``""``).
    """

    key: str
    paper: int
    notebook: str
    claim: str
    endpoint: str
    margin: str
    unit: str
    budget: str
    paper_budget: str
    verdict: str
    result: str
    comparisons: tuple = ()
    evidence: tuple = ()
    rests_on: tuple = ()
    figure: str = ""

    def __post_init__(self):
        _check("verdict", self.verdict, VERDICTS)
        _check("paper", self.paper, (1, 2))

    def counts(self) -> dict:
        """Counted comparisons by outcome."""
        out = {o: 0 for o in OUTCOMES}
        for c in self.comparisons:
            if c.counted:
                out[c.outcome] += 1
        return out

    def row(self) -> str:
        """The README's table row."""
        return (f"| {self.claim} | **{self.verdict}** | {self.result} | "
                f"[{self.notebook[:2]}](notebooks/{self.notebook}.ipynb) |")

    def markdown(self, heading: str = "###") -> str:
        """The full record: what the notebook displays and ``docs/results.md`` holds."""
        lines = [f"{heading} {self.claim}", "", f"**Verdict: {self.verdict}.** {self.result}.", "",
                 f"* endpoint: {self.endpoint}", f"* margin: {self.margin}", f"* unit of replication: {self.unit}",
                 f"* budget: {self.budget} (paper: {self.paper_budget})"]
        if self.comparisons:
            lines += ["", "Comparisons (counted ones decide the verdict):", ""]
            lines += [f"* {c.line()}" for c in self.comparisons]
        if self.evidence:
            lines += ["", *self.evidence]
        if self.rests_on:
            lines += ["", "Rests on: " + "; ".join(f"`{r}`" for r in self.rests_on) + "."]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.markdown()


def bottom_line(claims, paper: int) -> str:
    """One sentence for a paper, counted from its records: how many of the paper's own claims
    (not the "beyond the paper" rows) got each verdict."""
    own = [c for c in claims if c.paper == paper and not c.claim.startswith("(beyond the paper)")]
    parts = [f"{sum(c.verdict == v for c in own)} {v}" for v in VERDICTS if any(c.verdict == v for c in own)]
    reproduced = [c.key for c in own if c.verdict == "reproduced"]
    tail = f" (reproduced: {', '.join(reproduced)})" if reproduced else ""
    return f"**Paper {paper}:** of its {len(own)} claims tested here, " + ", ".join(parts) + tail + "."


# --- the tables a record rests on ---------------------------------------------------------

class Tables:
    """The tables of one profile's data folder, loaded on first use (checked against their
    manifests) and remembered, with the list of those read (a record's ``rests_on``)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict = {}
        self.read: list[str] = []

    @classmethod
    def of(cls, profile: str) -> "Tables":
        """The tables of a profile's data folder (``data/quick`` or ``data/full``)."""
        from lib.paths import DATA, check_profile

        return cls(DATA / check_profile(profile))

    def __getitem__(self, key: str):
        from lib.io import load_table

        if key not in self._cache:
            self._cache[key] = load_table(self.root / f"{key}.csv")
        self.read.append(key)
        return self._cache[key]

    def exists(self, key: str) -> bool:
        return (self.root / f"{key}.csv").exists()

    def manifest(self, key: str) -> dict:
        return json.loads((self.root / f"{key}.manifest.json").read_text())

    def provenance(self, keys) -> tuple:
        """``stage/name (code <fingerprint>)`` or ``(predates code fingerprints)`` per key."""
        out = []
        for k in keys:
            m = self.manifest(k)
            code = m.get("code")
            pin = (f"code {code['fingerprint'][:12]}{', dirty' if code.get('dirty') else ''}" if code
                   else "manifest adopted: written before manifests" if "adopted" in m.get("params", {})
                   else "predates code fingerprints")
            out.append(f"{k} ({pin})")
        return tuple(out)

    def since(self, start: int) -> tuple:
        """The provenance of the tables read since ``len(self.read) == start``."""
        return self.provenance(dict.fromkeys(self.read[start:]))


def as_tables(t) -> Tables:
    """A :class:`Tables` as given, or the tables of a profile named by a string (``"quick"``, ``"full"``),
    so a notebook can write ``claims.figure1(profile)``."""
    return Tables.of(t) if isinstance(t, str) else t
