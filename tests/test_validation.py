"""Meta-validation helpers of lib.trust_region_meta.validation (the runs themselves are exercised by notebook 05)."""
import numpy as np
import pandas as pd
import pytest

from lib.trust_region_meta.validation import exact_feature_comparison


def _runs(effect: float, spread: float, n_models: int = 4, n_runs: int = 12, seed: int = 0) -> pd.DataFrame:
    """Per-step tables: k-NN returns ~ N(0, 1) per run; exact = k-NN + effect + meta-model offset."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(n_models):
        offset = rng.normal(0, spread)
        for r in range(n_runs):
            base = rng.normal()
            for step in range(3):
                rows.append(dict(env="minigolf", meta_seed=m, features="knn", run=r, step=step, ret=base + step))
                rows.append(dict(env="minigolf", meta_seed=m, features="exact-policy", run=r, step=step,
                                 ret=base + step + effect + offset + 0.1 * rng.normal()))
    return pd.DataFrame(rows)


def test_exact_feature_comparison_recovers_a_known_paired_effect():
    table = exact_feature_comparison(_runs(effect=2.0, spread=0.0))
    pooled = table[table.meta_seed == "pooled"].iloc[0]
    assert pooled.n_runs == 48
    assert pooled["diff"] == pytest.approx(2.0, abs=0.05)
    assert pooled.lo < 2.0 < pooled.hi and pooled.verdict == "exact better"
    per_model = table[table.meta_seed != "pooled"]
    assert len(per_model) == 4 and (per_model.verdict == "exact better").all()
    assert np.allclose(per_model.exact - per_model.knn, per_model["diff"])


def test_pooled_interval_widens_with_the_spread_between_meta_models():
    """A meta-model effect that averages to ~0: each model's own interval is narrow and misses 0,
    the pooled two-level interval covers the between-model spread."""
    narrow = exact_feature_comparison(_runs(effect=0.0, spread=0.0, seed=1))
    wide = exact_feature_comparison(_runs(effect=0.0, spread=3.0, seed=1))
    width = lambda t: float((t.hi - t.lo)[t.meta_seed == "pooled"].iloc[0])
    assert width(wide) > 5 * width(narrow)
    assert (wide[wide.meta_seed != "pooled"].verdict != "indistinguishable").sum() >= 3
