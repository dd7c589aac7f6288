"""Cartpole with a continuous horizontal force, and a task distribution over masses and length.

Description:
    The classic cart-pole (Barto, Sutton and Anderson 1983; equations of Florian 2007 as
    in Gymnasium's ``CartPole``), with the continuous force of Ian Danforth's variant used
    by Tirinzoni et al. (``AndreaTirinzoni/transfer-policy-search``,
    ``envs/continuousCartpole.py``): ``F = 30 * clip(a, -1, 1)`` newtons.

Constants and sources (research notes b.3):

================  =======  ==============================================
constant          value    meaning
================  =======  ==============================================
``G``             9.8      gravity, m/s^2 (Gymnasium / Danforth)
``FORCE_MAG``     30.0     force for a = 1, N (Danforth / Tirinzoni)
``TAU``           0.02     seconds per step, explicit Euler
``X_LIMIT``       2.4      cart position limit, m
``THETA_LIMIT``   0.2094   pole angle limit, rad (12 degrees)
``HORIZON``       200      steps (Tirinzoni scripts; gym CartPole-v0)
``GAMMA``         0.99     discount
================  =======  ==============================================

State: ``(x, x_dot, theta, theta_dot)``; reset ``U[-0.05, 0.05]^4``. Observation = state.
Reward: +1 per step, including the step on which the pole falls; the episode then ends.
The dynamics are deterministic (no noise).

Equations (``m_c`` cart mass, ``m_p`` pole mass, ``l`` half pole length,
``M = m_c + m_p``)::

    temp      = (F + m_p l theta_dot^2 sin(theta)) / M
    theta_acc = (g sin(theta) - cos(theta) temp) / (l (4/3 - m_p cos^2(theta) / M))
    x_acc     = temp - m_p l theta_acc cos(theta) / M

and the Euler update uses the old velocities for the positions. These accelerations obey
the horizontal momentum balance ``M x_acc + m_p l (theta_acc cos - theta_dot^2 sin) = F``
exactly (``tests/test_envs.py`` checks it).

Task distribution: the task vector is ``(m_c, m_p, l)``. The paper says "a variable mass
and length of the cart pole"; the issue asks for pole mass and pole length; the group's
only public precedent (Tirinzoni) varies the cart mass. We vary all three, uniformly:
``m_c ~ U[0.8, 1.2]`` (Tirinzoni), ``m_p ~ U[0.05, 0.2]`` (0.1 x [0.5, 2], research
notes), ``l ~ U[0.4, 0.6]`` (Tirinzoni). Default ``(1.0, 0.1, 0.5)``.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

from lib.envs.spec import BatchedEnv, EnvSpec

G = 9.8
FORCE_MAG = 30.0
TAU = 0.02
X_LIMIT = 2.4
THETA_LIMIT = 12 * 2 * np.pi / 360
HORIZON = 200
GAMMA = 0.99
TASK_NAMES = ("cart_mass", "pole_mass", "half_length")
DEFAULT_TASK = (1.0, 0.1, 0.5)
TASK_LOW = (0.8, 0.05, 0.4)
TASK_HIGH = (1.2, 0.2, 0.6)


def sample_tasks(rng: np.random.Generator, n: int) -> np.ndarray:
    """Tasks ``(m_c, m_p, l)`` uniform in [0.8,1.2] x [0.05,0.2] x [0.4,0.6], shape (n, 3)."""
    return rng.uniform(TASK_LOW, TASK_HIGH, size=(n, 3))


def reset_batch(rng: np.random.Generator, tasks: np.ndarray) -> np.ndarray:
    """Initial states ``U[-0.05, 0.05]^4``, shape (B, 4)."""
    return rng.uniform(-0.05, 0.05, size=(len(tasks), 4))


def observe(state: np.ndarray) -> np.ndarray:
    """Observation = state, shape (B, 4)."""
    return state


def accelerations(state: np.ndarray, force: np.ndarray, tasks: np.ndarray, g: float = G):
    """Cart and pole accelerations ``(x_acc, theta_acc)``, each shape (B,).

    Args:
        state: (B, 4); force: (B,) newtons; tasks: (B, 3) rows ``(m_c, m_p, l)``;
        g: gravity (a parameter so tests can switch it off).
    """
    m_c, m_p, length = tasks[:, 0], tasks[:, 1], tasks[:, 2]
    total = m_c + m_p
    theta, theta_dot = state[:, 2], state[:, 3]
    sin, cos = np.sin(theta), np.cos(theta)
    temp = (force + m_p * length * theta_dot**2 * sin) / total
    theta_acc = (g * sin - cos * temp) / (length * (4.0 / 3.0 - m_p * cos**2 / total))
    x_acc = temp - m_p * length * theta_acc * cos / total
    return x_acc, theta_acc


def step_batch(state, action, tasks, rng=None):
    """One Euler step of B cart-poles (deterministic: ``rng`` is unused).

    Args:
        state: (B, 4); action: (B, 1) raw actions; tasks: (B, 3).
    Returns:
        ``(next_state (B, 4), reward (B,) of ones, terminated (B,))``.
    """
    force = FORCE_MAG * np.clip(action[:, 0], -1.0, 1.0)
    x_acc, theta_acc = accelerations(state, force, tasks)
    x, x_dot, theta, theta_dot = state.T
    nxt = np.stack(
        [x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc],
        axis=1,
    )
    terminated = (np.abs(nxt[:, 0]) > X_LIMIT) | (np.abs(nxt[:, 2]) > THETA_LIMIT)
    return nxt, np.ones(len(state)), terminated


SPEC = EnvSpec(
    name="cartpole", obs_dim=4, act_dim=1, horizon=HORIZON, gamma=GAMMA, std0=0.5,
    obs_scale=(1 / 2.4, 1 / 2.0, 1 / THETA_LIMIT, 1 / 2.0), task_names=TASK_NAMES,
    default_task=DEFAULT_TASK, sample_tasks=sample_tasks, reset_batch=reset_batch,
    step_batch=step_batch, observe=observe, positive_task_params=TASK_NAMES,
)


class Cartpole(BatchedEnv):
    """Gymnasium wrapper around the batched Cartpole dynamics (batch of one)."""

    def __init__(self, task=DEFAULT_TASK):
        high = np.array([X_LIMIT * 2, np.inf, THETA_LIMIT * 2, np.inf])
        super().__init__(SPEC, task, gym.spaces.Box(-high, high, dtype=np.float64),
                         gym.spaces.Box(-np.inf, np.inf, (1,), dtype=np.float64))
