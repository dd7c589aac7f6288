"""Elikoeidis: a single-state environment built to put TRPO in difficulty.

Description:
    Occorso et al., *Trust Region Meta Learning for Policy Optimization*, Sec. 5. One
    state; the agent picks a real action ``a`` and receives
    ``R(a) ~ N(m(a), c4)`` with ``m(a) = c1 * a * sin(|a|**(1 + 1/c2)) + c3 * a``.
    The mean reward has many local maxima that get narrower as ``a`` grows
    (a ~ 1.82, 4.78, 7.33, 9.63, ... for the default task), so small trust regions get
    trapped while large ones climb the envelope ``~ (c1 + c3) a``.

Negative actions:
    The paper writes ``a**(1 + 1/c2)``; for ``a < 0`` and non-integer exponents that is
    not a real number (numpy returns NaN). We use ``|a|**(1 + 1/c2)``: for ``c2 = 3``
    the exponent is 4/3 and ``|a|**(4/3) == (a**(1/3))**4`` with the real cube root, so
    this *is* the real value there; in general it makes ``m`` odd, ``m(-a) = -m(a)``.

Action space:  ``Box(-inf, inf, (1,))``, unclipped (the paper gives no bounds).
Observation:   the constant ``1.0``, shape (1,).
Reward:        ``N(m(a), c4)``; ``c4`` is read as the *variance* (the paper's second
               argument of N); with the default ``c4 = 1`` the reading does not matter.
Episode:       ``horizon = 10`` steps in the single state, ``gamma = 1`` (our choice,
               research notes b.1: the paper states neither; 10 steps give N = 8
               trajectories 80 action samples for the metafeatures).

Task distribution:
    The paper uses the single task ``c = [0.5, 3, 0.5, 1]``. ``sample_tasks`` therefore
    returns that task ``n`` times (a degenerate distribution); pass other ``c`` rows to the
    batched functions to explore variants.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

from lib.envs.spec import BatchedEnv, EnvSpec

DEFAULT_TASK = (0.5, 3.0, 0.5, 1.0)
TASK_NAMES = ("c1", "c2", "c3", "c4")
HORIZON = 10
GAMMA = 1.0


def mean_reward(action: np.ndarray, tasks: np.ndarray) -> np.ndarray:
    """m(a) = c1 a sin(|a|^(1+1/c2)) + c3 a.

    Args:
        action: shape (B,) actions.
        tasks: shape (B, 4) or (4,) task rows ``(c1, c2, c3, c4)``.
    Returns:
        shape (B,) mean reward.
    """
    tasks = np.asarray(tasks, dtype=np.float64)
    c1, c2, c3 = tasks[..., 0], tasks[..., 1], tasks[..., 2]
    a = np.asarray(action, dtype=np.float64)
    return c1 * a * np.sin(np.abs(a) ** (1.0 + 1.0 / c2)) + c3 * a


def expected_step_reward(mu, sigma, task=DEFAULT_TASK, n_nodes: int = 201) -> np.ndarray:
    """E[m(a)] for a ~ N(mu, sigma^2) by Gauss-Hermite quadrature (exact up to ~1e-10).

    Args:
        mu: array of policy means; sigma: policy std (> 0); task: (4,).
    Returns:
        array shaped like ``mu``: expected reward of one step (multiply by the horizon
        for the expected return of an episode).
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    mu = np.asarray(mu, dtype=np.float64)
    a = mu[..., None] + sigma * nodes
    return (mean_reward(a, np.asarray(task)) * weights).sum(-1) / weights.sum()


def sample_tasks(rng: np.random.Generator, n: int) -> np.ndarray:
    """The paper's single task, repeated: shape (n, 4)."""
    return np.tile(np.asarray(DEFAULT_TASK), (n, 1))


def reset_batch(rng: np.random.Generator, tasks: np.ndarray) -> np.ndarray:
    """Initial states, shape (B, 1): the single state (a step counter is not needed)."""
    return np.ones((len(tasks), 1))


def observe(state: np.ndarray) -> np.ndarray:
    """Observation = state, shape (B, 1)."""
    return state


def step_batch(state, action, tasks, rng):
    """One step of B independent copies.

    Args:
        state: (B, 1); action: (B, 1) raw actions; tasks: (B, 4); rng: Generator.
    Returns:
        ``(next_state (B, 1), reward (B,), terminated (B,) all False)``.
    """
    a = np.asarray(action, dtype=np.float64)[:, 0]
    noise = rng.standard_normal(len(a))
    reward = mean_reward(a, tasks) + np.sqrt(tasks[:, 3]) * noise
    return state.copy(), reward, np.zeros(len(a), dtype=bool)


SPEC = EnvSpec(
    name="elikoeidis", obs_dim=1, act_dim=1, horizon=HORIZON, gamma=GAMMA, std0=1.0,
    obs_scale=(1.0,), task_names=TASK_NAMES, default_task=DEFAULT_TASK,
    sample_tasks=sample_tasks, reset_batch=reset_batch, step_batch=step_batch,
    observe=observe,
)


class Elikoeidis(BatchedEnv):
    """Gymnasium wrapper around the batched Elikoeidis dynamics (batch of one)."""

    def __init__(self, task=DEFAULT_TASK):
        super().__init__(SPEC, task, gym.spaces.Box(1.0, 1.0, (1,), dtype=np.float64),
                         gym.spaces.Box(-np.inf, np.inf, (1,), dtype=np.float64))
