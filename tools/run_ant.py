"""Ant on the authors' protocol at the paper's scale, on a cluster through Dask.

    python tools/run_ant.py --plan                         # the items and their cost from the benchmark
    python tools/run_ant.py --scheduler tcp://HOST:8786    # run (or resume) them on a running Dask scheduler
    python tools/run_ant.py --workers 2                    # or on this machine (weeks on 2 cores)

The config is notebook 13's full profile on ``ant-vel`` and ``ant-dir`` (their meta-batch: velocity
10 x 20 trajectories, direction 4 x 40, goals U[0, 3] and their fixed directions), every method of
the notebook plus the authors' MAML-TRPO, 2 seeds, 500 meta-iterations (theirs), meta-tests at
0, 40, 80, 120, 200, 300, 400, 500, and the authors' best-so-far selection over all iterations. One
item (family, method, seed) is one Dask task that checkpoints itself after every meta-iteration under
``data/full/13_ant/checkpoints``; on a shared filesystem a worker lost to a wall-time limit resumes
where it stopped on the next call.

On SLURM, ``docs/cluster.md`` (section 2) starts a scheduler whose workers are single-core jobs with
the study's environment and floating-point pins (28 items: 2 families x 7 methods x 2 seeds); pass its
address as ``--scheduler`` from the same checkout.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.numerics import pin  # noqa: E402

pin()
from lib.bomrl import locomotion_study, methods  # noqa: E402
from lib.paths import resume_dir  # noqa: E402
from lib.profiles import resolve  # noqa: E402

FAMILIES = ("ant-vel", "ant-dir")
STAGE = "13_ant"
BENCHMARK = ROOT / "data" / "full" / "benchmarks" / "authors_iteration_ant.csv"


def config(workers: int = 1, scheduler: str = ""):
    """Notebook 13's full config on Ant, at the paper's 500 meta-iterations."""
    base = resolve("locomotion_authors", "full")
    return replace(base, families=FAMILIES, methods=(*base.methods, methods.AUTHORS_MAML), best_so_far=True,
                   select_after=0, n_iters=dict.fromkeys(base.n_iters, locomotion_study.DECISIVE_ITERS),
                   checkpoints=dict.fromkeys(base.checkpoints, locomotion_study.DECISIVE_CHECKPOINTS),
                   n_workers=workers, scheduler=scheduler)


def plan(cfg, bench: pd.DataFrame) -> pd.DataFrame:
    """Per (family, method): the benchmark's seconds per meta-iteration (float32, one thread) and
    the core-hours of ``n_seeds`` items of ``n_iters`` iterations (evaluations and meta-tests not counted)."""
    rows = bench[bench.dtype == "float32"].set_index(["family", "method"]).total_s
    out = pd.DataFrame([dict(family=f, method=m, s_per_iter=rows.get((f, m), float("nan")))
                        for f in cfg.families for m in cfg.methods])
    out["core_hours"] = out.s_per_iter * cfg.n_iters[FAMILIES[0]] * cfg.n_seeds / 3600
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", action="store_true", help="print the items' projected cost and stop")
    parser.add_argument("--scheduler", default="", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=1, help="local workers when no scheduler is given")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    cfg = config(args.workers, args.scheduler)
    if args.plan:
        table = plan(cfg, pd.read_csv(BENCHMARK))
        print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        print(f"{len(cfg.families) * len(cfg.methods) * cfg.n_seeds} items, {table.core_hours.sum():.0f} core-hours "
              f"(benchmark of this machine, {BENCHMARK.name}); the longest item sets the wall time on a cluster: "
              f"{table.core_hours.max() / cfg.n_seeds:.0f} h")
        return 0
    locomotion_study.run_all(cfg, resume_dir("full", STAGE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
