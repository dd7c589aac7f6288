"""Confidence intervals: learning-curve bands and the one interval routine of every comparison.

:func:`interval` is the study's one routine for an interval of a statistic (mean, median,
10 %-trimmed mean) of paired differences or scores, with the unit of replication as a parameter:
``"both"`` (two-level bootstrap: units such as meta-models or seeds, then cells inside each),
``"unit"`` (the statistic per unit, then a Student-t interval over the units) or ``"cells"``
(one-level bootstrap). :func:`paired_bootstrap_diff` and :func:`two_level_bootstrap` are its
``"cells"`` and ``"both"`` cases; the verdicts (:mod:`lib.claims`) call it directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


def t_interval(values, level: float = 0.9):
    """Mean and Student-t confidence interval of the mean.

    Args:
        values: 1-D sample. level: coverage (0.9 in the paper).
    Returns:
        ``(mean, lo, hi)``; lo = hi = mean for fewer than 2 values.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    mean = x.mean() if len(x) else np.nan
    if len(x) < 2:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return mean, mean - half, mean + half


def curve_summary(df: pd.DataFrame, by: list[str], x: str = "step", y: str = "ret",
                  level: float = 0.9) -> pd.DataFrame:
    """Mean and t-interval of ``y`` over runs, per group ``by`` and per ``x``.

    Returns:
        tidy table with columns ``by + [x, "mean", "lo", "hi", "n"]``.
    """
    rows = []
    for keys, group in df.groupby(by + [x], sort=True):
        mean, lo, hi = t_interval(group[y].to_numpy(), level)
        rows.append((*keys, mean, lo, hi, int(group[y].notna().sum())))
    return pd.DataFrame(rows, columns=by + [x, "mean", "lo", "hi", "n"])


def curve_quantiles(df: pd.DataFrame, by: list[str], x: str = "step", y: str = "ret",
                    q: tuple = (0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Median and inter-quartile band of ``y`` over runs, per group ``by`` and per ``x``: the curve
    to draw where a few diverging runs decide the mean (columns as :func:`curve_summary`:
    ``mean`` holds the median, ``lo``/``hi`` the quartiles)."""
    g = df.groupby(by + [x], sort=True)[y]
    out = g.quantile(list(q)).unstack()
    out.columns = ["lo", "mean", "hi"]
    out["n"] = g.count()
    return out.reset_index()[by + [x, "mean", "lo", "hi", "n"]]


def paired_bootstrap_diff(a, b, level: float = 0.9, n_boot: int = 10000, seed: int = 0):
    """Bootstrap confidence interval of mean(a - b) for paired samples (:func:`interval`, ``unit="cells"``).

    Runs are paired by index (common random numbers: run i of both methods shares its task,
    initial policy and first batch), so runs are resampled jointly.

    Args:
        a, b: (n,) per-run scores of two methods. level: coverage.
        n_boot: bootstrap resamples. seed: resampling stream (an explicit Generator;
            the result does not depend on any global state).
    Returns:
        ``(mean_diff, lo, hi)`` (percentile interval).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples need equal 1-D shapes, got {a.shape} and {b.shape}")
    e = interval(a - b, "cells", level=level, n_boot=n_boot, seed=seed)
    return e.estimate, e.lo, e.hi


def per_run_scores(runs: pd.DataFrame, keys: list[str], last: int = 3) -> pd.DataFrame:
    """Final return (mean of the last ``last`` steps) and AUC (mean over steps) per run.

    ``keys`` may be empty (one group of runs); the last step is taken per group of ``keys``.
    """
    max_step = runs.groupby(keys)["step"].transform("max") if keys else runs.step.max()
    final = runs[runs.step > max_step - last].groupby(keys + ["run"])["ret"].mean().rename("final")
    auc = runs.groupby(keys + ["run"])["ret"].mean().rename("auc")
    return pd.concat([final, auc], axis=1).reset_index()


def verdict(lo: float, hi: float, above: str = "better", below: str = "worse",
            neither: str = "indistinguishable") -> str:
    """Read an interval ``[lo, hi]`` of a difference: ``above`` if it lies above 0, ``below``
    if below 0, ``neither`` if it contains 0 (a NaN bound also reads as ``neither``)."""
    if lo > 0:
        return above
    if hi < 0:
        return below
    return neither


def two_level_bootstrap(values, level: float = 0.9, n_boot: int = 10000, seed: int = 0):
    """Bootstrap interval of a grand mean over meta-models and runs, resampling both levels
    (:func:`interval`, ``unit="both"``).

    Level 1 draws M meta-models with replacement; level 2 draws, inside each drawn meta-model,
    its runs with replacement. The interval therefore covers the spread between meta-models
    (a new meta-dataset and FQI fit) as well as between runs; a paired per-run bootstrap of
    one meta-model covers only the second.

    Args:
        values: (M, R) per-run scores or paired differences, row m = meta-model m, column r =
            run r (NaN where a run is missing). level: coverage. n_boot: resamples.
        seed: the resampling stream (an explicit Generator).
    Returns:
        ``(mean, lo, hi)``: the mean over all cells and its percentile interval.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or min(x.shape) < 1:
        raise ValueError(f"values must be a non-empty (meta-models, runs) matrix, got shape {x.shape}")
    e = interval(x, "both", level=level, n_boot=n_boot, seed=seed)
    return e.estimate, e.lo, e.hi


def run_slopes(runs: pd.DataFrame, keys: list[str], x: str = "step", y: str = "log_kl") -> pd.DataFrame:
    """Least-squares slope of ``y`` against ``x`` within every run (e.g. log10 λ per learning step).

    Returns:
        ``keys + ["run", "slope"]``, one row per run with at least two distinct ``x``.
    """
    d = runs.dropna(subset=[y])
    dx = d[x] - d.groupby(keys + ["run"])[x].transform("mean")
    dy = d[y] - d.groupby(keys + ["run"])[y].transform("mean")
    parts = pd.DataFrame({"xy": dx * dy, "xx": dx * dx}).groupby([d[k] for k in keys + ["run"]]).sum()
    parts = parts[parts.xx > 0]
    return (parts.xy / parts.xx).rename("slope").reset_index()


def _check(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


STATISTICS = ("mean", "median", "trimmed mean")
UNITS = ("both", "unit", "cells")
TRIM = 0.1  # the trimmed mean drops this share of each tail


def statistic_of(x: np.ndarray, statistic: str = "mean") -> np.ndarray:
    """The statistic along the last axis, ignoring NaN (padding of unequal units).

    Args:
        x: (..., n) values. statistic: one of :data:`STATISTICS` (``"trimmed mean"`` drops
            ``floor(0.1 n)`` values at each end of each row's n finite values).
    Returns:
        (...,) array.
    """
    _check("statistic", statistic, STATISTICS)
    x = np.asarray(x, dtype=np.float64)
    if statistic == "mean":
        return np.nanmean(x, axis=-1)
    if statistic == "median":
        return np.nanmedian(x, axis=-1)
    s = np.sort(x, axis=-1)  # NaN sorts last
    n = np.isfinite(s).sum(axis=-1)
    k = np.floor(TRIM * n).astype(int)
    csum = np.concatenate([np.zeros(s.shape[:-1] + (1,)), np.cumsum(np.nan_to_num(s), axis=-1)], axis=-1)
    hi = np.take_along_axis(csum, (n - k)[..., None], axis=-1)[..., 0]
    lo = np.take_along_axis(csum, k[..., None], axis=-1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (hi - lo) / (n - 2 * k)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval: ``estimate, lo, hi``; ``per_unit``: the statistic of
    each unit (meta-model or seed); ``draws``: the bootstrap draws (empty for ``unit="unit"``)."""

    estimate: float
    lo: float
    hi: float
    per_unit: tuple
    n_units: int
    n_cells: int
    draws: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)


def interval(values, unit: str = "both", statistic: str = "mean", level: float = 0.9, n_boot: int = 10000,
             seed: int = 0) -> Estimate:
    """The interval of a statistic of ``values`` for a chosen unit of replication.

    Args:
        values: (units, cells) matrix (NaN where a cell is missing), e.g. meta-models x runs or
            seeds x goals; a 1-D array is one unit's cells.
        unit: ``"both"``: resample units, then cells inside each drawn unit (percentile
            interval); ``"unit"``: the statistic of each unit, then the mean over units with a
            Student-t interval (units - 1 degrees of freedom): the unit is the replicate;
            ``"cells"``: resample all cells alike (percentile interval).
        statistic: one of :data:`STATISTICS`, of all cells (``"both"``, ``"cells"``) or within
            each unit (``"unit"``).
        level: coverage. n_boot: bootstrap resamples. seed: the resampling stream.
    Returns:
        :class:`Estimate`; with ``unit="unit"`` and one unit, lo = hi = NaN.
    """
    _check("unit", unit, UNITS)
    _check("statistic", statistic, STATISTICS)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.size == 0 or not np.isfinite(x).any():
        raise ValueError(f"values must be a non-empty (units, cells) matrix with finite cells, got shape {x.shape}")
    x = x[np.isfinite(x).any(axis=1)]
    m, r = x.shape
    per_unit = statistic_of(x, statistic)
    n_cells = int(np.isfinite(x).sum())
    tail = (1 - level) / 2
    if unit == "unit":
        est = float(per_unit.mean())
        if m < 2:
            return Estimate(est, np.nan, np.nan, tuple(per_unit), m, n_cells)
        half = stats.t.ppf(1 - tail, m - 1) * per_unit.std(ddof=1) / np.sqrt(m)
        return Estimate(est, est - half, est + half, tuple(per_unit), m, n_cells)
    rng = np.random.default_rng(seed)
    if unit == "both":
        # each drawn unit resamples its own finite cells (as many as it has); padding stays NaN
        finite = np.isfinite(x)
        packed = np.take_along_axis(x, np.argsort(~finite, axis=1, kind="stable"), axis=1)
        counts = finite.sum(axis=1)
        rows = rng.integers(0, m, size=(n_boot, m))
        n = counts[rows][:, :, None]
        if (counts == r).all():  # no padding: the draws of the earlier two_level_bootstrap, number for number
            cols = rng.integers(0, r, size=(n_boot, m, r))
        else:
            cols = np.floor(rng.random((n_boot, m, r)) * n).astype(int)
        cells = np.where(np.arange(r)[None, None, :] < n, packed[rows[:, :, None], cols], np.nan)
        draws = statistic_of(cells.reshape(n_boot, m * r), statistic)
    else:
        flat = x[np.isfinite(x)]
        draws = statistic_of(flat[rng.integers(0, len(flat), size=(n_boot, len(flat)))], statistic)
    lo, hi = np.nanquantile(draws, [tail, 1 - tail])
    est = float(statistic_of(x.reshape(-1), statistic))
    return Estimate(est, float(lo), float(hi), tuple(per_unit), m, n_cells, draws)


def difference_of(a: Estimate, b: Estimate, level: float = 0.9) -> tuple[float, float, float]:
    """``(a - b, lo, hi)`` for two unpaired estimates from their independent bootstrap draws."""
    if not len(a.draws) or not len(b.draws):
        raise ValueError("an unpaired difference needs the bootstrap draws of both estimates (unit 'both' or 'cells')")
    d = a.draws - b.draws[: len(a.draws)]
    tail = (1 - level) / 2
    lo, hi = np.nanquantile(d, [tail, 1 - tail])
    return a.estimate - b.estimate, float(lo), float(hi)
