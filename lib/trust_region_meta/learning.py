"""A learning run: T updates of TRPO/xTRPO on one task, logged step by step.

The same loop serves every experiment of paper 1:

* fixed trust region (notebook 02, Fixed-KL baselines): ``kl_schedule`` is a number;
* meta-dataset collection: a sequence of random lambdas, ``with_features=True``;
* the meta-model (Meta-KL): a callable ``(t, phi_t) -> lambda`` with ``with_features=True``.
"""
from __future__ import annotations

import copy
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from lib.envs import get_spec
from lib.policies import arch_label, make_policy
from lib.rollouts import advantages, rollout
from lib.seeding import rng as make_rng
from lib.seeding import torch_seed
from lib.trpo import COMPUTE_DTYPE, TRPOConfig, check_algo, check_kl_bound, trpo_step
from lib.trust_region_meta import metafeatures as mf


def run_task(env: str, seed: int, run: int) -> np.ndarray:
    """Task of test run ``run`` of ``env``: drawn from the env's distribution, shape (k,)."""
    return get_spec(env).sample_tasks(make_rng(seed, "task", env, run), 1)[0]


def run_setup(env: str, split: str, seed: int, run: int):
    """``(task, key)`` of a run. ``split="test"``: the runs of notebook 02 and the meta-test
    (every method shares task, initial policy and first batch of run i); ``"val"``: held-out
    meta-validation runs with their own tasks; ``"fresh"``: a third set of tasks, which no
    choice of the study has seen (notebook 09's comparisons)."""
    if split == "test":
        return run_task(env, seed, run), ("fixed_kl", env, run)
    if split in ("val", "fresh"):
        return get_spec(env).sample_tasks(make_rng(seed, f"{split}-task", env, run), 1)[0], (split, env, run)
    raise ValueError(f"unknown split {split!r}; choose test, val or fresh")


def update(policy, batch, spec, kl_bound: float, algo: str = "xTRPO",
           config: TRPOConfig = TRPOConfig(), dtype: torch.dtype = COMPUTE_DTYPE) -> dict:
    """Compute advantages of ``batch`` (:func:`lib.rollouts.advantages`) and apply one TRPO/xTRPO
    step to ``policy`` (:func:`lib.trpo.trpo_step`, in place); returns the step's info dict."""
    adv = advantages(batch, spec)
    return trpo_step(policy, batch.flat("obs"), batch.flat("act"), adv, kl_bound,
                     require_improvement=check_algo(algo) == "TRPO", config=config, dtype=dtype)


FEATURE_SETS = ("knn", "exact-policy")


def check_feature_set(name: str) -> str:
    if name not in FEATURE_SETS:
        raise ValueError(f"unknown feature_set {name!r}; choose one of {FEATURE_SETS}")
    return name


def as_schedule(kl_schedule, n_updates: int) -> Callable:
    """Normalise a number, a sequence or a callable into ``(t, phi_t) -> lambda``."""
    if callable(kl_schedule):
        return kl_schedule
    if np.ndim(kl_schedule) == 0:
        value = check_kl_bound(kl_schedule)
        return lambda t, phi: value
    values = [check_kl_bound(v) for v in kl_schedule]
    if len(values) < n_updates:
        raise ValueError(f"kl_schedule has {len(values)} values for {n_updates} updates")
    return lambda t, phi: values[t]


def learn(env: str, task, kl_schedule: float | Sequence[float] | Callable,
          algo: str = "xTRPO", arch=(0, 0), n_updates: int = 10, n_traj: int = 8,
          seed: int = 0, key: tuple = (), config: TRPOConfig = TRPOConfig(),
          with_features: bool = False, max_points: int = mf.MAX_POINTS,
          policy_init: tuple = (), feature_set: str = "knn") -> pd.DataFrame:
    """Run ``n_updates`` TRPO/xTRPO updates from a fresh policy on one task.

    At every step t = 0..n_updates a batch B_t of ``n_traj`` trajectories is collected
    from pi_t; its mean return is J_t; then (for t < n_updates)
    ``pi_{t+1} = f(pi_t, B_t, lambda_t)``. With ``with_features``, the 20 metafeatures
    phi(B_t, B_{t-1}) are computed at every step (B_{-1} is an extra batch from pi_0,
    drawn from a separate random stream so that B_0..B_T do not depend on the flag).

    Args:
        env: environment name. task: (k,) task parameters.
        kl_schedule: a fixed lambda, a sequence of n_updates lambdas, or a callable
            ``(t, phi_t) -> lambda`` (phi_t is None without features).
        algo: ``"TRPO"`` or ``"xTRPO"``. arch: policy ``(h, n)``.
        n_updates: updates T. n_traj: trajectories N per batch.
        seed, key: the run's random streams derive from ``(seed, *key)``.
        policy_init: ``()`` for the default initial policy (mean ≈ 0, the env's std0), or
            ``(mean0, std0)`` (notebook 09's set-up checks).
        feature_set: what a callable schedule sees as phi_t: ``"knn"`` (the 20 k-NN
            metafeatures) or ``"exact-policy"`` (the six policy features replaced by their
            closed forms, :func:`~lib.trust_region_meta.metafeatures.exact_policy_features`).
            Both are logged either way, the exact ones as ``exact:<name>`` columns.
    Returns:
        tidy table, one row per step t: ``env, algo, arch, step, ret, ret_std,
        kl_bound, kl, accepted, n_backtracks`` (the last four describe the update made
        *after* step t's batch; NaN on the last row), ``log_std`` of pi_t and, with features, one column per
        name in :data:`lib.trust_region_meta.metafeatures.FEATURE_NAMES` and the ``exact:``
        policy features.
    """
    check_algo(algo)
    check_feature_set(feature_set)
    if n_updates < 0 or n_traj < 2:
        raise ValueError(f"need n_updates >= 0 and n_traj >= 2, got {n_updates}, {n_traj}")
    schedule = as_schedule(kl_schedule, n_updates)
    spec = get_spec(env)
    task = spec.tasks_array(task)[0]
    rng = make_rng(seed, *key, "rollouts")
    feat_rng = make_rng(seed, *key, "features")
    mean0, std0 = policy_init if policy_init else (0.0, None)
    policy = make_policy(spec, arch, seed=torch_seed(seed, *key, "init"), std0=std0, mean0=mean0)
    tasks = np.tile(task, (n_traj, 1))

    def featurise(batch):
        """B's sample sets, entropies, states, a frozen copy of the policy and its means on B's
        states (the closed-form features need them at t and again, as B_{t-1}'s, at t + 1)."""
        sets = mf.sample_sets(batch, spec.obs_scale, spec.std0, feat_rng, max_points)
        obs = batch.flat("obs")
        return sets, mf.batch_entropies(sets), obs, copy.deepcopy(policy), mf.policy_means(policy, obs)

    if with_features:
        prev = featurise(rollout(spec, policy, tasks, feat_rng))
    exact_idx = [mf.FEATURE_NAMES.index(n) for n in mf.POLICY_FEATURES]
    rows = []
    for t in range(n_updates + 1):
        batch = rollout(spec, policy, tasks, rng)
        ret = batch.returns
        row = dict(step=t, ret=ret.mean(), ret_std=ret.std(ddof=1), kl_bound=np.nan,
                   kl=np.nan, accepted=np.nan, n_backtracks=np.nan,
                   log_std=float(policy.log_std.detach().mean()))
        phi = None
        if with_features:
            cur = featurise(batch)
            phi = mf.metafeatures(cur[0], prev[0], cur[1], prev[1])
            exact = mf.exact_policy_features(cur[3], prev[3], cur[2], prev[2], spec.std0, cur[4], prev[4])
            prev = cur
            row.update(zip(mf.FEATURE_NAMES, phi))
            row.update({f"exact:{n}": v for n, v in exact.items()})
            if feature_set == "exact-policy":
                phi = phi.copy()
                phi[exact_idx] = [exact[n] for n in mf.POLICY_FEATURES]
        if t < n_updates:
            kl_bound = check_kl_bound(schedule(t, phi))
            info = update(policy, batch, spec, kl_bound, algo, config)
            row.update(kl_bound=kl_bound, kl=info["kl"], accepted=float(info["accepted"]),
                       n_backtracks=info["n_backtracks"])
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, "arch", arch_label(arch))
    out.insert(0, "algo", algo)
    out.insert(0, "env", env)
    return out


def illustration_runs(cfg, kl_bound: float, seed: int, key: str = "03") -> pd.DataFrame:
    """One xTRPO run per environment of ``cfg`` (linear policy, the env's default task, fixed
    ``kl_bound``) with the metafeatures of every step: notebook 03's material.

    Returns:
        the per-step tables of :func:`learn` (``with_features=True``), stacked.
    """
    return pd.concat([learn(env, get_spec(env).default_task, kl_bound, "xTRPO", arch=(0, 0),
                            n_updates=cfg.test_updates[env], n_traj=cfg.n_traj[env], seed=seed,
                            key=(key, env), with_features=True, max_points=cfg.max_points)
                      for env in cfg.envs], ignore_index=True)
