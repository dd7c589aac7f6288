"""TRPO / xTRPO: CG vs explicit Fisher inverse, trust region respected, the one difference."""
import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector

from lib.envs import ENV_NAMES, get_spec
from lib.policies import DTYPE, GaussianPolicy, make_policy, mean_kl
from lib.rollouts import advantages, rollout
from lib.trpo import (
    TRPOConfig,
    conjugate_gradient,
    explicit_fisher,
    fisher_operator,
    line_search,
    linearise,
    trpo_step,
)
from lib.trust_region_meta.learning import learn, update


def test_conjugate_gradient_solves_spd_system():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(8, 8, generator=g, dtype=DTYPE)
    a = m @ m.T + 0.5 * torch.eye(8, dtype=DTYPE)
    b = torch.randn(8, generator=g, dtype=DTYPE)
    x = conjugate_gradient(lambda v: a @ v, b, iters=50)
    torch.testing.assert_close(x, torch.linalg.solve(a, b))


def _tiny_problem(arch=(0, 0), seed=0):
    spec = get_spec("cartpole")
    policy = make_policy(spec, arch, seed=seed)
    with torch.no_grad():  # move away from the near-zero init so the Fisher is generic
        for p in policy.mean_net.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(seed), dtype=DTYPE))
    batch = rollout(spec, policy, np.tile(spec.default_task, (6, 1)), np.random.default_rng(seed))
    return spec, policy, batch


@pytest.mark.parametrize("arch", [(0, 0), (1, 3), (2, 5)])
def test_fisher_operator_is_the_explicit_fisher_and_the_kl_hessian(arch):
    """Closed-form products = explicit J^T Sigma^-1 J (+2I on log-std) = Hessian of the mean KL."""
    spec, policy, batch = _tiny_problem(arch)
    with torch.no_grad():
        policy.log_std.fill_(-0.4)  # sigma != 1, so the sigma^-2 weighting is exercised
    obs = torch.as_tensor(batch.flat("obs"), dtype=DTYPE)
    params = list(policy.parameters())
    n_params = sum(p.numel() for p in params)
    fisher = torch.as_tensor(explicit_fisher(policy, obs))
    old = make_policy(spec, arch)
    old.load_state_dict(policy.state_dict())
    kl_grad = parameters_to_vector(torch.autograd.grad(mean_kl(old, policy, obs), params, create_graph=True))
    fvp64 = fisher_operator(policy, obs, damping=0.3, dtype=torch.float64)
    fvp32 = fisher_operator(policy, obs, damping=0.3, dtype=torch.float32)
    for i in range(3):
        v = torch.randn(n_params, generator=torch.Generator().manual_seed(i), dtype=DTYPE)
        hessian_v = parameters_to_vector(torch.autograd.grad(kl_grad @ v, params, retain_graph=True))
        expected = fisher @ v + 0.3 * v
        torch.testing.assert_close(fvp64(v), expected, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(hessian_v + 0.3 * v, expected, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(fvp32(v), expected, rtol=1e-5, atol=1e-6)
        assert fvp32(v).dtype == DTYPE


@pytest.mark.parametrize("arch", [(0, 0), (2, 4)])
def test_fisher_operator_with_several_actions_and_scaled_observations(arch):
    """act_dim = 3 (one derivative per action dimension) and obs_scale != 1: still the explicit
    Fisher and the Hessian of the mean KL."""
    policy = GaussianPolicy(2, 3, arch, obs_scale=[2.0, 0.5], seed=1)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=DTYPE))
    obs = torch.randn(7, 2, generator=g, dtype=DTYPE)
    params = list(policy.parameters())
    old = GaussianPolicy(2, 3, arch, obs_scale=[2.0, 0.5])
    old.load_state_dict(policy.state_dict())
    kl_grad = parameters_to_vector(torch.autograd.grad(mean_kl(old, policy, obs), params, create_graph=True))
    fisher = torch.as_tensor(explicit_fisher(policy, obs))
    fvp = fisher_operator(policy, obs, dtype=torch.float64)
    v = torch.randn(fisher.shape[0], generator=g, dtype=DTYPE)
    hessian_v = parameters_to_vector(torch.autograd.grad(kl_grad @ v, params))
    torch.testing.assert_close(fvp(v), fisher @ v, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(fvp(v), hessian_v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("arch", [(0, 0), (2, 4)])
def test_gradient_is_the_autograd_gradient_of_the_surrogate(arch):
    """trpo_step's closed-form gradient (J_mu^T products and the log-std term) equals autograd's
    gradient of the surrogate, with 3 action dimensions and scaled observations."""
    policy = GaussianPolicy(2, 3, arch, obs_scale=[2.0, 0.5], std0=0.7, seed=2)
    g = torch.Generator().manual_seed(6)
    obs, act = torch.randn(9, 2, generator=g, dtype=DTYPE), torch.randn(9, 3, generator=g, dtype=DTYPE)
    adv = torch.randn(9, generator=g, dtype=DTYPE)
    logp = policy.log_prob(obs, act)
    surrogate = (torch.exp(logp - logp.detach()) * adv).mean()
    expected = parameters_to_vector(torch.autograd.grad(surrogate, list(policy.parameters())))
    for dtype, rtol in [(torch.float64, 1e-12), (torch.float32, 1e-5)]:
        fresh = GaussianPolicy(2, 3, arch, obs_scale=[2.0, 0.5], std0=0.7, seed=2)
        info = trpo_step(fresh, obs, act, adv, 1e-9, config=TRPOConfig(max_backtracks=1, kl_slack=1.0),
                         dtype=dtype)
        assert info["grad_norm"] == pytest.approx(float(expected.norm()), rel=rtol)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_linearise_gives_the_policy_means(dtype, rtol):
    """The update's own forward pass (numpy tanh, per-layer trace) is the policy's mean network."""
    policy = GaussianPolicy(2, 3, (2, 4), obs_scale=[2.0, 0.5], seed=3)
    obs = torch.randn(11, 2, generator=torch.Generator().manual_seed(7), dtype=DTYPE)
    mean, layers = linearise(policy, obs, dtype)
    assert mean.dtype == dtype and [name for name, _, _ in layers] == ["mean_net.0", "mean_net.2", "mean_net.4"]
    torch.testing.assert_close(mean.to(DTYPE), policy.mean(obs).detach(), rtol=rtol, atol=rtol)


def test_fisher_operator_rejects_unsupported_layers():
    policy = GaussianPolicy(2, 1, (1, 3))
    policy.mean_net[1] = torch.nn.ReLU()
    with pytest.raises(TypeError, match="Linear and Tanh"):
        fisher_operator(policy, torch.zeros(4, 2, dtype=DTYPE))


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-6), (torch.float32, 5e-4)])
@pytest.mark.parametrize("arch", [(0, 0), (1, 3)])
def test_cg_direction_matches_explicit_fisher_inverse(arch, dtype, rtol):
    """The step TRPO takes is sqrt(2 lambda / x'Fx) x with x = (F + damping I)^-1 g, F explicit
    (exact to 1e-6 in an all-float64 update; to 5e-4 with the default float32 means, gradient
    and Fisher products, whose rounding the ill-conditioned CG solve amplifies)."""
    spec, policy, batch = _tiny_problem(arch)
    obs, act = batch.flat("obs"), batch.flat("act")
    adv = advantages(batch, spec)
    x0 = parameters_to_vector(policy.parameters()).detach().clone()
    n_params = x0.numel()
    cfg = TRPOConfig(cg_iters=4 * n_params, cg_tol=1e-30, max_backtracks=1, kl_slack=1e9)
    # explicit quantities
    fisher = explicit_fisher(policy, obs) + cfg.cg_damping * np.eye(n_params)
    obs_t, act_t = torch.as_tensor(obs, dtype=DTYPE), torch.as_tensor(act, dtype=DTYPE)
    adv_t = torch.as_tensor(adv, dtype=DTYPE)
    logp0 = policy.log_prob(obs_t, act_t).detach()
    surr = (torch.exp(policy.log_prob(obs_t, act_t) - logp0) * adv_t).mean()
    grad = parameters_to_vector(torch.autograd.grad(surr, list(policy.parameters()))).numpy()
    x = np.linalg.solve(fisher, grad)
    kl_bound = 0.01
    expected_step = np.sqrt(2 * kl_bound / (x @ fisher @ x)) * x
    info = trpo_step(policy, obs, act, adv, kl_bound, require_improvement=False, config=cfg,
                     dtype=dtype)
    step = (parameters_to_vector(policy.parameters()).detach() - x0).numpy()
    assert info["accepted"] and info["step_frac"] == 1.0
    np.testing.assert_allclose(step, expected_step, rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("dtype, rtol", [(torch.float64, 1e-9), (torch.float32, 1e-5)])
@pytest.mark.parametrize("kl_slack", [1.0, 1.5])
@pytest.mark.parametrize("name", ENV_NAMES)
def test_accepted_step_respects_the_trust_region(name, kl_slack, dtype, rtol):
    """The float64 KL of the accepted step is within the bound and equals the reported KL:
    to 1e-9 in an all-float64 update, to 1e-5 when the means come from float32 evaluations."""
    spec = get_spec(name)
    cfg = TRPOConfig(kl_slack=kl_slack)
    rng = np.random.default_rng(1)
    for i, kl_bound in enumerate([1e-3, 1e-2, 0.1, 1.0]):
        policy = make_policy(spec, (1, 8), seed=i)
        batch = rollout(spec, policy, spec.sample_tasks(rng, 16), rng)
        old = make_policy(spec, (1, 8), seed=i)
        info = update(policy, batch, spec, kl_bound, "xTRPO", cfg, dtype=dtype)
        obs = torch.as_tensor(batch.flat("obs"), dtype=DTYPE)
        realised = float(mean_kl(old, policy, obs).detach())
        assert info["accepted"]
        assert realised <= kl_slack * kl_bound * (1 + rtol)
        assert np.isclose(realised, info["kl"], rtol=rtol, atol=1e-15)


def test_line_search_trpo_shrinks_on_no_improvement_xtrpo_does_not():
    """A step inside the trust region that lowers the surrogate: only TRPO backtracks."""
    x0 = torch.zeros(2, dtype=DTYPE)
    full = torch.tensor([1.0, 0.0], dtype=DTYPE)
    surrogate = lambda x: float(x[0] * (0.1 - x[0]))  # noqa: E731  improves only for x0 < 0.1
    kl = lambda x: float(0.5 * x @ x)  # noqa: E731  KL of the full step = 0.5 <= lambda = 1
    x_t, info_t = line_search(surrogate, kl, x0, full, 1.0, require_improvement=True)
    x_x, info_x = line_search(surrogate, kl, x0, full, 1.0, require_improvement=False)
    assert info_x["step_frac"] == 1.0 and torch.equal(x_x, full)
    assert info_t["step_frac"] == 0.0625 and info_t["surrogate_gain"] >= 0  # 1 -> 1/16 < 0.1
    # and both reject a step that leaves the trust region at every attempt
    x_r, info_r = line_search(surrogate, lambda x: 10.0, x0, full, 1.0, require_improvement=False)
    assert not info_r["accepted"] and torch.equal(x_r, x0)


def test_trpo_and_xtrpo_differ_exactly_on_a_non_improving_policy_batch():
    """A 4-sample bandit batch (state 1) on which the full natural step for lambda = 2 stays
    inside the trust region but lowers the surrogate (it overshoots the high-advantage
    actions): xTRPO takes it, TRPO halves it once and improves."""
    obs = np.ones((4, 1))
    act = np.array([[1.9], [-0.5], [1.3], [-0.7]])
    adv = np.array([1.8, 0.2, -0.4, 2.6])
    policy_t = GaussianPolicy(1, 1, arch=(0, 0), std0=1.0, seed=0)
    policy_x = GaussianPolicy(1, 1, arch=(0, 0), std0=1.0, seed=0)
    info_t = trpo_step(policy_t, obs, act, adv, kl_bound=2.0, require_improvement=True)
    info_x = trpo_step(policy_x, obs, act, adv, kl_bound=2.0, require_improvement=False)
    assert info_x["step_frac"] == 1.0 and info_x["surrogate_gain"] < -0.1
    assert info_x["kl"] <= 1.5 * 2.0
    assert info_t["step_frac"] == 0.5 and info_t["surrogate_gain"] > 0.1
    # with a small lambda the surrogate improves at the full step and the two coincide
    a = GaussianPolicy(1, 1, seed=0)
    b = GaussianPolicy(1, 1, seed=0)
    ia = trpo_step(a, obs, act, adv, 1e-3, require_improvement=True)
    ib = trpo_step(b, obs, act, adv, 1e-3, require_improvement=False)
    assert ia["step_frac"] == ib["step_frac"] == 1.0
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("bad", [-0.01, 0.0, float("nan"), float("inf")])
def test_bad_kl_bound_is_named(bad):
    policy = GaussianPolicy(1, 1)
    with pytest.raises(ValueError, match="kl_bound"):
        trpo_step(policy, np.ones((4, 1)), np.ones((4, 1)), np.array([1.0, -1, 1, -1]), bad)
    with pytest.raises(ValueError, match=str(bad)):
        learn("elikoeidis", (0.5, 3, 0.5, 1), bad, n_updates=1)


def test_unknown_algorithm_is_named():
    with pytest.raises(ValueError, match="'PPO'"):
        learn("elikoeidis", (0.5, 3, 0.5, 1), 0.1, algo="PPO", n_updates=1)


@pytest.mark.parametrize("name,kl_bound,n_updates,n_traj", [
    ("elikoeidis", 0.1, 10, 8), ("minigolf", 0.05, 35, 64), ("cartpole", 0.01, 10, 16)])
def test_fixed_lambda_trpo_improves_the_return(name, kl_bound, n_updates, n_traj):
    """Averaged over 3 seeds, the last 3 steps beat the initial policy by a clear margin."""
    spec = get_spec(name)
    gains = []
    for seed in range(3):
        task = spec.sample_tasks(np.random.default_rng(seed), 1)[0]
        df = learn(name, task, kl_bound, "TRPO", n_updates=n_updates, n_traj=n_traj, seed=seed)
        gains.append(df.ret.iloc[-3:].mean() - df.ret.iloc[0])
    scale = {"elikoeidis": 5.0, "minigolf": 3.0, "cartpole": 20.0}[name]
    assert np.mean(gains) > scale, gains


def test_learning_is_deterministic_for_a_seed():
    a = learn("cartpole", (1.0, 0.1, 0.5), 0.05, "xTRPO", arch=(1, 8), n_updates=3, n_traj=4, seed=9)
    b = learn("cartpole", (1.0, 0.1, 0.5), 0.05, "xTRPO", arch=(1, 8), n_updates=3, n_traj=4, seed=9)
    c = learn("cartpole", (1.0, 0.1, 0.5), 0.05, "xTRPO", arch=(1, 8), n_updates=3, n_traj=4, seed=10)
    assert a.equals(b) and not a.equals(c)
