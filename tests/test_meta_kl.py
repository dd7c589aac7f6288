"""Meta-test bookkeeping on synthetic tables whose answers are known."""
import numpy as np
import pandas as pd
import pytest

from lib.trust_region_meta.meta_kl import (
    best_fixed,
    choose_model,
    compare_to_fixed,
    meta_kl_lambdas,
    per_run_scores,
    random_kl_runs,
    validation_scores,
)


def runs_table(method_returns: dict, n_runs=6, n_steps=5, seed=0):
    """Per-step rows: ret = level + step + run noise, for each (algo, fixed_kl) key."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n_runs)
    rows = []
    for (algo, kl), level in method_returns.items():
        for run in range(n_runs):
            for step in range(n_steps):
                rows.append(dict(panel="p", algo=algo, fixed_kl=kl, run=run, step=step,
                                 ret=level + step + noise[run], kl_bound=kl))
    return pd.DataFrame(rows)


def test_best_fixed_picks_the_highest_mean():
    fixed = runs_table({("TRPO", 0.01): 1.0, ("TRPO", 0.1): 3.0, ("xTRPO", 0.1): 2.0})
    best = best_fixed(fixed, "panel", "final")
    assert set(zip(best.algo, best.fixed_kl)) == {("TRPO", 0.1)}


@pytest.mark.parametrize("shift,verdict", [(2.0, "better"), (0.0, "indistinguishable"), (-2.0, "worse")])
def test_compare_to_fixed_verdicts(shift, verdict):
    fixed = runs_table({("TRPO", 0.1): 3.0, ("TRPO", 1.0): 0.0})
    meta = runs_table({("xTRPO", np.nan): 3.0 + shift}).drop(columns=["algo", "fixed_kl"])
    if shift == 0.0:  # identical runs give a zero-width interval at 0: add run-level noise
        meta["ret"] += np.repeat(np.random.default_rng(1).normal(0, 0.5, 6), 5)
    table = compare_to_fixed(meta, fixed, "panel", seed=0)
    assert set(table.verdict) == {verdict}
    row = table[table.metric == "final"].iloc[0]
    assert row.fixed_kl == 0.1 and row.n_runs == 6


def test_per_run_scores_final_and_auc():
    df = runs_table({("TRPO", 0.1): 0.0}, n_runs=1)
    df["ret"] = df.step.astype(float)  # 0..4
    s = per_run_scores(df, ["panel"], last=3).iloc[0]
    assert s.final == 3.0 and s.auc == 2.0


def test_random_kl_runs_appends_the_last_return():
    ds = pd.DataFrame(dict(traj=[0, 0], t=[0, 1], arch="MLP(0,0)", ret=[1.0, 4.0],
                           meta_reward=[3.0, 2.0], kl_bound=[0.1, 0.2]))
    out = random_kl_runs(ds, "minigolf")
    assert list(out.step) == [0, 1, 2] and list(out.ret) == [1.0, 4.0, 6.0]


def test_validation_scores_and_choice():
    val = pd.DataFrame(dict(env="e", fqi_horizon=[1, 1, 3, 3], min_leaf=[0.1, 0.1, 0.1, 0.1],
                            run=[0, 1, 0, 1], ret=[1.0, 2.0, 5.0, 6.0]))
    scores = validation_scores(val)
    assert list(scores.score) == [1.5, 5.5]
    assert choose_model(scores).fqi_horizon.iloc[0] == 3


def test_compare_runs_is_a_paired_difference():
    import numpy as np
    import pandas as pd

    from lib.trust_region_meta.meta_kl import compare_runs

    rng = np.random.default_rng(0)
    runs = pd.DataFrame([dict(run=r, step=t, ret=rng.normal()) for r in range(12) for t in range(6)])
    same = compare_runs(runs, runs)
    assert same["diff"] == 0 and same["verdict"] == "indistinguishable" and same["n_runs"] == 12
    up = compare_runs(runs.assign(ret=runs.ret + 1.0), runs, "auc")
    assert up["diff"] == pytest.approx(1.0) and up["lo"] == pytest.approx(1.0) and up["verdict"] == "better"
    assert compare_runs(runs, runs[runs.run < 5])["n_runs"] == 5  # only shared runs are paired


def test_meta_kl_lambdas_rows_and_panel_lengths():
    """Steps a panel lacks are NaN; 'last step' is each panel's own last value; other methods ignored."""
    rows = [dict(panel="a", method="Meta-KL", step=s, mean=10.0 ** -s) for s in range(12)]
    rows += [dict(panel="b", method="Meta-KL", step=s, mean=0.5) for s in range(3)]
    rows += [dict(panel="a", method="Fixed-KL (best)", step=s, mean=7.0) for s in range(12)]
    table = meta_kl_lambdas(pd.DataFrame(rows), ["b", "a"])
    assert list(table.columns) == ["b", "a"]
    assert list(table.index) == [0, 1, 5, 10, "last step", "median"]
    assert table.loc["last step", "a"] == pytest.approx(1e-11) and table.loc["last step", "b"] == 0.5
    assert np.isnan(table.loc[5, "b"]) and table.loc[10, "a"] == pytest.approx(1e-10)
    assert table.loc["median", "a"] == pytest.approx(np.median(10.0 ** -np.arange(12)))


def test_the_best_fixed_kl_is_chosen_on_the_validation_runs_only():
    """The validation sweep prefers (TRPO, 0.01); the test runs prefer (TRPO, 0.1). The baseline
    reported on the test runs is (TRPO, 0.01), and no change to the test runs moves the choice."""
    val = runs_table({("TRPO", 0.01): 3.0, ("TRPO", 0.1): 1.0}, seed=1)
    test = runs_table({("TRPO", 0.01): 1.0, ("TRPO", 0.1): 3.0}, seed=2)
    best = best_fixed(test, "panel", "final", selection=val)
    assert set(zip(best.algo, best.fixed_kl)) == {("TRPO", 0.01)}
    pd.testing.assert_frame_equal(best.reset_index(drop=True),
                                  test[test.fixed_kl == 0.01].reset_index(drop=True))
    for bump in (10.0, -10.0, 100.0):  # make either test configuration arbitrarily good
        for kl in (0.01, 0.1):
            moved = test.assign(ret=np.where(test.fixed_kl == kl, test.ret + bump, test.ret))
            chosen = best_fixed(moved, "panel", "auc", selection=val)
            assert set(chosen.fixed_kl) == {0.01}
    assert set(best_fixed(test, "panel", "final").fixed_kl) == {0.1}  # the oracle looks at the test runs


def seeded_meta(levels: dict, n_runs=30, n_steps=5, noise=0.5, seed=0):
    """Meta-KL runs of several meta-models: meta-model m's runs sit at ``levels[m]`` + run noise."""
    rng = np.random.default_rng(seed)
    parts = []
    for m, level in levels.items():
        t = runs_table({("xTRPO", np.nan): level}, n_runs=n_runs, n_steps=n_steps, seed=seed + m + 1)
        t["ret"] += np.repeat(rng.normal(0, noise, n_runs), n_steps)
        parts.append(t.drop(columns=["algo", "fixed_kl"]).assign(meta_seed=m))
    return pd.concat(parts, ignore_index=True)


def test_pooled_comparison_counts_meta_models_and_widens_with_their_spread():
    from lib.trust_region_meta.meta_kl import pooled_comparison

    fixed = runs_table({("TRPO", 0.1): 3.0, ("TRPO", 1.0): 0.0}, n_runs=30)
    agree = pooled_comparison(seeded_meta({0: 5.0, 1: 5.1, 2: 4.9}), fixed, "panel", seed=0)
    spread = pooled_comparison(seeded_meta({0: 9.0, 1: 5.0, 2: 1.0}), fixed, "panel", seed=0)
    a, s = (t[t.metric == "final"].iloc[0] for t in (agree, spread))
    assert a.verdict == "better" and a.models_better == 3 and a.n_models == 3 and a.n_runs == 30
    assert a["diff"] == pytest.approx(2.0, abs=0.3) and a.fixed_kl == 0.1
    # meta-models at +6, +2, -2 over the baseline: each one is clear, the pool is not
    assert s.models_better == 2 and s.models_worse == 1 and s.verdict == "indistinguishable"
    assert (s.hi - s.lo) > 3 * (a.hi - a.lo)


def test_lambda_trend_reads_a_decreasing_schedule():
    from lib.trust_region_meta.meta_kl import lambda_trend

    meta = seeded_meta({0: 0.0, 1: 0.0}, n_runs=10, n_steps=8)
    rng = np.random.default_rng(3)
    falling = meta.assign(kl_bound=10.0 ** (-1 - 0.2 * meta.step + rng.normal(0, 0.05, len(meta))))
    flat = meta.assign(kl_bound=10.0 ** (-2 + rng.normal(0, 0.3, len(meta))))
    down, level = lambda_trend(falling, "panel").iloc[0], lambda_trend(flat, "panel").iloc[0]
    assert down.trend == "decreasing" and down.slope == pytest.approx(-0.2, abs=0.02) and down.models_decreasing == 2
    assert level.trend == "no trend" and abs(level.slope) < 0.05


def test_one_job_list_over_meta_models_equals_their_calls_one_by_one(tmp_path):
    """Lever L6: notebook 05's meta-models run as one job list (their psi groups told apart by
    call) give the tables of one run_meta_kl call per meta-model, bit for bit, on 2 workers."""
    from lib.trust_region_meta.meta_kl import meta_kl_jobs, run_meta_kl, run_meta_kl_calls
    from lib.trust_region_meta.metadataset import collect_trajectory

    grid = (0.01, 0.05, 0.2)
    paths = []
    for m in range(2):
        data = pd.concat([collect_trajectory("minigolf", index=i, n_updates=3, n_traj=4, archs=[(0, 0)],
                                             kl_range=(0.01, 0.2), meta_seed=m) for i in range(3)], ignore_index=True)
        paths.append(tmp_path / f"minigolf_m{m}.csv")
        data.to_csv(paths[-1], index=False)
    calls = [dict(env="minigolf", split="val", runs=range(2), archs=[(0, 0)] * 2, n_updates=2, n_traj=4, seed=0,
                  dataset_path=p, kl_grid=grid, models=[(1, 0.05), (1, 0.3)], n_estimators=5, fqi_seed=m)
             for m, p in enumerate(paths)]
    together = run_meta_kl_calls(calls, tmp_path / "together", n_jobs=2)
    one_by_one = [run_meta_kl(**c, cache_dir=tmp_path / f"alone{i}", n_jobs=1) for i, c in enumerate(calls)]
    assert len(together) == 2
    for a, b in zip(together, one_by_one):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    groups = [{j.get("group") for j in meta_kl_jobs(**c, n_jobs=2, group_prefix=f"call{i}-")} for i, c in enumerate(calls)]
    assert groups[0] and not groups[0] & groups[1], "each call's psi groups are its own"


def test_a_stored_meta_model_drives_the_same_run_and_is_not_fitted_again(tmp_path, monkeypatch):
    """Lever L3: a chosen meta-model fitted once is stored; a later process (here: after the memo
    is cleared) loads it, the run's table is bit-identical to one with a fresh fit, and a dataset
    with other content does not load it (its key holds the dataset's SHA-256)."""
    from lib.trust_region_meta import meta_kl
    from lib.trust_region_meta.metadataset import collect_trajectory

    monkeypatch.setenv("STUDY_CACHE_ROOT", str(tmp_path / "cache"))
    data = pd.concat([collect_trajectory("minigolf", index=i, n_updates=3, n_traj=4, archs=[(0, 0)],
                                         kl_range=(0.01, 0.2), meta_seed=0) for i in range(3)], ignore_index=True)
    path = tmp_path / "minigolf_m0.csv"
    data.to_csv(path, index=False)
    run = dict(env="minigolf", split="test", run=0, arch=(0, 0), n_updates=3, n_traj=4, seed=0,
               dataset_path=str(path), kl_grid=(0.01, 0.05, 0.2), horizon=2, min_leaf=0.05, n_estimators=5)
    meta_kl._MODELS.clear()
    fresh = meta_kl.meta_kl_run(**run)
    meta_kl._MODELS.clear()
    stored = meta_kl.meta_kl_run(**run, store=True)
    [file] = meta_kl.model_store().glob("*.pkl")
    older = file.with_name(file.name[:-len("0" * 24 + ".pkl")] + "0" * 24 + ".pkl")  # as if from older code
    file.rename(older)
    meta_kl._MODELS.clear()
    pd.testing.assert_frame_equal(meta_kl.meta_kl_run(**run, store=True), fresh, check_exact=True)
    assert list(meta_kl.model_store().glob("*.pkl")) == [file], "the older file is replaced, not kept"

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(meta_kl, "fit_models", no_fit)
    meta_kl._MODELS.clear()
    loaded = meta_kl.meta_kl_run(**run, store=True)
    for table in (stored, loaded):
        pd.testing.assert_frame_equal(table, fresh, check_exact=True)
    data.assign(meta_reward=data.meta_reward + 1.0).to_csv(path, index=False)  # same path, other content
    meta_kl._MODELS.clear()
    with pytest.raises(AssertionError, match="fitted again"):
        meta_kl.meta_kl_run(**run, store=True)
    # a call over one (H, psi) (a chosen model) stores it; a validation call over a grid does not
    jobs = [meta_kl.meta_kl_jobs("minigolf", "val", [0], [(0, 0)], 3, 4, 0, path, (0.01, 0.2), models)
            for models in ([(1, 0.05)], [(1, 0.05), (2, 0.05)])]
    assert [{j["kwargs"]["store"] for j in js} for js in jobs] == [{True}, {False}]
