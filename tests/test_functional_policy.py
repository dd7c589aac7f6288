"""The functional Gaussian policy (lib.bomrl.functional_policy) against the nn.Module policy and
closed forms: same log-probabilities, Fisher-vector products equal to the explicit Fisher
and to the KL Hessian, and a Fisher product differentiable in the parameters."""
import numpy as np
import pytest
import torch

from lib.bomrl import functional_policy as fp
from lib.policies import DTYPE, GaussianPolicy
from lib.trpo import explicit_fisher


@pytest.fixture(scope="module")
def setup():
    policy = GaussianPolicy(3, 2, arch=(1, 4), std0=0.7, seed=3)
    with torch.no_grad():
        policy.mean_net[-1].weight.mul_(50)  # a non-trivial mean
    params = fp.detach(list(policy.mean_net.parameters()) + [policy.log_std])
    gen = np.random.default_rng(0)
    obs = torch.as_tensor(gen.normal(size=(7, 3)), dtype=DTYPE)
    act = torch.as_tensor(gen.normal(size=(7, 2)), dtype=DTYPE)
    return policy, params, obs, act


def test_log_prob_matches_the_module(setup):
    policy, params, obs, act = setup
    torch.testing.assert_close(fp.log_prob(params, obs, act), policy.log_prob(obs, act).detach())


def test_init_params_matches_the_module_initialisation():
    policy = GaussianPolicy(5, 2, arch=(2, 8), seed=11)
    params = fp.init_params(5, 2, (2, 8), seed=11)
    obs = torch.randn(4, 5, dtype=DTYPE)
    torch.testing.assert_close(fp.mean(params, obs), policy.mean(obs).detach())
    assert params[-1].shape == (2,) and len(params) == 7


def test_fisher_vp_equals_explicit_fisher_and_kl_hessian(setup):
    policy, params, obs, _ = setup
    # explicit_fisher orders log_std first (module order); reorder to [net..., log_std]
    n_std = policy.log_std.numel()
    fisher = torch.as_tensor(explicit_fisher(policy, obs))
    order = list(range(n_std, fisher.shape[0])) + list(range(n_std))
    fisher = fisher[order][:, order]
    v = torch.as_tensor(np.random.default_rng(1).normal(size=fisher.shape[0]), dtype=DTYPE)
    torch.testing.assert_close(fp.fisher_vp(params, obs, v), fisher @ v, rtol=1e-10, atol=1e-10)
    # the Hessian of mean KL(pi_old || pi_theta) at theta = old is the Fisher matrix
    theta = fp.detach(params)
    g = fp.flat(torch.autograd.grad(fp.kl([p.detach() for p in params], theta, obs).mean(), theta,
                                    create_graph=True))
    hv = fp.flat(torch.autograd.grad(g @ v, theta))
    torch.testing.assert_close(hv, fisher @ v, rtol=1e-10, atol=1e-10)


def test_fisher_vp_is_differentiable_in_the_parameters(setup):
    _, params, obs, _ = setup
    p = fp.flat(params).numel()
    gen = np.random.default_rng(2)
    u, v, d = (torch.as_tensor(gen.normal(size=p), dtype=DTYPE) for _ in range(3))
    phi = fp.detach(params)
    grad = fp.flat(torch.autograd.grad(u @ fp.fisher_vp(phi, obs, v, create_graph=True), phi,
                                       materialize_grads=True))

    def f(x):
        return float(u @ fp.fisher_vp(fp.unflat(x, params), obs, v))

    x0, h = fp.flat(params).detach(), 1e-6
    fd = (f(x0 + h * d) - f(x0 - h * d)) / (2 * h)
    assert float(grad @ d) == pytest.approx(fd, rel=1e-6)
