"""Environments: Gymnasium API, batched path == single path, physics against closed forms."""
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from lib.envs import ENV_NAMES, cartpole, elikoeidis, get_spec, make, minigolf


@pytest.mark.parametrize("name", ENV_NAMES)
def test_gymnasium_api(name):
    env = make(name)
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert env.observation_space.shape == obs.shape


@pytest.mark.parametrize("name", ENV_NAMES)
def test_single_env_matches_batched_path(name):
    """The Gymnasium env and a batch-of-one rollout give the same trajectory for a seed."""
    spec = get_spec(name)
    actions = np.random.default_rng(0).normal(0.8, 1.0, size=(spec.horizon, spec.act_dim))
    env = make(name, spec.default_task)
    obs, _ = env.reset(seed=11)
    single = [obs]
    rewards = []
    for a in actions:
        obs, r, term, trunc, _ = env.step(a)
        single.append(obs)
        rewards.append(r)
        if term or trunc:
            break
    rng = np.random.default_rng(11)  # Gymnasium seeds np_random as default_rng(seed)
    tasks = spec.tasks_array(spec.default_task)
    state = spec.reset_batch(rng, tasks)
    batched, brewards = [spec.observe(state)[0]], []
    for a in actions[: len(rewards)]:
        state, r, term = spec.step_batch(state, a[None], tasks, rng)
        batched.append(spec.observe(state)[0])
        brewards.append(r[0])
    np.testing.assert_array_equal(np.array(single), np.array(batched))
    np.testing.assert_array_equal(rewards, brewards)


@pytest.mark.parametrize("name", ENV_NAMES)
def test_sample_tasks_shape_range_and_seed(name):
    spec = get_spec(name)
    a = spec.sample_tasks(np.random.default_rng(5), 200)
    b = spec.sample_tasks(np.random.default_rng(5), 200)
    assert a.shape == (200, len(spec.task_names))
    np.testing.assert_array_equal(a, b)
    module = {"elikoeidis": elikoeidis, "minigolf": minigolf, "cartpole": cartpole}[name]
    if hasattr(module, "TASK_LOW"):
        assert (a >= module.TASK_LOW).all() and (a <= module.TASK_HIGH).all()
        assert (a.std(axis=0) > 0).all()  # every listed parameter really varies


def test_unknown_env_name_is_named_in_error():
    with pytest.raises(ValueError, match="'pong'"):
        get_spec("pong")
    with pytest.raises(ValueError, match="task has 2 parameters"):
        make("minigolf", task=(1.0, 0.1, 0.1))


# --- Elikoeidis ----------------------------------------------------------------------------

def test_elikoeidis_negative_actions_are_finite_and_odd():
    a = np.linspace(-12, 12, 2001)
    task = np.array(elikoeidis.DEFAULT_TASK)
    m = elikoeidis.mean_reward(a, task)
    assert np.isfinite(m).all()
    np.testing.assert_allclose(elikoeidis.mean_reward(-a, task), -m, atol=1e-12)
    # for c2 = 3, |a|^(4/3) is the real value (cube root, then fourth power)
    neg = a[a < 0]
    np.testing.assert_allclose(np.abs(neg) ** (4 / 3), np.cbrt(neg) ** 4, rtol=1e-12)


def test_elikoeidis_local_maxima_and_reward_noise():
    task = np.array(elikoeidis.DEFAULT_TASK)
    a = np.linspace(0, 3, 30001)
    m = elikoeidis.mean_reward(a, task)
    i = np.argmax(m[a < 3])
    assert abs(a[i] - 1.82) < 0.02 and abs(m[i] - 1.63) < 0.01  # first local maximum
    rng = np.random.default_rng(0)
    n = 20000
    _, r, _ = elikoeidis.step_batch(np.ones((n, 1)), np.full((n, 1), 2.0), np.tile(task, (n, 1)), rng)
    assert abs(r.mean() - elikoeidis.mean_reward(2.0, task)) < 4 / np.sqrt(n)
    assert abs(r.var() - task[3]) < 0.05


# --- Minigolf ------------------------------------------------------------------------------

def test_minigolf_stroke_distance_and_outcomes_without_noise(monkeypatch):
    monkeypatch.setattr(minigolf, "draw_noise", lambda rng, n: np.zeros(n))
    task = np.array([[1.0, 0.131]])
    decel = 5 / 7 * 0.131 * 9.81
    x = np.array([[10.0]])
    v_min, v_max = minigolf.speed_window(x[:, 0], task[:, 1])
    # short: travels u^2 / (2 d), reward -1, continues
    nxt, r, term = minigolf.step_batch(x, np.array([[3.0]]), task, None)
    assert np.isclose(nxt[0, 0], 10 - 9 / (2 * decel)) and r[0] == -1 and not term[0]
    # holed: a speed inside [v_min, v_max]
    nxt, r, term = minigolf.step_batch(x, np.array([[(v_min[0] + v_max[0]) / 2]]), task, None)
    assert r[0] == 0 and term[0] and nxt[0, 0] <= 0
    # overshoot: from x = 2 m, v_max = 3.3 m/s < 5 (from 10 m, v_max = 5.07 is out of reach)
    near = np.array([[2.0]])
    _, v_max_near = minigolf.speed_window(near[:, 0], task[:, 1])
    assert v_max[0] > 5 > v_max_near[0]
    nxt, r, term = minigolf.step_batch(near, np.array([[v_max_near[0] + 0.1]]), task, None)
    assert r[0] == -100 and term[0]
    # actions are clipped to [0, 5]: beyond 5 behaves like 5, below 0 like 0
    a, _, _ = minigolf.step_batch(x, np.array([[9.0]]), task, None)
    b, _, _ = minigolf.step_batch(x, np.array([[5.0]]), task, None)
    assert a[0, 0] == b[0, 0]
    c, rc, _ = minigolf.step_batch(x, np.array([[-3.0]]), task, None)
    assert c[0, 0] == 10.0 and rc[0] == -1
    # the longest one-shot putt: u = 5 l must reach v_min(x), so x <= 25 / (2 d)
    assert np.isclose(25 / (2 * decel), 13.6, atol=0.05)


def test_minigolf_batched_rows_follow_the_physics():
    """Every row of a large noisy batch is a valid stroke: implied |eps| <= 1, consistent reward."""
    rng = np.random.default_rng(1)
    n = 5000
    tasks = minigolf.sample_tasks(rng, n)
    x = rng.uniform(0.5, 20, size=(n, 1))
    a = rng.uniform(0.1, 5, size=(n, 1))
    nxt, r, term = minigolf.step_batch(x, a, tasks, rng)
    decel = 5 / 7 * tasks[:, 1] * 9.81
    u = np.sqrt(2 * decel * (x[:, 0] - nxt[:, 0]))
    eps = u / (a[:, 0] * tasks[:, 0]) - 1
    assert np.abs(eps).max() <= 1 + 1e-9
    assert abs(eps.std() - 0.3 * 0.93) < 0.02  # std of N(0, .3^2) truncated at +-1/.3 sd ~ 0.28
    v_min, v_max = minigolf.speed_window(x[:, 0], tasks[:, 1])
    expected = np.where(u < v_min, -1.0, np.where(u > v_max, -100.0, 0.0))
    np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(term, u >= v_min)


# --- Cartpole ------------------------------------------------------------------------------

def test_cartpole_momentum_balance():
    """M x_acc + m_p l (theta_acc cos - theta_dot^2 sin) = F: Newton's law for the whole system."""
    rng = np.random.default_rng(2)
    n = 1000
    tasks = cartpole.sample_tasks(rng, n)
    state = rng.uniform(-1, 1, size=(n, 4))
    force = rng.uniform(-30, 30, size=n)
    x_acc, th_acc = cartpole.accelerations(state, force, tasks)
    m_c, m_p, length = tasks.T
    theta, theta_dot = state[:, 2], state[:, 3]
    lhs = (m_c + m_p) * x_acc + m_p * length * (th_acc * np.cos(theta) - theta_dot**2 * np.sin(theta))
    np.testing.assert_allclose(lhs, force, atol=1e-10)


def test_cartpole_equilibrium_symmetry_and_batch_rows():
    rng = np.random.default_rng(3)
    tasks = cartpole.sample_tasks(rng, 50)
    zero = np.zeros((50, 4))
    nxt, r, term = cartpole.step_batch(zero, np.zeros((50, 1)), tasks)
    np.testing.assert_array_equal(nxt, zero)  # upright at rest stays there
    assert (r == 1).all() and not term.any()
    state = rng.uniform(-0.1, 0.1, size=(50, 4))
    act = rng.uniform(-2, 2, size=(50, 1))
    a, _, _ = cartpole.step_batch(state, act, tasks)
    b, _, _ = cartpole.step_batch(-state, -act, tasks)
    np.testing.assert_allclose(a, -b, atol=1e-15)  # mirror symmetry
    rows = np.concatenate([cartpole.step_batch(state[i:i + 1], act[i:i + 1], tasks[i:i + 1])[0]
                           for i in range(50)])
    np.testing.assert_array_equal(a, rows)
    # heavier, longer poles fall more slowly: theta_acc decreases with l at fixed tilt
    tilt = np.array([[0, 0, 0.1, 0]] * 2)
    _, th = cartpole.accelerations(tilt, np.zeros(2), np.array([[1, 0.1, 0.4], [1, 0.1, 0.6]]))
    assert th[0] > th[1] > 0


def test_cartpole_reward_counts_the_falling_step():
    spec = get_spec("cartpole")
    state = np.array([[0, 0, cartpole.THETA_LIMIT - 1e-4, 1.0]])
    nxt, r, term = spec.step_batch(state, np.zeros((1, 1)), spec.tasks_array(spec.default_task))
    assert term[0] and r[0] == 1.0
