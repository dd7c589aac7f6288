"""A learning run: T updates of TRPO/xTRPO on one task, logged step by step.

Used by notebook 02 (fixed trust region) and, later, by the meta-dataset collection
(a fresh trust region each step), hence the ``kl_schedule`` argument.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from lib.envs import get_spec
from lib.policies import arch_label, make_policy
from lib.rollouts import rollout
from lib.seeding import rng as make_rng
from lib.seeding import torch_seed
from lib.trpo import TRPOConfig, check_algo, check_kl_bound, update


def learn(env: str, task, kl_schedule: float | Sequence[float] | Callable[[int], float],
          algo: str = "xTRPO", arch=(0, 0), n_updates: int = 10, n_traj: int = 8,
          seed: int = 0, key: tuple = (), config: TRPOConfig = TRPOConfig()) -> pd.DataFrame:
    """Run ``n_updates`` TRPO/xTRPO updates from a fresh policy on one task.

    At every step t = 0..n_updates a batch of ``n_traj`` trajectories is collected from
    pi_t; its mean return is J_t; then (for t < n_updates) pi_{t+1} = f(pi_t, B_t, lambda_t).

    Args:
        env: environment name. task: (k,) task parameters.
        kl_schedule: a fixed lambda, a sequence of n_updates lambdas, or ``t -> lambda``.
        algo: ``"TRPO"`` or ``"xTRPO"``. arch: policy ``(h, n)``.
        n_updates: updates T. n_traj: trajectories N per batch.
        seed, key: the run's random streams derive from ``(seed, *key)``.
    Returns:
        tidy table, one row per step t: ``step, ret, ret_std, kl_bound, kl, accepted,
        n_backtracks`` (the last four describe the update made *after* step t's batch;
        NaN on the last row).
    """
    check_algo(algo)
    if n_updates < 0 or n_traj < 2:
        raise ValueError(f"need n_updates >= 0 and n_traj >= 2, got {n_updates}, {n_traj}")
    if callable(kl_schedule):
        schedule = kl_schedule
    elif np.ndim(kl_schedule) == 0:
        schedule = lambda t, v=check_kl_bound(kl_schedule): v  # noqa: E731
    else:
        values = [check_kl_bound(v) for v in kl_schedule]
        if len(values) < n_updates:
            raise ValueError(f"kl_schedule has {len(values)} values for {n_updates} updates")
        schedule = values.__getitem__
    torch.set_num_threads(1)
    spec = get_spec(env)
    task = spec.tasks_array(task)[0]
    rng = make_rng(seed, *key, "rollouts")
    policy = make_policy(spec, arch, seed=torch_seed(seed, *key, "init"))
    tasks = np.tile(task, (n_traj, 1))
    rows = []
    for t in range(n_updates + 1):
        batch = rollout(spec, policy, tasks, rng)
        ret = batch.returns
        row = dict(step=t, ret=ret.mean(), ret_std=ret.std(ddof=1), kl_bound=np.nan,
                   kl=np.nan, accepted=np.nan, n_backtracks=np.nan)
        if t < n_updates:
            kl_bound = check_kl_bound(schedule(t))
            info = update(policy, batch, spec, kl_bound, algo, config)
            row.update(kl_bound=kl_bound, kl=info["kl"], accepted=float(info["accepted"]),
                       n_backtracks=info["n_backtracks"])
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, "arch", arch_label(arch))
    out.insert(0, "algo", algo)
    out.insert(0, "env", env)
    return out
