"""What every environment module provides to the algorithms: an :class:`EnvSpec`.

Each environment module (``elikoeidis``, ``minigolf``, ``cartpole``) has two paths to the
same dynamics:

* a Gymnasium ``Env`` (``reset(seed=)``, ``step``, spaces) for users and ``check_env``;
* a batched path, ``reset_batch`` / ``step_batch``, that steps many trajectories (each
  with its own task) in one numpy call. The algorithms use only this path; the Gymnasium
  env is a thin wrapper that calls it with a batch of one, so both agree by construction
  (and ``tests/test_envs.py`` checks it).

Batched signatures (``B`` trajectories, ``k`` task parameters):

* ``reset_batch(rng, tasks) -> state``: ``tasks`` (B, k) -> ``state`` (B, state_dim);
* ``step_batch(state, action, tasks, rng) -> (next_state, reward, terminated)`` with
  ``action`` (B, act_dim) the policy's raw (pre-clip) action, ``reward`` (B,),
  ``terminated`` (B,) bool;
* ``observe(state) -> obs`` (B, obs_dim);
* ``sample_tasks(rng, n) -> tasks`` (n, k).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class EnvSpec:
    """Static description of an environment for the batched algorithms.

    Attributes:
        name: registry name (``"elikoeidis"``, ``"minigolf"``, ``"cartpole"``).
        obs_dim, act_dim: observation and action sizes.
        horizon: maximal episode length T (steps).
        gamma: discount factor used for advantages.
        std0: initial standard deviation of the Gaussian policy (action units).
        obs_scale: fixed per-coordinate scale applied to observations before the policy
            (and the k-NN metafeatures), shape (obs_dim,). Never fitted per batch.
        task_names: names of the task parameters, length k.
        default_task: the task the paper names as default, shape (k,).
        sample_tasks, reset_batch, step_batch, observe: the batched functions above.
    """

    name: str
    obs_dim: int
    act_dim: int
    horizon: int
    gamma: float
    std0: float
    obs_scale: tuple
    task_names: tuple
    default_task: tuple
    sample_tasks: Callable
    reset_batch: Callable
    step_batch: Callable
    observe: Callable
    positive_task_params: tuple = ()

    def tasks_array(self, tasks) -> np.ndarray:
        """Validate and broadcast ``tasks`` to shape (B, k) float64.

        Raises:
            ValueError: wrong shape, a NaN or infinite parameter, or a parameter named in
                ``positive_task_params`` (masses, lengths, friction) that is not > 0.
        """
        arr = np.atleast_2d(np.asarray(tasks, dtype=np.float64))
        if arr.ndim != 2 or arr.shape[1] != len(self.task_names):
            raise ValueError(
                f"{self.name}: a task has {len(self.task_names)} parameters "
                f"{self.task_names}, got shape {arr.shape}"
            )
        for j, name in enumerate(self.task_names):
            col = arr[:, j]
            if not np.isfinite(col).all():
                raise ValueError(f"{self.name}: task parameter {name} must be finite, got {col[~np.isfinite(col)][0]}")
            if name in self.positive_task_params and not (col > 0).all():
                raise ValueError(f"{self.name}: task parameter {name} must be > 0, got {col[col <= 0][0]}")
        return arr


class BatchedEnv(gym.Env):
    """The Gymnasium view of a batched environment: the batched dynamics with a batch of one.

    Subclasses pass their :class:`EnvSpec`, a task and the two spaces. ``reset(seed=s)``
    seeds ``np_random`` as ``default_rng(s)``, so a batch-of-one rollout driven by
    ``default_rng(s)`` reproduces the same trajectory (``tests/test_envs.py``).
    Episodes are truncated after ``env_spec.horizon`` steps.
    """

    metadata = {"render_modes": []}

    def __init__(self, env_spec: EnvSpec, task, observation_space, action_space):
        self.env_spec = env_spec
        self.task = env_spec.tasks_array(task)
        self.observation_space = observation_space
        self.action_space = action_space
        self._state = None
        self._t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._state = self.env_spec.reset_batch(self.np_random, self.task)
        self._t = 0
        return self.env_spec.observe(self._state)[0].copy(), {}

    def step(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(1, self.env_spec.act_dim)
        self._state, reward, term = self.env_spec.step_batch(self._state, action, self.task, self.np_random)
        self._t += 1
        truncated = self._t >= self.env_spec.horizon and not term[0]
        return (self.env_spec.observe(self._state)[0].copy(), float(reward[0]), bool(term[0]),
                truncated, {})
