"""Sampling a meta-batch: trajectories of one policy per task on many locomotion tasks.

:func:`sample` runs ``n_traj`` episodes on each of the given tasks, all environments
stepped together (:func:`lib.envs.locomotion.rollout`, one batched policy call per step),
then splits the result into one :class:`TaskData` per task with advantages from a linear
feature baseline fitted on that task's trajectories (rllab / MAML / ProMP practice):
``A_t = G_t - b(s_t, t)`` with discounted rewards-to-go ``G`` (GAE with lambda = 1),
normalised to mean 0 and std 1 per task.

A policy may differ per task (adapted policies): pass a list of parameter lists.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from lib.bomrl import functional_policy as fp
from lib.envs.locomotion import HORIZON, rollout
from lib.policies import DTYPE
from lib.rollouts import baseline_features, baseline_residuals, rewards_to_go


@dataclass
class TaskData:
    """Trajectories of one task, as float64 tensors.

    Attributes:
        obs: (n, T, obs_dim). act: (n, T, act_dim). mask: (n, T) 1 on real steps.
        adv: (n, T) normalised advantages (0 on padding). returns: (n,) undiscounted.
        task: the task (goal velocity or direction).
    """

    obs: torch.Tensor
    act: torch.Tensor
    mask: torch.Tensor
    adv: torch.Tensor
    returns: np.ndarray
    task: float

    @property
    def n_steps(self) -> int:
        return int(self.mask.sum())

    def weights(self) -> torch.Tensor:
        """(n, T) weights of the real steps summing to 1 (for sample means)."""
        return self.mask / self.mask.sum()


def task_advantages(obs: np.ndarray, rew: np.ndarray, mask: np.ndarray, gamma: float,
                    ridge: float = 1e-5) -> np.ndarray:
    """(n, T) normalised advantages ``G - b`` from a ridge fit of the linear baseline.

    Features are rllab's ``[s, s^2, t', t'^2, t'^3, 1]`` with ``s`` clipped to [-10, 10].
    """
    g = rewards_to_go(rew, mask, gamma)
    real = mask > 0
    feats = baseline_features(np.clip(obs, -10, 10), obs.shape[1])
    adv = np.zeros_like(g)
    adv[real] = baseline_residuals(feats[real], g[real], ridge)
    return adv


def sample(family: str, params, tasks, n_traj: int, seed: int, horizon: int = HORIZON,
           gamma: float = 0.99) -> tuple[list[TaskData], dict]:
    """``n_traj`` episodes per task; one :class:`TaskData` per task and timing info.

    Args:
        params: one parameter list for all tasks, or a list of them (one per task).
        tasks: (m,) task values. seed: environment seeds and action noise derive from it.
    Returns:
        ``(data, info)`` with ``info = {"steps": env steps, "seconds": wall time}``.
    """
    tasks = np.asarray(tasks, dtype=float)
    per_task = isinstance(params[0], (list, tuple))
    plist = params if per_task else [params] * len(tasks)
    if len(plist) != len(tasks):
        raise ValueError(f"{len(plist)} parameter lists for {len(tasks)} tasks")
    rows_task = np.repeat(np.arange(len(tasks)), n_traj)
    gen = torch.Generator().manual_seed(int(seed))

    def act_fn(obs, rows):
        obs_t = torch.as_tensor(obs, dtype=DTYPE)
        out = np.empty((len(rows), plist[0][-1].numel()))
        tid = rows_task[rows]
        for k in np.unique(tid):
            sel = tid == k
            out[sel] = fp.sample_actions(plist[k], obs_t[sel], gen).numpy()
        return out

    start = time.perf_counter()
    ro = rollout(family, tasks[rows_task], act_fn, seed=int(seed), horizon=horizon)
    seconds = time.perf_counter() - start
    data = []
    for k, task in enumerate(tasks):
        sel = rows_task == k
        obs, act, rew, mask = ro.obs[sel], ro.act[sel], ro.rew[sel], ro.mask[sel]
        adv = task_advantages(obs, rew, mask, gamma)
        data.append(TaskData(torch.as_tensor(obs, dtype=DTYPE), torch.as_tensor(act, dtype=DTYPE),
                             torch.as_tensor(mask, dtype=DTYPE), torch.as_tensor(adv, dtype=DTYPE),
                             (rew * mask).sum(1), float(task)))
    return data, {"steps": int(ro.mask.sum()), "seconds": seconds}
