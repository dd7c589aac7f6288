"""The locomotion study (lib.bomrl.locomotion_study): every method runs, common random numbers,
determinism, and an interrupted item resumes to identical numbers."""
import dataclasses

import numpy as np
import pandas as pd
import pytest

from lib.bomrl import locomotion_study as ls
from lib.profiles import resolve

TIMING = ["sample_s", "adapt_s", "outer_s"]


@pytest.fixture(scope="module")
def cfg():
    return resolve("locomotion", "quick", horizon=8, n_iters=2, checkpoints=(0, 2), n_workers=1)


@pytest.fixture(scope="module")
def items(cfg):
    return {m: ls.run_item(cfg, "halfcheetah-vel", m, 0) for m in ls.method_names(ls.protocol(cfg))}


def test_every_method_trains_and_meta_tests(cfg, items):
    for m, out in items.items():
        h, t = out["history"], out["test"]
        assert list(h["iter"]) == [0, 1] and np.isfinite(h[["pre_return", "post_return"]]).all().all()
        assert set(t["iter"]) == {0, 2} and set(t["step"]) == set(range(cfg.n_adapt_steps + 1))
        assert len(t) == 2 * (cfg.n_adapt_steps + 1) * cfg.n_test_tasks


def test_methods_share_initial_policy_tasks_and_seeds(items):
    first = {m: out["history"].iloc[0] for m, out in items.items()}
    pre = {round(r.pre_return, 12) for r in first.values()}
    assert len(pre) == 1  # same phi_0, same tasks, same env seeds
    t0 = {m: out["test"].query("iter == 0 and step == 0").ret.to_numpy() for m, out in items.items()}
    for m in t0:
        np.testing.assert_array_equal(t0[m], t0["MAML-TRPO"])
    # BO-MRL's Euclidean Alg with lambda = 5 is MAML's inner step (alpha = 0.1)
    np.testing.assert_allclose(first["Alg(3)"].post_return, first["MAML-TRPO"].post_return)


def test_same_parameters_same_numbers(cfg, items):
    again = ls.run_item(cfg, "halfcheetah-vel", "Alg(1)", 0)
    pd.testing.assert_frame_equal(again["test"], items["Alg(1)"]["test"])
    pd.testing.assert_frame_equal(again["history"].drop(columns=TIMING),
                                  items["Alg(1)"]["history"].drop(columns=TIMING))


def test_an_interrupted_item_resumes_identically(cfg, items, tmp_path, monkeypatch):
    partial = tmp_path / "item.partial"
    real = ls.train_iteration

    def dies_at_1(cfg_, proto, family, method, phi, norm, s, it):
        if it == 1:
            raise KeyboardInterrupt("killed")
        return real(cfg_, proto, family, method, phi, norm, s, it)

    monkeypatch.setattr(ls, "train_iteration", dies_at_1)
    with pytest.raises(KeyboardInterrupt):
        ls.run_item(cfg, "halfcheetah-vel", "ProMP", 0, partial=str(partial))
    assert partial.exists()
    monkeypatch.setattr(ls, "train_iteration", real)
    out = ls.run_item(cfg, "halfcheetah-vel", "ProMP", 0, partial=str(partial))
    pd.testing.assert_frame_equal(out["test"], items["ProMP"]["test"])
    pd.testing.assert_frame_equal(out["history"].drop(columns=TIMING),
                                  items["ProMP"]["history"].drop(columns=TIMING))


def test_ranking_orders_methods_per_family(cfg, items):
    test = pd.concat([out["test"] for out in items.values()], ignore_index=True)
    rank = ls.ranking(test, step=1)
    assert sorted(rank["rank"]) == list(range(1, len(ls.method_names(ls.protocol(cfg))) + 1))
    # against the definition: mean over seeds and tasks after one step at the last checkpoint
    last = test[(test["iter"] == test["iter"].max()) & (test["step"] == 1)]
    want = last.groupby("method").ret.mean().sort_values(ascending=False)
    assert list(rank["method"]) == list(want.index)
    assert rank["ret"].tolist() == pytest.approx(want.tolist())


def test_bad_parameters_are_named(cfg):
    with pytest.raises(ValueError, match="Reptile"):
        resolve("locomotion", "quick", methods=("Reptile",))
    with pytest.raises(ValueError, match="checkpoints"):
        resolve("locomotion", "quick", n_iters=5, checkpoints=(0, 2))
    with pytest.raises(ValueError, match="walker"):
        resolve("locomotion", "quick", families=("walker-vel",))
    assert dataclasses.replace(cfg, n_seeds=1).n_seeds == 1


def test_compare_methods_pairs_by_seed_and_task():
    """A synthetic meta-test table: Alg(1) is 5 above MAML-TRPO on every pair and equal to
    ProMP up to N(0, 1) noise, with task difficulties (sd 30) shared within a pair; the
    verdicts must be better / indistinguishable (an unpaired test could not see the 5)."""
    gen = np.random.default_rng(0)
    rows = []
    for s in range(2):
        for k in range(10):
            base = gen.normal(-100, 30)  # task difficulty, shared by the methods (paired)
            noise = gen.normal(0, 1)
            rows += [dict(family="ant-dir", method="MAML-TRPO", seed=s, iter=5, step=1, task_id=k, ret=base),
                     dict(family="ant-dir", method="Alg(1)", seed=s, iter=5, step=1, task_id=k, ret=base + 5),
                     dict(family="ant-dir", method="ProMP", seed=s, iter=5, step=1, task_id=k, ret=base + 5 + noise)]
    test = pd.DataFrame(rows)
    cmp = ls.compare_methods(test, step=1).set_index("baseline")
    assert cmp.loc["MAML-TRPO", "verdict"] == "better" and cmp.loc["MAML-TRPO", "diff"] == pytest.approx(5)
    assert cmp.loc["MAML-TRPO", "n"] == 20
    assert cmp.loc["ProMP", "verdict"] == "indistinguishable"
