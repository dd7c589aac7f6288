"""The batched HalfCheetah and Ant against Gymnasium's HalfCheetah-v5 and Ant-v5 from the same states."""
import gymnasium as gym
import numpy as np
import pytest

from lib.envs.mujoco_batch import AntBatch, HalfCheetahBatch, dims


@pytest.mark.parametrize("batch_cls, gym_id, kwargs, n, steps, seed", [
    (HalfCheetahBatch, "HalfCheetah-v5", {}, 3, 20, 0),
    # Ant: 27-d observation (qpos[2:], qvel), the torso's x velocity as Gymnasium reports it
    (AntBatch, "Ant-v5", {"include_cfrc_ext_in_observation": False}, 2, 30, 3),
], ids=["halfcheetah", "ant"])
def test_steps_equal_gymnasium_from_the_same_state(batch_cls, gym_id, kwargs, n, steps, seed):
    rng = np.random.default_rng(seed)
    batch = batch_cls(n)
    obs = batch.reset(rng)
    envs = [gym.make(gym_id, **kwargs).unwrapped for _ in range(n)]
    for env, d in zip(envs, batch.datas):
        env.reset(seed=0)
        env.set_state(d.qpos.copy(), d.qvel.copy())
    np.testing.assert_array_equal(obs, np.stack([env._get_obs() for env in envs]))
    for _ in range(steps):
        a = rng.uniform(-1, 1, size=(n, batch.model.nu))
        obs, vel = batch.step(a)
        ref = [env.step(a[i]) for i, env in enumerate(envs)]
        np.testing.assert_array_equal(obs, np.stack([r[0] for r in ref]))
        np.testing.assert_array_equal(vel, [r[4]["x_velocity"] for r in ref])


def test_dims_of_each_robot():
    assert dims() == dims("halfcheetah") == (17, 6) and dims("ant") == (27, 8)
    assert AntBatch(2).reset(np.random.default_rng(0)).shape == (2, 27)


def test_reset_distribution_is_gymnasiums():
    """Positions within +-0.1 of the initial pose, velocities with std 0.1."""
    batch = HalfCheetahBatch(400)
    obs = batch.reset(np.random.default_rng(1))
    assert obs.shape == (400, dims()[0])
    qpos = np.stack([d.qpos for d in batch.datas])
    qvel = np.stack([d.qvel for d in batch.datas])
    assert np.abs(qpos - batch._init_qpos).max() <= 0.1
    assert abs(qvel.std() - 0.1) < 0.01 and abs(qvel.mean()) < 0.01


def test_reused_simulations_keep_no_trace_of_their_last_episode():
    def run(seed):
        sim = HalfCheetahBatch(4)
        sim.reset(np.random.default_rng(seed))
        acts = np.random.default_rng(9).uniform(-1, 1, size=(15, 4, 6))
        return np.stack([sim.step(a)[0] for a in acts])

    first = run(0)
    run(1)  # other states through the same pooled MjData
    np.testing.assert_array_equal(run(0), first)
