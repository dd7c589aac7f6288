"""Notebook 09's bookkeeping on synthetic runs whose answers are known."""
import numpy as np
import pandas as pd
import pytest

from lib.trust_region_meta.horizon import best_by_horizon, paired_gains
from lib.trust_region_meta.metadataset import remaining_gain


def delayed_sweep(n_runs=20, steps=11, seed=0):
    """λ = 0.1 loses 1 per step for 2 steps then gains 2 per step; λ = 0.01 gains 0.5 per step."""
    rng = np.random.default_rng(seed)
    rows = []
    for run in range(n_runs):
        j0 = rng.normal()
        for kl, path in ((0.01, lambda t: 0.5 * t), (0.1, lambda t: -t if t <= 2 else -2 + 2 * (t - 2))):
            for t in range(steps):
                rows.append(dict(env="e", algo="xTRPO", fixed_kl=kl, run=run, step=t, ret=j0 + path(t) + rng.normal(0, 0.1)))
    return pd.DataFrame(rows)


def test_paired_gains_find_a_delayed_payoff():
    gains = paired_gains(delayed_sweep(), horizons=(1, 2, 5))
    g = gains.set_index(["fixed_kl", "horizon"]).gain
    assert abs(g[(0.1, 1)] + 1) < 0.1 and abs(g[(0.01, 10)] - 5) < 0.1 and abs(g[(0.1, 10)] - 14) < 0.1
    best = best_by_horizon(gains).iloc[0]
    assert best["best λ at k=1"] == 0.01 and best["best λ at k=10"] == 0.1
    assert not best["one-step best = run best"]
    assert set(gains.n) == {20}


def test_remaining_gain_is_the_rest_of_the_run():
    ds = pd.DataFrame(dict(traj=[0, 0, 0, 1, 1], t=[0, 1, 2, 0, 1], ret=[1.0, 2.0, 4.0, 0.0, -1.0],
                           meta_reward=[1.0, 2.0, 3.0, -1.0, 5.0]))
    np.testing.assert_allclose(remaining_gain(ds), [6.0, 5.0, 3.0, 4.0, 5.0])


def test_coinciding_setups_reads_the_best_by_horizon_table():
    from lib.trust_region_meta import horizon
    names = list(horizon.SETUPS)
    best = pd.DataFrame({"setup": names, "env": "minigolf", "algo": "xTRPO",
                         "one-step best = run best": [False, True, False, True]})
    assert horizon.coinciding_setups(best) == [names[1], names[3]]
    assert horizon.coinciding_setups(best.assign(algo="TRPO")) == []
    empty = horizon.recipe_in_setups(None, [])
    assert list(empty["recipe_comparison"].columns) == horizon.RECIPE_COLUMNS and empty["recipe_runs"].empty


def test_the_run_gain_psi_is_chosen_on_validation_runs_per_meta_model(monkeypatch):
    """run_gain_validation runs every ψ on the validation split only and picks, per meta-model, the ψ
    with the best mean return over steps and runs (ties: the larger ψ, as notebook 05)."""
    from lib import profiles
    from lib.trust_region_meta import horizon

    cfg = profiles.resolve("meta", "quick", n_meta_models=2)
    best = {0: 0.05, 1: 0.2}
    calls = []

    def fake_runs(env, split, runs, archs, n_updates, n_traj, seed, path, grid, models, *args, **kwargs):
        calls.append((split, tuple(models), args[-1] if args else kwargs.get("target")))
        m = int(str(path)[-1])
        rows = [dict(env=env, algo="xTRPO", arch="MLP(0,0)", run=r, fqi_horizon=h, min_leaf=psi, step=s,
                     ret=float(psi == best[m]) + 0.01 * s, kl_bound=0.1)
                for h, psi in models for r in runs for s in range(3)]
        return pd.DataFrame(rows)

    monkeypatch.setattr(horizon, "meta_datasets", lambda cfg, name, env: {0: "m0", 1: "m1"})
    monkeypatch.setattr(horizon, "run_meta_kl", fake_runs)
    runs, psis = horizon.run_gain_validation(cfg)
    assert psis == best
    assert {c[0] for c in calls} == {"val"} and all(c[2] == "run-gain" for c in calls)
    assert all(models == tuple((0, p) for p in horizon.RUN_GAIN_PSIS) for _, models, _ in calls)
    assert list(runs.columns) == horizon.RUN_COLUMNS
    with pytest.raises(ValueError, match="validated"):
        horizon.target_runs(cfg)
