"""Paper 2's HalfCheetah experiment on the authors' protocol: one resumable item per
(family, method, seed index), meta-trained and meta-tested as their scripts do (notebook 13).

An item: initial policy and observation filter (warmed up on ``warmup x n_traj`` episodes of
the initial policy), then ``n_iters[family]`` meta-iterations (``meta_batch`` tasks; ``n_traj``
trajectories of the meta-policy per task; adapt; ``post_factor x n_traj`` trajectories of each
adapted policy; outer step; the filter absorbs every observation of the iteration), with
meta-tests at the family's ``checkpoints`` on the authors' fixed goals. The item checkpoints itself
after every iteration as portable JSON (committed for the full profile), so a run longer than
one sitting resumes with identical numbers: every draw derives from ``(seed, family, seed
index, iteration, phase)``.

Common random numbers: the methods of one (family, seed index) share the initial policy, the
warm-up, the tasks of every iteration and the environment seeds. Differences from the authors'
scripts: the filter is frozen within a sampling call and frozen at meta-test; the meta-test
reports the stochastic policy's mean return (theirs printed three numbers and their CSVs were
filled by hand); the last iterate is tested, not a best-so-far checkpoint; ``n_seeds`` seeds.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from lib.bomrl import authors_locomotion as al
from lib.bomrl.baselines import GRADIENT_METHODS, GradientBaseline, GradientMetaConfig
from lib.cache import job_key, load_or_set_aside, write_checkpoint
from lib.envs.mujoco_batch import dims
from lib.parallel import map_resumable
from lib.seeding import rng, torch_seed

METHODS = tuple(al.METRICS) + GRADIENT_METHODS


def check_method(name: str) -> str:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    return name


def protocol(cfg) -> al.Protocol:
    """The authors' constants with the config's horizon and tail."""
    return al.Protocol(horizon=cfg.horizon, tail=cfg.tail)


def make_method(name: str, family: str, proto: al.Protocol):
    """``AuthorsBOMRL`` for Alg(1)-(3); our gradient baselines with the authors' MAML step and outer KL."""
    check_method(name)
    if name in al.METRICS:
        return al.AuthorsBOMRL(name, family, proto)
    return GradientBaseline(name, GradientMetaConfig(alpha=proto.maml_lr, delta=proto.maml_max_kl[family]))


def train_tasks(cfg, family: str, s: int, it: int) -> np.ndarray:
    """Velocity goals U[0, 2], or the authors' fixed direction list (cycled to the meta-batch)."""
    k = cfg.meta_batch[family]
    if family.endswith("dir"):
        return np.resize(np.asarray(al.DIR_TASKS), k)
    return rng(cfg.seed, "authors-loco-train", family, s, it).uniform(0.0, 2.0, size=k)


def env_seed(cfg, family: str, s: int, *key) -> int:
    return torch_seed(cfg.seed, "authors-loco", family, s, *key) % (2**31 - 1000)


def initial_state(cfg, family: str, s: int, proto: al.Protocol) -> dict:
    """Iteration 0: the initial policy and the filter after the authors' warm-up."""
    obs_dim, act_dim = dims()
    phi = al.init_policy(obs_dim, act_dim, torch_seed(cfg.seed, "authors-loco-init", family, s), proto)
    norm = al.ObsNorm.empty(obs_dim, proto.obs_clip)
    _, raw, _ = al.sample(family, phi, np.zeros(1), proto.warmup * cfg.n_traj, norm,
                          env_seed(cfg, family, s, "warmup"), proto)
    return dict(it=0, phi=[p.detach() for p in phi], norm=norm.update(raw).state(), history=[], test=[])


def meta_test(cfg, family: str, method, phi, norm: al.ObsNorm, s: int, iteration: int, proto) -> list[dict]:
    """Rows ``iter, step, task_id, task, ret``: mean return of ``n_traj`` trajectories per fixed goal
    after 0..n_adapt_steps adaptation steps (new data each step)."""
    tasks = np.asarray(al.TEST_TASKS[family])
    params = [phi] * len(tasks)
    rows = []
    for step in range(cfg.n_adapt_steps + 1):
        data, _, _ = al.sample(family, params, tasks, cfg.n_traj, norm,
                               env_seed(cfg, family, s, "test", iteration, step), proto)
        rows += [dict(iter=iteration, step=step, task_id=k, task=float(t), ret=float(d.returns.mean()))
                 for k, (t, d) in enumerate(zip(tasks, data))]
        if step < cfg.n_adapt_steps:
            params = [method.adapt(p, d) for p, d in zip(params, data)]
    return rows


def train_iteration(cfg, family: str, method, phi, norm: al.ObsNorm, s: int, it: int, proto):
    """One meta-iteration; returns (new phi, new filter, history row with timings and diagnostics)."""
    tasks = train_tasks(cfg, family, s, it)
    t0 = time.perf_counter()
    pre, raw_pre, info_pre = al.sample(family, phi, tasks, cfg.n_traj, norm, env_seed(cfg, family, s, "pre", it), proto)
    t1 = time.perf_counter()
    thetas, inner = [], []
    for d in pre:
        thetas.append(method.adapt(phi, d))
        inner.append(getattr(method, "last_info", {}))
    t2 = time.perf_counter()
    post, raw_post, info_post = al.sample(family, thetas, tasks, cfg.post_factor * cfg.n_traj, norm,
                                          env_seed(cfg, family, s, "post", it), proto)
    t3 = time.perf_counter()
    phi_new, diag = method.outer(phi, pre, post, thetas)
    t4 = time.perf_counter()
    row = dict(iter=it, pre_return=float(np.mean([d.returns.mean() for d in pre])),
               post_return=float(np.mean([d.returns.mean() for d in post])),
               steps=info_pre["steps"] + info_post["steps"], sample_s=(t1 - t0) + (t3 - t2),
               physics_s=info_pre["physics_s"] + info_post["physics_s"], adapt_s=t2 - t1, outer_s=t4 - t3)
    if inner and inner[0]:
        row.update(inner_steps=float(np.mean([i["steps"] for i in inner])),
                   distance=float(np.mean([i["distance"] for i in inner])))
    row.update({k: v for k, v in diag.items() if isinstance(v, (int, float, bool))})
    return phi_new, norm.update(np.concatenate([raw_pre, raw_post])), row


def run_item(cfg, family: str, method_name: str, s: int, partial: str | None = None) -> dict:
    """Meta-train and meta-test one (family, method, seed index); resumable via ``partial``.

    Returns:
        ``{"history": one row per iteration, "test": meta-test rows}`` with ``family, method, seed``.
    """
    al.check_family(family)
    proto = protocol(cfg)
    method = make_method(method_name, family, proto)
    state = load_or_set_aside(Path(partial), Path(partial).stem, allow_pickle=False)[1] if partial else None
    if state is None:
        state = initial_state(cfg, family, s, proto)
    checkpoints, n_iters = set(cfg.checkpoints[family]), cfg.n_iters[family]
    while True:
        it, phi = state["it"], [p.detach().clone().requires_grad_(True) for p in state["phi"]]
        norm = al.ObsNorm.from_state(state["norm"])
        if it in checkpoints and not any(r["iter"] == it for r in state["test"]):
            state = dict(state, test=state["test"] + meta_test(cfg, family, method, phi, norm, s, it, proto))
        if it >= n_iters:
            break
        phi_new, norm_new, row = train_iteration(cfg, family, method, phi, norm, s, it, proto)
        state = dict(it=it + 1, phi=[p.detach() for p in phi_new], norm=norm_new.state(),
                     history=state["history"] + [row], test=state["test"])
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


# fields of the config that choose which items exist or where they run, not what one item computes
ITEM_IGNORES = ("partial", "cfg.profile", "cfg.families", "cfg.methods", "cfg.n_seeds")


def jobs(cfg, cache_dir) -> list[dict]:
    """One job per (family, method, seed index); its ``partial`` file is named by its key."""
    out = []
    for family in cfg.families:
        for method in cfg.methods:
            check_method(method)
            for s in range(cfg.n_seeds):
                kwargs = dict(cfg=cfg, family=al.check_family(family), method_name=method, s=s)
                label = f"{family}-{method}-{s}"
                key = job_key(run_item, kwargs, label, ITEM_IGNORES)
                out.append(dict(label=label, ignore=ITEM_IGNORES,
                                kwargs=dict(kwargs, partial=str(Path(cache_dir) / f"{key}.partial"))))
    return out


def run_all(cfg, cache_dir) -> dict:
    """Run (or resume) every item on Dask; ``{"history": ..., "test": ...}`` tidy tables."""
    results = map_resumable(run_item, jobs(cfg, cache_dir), cache_dir, n_workers=cfg.n_workers, backend="dask",
                            scheduler=cfg.scheduler, desc="authors' locomotion items", portable=True)
    return {name: pd.concat([r[name] for r in results], ignore_index=True) for name in ("history", "test")}
