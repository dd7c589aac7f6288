"""BO-MRL on sampled trajectories as the authors' code solves it: Alg(1)-(3) by Adam, their
meta-gradient and their outer step (the ``"adam"`` solver of :mod:`.locomotion_protocol`, notebook 13).

Every constant is a field of :class:`lib.bomrl.locomotion_protocol.LocomotionProtocol` (``LOCOMOTION_AUTHORS``),
read in their code (R1: ``BOMRL_my/train_trpo_HalfCheetah_{vel,dir}.py``, ``trpo.py``,
``models.py``); ``docs/paper2_provenance.md`` cites them line by line.

* **Policy**: tanh MLP 2 x 128, output layer weights x 0.1 and bias 0, state-independent log-std
  -0.7 (std 0.50); PyTorch's default initialisation otherwise (:func:`init_policy`).
* **Alg(1)/(2)/(3)**: minimise ``loss / lam + D^2(phi, theta)`` from phi by 50 Adam steps
  (lr 1e-3), stopping before a step once ``D^2 > 3``; ``loss = -mean[A 2 sigmoid(2 r - 2)]``,
  ``r = pi_theta / pi_phi`` (a smooth ratio that saturates at 2), lam = 0.5;
  ``D^2`` = KL(pi_phi || pi_theta) (Alg(1)), KL(pi_theta || pi_phi) (Alg(2)), ||theta - phi||^2
  (Alg(3)), KLs as means over the batch's states (:func:`adapt`).
* **Meta-gradient** (:meth:`AdamBOMRL.outer`): ``g`` = gradient of the post-adaptation loss
  ``-mean[A' r]`` on 5 x batch trajectories of the adapted policy; ``x = H^-1 g`` by 10
  conjugate-gradient iterations without damping, ``H`` the Hessian in theta of
  ``D^2 + loss / lam`` at theta'; the outer loss ``-<grad_theta D^2(phi, theta'), x>`` keeps only
  the mixed derivative of ``D^2`` (the surrogate's pi_phi is held fixed). This is the implicit
  function theorem's ``(d theta' / d phi)^T g`` without the surrogate's cross term.
* **Outer step**: TRPO on the outer loss (CG 10, no damping): the natural-gradient step whose
  quadratic model of the mean KL(phi_old || phi) on the pre-adaptation states of the first 5 tasks
  equals 1e-2 (velocity) / 3e-2 (direction), then their line search (:func:`improvement_line_search`):
  halve until the outer loss falls by more than 0.1 x its linear prediction, *without* checking the
  KL. ``outer_kl_check=True`` also rejects candidates whose KL exceeds the bound (our first
  version; it halved about half of the steps, which slowed meta-training).

**Precision** (our one change of their setting, for speed): policies and data are float32,
PyTorch's default (theirs are float64: ``torch.set_default_tensor_type('torch.DoubleTensor')``,
line 21 of ``train_trpo_HalfCheetah_{vel,dir}.py``). A meta-iteration costs 0.48-0.83x as much
(``benchmarks/profile_authors_iteration.py``); ``tests/test_sampled_adam.py`` bounds the change of one
adaptation and of the meta-gradient against float64 (``dtype="float64"``, which the finite-difference
tests use).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.methods import BOMRL
from lib.bomrl.locomotion_protocol import LOCOMOTION_AUTHORS as AUTHORS
from lib.bomrl.locomotion_protocol import LocomotionProtocol
from lib.bomrl.sampler import TaskData
from lib.policies import gaussian_kl, gaussian_log_prob
from lib.trpo import TRPOConfig, conjugate_gradient, line_search, natural_step


def init_policy(obs_dim: int, act_dim: int, seed: int, proto: LocomotionProtocol = AUTHORS) -> fp.Params:
    """The authors' initial policy as a parameter list ``[W1, b1, ..., W3, b3, log_std]``.

    PyTorch's default ``nn.Linear`` initialisation (U(-1/sqrt(in), 1/sqrt(in)) for weights and
    biases) under ``torch.manual_seed(seed)``; output weights x ``out_scale``, output bias 0.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        sizes = [obs_dim] + [proto.hidden] * proto.layers + [act_dim]
        layers = [torch.nn.Linear(i, o, dtype=proto.torch_dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    with torch.no_grad():
        layers[-1].weight.mul_(proto.out_scale)
        layers[-1].bias.zero_()
    params = [t for layer in layers for t in (layer.weight, layer.bias)]
    params.append(torch.full((act_dim,), proto.log_std0, dtype=proto.torch_dtype))
    return [p.detach().clone().requires_grad_(True) for p in params]



# --- Alg(1)-(3): the inner problem ----------------------------------------------------------

def smooth_gain(theta, phi_logp: torch.Tensor, d: TaskData) -> torch.Tensor:
    """``mean[A 2 sigmoid(2 r - 2)]`` with ``r = pi_theta / pi_phi`` (the authors' surrogate, a gain)."""
    r = torch.exp(fp.log_prob(theta, d.obs, d.act) - phi_logp)
    return (d.weights() * d.adv * 2 * torch.sigmoid(2 * r - 2)).sum()


def distance(metric: str, phi, theta, d: TaskData) -> torch.Tensor:
    """D^2(phi, theta): mean KL(pi_phi || pi_theta), mean KL(pi_theta || pi_phi) or ||theta - phi||^2."""
    if metric == "kl":
        return (d.weights() * fp.kl(phi, theta, d.obs)).sum()
    if metric == "kl_reverse":
        return (d.weights() * fp.kl(theta, phi, d.obs)).sum()
    if metric == "euclidean":
        return sum(((t - p) ** 2).sum() for t, p in zip(theta, phi))
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(BOMRL.values())}")


@dataclass(frozen=True)
class Anchor:
    """What the inner problem needs of the fixed phi on one task's data, computed once:
    ``params`` (detached), ``mean`` (n, T, act_dim) and ``logp`` (n, T) of the data's actions."""

    params: list
    mean: torch.Tensor
    logp: torch.Tensor


def anchor(phi, d: TaskData) -> Anchor:
    with torch.no_grad():
        params = [p.detach() for p in phi]
        mu = fp.mean(params, d.obs)
        return Anchor(params, mu, gaussian_log_prob(d.act, mu, params[-1]))


def inner_terms(theta, a: Anchor, d: TaskData, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(gain, D^2)`` of :func:`smooth_gain` and :func:`distance` from one forward pass of theta
    (the same values; :func:`adapt` evaluates them 50 times per task, so this matters)."""
    mu, w = fp.mean(theta, d.obs), d.weights()
    r = torch.exp(gaussian_log_prob(d.act, mu, theta[-1]) - a.logp)
    gain = (w * d.adv * 2 * torch.sigmoid(2 * r - 2)).sum()
    if metric == "kl":
        dist = (w * gaussian_kl(a.mean, a.params[-1], mu, theta[-1])).sum()
    elif metric == "kl_reverse":
        dist = (w * gaussian_kl(mu, theta[-1], a.mean, a.params[-1])).sum()
    else:
        dist = distance(metric, a.params, theta, d)
    return gain, dist


def inner_objective(theta, phi, d: TaskData, metric: str, lam: float, a: Anchor | None = None) -> torch.Tensor:
    """``-gain(theta) / lam + D^2(phi, theta)``, phi held fixed (the quantity Adam minimises);
    ``a``: phi's :func:`anchor` on ``d`` if already computed."""
    gain, dist = inner_terms(theta, a or anchor(phi, d), d, metric)
    return -gain / lam + dist


def stationarity(theta, phi, d: TaskData, metric: str, lam: float) -> float:
    """``|grad F(theta')| / |grad F(phi)|`` of the inner objective F (0 at a stationary point)."""
    a = anchor(phi, d)

    def grad_norm(at):
        th = fp.detach(at)
        return float(fp.flat(torch.autograd.grad(inner_objective(th, phi, d, metric, lam, a), th)).norm())
    return grad_norm(theta) / max(grad_norm(phi), 1e-300)


def adapt(phi, d: TaskData, metric: str, proto: LocomotionProtocol = AUTHORS) -> tuple[list, dict]:
    """The authors' ``one_step_trpo``: Adam on :func:`inner_objective` from phi; (theta', info).

    ``info``: ``steps`` taken (fewer than ``inner_steps`` if D^2 passed ``max_distance``) and
    ``distance``, D^2 at theta'.
    """
    a = anchor(phi, d)
    theta = fp.detach(a.params)
    opt = torch.optim.Adam(theta, lr=proto.inner_lr)
    steps = 0
    for _ in range(proto.inner_steps):
        opt.zero_grad()
        gain, dist = inner_terms(theta, a, d, metric)
        if float(dist.detach()) > proto.max_distance:
            break
        (-gain / proto.lam_for(metric) + dist).backward()
        opt.step()
        steps += 1
    theta = [t.detach() for t in theta]
    with torch.no_grad():
        dist = float(distance(metric, a.params, theta, d))
    return theta, dict(steps=steps, distance=dist)


# --- the authors' meta-gradient and outer step ----------------------------------------------

def post_loss_gradient(theta, d: TaskData) -> torch.Tensor:
    """(p,) gradient at theta of ``-mean[A r]`` on theta's own data (``r`` = 1 there): ``-mean[A grad log pi]``."""
    th = fp.detach(theta)
    loss = -(d.weights() * d.adv * fp.log_prob(th, d.obs, d.act)).sum()
    return fp.flat(torch.autograd.grad(loss, th)).detach()


def implicit_direction(phi, theta, d: TaskData, g: torch.Tensor, metric: str, proto: LocomotionProtocol = AUTHORS):
    """``x = H^-1 g`` by CG (``cg_iters``, ``cg_damping``, their squared-residual tolerance 1e-10), ``H`` the Hessian in theta of F at theta'."""
    th = fp.detach(theta)
    grad = fp.flat(torch.autograd.grad(inner_objective(th, phi, d, metric, proto.lam_for(metric)), th, create_graph=True))

    def hvp(v):
        return fp.flat(torch.autograd.grad(grad @ v, th, retain_graph=True)).detach() + proto.cg_damping * v

    return conjugate_gradient(hvp, g, proto.cg_iters, 1e-10)  # their residual tolerance


def outer_loss(phi, thetas, pre: list[TaskData], xs, metric: str) -> torch.Tensor:
    """``-mean_k <grad_theta D^2(phi, theta'_k), x_k>`` (differentiable in phi): the authors' outer loss."""
    total = 0.0
    for theta, d, x in zip(thetas, pre, xs):
        th = fp.detach(theta)
        grad = fp.flat(torch.autograd.grad(distance(metric, phi, th, d), th, create_graph=True))
        total = total - grad @ x
    return total / len(pre)


def improvement_line_search(loss, x0: torch.Tensor, full_step: torch.Tensor, expected: float,
                            max_backtracks: int = 10, accept_ratio: float = 0.1) -> tuple[torch.Tensor, dict]:
    """The authors' backtracking (``linesearch`` in their ``trpo.py``): the first ``x0 + 0.5^j full_step``
    whose loss decrease is positive and more than ``accept_ratio`` x ``0.5^j expected``; no KL check.

    Args:
        loss: flat parameters (p,) -> loss (float). expected: the full step's predicted decrease
            ``-<grad, full_step>`` (> 0 for a descent step).
    Returns:
        ``(x, info)``: ``x0`` unchanged if no candidate passes; info has ``accepted``,
        ``n_backtracks`` and ``step_frac``.
    """
    f0 = loss(x0)
    for j in range(max_backtracks):
        frac = 0.5**j
        x = x0 + frac * full_step
        actual = f0 - loss(x)
        if math.isfinite(actual) and actual > 0 and actual / (expected * frac) > accept_ratio:
            return x, dict(accepted=True, n_backtracks=j, step_frac=frac)
    return x0.clone(), dict(accepted=False, n_backtracks=max_backtracks, step_frac=0.0)


class AdamBOMRL:
    """Alg(1), Alg(2) or Alg(3) solved by Adam, as the authors' code does (same interface as ``GradientBaseline``)."""

    def __init__(self, name: str, family: str, proto: LocomotionProtocol = AUTHORS):
        if name not in BOMRL:
            raise ValueError(f"unknown method {name!r}; choose one of {', '.join(BOMRL)}")
        self.name, self.metric, self.proto = name, BOMRL[name], proto
        self.max_kl = proto.max_kl[proto.check_family(family)]
        self.trpo = TRPOConfig(cg_iters=proto.cg_iters, cg_damping=proto.cg_damping, kl_slack=1.0)
        self.last_info: dict = {}

    def adapt(self, params, d: TaskData, step: int = 0):
        """theta' of the inner problem on ``d`` (the same problem at every adaptation ``step``)."""
        theta, self.last_info = adapt(params, d, self.metric, self.proto)
        return theta

    def outer(self, phi, pre: list[TaskData], post: list[TaskData], thetas) -> tuple[list, dict]:
        """One TRPO step on :func:`outer_loss`; diagnostics include the inner solutions' stationarity."""
        phi = fp.detach(phi)
        xs = [implicit_direction(phi, th, d, post_loss_gradient(th, dp), self.metric, self.proto)
              for th, d, dp in zip(thetas, pre, post)]
        loss = outer_loss(phi, thetas, pre, xs, self.metric)
        grad = fp.flat(torch.autograd.grad(loss, phi)).detach()
        phi_bar = [p.detach() for p in phi]
        kl_data = pre[:5]
        obs = torch.cat([d.obs.reshape(-1, d.obs.shape[-1]) for d in kl_data])
        w = torch.cat([d.weights().reshape(-1) for d in kl_data]) / len(kl_data)
        fvp = lambda v: fp.fisher_vp(phi_bar, obs, v, w) + self.trpo.cg_damping * v  # noqa: E731
        step = natural_step(fvp, -grad, self.max_kl, self.trpo)

        def value(x):
            return -float(outer_loss(fp.detach(fp.unflat(x, phi_bar)), thetas, pre, xs, self.metric).detach())

        def kl(x):
            with torch.no_grad():
                return float((w * fp.kl(phi_bar, fp.unflat(x, phi_bar), obs)).sum())

        x0 = fp.flat(phi_bar)
        if self.proto.outer_kl_check:
            x_new, info = line_search(value, kl, x0, step, self.max_kl, require_improvement=True, config=self.trpo)
        else:
            x_new, info = improvement_line_search(lambda x: -value(x), x0, step, float(-grad @ step))
            info["kl"] = kl(x_new) if info["accepted"] else 0.0
        stats = [stationarity(th, phi_bar, d, self.metric, self.proto.lam_for(self.metric)) for th, d in zip(thetas, pre)]
        return fp.detach(fp.unflat(x_new, phi_bar)), dict(
            kl=info["kl"], n_backtracks=info["n_backtracks"], accepted=bool(info["accepted"]),
            grad_norm=float(grad.norm()), stationarity=float(np.median(stats)))
