"""Minigolf (Tirinzoni, Salvini and Restelli, ICML 2019; physics of Penner 2002).

Description:
    A ball lies at distance ``x`` from the hole on a flat green. At every stroke the agent
    picks the club's angular speed ``a``; the ball leaves with speed
    ``u = clip(a, 0, 5) * l * (1 + eps)`` and decelerates uniformly by rolling friction.
    The ball is holed if it reaches the hole slowly enough, stops short otherwise (and
    the agent putts again), or flies over the hole and the episode ends with a penalty.

Constants and sources (``AndreaTirinzoni/transfer-policy-search``, ``envs/minigolf.py``,
the authors' code for the cited paper; research notes b.2):

=================  ==========  ===================================================
constant           value       meaning
=================  ==========  ===================================================
``G``              9.81        gravity, m/s^2
``BALL_RADIUS``    0.02135     ball radius rho, m
``HOLE_SIZE``      0.10        hole size h, m (fixed: the paper varies only l and f)
``SIGMA_NOISE``    0.3         std of the multiplicative action noise eps
``MAX_SPEED``      5.0         actions clipped to [0, max_action / 2] = [0, 5]
``X_MAX``          20.0        initial distance x0 ~ U[0, 20], m
``HORIZON``        20          strokes per episode
``GAMMA``          0.99        class default discount
=================  ==========  ===================================================

Dynamics of one stroke (all from the source):

1. ``eps ~ N(0, SIGMA_NOISE^2)`` redrawn until ``|eps| <= 1`` (a truncated normal, drawn
   here with ``scipy.stats.truncnorm``);
2. ``u = clip(a, 0, 5) * l * (1 + eps)``;
3. deceleration ``d = (5/7) f g``; speed needed to reach the hole
   ``v_min = sqrt(2 d x)``; largest speed at which the ball still drops in
   ``v_max = sqrt((2h - rho)^2 g / (2 rho) + v_min^2)``;
4. ``x' = x - u^2 / (2 d)`` (uniform deceleration until the ball stops; not clipped);
5. ``u < v_min``: reward -1, continue; ``u > v_max``: reward -100, terminate
   (overshoot); otherwise reward 0, terminate (holed).

Observation: ``x`` (m), shape (1,). Friction and putter length are not observed.
Action: ``Box(-inf, inf, (1,))``; the dynamics clip to [0, 5].

Task distribution: putter length ``l ~ U[0.7, 1.0]`` and friction
``f ~ U[0.065, 0.196]`` (comments in the source and its ``run_minigolf_ideal.py``).
Task vector: ``(l, f)``; default ``(1.0, 0.131)``.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from scipy.stats import truncnorm

from lib.envs.spec import BatchedEnv, EnvSpec

G = 9.81
BALL_RADIUS = 0.02135
HOLE_SIZE = 0.10
SIGMA_NOISE = 0.3
MAX_SPEED = 5.0
X_MAX = 20.0
HORIZON = 20
GAMMA = 0.99
TASK_NAMES = ("putter_length", "friction")
DEFAULT_TASK = (1.0, 0.131)
TASK_LOW = (0.7, 0.065)
TASK_HIGH = (1.0, 0.196)


def sample_tasks(rng: np.random.Generator, n: int) -> np.ndarray:
    """Tasks ``(l, f)`` uniform in [0.7, 1.0] x [0.065, 0.196], shape (n, 2)."""
    return rng.uniform(TASK_LOW, TASK_HIGH, size=(n, 2))


def reset_batch(rng: np.random.Generator, tasks: np.ndarray) -> np.ndarray:
    """Initial distances ``x0 ~ U[0, 20]``, shape (B, 1)."""
    return rng.uniform(0.0, X_MAX, size=(len(tasks), 1))


def observe(state: np.ndarray) -> np.ndarray:
    """Observation = distance to the hole, shape (B, 1)."""
    return state


def speed_window(x: np.ndarray, friction: np.ndarray):
    """Ball speeds (m/s) that hole the ball from distance ``x``: ``(v_min, v_max)``."""
    decel = 5.0 / 7.0 * friction * G
    v_min = np.sqrt(2.0 * decel * np.maximum(x, 0.0))
    v_max = np.sqrt((2 * HOLE_SIZE - BALL_RADIUS) ** 2 * G / (2 * BALL_RADIUS) + v_min**2)
    return v_min, v_max


def oracle_action(x: np.ndarray, tasks: np.ndarray) -> np.ndarray:
    """A good task-aware putt (research notes b.2): ``a = (0.5 v_min(x) + 0.7) / l``.

    Aims low because the noise is multiplicative: about -2 to -4 strokes per episode.
    Args: x (B,) distances; tasks (B, 2). Returns (B,) actions.
    """
    v_min, _ = speed_window(x, tasks[:, 1])
    return (0.5 * v_min + 0.7) / tasks[:, 0]


def draw_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """eps ~ N(0, 0.3^2) truncated to [-1, 1], shape (n,)."""
    bound = 1.0 / SIGMA_NOISE
    return truncnorm.rvs(-bound, bound, scale=SIGMA_NOISE, size=n, random_state=rng)


def step_batch(state, action, tasks, rng):
    """One stroke of B independent balls.

    Args:
        state: (B, 1) distances (m); action: (B, 1) raw actions; tasks: (B, 2) rows
        ``(l, f)``; rng: Generator for the action noise.
    Returns:
        ``(next_state (B, 1), reward (B,), terminated (B,))``.
    """
    x = state[:, 0]
    length, friction = tasks[:, 0], tasks[:, 1]
    u = np.clip(action[:, 0], 0.0, MAX_SPEED) * length * (1.0 + draw_noise(rng, len(x)))
    decel = 5.0 / 7.0 * friction * G
    v_min, v_max = speed_window(x, friction)
    x_next = x - u**2 / (2.0 * decel)
    short = u < v_min
    over = u > v_max
    reward = np.where(short, -1.0, np.where(over, -100.0, 0.0))
    return x_next[:, None], reward, ~short


SPEC = EnvSpec(
    name="minigolf", obs_dim=1, act_dim=1, horizon=HORIZON, gamma=GAMMA, std0=1.0,
    obs_scale=(1.0 / X_MAX,), task_names=TASK_NAMES, default_task=DEFAULT_TASK,
    sample_tasks=sample_tasks, reset_batch=reset_batch, step_batch=step_batch,
    observe=observe, positive_task_params=TASK_NAMES,
)


class Minigolf(BatchedEnv):
    """Gymnasium wrapper around the batched Minigolf dynamics (batch of one)."""

    def __init__(self, task=DEFAULT_TASK):
        super().__init__(SPEC, task, gym.spaces.Box(-np.inf, X_MAX, (1,), dtype=np.float64),
                         gym.spaces.Box(-np.inf, np.inf, (1,), dtype=np.float64))
