"""Locomotion task families (lib.envs.locomotion): reward terms, tasks, batched rollouts."""
import numpy as np
import pytest

from lib.envs import locomotion as lm


def random_actions(dim, seed=0):
    rng = np.random.default_rng(seed)
    return lambda obs, rows: rng.uniform(-1, 1, (len(rows), dim))


@pytest.mark.parametrize("name", list(lm.FAMILIES))
def test_reward_is_the_family_formula(name):
    fam = lm.FAMILIES[name]
    goal = 0.7 if fam.kind == "vel" else -1.0
    env = lm.LocomotionTask(name, goal, horizon=20)
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.uniform(-1, 1, env.action_space.shape)
        _, r, term, trunc, info = env.step(a)
        v = info["x_velocity"]
        task_term = -abs(v - goal) if fam.kind == "vel" else goal * v
        assert info["reward_task"] == pytest.approx(task_term)
        assert info["reward_ctrl"] == pytest.approx(-fam.ctrl_cost * np.sum(a ** 2))
        expected = task_term - fam.ctrl_cost * np.sum(a ** 2)
        if fam.ant:
            assert info["reward_survive"] == pytest.approx(0.05)  # alive: z in [0.2, 1.0]
            assert -0.5e-3 * 84 <= info["reward_contact"] <= 0.0  # 0.5e-3 sum clip(cfrc_ext)^2
            expected += info["reward_contact"] + 0.05
        assert r == pytest.approx(expected)
        if term or trunc:
            break
    env.close()


def test_tasks_follow_the_families_and_bad_names_fail():
    rng = np.random.default_rng(0)
    assert np.all((lm.sample_tasks("halfcheetah-vel", rng, 500) >= 0) & (lm.sample_tasks("halfcheetah-vel", rng, 500) <= 2))
    assert lm.sample_tasks("ant-vel", rng, 500).max() > 2.0
    d = lm.sample_tasks("ant-dir", rng, 500)
    assert set(np.unique(d)) == {-1.0, 1.0} and 0.4 < (d > 0).mean() < 0.6
    with pytest.raises(ValueError, match="'hopper-vel'"):
        lm.sample_tasks("hopper-vel", rng, 1)


def test_batched_rollout_equals_one_env_at_a_time_and_is_seeded():
    tasks = [0.5, 1.5, 1.0]
    act = lambda obs, rows: np.tanh(obs[:, :6] + 0.1 * rows[:, None])  # deterministic policy
    batch = lm.rollout("halfcheetah-vel", tasks, act, seed=3, horizon=15)
    for i, t in enumerate(tasks):
        one = lm.rollout("halfcheetah-vel", [t], lambda o, rows: act(o, rows + i), seed=3 + i, horizon=15)
        np.testing.assert_allclose(batch.obs[i], one.obs[0])
        np.testing.assert_allclose(batch.rew[i], one.rew[0])
    again = lm.rollout("halfcheetah-vel", tasks, act, seed=3, horizon=15)
    np.testing.assert_array_equal(batch.rew, again.rew)
    assert batch.obs.shape == (3, 15, 17) and np.all(batch.mask == 1)


def test_direction_flips_the_task_term():
    """Same seed and actions: the dynamics do not depend on the task, only the reward does."""
    act = random_actions(6)
    fwd = lm.rollout("halfcheetah-dir", [1.0], act, seed=0, horizon=10)
    bwd = lm.rollout("halfcheetah-dir", [-1.0], random_actions(6), seed=0, horizon=10)
    np.testing.assert_allclose(fwd.obs, bwd.obs)
    ctrl = -0.05 * (fwd.act ** 2).sum(-1)
    np.testing.assert_allclose(fwd.rew - ctrl, -(bwd.rew - ctrl))


def test_reused_environments_give_the_same_episodes():
    """rollout() keeps its MuJoCo envs per process; a used env must behave like a fresh one."""
    def act(obs, rows):
        return np.tanh(obs[:, :6] * 0.3)

    first = lm.rollout("halfcheetah-vel", [0.5, 1.5], act, seed=7, horizon=15)
    lm.rollout("halfcheetah-dir", [1.0, -1.0, 1.0], act, seed=3, horizon=15)  # other family
    lm.rollout("halfcheetah-vel", [2.0, 0.1, 1.0], act, seed=9, horizon=15)  # same pool, other tasks
    again = lm.rollout("halfcheetah-vel", [0.5, 1.5], act, seed=7, horizon=15)
    np.testing.assert_array_equal(first.obs, again.obs)
    np.testing.assert_array_equal(first.rew, again.rew)
