"""Open-loop λ schedules and the schedule control (lib/trust_region_meta/schedules.py,
schedule_control.py, claims.schedule_control): replay, the t-only model's inputs and known optimum,
and a choice made on validation runs only."""
import numpy as np
import pandas as pd
import pytest

from lib.claims import Tables
from lib.io import save_table
from lib.trust_region_meta import claims as c1
from lib.trust_region_meta.learning import learn, run_setup
from lib.trust_region_meta.schedule_control import best_by_endpoint
from lib.trust_region_meta.schedules import (
    fit_t_only,
    geometric,
    greedy_schedule,
    modal_schedule,
    schedule_grid,
    schedule_run,
    two_phase,
)
from tests.test_study_claims import figure_tables, runs_table


def test_two_phase_and_geometric_schedules():
    assert two_phase(1.0, 2, 1e-3, 5) == (1.0, 1.0, 1e-3, 1e-3, 1e-3)
    assert geometric(1.0, 0.1, 1e-3, 5) == pytest.approx((1.0, 0.1, 0.01, 1e-3, 1e-3))
    grid = schedule_grid(45)
    assert len(grid) == 29 and len(set(grid.values())) == 29 and all(len(s) == 45 for s in grid.values())
    with pytest.raises(ValueError, match="switch"):
        two_phase(1.0, 6, 1e-3, 5)
    with pytest.raises(ValueError, match="ratio"):
        geometric(1.0, 1.5, 1e-3, 5)


def test_modal_schedule_takes_the_smaller_of_tied_modes_and_holds_the_last_one():
    runs = pd.DataFrame({"step": [0, 0, 0, 1, 1, 2, 2, 3], "kl_bound": [1, 1, 0.1, 0.2, 1e-3, 1e-3, 1e-3, np.nan]})
    assert modal_schedule(runs, 5) == (1.0, 1e-3, 1e-3, 1e-3, 1e-3)


def test_an_open_loop_replay_reproduces_a_state_dependent_run_exactly():
    """A meta-policy that reads φ_t (here: its first metafeature against a threshold) and the replay
    of the λ sequence it chose, with no features computed: the same returns at every step."""
    task, key = run_setup("cartpole", "test", 0, 1)
    closed = learn("cartpole", task, lambda t, phi: 1.0 if phi[0] > -3.0 else 0.01, "xTRPO", n_updates=6, n_traj=4,
                   seed=0, key=key, with_features=True, max_points=200)
    lam = tuple(closed.kl_bound.dropna())
    assert len(set(lam)) == 2, "the test needs a policy that changes its λ"
    replay = schedule_run("cartpole", "test", 1, (0, 0), lam, n_traj=4, seed=0)
    np.testing.assert_array_equal(replay.ret.to_numpy(), closed.ret.to_numpy())
    other = schedule_run("cartpole", "test", 1, (0, 0), lam[::-1], n_traj=4, seed=0)
    assert not np.array_equal(other.ret.to_numpy(), closed.ret.to_numpy())


def t_dataset(rng, n=600):
    """Tuples where λ = 1 gains 1 at t < 2 and λ = 1e-3 gains 1 from t = 2 on (others gain 0), with
    metafeature columns that carry a misleading signal."""
    t = rng.integers(0, 6, n)
    kl = rng.choice([1e-3, 0.1, 1.0], n)
    reward = np.where(t < 2, kl == 1.0, kl == 1e-3).astype(float) + rng.normal(0, 0.05, n)
    return pd.DataFrame({"t": t, "kl_bound": kl, "meta_reward": reward, "phi:H_s_t": rng.normal(size=n)})


def test_the_t_only_model_sees_t_and_lambda_only_and_finds_the_known_schedule():
    rng = np.random.default_rng(0)
    d = t_dataset(rng)
    models = fit_t_only(d, (1e-3, 0.1, 1.0), 2, 0.02, n_estimators=20)
    assert models[-1].forest.n_features_in_ == 2
    assert greedy_schedule(models[0], 6) == two_phase(1.0, 2, 1e-3, 6)
    scrambled = d.assign(**{"phi:H_s_t": rng.normal(size=len(d)) * 100})
    assert greedy_schedule(fit_t_only(scrambled, (1e-3, 0.1, 1.0), 2, 0.02, n_estimators=20)[-1], 6) == \
        greedy_schedule(models[-1], 6)


def control_tables(root, rng, n_runs=20, n_models=3):
    """Notebook 14's tables for one Cartpole panel: grid schedule "A" best on validation (level 12),
    "B" best on test (level 30); modal and t-only schedules per meta-model; Meta-KL at level 10."""
    figure_tables(root, env="cartpole", meta_level=10.0, n_models=n_models, n_runs=n_runs, stage="08_figure3",
                  panel="MLP(1,16)")
    val = pd.concat([runs_table(rng, 10, 6, lv, panel="MLP(1,16)", schedule=s) for s, lv in (("A", 12.0), ("B", 5.0))])
    test = pd.concat([runs_table(rng, n_runs, 6, lv, panel="MLP(1,16)", schedule=s)
                      for s, lv in [("A", 0.0), ("B", 30.0)] + [(f"{k} m{m}", 0.0) for k in ("modal", "t-only")
                                                              for m in range(n_models)]])
    sched = pd.DataFrame([dict(panel="MLP(1,16)", kind="grid", meta_seed=-1, schedule=s, lambdas="1") for s in "AB"])
    for name, df in dict(grid_val_runs=val, test_runs=test, schedules=sched).items():
        save_table(df, root / "14_lambda_schedules" / f"{name}.csv", params={"seed": 0})
    return Tables(root)


def test_the_grid_schedule_is_chosen_on_validation_runs_only(tmp_path):
    rng = np.random.default_rng(1)
    t = control_tables(tmp_path, rng)
    assert best_by_endpoint(t["14_lambda_schedules/grid_val_runs"]) == {"final": "A", "auc": "A"}
    comps = c1.control_comparisons(t, "08_figure3", "MLP(1,16)")
    grid = [c for c in comps if c1.control_kind(c) == "grid"]
    assert all("“A”" in c.contrast for c in grid)
    assert all(c.outcome == "supports" and c.estimate == pytest.approx(10.0, abs=1.0) for c in grid)
    # the modal and t-only schedules sit at level 0 too: Meta-KL (10) beats them
    assert all(c.outcome == "supports" for c in comps)
    # B's test runs are far better, and making them better still changes nothing
    test = t["14_lambda_schedules/test_runs"]
    test.loc[test.schedule == "B", "ret"] += 100
    save_table(test, tmp_path / "14_lambda_schedules" / "test_runs.csv", params={"seed": 0})
    again = c1.control_comparisons(Tables(tmp_path), "08_figure3", "MLP(1,16)")
    assert [c.estimate for c in again] == [c.estimate for c in comps]


def test_a_schedule_as_good_as_meta_kl_contradicts_the_claim(tmp_path):
    """A tie: the interval holds 0 and lies below the margin δ, so "Meta-KL beats it" is contradicted."""
    rng = np.random.default_rng(2)
    t = control_tables(tmp_path, rng)
    test = t["14_lambda_schedules/test_runs"]
    test.loc[test.schedule.str.startswith("t-only"), "ret"] += 10.0  # the t-only schedules match Meta-KL
    save_table(test, tmp_path / "14_lambda_schedules" / "test_runs.csv", params={"seed": 0})
    comps = c1.control_comparisons(Tables(tmp_path), "08_figure3", "MLP(1,16)")
    t_only = [c for c in comps if c1.control_kind(c) == "t-only"]
    assert [c.outcome for c in t_only] == ["contradicts", "contradicts"]
    assert all(abs(c.estimate) < 1 and c.hi < c.margin for c in t_only)
