"""Gaussian policies against torch.distributions and Monte Carlo ground truth."""
import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from lib.envs import get_spec
from lib.policies import (
    DTYPE,
    GaussianPolicy,
    arch_label,
    gaussian_kl,
    make_policy,
    mean_kl,
)

ARCHS = [(0, 0), (1, 16), (2, 32), (3, 64)]


@pytest.mark.parametrize("arch", ARCHS)
def test_log_prob_and_entropy_match_torch(arch):
    pol = GaussianPolicy(3, 2, arch=arch, std0=0.7, seed=1)
    with torch.no_grad():
        pol.log_std.copy_(torch.tensor([-0.3, 0.2], dtype=DTYPE))
    obs = torch.randn(50, 3, dtype=DTYPE)
    act = torch.randn(50, 2, dtype=DTYPE)
    ref = Normal(pol.mean(obs), torch.exp(pol.log_std))
    torch.testing.assert_close(pol.log_prob(obs, act), ref.log_prob(act).sum(-1))
    torch.testing.assert_close(pol.entropy(), ref.entropy().sum(-1)[0])


def test_closed_form_kl_matches_torch_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mp, mq = torch.randn(40, 3, generator=g, dtype=DTYPE), torch.randn(40, 3, generator=g, dtype=DTYPE)
    lp, lq = 0.3 * torch.randn(3, generator=g, dtype=DTYPE), 0.3 * torch.randn(3, generator=g, dtype=DTYPE)
    kl = gaussian_kl(mp, lp, mq, lq)
    ref = kl_divergence(Normal(mp, lp.exp()), Normal(mq, lq.exp())).sum(-1)
    torch.testing.assert_close(kl, ref)
    # Monte Carlo: E_p[log p - log q] for one state
    p, q = Normal(mp[0], lp.exp()), Normal(mq[0], lq.exp())
    x = p.sample((400000,))
    mc = (p.log_prob(x) - q.log_prob(x)).sum(-1).mean()
    assert abs(float(mc - kl[0])) < 0.02


def test_kl_of_a_policy_with_itself_is_zero_and_positive_otherwise():
    spec = get_spec("cartpole")
    a, b = make_policy(spec, (2, 8), seed=0), make_policy(spec, (2, 8), seed=1)
    obs = torch.randn(100, 4, dtype=DTYPE)
    assert float(mean_kl(a, a, obs).detach()) == 0.0
    with torch.no_grad():
        b.log_std.add_(0.1)
    assert float(mean_kl(a, b, obs).detach()) > 0


@pytest.mark.parametrize("arch", ARCHS)
def test_architectures_start_near_zero_mean_with_std0(arch):
    spec = get_spec("minigolf")
    pol = make_policy(spec, arch, seed=3)
    obs = torch.linspace(0, 20, 50, dtype=DTYPE)[:, None]
    assert pol.mean(obs).abs().max() < 0.05
    assert math.isclose(float(pol.log_std.exp().detach()), spec.std0)
    h, n = arch
    expected = 2 if h == 0 else (1 * n + n) + (h - 1) * (n * n + n) + (n + 1)
    assert pol.n_params() == expected + 1  # + log_std
    assert arch_label(arch) == f"MLP({h},{n})"


def test_bad_architecture_is_named():
    with pytest.raises(ValueError, match="hidden_layers must be in 0..3, got 4"):
        GaussianPolicy(1, 1, arch=(4, 8))
    with pytest.raises(ValueError, match="std0 .* must be a finite number > 0"):
        GaussianPolicy(1, 1, std0=-1)


def test_same_seed_same_weights():
    spec = get_spec("cartpole")
    a, b = make_policy(spec, (1, 16), seed=7), make_policy(spec, (1, 16), seed=7)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    c = make_policy(spec, (1, 16), seed=8)
    assert not np.allclose(a.mean_net[0].weight.detach(), c.mean_net[0].weight.detach())


@pytest.mark.parametrize("arch", [(0, 0), (1, 8), (3, 16)])
def test_rollout_actor_samples_around_the_torch_mean(arch):
    """The numpy actor used in rollouts: a = mu(s) + sigma z with mu the policy's own mean."""
    from lib.rollouts import policy_actor

    policy = GaussianPolicy(5, 2, arch=arch, std0=0.7, obs_scale=[1, 2, 3, 0.5, 0.1], seed=3)
    with torch.no_grad():
        for p in policy.mean_net.parameters():
            p.add_(0.2)
    obs = np.random.default_rng(0).normal(size=(64, 5))
    act = policy_actor(policy)(obs, np.random.default_rng(1))
    z = np.random.default_rng(1).standard_normal((64, 2))
    expected = policy.mean(torch.as_tensor(obs)).detach().numpy() + 0.7 * z
    np.testing.assert_allclose(act, expected, rtol=1e-12, atol=1e-12)
