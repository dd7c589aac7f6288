"""Paper 2's locomotion experiment: meta-train each method on a task family, meta-test it
with 0..K adaptation steps on fresh tasks (notebook 11).

One work item = (family, method, seed index): meta-training for ``n_iters`` iterations
(sample a meta-batch of tasks; ``n_traj`` trajectories of the meta-policy per task; adapt;
``n_traj`` trajectories of each adapted policy; outer update), with meta-tests at the
``checkpoints``. Items run on Dask (:mod:`lib.parallel`); an item also checkpoints itself
after every iteration, so a killed run resumes mid-item with identical numbers (every
random draw derives from ``(seed, family, seed index, iteration)``).

Common random numbers: the methods of one (family, seed index) share the initial policy,
the training tasks of every iteration, the test tasks and the environment seeds.
"""
from __future__ import annotations

import time

import pandas as pd

from lib.bomrl import functional_policy as fp
from lib.bomrl import meta_items as items
from lib.bomrl.baselines import GRADIENT_METHODS, GradientBaseline
from lib.bomrl.sampled import LABELS, SampledAlgConfig, SampledBOMRL
from lib.bomrl.sampler import sample
from lib.envs.locomotion import LocomotionTask, sample_tasks
from lib.seeding import rng, torch_seed
from lib.stats import t_interval, verdict

METHODS = tuple(LABELS.values()) + GRADIENT_METHODS


def check_method(name: str) -> str:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return name


def make_method(name: str):
    """The method object (``adapt`` / ``outer``) for a name of :data:`METHODS`."""
    check_method(name)
    for metric, label in LABELS.items():
        if label == name:
            return SampledBOMRL(SampledAlgConfig(metric))
    return GradientBaseline(name)


def dims(family: str) -> tuple[int, int]:
    """(obs_dim, act_dim) of a family's environment."""
    env = LocomotionTask(family, 0.0)
    out = env.observation_space.shape[0], env.action_space.shape[0]
    env.close()
    return out


def env_seed(cfg, family: str, s: int, *key) -> int:
    return torch_seed(cfg.seed, "loco", family, s, *key) % (2**31 - 1000)


def meta_test(cfg, family: str, method, phi, s: int, iteration: int) -> list[dict]:
    """Adapt to each test task for 0..n_adapt_steps steps (new data each step).

    Returns rows ``iter, step, task_id, task, ret`` (mean return of ``n_traj`` episodes of
    the policy after ``step`` adaptation steps).
    """
    tasks = sample_tasks(family, rng(cfg.seed, "loco-test", family, s), cfg.n_test_tasks)
    params = [phi] * len(tasks)
    rows = []
    for step in range(cfg.n_adapt_steps + 1):
        data, _ = sample(family, params, tasks, cfg.n_traj,
                         env_seed(cfg, family, s, "test", iteration, step), cfg.horizon)
        rows += [dict(iter=iteration, step=step, task_id=k, task=float(t), ret=float(d.returns.mean()))
                 for k, (t, d) in enumerate(zip(tasks, data))]
        if step < cfg.n_adapt_steps:
            params = [method.adapt(p, d) for p, d in zip(params, data)]
    return rows


def _train_iteration(cfg, family, method, phi, s, it):
    tasks = sample_tasks(family, rng(cfg.seed, "loco-train", family, s, it), cfg.meta_batch)
    t0 = time.perf_counter()
    pre, info_pre = sample(family, phi, tasks, cfg.n_traj, env_seed(cfg, family, s, "pre", it), cfg.horizon)
    t1 = time.perf_counter()
    thetas = [method.adapt(phi, d) for d in pre]
    t2 = time.perf_counter()
    post, info_post = sample(family, thetas, tasks, cfg.n_traj, env_seed(cfg, family, s, "post", it), cfg.horizon)
    t3 = time.perf_counter()
    phi_new, diag = method.outer(phi, pre, post, thetas)
    t4 = time.perf_counter()
    timings = dict(sample_s=(t1 - t0) + (t3 - t2), adapt_s=t2 - t1, outer_s=t4 - t3)
    return phi_new, items.history_row(it, pre, post, info_pre["steps"] + info_post["steps"], timings, diag)


def run_item(cfg, family: str, method_name: str, s: int, partial: str | None = None) -> dict:
    """Meta-train and meta-test one (family, method, seed index); resumable via ``partial``.

    Returns:
        ``{"history": DataFrame (one row per iteration), "test": DataFrame (meta-test rows)}``
        with columns ``family, method, seed`` prepended.
    """
    method = make_method(method_name)

    def initial():
        obs_dim, act_dim = dims(family)
        phi = fp.init_params(obs_dim, act_dim, cfg.arch, seed=torch_seed(cfg.seed, "loco-init", family, s))
        return dict(it=0, phi=[p.detach() for p in phi], history=[], test=[])

    def test(state):
        return meta_test(cfg, family, method, fp.detach(state["phi"]), s, state["it"])

    def train(state):
        phi_new, row = _train_iteration(cfg, family, method, fp.detach(state["phi"]), s, state["it"])
        return dict(phi=[p.detach() for p in phi_new]), row

    state = items.train_and_test(items.load_state(partial, initial), cfg.n_iters, cfg.checkpoints, test, train,
                                 partial)
    return items.tidy(state, family, method_name, s)


def jobs(cfg, cache_dir) -> list[dict]:
    """One job per (family, method, seed index) (:func:`lib.bomrl.meta_items.jobs`)."""
    return items.jobs(run_item, cfg, cache_dir)


def run_all(cfg, cache_dir) -> dict:
    """Run (or resume) every item on Dask; ``{"history": ..., "test": ...}`` tidy tables."""
    return items.run_all(run_item, cfg, cache_dir, "locomotion items")


def per_seed_curves(test: pd.DataFrame, iteration: int | None = None) -> pd.DataFrame:
    """Mean return over test tasks per (family, method, seed, step) at one checkpoint (last if None)."""
    it = test["iter"].max() if iteration is None else iteration
    sub = test[test["iter"] == it]
    return sub.groupby(["family", "method", "seed", "step"], as_index=False)["ret"].mean()


def ranking(test: pd.DataFrame, step: int = 1) -> pd.DataFrame:
    """Per family: methods ordered by mean return after ``step`` adaptation steps (last checkpoint)."""
    cur = per_seed_curves(test)
    cur = cur[cur["step"] == step].groupby(["family", "method"], as_index=False)["ret"].mean()
    cur["rank"] = cur.groupby("family")["ret"].rank(ascending=False).astype(int)
    return cur.sort_values(["family", "rank"]).reset_index(drop=True)


def compare_methods(test: pd.DataFrame, step: int = 1, level: float = 0.9) -> pd.DataFrame:
    """Each BO-MRL metric vs each baseline per family, after ``step`` adaptation steps at the
    last checkpoint: mean difference in return over (seed, test task) pairs with a t-interval.

    Pairs share the test task, the seed's initial policy and the environment seeds (common
    random numbers). ``verdict``: ``better`` / ``worse`` if the interval excludes 0, else
    ``indistinguishable``. With few seeds the interval mostly reflects test-task variation.
    """
    last = test[(test["iter"] == test["iter"].max()) & (test["step"] == step)]
    wide = last.pivot_table(index=["family", "seed", "task_id"], columns="method", values="ret")
    rows = []
    for fam, g in wide.groupby(level="family"):
        for ours in [m for m in LABELS.values() if m in g]:
            for base in [m for m in GRADIENT_METHODS if m in g]:
                diff = (g[ours] - g[base]).to_numpy()
                mean, lo, hi = t_interval(diff, level)
                rows.append(dict(family=fam, method=ours, baseline=base, ret=g[ours].mean(),
                                 ret_baseline=g[base].mean(), diff=mean, lo=lo, hi=hi, n=len(diff),
                                 verdict=verdict(lo, hi)))
    return pd.DataFrame(rows)
