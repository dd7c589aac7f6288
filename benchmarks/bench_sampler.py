"""The authors'-protocol sampler against bare MuJoCo stepping, side by side in one run.

    python benchmarks/bench_sampler.py [--envs 200] [--steps 400] [--repeats 3]

Prints, for the same number of HalfCheetah simulations and env steps: (a) bare
``mj_step(nstep=5)`` over a list of MjData (the physics alone), (b) ``HalfCheetahBatch.step``
with random actions, (c) ``sampler.sample_filtered`` (filter, 2 x 128 policy, rewards,
returns). Interleaved repeats; the median of each. Issue 17's target: (c) / (a) <= 1.3.
"""
from __future__ import annotations

import argparse
import time

import mujoco
import numpy as np

from lib.bomrl import locomotion_protocol, sampled_adam
from lib.bomrl.sampler import ObsNorm, sample_filtered
from lib.envs.mujoco_batch import HalfCheetahBatch, dims


def bare(n: int, steps: int) -> float:
    sim = HalfCheetahBatch(n)
    sim.reset(np.random.default_rng(0))
    ctrl = np.random.default_rng(1).uniform(-1, 1, size=(steps, n, sim.model.nu))
    m, k = sim.model, sim.frame_skip
    t0 = time.perf_counter()
    for t in range(steps):
        for i, d in enumerate(sim.datas):
            d.ctrl[:] = ctrl[t, i]
            mujoco.mj_step(m, d, nstep=k)
    return time.perf_counter() - t0


def batch(n: int, steps: int) -> float:
    sim = HalfCheetahBatch(n)
    sim.reset(np.random.default_rng(0))
    ctrl = np.random.default_rng(1).uniform(-1, 1, size=(steps, n, sim.model.nu))
    t0 = time.perf_counter()
    for t in range(steps):
        sim.step(ctrl[t])
    return time.perf_counter() - t0


def filtered_sampler(n: int, steps: int) -> float:
    obs_dim, act_dim = dims()
    params = sampled_adam.init_policy(obs_dim, act_dim, seed=0)
    norm = ObsNorm.empty(obs_dim).update(np.random.default_rng(0).normal(size=(100, obs_dim)))
    proto = locomotion_protocol.locomotion("authors", horizon=steps // 2)  # with the tail: `steps` env steps per trajectory
    t0 = time.perf_counter()
    sample_filtered("halfcheetah-vel", params, np.linspace(0.1, 1.9, 10), n // 10, norm, seed=0, proto=proto)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--envs", type=int, default=200)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times = {"bare mj_step": [], "HalfCheetahBatch.step": [], "authors' sampler": []}
    for _ in range(args.repeats):
        times["bare mj_step"].append(bare(args.envs, args.steps))
        times["HalfCheetahBatch.step"].append(batch(args.envs, args.steps))
        times["authors' sampler"].append(filtered_sampler(args.envs, args.steps))
    ref = float(np.median(times["bare mj_step"]))
    total = args.envs * args.steps
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"{name:24s} {med:7.2f} s  {total / med:8.0f} env steps/s  ratio {med / ref:.2f}")


if __name__ == "__main__":
    main()
