"""MAML-TRPO, E-MAML-TRPO and ProMP (lib.bomrl.baselines) on synthetic task data."""
import numpy as np
import pytest
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.baselines import (
    GradientBaseline,
    GradientMetaConfig,
    exploration_weights,
    inner_step,
    surrogate_ll,
    surrogate_lvc,
)
from lib.bomrl.sampler import TaskData
from lib.policies import DTYPE


def make_data(seed, params, n=6, t_len=5, returns=None):
    gen = np.random.default_rng(seed)
    obs = torch.as_tensor(gen.normal(size=(n, t_len, 3)), dtype=DTYPE)
    with torch.no_grad():
        act = fp.mean(params, obs) + torch.exp(params[-1]) * torch.as_tensor(gen.normal(size=(n, t_len, 2)))
    mask = torch.ones(n, t_len, dtype=DTYPE)
    mask[0, 3:] = 0
    adv = torch.as_tensor(gen.normal(size=(n, t_len)), dtype=DTYPE) * mask
    ret = gen.normal(size=n) if returns is None else np.full(n, returns)
    return TaskData(obs, act, mask, adv, ret, 0.5)


@pytest.fixture(scope="module")
def phi():
    return fp.init_params(3, 2, (1, 8), std0=0.5, seed=1)


def test_ll_and_lvc_surrogates_have_the_same_gradient_but_not_the_same_hessian(phi):
    d = make_data(0, phi)
    g_ll = fp.flat(torch.autograd.grad(surrogate_ll(phi, d), phi))
    g_lvc = fp.flat(torch.autograd.grad(surrogate_lvc(phi, d), phi))
    torch.testing.assert_close(g_ll, g_lvc)
    a = fp.flat(inner_step(phi, d, 0.1, lvc=False))
    b = fp.flat(inner_step(phi, d, 0.1, lvc=True))
    torch.testing.assert_close(a, b)
    # second derivatives differ by E[grad log pi grad log pi^T A] (ProMP's LVC correction)
    v = torch.ones_like(g_ll)
    h = []
    for fn in (surrogate_ll, surrogate_lvc):
        p = fp.detach(phi)
        g = fp.flat(torch.autograd.grad(fn(p, d), p, create_graph=True))
        h.append(fp.flat(torch.autograd.grad(g @ v, p)))
    p = fp.detach(phi)
    logp = fp.log_prob(p, d.obs, d.act)
    w = d.weights() * d.adv
    expected = torch.zeros_like(v)
    for i, j in zip(*torch.nonzero(d.mask, as_tuple=True)):
        gi = fp.flat(torch.autograd.grad(logp[i, j], p, retain_graph=True))
        expected += w[i, j] * gi * (gi @ v)
    torch.testing.assert_close(h[1] - h[0], expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["MAML-TRPO", "E-MAML-TRPO"])
def test_trpo_outer_step_respects_the_trust_region_and_improves(phi, name):
    method = GradientBaseline(name, GradientMetaConfig(delta=0.01))
    pre = [make_data(10 + k, phi) for k in range(3)]
    thetas = [method.adapt(phi, d) for d in pre]
    post = [make_data(20 + k, thetas[k]) for k in range(3)]
    new, info = method.outer(phi, pre, post, thetas)
    assert info["accepted"] and info["surrogate_gain"] >= 0
    assert 0 < info["kl"] <= 0.01
    assert not torch.allclose(fp.flat(new), fp.flat(phi))


def test_emaml_equals_maml_when_post_update_returns_are_equal(phi):
    pre = [make_data(10 + k, phi) for k in range(2)]
    maml = GradientBaseline("MAML-TRPO")
    thetas = [maml.adapt(phi, d) for d in pre]
    post = [make_data(20 + k, thetas[k], returns=-3.0) for k in range(2)]
    assert torch.all(exploration_weights(post) == 0)
    a, _ = maml.outer(phi, pre, post, thetas)
    b, _ = GradientBaseline("E-MAML-TRPO").outer(phi, pre, post, thetas)
    torch.testing.assert_close(fp.flat(a), fp.flat(b))
    post[0].returns[:] = 5.0  # now the tasks differ: the exploration term moves the step
    c, _ = GradientBaseline("E-MAML-TRPO").outer(phi, pre, post, thetas)
    assert not torch.allclose(fp.flat(a), fp.flat(c))


def test_promp_step_keeps_the_pre_update_policy_close(phi):
    method = GradientBaseline("ProMP")
    pre = [make_data(30 + k, phi) for k in range(2)]
    thetas = [method.adapt(phi, d) for d in pre]
    post = [make_data(40 + k, thetas[k]) for k in range(2)]
    new, info = method.outer(phi, pre, post, thetas)
    assert 0 < info["kl_pre"] < 0.05
    # 5 Adam steps of lr 1e-3 move each parameter by at most ~5e-3
    assert float((fp.flat(new) - fp.flat(phi)).detach().abs().max()) <= 5 * 1e-3 * 1.01


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="MAML-PPO"):
        GradientBaseline("MAML-PPO")


def _reference_trpo(method, phi, pre, post, thetas_old, exploration):
    """MAML-TRPO's outer step as first written (each evaluation computes the old and the adapted
    policies' forward passes again for the ratio and for the KL): the speed-up must not change a bit."""
    from lib.bomrl.baselines import _ratio_terms
    from lib.trpo import line_search, natural_step
    cfg = method.config
    phi = fp.detach(phi)
    old_logp = [fp.log_prob(t, d.obs, d.act).detach() for t, d in zip(thetas_old, post)]
    c = exploration_weights(post) if exploration else None

    def objectives(params, graph):
        with torch.set_grad_enabled(True):
            thetas = [inner_step(params, d, cfg.alpha, create_graph=graph) for d in pre]
        surr = kl = 0.0
        for k, (theta, d) in enumerate(zip(thetas, post)):
            ratio, w = _ratio_terms(theta, d, old_logp[k])
            surr = surr + (w * ratio * d.adv).sum()
            if exploration:
                surr = surr + c[k] * (pre[k].weights() * fp.log_prob(params, pre[k].obs, pre[k].act)).sum()
            kl = kl + (w * fp.kl(thetas_old[k], theta, d.obs)).sum()
        return surr / len(post), kl / len(post)

    surr0, kl0 = objectives(phi, True)
    grad = fp.flat(torch.autograd.grad(surr0, phi, retain_graph=True)).detach()
    kl_grad = fp.flat(torch.autograd.grad(kl0, phi, create_graph=True))

    def fvp(v):
        return fp.flat(torch.autograd.grad(kl_grad @ v, phi, retain_graph=True)).detach() + cfg.trpo.cg_damping * v

    step = natural_step(fvp, grad, cfg.delta, cfg.trpo)

    def at(which):
        return lambda x: float(objectives(fp.detach(fp.unflat(x, phi)), False)[which].detach())
    x_new, _ = line_search(at(0), at(1), fp.flat(phi).detach(), step, cfg.delta, require_improvement=True, config=cfg.trpo)
    return fp.detach(fp.unflat(x_new, phi))


@pytest.mark.parametrize("name", ["MAML-TRPO", "E-MAML-TRPO"])
def test_trpo_outer_step_equals_its_first_formulation_bit_for_bit_over_two_iterations(phi, name):
    method = GradientBaseline(name)
    ours = ref = phi
    for it in range(2):
        pre = [make_data(10 * it + k, ours) for k in range(3)]
        thetas = [method.adapt(ours, d) for d in pre]
        post = [make_data(10 * it + 5 + k, th) for k, th in enumerate(thetas)]
        ours, _ = method.outer(ours, pre, post, thetas)
        ref = _reference_trpo(method, ref, pre, post, thetas, exploration=name == "E-MAML-TRPO")
        assert all(torch.equal(a, b) for a, b in zip(ours, ref))
    assert not torch.equal(fp.flat(ours), fp.flat(phi))


def test_promp_standardises_each_tasks_advantages_when_asked(phi):
    """As ProMP's sample processor with normalize_adv=True: the step on raw advantages A equals the
    step of the unnormalised ProMP on (A - mean) / std; MAML-TRPO is left alone."""
    from dataclasses import replace
    from lib.bomrl.baselines import standardised
    d = make_data(3, phi)
    d = replace(d, adv=d.adv * 37.0 + 5.0 * d.mask)  # returns on another scale
    z = standardised(d)
    w = d.weights()
    assert float((w * z.adv).sum()) == pytest.approx(0.0, abs=1e-12)
    assert float((w * z.adv**2).sum()) == pytest.approx(1.0, rel=1e-6)
    assert float(z.adv[0, 3:].abs().sum()) == 0.0  # padding stays 0
    norm = GradientBaseline("ProMP", GradientMetaConfig(normalize_adv=True))
    plain = GradientBaseline("ProMP")
    assert all(torch.equal(a, b) for a, b in zip(norm.adapt(phi, d), plain.adapt(phi, z)))
    assert not all(torch.equal(a, b) for a, b in zip(norm.adapt(phi, d), plain.adapt(phi, d)))
    pre = [d, make_data(4, phi)]
    thetas = [norm.adapt(phi, x) for x in pre]
    post = [make_data(5 + k, th) for k, th in enumerate(thetas)]
    new, _ = norm.outer(phi, pre, post, thetas)
    ref, _ = plain.outer(phi, [standardised(x) for x in pre], [standardised(x) for x in post], thetas)
    assert all(torch.equal(a, b) for a, b in zip(new, ref))
