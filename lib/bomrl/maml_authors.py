"""MAML-TRPO as paper 2's authors ran it beside BO-MRL (their ``MAML_my``, the baseline of their
training-curve plot), on the authors' locomotion protocol (the ``"adam"`` solver of
:mod:`.locomotion_protocol`, notebook 13's decisive pair).

Read in R1 (``xsy786912649/Bilevel-optimization-MRL`` at 08feaa5): ``MAML_my/train_trpo_HalfCheetah_{vel,dir}.py``
(``task_specific_adaptation_grad`` / ``_nograd``, ``policy_gradient_obain``, ``get_loss``, ``get_kl``), ``MAML_my/trpo.py``
(``trpo_step``, ``linesearch``) and ``MAML_my/test_HalfCheetah_{vel,dir}.py``:

* **Inner step** (:func:`adapt`): ``theta = phi - alpha grad L(phi)``, ``L = -mean[A 2 sigmoid(2 r - 2)]``
  with ``r = pi_phi / stopgrad(pi_phi)`` (= 1 at phi): the gradient is the log-likelihood policy
  gradient ``mean[A grad log pi]``, but the Hessian that enters the meta-gradient is that of the
  smooth ratio (an LVC-like surrogate). ``alpha`` = 0.1 in meta-training and for the first test
  step, 0.05 for the later test steps (their ``lr = meta_lr * 0.5`` when ``iteration_number > 0``).
* **Outer loss** (:func:`outer_loss`): ``mean_k <g_k, theta_k(phi)>`` with ``g_k`` the gradient at
  ``theta_k`` of ``-mean[A' r]`` on the task's post-adaptation data (held fixed): its gradient in
  phi is MAML's ``(I - alpha H_k) g_k``.
* **Outer step**: TRPO on that loss with the Fisher of ``KL(pi_phi_old || pi_phi)`` on the
  pre-adaptation states of *every* task of the meta-batch (BO-MRL's uses the first 5), 10 CG
  iterations without damping, max KL 1e-2 (velocity) / 3e-3 (direction), and their line search:
  halve until the loss falls by more than 0.1 x its linear prediction, no KL check.

It differs from :class:`lib.bomrl.baselines.GradientBaseline`'s MAML-TRPO (the pytorch-maml-rl
fork behind the paper's bars) in the inner surrogate's Hessian, in the KL that bounds the outer
step (of phi, not of the adapted policies) and in the missing KL check.
"""
from __future__ import annotations

import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.locomotion_protocol import LOCOMOTION_AUTHORS as AUTHORS
from lib.bomrl.methods import AUTHORS_MAML
from lib.bomrl.locomotion_protocol import LocomotionProtocol
from lib.bomrl.sampled_adam import improvement_line_search, post_loss_gradient, smooth_gain
from lib.bomrl.sampler import TaskData
from lib.trpo import TRPOConfig, natural_step


def inner_loss(params, d: TaskData) -> torch.Tensor:
    """``L(params) = -mean[A 2 sigmoid(2 r - 2)]``, ``r = pi / stopgrad(pi)`` on ``d`` (differentiable)."""
    logp = fp.log_prob(params, d.obs, d.act).detach()
    return -smooth_gain(params, logp, d)


def adapt(params, d: TaskData, alpha: float, create_graph: bool = False) -> list:
    """``params - alpha grad L(params)``; a graph back to ``params`` if ``create_graph``."""
    grads = torch.autograd.grad(inner_loss(params, d), params, create_graph=create_graph)
    out = fp.add(params, grads, -alpha)
    return out if create_graph else [p.detach() for p in out]


def outer_loss(phi, pre: list[TaskData], gs: list[torch.Tensor], alpha: float, graph: bool = True) -> torch.Tensor:
    """``mean_k <g_k, theta_k(phi)>`` (differentiable in phi if ``graph``); ``gs``: the (p,) post-adaptation gradients."""
    total = 0.0
    for d, g in zip(pre, gs):
        total = total + g @ fp.flat(adapt(phi, d, alpha, create_graph=graph))
    return total / len(pre)


class AuthorsMAML:
    """The authors' MAML-TRPO (same interface as :class:`lib.bomrl.baselines.GradientBaseline`)."""

    name = AUTHORS_MAML

    def __init__(self, family: str, proto: LocomotionProtocol = AUTHORS):
        self.proto = proto
        self.max_kl = proto.maml_max_kl[proto.check_family(family)]
        self.trpo = TRPOConfig(cg_iters=proto.cg_iters, cg_damping=proto.cg_damping, kl_slack=1.0)

    def adapt(self, params, d: TaskData, step: int = 0):
        """Adapted parameters (no graph) after adaptation step ``step`` (0-based) on ``d``."""
        alpha = self.proto.maml_lr if step == 0 else self.proto.maml_later_lr
        return adapt(fp.detach(params), d, alpha)

    def outer(self, phi, pre: list[TaskData], post: list[TaskData], thetas) -> tuple[list, dict]:
        """One TRPO step on :func:`outer_loss`; diagnostics ``kl``, ``n_backtracks``, ``accepted``, ``grad_norm``."""
        alpha = self.proto.maml_lr
        phi = fp.detach(phi)
        gs = [post_loss_gradient(th, dp) for th, dp in zip(thetas, post)]
        grad = fp.flat(torch.autograd.grad(outer_loss(phi, pre, gs, alpha), phi)).detach()
        phi_bar = [p.detach() for p in phi]
        obs = torch.cat([d.obs.reshape(-1, d.obs.shape[-1]) for d in pre])
        w = torch.cat([d.weights().reshape(-1) for d in pre]) / len(pre)
        fvp = lambda v: fp.fisher_vp(phi_bar, obs, v, w) + self.trpo.cg_damping * v  # noqa: E731
        step = natural_step(fvp, -grad, self.max_kl, self.trpo)

        def loss(x):
            return float(outer_loss(fp.detach(fp.unflat(x, phi_bar)), pre, gs, alpha, graph=False))

        x_new, info = improvement_line_search(loss, fp.flat(phi_bar), step, float(-grad @ step))
        with torch.no_grad():
            kl = float((w * fp.kl(phi_bar, fp.unflat(x_new, phi_bar), obs)).sum())
        return fp.detach(fp.unflat(x_new, phi_bar)), dict(
            kl=kl, n_backtracks=info["n_backtracks"], accepted=bool(info["accepted"]), grad_norm=float(grad.norm()))
