"""Where a meta-dataset collection trajectory spends its time (notebook 04's unit of work; a script).

    .venv/bin/python benchmarks/profile_collection.py            # ~5 min on an idle core
    .venv/bin/python benchmarks/profile_collection.py --n 40     # more trajectories per env (random architectures)

Notebook 04 is the largest part of the full paper-1 profile (M = 5: 5 x (100 + 7 000 + 15 000)
tuples, one xTRPO learning trajectory per 15 or 35 tuples), and notebooks 05-08 spend most of
their time in the same learning runs with features. This script runs ``--n`` collection
trajectories per environment under cProfile, one core, and splits their time into the parts
the issue names: the TRPO update (of it, the Fisher-vector products of the conjugate
gradient), the k-NN metafeatures (sample sets, entropies, cross-entropies), the closed-form
policy features, the rollouts, and the rest. The shares are what matters: cProfile adds a
few per cent, and a busy machine slows every part alike.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np
import pandas as pd
import torch
from common import OUT, collection_kwargs  # noqa: E402  (sets sys.path)

from lib.io import save_table  # noqa: E402
from lib.profiles import resolve  # noqa: E402
from lib.trust_region_meta.metadataset import collect_trajectory  # noqa: E402

# part -> (file suffix, function name) whose cumulative time it is; the parts do not overlap,
# except the indented one, which is inside the part above it
PARTS = {"TRPO update": ("lib/trpo.py", "trpo_step"),
         "  of it: Fisher-vector products": ("lib/trpo.py", "fvp"),
         "k-NN metafeatures: sample sets and entropies": ("lib/trust_region_meta/learning.py", "featurise"),
         "k-NN metafeatures: cross-entropies": ("lib/trust_region_meta/metafeatures.py", "metafeatures"),
         "closed-form policy features": ("lib/trust_region_meta/metafeatures.py", "exact_policy_features"),
         "rollouts (learning batches)": ("lib/rollouts.py", "rollout")}


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function ``name`` defined in a file ending with ``suffix``."""
    return sum(v[3] for (path, _, fn), v in stats.stats.items() if fn == name and path.endswith(suffix))


def profile_env(env: str, cfg, n: int) -> list[dict]:
    kw = collection_kwargs(cfg, env)
    collect_trajectory(index=0, **kw)  # warm-up: imports, first-call costs
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for i in range(1, n + 1):
        collect_trajectory(index=i, **kw)
    prof.disable()
    total = time.perf_counter() - start
    stats = pstats.Stats(prof)
    rows = [dict(env=env, part=part, seconds=cumulative(stats, *where)) for part, where in PARTS.items()]
    accounted = sum(r["seconds"] for r in rows if not r["part"].startswith("  "))
    rows.append(dict(env=env, part="rest", seconds=total - accounted))
    for r in rows:
        r.update(share=r["seconds"] / total, trajectories=n, tuples=n * kw["n_updates"],
                 seconds_per_tuple=r["seconds"] / (n * kw["n_updates"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="collection trajectories per environment")
    parser.add_argument("--envs", default="minigolf,cartpole")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = resolve("meta", "full")
    table = pd.DataFrame([r for env in args.envs.split(",") for r in profile_env(env, cfg, args.n)])
    with pd.option_context("display.width", 160):
        print(table.round(3).to_string(index=False))
    save_table(table, OUT / "collection_profile.csv",
               params=dict(seed=cfg.seed, envs=args.envs, n=args.n, torch_threads=1, torch=torch.__version__,
                           numpy=np.__version__, note="cProfile; shares matter, not absolute seconds"))


if __name__ == "__main__":
    main()
