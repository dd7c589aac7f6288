"""Paper 2's Frozen Lake study (lib.bomrl.frozen_lake_study) on a tiny configuration."""
import numpy as np
import pandas as pd
import pytest

from lib.bomrl import frozen_lake_study
from lib.cache import job_key
from lib.profiles import resolve


@pytest.fixture(scope="module")
def tiny():
    cfg = resolve("bomrl", "quick", goal_radii=(6,), n_train_tasks=6, n_test_tasks=5, checkpoints=(0, 2),
                  batch_size=3, n_seeds=1, n_adapt_steps=2, n_jobs=1)
    return cfg, frozen_lake_study.run_item(cfg, 6, 0)


def test_every_method_starts_from_the_same_policy(tiny):
    cfg, out = tiny
    c = out["curves"]
    assert set(c.method) == set(frozen_lake_study.METHOD_ORDER)
    start = c[(c.K == 0) & (c.step == 0)]
    np.testing.assert_allclose(start.J, start.J.iloc[0], atol=1e-12)  # phi = 0 for all at K = 0
    assert (c.gap > -1e-9).all()
    scratch = c[c.method == "Uniform init + Alg(1)"].pivot(index="step", columns="K", values="J")
    np.testing.assert_allclose(scratch[0], scratch[2], atol=1e-12)  # no meta-training


def test_same_config_same_numbers_and_tasks_shared_across_methods(tiny):
    cfg, out = tiny
    again = frozen_lake_study.run_item(cfg, 6, 0)
    pd.testing.assert_frame_equal(out["curves"], again["curves"])
    train, test = frozen_lake_study.draw_tasks(cfg, 6, 0)
    assert test.maps == frozen_lake_study.draw_tasks(cfg, 6, 0)[1].maps and train.maps != test.maps
    assert out["curves"].groupby("method").J_star.nunique().eq(1).all()


def test_comparison_verdicts_and_fits_match_their_constructed_inputs(tiny):
    cfg, out = tiny
    c = out["curves"]
    final = c[c.K == 2].assign(seed=0)
    # the second seed shifts every method's gap by the same 0.01: each paired difference is the
    # same in both seeds, so the interval has width 0 and the verdict is the sign of seed 0's
    two = pd.concat([final, final.assign(seed=1, gap=final.gap + 0.01)], ignore_index=True)
    cmp = frozen_lake_study.compare_gaps(two, (6,), (1,))
    assert len(cmp) == len(frozen_lake_study.METRIC_OF) * 2  # every BO-MRL metric against both baselines
    step1 = final[final.step == 1].set_index("method").gap
    for row in cmp.itertuples():
        d = step1[row.method] - step1[row.baseline]
        assert row.diff == pytest.approx(d) and row.lo == pytest.approx(d) and row.hi == pytest.approx(d)
        assert row.verdict == ("smaller" if d < 0 else "larger" if d > 0 else "indistinguishable")
    fit = frozen_lake_study.fit_slope([0, 1, 2, 3], [1, 3, 5, 7.0])
    assert fit["slope"] == pytest.approx(2.0) and fit["lo"] == pytest.approx(2.0)
    key = lambda c: job_key(frozen_lake_study.run_item, dict(cfg=c, goal_radius=6, seed=0), ignore=frozen_lake_study.ITEM_IGNORES)
    assert key(cfg) != key(resolve("bomrl", "quick", lam_kl=0.1))
    assert key(resolve("bomrl", "quick")) == key(resolve("bomrl", "quick", n_seeds=5, n_jobs=1))  # which items exist, not what one computes
