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
