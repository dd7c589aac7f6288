"""Batched rollouts: many trajectories (each with its own task) stepped in one numpy call.

A :class:`Batch` stores trajectories padded to the horizon T, with a boolean ``mask``
marking the steps that happened. Shapes use ``B`` trajectories and ``T`` steps.
Advantages use discounted rewards-to-go minus a linear feature baseline (below).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lib.envs.spec import EnvSpec
from lib.policies import GaussianPolicy


@dataclass
class Batch:
    """N trajectories of one policy on one (or several) tasks.

    Attributes:
        obs: (B, T, obs_dim) observations s_t.
        act: (B, T, act_dim) sampled, pre-clip actions a_t.
        rew: (B, T) rewards r_t (0 after the end).
        next_obs: (B, T, obs_dim) observations s_{t+1}.
        mask: (B, T) bool, True where step t happened.
        tasks: (B, k) task of each trajectory.
    """

    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    next_obs: np.ndarray
    mask: np.ndarray
    tasks: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """Undiscounted return J of each trajectory, shape (B,)."""
        return (self.rew * self.mask).sum(axis=1)

    @property
    def lengths(self) -> np.ndarray:
        return self.mask.sum(axis=1)

    def flat(self, name: str) -> np.ndarray:
        """Field ``name`` restricted to real steps, shape (n_steps, ...)."""
        return getattr(self, name)[self.mask]


def policy_actor(policy: GaussianPolicy):
    """``act_fn(obs, rng)`` sampling ``a = mu(s) + sigma * z``, z ~ N(0, I) drawn from ``rng``.

    The mean network is evaluated in numpy from a snapshot of the weights (a rollout's
    per-step batches are small, where torch's per-call overhead dominates: 4x faster).
    """
    std = torch.exp(policy.log_std).detach().numpy().copy()
    scale = policy.obs_scale.numpy().copy()
    layers = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
              for m in policy.mean_net if isinstance(m, torch.nn.Linear)]

    def act_fn(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h = obs * scale
        for i, (weight, bias) in enumerate(layers):
            h = h @ weight + bias
            if i < len(layers) - 1:
                h = np.tanh(h)
        return h + std * rng.standard_normal(h.shape)

    return act_fn


def rollout(spec: EnvSpec, policy, tasks, rng: np.random.Generator,
            horizon: int | None = None) -> Batch:
    """Run one trajectory per row of ``tasks``, all in lock-step.

    Args:
        spec: environment description.
        policy: a :class:`~lib.policies.GaussianPolicy` (actions sampled with numpy from
            ``rng``, so the rollout is reproducible from ``rng`` alone), or any function
            ``act_fn(obs (B, obs_dim), rng) -> actions (B, act_dim)``.
        tasks: (B, k) task parameters, one per trajectory.
        rng: numpy Generator for initial states, action noise and environment noise.
        horizon: steps (default ``spec.horizon``).
    Returns:
        a :class:`Batch` of B trajectories.
    """
    act_fn = policy_actor(policy) if isinstance(policy, GaussianPolicy) else policy
    tasks = spec.tasks_array(tasks)
    horizon = spec.horizon if horizon is None else int(horizon)
    n = len(tasks)
    obs_buf = np.zeros((n, horizon, spec.obs_dim))
    act_buf = np.zeros((n, horizon, spec.act_dim))
    next_buf = np.zeros((n, horizon, spec.obs_dim))
    rew_buf = np.zeros((n, horizon))
    mask = np.zeros((n, horizon), dtype=bool)
    state = spec.reset_batch(rng, tasks)
    obs = spec.observe(state)
    alive = np.ones(n, dtype=bool)
    for t in range(horizon):
        act = act_fn(obs, rng)
        state, rew, term = spec.step_batch(state, act, tasks, rng)
        next_obs = spec.observe(state)
        obs_buf[:, t], act_buf[:, t], next_buf[:, t] = obs, act, next_obs
        rew_buf[:, t] = np.where(alive, rew, 0.0)
        mask[:, t] = alive
        alive = alive & ~term
        obs = next_obs
        if not alive.any():
            break
    return Batch(obs_buf, act_buf, rew_buf, next_buf, mask, tasks)


def rewards_to_go(rew: np.ndarray, mask: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted rewards-to-go ``G_t = sum_{k>=t} gamma^(k-t) r_k``, shape (B, T)."""
    out = np.zeros_like(rew)
    running = np.zeros(rew.shape[0])
    for t in range(rew.shape[1] - 1, -1, -1):
        running = rew[:, t] * mask[:, t] + gamma * running * mask[:, t]
        out[:, t] = running
    return out


def baseline_features(obs: np.ndarray, horizon: int) -> np.ndarray:
    """rllab linear-baseline features ``[s, s^2, t', t'^2, t'^3, 1]``, t' = t/100.

    Args:
        obs: (B, T, obs_dim) scaled observations. Returns (B, T, 2 obs_dim + 4).
    """
    b, t_len = obs.shape[:2]
    t = np.broadcast_to((np.arange(t_len) / 100.0)[None, :, None], (b, t_len, 1))
    return np.concatenate([obs, obs**2, t, t**2, t**3, np.ones_like(t)], axis=-1)


def advantages(batch: Batch, spec: EnvSpec, ridge: float = 1e-5) -> np.ndarray:
    """Normalised advantages of the real steps, shape (n_steps,).

    ``A = G - b(s, t)`` where ``b`` is a linear function of :func:`baseline_features`
    fitted by ridge regression on this batch's rewards-to-go (policy-agnostic, cheap and
    deterministic; the rllab / Duan et al. 2016 baseline), then normalised to mean 0 and
    std 1 as in MushroomRL's TRPO.
    """
    g = rewards_to_go(batch.rew, batch.mask, spec.gamma)
    feats = baseline_features(batch.obs * np.asarray(spec.obs_scale), spec.horizon)[batch.mask]
    return baseline_residuals(feats, g[batch.mask], ridge)


def baseline_residuals(feats: np.ndarray, target: np.ndarray, ridge: float = 1e-5) -> np.ndarray:
    """``target - feats @ coef`` for the ridge fit of ``target`` on ``feats``, normalised to
    mean 0 and std 1, shape (n,). Args: feats (n, k) baseline features; target (n,) returns."""
    gram = feats.T @ feats + ridge * np.eye(feats.shape[1])
    coef = np.linalg.solve(gram, feats.T @ target)
    adv = target - feats @ coef
    return (adv - adv.mean()) / (adv.std() + 1e-8)
