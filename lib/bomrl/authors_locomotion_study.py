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

import numpy as np

from lib.bomrl import authors_locomotion as al
from lib.bomrl import meta_items as items
from lib.bomrl.baselines import GRADIENT_METHODS, GradientBaseline, GradientMetaConfig
from lib.envs.mujoco_batch import dims
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
    timings = dict(sample_s=(t1 - t0) + (t3 - t2), physics_s=info_pre["physics_s"] + info_post["physics_s"],
                   adapt_s=t2 - t1, outer_s=t4 - t3)
    extra = (dict(inner_steps=float(np.mean([i["steps"] for i in inner])),
                  distance=float(np.mean([i["distance"] for i in inner]))) if inner and inner[0] else {})
    row = items.history_row(it, pre, post, info_pre["steps"] + info_post["steps"], timings, diag, **extra)
    return phi_new, norm.update(np.concatenate([raw_pre, raw_post])), row


def run_item(cfg, family: str, method_name: str, s: int, partial: str | None = None) -> dict:
    """Meta-train and meta-test one (family, method, seed index); resumable via ``partial``.

    Returns:
        ``{"history": one row per iteration, "test": meta-test rows}`` with ``family, method, seed``.
    """
    al.check_family(family)
    proto = protocol(cfg)
    method = make_method(method_name, family, proto)

    def policy(state):
        return ([p.detach().clone().requires_grad_(True) for p in state["phi"]],
                al.ObsNorm.from_state(state["norm"]))

    def test(state):
        return meta_test(cfg, family, method, *policy(state), s, state["it"], proto)

    def train(state):
        phi_new, norm_new, row = train_iteration(cfg, family, method, *policy(state), s, state["it"], proto)
        return dict(phi=[p.detach() for p in phi_new], norm=norm_new.state()), row

    state = items.load_state(partial, lambda: initial_state(cfg, family, s, proto))
    state = items.train_and_test(state, cfg.n_iters[family], cfg.checkpoints[family], test, train, partial)
    return items.tidy(state, family, method_name, s)


def _check(family: str, method: str) -> None:
    al.check_family(family)
    check_method(method)


def jobs(cfg, cache_dir) -> list[dict]:
    """One job per (family, method, seed index) (:func:`lib.bomrl.meta_items.jobs`)."""
    return items.jobs(run_item, cfg, cache_dir, check=_check)


def run_all(cfg, cache_dir) -> dict:
    """Run (or resume) every item on Dask; ``{"history": ..., "test": ...}`` tidy tables."""
    return items.run_all(run_item, cfg, cache_dir, "authors' locomotion items", check=_check)
