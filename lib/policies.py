"""Gaussian policies: linear (MLP(0, 0)) and MLP(h, n), with closed-form entropy and KL.

``pi(a|s) = N(mu_theta(s), diag(sigma^2))`` where ``mu_theta`` is an MLP with ``h``
hidden ``tanh`` layers of ``n`` units (``h = 0``: linear) applied to the scaled
observation ``s * obs_scale``, and ``log sigma`` is a learned, state-independent vector.

Why a state-independent log-std: it is the choice of the TRPO paper's continuous-control
experiments and of MushroomRL's ``GaussianTorchPolicy`` (the same lab as paper 1); it
gives every architecture the same exploration parametrisation, so the trust region
(a KL bound) means the same thing across architectures, and it keeps the policy's
entropy equal to the closed form ``sum_j 0.5 log(2 pi e sigma_j^2)`` at every state.

The output layer is initialised at 0.01 x its default scale (mean ~ 0 at start for every
architecture), so learning curves start from the same behaviour. Parameters are float64; the TRPO
update evaluates the network in float32 (:data:`lib.trpo.COMPUTE_DTYPE`), rollouts in float64 numpy.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

DTYPE = torch.float64


def check_arch(arch, name: str = "arch") -> tuple[int, int]:
    """Validate an architecture ``(h, n)``: integers, 0 <= h <= 3, n >= 1 (n ignored when h = 0)."""
    try:
        h, n = arch
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (hidden_layers, width), got {arch!r}") from None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (h, n)):
        raise ValueError(f"{name} must be a pair of integers (hidden_layers, width), got {arch!r}")
    h, n = int(h), int(n)
    if not 0 <= h <= 3:
        raise ValueError(f"{name} {arch!r}: hidden_layers must be in 0..3, got {h}")
    if h > 0 and n < 1:
        raise ValueError(f"{name} {arch!r}: width must be >= 1, got {n}")
    return (h, 0) if h == 0 else (h, n)


def arch_label(arch) -> str:
    """``MLP(h,n)`` label as in the paper's figures."""
    h, n = check_arch(arch)
    return f"MLP({h},{n})"


class GaussianPolicy(nn.Module):
    """Diagonal Gaussian policy with an MLP mean and a state-independent log-std.

    Args:
        obs_dim, act_dim: sizes.
        arch: ``(h, n)``, h hidden tanh layers of n units; ``(0, 0)`` is linear.
        std0: initial standard deviation (action units).
        obs_scale: fixed per-coordinate multiplier of observations, length obs_dim.
        seed: torch seed for the initial weights.
        mean0: initial action mean, added to the output bias (the output layer is scaled by
            0.01, so the mean starts at ≈ mean0 everywhere).
    """

    def __init__(self, obs_dim: int, act_dim: int, arch=(0, 0), std0: float = 1.0,
                 obs_scale=None, seed: int = 0, mean0: float = 0.0):
        super().__init__()
        h, n = check_arch(arch)
        if not (math.isfinite(float(std0)) and std0 > 0):
            raise ValueError(f"std0 (initial action standard deviation) must be a finite number > 0, got {std0!r}")
        self.arch = (h, n)
        gen = torch.Generator().manual_seed(int(seed))
        sizes = [obs_dim] + [n] * h + [act_dim]
        layers = []
        for i in range(len(sizes) - 1):
            lin = nn.Linear(sizes[i], sizes[i + 1], dtype=DTYPE)
            bound = 1.0 / math.sqrt(sizes[i])  # PyTorch's default uniform init, seeded
            with torch.no_grad():
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
            layers.append(lin)
            if i < len(sizes) - 2:
                layers.append(nn.Tanh())
        with torch.no_grad():
            layers[-1].weight.mul_(0.01)
            layers[-1].bias.mul_(0.01).add_(float(mean0))
        self.mean_net = nn.Sequential(*layers)
        self.log_std = nn.Parameter(torch.full((act_dim,), math.log(std0), dtype=DTYPE))
        scale = torch.ones(obs_dim, dtype=DTYPE) if obs_scale is None else torch.as_tensor(obs_scale, dtype=DTYPE)
        self.register_buffer("obs_scale", scale)

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        """Action mean, shape (..., act_dim), for observations (..., obs_dim)."""
        return self.mean_net(obs * self.obs_scale)

    def log_prob(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """log pi(a|s), shape (...,)."""
        return gaussian_log_prob(act, self.mean(obs), self.log_std)

    def entropy(self) -> torch.Tensor:
        """Entropy of pi(.|s) in nats (the same at every state), scalar."""
        return gaussian_entropy(self.log_std)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def gaussian_log_prob(act, mean, log_std):
    """log N(act; mean, diag(exp(log_std)^2)) summed over the last axis."""
    z = (act - mean) * torch.exp(-log_std)
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def gaussian_entropy(log_std):
    """sum_j 0.5 log(2 pi e sigma_j^2), nats."""
    return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)


def gaussian_kl(mean_p, log_std_p, mean_q, log_std_q):
    """Closed-form KL(N_p || N_q) of diagonal Gaussians, summed over the last axis.

    ``sum_j log(sigma_q/sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2``.
    """
    var_p, var_q = torch.exp(2 * log_std_p), torch.exp(2 * log_std_q)
    return (log_std_q - log_std_p + (var_p + (mean_p - mean_q) ** 2) / (2 * var_q) - 0.5).sum(-1)


def mean_kl(policy_p: GaussianPolicy, policy_q: GaussianPolicy, obs: torch.Tensor) -> torch.Tensor:
    """Mean over a batch of states of KL(pi_p(.|s) || pi_q(.|s)), scalar."""
    return gaussian_kl(policy_p.mean(obs), policy_p.log_std, policy_q.mean(obs), policy_q.log_std).mean()


def make_policy(spec, arch=(0, 0), seed: int = 0, std0: float | None = None, mean0: float = 0.0) -> GaussianPolicy:
    """A policy sized for environment ``spec`` (an :class:`~lib.envs.spec.EnvSpec`): initial
    action mean ≈ ``mean0`` (0 by default: the output layer is scaled by 0.01) and standard
    deviation ``std0`` (default: the env's)."""
    return GaussianPolicy(spec.obs_dim, spec.act_dim, arch=arch,
                          std0=spec.std0 if std0 is None else std0,
                          obs_scale=spec.obs_scale, seed=seed, mean0=mean0)
