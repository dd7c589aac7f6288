"""Locomotion task families of meta-RL (paper 2's second experiment): HalfCheetah and Ant,
goal velocity and moving direction, on the real MuJoCo models (Gymnasium v5 envs).

Rewards follow the MAML / ProMP task families (Finn et al. 2017 rllab code; Rothfuss et al.
2019 ProMP code, checked against public copies of both):

* ``halfcheetah-vel``: r = -|v_x - v_goal| - 0.05 ||a||^2, v_goal ~ U[0, 2];
* ``halfcheetah-dir``: r = d v_x - 0.05 ||a||^2, d = +1 or -1 with probability 1/2;
* ``ant-vel``: r = -|v_x - v_goal| - 0.005 ||a||^2 - contact cost + 0.05, v_goal ~ U[0, 3];
* ``ant-dir``: r = d v_x - 0.005 ||a||^2 - contact cost + 0.05;

Ant's contact cost is 0.5e-3 sum clip(cfrc_ext, -1, 1)^2 (Gymnasium v5's default weight 5e-4
and range (-1, 1) compute exactly that), and an Ant episode ends when the torso height leaves
[0.2, 1.0] (v5's default healthy range). Horizon 200. v_x is the torso's forward velocity as
Gymnasium reports it (``info["x_velocity"]``).

:func:`rollout` steps many environments per call (one task each) with one batched policy
call per time step.
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import gymnasium as gym
import mujoco
import numpy as np

HORIZON = 200


def _mujoco_warning(message: str) -> None:
    """MuJoCo warnings as Python warnings, except the compiler's deprecation of
    ``settotalmass`` in Gymnasium's own Ant/HalfCheetah XML (printed once per env otherwise)."""
    if "settotalmass" not in message:
        warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


mujoco.set_mju_user_warning(_mujoco_warning)


@dataclass(frozen=True)
class Family:
    """A task family: the Gymnasium model, the task kind and the reward constants."""

    gym_id: str
    kind: str  # "vel" (goal velocity) or "dir" (direction +-1)
    goal_low: float = 0.0
    goal_high: float = 0.0
    ctrl_cost: float = 0.05
    survive: float = 0.0
    ant: bool = False


FAMILIES = {
    "halfcheetah-vel": Family("HalfCheetah-v5", "vel", 0.0, 2.0, ctrl_cost=0.05),
    "halfcheetah-dir": Family("HalfCheetah-v5", "dir", ctrl_cost=0.05),
    "ant-vel": Family("Ant-v5", "vel", 0.0, 3.0, ctrl_cost=0.005, survive=0.05, ant=True),
    "ant-dir": Family("Ant-v5", "dir", ctrl_cost=0.005, survive=0.05, ant=True),
}


def check_family(name: str) -> Family:
    """The :class:`Family` named ``name``; a ValueError naming it otherwise."""
    if name not in FAMILIES:
        raise ValueError(f"unknown task family {name!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def sample_tasks(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n,) goal velocities (``*-vel``) or directions +-1 (``*-dir``)."""
    fam = check_family(name)
    if fam.kind == "vel":
        return rng.uniform(fam.goal_low, fam.goal_high, size=n)
    return rng.choice([-1.0, 1.0], size=n)


class LocomotionTask(gym.Wrapper):
    """A Gymnasium env of one task: the v5 model with the family's reward.

    ``info`` keeps Gymnasium's terms and adds ``reward_task`` (the velocity / direction term).
    """

    def __init__(self, name: str, task: float, horizon: int = HORIZON):
        fam = check_family(name)
        kwargs = dict(max_episode_steps=horizon)
        if fam.ant:
            kwargs.update(healthy_reward=fam.survive, ctrl_cost_weight=fam.ctrl_cost)
        else:
            kwargs.update(ctrl_cost_weight=fam.ctrl_cost)
        super().__init__(gym.make(fam.gym_id, **kwargs))
        self.family, self.task = fam, float(task)

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        v = info["x_velocity"]
        task_term = -abs(v - self.task) if self.family.kind == "vel" else self.task * v
        reward = task_term + info["reward_ctrl"]
        if self.family.ant:
            reward += info["reward_contact"] + info["reward_survive"]
        info = dict(info, reward_task=task_term)
        return obs, float(reward), terminated, truncated, info


@dataclass
class Rollouts:
    """Trajectories of a batch of environments, padded to the horizon.

    Attributes:
        obs: (n, T, obs_dim). act: (n, T, act_dim). rew: (n, T). mask: (n, T) 1 while alive.
        tasks: (n,) the task of each row.
    """

    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    mask: np.ndarray
    tasks: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """(n,) undiscounted returns (the papers' "accumulated reward")."""
        return (self.rew * self.mask).sum(1)


def rollout(name: str, tasks, act_fn, seed: int, horizon: int = HORIZON) -> Rollouts:
    """One episode in each of ``len(tasks)`` environments, stepped together.

    Args:
        tasks: (n,) one task per environment (repeat a task for several trajectories).
        act_fn: ``(obs (m, obs_dim), rows (m,)) -> actions (m, act_dim)`` for the m
            environments still alive (one batched policy call per time step).
        seed: environment ``i`` is reset with seed ``seed + i``.
    """
    tasks = np.asarray(tasks, dtype=float)
    envs = _envs(name, horizon, len(tasks))
    for env, t in zip(envs, tasks):
        env.task = float(t)
    first = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    n, obs_dim = len(envs), first[0].shape[0]
    act_dim = envs[0].action_space.shape[0]
    obs = np.zeros((n, horizon, obs_dim))
    act = np.zeros((n, horizon, act_dim))
    rew = np.zeros((n, horizon))
    mask = np.zeros((n, horizon))
    current = np.stack(first)
    alive = np.ones(n, dtype=bool)
    for t in range(horizon):
        rows = np.flatnonzero(alive)
        if not len(rows):
            break
        a = np.asarray(act_fn(current[rows], rows), dtype=float)
        for k, i in enumerate(rows):
            o, r, term, trunc, _ = envs[i].step(a[k])
            obs[i, t], act[i, t], rew[i, t], mask[i, t] = current[i], a[k], r, 1.0
            current[i] = o
            if term or trunc:
                alive[i] = False
    return Rollouts(obs, act, rew, mask, tasks)


_POOL = threading.local()


def _envs(name: str, horizon: int, n: int) -> list:
    """``n`` environments of family ``name``, kept per thread and reused across calls.

    Building a MuJoCo env costs ~7 ms (model compilation), a tenth of a second per
    meta-batch; reuse is exact because every episode starts with ``reset(seed=...)``. The
    pool is per thread: a Dask worker with several threads runs several samplers at once,
    and a MuJoCo model's data must not be stepped by two of them.
    """
    pools = _POOL.__dict__.setdefault("pools", {})
    pool = pools.setdefault((name, horizon), [])
    while len(pool) < n:
        pool.append(LocomotionTask(name, 0.0, horizon))
    return pool[:n]
