"""HalfCheetah simulations stepped in a batch on bare MuJoCo, for the authors' locomotion protocol.

Gymnasium's ``HalfCheetah-v5`` step is ``data.ctrl[:] = a``, ``mj_step(model, data, nstep=5)``,
``x_velocity = (qpos[0]_after - qpos[0]_before) / dt`` and ``obs = (qpos[1:], qvel)``; its reset
draws ``qpos = init_qpos + U(-0.1, 0.1)`` and ``qvel = init_qvel + 0.1 N(0, 1)``. The v4 env of
the authors' code has the same model, frame skip and reset noise. :class:`HalfCheetahBatch` does
exactly these steps on ``n`` ``MjData`` of one ``MjModel`` (Gymnasium's own, so the physics is
the same object), without the wrapper layers, so a sampler's time is the physics' time
(``benchmarks/bench_sampler.py`` prints both). The reset draws come from the caller's
generator, not Gymnasium's seeding; ``tests/test_mujoco_batch.py`` checks the steps against
Gymnasium's env from the same states.

The velocity and direction rewards are the caller's (:mod:`lib.bomrl.authors_locomotion`).
HalfCheetah never terminates, so every trajectory has the full horizon.
"""
from __future__ import annotations

import functools
import threading

import gymnasium as gym
import mujoco
import numpy as np

GYM_ID = "HalfCheetah-v5"


@functools.lru_cache(maxsize=1)
def _model():
    """Gymnasium's HalfCheetah model and its constants, built once per process."""
    env = gym.make(GYM_ID).unwrapped
    consts = dict(model=env.model, frame_skip=int(env.frame_skip), dt=float(env.dt),
                  init_qpos=env.init_qpos.copy(), init_qvel=env.init_qvel.copy(),
                  noise=float(env._reset_noise_scale), obs_dim=int(env.observation_space.shape[0]),
                  act_dim=int(env.action_space.shape[0]))
    return consts


def dims() -> tuple[int, int]:
    """(obs_dim, act_dim) of HalfCheetah: (17, 6)."""
    c = _model()
    return c["obs_dim"], c["act_dim"]


_POOL = threading.local()


def _datas(model, n: int) -> list:
    """``n`` MjData of ``model``, kept per thread and reused (creating one costs ~0.4 ms; reuse is
    exact because :meth:`HalfCheetahBatch.set_state` resets the whole data first).
    Per thread: two samplers in one process must not step the same data."""
    pool = _POOL.__dict__.setdefault("datas", [])
    while len(pool) < n:
        pool.append(mujoco.MjData(model))
    return pool[:n]


class HalfCheetahBatch:
    """``n`` HalfCheetah simulations; :meth:`step` advances all of them by one env step.

    Attributes:
        n: number of simulations. dt: seconds per env step (0.05).
    """

    def __init__(self, n: int):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n!r}")
        c = _model()
        self.model, self.frame_skip, self.dt = c["model"], c["frame_skip"], c["dt"]
        self._init_qpos, self._init_qvel, self._noise = c["init_qpos"], c["init_qvel"], c["noise"]
        self.n = int(n)
        self.datas = _datas(self.model, self.n)
        self._obs = np.empty((self.n, c["obs_dim"]))

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Set every simulation's (nq,) / (nv,) state (rows of (n, nq), (n, nv)); returns obs (n, 17)."""
        for d, p, v in zip(self.datas, qpos, qvel):
            mujoco.mj_resetData(self.model, d)  # a reused MjData keeps no trace of its last episode
            d.qpos[:], d.qvel[:] = p, v
            mujoco.mj_forward(self.model, d)
        return self.observe()

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Gymnasium's reset distribution, drawn from ``rng``; returns obs (n, 17)."""
        nq, nv = self.model.nq, self.model.nv
        qpos = self._init_qpos + rng.uniform(-self._noise, self._noise, size=(self.n, nq))
        qvel = self._init_qvel + self._noise * rng.standard_normal((self.n, nv))
        return self.set_state(qpos, qvel)

    def observe(self) -> np.ndarray:
        """(n, 17): ``qpos[1:]`` and ``qvel`` of each simulation (a new array)."""
        nq = self.model.nq - 1
        for i, d in enumerate(self.datas):
            self._obs[i, :nq], self._obs[i, nq:] = d.qpos[1:], d.qvel
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply (n, 6) actions for one env step (``frame_skip`` physics steps).

        Returns:
            ``(obs (n, 17), x_velocity (n,))``, the velocity in m/s as Gymnasium reports it.
        """
        vel = np.empty(self.n)
        m, k, obs, nq = self.model, self.frame_skip, self._obs, self.model.nq - 1
        for i, d in enumerate(self.datas):
            x0 = d.qpos[0]
            d.ctrl[:] = actions[i]
            mujoco.mj_step(m, d, nstep=k)
            vel[i] = (d.qpos[0] - x0) / self.dt
            obs[i, :nq], obs[i, nq:] = d.qpos[1:], d.qvel
        return obs.copy(), vel
