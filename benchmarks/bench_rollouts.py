"""Environment steps per second: our batched path vs Gymnasium one env at a time vs the
bare dynamics (a script, not a timed test).

    .venv/bin/python benchmarks/bench_rollouts.py       # ~1 min; writes data/full/benchmarks/rollouts.csv

For Elikoeidis, Minigolf and Cartpole (default task, 64 trajectories, one process):

* ``batched``: ``lib.rollouts.rollout`` (buffers, masks, episode ends), random actions;
  counted in steps that happened (``batched_lockstep`` counts every trajectory at every
  loop iteration, ended ones included, which is what the bare loop counts);
* ``batched_mlp_2_32``: the same with an MLP(2,32) Gaussian policy choosing the actions;
* ``gymnasium``: the env's Gymnasium API, one env, ``step`` per call, random actions;
* ``bare_dynamics``: ``spec.step_batch`` called in a loop on 64 states with pre-drawn
  actions and nothing else - the practical limit of a numpy implementation.

Median of interleaved repeats.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from common import OUT, interleaved_times  # noqa: E402  (sets sys.path)

from lib.envs import ENV_NAMES, get_spec, make  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.policies import make_policy  # noqa: E402
from lib.rollouts import rollout  # noqa: E402

N = 64


def env_rates(name: str, repeats: int) -> dict:
    spec = get_spec(name)
    rng = np.random.default_rng(0)
    tasks = np.tile(spec.default_task, (N, 1))
    act_fn = lambda obs, r: r.normal(0.0, spec.std0, size=(len(obs), spec.act_dim))  # noqa: E731
    policy = make_policy(spec, (2, 32), seed=0)
    probe = rollout(spec, act_fn, tasks, np.random.default_rng(1))
    lockstep = N * int(probe.mask.any(axis=0).sum())
    steps = {"batched": int(probe.mask.sum()),
             "batched_mlp_2_32": int(rollout(spec, policy, tasks, np.random.default_rng(1)).mask.sum())}
    n_bare = spec.horizon
    actions = rng.normal(0.0, spec.std0, size=(n_bare, N, spec.act_dim))
    state0 = spec.reset_batch(rng, tasks)

    def bare():
        state = state0
        for t in range(n_bare):
            state, _, _ = spec.step_batch(state, actions[t], tasks, rng)

    env = make(name)
    n_single = 2000
    single_actions = rng.normal(0.0, spec.std0, size=(n_single, spec.act_dim))

    def gymnasium():
        env.reset(seed=1)
        for t in range(n_single):
            _, _, term, trunc, _ = env.step(single_actions[t])
            if term or trunc:
                env.reset()

    times = interleaved_times({
        "batched": lambda: rollout(spec, act_fn, tasks, np.random.default_rng(1)),
        "batched_mlp_2_32": lambda: rollout(spec, policy, tasks, np.random.default_rng(1)),
        "gymnasium": gymnasium, "bare_dynamics": bare}, repeats)
    rates = {k: steps[k] / times[k] for k in steps}
    rates["batched_lockstep"] = lockstep / times["batched"]
    rates["gymnasium"] = n_single / times["gymnasium"]
    rates["bare_dynamics"] = n_bare * N / times["bare_dynamics"]
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in ENV_NAMES:
        rates = env_rates(name, args.repeats)
        rows.append(dict(env=name, **{f"{k}_steps_per_s": v for k, v in rates.items()},
                         batched_over_gymnasium=rates["batched"] / rates["gymnasium"],
                         lockstep_over_bare=rates["batched_lockstep"] / rates["bare_dynamics"]))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200):
        print(table.round(2).to_string(index=False))
    save_table(table, OUT / "rollouts.csv", params=dict(seed=0, n_trajectories=N, repeats=args.repeats, threads=1))


if __name__ == "__main__":
    main()
