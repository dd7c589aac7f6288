"""Frozen Lake task distributions and exact tabular RL (lib.envs.frozen_lake, lib.bomrl.tabular)."""
import numpy as np
import pytest
import torch

from lib.bomrl import tabular
from lib.envs import frozen_lake as fl


@pytest.fixture(scope="module")
def tasks():
    return fl.sample_tasks(np.random.default_rng(0), 6, goal_radius=6, n_holes=2, gamma=0.9)


def test_maps_follow_the_distribution():
    rng = np.random.default_rng(1)
    for radius in (0, 1, 3):
        for desc in fl.sample_maps(rng, 20, radius, n_holes=3):
            flat = "".join(desc)
            assert flat[0] == "S" and flat.count("G") == 1 and flat.count("H") == 3
            goal = flat.index("G")
            assert (3 - goal // 4) + (3 - goal % 4) <= radius
            assert fl._reachable(desc)


def test_transition_model_is_stochastic_and_terminals_absorb(tasks):
    P, R = tasks.P.numpy(), tasks.R.numpy()
    np.testing.assert_allclose(P.sum(-1), 1.0, atol=1e-12)
    for i, desc in enumerate(tasks.maps):
        flat = "".join(desc)
        for s, c in enumerate(flat):
            if c in "GH":
                assert np.all(P[i, s, :, s] == 1.0) and np.all(R[i, s] == 0.0)
        # rewards only on transitions into the goal: R(s,a) = P(s,a,goal) for non-terminal s
        g = flat.index("G")
        live = [s for s, c in enumerate(flat) if c not in "GH"]
        np.testing.assert_allclose(R[i, live], P[i, live, :, g], atol=1e-12)


def test_exact_return_matches_gymnasium_monte_carlo(tasks):
    """J of the uniform policy from the linear solve vs 4000 Gymnasium episodes."""
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

    desc = tasks.maps[1]
    one = fl.make_tasks([desc], gamma=0.9)
    J = float(tabular.returns(one, torch.zeros(16, 3, dtype=torch.float64))[0])
    env = FrozenLakeEnv(desc=list(desc), is_slippery=True)
    env.reset(seed=0)
    env.action_space.seed(0)
    rets = []
    for _ in range(4000):
        env.reset()
        ret, disc, done, t = 0.0, 1.0, False, 0
        while not done and t < 200:
            _, r, term, trunc, _ = env.step(env.action_space.sample())
            ret += disc * r
            disc *= 0.9
            done = term or trunc
            t += 1
        rets.append(ret)
    se = np.std(rets) / np.sqrt(len(rets))
    assert abs(np.mean(rets) - J) < 4 * se + 1e-3, (np.mean(rets), J, se)


def test_bellman_identities(tasks):
    theta = torch.as_tensor(np.random.default_rng(2).normal(size=(tasks.n, 16, 3)))
    pi = tabular.policy_probs(theta)
    ev = tabular.evaluate(tasks, pi)
    np.testing.assert_allclose((pi * ev["Q"]).sum(-1), ev["V"], atol=1e-12)
    np.testing.assert_allclose(ev["nu"].sum(-1), 1.0, atol=1e-12)
    # J = sum_s nu(s) r_pi(s) / (1 - gamma)
    r_pi = (pi * tasks.R).sum(-1)
    np.testing.assert_allclose((ev["nu"] * r_pi).sum(-1) / (1 - tasks.gamma), ev["J"], atol=1e-12)
    np.testing.assert_allclose(tabular.policy_logits(pi), theta, atol=1e-10)


def test_optimal_values_dominate_and_soft_optimum_converges(tasks):
    opt = tabular.optimal(tasks)
    greedy = torch.nn.functional.one_hot(opt["Q"].argmax(-1), 4).to(torch.float64)
    np.testing.assert_allclose(tabular.evaluate(tasks, greedy)["J"], opt["J"], atol=1e-9)
    rng = np.random.default_rng(3)
    for _ in range(5):
        J = tabular.returns(tasks, torch.as_tensor(rng.normal(0, 3, size=(tasks.n, 16, 3))))
        assert torch.all(J <= opt["J"] + 1e-12)
    gaps = [float((opt["J"] - tabular.returns(tasks, tabular.soft_optimal(tasks, T))).max())
            for T in (0.1, 0.005, 0.001)]
    assert gaps[0] > gaps[1] > gaps[2] >= 0 and gaps[2] < 1e-3


@pytest.mark.parametrize("kwargs,match", [
    (dict(goal_radius=7, n_holes=2), "goal_radius"), (dict(goal_radius=1, n_holes=-1), "n_holes")])
def test_bad_distribution_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fl.sample_maps(np.random.default_rng(0), 1, **kwargs)
