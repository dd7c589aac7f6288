"""The Gaussian MLP policy as a pure function of a parameter list (for meta-gradients).

Meta-RL differentiates a policy's log-probabilities with respect to parameters that are
themselves functions of other parameters (an adapted ``theta'(phi)``), so the policy is
evaluated here from an explicit list of tensors rather than from ``nn.Module`` state.
The list is ``[W_1, b_1, ..., W_L, b_L, log_std]`` (``W_i`` of shape (out, in)), with ``tanh``
between layers, so a meta-policy is initialised exactly as the paper-1 policies are.

Everything is float64 (:data:`lib.policies.DTYPE`).
"""
from __future__ import annotations

import math

import torch

from lib.policies import DTYPE, GaussianPolicy, gaussian_kl, gaussian_log_prob

Params = list  # list[torch.Tensor]


def init_params(obs_dim: int, act_dim: int, arch=(2, 64), std0: float = 1.0, seed: int = 0) -> Params:
    """Initial parameters (leaf tensors, requires_grad) of a ``GaussianPolicy``."""
    policy = GaussianPolicy(obs_dim, act_dim, arch=arch, std0=std0, seed=seed)
    tensors = list(policy.mean_net.parameters()) + [policy.log_std]
    return [p.detach().clone().requires_grad_(True) for p in tensors]


def detach(params: Params) -> Params:
    """Copies of ``params`` cut from any graph, as new leaves that require grad."""
    return [p.detach().clone().requires_grad_(True) for p in params]


def mean(params: Params, obs: torch.Tensor) -> torch.Tensor:
    """Action mean, shape (..., act_dim), for observations (..., obs_dim)."""
    h = obs
    layers = params[:-1]
    for i in range(0, len(layers), 2):
        h = h @ layers[i].mT + layers[i + 1]
        if i + 2 < len(layers):
            h = torch.tanh(h)
    return h


def log_prob(params: Params, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """log pi(a|s), shape (...,)."""
    return gaussian_log_prob(act, mean(params, obs), params[-1])


def kl(params_p: Params, params_q: Params, obs: torch.Tensor) -> torch.Tensor:
    """KL(pi_p(.|s) || pi_q(.|s)) per state, shape (...,)."""
    return gaussian_kl(mean(params_p, obs), params_p[-1], mean(params_q, obs), params_q[-1])


def sample_actions(params: Params, obs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """a ~ pi(.|s), shape (m, act_dim), for obs (m, obs_dim); no graph."""
    with torch.no_grad():
        mu = mean(params, obs)
        return mu + torch.exp(params[-1]) * torch.randn(mu.shape, generator=gen, dtype=DTYPE)


def flat(tensors) -> torch.Tensor:
    """Concatenate a list of tensors into one vector (p,)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def unflat(vector: torch.Tensor, like: Params) -> Params:
    """Split a vector (p,) into tensors shaped like ``like``."""
    out, i = [], 0
    for p in like:
        out.append(vector[i:i + p.numel()].view_as(p))
        i += p.numel()
    return out


def add(params: Params, step: Params, scale: float = 1.0) -> Params:
    """``params + scale * step`` elementwise (keeps graphs)."""
    return [p + scale * s for p, s in zip(params, step)]


def fisher_vp(params: Params, obs: torch.Tensor, v: torch.Tensor, weights=None,
              create_graph: bool = False) -> torch.Tensor:
    """Fisher-information-vector product ``F(params) v``, shape (p,), in closed form.

    For ``N(mu(s), diag(sigma^2))`` with a state-independent log-std,
    ``F = E_s[J_mu(s)^T diag(sigma^-2) J_mu(s)]`` on the mean parameters and ``2 I`` on the
    log-std, so ``F v`` needs one Jacobian-vector and one vector-Jacobian product. With
    ``create_graph`` the result is differentiable in ``params`` (F depends on them),
    which :mod:`lib.bomrl.sampled` needs for the KL-constrained adaptation.

    Args:
        obs: (n, obs_dim) states; weights: (n,) state weights summing to 1 (uniform if None).
        v: (p,) direction.
    """
    weights = torch.full((obs.shape[0],), 1.0 / obs.shape[0], dtype=DTYPE) if weights is None else weights
    if not create_graph:
        params = detach(params)
    net = params[:-1]
    mu = mean(params, obs)
    dummy = torch.zeros_like(mu, requires_grad=True)
    vjp = torch.autograd.grad(mu, net, dummy, create_graph=True)
    v_net = unflat(v[: sum(p.numel() for p in net)], net)
    jv = torch.autograd.grad(flat(vjp), dummy, flat(v_net), create_graph=True)[0]  # (n, act_dim)
    inv_var = torch.exp(-2 * params[-1])
    w = jv * inv_var * weights[:, None]
    fv_net = torch.autograd.grad(mu, net, w, create_graph=create_graph, retain_graph=True)
    fv_std = 2.0 * v[-params[-1].numel():]
    out = flat(list(fv_net) + [fv_std])
    return out if create_graph else out.detach()


def entropy(params: Params) -> torch.Tensor:
    """Entropy of pi(.|s) in nats (state-independent)."""
    return (params[-1] + 0.5 * math.log(2 * math.pi * math.e)).sum()
