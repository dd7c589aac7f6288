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
   and one vector-Jacobian product per call, from per-layer derivatives made once per update
   (:func:`linearise`).
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

Precision: the parameters are float64; the network is evaluated in :data:`COMPUTE_DTYPE`
(float32, like MushroomRL and Stable-Baselines3) for the action means, the gradient (its
closed form ``J_mu^T``-product, step 2) and the Fisher products; the surrogate and the KL of
each candidate are formed in float64 from those means. ``dtype=torch.float64`` gives an
all-float64 update (tests compare both).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from lib.policies import DTYPE, GaussianPolicy, gaussian_kl, gaussian_log_prob

ALGOS = ("TRPO", "xTRPO")
# Precision of the network evaluations inside an update (means, gradient, Fisher products);
# the parameters and the KL/surrogate arithmetic stay float64. float32 is 3-6x faster here.
COMPUTE_DTYPE = torch.float32


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
        for name in ("cg_damping", "cg_tol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not 0 < self.backtrack < 1:
            raise ValueError(f"backtrack must be in (0, 1), got {self.backtrack}")
        if not self.kl_slack >= 1:
            raise ValueError(f"kl_slack must be >= 1, got {self.kl_slack}")
        for name in ("cg_iters", "max_backtracks"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


MAX_KL_BOUND = 100.0  # nats: a larger trust region admits any step; it is a typo, not a choice


def check_kl_bound(kl_bound, name: str = "kl_bound") -> float:
    """Return ``kl_bound`` as a float if it is finite and in (0, MAX_KL_BOUND], else raise naming ``name``."""
    try:
        value = float(kl_bound)
    except (TypeError, ValueError):
        raise ValueError(f"{name} (the trust-region size lambda) must be a number, got {kl_bound!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_KL_BOUND):
        raise ValueError(f"{name} (the trust-region size lambda) must be in (0, {MAX_KL_BOUND:g}], got {kl_bound!r}")
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


def _forward(policy: GaussianPolicy, obs: torch.Tensor, dtype: torch.dtype, keep: bool = False):
    """Action means of ``policy`` at its current parameters, computed in ``dtype`` without autograd.

    The same network as ``policy.mean`` (the Linear and Tanh layers of ``mean_net`` applied to
    ``obs * obs_scale``), evaluated layer by layer so that :func:`linearise` can keep each
    layer's input. ``tanh`` is numpy's: on this CPU build torch's is 7x slower (float32,
    12 800 x 64: 2.2 ms vs 0.3 ms).

    Args:
        obs: (n, obs_dim) states. keep: also return the trace of the layers.
    Returns:
        the means (n, act_dim) in ``dtype``; with ``keep``, ``(means, trace)``, ``trace`` a list
        in network order of ``(name, a_l, W_l)`` per Linear layer (its prefix in
        ``named_parameters``, its input (n, in_l), its weight (out_l, in_l) in ``dtype``) and
        ``("tanh", y, None)`` per Tanh layer (its output y).
    """
    h = (obs.detach() * policy.obs_scale).to(dtype)
    trace = []
    for idx, module in enumerate(policy.mean_net):
        if isinstance(module, torch.nn.Linear):
            weight = module.weight.detach().to(dtype)
            trace.append((f"mean_net.{idx}", h, weight))
            h = torch.addmm(module.bias.detach().to(dtype), h, weight.T)
        elif isinstance(module, torch.nn.Tanh):
            h = torch.from_numpy(np.tanh(h.numpy()))
            trace.append(("tanh", h, None))
        else:
            raise TypeError(f"the TRPO update supports Linear and Tanh layers, got {type(module).__name__}")
    return (h, trace) if keep else h


def linearise(policy: GaussianPolicy, obs: torch.Tensor, dtype: torch.dtype = COMPUTE_DTYPE):
    """The action means and the per-layer derivatives from which any ``J v`` and ``J^T u`` follow.

    For each ``nn.Linear`` layer l of ``policy.mean_net`` (``z_l = a_l W_l^T + b_l``): its input
    ``a_l``, shape (n, in_l), and ``d_l = d mu / d z_l``, shape (n, act_dim, out_l), the
    derivative of the action mean with respect to the layer's output, by the chain rule from
    the output back (``d mu / d a_{l+1} = d_{l+1} W_{l+1}``, times ``1 - tanh^2`` through a
    Tanh). Then ``d mu_k / d W_l = d_l[:, k, :]^T a_l`` per sample, so
    ``J v = sum_l sum_o d_l (a_l V_l^T + c_l)`` and ``J^T u`` is ``r_l^T a_l`` with
    ``r_l = sum_k u_k d_l[:, k, :]``: one matrix product per layer each way
    (:func:`jacobian_vp`, :func:`vector_jacobian_p`).

    Returns:
        ``(mean, layers)``: mean (n, act_dim) in ``dtype``; layers a list in network order of
        ``(name, a_l, d_l)``.
    """
    mean, trace = _forward(policy, obs, dtype, keep=True)
    n, act_dim = mean.shape
    grad = torch.eye(act_dim, dtype=dtype).expand(n, act_dim, act_dim)  # d mu / d (current tensor)
    layers = []
    for i in range(len(trace) - 1, -1, -1):
        name, a, weight = trace[i]
        if weight is None:  # Tanh with output a
            grad = grad * (1 - a * a)[:, None, :]
        else:
            layers.append((name, a, grad))
            if i > 0:
                grad = grad @ weight  # (n, act_dim, in_l)
    return mean, layers[::-1]


def jacobian_vp(layers, parts: dict, dtype: torch.dtype) -> torch.Tensor:
    """``J_mu v``, shape (n, act_dim): the change of the action means along a parameter direction.

    Args:
        layers: from :func:`linearise`. parts: the direction, one tensor per parameter name.
    """
    jv = 0.0
    for name, a, d in layers:
        w_v = parts[f"{name}.weight"].to(dtype).view(d.shape[2], a.shape[1])
        z_v = torch.addmm(parts[f"{name}.bias"].to(dtype), a, w_v.T)  # (n, out)
        jv = jv + (d * z_v[:, None, :]).sum(dim=2)
    return jv


def vector_jacobian_p(layers, u: torch.Tensor, out_dtype: torch.dtype) -> dict:
    """``J_mu^T u`` summed over states: one tensor per mean-network parameter name.

    Args:
        layers: from :func:`linearise`. u: (n, act_dim), in the layers' dtype.
    """
    out = {}
    for name, a, d in layers:
        r = d[:, 0, :] * u[:, :1] if d.shape[1] == 1 else (d * u[:, :, None]).sum(dim=1)  # (n, out)
        out[f"{name}.weight"] = (a.T @ r).T.reshape(-1).to(out_dtype)  # a^T r: the fast order for in < out
        out[f"{name}.bias"] = r.sum(dim=0).to(out_dtype)
    return out


def fisher_operator(policy: GaussianPolicy, obs: torch.Tensor, damping: float = 0.0,
                    dtype: torch.dtype = COMPUTE_DTYPE, layers=None):
    """``v -> (F + damping I) v``: the Fisher matrix of ``policy`` at its current parameters.

    ``F = mean_s J_mu(s)^T diag(sigma^-2) J_mu(s)`` on the mean network's parameters
    (``J_mu(s)`` the Jacobian of the action mean) and ``2 I`` on ``log_std``, no cross terms:
    the exact Hessian of the mean KL from the current policy, taken at the current policy.
    The network's per-layer inputs and output derivatives are computed once per update
    (:func:`linearise`); each product is then ``J v`` and ``J^T (sigma^-2 J v) / n``
    layer by layer, two matrix products per layer (a double-backward product needs four).

    Args:
        policy: the Gaussian policy (a ``mean_net`` of Linear and Tanh layers).
        obs: (n, obs_dim) states. damping: added ``damping * v``.
        dtype: precision of the products (inputs and outputs are float64).
        layers: the second output of ``linearise(policy, obs, dtype)`` if already computed.
    Returns:
        a function of v (p,) -> (p,), parameters in ``policy.parameters()`` order.
    """
    names = [name for name, _ in policy.named_parameters()]
    sizes = [p.numel() for p in policy.parameters()]
    layers = linearise(policy, obs, dtype)[1] if layers is None else layers
    weight = (torch.exp(-2 * policy.log_std.detach()) / len(obs)).to(dtype)  # sigma^-2 / n, (act_dim,)

    def fvp(v: torch.Tensor) -> torch.Tensor:
        parts = dict(zip(names, torch.split(v, sizes)))
        out = vector_jacobian_p(layers, jacobian_vp(layers, parts, dtype) * weight, v.dtype)
        out["log_std"] = 2.0 * parts["log_std"]
        return torch.cat([out[name] for name in names]) + damping * v

    return fvp


def trpo_step(policy: GaussianPolicy, obs, act, adv, kl_bound: float,
              require_improvement: bool = True, config: TRPOConfig = TRPOConfig(),
              dtype: torch.dtype = COMPUTE_DTYPE) -> dict:
    """One TRPO (``require_improvement=True``) or xTRPO update of ``policy`` in place.

    The parameters stay float64; the action means (at the old parameters and at each
    line-search candidate), the surrogate gradient and the Fisher products are computed in
    ``dtype``; the surrogate and the KL of a candidate are then formed in float64 from those
    means. The gradient is the closed form of a Gaussian policy,
    ``g = J_mu^T [A (a - mu) / sigma^2] / n`` on the mean network and
    ``mean[A (z^2 - 1)]`` on ``log_std`` (``z = (a - mu) / sigma``).

    Args:
        policy: the policy pi_theta that collected the data.
        obs: (n, obs_dim) states; act: (n, act_dim) actions; adv: (n,) advantages
            (numpy or torch).
        kl_bound: trust-region size lambda (> 0).
        dtype: precision of the network evaluations (:data:`COMPUTE_DTYPE`; float64 for an
            all-float64 update).
    Returns:
        diagnostics: ``accepted``, ``n_backtracks``, ``kl`` (mean KL of the accepted
        step), ``surrogate_gain``, ``step_frac``, ``grad_norm``.
    """
    kl_bound = check_kl_bound(kl_bound)
    obs = torch.as_tensor(obs, dtype=DTYPE)
    act = torch.as_tensor(act, dtype=DTYPE)
    adv = torch.as_tensor(adv, dtype=DTYPE)
    params = list(policy.parameters())
    names = [name for name, _ in policy.named_parameters()]
    x0 = parameters_to_vector(params).detach()
    log_std = policy.log_std.detach().clone()
    mean, layers = linearise(policy, obs, dtype)
    old_mean = mean.to(DTYPE)
    old_logp = gaussian_log_prob(act, old_mean, log_std)
    inv_std = torch.exp(-log_std)
    z = (act - old_mean) * inv_std  # (n, act_dim)
    u = (adv[:, None] * z * inv_std / len(obs)).to(dtype)  # d surrogate / d mu
    grads = vector_jacobian_p(layers, u, DTYPE)
    grads["log_std"] = (adv[:, None] * (z**2 - 1)).mean(dim=0)
    grad = torch.cat([grads[name] for name in names])
    grad_norm = float(grad.norm())
    if not grad_norm > 1e-12:
        return dict(accepted=False, n_backtracks=0, kl=0.0, surrogate_gain=0.0,
                    step_frac=0.0, grad_norm=grad_norm)
    fvp = fisher_operator(policy, obs, config.cg_damping, dtype, layers=layers)
    full_step = natural_step(fvp, grad, kl_bound, config)

    last = {"x": x0, "mean": old_mean}  # the line search asks for the surrogate, then the KL, at each x

    def mean_at(x):
        if last["x"] is not x:
            vector_to_parameters(x, params)
            last.update(x=x, mean=_forward(policy, obs, dtype).to(DTYPE))
        return last["mean"]

    def surrogate_at(x):
        ratio = torch.exp(gaussian_log_prob(act, mean_at(x), policy.log_std.detach()) - old_logp)
        return float((ratio * adv).mean())

    def kl_at(x):
        return float(gaussian_kl(old_mean, log_std, mean_at(x), policy.log_std.detach()).mean())

    x_new, info = line_search(surrogate_at, kl_at, x0, full_step, kl_bound, require_improvement, config)
    vector_to_parameters(x_new, params)
    info["grad_norm"] = grad_norm
    return info


def xtrpo_step(policy, obs, act, adv, kl_bound, config: TRPOConfig = TRPOConfig()) -> dict:
    """xTRPO: :func:`trpo_step` without the improvement test in the line search."""
    return trpo_step(policy, obs, act, adv, kl_bound, require_improvement=False, config=config)


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
