"""What the Fisher on a subsample of the states would buy: Figure 3's costliest runs (a script).

    .venv/bin/python benchmarks/bench_fisher_subsample.py      # ~4 min, one core

The full paper-1 profile spends most of its time in Figure 3's Cartpole MLP(3,64) Fixed-KL
runs (45 TRPO updates of 64 trajectories), and most of a run in the Fisher-vector products
of the conjugate gradient. The study computes them on every state of the batch, like paper
1's TRPO (MushroomRL). TRPO's author (Schulman's thesis, 2016) computes them on about 10%
of the states. This script runs the same learning runs both ways - ``lib.trpo``'s
Fisher operator given every state, or every ``--every``-th state (the line search still
checks KL and surrogate on the whole batch) - and reports wall time per run, final return
(mean of the last 3 steps) and AUC (mean return over steps) per variant. It measures an
option the study does not use; the notebooks keep the full batch.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from common import OUT  # noqa: E402  (sets sys.path)

import lib.trpo as trpo  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.trust_region_meta.fixed_kl import _one_run  # noqa: E402

FULL_BATCH = trpo.fisher_operator


def subsampled(every: int):
    """``lib.trpo.fisher_operator`` on every ``every``-th state of the batch."""
    def operator(policy, obs, damping=0.0, dtype=trpo.COMPUTE_DTYPE, layers=None):
        return FULL_BATCH(policy, obs[::every], damping, dtype)
    return operator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--kl", type=float, default=0.05, help="the best fixed lambda by AUC in Figure 3")
    args = parser.parse_args()
    torch.set_num_threads(1)
    variants = {"every state": FULL_BATCH, f"every {args.every}th state": subsampled(args.every)}
    rows = []
    for run in range(args.runs):
        for name, operator in variants.items():  # interleaved, so load changes hit both alike
            trpo.fisher_operator = operator
            start = time.perf_counter()
            df = _one_run("cartpole", "TRPO", args.kl, run, (3, 64), 45, 64, 0)
            rows.append(dict(fisher_states=name, run=run, seconds=time.perf_counter() - start,
                             final=float(df["ret"].iloc[-3:].mean()), auc=float(df["ret"].mean())))
    trpo.fisher_operator = FULL_BATCH
    runs = pd.DataFrame(rows)
    table = runs.groupby("fisher_states", sort=False).agg(
        runs=("run", "size"), seconds_per_run=("seconds", "median"), final=("final", "mean"),
        final_std=("final", "std"), auc=("auc", "mean"), auc_std=("auc", "std")).reset_index()
    table["time_ratio_to_full_batch"] = table["seconds_per_run"] / table["seconds_per_run"].iloc[0]
    print(table.round(2).to_string(index=False))
    save_table(table, OUT / "fisher_subsample.csv",
               params=dict(seed=0, env="cartpole", arch=[3, 64], kl_bound=args.kl, n_updates=45, n_traj=64,
                           every=args.every, runs=args.runs, algo="TRPO", torch_threads=1,
                           torch=torch.__version__, numpy=np.__version__))


if __name__ == "__main__":
    main()
