"""Gradient-based meta-RL baselines of paper 2's locomotion figure: MAML-TRPO, E-MAML-TRPO
and ProMP, on sampled trajectories (:mod:`lib.bomrl.sampler`).

All three adapt with one policy-gradient step per adaptation step,
``theta' = phi + alpha * grad L_in(phi)`` on the task's pre-update data (alpha = 0.1 as in
MAML and ProMP), and differ in the inner surrogate whose *second* derivative enters the
meta-gradient and in the outer optimiser:

* **MAML-TRPO** (Finn et al. 2017): ``L_in = mean[log pi(a|s) A]``; the outer step is TRPO
  on ``mean_tau mean[pi_theta'(phi)(a|s) / pi_theta'_old(a|s) A']`` over the post-update
  data, with the KL of the adapted policies bounded by delta = 0.01 (Fisher-vector
  products differentiate through the inner step).
* **E-MAML-TRPO** (Stadie et al. 2018): MAML-TRPO plus the exploration term, the
  pre-update log-likelihood of each task's trajectories times that task's post-update
  return: ``+ mean_tau c_tau mean[log pi_phi(a|s)]`` with ``c_tau`` the task's mean
  post-update return standardised across the meta-batch (baseline = meta-batch mean).
* **ProMP** (Rothfuss et al. 2019): the low-variance-curvature inner surrogate
  ``L_in = mean[pi(a|s) / stopgrad(pi(a|s)) A]`` and a PPO-like outer objective: clipped
  likelihood ratio (eps = 0.3) of the adapted policies minus ``eta KL(pi_phi_old || pi_phi)``
  on the pre-update data (eta = 5e-4), maximised by 5 Adam steps (lr 1e-3) per iteration.

Constants are those of the ProMP code base's run scripts (read via search); the MAML
papers' numbers are stated where they differ.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.methods import GRADIENT
from lib.bomrl.sampler import TaskData
from lib.policies import gaussian_kl, gaussian_log_prob
from lib.trpo import TRPOConfig, line_search, natural_step



@dataclass(frozen=True)
class GradientMetaConfig:
    """Constants of the gradient-based baselines.

    Attributes:
        alpha: inner policy-gradient step size.
        delta: TRPO outer KL bound (MAML-TRPO, E-MAML-TRPO).
        clip: ProMP's ratio clip epsilon. eta: ProMP's KL penalty on the pre-update policy.
        lr: ProMP's Adam step size. n_outer: ProMP's optimisation steps per iteration.
        trpo: TRPO constants (CG iterations, damping, line search).
        normalize_adv: standardise each task's advantages (mean 0, std 1 over its steps) before both
            surrogates, as ProMP's sample processor does (``normalize_adv=True`` in its run scripts); for
            data whose advantages are not standardised already (the authors' centred returns).
    """

    alpha: float = 0.1
    delta: float = 0.01
    clip: float = 0.3
    eta: float = 5e-4
    lr: float = 1e-3
    n_outer: int = 5
    trpo: TRPOConfig = TRPOConfig(cg_damping=1e-5, kl_slack=1.0)
    normalize_adv: bool = False


def check_method(name: str) -> str:
    if name not in GRADIENT:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(GRADIENT)}")
    return name


def surrogate_ll(params, d: TaskData) -> torch.Tensor:
    """MAML's inner surrogate ``sum_t w_t log pi(a_t|s_t) A_t`` (w = step weights)."""
    return (d.weights() * fp.log_prob(params, d.obs, d.act) * d.adv).sum()


def surrogate_lvc(params, d: TaskData) -> torch.Tensor:
    """ProMP's LVC surrogate ``sum_t w_t pi(a_t|s_t) / stopgrad(pi(a_t|s_t)) A_t``."""
    logp = fp.log_prob(params, d.obs, d.act)
    return (d.weights() * torch.exp(logp - logp.detach()) * d.adv).sum()


def inner_step(params, d: TaskData, alpha: float, lvc: bool = False, create_graph: bool = False):
    """One policy-gradient step ``params + alpha grad L_in``; differentiable if create_graph."""
    loss = surrogate_lvc(params, d) if lvc else surrogate_ll(params, d)
    grads = torch.autograd.grad(loss, params, create_graph=create_graph)
    out = fp.add(params, grads, alpha)
    return out if create_graph else [p.detach() for p in out]


def _ratio_terms(theta, d: TaskData, old_logp: torch.Tensor):
    ratio = torch.exp(fp.log_prob(theta, d.obs, d.act) - old_logp)
    return ratio, d.weights()


def standardised(d: TaskData) -> TaskData:
    """``d`` with its advantages standardised over its real steps: ``(A - mean) / (std + 1e-8)``
    (ProMP's ``utils.normalize_advantages``, population std)."""
    w = d.weights()
    mean = (w * d.adv).sum()
    std = torch.sqrt((w * (d.adv - mean) ** 2).sum())
    return replace(d, adv=(d.adv - mean) / (std + 1e-8) * d.mask)


def exploration_weights(post: list[TaskData]) -> torch.Tensor:
    """E-MAML's per-task weights: mean post-update return, standardised over the meta-batch."""
    r = torch.tensor([d.returns.mean() for d in post])
    return (r - r.mean()) / (r.std() + 1e-8) if len(r) > 1 else torch.zeros_like(r)


class GradientBaseline:
    """MAML-TRPO, E-MAML-TRPO or ProMP.

    ``adapt`` is the inner step used both in meta-training and at meta-test; ``outer``
    updates the meta-parameters from one meta-batch.
    """

    def __init__(self, name: str, config: GradientMetaConfig = GradientMetaConfig()):
        self.name, self.config = check_method(name), config
        self.lvc = name == "ProMP"

    def _data(self, batch: list[TaskData]) -> list[TaskData]:
        return [standardised(d) for d in batch] if self.config.normalize_adv else batch

    def adapt(self, params, d: TaskData, step: int = 0):
        """Adapted parameters (no graph) after one step on ``d`` (the same step at every ``step``)."""
        return inner_step(fp.detach(params), self._data([d])[0], self.config.alpha, self.lvc)

    def _adapted(self, phi, pre):
        return [inner_step(phi, d, self.config.alpha, self.lvc, create_graph=True) for d in pre]

    def outer(self, phi, pre: list[TaskData], post: list[TaskData], thetas_old) -> tuple[list, dict]:
        """New meta-parameters from pre-update data, adapted parameters and post-update data."""
        pre, post = self._data(pre), self._data(post)
        if self.name == "ProMP":
            return self._promp(phi, pre, post, thetas_old)
        return self._trpo(phi, pre, post, thetas_old, exploration=self.name == "E-MAML-TRPO")

    def _trpo(self, phi, pre, post, thetas_old, exploration: bool):
        cfg = self.config
        phi = fp.detach(phi)
        # the old adapted policies' action means on the post-adaptation states, computed once (not once per
        # evaluation of the objectives): the same values, so the same numbers
        old_mean = [fp.mean(t, d.obs).detach() for t, d in zip(thetas_old, post)]
        old_logp = [gaussian_log_prob(d.act, m, t[-1]).detach() for t, d, m in zip(thetas_old, post, old_mean)]
        c = exploration_weights(post) if exploration else None

        def objectives(params, graph: bool):
            """(surrogate, mean KL of the adapted policies) at ``params``; one inner step per task and
            one forward pass of each adapted policy, shared by the ratio and the KL."""
            with torch.set_grad_enabled(True):
                thetas = [inner_step(params, d, cfg.alpha, create_graph=graph) for d in pre]
            surr = kl = 0.0
            for k, (theta, d) in enumerate(zip(thetas, post)):
                mu, w = fp.mean(theta, d.obs), d.weights()
                ratio = torch.exp(gaussian_log_prob(d.act, mu, theta[-1]) - old_logp[k])
                surr = surr + (w * ratio * d.adv).sum()
                if exploration:
                    surr = surr + c[k] * (pre[k].weights() * fp.log_prob(params, pre[k].obs, pre[k].act)).sum()
                kl = kl + (w * gaussian_kl(old_mean[k], thetas_old[k][-1], mu, theta[-1])).sum()
            return surr / len(post), kl / len(post)

        surr0, kl0 = objectives(phi, True)
        grad = fp.flat(torch.autograd.grad(surr0, phi, retain_graph=True)).detach()
        kl_grad = fp.flat(torch.autograd.grad(kl0, phi, create_graph=True))

        def fvp(v):
            hv = torch.autograd.grad(kl_grad @ v, phi, retain_graph=True)
            return fp.flat(hv).detach() + cfg.trpo.cg_damping * v

        full_step = natural_step(fvp, grad, cfg.delta, cfg.trpo)
        x0 = fp.flat(phi).detach()
        last = {}

        def at(which):
            """The line search asks for the surrogate, then the KL, at the same point: adapt once."""
            def f(x):
                if last.get("x") is None or not torch.equal(last["x"], x):
                    last["x"], last["values"] = x, objectives(fp.detach(fp.unflat(x, phi)), False)
                return float(last["values"][which].detach())
            return f

        x_new, info = line_search(at(0), at(1), x0, full_step, cfg.delta,
                                  require_improvement=True, config=cfg.trpo)
        info["grad_norm"] = float(grad.norm())
        return fp.detach(fp.unflat(x_new, phi)), info

    def _promp(self, phi, pre, post, thetas_old):
        cfg = self.config
        phi = fp.detach(phi)
        phi_old = [p.detach().clone() for p in phi]
        old_logp = [fp.log_prob(t, d.obs, d.act).detach() for t, d in zip(thetas_old, post)]
        opt = torch.optim.Adam(phi, lr=cfg.lr)
        objective = kl_pre = 0.0
        for _ in range(cfg.n_outer):
            thetas = self._adapted(phi, pre)
            clip_obj = 0.0
            for k, (theta, d) in enumerate(zip(thetas, post)):
                ratio, w = _ratio_terms(theta, d, old_logp[k])
                unclipped = ratio * d.adv
                clipped = torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip) * d.adv
                clip_obj = clip_obj + (w * torch.minimum(unclipped, clipped)).sum()
            kl_pre = sum((d.weights() * fp.kl(phi_old, phi, d.obs)).sum() for d in pre) / len(pre)
            objective = clip_obj / len(post) - cfg.eta * kl_pre
            opt.zero_grad()
            (-objective).backward()
            opt.step()
        return fp.detach(phi), dict(objective=float(objective.detach()), kl_pre=float(kl_pre.detach()))
