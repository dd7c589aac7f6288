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
from pathlib import Path

import numpy as np
import pandas as pd

from lib.bomrl import functional_policy as fp
from lib.bomrl.baselines import GRADIENT_METHODS, GradientBaseline
from lib.bomrl.sampled import LABELS, SampledAlgConfig, SampledBOMRL
from lib.bomrl.sampler import sample
from lib.cache import job_key, load_or_set_aside, write_checkpoint
from lib.envs.locomotion import LocomotionTask, sample_tasks
from lib.parallel import map_resumable
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
    row = dict(iter=it, pre_return=float(np.mean([d.returns.mean() for d in pre])),
               post_return=float(np.mean([d.returns.mean() for d in post])),
               steps=info_pre["steps"] + info_post["steps"], sample_s=(t1 - t0) + (t3 - t2),
               adapt_s=t2 - t1, outer_s=t4 - t3)
    row.update({k: v for k, v in diag.items() if isinstance(v, (int, float, bool))})
    return phi_new, row


def run_item(cfg, family: str, method_name: str, s: int, partial: str | None = None) -> dict:
    """Meta-train and meta-test one (family, method, seed index); resumable via ``partial``.

    Returns:
        ``{"history": DataFrame (one row per iteration), "test": DataFrame (meta-test rows)}``
        with columns ``family, method, seed`` prepended.
    """
    method = make_method(method_name)
    state = load_or_set_aside(Path(partial), Path(partial).stem, allow_pickle=False)[1] if partial else None
    if state is None:
        obs_dim, act_dim = dims(family)
        phi = fp.init_params(obs_dim, act_dim, cfg.arch, seed=torch_seed(cfg.seed, "loco-init", family, s))
        state = dict(it=0, phi=[p.detach() for p in phi], history=[], test=[])
    checkpoints = set(cfg.checkpoints)
    while True:
        it, phi = state["it"], fp.detach(state["phi"])
        if it in checkpoints and not any(r["iter"] == it for r in state["test"]):
            state["test"] += meta_test(cfg, family, method, phi, s, it)
        if it >= cfg.n_iters:
            break
        phi_new, row = _train_iteration(cfg, family, method, phi, s, it)
        state = dict(it=it + 1, phi=[p.detach() for p in phi_new], history=state["history"] + [row],
                     test=state["test"])
        if partial:
            write_checkpoint(Path(partial), Path(partial).stem, state, portable=True)
    out = {}
    for name in ("history", "test"):
        df = pd.DataFrame(state[name])
        df.insert(0, "seed", s)
        df.insert(0, "method", method_name)
        df.insert(0, "family", family)
        out[name] = df
    return out


# fields of the config that choose which items exist, not what one item computes
ITEM_IGNORES = ("partial", "cfg.profile", "cfg.families", "cfg.methods", "cfg.n_seeds")


def jobs(cfg, cache_dir) -> list[dict]:
    """One job per (family, method, seed index); its ``partial`` file is named by its key."""
    out = []
    for family in cfg.families:
        for method in cfg.methods:
            for s in range(cfg.n_seeds):
                kwargs = dict(cfg=cfg, family=family, method_name=method, s=s)
                label = f"{family}-{method}-{s}"
                key = job_key(run_item, kwargs, label, ITEM_IGNORES)
                out.append(dict(label=label, ignore=ITEM_IGNORES,
                                kwargs=dict(kwargs, partial=str(Path(cache_dir) / f"{key}.partial"))))
    return out


def run_all(cfg, cache_dir) -> dict:
    """Run (or resume) every item on Dask; ``{"history": ..., "test": ...}`` tidy tables."""
    results = map_resumable(run_item, jobs(cfg, cache_dir), cache_dir, n_workers=cfg.n_workers, backend="dask",
                               scheduler=cfg.scheduler, desc="locomotion items", portable=True)
    return {name: pd.concat([r[name] for r in results], ignore_index=True) for name in ("history", "test")}


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
