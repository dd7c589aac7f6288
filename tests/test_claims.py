"""The claim engine (lib/claims.py): the one interval routine, the endpoints' outcomes and the
records, on synthetic data whose answer is known."""
import numpy as np
import pytest
from scipy import stats

from lib.claims import (
    Claim,
    Comparison,
    difference_of,
    interval,
    outcome,
    statistic_of,
    verdict_of,
)


def test_statistics_agree_with_numpy_and_scipy_and_ignore_padding():
    rng = np.random.default_rng(0)
    x = rng.standard_t(2, size=(7, 23))
    x[3, 20:] = np.nan  # a shorter unit
    for row in x:
        v = row[np.isfinite(row)]
        assert statistic_of(row, "mean") == pytest.approx(v.mean())
        assert statistic_of(row, "median") == pytest.approx(np.median(v))
        assert statistic_of(row, "trimmed mean") == pytest.approx(stats.trim_mean(v, 0.1))
    assert statistic_of(x, "trimmed mean").shape == (7,)


def test_a_named_error_for_a_bad_unit_statistic_or_level():
    with pytest.raises(ValueError, match="unit"):
        interval(np.ones((2, 3)), unit="goals")
    with pytest.raises(ValueError, match="statistic"):
        interval(np.ones((2, 3)), statistic="mode")
    with pytest.raises(ValueError, match="level"):
        interval(np.ones((2, 3)), level=90)
    with pytest.raises(ValueError, match="kind"):
        outcome(0, 1, "equivalence")
    with pytest.raises(ValueError, match="verdict"):
        Claim(key="k", paper=1, notebook="02", claim="c", endpoint="e", margin="m", unit="u", budget="b",
              paper_budget="p", verdict="holds", result="r")


def test_the_unit_interval_is_the_t_interval_of_the_unit_means():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 40)) + np.arange(5)[:, None]
    est = interval(x, "unit")
    means = x.mean(axis=1)
    half = stats.t.ppf(0.95, 4) * means.std(ddof=1) / np.sqrt(5)
    assert (est.estimate, est.lo, est.hi) == pytest.approx((means.mean(), means.mean() - half, means.mean() + half))
    assert est.per_unit == pytest.approx(tuple(means))


def test_two_seeds_whose_goal_level_interval_excludes_zero_but_whose_seed_level_one_does_not():
    """The replication unit matters with 2 seeds: 20 goals each, seed means +30 and +2 (both above 0,
    far apart). Resampling goals inside seeds sees a precise positive mean; the seeds (1 degree of
    freedom) cannot exclude 0."""
    rng = np.random.default_rng(2)
    x = np.stack([30 + rng.normal(0, 5, 20), 2 + rng.normal(0, 5, 20)])
    both, unit = interval(x, "both"), interval(x, "unit")
    assert both.lo > 0 and outcome(both.lo, both.hi, "superiority") == "supports"
    assert unit.lo < 0 < unit.hi and outcome(unit.lo, unit.hi, "superiority") == "inconclusive"


def test_the_two_level_bootstrap_covers_the_spread_between_units():
    """Units that differ: resampling cells alone understates the uncertainty the units add."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (5, 30)) + np.array([-3, -1, 0, 1, 3])[:, None]
    both, cells = interval(x, "both"), interval(x, "cells")
    assert both.hi - both.lo > 2 * (cells.hi - cells.lo)
    assert both.estimate == pytest.approx(x.mean())


def test_non_inferiority_inside_and_outside_the_margin():
    rng = np.random.default_rng(4)
    slightly_worse = rng.normal(-0.5, 1, (5, 30))  # true difference -0.5
    est = interval(slightly_worse, "both")
    assert est.hi < 0  # significantly worse than the baseline ...
    assert outcome(est.lo, est.hi, "non-inferiority", margin=2.0) == "supports"  # ... but within δ = 2
    assert outcome(est.lo, est.hi, "non-inferiority", margin=0.1) == "contradicts"  # outside δ = 0.1
    wide = interval(rng.normal(-0.5, 60, (5, 30)), "both")  # a wide interval is no support
    assert outcome(wide.lo, wide.hi, "non-inferiority", margin=2.0) == "inconclusive"


def test_superiority_needs_the_interval_above_zero_and_fails_below_the_margin():
    assert outcome(0.1, 2.0, "superiority") == "supports"
    assert outcome(-0.1, 0.4, "superiority", margin=0.5) == "contradicts"  # any gain is below δ
    assert outcome(-0.1, 2.0, "superiority", margin=0.5) == "inconclusive"
    assert outcome(-2.0, -0.1, "superiority") == "contradicts"
    assert outcome(np.nan, np.nan, "superiority") == "inconclusive"
    assert outcome(-1, 1, "agreement") == "supports" and outcome(0.1, 1, "agreement") == "contradicts"


def test_heavy_tails_where_the_mean_and_the_median_disagree():
    """Elikoeidis-like runs: most pairs equal or slightly negative, a few huge positive outliers
    (a diverging baseline). The mean says 'better'; the median and the trimmed mean do not."""
    rng = np.random.default_rng(5)
    diffs = np.concatenate([rng.normal(-5, 2, 28), [5e4, 1.2e5]])  # 2 of 30 diverge
    x = np.stack([rng.permutation(diffs) for _ in range(5)])
    mean, med, trim = (interval(x, "both", s) for s in ("mean", "median", "trimmed mean"))
    assert mean.estimate > 1000 and outcome(mean.lo, mean.hi, "superiority") in ("supports", "inconclusive")
    assert med.hi < 0 and trim.hi < 0
    assert outcome(trim.lo, trim.hi, "superiority") == "contradicts"


def test_an_unpaired_difference_from_two_bootstrap_distributions():
    rng = np.random.default_rng(6)
    a = interval(rng.normal(3, 1, (5, 20)), "both", seed=1)
    b = interval(rng.normal(1, 1, 40), "cells", seed=2)
    d, lo, hi = difference_of(a, b)
    assert d == pytest.approx(a.estimate - b.estimate) and lo < d < hi and lo > 1
    with pytest.raises(ValueError, match="draws"):
        difference_of(interval(np.ones((3, 4)), "unit"), b)


def test_verdict_words():
    assert verdict_of(["supports", "supports"]) == "reproduced"
    assert verdict_of(["supports", "contradicts", "inconclusive"]) == "not reproduced"
    assert verdict_of(["supports", "inconclusive"]) == "inconclusive"
    assert verdict_of([]) == "not testable at this budget"
    assert verdict_of(["supports"], testable=False) == "not testable at this budget"


def test_a_record_renders_its_row_and_its_rules():
    comp = Comparison(panel="p", endpoint="AUC", contrast="A − B", statistic="mean", unit="seeds", kind="superiority",
                      margin=0.0, estimate=1.0, lo=0.5, hi=1.5, per_unit="2 of 2", outcome="supports")
    c = Claim(key="k", paper=2, notebook="13_bomrl_authors_locomotion", claim="A beats B", endpoint="AUC",
              margin="above 0", unit="seeds", budget="120 of 500", paper_budget="500", verdict="reproduced",
              result="1 [0.5, 1.5]", comparisons=(comp,))
    assert c.row() == ("| A beats B | **reproduced** | 1 [0.5, 1.5] | "
                       "[13](notebooks/13_bomrl_authors_locomotion.ipynb) |")
    text = c._repr_markdown_()
    assert "unit of replication: seeds" in text and "budget: 120 of 500 (paper: 500)" in text and "**supports**" in text
    assert c.counts() == {"supports": 1, "contradicts": 0, "inconclusive": 0}
