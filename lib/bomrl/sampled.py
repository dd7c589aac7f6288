"""BO-MRL on sampled trajectories with Gaussian MLP policies (paper 2, locomotion).

The exact tabular version is :mod:`lib.bomrl.exact`; here the one-time data ``D_tau`` of the
meta-policy pi_phi is a batch of trajectories (:class:`lib.bomrl.sampler.TaskData`, with
normalised advantages ``A``), and the surrogate is the sample mean
``L(theta) = mean[pi_theta(a|s) / pi_phi(a|s) A]``. The three adaptation algorithms:

* ``kl`` (Alg(1), PPO-like): ``theta' = argmax L(theta) - lam_kl mean_s KL(pi_phi || pi_theta)``,
  solved by L-BFGS from phi. Meta-gradient by implicit differentiation of the optimality
  condition ``grad_theta F(theta', phi) = 0``: ``v = (-H_theta theta)^-1 g'`` by conjugate
  gradient on Hessian-vector products, then ``grad_phi [grad_theta F(theta', phi) . v]``.
* ``kl_reverse`` (the authors' Alg(2)): the same with the reverse KL, ``lam_kl mean_s KL(pi_theta ||
  pi_phi)``, solved and differentiated like ``kl``.
* ``euclidean`` (the authors' Alg(3), PG-like): the maximiser of the first-order model
  ``grad L(phi)^T (theta - phi) - lam_euc ||theta - phi||^2``, i.e.
  ``theta' = phi + grad L(phi) / (2 lam_euc)`` -- MAML's inner step with
  alpha = 1 / (2 lam_euc); its Jacobian ``I + H_L / (2 lam_euc)`` is exact by autograd.
* ``kl_constrained`` (our own extra, TRPO-like): the maximiser of the first-order model subject to
  the quadratic KL model ``0.5 d^T F d <= delta``: ``theta' = phi + beta x``,
  ``x = F(phi)^-1 grad L(phi)``, ``beta = sqrt(2 delta / grad L^T x)`` (a natural-gradient
  step to the trust-region boundary). Meta-gradient by implicit differentiation of
  ``F x = g`` (adjoint solve ``u = F^-1 g'``; ``F`` in closed form, differentiable in phi).

``g'`` is the policy gradient of the task's return at the adapted policy, estimated on
trajectories sampled by pi_theta' (post-adaptation data).

What the sampled version leaves out: the dependence of the data (state distribution and
advantages) on phi, which the exact version includes (``lib.bomrl.exact``, ``data_term``); as in
MAML-TRPO, only the explicit dependence through pi_phi in the surrogate and the distance is
differentiated. The outer update is a natural-gradient step on phi with mean
``KL(pi_phi_old || pi_phi) <= delta_outer`` on the pre-update states (the same trust region
as MAML-TRPO's outer step), so the methods differ in adaptation and meta-gradient only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.methods import METRIC
from lib.bomrl.sampler import TaskData
from lib.trpo import TRPOConfig, conjugate_gradient, line_search, natural_step

METRICS = ("kl", "euclidean", "kl_constrained", "kl_reverse")
LABEL = {metric: label for label, metric in METRIC.items()}  # metric -> method label


@dataclass(frozen=True)
class SampledAlgConfig:
    """Constants of sampled BO-MRL.

    The defaults put the three adaptations on a comparable scale at the initial policy of
    notebook 11 (Half-cheetah, MLP(2,64), 10 tasks x 10 trajectories): mean KL of the
    adapted from the meta-policy ~4e-4 for Euclidean (= MAML's step), ~1e-3 for KL with
    lam_kl = 10 (lam_kl = 3 already gave 0.34: the penalised ratio objective is steep in
    lambda), and delta = 0.01 for the constrained one. The paper's values are unknown.

    Attributes:
        metric: ``kl`` (Alg(1)), ``kl_reverse`` (the authors' Alg(2)), ``euclidean`` (the authors'
            Alg(3)) or ``kl_constrained`` (ours, a KL-radius variant).
        lam_kl: KL penalty weight of Alg(1) and Alg(2). lam_euclidean: weight of Alg(3)
            (5.0 gives MAML's alpha = 0.1). delta: KL radius of ``kl_constrained``.
        lbfgs_iters: L-BFGS iterations of the inner solve of Alg(1) and Alg(2).
        cg_iters, cg_damping, cg_tol: conjugate gradient of the implicit systems (stops when
            the squared residual is below cg_tol).
        delta_outer: KL bound of the outer natural-gradient step.
    """

    metric: str = "kl"
    lam_kl: float = 10.0
    lam_euclidean: float = 5.0
    delta: float = 0.01
    lbfgs_iters: int = 20
    cg_iters: int = 10
    cg_damping: float = 1e-2
    cg_tol: float = 1e-10
    delta_outer: float = 0.01

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose one of {', '.join(METRICS)}")
        for name in ("lam_kl", "lam_euclidean", "delta", "delta_outer", "cg_damping"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


MAX_LOG_RATIO = 30.0
OUTER = TRPOConfig(cg_iters=10, cg_damping=1e-5, kl_slack=1.0)  # outer natural-gradient step: strict KL bound


def surrogate(theta, phi, d: TaskData) -> torch.Tensor:
    """``mean[pi_theta(a|s) / pi_phi(a|s) A]`` on the data of phi (differentiable in both).

    The log-ratio is capped at :data:`MAX_LOG_RATIO` (ratio <= 1e13) so that the line search
    of the inner solver can probe far points without overflowing to inf/NaN. Where the cap
    binds, the objective is flat in that sample; the solutions used here (L-BFGS from phi)
    stay far inside it, and the tests check stationarity of the uncapped objective.
    """
    log_ratio = fp.log_prob(theta, d.obs, d.act) - fp.log_prob(phi, d.obs, d.act)
    ratio = torch.exp(torch.clamp(log_ratio, max=MAX_LOG_RATIO))
    return (d.weights() * ratio * d.adv).sum()


def inner_objective(theta, phi, d: TaskData, lam: float, reverse: bool = False) -> torch.Tensor:
    """Alg(1)'s objective ``L(theta) - lam mean_s KL(pi_phi(.|s) || pi_theta(.|s))``; with ``reverse``
    the authors' Alg(2), ``KL(pi_theta || pi_phi)``."""
    surr = surrogate(theta, phi, d)  # built before the KL term: the order of autograd's sums, as before Alg(2)
    return surr - lam * (d.weights() * (fp.kl(theta, phi, d.obs) if reverse else fp.kl(phi, theta, d.obs))).sum()


def surrogate_gradient(phi, d: TaskData, create_graph: bool = False) -> torch.Tensor:
    """``g(phi) = grad_theta L(theta)`` at ``theta = phi``, i.e. ``mean[grad log pi_phi(a|s) A]``
    with the data held fixed, shape (p,); differentiable in phi if ``create_graph``."""
    loss = (d.weights() * fp.log_prob(phi, d.obs, d.act) * d.adv).sum()
    return fp.flat(torch.autograd.grad(loss, phi, create_graph=create_graph))


def policy_gradient(theta, d: TaskData) -> torch.Tensor:
    """``mean[grad log pi_theta(a|s) A]`` on data sampled by pi_theta, shape (p,)."""
    return surrogate_gradient(fp.detach(theta), d).detach()


def kl_stationarity(theta, phi, d: TaskData, lam: float, reverse: bool = False) -> float:
    """``|grad F(theta)| / |grad F(phi)|`` for Alg(1)'s (or, ``reverse``, Alg(2)'s) objective F
    (0 at a stationary point)."""
    phi_c = [p.detach() for p in phi]
    th = fp.detach(theta)
    grad = fp.flat(torch.autograd.grad(inner_objective(th, phi_c, d, lam, reverse), th))
    return float(grad.norm()) / max(float(surrogate_gradient(fp.detach(phi_c), d).norm()), 1e-300)


def fisher_operator(phi, d: TaskData, damping: float):
    """``v -> (F(phi) + damping I) v`` on the states of ``d`` (step weights), no graph."""
    phi_bar = [p.detach() for p in phi]
    obs, w = d.obs.reshape(-1, d.obs.shape[-1]), d.weights().reshape(-1)
    return lambda v: fp.fisher_vp(phi_bar, obs, v, w) + damping * v


def solve_kl(phi, d: TaskData, cfg: SampledAlgConfig, theta0=None):
    """Alg(1): maximise :func:`inner_objective` by L-BFGS from phi (or from ``theta0``, a
    warm start); returns (theta', info).

    The sampled objective is not concave: far from phi a few samples' ratios can dominate
    it and overflow. A point where the objective is not finite is reported to the line
    search as a huge loss with zero gradient, so the search backs off instead of
    returning NaN. ``info["stationarity"]`` is ``|grad F(theta')| / |grad F(phi)|``
    (0 at an exact stationary point), the accuracy the implicit gradient relies on.
    """
    phi_c = [p.detach() for p in phi]
    reverse = cfg.metric == "kl_reverse"
    theta = fp.detach(phi_c if theta0 is None else theta0)
    opt = torch.optim.LBFGS(theta, lr=1.0, max_iter=cfg.lbfgs_iters, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = -inner_objective(theta, phi_c, d, cfg.lam_kl, reverse)
        loss.backward()
        grads_finite = all(torch.isfinite(t.grad).all() for t in theta)
        if not (torch.isfinite(loss) and grads_finite):
            for t in theta:
                t.grad.zero_()
            return torch.tensor(1e30, dtype=loss.dtype)
        return loss

    opt.step(closure)
    theta = [t.detach() for t in theta]
    if not all(torch.isfinite(t).all() for t in theta):
        theta = phi_c  # defensive: never return NaN parameters
    with torch.no_grad():
        kl = float((d.weights() * fp.kl(phi_c, theta, d.obs)).sum())
    return theta, dict(kl=kl, stationarity=kl_stationarity(theta, phi_c, d, cfg.lam_kl, reverse))


def _natural_step(phi, d: TaskData, cfg: SampledAlgConfig, create_graph: bool = False):
    """x = (F + c I)^-1 g and beta of Alg(3); g = grad L(phi) (= the policy gradient)."""
    g = surrogate_gradient(phi, d, create_graph)
    g_bar = g.detach()
    x = conjugate_gradient(fisher_operator(phi, d, cfg.cg_damping), g_bar, cfg.cg_iters, cfg.cg_tol)
    beta = math.sqrt(2 * cfg.delta / max(float(g_bar @ x), 1e-300))
    return g, x, beta


def adapt(phi, d: TaskData, cfg: SampledAlgConfig):
    """Alg(pi_phi, lambda, tau) on the one-time data ``d``: adapted parameters (no graph)."""
    phi = fp.detach(phi)
    if cfg.metric in ("kl", "kl_reverse"):
        return solve_kl(phi, d, cfg)[0]
    if cfg.metric == "euclidean":
        step = fp.unflat(surrogate_gradient(phi, d), phi)
        return [p.detach() for p in fp.add(phi, step, 1.0 / (2 * cfg.lam_euclidean))]
    _, x, beta = _natural_step(phi, d, cfg)
    return [p.detach() for p in fp.add(phi, fp.unflat(beta * x, phi))]


def meta_gradient(phi, d: TaskData, theta, g_post: torch.Tensor, cfg: SampledAlgConfig) -> tuple[torch.Tensor, dict]:
    """``(d theta' / d phi)^T g_post`` for one task, shape (p,), and diagnostics.

    Args:
        phi: meta-parameters; d: the one-time data of phi on the task;
        theta: ``adapt(phi, d, cfg)``; g_post: (p,) policy gradient at theta on its own data.
    """
    phi = fp.detach(phi)
    if cfg.metric == "euclidean":
        theta_phi = fp.flat(phi) + surrogate_gradient(phi, d, create_graph=True) / (2 * cfg.lam_euclidean)
        out = torch.autograd.grad(theta_phi @ g_post, phi)
        return fp.flat(out).detach(), {}
    if cfg.metric in ("kl", "kl_reverse"):
        return _implicit_kl(phi, d, theta, g_post, cfg)
    return _implicit_constrained(phi, d, g_post, cfg)


def _implicit_kl(phi, d, theta, g_post, cfg):
    theta = fp.detach(theta)
    grad_theta = fp.flat(torch.autograd.grad(inner_objective(theta, phi, d, cfg.lam_kl, cfg.metric == "kl_reverse"),
                                             theta, create_graph=True))

    def neg_hvp(v):
        hv = torch.autograd.grad(grad_theta @ v, theta, retain_graph=True)
        return -fp.flat(hv).detach() + cfg.cg_damping * v

    v = conjugate_gradient(neg_hvp, g_post, cfg.cg_iters, cfg.cg_tol)
    curvature = float(v @ neg_hvp(v))
    out = torch.autograd.grad(grad_theta @ v, phi)
    return fp.flat(out).detach(), dict(curvature=curvature)


def _implicit_constrained(phi, d, g_post, cfg):
    obs, w = d.obs.reshape(-1, d.obs.shape[-1]), d.weights().reshape(-1)
    g, x, beta = _natural_step(phi, d, cfg, create_graph=True)
    u = conjugate_gradient(fisher_operator(phi, d, cfg.cg_damping), g_post, cfg.cg_iters, cfg.cg_tol)
    gx = float(g.detach() @ x)
    fx = fp.fisher_vp(phi, obs, x, w, create_graph=True)  # F(phi) x_bar, differentiable in phi
    scalar = (fp.flat(phi) @ g_post
              + beta * (u @ g - u @ fx)
              - beta / (2 * gx) * float(g_post @ x) * (2 * (x @ g) - x @ fx))
    out = torch.autograd.grad(scalar, phi)
    return fp.flat(out).detach(), dict(beta=beta)


class SampledBOMRL:
    """Sampled BO-MRL with one of the three metrics (same interface as ``GradientBaseline``)."""

    def __init__(self, config: SampledAlgConfig):
        self.config = config
        self.name = LABEL[config.metric]

    def adapt(self, params, d: TaskData, step: int = 0):
        """theta' of the inner problem on ``d`` (the same problem at every adaptation ``step``)."""
        return adapt(params, d, self.config)

    def outer(self, phi, pre: list[TaskData], post: list[TaskData], thetas) -> tuple[list, dict]:
        """Natural-gradient ascent step along the mean meta-gradient over the meta-batch."""
        cfg = self.config
        grads, stationarity = [], []
        for d, theta, dp in zip(pre, thetas, post):
            grads.append(meta_gradient(phi, d, theta, policy_gradient(theta, dp), cfg)[0])
            if cfg.metric in ("kl", "kl_reverse"):
                stationarity.append(kl_stationarity(theta, phi, d, cfg.lam_kl, cfg.metric == "kl_reverse"))
        meta_grad = torch.stack(grads).mean(0)
        extra = dict(stationarity=float(np.mean(stationarity))) if stationarity else {}
        phi_bar = [p.detach() for p in phi]
        obs = torch.cat([d.obs.reshape(-1, d.obs.shape[-1]) for d in pre])
        w = torch.cat([d.weights().reshape(-1) for d in pre]) / len(pre)
        fvp = lambda v: fp.fisher_vp(phi_bar, obs, v, w) + OUTER.cg_damping * v  # noqa: E731
        step = natural_step(fvp, meta_grad, cfg.delta_outer, OUTER)

        def kl(x):
            with torch.no_grad():
                return float((w * fp.kl(phi_bar, fp.unflat(x, phi_bar), obs)).sum())

        # no surrogate value for an implicit meta-gradient: the search only enforces the KL bound
        x_new, info = line_search(lambda x: 0.0, kl, fp.flat(phi_bar), step, cfg.delta_outer,
                                  require_improvement=False, config=OUTER)
        return fp.detach(fp.unflat(x_new, phi_bar)), dict(kl=info["kl"], n_backtracks=info["n_backtracks"],
                                                          grad_norm=float(meta_grad.norm()), **extra)
