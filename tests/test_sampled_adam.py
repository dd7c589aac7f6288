"""The authors' locomotion protocol: filter, policy, returns, sampler and the meta-gradient."""
import numpy as np
import pytest
import torch

from lib.bomrl import locomotion_protocol, sampled_adam, sampler
from lib.bomrl import functional_policy as fp
from lib.bomrl.sampler import TaskData
from lib.envs.mujoco_batch import dims, robot_of
from lib.policies import DTYPE
from lib.rollouts import rewards_to_go

TINY = locomotion_protocol.locomotion("authors", hidden=4, horizon=6, cg_iters=200, dtype="float64")  # float64: finite differences


def authors_running_stat(xs):
    """The authors' RunningStat.push, one observation at a time (running_state.py)."""
    n, m, s = 0, np.zeros(xs.shape[1]), np.zeros(xs.shape[1])
    for x in xs:
        n += 1
        if n == 1:
            m = x.copy()
        else:
            old = m.copy()
            m = old + (x - old) / n
            s = s + (x - old) * (x - m)
    return m, np.sqrt(s / (n - 1))


def test_filter_merge_equals_the_authors_sequential_statistics():
    rng = np.random.default_rng(0)
    xs = rng.normal(3.0, 2.0, size=(257, 4))
    norm = sampler.ObsNorm.empty(4)
    for chunk in np.array_split(xs, 5):
        norm = norm.update(chunk)
    mean, std = authors_running_stat(xs)
    np.testing.assert_allclose(norm.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(norm.std(), std, rtol=1e-12)
    y = norm(np.array([[1e6, -1e6, 3.0, 3.0]]))
    assert y[0, 0] == 5.0 and y[0, 1] == -5.0
    np.testing.assert_allclose(y[0, 2:], (3.0 - mean[2:]) / (std[2:] + 1e-8))
    again = sampler.ObsNorm.from_state(norm.state())
    np.testing.assert_array_equal(again(xs), norm(xs))


def test_initial_policy_is_the_authors():
    params = sampled_adam.init_policy(17, 6, seed=3)
    assert [tuple(p.shape) for p in params] == [(128, 17), (128,), (128, 128), (128,), (6, 128), (6,), (6,)]
    assert float(params[0].detach().abs().max()) <= 1 / np.sqrt(17)
    assert float(params[4].detach().abs().max()) <= 0.1 / np.sqrt(128) and float(params[5].detach().abs().max()) == 0.0
    np.testing.assert_allclose(torch.exp(params[-1]).detach().numpy(), np.exp(-0.7))
    same = sampled_adam.init_policy(17, 6, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(params, same))


def test_returns_of_full_length_trajectories_closed_form():
    """The sampler's returns: ``rewards_to_go`` with every step real (HalfCheetah never ends)."""
    rew = np.random.default_rng(1).normal(size=(3, 7))
    g = rewards_to_go(rew, np.ones_like(rew), 0.9)
    for t in range(7):
        np.testing.assert_allclose(g[:, t], (rew[:, t:] * 0.9 ** np.arange(7 - t)).sum(1))


def authors_compute_advantage(rew, rew_extra, own: bool, gamma):
    """Their ``compute_adavatage`` loops for one trajectory (``own``: the pre-``1784ed7`` line)."""
    prev = 0.0
    for i in reversed(range(len(rew_extra))):
        prev = (rew[i] if own else rew_extra[i]) + gamma * prev
    out = np.empty(len(rew))
    for i in reversed(range(len(rew))):
        out[i] = prev = rew[i] + gamma * prev
    return out


@pytest.mark.parametrize("source", locomotion_protocol.TAIL_SOURCES)
def test_returns_with_tail_equal_the_authors_loops_and_the_closed_form(source):
    h, gamma = 6, 0.9
    rew = np.random.default_rng(2).normal(size=(3, 2 * h))
    g = sampler.returns_with_tail(rew, h, gamma, source)
    for k in range(3):
        np.testing.assert_allclose(g[k], authors_compute_advantage(rew[k, :h], rew[k, h:], source == "own", gamma))
    if source == "own":
        rtg = rewards_to_go(rew[:, :h], np.ones((3, h)), gamma)
        past = np.array([[(rew[k, :t] * gamma ** np.arange(t)).sum() for t in range(h)] for k in range(3)])
        np.testing.assert_allclose(g, (1 + gamma**h) * rtg + gamma ** (h - np.arange(h)) * past)


def test_unknown_tail_source_is_refused():
    with pytest.raises(ValueError, match="tail_source.*'last'"):
        locomotion_protocol.locomotion("authors", tail_source="last")
    with pytest.raises(ValueError, match="needs 2 x horizon"):
        sampler.returns_with_tail(np.zeros((1, 5)), 3, 0.9, "own")


def test_batched_actions_are_each_tasks_policy():
    """Stacked per-task policies give each task's own mean (noise switched off by a tiny std)."""
    plist = [sampled_adam.init_policy(5, 2, seed=s, proto=TINY) for s in range(3)]
    for p in plist:
        p[-1].data.fill_(-40.0)
    obs = torch.randn(3, 4, 5, dtype=DTYPE)
    out = sampler._batched_actions(sampler._stack(plist), obs, torch.Generator().manual_seed(0))
    for k, p in enumerate(plist):
        torch.testing.assert_close(out[k], fp.mean(p, obs[k]).detach(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("family", locomotion_protocol.LOCOMOTION_AUTHORS.families)
def test_sample_shapes_rewards_and_centred_returns(family):
    proto = locomotion_protocol.locomotion("authors", horizon=5)
    tasks = [0.5, 1.5] if family.endswith("vel") else [-1.0, 1.0]
    od, ad = dims(robot_of(family))
    params = sampled_adam.init_policy(od, ad, seed=0)
    norm = sampler.ObsNorm.empty(od).update(np.random.default_rng(0).normal(size=(50, od)))
    data, raw, info = sampler.sample_filtered(family, params, tasks, 3, norm, seed=4, proto=proto)
    assert len(data) == 2 and info["steps"] == 2 * 3 * 10 and raw.shape == (60, od)
    for d in data:
        assert d.obs.shape == (3, 5, od) and d.act.shape == (3, 5, ad)
        assert d.obs.dtype == d.adv.dtype == torch.float32  # the policy's dtype
        assert abs(float(d.adv.double().mean())) < 1e-6 * float(d.adv.abs().max())  # centred in float64, then cast
        assert float(d.obs.abs().max()) <= 5.0
    again = sampler.sample_filtered(family, params, tasks, 3, norm, seed=4, proto=proto)[0]
    assert all(torch.equal(a.adv, b.adv) for a, b in zip(data, again))
    # the tail changes the returns of the kept steps, not the kept steps themselves
    short = sampler.sample_filtered(family, params, tasks, 3, norm, seed=4, proto=locomotion_protocol.locomotion("authors", horizon=5, tail=False))[0]
    assert torch.equal(short[0].obs, data[0].obs) and not torch.equal(short[0].adv, data[0].adv)
    np.testing.assert_array_equal(short[0].returns, data[0].returns)


def _toy_task(seed=0, n=40, obs_dim=3, act_dim=2):
    gen = torch.Generator().manual_seed(seed)
    obs = torch.randn(1, n, obs_dim, generator=gen, dtype=DTYPE)
    act = torch.randn(1, n, act_dim, generator=gen, dtype=DTYPE)
    adv = torch.randn(1, n, generator=gen, dtype=DTYPE)
    return TaskData(obs, act, torch.ones(1, n, dtype=DTYPE), adv - adv.mean(), np.zeros(1), 0.0)


@pytest.mark.parametrize("metric", ["kl", "kl_reverse", "euclidean"])
def test_adam_solver_stops_at_the_distance_bound(metric):
    d = _toy_task()
    phi = sampled_adam.init_policy(3, 2, seed=1, proto=TINY)
    proto = locomotion_protocol.locomotion("authors", hidden=4, inner_lr=0.3, inner_steps=200, max_distance=0.05)
    theta, info = sampled_adam.adapt(phi, d, metric, proto)
    assert info["steps"] < 200 and info["distance"] > 0.05
    # one step before the last is still inside the bound: the check comes before each step
    small, info_small = sampled_adam.adapt(phi, d, metric, locomotion_protocol.locomotion("authors", hidden=4, inner_lr=1e-3, inner_steps=5))
    assert info_small["steps"] == 5 and info_small["distance"] < 0.05


@pytest.mark.parametrize("metric", ["kl", "kl_reverse", "euclidean"])
def test_inner_terms_from_one_forward_pass_equal_the_definitions(metric):
    d = _toy_task(0, n=60)
    phi = sampled_adam.init_policy(3, 2, seed=1, proto=TINY)
    theta = [p.detach() + 0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(i), dtype=DTYPE)
             for i, p in enumerate(phi)]
    gain, dist = (t.detach() for t in sampled_adam.inner_terms(theta, sampled_adam.anchor(phi, d), d, metric))
    assert float(gain) == pytest.approx(float(sampled_adam.smooth_gain(theta, fp.log_prob(phi, d.obs, d.act).detach(), d)), rel=1e-13)
    assert float(dist) == pytest.approx(float(sampled_adam.distance(metric, fp.detach(phi), theta, d).detach()), rel=1e-13)
    assert float(dist) > 1e-4


@pytest.mark.parametrize("metric", ["kl", "kl_reverse", "euclidean"])
def test_float32_adaptation_and_meta_gradient_stay_close_to_float64(metric):
    """Our float32 against the authors' float64, at their network size: the step theta' - phi of
    one 50-step adaptation and the meta-gradient direction x = H^-1 g."""
    gen = torch.Generator().manual_seed(7)
    obs, act = torch.randn(1, 100, 17, generator=gen, dtype=DTYPE), torch.randn(1, 100, 6, generator=gen, dtype=DTYPE)
    adv = torch.randn(1, 100, generator=gen, dtype=DTYPE)
    d64 = TaskData(obs, act, torch.ones(1, 100, dtype=DTYPE), adv - adv.mean(), np.zeros(1), 0.0)
    d32 = TaskData(*(t.float() for t in (d64.obs, d64.act, d64.mask, d64.adv)), d64.returns, d64.task)
    proto64 = locomotion_protocol.locomotion("authors", dtype="float64")
    phi64 = sampled_adam.init_policy(17, 6, seed=0, proto=proto64)
    phi32 = [p.detach().float() for p in phi64]
    th64, _ = sampled_adam.adapt(phi64, d64, metric, proto64)
    th32, _ = sampled_adam.adapt(phi32, d32, metric, locomotion_protocol.locomotion("authors"))
    step64, step32 = fp.flat(th64) - fp.flat(phi64).detach(), fp.flat(th32).double() - fp.flat(phi32).double()
    assert th32[0].dtype == torch.float32
    assert float((step32 - step64).norm() / step64.norm()) < 1e-4  # measured 3e-6 to 5e-6
    g64 = sampled_adam.post_loss_gradient(th64, d64)
    x64 = sampled_adam.implicit_direction(phi64, th64, d64, g64, metric, proto64)
    x32 = sampled_adam.implicit_direction(phi32, [t.float() for t in th64], d32, g64.float(), metric, locomotion_protocol.locomotion("authors"))
    cos = float(x32.double() @ x64 / (x32.double().norm() * x64.norm()))
    assert cos > 1 - 1e-6 and float(x32.double().norm() / x64.norm()) == pytest.approx(1.0, abs=1e-3)  # 1e-10, 1e-5


def _solve(phi, d, metric, lam):
    """The inner problem solved to stationarity by L-BFGS (for finite differences)."""
    theta = fp.detach(phi)
    opt = torch.optim.LBFGS(theta, max_iter=500, tolerance_grad=1e-13, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = sampled_adam.inner_objective(theta, phi, d, metric, lam)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    return [t.detach() for t in theta]


@pytest.mark.parametrize("metric", ["kl", "kl_reverse", "euclidean"])
def test_meta_gradient_is_the_implicit_derivative_without_the_surrogates_cross_term(metric):
    """Finite differences of the post-adaptation loss at theta'(phi) equal the authors' meta-gradient
    plus the term they drop, -d/dphi <grad_theta (-gain / lam), x> (both by autograd)."""
    lam = 0.5
    pre, post = _toy_task(0, n=200), _toy_task(1, n=200)
    linear = locomotion_protocol.locomotion("authors", layers=0, lam_kl=lam, lam_euclidean=lam, cg_iters=500, dtype="float64")  # a strictly convex distance: a unique theta'
    phi = sampled_adam.init_policy(3, 2, seed=2, proto=linear)
    theta = _solve(phi, pre, metric, lam)
    assert sampled_adam.stationarity(theta, phi, pre, metric, lam) < 1e-6 and sampled_adam.distance(metric, phi, theta, pre) > 0.01
    post_logp = fp.log_prob(theta, post.obs, post.act).detach()

    def post_loss(th):
        return float(-(post.weights() * post.adv * torch.exp(fp.log_prob(th, post.obs, post.act) - post_logp)).sum())

    g = sampled_adam.post_loss_gradient(theta, post)
    x = sampled_adam.implicit_direction(phi, theta, pre, g, metric, linear)
    phi_v = fp.detach(phi)
    authors = fp.flat(torch.autograd.grad(sampled_adam.outer_loss(phi_v, [theta], [pre], [x], metric), phi_v))
    th = fp.detach(theta)
    phi_v = fp.detach(phi)
    cross_in_theta = fp.flat(torch.autograd.grad(
        -sampled_adam.smooth_gain(th, fp.log_prob(phi_v, pre.obs, pre.act), pre) / lam, th, create_graph=True))
    cross = -fp.flat(torch.autograd.grad(cross_in_theta @ x, phi_v))
    v = torch.randn(authors.shape[0], generator=torch.Generator().manual_seed(5), dtype=DTYPE)
    eps = 1e-4
    plus = _solve([p.detach() + eps * s for p, s in zip(phi, fp.unflat(v, phi))], pre, metric, lam)
    minus = _solve([p.detach() - eps * s for p, s in zip(phi, fp.unflat(v, phi))], pre, metric, lam)
    fd = (post_loss(plus) - post_loss(minus)) / (2 * eps)
    scale = abs(float(authors @ v)) + abs(float(cross @ v))  # for Alg(3) the two nearly cancel
    assert fd == pytest.approx(float((authors + cross) @ v), abs=1e-3 * scale)
    assert abs(float(cross @ v)) > 1e-3 * abs(fd)  # the dropped term is not zero here


def _outer(proto):
    pre = [_toy_task(0), _toy_task(2)]
    post = [_toy_task(1), _toy_task(3)]
    method = sampled_adam.AdamBOMRL("Alg(1)", "halfcheetah-vel", proto)
    phi = sampled_adam.init_policy(3, 2, seed=2, proto=TINY)
    thetas = [method.adapt(phi, d) for d in pre]
    xs = [sampled_adam.implicit_direction(phi, th, d, sampled_adam.post_loss_gradient(th, dp), "kl", proto)
          for th, d, dp in zip(thetas, pre, post)]
    before = float(sampled_adam.outer_loss(fp.detach(phi), thetas, pre, xs, "kl").detach())
    new, info = method.outer(phi, pre, post, thetas)
    after = float(sampled_adam.outer_loss(fp.detach(new), thetas, pre, xs, "kl").detach())
    return before, after, info


def test_outer_step_is_the_authors_full_natural_step_and_lowers_the_outer_loss():
    before, after, info = _outer(locomotion_protocol.locomotion("authors", hidden=4))
    assert info["accepted"] and info["n_backtracks"] == 0 and after < before
    # the step's quadratic KL model equals max_kl; the true KL is close to it but not bounded by it
    assert info["kl"] == pytest.approx(1e-2, rel=0.3)
    assert 0 <= info["stationarity"]


def test_outer_step_with_the_kl_check_respects_the_bound():
    before, after, info = _outer(locomotion_protocol.locomotion("authors", hidden=4, outer_kl_check=True))
    assert info["accepted"] and 0 < info["kl"] <= 1e-2 and after < before


def test_improvement_line_search_is_the_authors_rule():
    loss = lambda x: float((x**2).sum())  # noqa: E731
    x0 = torch.tensor([1.0, 0.0])
    # full step overshoots to x = -1.5: loss rises, so it halves once (x = -0.25, decrease 0.9375;
    # predicted 0.5 * 5 = 2.5, ratio 0.375 > 0.1)
    x, info = sampled_adam.improvement_line_search(loss, x0, torch.tensor([-2.5, 0.0]), expected=5.0)
    assert info["n_backtracks"] == 1 and torch.allclose(x, torch.tensor([-0.25, 0.0]))
    # an improving step below 0.1 of its linear prediction is refused: at x = -0.999 the loss
    # falls by 0.002 against a predicted -<grad, step> = 3.998; the half step (x = 5e-4) passes
    x, info = sampled_adam.improvement_line_search(loss, x0, torch.tensor([-1.999, 0.0]), expected=3.998)
    assert info["n_backtracks"] == 1 and info["accepted"]
    # no improving candidate: x0 unchanged, not accepted
    x, info = sampled_adam.improvement_line_search(loss, x0, torch.tensor([1.0, 0.0]), expected=1.0)
    assert not info["accepted"] and torch.equal(x, x0) and info["step_frac"] == 0.0


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="hopper-vel"):
        sampled_adam.AdamBOMRL("Alg(1)", "hopper-vel")
    with pytest.raises(ValueError, match="Alg\\(4\\)"):
        sampled_adam.AdamBOMRL("Alg(4)", "halfcheetah-vel")


def test_ant_rewards_are_the_authors_formulas_on_gymnasiums_step_info():
    """Ant: -|v - g| (or d v) + 0.05 + reward_survive + 0.01 reward_ctrl of Gym's Ant-v4 info, i.e.
    +1.05 - 0.005 ||a||^2 with no contact cost, on hand-set healthy states stepped by Gymnasium's Ant-v5."""
    import gymnasium as gym
    env = gym.make("Ant-v5", include_cfrc_ext_in_observation=False).unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(2)
    for goal, family in ((1.3, "ant-vel"), (-1.0, "ant-dir"), (1.0, "ant-dir")):
        qpos = env.init_qpos + rng.uniform(-0.05, 0.05, env.model.nq)
        env.set_state(qpos, rng.normal(0, 0.5, env.model.nv))
        a = rng.uniform(-1, 1, 8)
        _, _, _, _, info = env.step(a)
        assert info["reward_survive"] == 1.0  # healthy: v4 and v5 agree
        goal_term = -abs(info["x_velocity"] - goal) if family == "ant-vel" else goal * info["x_velocity"]
        theirs = goal_term + 0.05 + info["reward_survive"] + info["reward_ctrl"] * 1e-2
        ours = sampler.task_rewards(family, np.array([goal]), np.array([info["x_velocity"]]), a[None])[0]
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
        assert ours == pytest.approx(goal_term + 1.05 - 0.005 * (a**2).sum(), rel=1e-12)
