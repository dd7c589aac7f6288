"""Exact reinforcement learning quantities for batches of tabular MDPs (torch, float64).

Policies are softmax over actions with the last logit fixed at 0, so the parameters
``theta`` of shape (..., S, A-1) identify the policy uniquely (no shift invariance) and
the Hessians of the inner problems in :mod:`lib.bomrl.exact` are invertible. Everything here is
differentiable with autograd, including the dependence of the value functions and the
state distribution on the policy.
"""
from __future__ import annotations

import numpy as np
import torch

from lib.envs.frozen_lake import TabularTasks


def policy_probs(theta: torch.Tensor) -> torch.Tensor:
    """pi(a|s) of shape (..., S, A) from reduced logits (..., S, A-1)."""
    zeros = torch.zeros(theta.shape[:-1] + (1,), dtype=theta.dtype)
    return torch.softmax(torch.cat([theta, zeros], dim=-1), dim=-1)


def policy_logits(pi: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`policy_probs`: reduced logits (..., S, A-1) of a full-support pi."""
    log = torch.log(pi)
    return log[..., :-1] - log[..., -1:]


def evaluate(tasks: TabularTasks, pi: torch.Tensor) -> dict:
    """Exact values of policy ``pi`` in every task.

    Args:
        tasks: n MDPs. pi: (n, S, A) or (S, A) (the same policy in every task).
    Returns:
        ``V`` (n, S), ``Q`` (n, S, A), ``J`` (n,) = rho0 . V (the discounted return), and
        ``nu`` (n, S), the normalised discounted state-visitation distribution
        ``(1 - gamma) sum_t gamma^t Pr(s_t = s)``.
    """
    pi = pi.expand(tasks.n, *pi.shape[-2:])
    g = tasks.gamma
    P_pi = torch.einsum("nsa,nsat->nst", pi, tasks.P)
    r_pi = (pi * tasks.R).sum(-1)
    A = torch.eye(P_pi.shape[-1], dtype=P_pi.dtype) - g * P_pi
    V = torch.linalg.solve(A, r_pi.unsqueeze(-1)).squeeze(-1)
    Q = tasks.R + g * torch.einsum("nsat,nt->nsa", tasks.P, V)
    rho = tasks.rho0.expand(tasks.n, -1)
    nu = (1 - g) * torch.linalg.solve(A.transpose(-1, -2), rho.unsqueeze(-1)).squeeze(-1)
    return dict(V=V, Q=Q, J=V @ tasks.rho0, nu=nu)


def returns(tasks: TabularTasks, theta: torch.Tensor) -> torch.Tensor:
    """J_tau(pi_theta) of shape (n,) for parameters (n, S, A-1) or (S, A-1)."""
    return evaluate(tasks, policy_probs(theta))["J"]


def optimal(tasks: TabularTasks, max_iter: int = 1000) -> dict:
    """Optimal values by policy iteration (exact: stops when the greedy policy is stable).

    Returns ``V`` (n, S), ``Q`` (n, S, A), ``J`` (n,) as tensors, and ``policy`` (n, S)
    greedy action indices.
    """
    P, R = tasks.P.numpy(), tasks.R.numpy()
    n, S, A = R.shape
    g, eye = tasks.gamma, np.eye(S)
    policy = np.zeros((n, S), dtype=int)
    rows = np.arange(n)[:, None], np.arange(S)[None, :]
    for _ in range(max_iter):
        V = np.linalg.solve(eye - g * P[rows[0], rows[1], policy], R[rows[0], rows[1], policy][..., None])[..., 0]
        Q = R + g * np.einsum("nsat,nt->nsa", P, V)
        # keep the current action on ties, so that the loop terminates
        better = Q.max(-1) > Q[rows[0], rows[1], policy] + 1e-12
        if not better.any():
            break
        policy = np.where(better, Q.argmax(-1), policy)
    V, Q = torch.as_tensor(V), torch.as_tensor(Q)
    return dict(V=V, Q=Q, J=V @ tasks.rho0, policy=torch.as_tensor(policy))


def soft_optimal(tasks: TabularTasks, temperature: float, tol: float = 1e-12,
                 max_iter: int = 100_000) -> torch.Tensor:
    """Parameters (n, S, A-1) of the entropy-regularised optimal softmax policy.

    Soft value iteration ``Q = R + gamma P V``, ``V = T logsumexp(Q / T)``; the policy
    ``pi ∝ exp(Q / T)`` tends to an optimal one as ``T -> 0``. Used as the
    "optimal task-specific softmax parameters" theta*_tau of the paper's variance
    Var(P(Gamma)), which an unregularised softmax only reaches at infinity.
    """
    from scipy.special import logsumexp

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    P, R = tasks.P.numpy(), tasks.R.numpy()
    V = np.zeros(R.shape[:2])
    for _ in range(max_iter):
        Q = R + tasks.gamma * np.einsum("nsat,nt->nsa", P, V)
        V_new = temperature * logsumexp(Q / temperature, axis=-1)
        done = np.abs(V_new - V).max() < tol
        V = V_new
        if done:
            break
    Q = R + tasks.gamma * np.einsum("nsat,nt->nsa", P, V)
    return torch.as_tensor((Q[..., :-1] - Q[..., -1:]) / temperature)
