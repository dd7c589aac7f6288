"""Parallel efficiency of notebook 04's work on 1 and 2 workers (a script; run it on an otherwise idle machine).

    .venv/bin/python benchmarks/bench_worker_scaling.py           # ~2 min
    .venv/bin/python benchmarks/bench_worker_scaling.py --n 32    # more trajectories

``--n`` Cartpole collection trajectories (full-profile settings, meta-dataset 0, random architectures)
go through the study's own :func:`lib.parallel.map_resumable` (joblib, a fresh temporary cache each
time) on 1 worker and then on 2, ``--repeats`` times alternating which goes first. Wall time is
what a notebook waits; the CPU time of each trajectory, measured in its worker, says how much of a
slowdown is contention for the cores rather than work. The tables of the two runs are checked
equal. Efficiency = wall(1) / (2 x wall(2)); below 1 where the two workers slow each other (shared
caches, memory bandwidth) or where other work took a core.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lib.numerics import pin  # noqa: E402

pin()

import pandas as pd  # noqa: E402
from common import OUT, collection_kwargs  # noqa: E402

from lib.io import save_table  # noqa: E402
from lib.parallel import map_resumable  # noqa: E402
from lib.profiles import resolve  # noqa: E402
from lib.trust_region_meta.metadataset import collect_trajectory  # noqa: E402


def timed_collect(**kwargs) -> tuple[float, pd.DataFrame]:
    """One collection trajectory and the CPU seconds its worker spent on it."""
    start = time.process_time()
    table = collect_trajectory(**kwargs)
    return time.process_time() - start, table


def run(n_workers: int, jobs: list[dict]) -> tuple[float, float, pd.DataFrame]:
    """Wall seconds of the jobs on ``n_workers``, the CPU seconds of all jobs, and their stacked tables."""
    with tempfile.TemporaryDirectory() as cache:
        wall = time.perf_counter()
        parts = map_resumable(timed_collect, jobs, cache, n_workers=n_workers)
        wall = time.perf_counter() - wall
    return wall, sum(cpu for cpu, _ in parts), pd.concat([t for _, t in parts], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16, help="Cartpole collection trajectories")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cfg = resolve("meta", "full")
    env = "cartpole"
    kw = collection_kwargs(cfg, env)
    jobs = [dict(label=f"scaling-{i}", kwargs=dict(kw, index=i)) for i in range(args.n)]
    run(2, jobs[:2])  # warm-up: imports in the workers
    rows, reference = [], None
    for rep in range(args.repeats):
        for workers in ((1, 2) if rep % 2 == 0 else (2, 1)):
            wall, cpu, table = run(workers, jobs)
            if reference is None:
                reference = table
            pd.testing.assert_frame_equal(table, reference, check_exact=True)
            rows.append(dict(rep=rep, workers=workers, trajectories=args.n, wall_s=wall, cpu_s=cpu))
    per = pd.DataFrame(rows).groupby("workers").agg(trajectories=("trajectories", "first"), wall_s=("wall_s", "median"),
                                                    cpu_s=("cpu_s", "median")).reset_index()
    per["cpu_s_per_trajectory"] = per.cpu_s / per.trajectories
    per["efficiency"] = per.wall_s.iloc[0] / (per.workers * per.wall_s)
    print(per.round(3).to_string(index=False))
    save_table(per, OUT / "worker_scaling.csv",
               params=dict(seed=cfg.seed, env=env, n=args.n, repeats=args.repeats, backend="joblib",
                           cpu_count=os.cpu_count(), note="run on an otherwise idle machine; median over repeats"))


if __name__ == "__main__":
    main()
