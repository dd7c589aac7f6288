"""Rewards-to-go, baseline residuals and advantages against closed forms, with masks."""
import numpy as np
import pytest

from lib.envs import get_spec
from lib.policies import make_policy
from lib.rollouts import (
    advantages,
    baseline_features,
    baseline_residuals,
    rewards_to_go,
    rollout,
)
from lib.seeding import rng


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_rewards_to_go_of_unit_rewards_is_the_geometric_sum_and_zero_after_the_end(gamma):
    lengths = np.array([5, 3, 1, 0])
    t_len = 5
    mask = np.arange(t_len)[None, :] < lengths[:, None]
    rew = mask.astype(float)  # r = 1 on real steps, 0 on padding
    g = rewards_to_go(rew, mask, gamma)
    for i, n in enumerate(lengths):
        left = n - np.arange(n)  # steps left, t = 0..n-1
        want = left if gamma == 1 else (1 - gamma ** left) / (1 - gamma)
        np.testing.assert_allclose(g[i, :n], want, rtol=1e-12)
        assert (g[i, n:] == 0).all()


def test_rewards_to_go_ignore_rewards_on_padding():
    mask = np.array([[True, True, False, False]])
    clean = rewards_to_go(np.array([[1.0, 2.0, 0.0, 0.0]]), mask, 0.5)
    dirty = rewards_to_go(np.array([[1.0, 2.0, 7.0, 9.0]]), mask, 0.5)
    np.testing.assert_array_equal(clean, dirty)
    np.testing.assert_allclose(clean[0, :2], [1.0 + 0.5 * 2.0, 2.0])


def test_baseline_residuals_are_the_least_squares_residuals_normalised():
    gen = np.random.default_rng(0)
    feats = np.hstack([gen.normal(size=(200, 3)), np.ones((200, 1))])
    target = feats @ np.array([1.0, -2.0, 0.5, 3.0]) + gen.normal(size=200)
    adv = baseline_residuals(feats, target, ridge=1e-10)
    resid = target - feats @ np.linalg.lstsq(feats, target, rcond=None)[0]
    np.testing.assert_allclose(adv, (resid - resid.mean()) / resid.std(), atol=1e-6)
    assert abs(adv.mean()) < 1e-12 and abs(adv.std() - 1) < 1e-6
    np.testing.assert_allclose(feats.T @ adv, 0, atol=1e-6)  # orthogonal to every feature


def test_advantages_cover_exactly_the_real_steps_of_a_masked_batch():
    spec = get_spec("cartpole")
    policy = make_policy(spec, (0, 0), seed=1)
    batch = rollout(spec, policy, np.tile(spec.default_task, (6, 1)), rng(0, "adv-test"))
    assert not batch.mask.all(), "cartpole episodes of a fresh policy end early: padding exists"
    adv = advantages(batch, spec)
    assert adv.shape == (batch.mask.sum(),)
    g = rewards_to_go(batch.rew, batch.mask, spec.gamma)[batch.mask]
    feats = baseline_features(batch.obs * np.asarray(spec.obs_scale), spec.horizon)[batch.mask]
    np.testing.assert_allclose(adv, baseline_residuals(feats, g), rtol=1e-12)
