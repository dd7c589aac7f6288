"""BO-MRL: bilevel meta-RL with universal policy adaptation (Xu and Zhu, NeurIPS 2024).

Exact (no-sampling) implementation for tabular softmax policies (:mod:`lib.bomrl.tabular`).

**Policy adaptation** ``Alg(pi_phi, lambda, tau)`` solves, on the one batch of data that the
meta-policy ``pi_phi`` collects in task tau (here: its exact expectations),

    max_theta  f(theta; phi) - lambda D^2(phi, theta),
    f(theta; phi) = E_{s ~ nu_tau^{pi_phi}, a ~ pi_phi}[ pi_theta(a|s) / pi_phi(a|s) Q_tau^{pi_phi}(s, a) ]
                  = sum_s nu(s) sum_a pi_theta(a|s) Q(s, a),

by many Newton steps on that fixed data. Distance metrics (``AlgConfig.metric``):

* ``"kl"``: D^2 = E_{s ~ nu}[KL(pi_phi(.|s) || pi_theta(.|s))], the PPO-like Alg (its
  first-order version is NPG);
* ``"euclidean"``: D^2 = ||theta - phi||^2, the PG-like Alg (its first-order version is one
  policy-gradient step, MAML's inner step);
* ``"kl_reverse"``: D^2 = E_{s ~ nu}[KL(pi_theta(.|s) || pi_phi(.|s))], the authors' Alg(2)
  (mirror descent / NPG-like). Its maximiser is closed form, per visited state
  ``pi_theta' ∝ pi_phi exp(Q / lambda)``, i.e. ``theta'_a = phi_a + (Q_a - Q_A) / lambda`` in
  our parametrisation (last logit fixed at 0) (:func:`reverse_kl_solution`);
* ``"kl_constrained"``: max f s.t. E_nu[KL] <= delta, the TRPO-like constrained lower level
  (the paper derives implicit differentiation for the constrained case as well); solved as
  the Lagrangian problem with the multiplier found by bisection.

**Meta-gradient** of ``E_tau[J_tau(Alg(pi_phi, lambda, tau))]``: the exact policy gradient at
the adapted policy, ``v = dJ_tau/dtheta'``, times the Jacobian ``dtheta'/dphi`` from implicit
differentiation of the inner optimality condition ``grad_theta L(theta', phi) = 0``:
``v^T dtheta'/dphi = w^T d/dphi[grad_theta L]`` with ``w = (-H)^{-1} v`` solved by conjugate
gradient on Hessian-vector products. ``L`` is built from ``nu^{pi_phi}``, ``Q^{pi_phi}`` and
``pi_phi`` computed from phi with autograd, so the data's dependence on the meta-policy is
part of the mixed derivative (the term MAML-style methods drop).

**MAML** baseline: ``theta' = phi + alpha grad J_tau(phi)`` (one exact policy-gradient step),
meta-gradient through the step (second order, exact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from lib.bomrl.tabular import evaluate, policy_probs, returns
from lib.envs.frozen_lake import TabularTasks

METRICS = ("kl", "euclidean", "kl_reverse", "kl_constrained")
DTYPE = torch.float64


@dataclass(frozen=True)
class AlgConfig:
    """The lower-level problem Alg and its solver.

    Attributes:
        metric: ``"kl"``, ``"euclidean"``, ``"kl_reverse"`` or ``"kl_constrained"``.
        lam: regularisation weight lambda (``kl``, ``euclidean``, ``kl_reverse``).
        delta: KL radius (``kl_constrained``).
        newton_iters, tol: Newton iterations and gradient tolerance of the inner solve.
        cg_iters: conjugate-gradient iterations of the implicit meta-gradient.
    """

    metric: str = "kl"
    lam: float = 0.1
    delta: float = 0.1
    newton_iters: int = 60
    tol: float = 1e-10
    cg_iters: int = 200

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose one of {', '.join(METRICS)}")
        if not self.lam > 0 or not self.delta > 0:
            raise ValueError(f"lam and delta must be > 0, got {self.lam}, {self.delta}")


def _expand(phi: torch.Tensor, n: int) -> torch.Tensor:
    """(S, A-1) or (n, S, A-1) parameters -> (n, S, A-1)."""
    return phi.expand(n, *phi.shape[-2:]) if phi.dim() == 2 else phi


def data_of(phi: torch.Tensor, tasks: TabularTasks) -> dict:
    """What one data collection with pi_phi provides: ``pi_phi`` (n,S,A), ``nu`` (n,S), ``Q`` (n,S,A).

    Differentiable in phi (the data's dependence on the meta-policy).
    """
    pphi = policy_probs(_expand(phi, tasks.n))
    ev = evaluate(tasks, pphi)
    return dict(pphi=pphi, nu=ev["nu"], Q=ev["Q"], J=ev["J"])


def objective_terms(theta: torch.Tensor, phi: torch.Tensor, data: dict) -> dict:
    """Terms of the inner problem, each of shape (n,).

    ``f`` the importance-weighted surrogate, ``kl`` = E_nu[KL(pi_phi || pi_theta)],
    ``kl_reverse`` = E_nu[KL(pi_theta || pi_phi)], ``euclidean`` = ||theta - phi||^2.
    """
    logp = torch.log_softmax(torch.cat([theta, torch.zeros_like(theta[..., :1])], -1), -1)
    pphi, nu, Q = data["pphi"], data["nu"], data["Q"]
    f = (nu * (logp.exp() * Q).sum(-1)).sum(-1)
    kl = (nu * (pphi * (torch.log(pphi) - logp)).sum(-1)).sum(-1)
    kl_reverse = (nu * (logp.exp() * (logp - torch.log(pphi))).sum(-1)).sum(-1)
    euclidean = ((theta - phi) ** 2).sum((-1, -2))
    return dict(f=f, kl=kl, kl_reverse=kl_reverse, euclidean=euclidean)


def lagrangian(theta, phi, data, metric: str, weight) -> torch.Tensor:
    """L = f - weight * D^2 per task, shape (n,); ``weight`` is lambda or the multiplier mu."""
    t = objective_terms(theta, phi, data)
    d2 = t[metric] if metric in ("euclidean", "kl_reverse") else t["kl"]
    return t["f"] - weight * d2


def reverse_kl_solution(phi: torch.Tensor, data: dict, lam) -> torch.Tensor:
    """The maximiser of ``f - lam E_nu[KL(pi_theta || pi_phi)]`` in closed form, (n, S, A-1).

    Per state with ``nu(s) > 0`` the objective is ``nu(s) [sum_a p_a Q_a - lam sum_a p_a
    log(p_a / pi_phi_a)]``, maximised on the simplex by ``p ∝ pi_phi exp(Q / lam)``; in logits
    with the last one fixed at 0, ``theta_a = phi_a + (Q_a - Q_A) / lam``. Unvisited states do
    not enter the problem (weight 0) and keep ``theta = phi``, as the Newton solve does.
    """
    Q = data["Q"]
    lam = torch.as_tensor(lam, dtype=DTYPE).reshape(-1, 1, 1)
    step = (Q[..., :-1] - Q[..., -1:]) / lam
    visited = (data["nu"] > 1e-12).unsqueeze(-1)
    return torch.where(visited, phi + step, phi)


def _hessian_blocks(grad: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Per-state Hessian blocks (n, S, A-1, A-1) of an objective separable over states.

    Column j of every block is one Hessian-vector product with e_j placed at every state.
    """
    cols = []
    for j in range(theta.shape[-1]):
        e = torch.zeros_like(theta)
        e[..., j] = 1.0
        cols.append(torch.autograd.grad((grad * e).sum(), theta, retain_graph=True)[0])
    H = torch.stack(cols, dim=-1)
    return 0.5 * (H + H.transpose(-1, -2))


def newton_solve(theta0, phi, data, metric: str, weight, iters: int = 60, tol: float = 1e-10,
                 max_step: float = 2.0) -> tuple[torch.Tensor, dict]:
    """Maximise the Lagrangian over theta by (saddle-free) Newton steps on fixed data.

    The inner objective is separable over states, so each Newton step solves (A-1)x(A-1)
    systems, with eigenvalues of -H replaced by their absolute values (floored) so every
    step ascends, and each state's step capped at ``max_step`` in norm.

    Returns:
        theta (n, S, A-1) detached; info ``iters``, ``grad_max`` (final max |gradient|).
    """
    phi = _expand(phi, theta0.shape[0]).detach()
    data = {k: v.detach() for k, v in data.items()}
    weight = torch.as_tensor(weight, dtype=DTYPE).reshape(-1)
    theta = theta0.detach().clone()
    it, gmax = 0, float("inf")
    for it in range(1, iters + 1):
        theta.requires_grad_(True)
        L = lagrangian(theta, phi, data, metric, weight).sum()
        g = torch.autograd.grad(L, theta, create_graph=True)[0]
        gmax = float(g.detach().abs().max())
        if gmax < tol:
            theta = theta.detach()
            break
        H = _hessian_blocks(g, theta).detach()
        evals, evecs = torch.linalg.eigh(-H)
        evals = evals.abs().clamp_min(1e-10)
        step = evecs @ ((evecs.transpose(-1, -2) @ g.detach().unsqueeze(-1)) / evals.unsqueeze(-1))
        step = step.squeeze(-1)
        norm = step.norm(dim=-1, keepdim=True)
        step = step * torch.clamp(max_step / norm.clamp_min(1e-300), max=1.0)
        theta = (theta + step).detach()
    return theta.detach(), dict(iters=it, grad_max=gmax)


def solve_inner(phi: torch.Tensor, tasks: TabularTasks, cfg: AlgConfig) -> tuple[torch.Tensor, dict]:
    """Alg(pi_phi, lambda, tau) for every task: adapted parameters (n, S, A-1).

    Args:
        phi: meta-parameters (S, A-1), or one starting policy per task (n, S, A-1).
    Returns:
        theta and info (``mu``: the multiplier per task for ``kl_constrained``, else lambda;
        ``grad_max``: optimality residual).
    """
    phi = _expand(phi.detach(), tasks.n)
    with torch.no_grad():
        data = data_of(phi, tasks)
    if cfg.metric == "kl_reverse":  # closed form; the Newton iterations only confirm it (0 or 1 step)
        start = reverse_kl_solution(phi, data, cfg.lam)
        theta, info = newton_solve(start, phi, data, cfg.metric, cfg.lam, cfg.newton_iters, cfg.tol)
        info["mu"] = torch.full((tasks.n,), cfg.lam, dtype=DTYPE)
        return theta, info
    if cfg.metric != "kl_constrained":
        theta, info = newton_solve(phi, phi, data, cfg.metric, cfg.lam, cfg.newton_iters, cfg.tol)
        info["mu"] = torch.full((tasks.n,), cfg.lam, dtype=DTYPE)
        return theta, info
    # Constrained: find mu per task with E_nu[KL(pi_phi || pi_theta_mu)] = delta, bisection on log mu.
    lo = torch.full((tasks.n,), np.log(1e-6), dtype=DTYPE)
    hi = torch.full((tasks.n,), np.log(1e4), dtype=DTYPE)
    theta = phi.clone()
    for _ in range(36):  # log-mu bracket of width 23 -> 3e-10
        mid = 0.5 * (lo + hi)
        theta, _ = newton_solve(theta, phi, data, "kl", mid.exp(), iters=20, tol=cfg.tol)
        with torch.no_grad():
            kl = objective_terms(theta, phi, data)["kl"]
        too_far = kl > cfg.delta  # the multiplier must grow
        lo = torch.where(too_far, mid, lo)
        hi = torch.where(too_far, hi, mid)
    mu = (0.5 * (lo + hi)).exp()
    theta, info = newton_solve(theta, phi, data, "kl", mu, cfg.newton_iters, cfg.tol)
    info["mu"] = mu
    return theta, info


def _batched_cg(matvec, b: torch.Tensor, iters: int, tol: float = 1e-20) -> torch.Tensor:
    """Solve A x = b for a symmetric positive definite A that is block diagonal over tasks.

    b and x have shape (n, ...); each task runs its own CG recursion (own step sizes).
    """
    dims = tuple(range(1, b.dim()))
    x = torch.zeros_like(b)
    r = b.clone()
    p = r.clone()
    rr = (r * r).sum(dims)
    for _ in range(iters):
        if float(rr.max()) < tol:
            break
        Ap = matvec(p)
        alpha = rr / (p * Ap).sum(dims).clamp_min(1e-300)
        shape = (-1,) + (1,) * (b.dim() - 1)
        x = x + alpha.view(shape) * p
        r = r - alpha.view(shape) * Ap
        rr_new = (r * r).sum(dims)
        p = r + (rr_new / rr.clamp_min(1e-300)).view(shape) * p
        rr = rr_new
    return x


def meta_gradient(phi: torch.Tensor, tasks: TabularTasks, cfg: AlgConfig) -> tuple[torch.Tensor, dict]:
    """Implicit meta-gradient of mean_tau J_tau(Alg(pi_phi, lambda, tau)) w.r.t. phi (S, A-1).

    Returns:
        gradient (S, A-1) and info: ``J_adapted`` (n,), ``J_meta`` (n,) (before adaptation),
        ``theta`` (n, S, A-1), ``grad_max`` (inner residual), ``min_curvature`` (smallest
        eigenvalue of -H over visited states, relative to the task's largest, minimum over
        tasks: > 0 means a strict local maximum),
        ``n_nonconcave`` (tasks where it was not, and the implicit system was damped).
    """
    theta, info = solve_inner(phi, tasks, cfg)
    theta = theta.requires_grad_(True)
    J = returns(tasks, theta)
    v = torch.autograd.grad(J.sum(), theta)[0]

    phi_leaf = phi.detach().clone().requires_grad_(True)
    phi_n = _expand(phi_leaf, tasks.n)
    data = data_of(phi_n, tasks)
    metric = "kl" if cfg.metric == "kl_constrained" else cfg.metric
    weight = info["mu"]
    L = lagrangian(theta, phi_n, data, metric, weight)
    G = torch.autograd.grad(L.sum(), theta, create_graph=True)[0]

    # States pi_phi never visits (nu = 0, e.g. cells walled in by holes) do not enter the
    # inner problem under the KL metric: their Hessian block is 0 and theta' = phi there.
    # Solve the system on the visited states only.
    mask = (data["nu"].detach() > 1e-12).to(DTYPE).unsqueeze(-1)
    # The implicit function theorem needs a strict local maximum (-H positive definite).
    # -H is block diagonal over states; a block whose smallest eigenvalue is not positive
    # (relative to the task's largest, 1e-9) marks an inner solution that is not a strict
    # maximum (too small a lambda): that block is shifted to be positive definite (a damped,
    # biased gradient) and the task is counted in ``n_nonconcave``. Tiny but positive
    # curvature (rarely visited states) is left alone.
    eig = torch.linalg.eigvalsh(-_hessian_blocks(G, theta).detach())  # (n, S, A-1)
    visited = mask.squeeze(-1) > 0
    curv = torch.where(visited, eig.amin(-1), torch.full_like(eig[..., 0], float("inf")))  # (n, S)
    scale = torch.where(visited, eig.abs().amax(-1), torch.zeros_like(curv)).amax(-1, keepdim=True)  # (n, 1)
    floor = 1e-9 * scale
    shift = torch.clamp(floor - curv, min=0.0).unsqueeze(-1)  # (n, S, 1)
    task_curv = (curv / scale).amin(-1)

    def neg_hvp(u):
        u = mask * u
        return -mask * torch.autograd.grad((G * u).sum(), theta, retain_graph=True)[0] + shift * u

    w = _batched_cg(neg_hvp, mask * v.detach(), cfg.cg_iters)
    total = (G * w.detach()).sum()
    if cfg.metric == "kl_constrained":
        c = objective_terms(theta, phi_n, data)["kl"]
        gc = torch.autograd.grad(c.sum(), theta, retain_graph=True)[0]
        a = _batched_cg(neg_hvp, mask * gc.detach(), cfg.cg_iters)
        beta = (v * a).sum((-1, -2)) / (gc * a).sum((-1, -2))
        total = (G * (w - beta.view(-1, 1, 1) * a).detach()).sum() - (beta.detach() * c).sum()
    grad = torch.autograd.grad(total, phi_leaf)[0] / tasks.n
    return grad.detach(), dict(J_adapted=J.detach(), J_meta=data["J"].detach(), theta=theta.detach(),
                               grad_max=info["grad_max"], min_curvature=float(task_curv.min()), mu=info["mu"],
                               n_nonconcave=int((shift.squeeze(-1) > 0).any(-1).sum()))


def meta_objective(phi: torch.Tensor, tasks: TabularTasks, cfg: AlgConfig) -> float:
    """mean_tau J_tau(Alg(pi_phi, lambda, tau)), exact (for finite-difference checks)."""
    theta, _ = solve_inner(phi, tasks, cfg)
    return float(returns(tasks, theta).mean())


# --- MAML with one exact policy-gradient step -----------------------------------------------

def maml_adapt(phi: torch.Tensor, tasks: TabularTasks, alpha: float, create_graph: bool = False) -> torch.Tensor:
    """theta' = phi + alpha * grad_phi J_tau(phi) per task, shape (n, S, A-1)."""
    phi_n = _expand(phi, tasks.n)
    if not phi_n.requires_grad:
        phi_n = phi_n.detach().clone().requires_grad_(True)
    g = torch.autograd.grad(returns(tasks, phi_n).sum(), phi_n, create_graph=create_graph)[0]
    return phi_n + alpha * g


def maml_meta_gradient(phi: torch.Tensor, tasks: TabularTasks, alpha: float) -> tuple[torch.Tensor, dict]:
    """Exact MAML meta-gradient of mean_tau J_tau(phi + alpha grad J_tau(phi)), shape (S, A-1)."""
    phi_leaf = phi.detach().clone().requires_grad_(True)
    phi_n = phi_leaf.unsqueeze(0).repeat(tasks.n, 1, 1)
    theta = maml_adapt(phi_n, tasks, alpha, create_graph=True)
    J = returns(tasks, theta)
    grad = torch.autograd.grad(J.mean(), phi_leaf)[0]
    with torch.no_grad():
        J0 = returns(tasks, phi_leaf)
    return grad, dict(J_adapted=J.detach(), J_meta=J0, theta=theta.detach())


# --- Methods, meta-training and meta-test ---------------------------------------------------

@dataclass(frozen=True)
class Method:
    """A meta-learning method of the experiment.

    Attributes:
        name: label in tables and plots.
        kind: ``"bomrl"`` (meta-trained through Alg), ``"maml"`` (through one PG step) or
            ``"scratch"`` (no meta-training: phi = 0, the uniform policy, adapted with Alg).
        alg: the adaptation of ``bomrl``/``scratch``. alpha: the PG step size of ``maml``.
    """

    name: str
    kind: str
    alg: AlgConfig | None = None
    alpha: float = 0.0

    def __post_init__(self):
        if self.kind not in ("bomrl", "maml", "scratch"):
            raise ValueError(f"unknown method kind {self.kind!r}")
        if self.kind in ("bomrl", "scratch") and self.alg is None:
            raise ValueError(f"method {self.name!r} of kind {self.kind} needs an AlgConfig")
        if self.kind == "maml" and not self.alpha > 0:
            raise ValueError(f"MAML needs a step size alpha > 0, got {self.alpha}")

    def gradient(self, phi, tasks):
        if self.kind == "maml":
            return maml_meta_gradient(phi, tasks, self.alpha)
        return meta_gradient(phi, tasks, self.alg)

    def adapt(self, theta, tasks):
        """One policy-adaptation step (one data collection) from per-task parameters."""
        if self.kind == "maml":
            return maml_adapt(theta, tasks, self.alpha).detach()
        return solve_inner(theta, tasks, self.alg)[0]


def meta_train(method: Method, tasks: TabularTasks, n_iters: int, lr: float, batch_size: int,
               rng: np.random.Generator, phi0: torch.Tensor | None = None, start: int = 0,
               progress=None) -> tuple[torch.Tensor, pd.DataFrame]:
    """Gradient ascent on the meta-objective over minibatches of training tasks.

    Args:
        tasks: the training tasks; each iteration draws ``batch_size`` of them.
        n_iters: meta-iterations K. lr: step size of phi <- phi + lr * meta-gradient.
        phi0, start: resume from parameters ``phi0`` at iteration ``start``.
    Returns:
        phi (S, A-1) and a table ``iter, J_meta, J_adapted, n_nonconcave`` (minibatch means
        before the update; tasks whose implicit system had to be damped).
    """
    S, A = tasks.P.shape[1:3]
    phi = torch.zeros(S, A - 1, dtype=DTYPE) if phi0 is None else phi0.detach().clone()
    if method.kind == "scratch" or n_iters <= start:
        return phi, pd.DataFrame(columns=["iter", "J_meta", "J_adapted", "n_nonconcave"])
    rows = []
    for k in range(start, n_iters):
        idx = rng.choice(tasks.n, size=min(batch_size, tasks.n), replace=False)
        grad, info = method.gradient(phi, tasks.subset(idx))
        rows.append(dict(iter=k, J_meta=float(info["J_meta"].mean()), J_adapted=float(info["J_adapted"].mean()),
                         n_nonconcave=info.get("n_nonconcave", 0)))
        phi = phi + lr * grad
        if progress is not None:
            progress.update(1)
    return phi, pd.DataFrame(rows)


def meta_test(method: Method, phi: torch.Tensor, tasks: TabularTasks, n_steps: int) -> np.ndarray:
    """J_tau after 0..n_steps policy-adaptation steps from phi, shape (n_tasks, n_steps + 1)."""
    theta = _expand(phi.detach(), tasks.n).clone()
    out = [returns(tasks, theta).detach()]
    for _ in range(n_steps):
        theta = method.adapt(theta, tasks)
        out.append(returns(tasks, theta).detach())
    return torch.stack(out, dim=1).numpy()


def task_variance(theta_star: torch.Tensor, metric: str) -> float:
    """Var(P(Gamma)) = min_theta E_tau[D^2(pi_theta, pi_theta*_tau)] in closed form.

    Args:
        theta_star: (n, S, A-1) optimal task-specific parameters of n tasks.
        metric: ``"euclidean"``: the minimiser is the mean of theta*, the value the mean
            squared distance to it. ``"kl"``/``"kl_constrained"``: D^2 = mean over states of
            KL(pi_theta(.|s) || pi*_tau(.|s)) (uniform state weights); the minimiser is the
            normalised geometric mean of the pi*_tau, the value
            -mean_s log sum_a exp(mean_tau log pi*_tau(a|s)). ``"kl_reverse"``: D^2 = mean over
            states of KL(pi*_tau(.|s) || pi_theta(.|s)); the minimiser is the arithmetic mean
            of the pi*_tau (the moment projection), the value mean_tau mean_s KL(pi*_tau || mean).
    """
    if metric == "euclidean":
        mean = theta_star.mean(0, keepdim=True)
        return float(((theta_star - mean) ** 2).sum((-1, -2)).mean())
    logp = torch.log_softmax(torch.cat([theta_star, torch.zeros_like(theta_star[..., :1])], -1), -1)
    if metric == "kl_reverse":
        log_mean = torch.log(logp.exp().mean(0, keepdim=True))
        return float((logp.exp() * (logp - log_mean)).sum(-1).mean(-1).mean())
    return float(-torch.logsumexp(logp.mean(0), dim=-1).mean())
