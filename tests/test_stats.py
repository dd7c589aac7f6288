"""Confidence intervals: coverage against known distributions, seeded bootstrap."""
import numpy as np
import pandas as pd
import pytest

from lib.stats import curve_summary, paired_bootstrap_diff, run_slopes, t_interval, two_level_bootstrap


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


def test_two_level_bootstrap_variance_is_the_nested_closed_form():
    """The bootstrap variance of the grand mean equals its closed form for nested resampling,
    (1/M) Var_m(row means) + (1/M^2) sum_m Var_r(row m) / R (plug-in variances)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 30)) + rng.normal(scale=2.0, size=(5, 1))
    m, r = x.shape
    rows = x.mean(axis=1)
    exact = rows.var() / m + (x.var(axis=1) / r).sum() / m**2
    rng_b = np.random.default_rng(2)
    idx_m = rng_b.integers(0, m, size=(40000, m))
    idx_r = rng_b.integers(0, r, size=(40000, m, r))
    boot = x[idx_m[:, :, None], idx_r].mean(axis=(1, 2))
    assert abs(boot.var() / exact - 1) < 0.03
    mean, lo, hi = two_level_bootstrap(x, level=0.9, n_boot=40000, seed=3)
    assert mean == pytest.approx(x.mean())
    # a normal 90 % interval of that variance, to the bootstrap's resolution
    assert (hi - lo) / (2 * 1.645 * np.sqrt(exact)) == pytest.approx(1, abs=0.05)


def test_two_level_bootstrap_covers_a_meta_model_effect_that_runs_alone_miss():
    """d[m, r] = a_m + e_mr with a_m ~ N(0, 1) (meta-model), e ~ N(0, 1) (run), true mean 0:
    the two-level interval covers 0 far more often than the runs-only interval of the same cells."""
    rng = np.random.default_rng(0)
    two, runs_only, n_sim = 0, 0, 300
    for i in range(n_sim):
        d = rng.normal(size=(5, 30)) + rng.normal(size=(5, 1))
        _, lo, hi = two_level_bootstrap(d, n_boot=2000, seed=i)
        two += lo <= 0 <= hi
        _, lo, hi = paired_bootstrap_diff(d.ravel(), np.zeros(d.size), n_boot=2000, seed=i)
        runs_only += lo <= 0 <= hi
    # 5 meta-models make the percentile interval a little narrow: ~0.8 for a nominal 0.9
    assert two / n_sim > 0.75
    assert runs_only / n_sim < 0.45


def test_run_slopes_recover_a_known_trend():
    steps = np.arange(20)
    rng = np.random.default_rng(0)
    rows = [pd.DataFrame(dict(env="e", run=r, step=steps, log_kl=-0.05 * r * steps + rng.normal(0, 0.01, 20)))
            for r in range(4)]
    slopes = run_slopes(pd.concat(rows), ["env"])
    np.testing.assert_allclose(slopes.slope, -0.05 * np.arange(4), atol=0.01)
    assert list(slopes.columns) == ["env", "run", "slope"]
