"""TRPO and xTRPO: one natural-gradient update under a KL trust region.

Paper 1, Sec. 2 and 3.1 (Schulman et al. 2015 for TRPO). One update
``theta' = f(theta, B, lambda)``:

1. Advantages A of the batch B (:func:`lib.rollouts.advantages`).
2. Surrogate ``L(theta') = mean[ pi_theta'(a|s) / pi_theta(a|s) * A ]`` and its gradient
   ``g`` at ``theta``.
3. Fisher-vector products ``F v + damping v``, F the Hessian at ``theta`` of
   ``KLbar(theta') = mean_s KL(pi_theta(.|s) || pi_theta'(.|s))`` (paper eq. 3). For a
   Gaussian policy it has the closed form ``mean_s J_mu(s)^T diag(sigma^-2) J_mu(s)`` on the
   mean parameters and ``2 I`` on the log-std (:func:`fisher_operator`): one Jacobian-vector
   and one vector-Jacobian product per call, from per-layer derivatives made once per update, in
   float32 (:data:`FISHER_DTYPE`; the products only choose the search direction, the line
   search measures the KL and surrogate in float64).
4. Search direction ``x = F^-1 g`` by conjugate gradient (no explicit Fisher).
5. Maximal step ``Delta = sqrt(2 lambda / x^T F x) x``: the quadratic model predicts
   ``KLbar = lambda`` at the full step.
6. Backtracking line search ``theta + 0.5^j Delta``, j = 0..9:

   * **TRPO** accepts when the step is finite, ``KLbar <= kl_slack * lambda`` **and** the
     surrogate improves (``L >= L(theta)``);
   * **xTRPO** accepts when the step is finite and ``KLbar <= kl_slack * lambda``: it
     never shrinks the step for a predicted non-improvement.

   If no j is accepted, ``theta`` is kept.

The only difference between the two is the argument ``require_improvement`` of
:func:`line_search`. Constants default to MushroomRL's TRPO (the paper's lab) and
OpenAI baselines: CG 10 iterations, damping 1e-2, backtrack 0.5, 10 attempts,
``kl_slack = 1.5`` (set 1.0 for a strict bound).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from lib.policies import DTYPE, GaussianPolicy, gaussian_kl, gaussian_log_prob

ALGOS = ("TRPO", "xTRPO")
FISHER_DTYPE = torch.float32  # precision of the Fisher-vector products (6x faster than float64 for MLP(3,64))


@dataclass(frozen=True)
class TRPOConfig:
    """Constants of the update (defaults: MushroomRL TRPO / OpenAI baselines).

    Attributes:
        cg_iters: conjugate-gradient iterations.
        cg_damping: Tikhonov damping added to the Fisher matrix.
        cg_tol: CG stops when the squared residual falls below this.
        backtrack: line-search shrink factor per attempt.
        max_backtracks: line-search attempts.
        kl_slack: a candidate is inside the trust region if KL <= kl_slack * lambda.
    """

    cg_iters: int = 10
    cg_damping: float = 1e-2
    cg_tol: float = 1e-10
    backtrack: float = 0.5
    max_backtracks: int = 10
    kl_slack: float = 1.5

    def __post_init__(self):
        if not 0 < self.backtrack < 1:
            raise ValueError(f"backtrack must be in (0, 1), got {self.backtrack}")
        if self.kl_slack < 1:
            raise ValueError(f"kl_slack must be >= 1, got {self.kl_slack}")
        if self.cg_iters < 1 or self.max_backtracks < 1:
            raise ValueError("cg_iters and max_backtracks must be >= 1")


def check_kl_bound(kl_bound) -> float:
    """Return ``kl_bound`` as a float if it is finite and > 0, else raise naming it."""
    value = float(kl_bound)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"kl_bound (the trust-region size lambda) must be > 0, got {kl_bound!r}")
    return value


def check_algo(algo: str) -> str:
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}; choose one of {', '.join(ALGOS)}")
    return algo


def conjugate_gradient(avp, b: torch.Tensor, iters: int = 10, tol: float = 1e-10) -> torch.Tensor:
    """Solve ``A x = b`` for symmetric positive-definite A given only ``v -> A v``.

    Args:
        avp: function returning A v for a vector v of shape (p,).
        b: right-hand side, shape (p,).
    Returns:
        x, shape (p,), after at most ``iters`` iterations.
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        ap = avp(p)
        alpha = rr / (p @ ap)
        x += alpha * p
        r -= alpha * ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def natural_step(fvp, grad: torch.Tensor, kl_bound: float, config: TRPOConfig = TRPOConfig()) -> torch.Tensor:
    """The maximal natural-gradient step ``sqrt(2 lambda / x^T F x) x``, ``x = F^-1 g`` by CG.

    Args:
        fvp: ``v -> F v`` (damping included). grad: (p,) the gradient g. kl_bound: lambda.
    Returns:
        (p,) the step at which the quadratic model of the KL equals ``kl_bound``.
    """
    direction = conjugate_gradient(fvp, grad, config.cg_iters, config.cg_tol)
    shs = float(direction @ fvp(direction))
    return math.sqrt(2 * kl_bound / max(shs, 1e-300)) * direction


def line_search(surrogate, kl, x0: torch.Tensor, full_step: torch.Tensor, kl_bound: float,
                require_improvement: bool, config: TRPOConfig = TRPOConfig()):
    """Backtracking line search along ``full_step`` from ``x0``.

    Args:
        surrogate: function of a flat parameter vector -> surrogate value (float).
        kl: function of a flat parameter vector -> mean KL from the old policy (float).
        x0: current parameters (p,); full_step: proposed step (p,).
        kl_bound: lambda.
        require_improvement: True for TRPO, False for xTRPO.
    Returns:
        ``(x_new, info)`` where info has ``accepted``, ``n_backtracks``, ``kl``,
        ``surrogate_gain`` and ``step_frac`` (the fraction of the full step taken).
    """
    f0 = surrogate(x0)
    for j in range(config.max_backtracks):
        frac = config.backtrack**j
        x = x0 + frac * full_step
        f, d = surrogate(x), kl(x)
        finite = math.isfinite(f) and math.isfinite(d)
        inside = d <= config.kl_slack * kl_bound
        improved = f - f0 >= 0
        if finite and inside and (improved or not require_improvement):
            return x, dict(accepted=True, n_backtracks=j, kl=d, surrogate_gain=f - f0, step_frac=frac)
    return x0.clone(), dict(accepted=False, n_backtracks=config.max_backtracks, kl=0.0,
                            surrogate_gain=0.0, step_frac=0.0)


def _layer_jacobians(policy: GaussianPolicy, obs: torch.Tensor, dtype: torch.dtype):
    """Per-sample quantities of the mean network from which any ``J v`` and ``J^T u`` follow.

    For each ``nn.Linear`` layer l of ``policy.mean_net`` (``z_l = a_l W_l^T + b_l``): its input
    ``a_l``, shape (n, in_l), and ``d_l = d mu / d z_l``, shape (n, act_dim, out_l), the
    derivative of the action mean with respect to the layer's output (one backward pass per
    action dimension). Then ``d mu_k / d W_l = d_l[:, k, :]^T a_l`` per sample, so
    ``J v = sum_l sum_o d_l (a_l V_l^T + c_l)`` and ``J^T u`` is ``r_l^T a_l`` with
    ``r_l = sum_k u_k d_l[:, k, :]``: one matrix product per layer each way.

    Returns:
        a list of ``(name, a_l, d_l)``, ``name`` the layer's prefix in ``named_parameters``.
    """
    h = (obs * policy.obs_scale).to(dtype)
    layers, outputs = [], []
    for idx, module in enumerate(policy.mean_net):
        if isinstance(module, torch.nn.Linear):
            layers.append((f"mean_net.{idx}", h.detach()))
            h = torch.addmm(module.bias.detach().to(dtype), h, module.weight.detach().to(dtype).T)
            if not outputs:
                h.requires_grad_(True)  # the first layer's output is the graph's leaf
            outputs.append(h)
        elif isinstance(module, torch.nn.Tanh):
            h = torch.tanh(h)
        else:
            raise TypeError(f"fisher_operator supports Linear and Tanh layers, got {type(module).__name__}")
    act_dim = h.shape[1]
    per_output = [torch.autograd.grad(h[:, k].sum(), outputs, retain_graph=k < act_dim - 1) for k in range(act_dim)]
    return [(name, a, torch.stack(d, dim=1)) for (name, a), d in zip(layers, zip(*per_output))]


def fisher_operator(policy: GaussianPolicy, obs: torch.Tensor, damping: float = 0.0,
                    dtype: torch.dtype = FISHER_DTYPE):
    """``v -> (F + damping I) v``: the Fisher matrix of ``policy`` at its current parameters.

    ``F = mean_s J_mu(s)^T diag(sigma^-2) J_mu(s)`` on the mean network's parameters
    (``J_mu(s)`` the Jacobian of the action mean) and ``2 I`` on ``log_std``, no cross terms:
    the exact Hessian of the mean KL from the current policy, taken at the current policy.
    The network's per-layer inputs and output derivatives are computed once per update
    (:func:`_layer_jacobians`); each product is then ``J v`` and ``J^T (sigma^-2 J v) / n``
    layer by layer, two matrix products per layer (a double-backward product needs four).

    Args:
        policy: the Gaussian policy (a ``mean_net`` of Linear and Tanh layers).
        obs: (n, obs_dim) states. damping: added ``damping * v``.
        dtype: precision of the products (inputs and outputs are float64).
    Returns:
        a function of v (p,) -> (p,), parameters in ``policy.parameters()`` order.
    """
    names = [name for name, _ in policy.named_parameters()]
    sizes = [p.numel() for p in policy.parameters()]
    layers = _layer_jacobians(policy, obs, dtype)
    weight = (torch.exp(-2 * policy.log_std.detach()) / len(obs)).to(dtype)  # sigma^-2 / n, (act_dim,)

    def fvp(v: torch.Tensor) -> torch.Tensor:
        parts = dict(zip(names, torch.split(v, sizes)))
        jv = 0.0
        for name, a, d in layers:
            w_v = parts[f"{name}.weight"].to(dtype).view(d.shape[2], a.shape[1])
            z_v = torch.addmm(parts[f"{name}.bias"].to(dtype), a, w_v.T)  # (n, out)
            jv = jv + (d * z_v[:, None, :]).sum(dim=2)  # (n, act_dim)
        u = jv * weight
        out = {"log_std": 2.0 * parts["log_std"]}
        for name, a, d in layers:
            r = (d * u[:, :, None]).sum(dim=1)  # (n, out)
            out[f"{name}.weight"] = (r.T @ a).reshape(-1).to(v.dtype)
            out[f"{name}.bias"] = r.sum(dim=0).to(v.dtype)
        return torch.cat([out[name] for name in names]) + damping * v

    return fvp


def trpo_step(policy: GaussianPolicy, obs, act, adv, kl_bound: float,
              require_improvement: bool = True, config: TRPOConfig = TRPOConfig(),
              fisher_dtype: torch.dtype = FISHER_DTYPE) -> dict:
    """One TRPO (``require_improvement=True``) or xTRPO update of ``policy`` in place.

    Args:
        policy: the policy pi_theta that collected the data.
        obs: (n, obs_dim) states; act: (n, act_dim) actions; adv: (n,) advantages
            (numpy or torch).
        kl_bound: trust-region size lambda (> 0).
        fisher_dtype: precision of the Fisher-vector products.
    Returns:
        diagnostics: ``accepted``, ``n_backtracks``, ``kl`` (mean KL of the accepted
        step), ``surrogate_gain``, ``step_frac``, ``grad_norm``.
    """
    kl_bound = check_kl_bound(kl_bound)
    obs = torch.as_tensor(obs, dtype=DTYPE)
    act = torch.as_tensor(act, dtype=DTYPE)
    adv = torch.as_tensor(adv, dtype=DTYPE)
    params = list(policy.parameters())
    x0 = parameters_to_vector(params).detach()
    mean0 = policy.mean(obs)  # one forward pass (with graph) gives the old policy and the gradient
    old_mean, old_log_std = mean0.detach(), policy.log_std.detach().clone()
    logp = gaussian_log_prob(act, mean0, policy.log_std)
    old_logp = logp.detach()
    surrogate0 = (torch.exp(logp - old_logp) * adv).mean()
    grad = parameters_to_vector(torch.autograd.grad(surrogate0, params)).detach()
    grad_norm = float(grad.norm())
    if not grad_norm > 1e-12:
        return dict(accepted=False, n_backtracks=0, kl=0.0, surrogate_gain=0.0,
                    step_frac=0.0, grad_norm=grad_norm)
    full_step = natural_step(fisher_operator(policy, obs, config.cg_damping, fisher_dtype), grad,
                             kl_bound, config)

    last = {"x": x0, "mean": old_mean}  # the line search asks for the surrogate, then the KL, at each x

    def mean_at(x):
        if last["x"] is not x:
            vector_to_parameters(x, params)
            with torch.no_grad():
                last.update(x=x, mean=policy.mean(obs))
        return last["mean"]

    def surrogate_at(x):
        ratio = torch.exp(gaussian_log_prob(act, mean_at(x), policy.log_std.detach()) - old_logp)
        return float((ratio * adv).mean())

    def kl_at(x):
        return float(gaussian_kl(old_mean, old_log_std, mean_at(x), policy.log_std.detach()).mean())

    x_new, info = line_search(surrogate_at, kl_at, x0, full_step, kl_bound, require_improvement, config)
    vector_to_parameters(x_new, params)
    info["grad_norm"] = grad_norm
    return info


def xtrpo_step(policy, obs, act, adv, kl_bound, config: TRPOConfig = TRPOConfig()) -> dict:
    """xTRPO: :func:`trpo_step` without the improvement test in the line search."""
    return trpo_step(policy, obs, act, adv, kl_bound, require_improvement=False, config=config)


def update(policy, batch, spec, kl_bound: float, algo: str = "xTRPO",
           config: TRPOConfig = TRPOConfig(), fisher_dtype: torch.dtype = FISHER_DTYPE) -> dict:
    """Compute advantages of ``batch`` and apply one TRPO/xTRPO step to ``policy``."""
    from lib.rollouts import advantages  # local import keeps this module free of env code

    adv = advantages(batch, spec)
    return trpo_step(policy, batch.flat("obs"), batch.flat("act"), adv, kl_bound,
                     require_improvement=check_algo(algo) == "TRPO", config=config,
                     fisher_dtype=fisher_dtype)


def explicit_fisher(policy: GaussianPolicy, obs) -> np.ndarray:
    """The Fisher matrix of a Gaussian policy in closed form, shape (p, p) — for tests.

    For ``N(mu_theta(s), diag(sigma^2))`` with state-independent ``log sigma``:
    ``F = mean_s [J_mu(s)^T diag(sigma^-2) J_mu(s)]`` on the mean parameters and
    ``2 I`` on each ``log sigma_j`` (no cross terms). Parameter order matches
    ``policy.parameters()``.
    """
    obs = torch.as_tensor(obs, dtype=DTYPE)
    params = list(policy.parameters())
    names = [n for n, _ in policy.named_parameters()]
    sizes = [p.numel() for p in params]
    total = sum(sizes)
    inv_var = torch.exp(-2 * policy.log_std.detach())
    fisher = torch.zeros(total, total, dtype=DTYPE)
    for s in obs:
        rows = []
        for j in range(policy.log_std.numel()):
            g = torch.autograd.grad(policy.mean(s[None])[0, j], params, allow_unused=True)
            rows.append(torch.cat([(gi if gi is not None else torch.zeros_like(p)).reshape(-1)
                                   for gi, p in zip(g, params)]))
        jac = torch.stack(rows)  # (act_dim, p)
        fisher += jac.T @ (inv_var[:, None] * jac)
    fisher /= len(obs)
    offset = 0
    for name, size in zip(names, sizes):
        if name == "log_std":
            idx = torch.arange(offset, offset + size)
            fisher[idx, idx] += 2.0
        offset += size
    return fisher.numpy()
