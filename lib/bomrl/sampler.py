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
from lib.bomrl.locomotion_protocol import ALIVE_BONUS, CTRL_COST, LOCOMOTION_AUTHORS, TAIL_SOURCES, LocomotionProtocol
from lib.envs.locomotion import HORIZON, rollout
from lib.envs.mujoco_batch import batch_for, robot_of
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


# --- the authors' sampler: batched Half-cheetah, observation filter, return tail ------------

@dataclass
class ObsNorm:
    """Running mean and standard deviation of observations (the authors' ZFilter, clip 5).

    ``std`` is ``sqrt(M2 / (n - 1))`` (``|mean|`` while n = 1, as theirs); a normalised
    observation is ``clip((x - mean) / (std + 1e-8), -clip, clip)``.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    clip: float = 5.0

    @classmethod
    def empty(cls, dim: int, clip: float = 5.0) -> "ObsNorm":
        return cls(0, np.zeros(dim), np.zeros(dim), clip)

    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else np.abs(self.mean)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / (self.std() + 1e-8), -self.clip, self.clip)

    def update(self, x: np.ndarray) -> "ObsNorm":
        """A new filter with the rows of ``x`` (m, dim) added (Chan et al.'s exact merge)."""
        x = np.asarray(x, dtype=float).reshape(-1, self.mean.shape[0])
        m = x.shape[0]
        if m == 0:
            return self
        mean_b = x.mean(0)
        m2_b = ((x - mean_b) ** 2).sum(0)
        n = self.n + m
        delta = mean_b - self.mean
        mean = self.mean + delta * m / n
        m2 = self.m2 + m2_b + delta**2 * self.n * m / n
        return ObsNorm(n, mean, m2, self.clip)

    def state(self) -> dict:
        return dict(n=self.n, mean=self.mean.copy(), m2=self.m2.copy(), clip=self.clip)

    @classmethod
    def from_state(cls, state: dict) -> "ObsNorm":
        return cls(int(state["n"]), np.asarray(state["mean"], dtype=float), np.asarray(state["m2"], dtype=float),
                   float(state["clip"]))


def _stack(plist: list) -> list[torch.Tensor]:
    """Per-task parameter lists -> stacked tensors (k, ...), for one batched forward pass."""
    return [torch.stack([p[i].detach() for p in plist]) for i in range(len(plist[0]))]


def _batched_actions(stacked, obs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """a ~ pi_k(.|s) for obs (k, n, obs_dim) with the k stacked policies; (k, n, act_dim)."""
    h = obs
    layers = stacked[:-1]
    for i in range(0, len(layers), 2):
        h = torch.baddbmm(layers[i + 1][:, None, :], h, layers[i].mT)
        if i + 2 < len(layers):
            h = torch.tanh(h)
    return h + torch.exp(stacked[-1])[:, None, :] * torch.randn(h.shape, generator=gen, dtype=h.dtype)


def task_rewards(family: str, tasks: np.ndarray, vel: np.ndarray, act: np.ndarray) -> np.ndarray:
    """(m,) rewards: ``-|v - g|`` (vel) or ``d v`` (dir), plus the robot's alive bonus, minus its
    control cost: HalfCheetah ``- 0.05 ||a||^2``, Ant ``+ 1.05 - 0.005 ||a||^2``."""
    robot = robot_of(family)
    term = -np.abs(vel - tasks) if family.endswith("vel") else tasks * vel
    return term + ALIVE_BONUS[robot] - CTRL_COST[robot] * (act**2).sum(-1)


def returns_with_tail(rew: np.ndarray, horizon: int, gamma: float, tail_source: str = "continuation") -> np.ndarray:
    """(n, horizon) discounted returns of the first ``horizon`` steps of (n, T) reward rows (no early ends).

    ``"continuation"``: ``G_t = sum_{s=t}^{T-1} gamma^(s-t) r_s`` (the tail is the steps after
    ``horizon``). ``"own"`` (their scripts before ``1784ed7``; needs T = 2 horizon): the tail is the
    first ``horizon`` rewards again, so ``G_t = (1 + gamma^H) RTG_t + gamma^(H-t) sum_{s<t} gamma^s r_s``
    with ``RTG_t`` the in-horizon reward-to-go.
    """
    if tail_source == "own":
        if rew.shape[1] != 2 * horizon:
            raise ValueError(f"the 'own' tail needs 2 x horizon = {2 * horizon} rewards per row, got {rew.shape[1]}")
        rew = np.concatenate([rew[:, :horizon], rew[:, :horizon]], 1)
    elif tail_source != "continuation":
        raise ValueError(f"tail_source must be one of {', '.join(map(repr, TAIL_SOURCES))}, got {tail_source!r}")
    return rewards_to_go(rew, np.ones_like(rew), gamma)[:, :horizon]


def sample_filtered(family: str, params, tasks, n_traj: int, norm: ObsNorm, seed: int,
           proto: LocomotionProtocol = LOCOMOTION_AUTHORS) -> tuple[list[TaskData], np.ndarray, dict]:
    """``n_traj`` trajectories per task of one policy (or one per task), as the authors sample them.

    Args:
        params: one parameter list, or a list of them (one per task).
        tasks: (k,) goal velocities or directions. norm: the frozen observation filter.
        seed: reset states and action noise derive from it.
    Returns:
        ``(data, raw_obs, info)``: one :class:`TaskData` per task (normalised observations of the
        ``horizon`` steps, centred discounted returns with the tail as ``adv``, in the policy's
        dtype; undiscounted
        ``horizon``-step returns), every raw observation the policy saw (for the filter), and
        ``{"steps", "seconds", "physics_s"}``.
    """
    proto.check_family(family)
    tasks = np.asarray(tasks, dtype=float)
    k = len(tasks)
    plist = params if isinstance(params[0], (list, tuple)) else [params]
    if len(plist) not in (1, k):
        raise ValueError(f"{len(plist)} parameter lists for {k} tasks")
    stacked = _stack(plist)
    dtype = stacked[-1].dtype
    groups = len(plist)
    n = k * n_traj
    row_task = np.repeat(tasks, n_traj)
    horizon, total = proto.horizon, proto.horizon * (2 if proto.tail else 1)
    sim = batch_for(family, n)
    gen = torch.Generator().manual_seed(int(seed))
    start = time.perf_counter()
    raw = sim.reset(np.random.default_rng(int(seed)))
    obs_dim, act_dim = raw.shape[1], plist[0][-1].numel()
    obs = np.empty((n, horizon, obs_dim))
    act = np.empty((n, horizon, act_dim))
    rew = np.empty((n, total))
    seen = np.empty((total, n, obs_dim))
    physics = 0.0
    for t in range(total):
        seen[t] = raw
        x = norm(raw)
        with torch.no_grad():
            a = _batched_actions(stacked, torch.as_tensor(x, dtype=dtype).view(groups, -1, obs_dim), gen)
        a = a.reshape(n, act_dim).numpy()
        if t < horizon:
            obs[:, t], act[:, t] = x, a
        t0 = time.perf_counter()
        raw, vel = sim.step(a)
        physics += time.perf_counter() - t0
        rew[:, t] = task_rewards(family, row_task, vel, a)
    seconds = time.perf_counter() - start
    g = returns_with_tail(rew, horizon, proto.gamma, proto.tail_source)
    data = []
    ones = torch.ones(n_traj, horizon, dtype=dtype)
    for j, task in enumerate(tasks):
        rows = slice(j * n_traj, (j + 1) * n_traj)
        adv = g[rows] - g[rows].mean()
        data.append(TaskData(torch.as_tensor(obs[rows], dtype=dtype), torch.as_tensor(act[rows], dtype=dtype),
                             ones, torch.as_tensor(adv, dtype=dtype), rew[rows, :horizon].sum(1), float(task)))
    return data, seen.reshape(-1, obs_dim), dict(steps=n * total, seconds=seconds, physics_s=physics)
