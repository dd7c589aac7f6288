"""HalfCheetah and Ant simulations stepped in a batch on bare MuJoCo, for the authors' locomotion protocol.

Gymnasium's ``HalfCheetah-v5`` step is ``data.ctrl[:] = a``, ``mj_step(model, data, nstep=5)``,
``x_velocity = (qpos[0]_after - qpos[0]_before) / dt`` and ``obs = (qpos[1:], qvel)``; its reset
draws ``qpos = init_qpos + U(-0.1, 0.1)`` and ``qvel = init_qvel + 0.1 N(0, 1)``. Its ``Ant-v5``
(without contact forces in the observation, as Gym 0.26's ``Ant-v4`` of the authors' code: 27-d)
steps the same way, with ``x_velocity`` from the torso body's ``xpos`` (computed at the start of
the last physics step, as Gymnasium reads it) and ``obs = (qpos[2:], qvel)``; the same reset noise.
The v4 envs of the authors' code have the same models, frame skip and reset noise.
:class:`HalfCheetahBatch` and :class:`AntBatch` do exactly these steps on ``n`` ``MjData`` of one
``MjModel`` (Gymnasium's own, so the physics is the same object), without the wrapper layers, so a
sampler's time is the physics' time (``benchmarks/bench_sampler.py`` prints both). The reset draws
come from the caller's generator, not Gymnasium's seeding; ``tests/test_mujoco_batch.py`` checks
the steps against Gymnasium's envs from the same states.

The velocity and direction rewards are the caller's (:mod:`lib.bomrl.sampler`). Neither env ends
an episode here: HalfCheetah never terminates, and the authors' Ant loop ignores Gym's termination
(their ``break`` is commented out at HEAD), so every trajectory has the full horizon.
"""
from __future__ import annotations

import functools
import threading

import gymnasium as gym
import mujoco
import numpy as np

GYM_IDS = {"halfcheetah": ("HalfCheetah-v5", {}), "ant": ("Ant-v5", {"include_cfrc_ext_in_observation": False})}


@functools.lru_cache(maxsize=None)
def _model(robot: str = "halfcheetah"):
    """Gymnasium's model of ``robot`` and its constants, built once per process."""
    gym_id, kwargs = GYM_IDS[robot]
    env = gym.make(gym_id, **kwargs).unwrapped
    consts = dict(model=env.model, frame_skip=int(env.frame_skip), dt=float(env.dt),
                  init_qpos=env.init_qpos.copy(), init_qvel=env.init_qvel.copy(),
                  noise=float(env._reset_noise_scale), obs_dim=int(env.observation_space.shape[0]),
                  act_dim=int(env.action_space.shape[0]))
    return consts


def robot_of(family: str) -> str:
    """``"halfcheetah"`` or ``"ant"``: the robot of a task family such as ``ant-vel``."""
    robot = family.split("-")[0]
    if robot not in GYM_IDS:
        raise ValueError(f"unknown robot of family {family!r}; choose one of {', '.join(GYM_IDS)}")
    return robot


def dims(robot: str = "halfcheetah") -> tuple[int, int]:
    """(obs_dim, act_dim): HalfCheetah (17, 6), Ant (27, 8)."""
    c = _model(robot)
    return c["obs_dim"], c["act_dim"]


_POOL = threading.local()


def _datas(model, n: int) -> list:
    """``n`` MjData of ``model``, kept per thread and model and reused (creating one costs ~0.4 ms;
    reuse is exact because :meth:`MujocoBatch.set_state` resets the whole data first).
    Per thread: two samplers in one process must not step the same data."""
    pool = _POOL.__dict__.setdefault(id(model), [])
    while len(pool) < n:
        pool.append(mujoco.MjData(model))
    return pool[:n]


class MujocoBatch:
    """``n`` simulations of one robot; :meth:`step` advances all of them by one env step.

    Attributes:
        n: number of simulations. dt: seconds per env step (0.05). skip: leading ``qpos``
            entries left out of the observation (the x, or x and y, position).
    """

    robot = "halfcheetah"
    skip = 1

    def __init__(self, n: int):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n!r}")
        c = _model(self.robot)
        self.model, self.frame_skip, self.dt = c["model"], c["frame_skip"], c["dt"]
        self._init_qpos, self._init_qvel, self._noise = c["init_qpos"], c["init_qvel"], c["noise"]
        self.n = int(n)
        self.datas = _datas(self.model, self.n)
        self._obs = np.empty((self.n, c["obs_dim"]))

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """Set every simulation's (nq,) / (nv,) state (rows of (n, nq), (n, nv)); returns obs (n, obs_dim)."""
        for d, p, v in zip(self.datas, qpos, qvel):
            mujoco.mj_resetData(self.model, d)  # a reused MjData keeps no trace of its last episode
            d.qpos[:], d.qvel[:] = p, v
            mujoco.mj_forward(self.model, d)
        return self.observe()

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """Gymnasium's reset distribution, drawn from ``rng``; returns obs (n, obs_dim)."""
        nq, nv = self.model.nq, self.model.nv
        qpos = self._init_qpos + rng.uniform(-self._noise, self._noise, size=(self.n, nq))
        qvel = self._init_qvel + self._noise * rng.standard_normal((self.n, nv))
        return self.set_state(qpos, qvel)

    def observe(self) -> np.ndarray:
        """(n, obs_dim): ``qpos[skip:]`` and ``qvel`` of each simulation (a new array)."""
        nq = self.model.nq - self.skip
        for i, d in enumerate(self.datas):
            self._obs[i, :nq], self._obs[i, nq:] = d.qpos[self.skip:], d.qvel
        return self._obs.copy()

    def _x(self, d) -> float:
        """The x position the env's velocity differentiates."""
        return d.qpos[0]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply (n, act_dim) actions for one env step (``frame_skip`` physics steps).

        Returns:
            ``(obs (n, obs_dim), x_velocity (n,))``, the velocity in m/s as Gymnasium reports it.
        """
        vel = np.empty(self.n)
        m, k, obs, skip = self.model, self.frame_skip, self._obs, self.skip
        nq = m.nq - skip
        for i, d in enumerate(self.datas):
            x0 = self._x(d)
            d.ctrl[:] = actions[i]
            mujoco.mj_step(m, d, nstep=k)
            vel[i] = (self._x(d) - x0) / self.dt
            obs[i, :nq], obs[i, nq:] = d.qpos[skip:], d.qvel
        return obs.copy(), vel


class HalfCheetahBatch(MujocoBatch):
    """``n`` HalfCheetah simulations (obs 17-d, action 6-d)."""


class AntBatch(MujocoBatch):
    """``n`` Ant simulations (obs 27-d without contact forces, action 8-d); x velocity of the torso."""

    robot = "ant"
    skip = 2
    TORSO = 1  # Gymnasium's main body

    def _x(self, d) -> float:
        return d.xpos[self.TORSO, 0]


BATCHES = {"halfcheetah": HalfCheetahBatch, "ant": AntBatch}


def batch_for(family: str, n: int) -> MujocoBatch:
    """``n`` simulations of the robot of ``family`` (``halfcheetah-vel``, ``ant-dir``, ...)."""
    return BATCHES[robot_of(family)](n)
