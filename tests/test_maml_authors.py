"""The authors' MAML-TRPO (their ``MAML_my``): inner step, test step sizes, meta-gradient and outer step."""
import pytest
import torch

from lib.bomrl import baselines, locomotion_protocol, maml_authors, sampled_adam
from lib.bomrl import functional_policy as fp
from tests.test_sampled_adam import TINY, _toy_task


def _phi(seed=2):
    return sampled_adam.init_policy(3, 2, seed=seed, proto=TINY)


def test_first_inner_step_is_the_log_likelihood_policy_gradient_step():
    """2 sigmoid(2r - 2) has slope 1 at r = 1: the step equals MAML's log-likelihood step."""
    d, phi = _toy_task(0), _phi()
    ours = maml_authors.adapt(phi, d, 0.1)
    ll = baselines.inner_step(phi, d, 0.1)
    assert all(torch.allclose(a, b, rtol=1e-12, atol=1e-14) for a, b in zip(ours, ll))
    assert max(float((a - p).detach().abs().max()) for a, p in zip(ours, phi)) > 1e-4


def test_later_test_steps_are_half_as_long():
    method = maml_authors.AuthorsMAML("halfcheetah-vel", TINY)
    d, phi = _toy_task(0), _phi()
    first, later = (fp.flat(method.adapt(phi, d, step=k)) - fp.flat(phi) for k in (0, 1))
    torch.testing.assert_close(later, 0.5 * first, rtol=1e-12, atol=1e-15)
    assert TINY.maml_later_lr == 0.5 * TINY.maml_lr


def test_meta_gradient_is_maml_with_the_smooth_ratios_hessian_and_the_anchor_held_fixed():
    """Their autograd meta-gradient is ``mean_k (I - alpha H_k) g_k`` with ``H_k`` the Hessian in psi of
    ``L(psi) = -mean[A 2 sigmoid(2 pi_psi / pi_phi - 2)]``, ``pi_phi`` held fixed (their ``fixed_log_prob``
    is detached), checked by finite differences of its gradient. The loss *value* their line search
    compares has, at every phi, r = 1: its derivative is the log-likelihood surrogate's meta-gradient."""
    pre, phi = [_toy_task(0), _toy_task(2)], _phi()
    gen = torch.Generator().manual_seed(5)
    gs = [torch.randn(fp.flat(phi).numel(), generator=gen, dtype=torch.float64) for _ in pre]
    grad = fp.flat(torch.autograd.grad(maml_authors.outer_loss(phi, pre, gs, 0.1), phi))
    x0, eps = fp.flat(phi).detach(), 1e-6

    def fixed_anchor_gradient(d, x):
        psi = fp.detach(fp.unflat(x, phi))
        logp = fp.log_prob(phi, d.obs, d.act).detach()  # the anchor stays at phi
        return fp.flat(torch.autograd.grad(-sampled_adam.smooth_gain(psi, logp, d), psi))
    expected = sum(g - 0.1 * (fixed_anchor_gradient(d, x0 + eps * g) - fixed_anchor_gradient(d, x0 - eps * g)) / (2 * eps)
                   for d, g in zip(pre, gs)) / len(pre)
    torch.testing.assert_close(grad, expected, rtol=1e-6, atol=1e-8)

    def ll(params):
        return sum(g @ fp.flat(baselines.inner_step(params, d, 0.1, create_graph=True)) for d, g in zip(pre, gs)) / len(pre)
    ll_grad = fp.flat(torch.autograd.grad(ll(phi), phi))
    v = torch.randn(grad.numel(), generator=gen, dtype=torch.float64)

    def f(x):
        return float(maml_authors.outer_loss(fp.detach(fp.unflat(x, phi)), pre, gs, 0.1, graph=False))
    fd = (f(x0 + 1e-5 * v) - f(x0 - 1e-5 * v)) / 2e-5
    assert float(ll_grad @ v) == pytest.approx(fd, rel=1e-6)
    assert float((ll_grad - grad).norm()) > 1e-2 * float(grad.norm())  # the two meta-gradients differ


def _outer(max_kl: float):
    proto = locomotion_protocol.locomotion("authors", hidden=4, dtype="float64",
                                           maml_max_kl={"halfcheetah-vel": max_kl, "halfcheetah-dir": max_kl})
    method = maml_authors.AuthorsMAML("halfcheetah-dir", proto)
    pre = [_toy_task(s, n=200) for s in (0, 2, 4)]
    post = [_toy_task(s, n=200) for s in (1, 3, 5)]
    phi = _phi()
    thetas = [method.adapt(phi, d) for d in pre]
    gs = [sampled_adam.post_loss_gradient(th, dp) for th, dp in zip(thetas, post)]
    before = float(maml_authors.outer_loss(phi, pre, gs, 0.1, graph=False))
    new, info = method.outer(phi, pre, post, thetas)
    after = float(maml_authors.outer_loss(fp.detach(new), pre, gs, 0.1, graph=False))
    return before, after, info


def test_outer_step_is_a_full_natural_step_on_the_meta_policys_kl():
    assert maml_authors.AuthorsMAML("halfcheetah-dir").max_kl == 3e-3  # their MAML_my direction script (BO-MRL: 3e-2)
    before, after, info = _outer(3e-7)
    assert info["accepted"] and info["n_backtracks"] == 0 and after < before
    assert info["kl"] == pytest.approx(3e-7, rel=0.3)  # the quadratic model of KL(phi_old || phi) on every task's states


def test_outer_step_has_no_kl_check():
    """On this small tanh net the full step at 3e-3 leaves the quadratic regime; their line search
    checks only the loss, so the step is taken with a KL far above the bound."""
    before, after, info = _outer(3e-3)
    assert info["accepted"] and after < before and info["kl"] > 10 * 3e-3
