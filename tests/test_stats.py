"""Confidence intervals: coverage against known distributions, seeded bootstrap."""
import numpy as np
import pandas as pd
import pytest

from lib.stats import curve_summary, paired_bootstrap_diff, t_interval


def test_t_interval_covers_the_mean_at_its_level():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(2000):
        _, lo, hi = t_interval(rng.normal(3.0, 2.0, size=30), level=0.9)
        hits += lo <= 3.0 <= hi
    assert abs(hits / 2000 - 0.9) < 0.02


def test_paired_bootstrap_is_seeded_and_detects_a_shift():
    rng = np.random.default_rng(1)
    base = rng.normal(size=30)
    a, b = base + 0.5 + 0.1 * rng.normal(size=30), base
    r1 = paired_bootstrap_diff(a, b, seed=3)
    assert r1 == paired_bootstrap_diff(a, b, seed=3)
    mean, lo, hi = r1
    assert 0.4 < lo < mean < hi < 0.6  # pairing removes the large shared noise
    m0, lo0, hi0 = paired_bootstrap_diff(base, base)
    assert m0 == lo0 == hi0 == 0.0


def test_curve_summary_is_the_student_t_interval_per_step():
    df = pd.DataFrame(dict(g=["a"] * 6, step=[0, 1, 0, 1, 0, 1], ret=[1, 2, 3, 4, 5, 6.0]))
    s = curve_summary(df, by=["g"])
    assert list(s["mean"]) == [3.0, 4.0] and (s.n == 3).all()
    # values 1, 3, 5 (and 2, 4, 6): sd 2, n 3, t_{0.95, 2} = 2.919986: half-width 2.919986 * 2 / sqrt(3)
    half = 2.919985580 * 2 / 3 ** 0.5
    assert (s.hi - s["mean"]).tolist() == pytest.approx([half, half], rel=1e-8)
    assert (s["mean"] - s.lo).tolist() == pytest.approx([half, half], rel=1e-8)
