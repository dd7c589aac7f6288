"""Confidence intervals for learning curves (the paper: mean +- 90% c.i. over 30 runs)."""
from __future__ import annotations

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
    """Bootstrap confidence interval of mean(a - b) for paired samples.

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
    diff = a - b
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_boot, len(diff)))
    means = diff[idx].mean(axis=1)
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(diff.mean()), float(lo), float(hi)


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
    """Bootstrap interval of a grand mean over meta-models and runs, resampling both levels.

    Level 1 draws M meta-models with replacement; level 2 draws, inside each drawn meta-model,
    R runs with replacement. The interval therefore covers the spread between meta-models
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
    m, r = x.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, m, size=(n_boot, m))
    cols = rng.integers(0, r, size=(n_boot, m, r))
    means = np.nanmean(x[rows[:, :, None], cols], axis=(1, 2))
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return float(np.nanmean(x)), float(lo), float(hi)


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
