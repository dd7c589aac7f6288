"""Benchmarks of the walking skeleton (a script, not a timed test).

    .venv/bin/python benchmarks/bench_core.py            # prints a table, writes data/full/benchmarks/core.csv

1. Environment steps per second of the batched path (64 trajectories in lock-step, the
   policy's forward pass included) and of the Gymnasium path stepped one env at a time.
2. Wall time of one xTRPO update for MLP(2,32) on a batch of 64 Cartpole trajectories.

Medians of repeats, one process, torch with 1 thread.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lib.envs import ENV_NAMES, get_spec, make  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.paths import DATA  # noqa: E402
from lib.policies import make_policy  # noqa: E402
from lib.rollouts import advantages, rollout  # noqa: E402
from lib.trpo import trpo_step  # noqa: E402


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    rng = np.random.default_rng(0)
    for name in ENV_NAMES:
        spec = get_spec(name)
        tasks = spec.sample_tasks(rng, 64)
        # random actions: episodes end as a random policy's would
        act_fn = lambda obs, r, s=spec: r.normal(0.5, 1.0, size=(len(obs), s.act_dim))  # noqa: E731
        batch = rollout(spec, act_fn, tasks, rng)
        steps = int(batch.mask.sum())
        t_env = median_time(lambda: rollout(spec, act_fn, tasks, rng), 20)
        policy = make_policy(spec, (2, 32), seed=0)
        t_pol = median_time(lambda: rollout(spec, policy, tasks, rng), 20)
        pol_steps = int(rollout(spec, policy, tasks, rng).mask.sum())
        env = make(name)
        env.reset(seed=0)
        n_single = 2000

        def single():
            env.reset(seed=1)
            for _ in range(n_single):
                _, _, term, trunc, _ = env.step(np.array([0.5]))
                if term or trunc:
                    env.reset()

        t_single = median_time(single, 5)
        rows.append(dict(benchmark="env steps/s", env=name,
                         batched_random_actions=steps / t_env,
                         batched_mlp_2_32_policy=pol_steps / t_pol,
                         gymnasium_one_env=n_single / t_single))
    spec = get_spec("cartpole")
    policy = make_policy(spec, (2, 32), seed=0)
    batch = rollout(spec, policy, spec.sample_tasks(rng, 64), rng)
    obs, act, adv = batch.flat("obs"), batch.flat("act"), advantages(batch, spec)
    state = {k: v.clone() for k, v in policy.state_dict().items()}

    def one_update():
        policy.load_state_dict(state)
        trpo_step(policy, obs, act, adv, 0.01, require_improvement=False)

    t_update = median_time(one_update, 20)
    # the longest batch: 64 trajectories x 200 steps (a balancing policy); cost depends on size only
    big_obs = rng.normal(0, 0.05, size=(64 * 200, 4))
    big_act = rng.normal(size=(64 * 200, 1))
    big_adv = rng.normal(size=64 * 200)

    def big_update():
        policy.load_state_dict(state)
        trpo_step(policy, big_obs, big_act, big_adv, 0.01, require_improvement=False)

    t_big = median_time(big_update, 10)
    table = pd.DataFrame(rows)
    print(table.round(0).to_string(index=False))
    print(f"\nxTRPO update, MLP(2,32), 64 Cartpole trajectories ({len(obs)} steps): "
          f"{1000 * t_update:.1f} ms (median of 20); at 12800 steps (64 x 200): {1000 * t_big:.1f} ms")
    table["update_ms_mlp_2_32_cartpole_64traj"] = 1000 * t_update
    table["update_batch_steps"] = len(obs)
    table["update_ms_mlp_2_32_12800_steps"] = 1000 * t_big
    save_table(table, DATA / "full" / "benchmarks" / "core.csv", params={"seed": 0, "threads": 1})


if __name__ == "__main__":
    main()
