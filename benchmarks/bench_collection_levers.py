"""Notebook 04's unit of work with and without the lossless levers, side by side (a script).

    .venv/bin/python benchmarks/bench_collection_levers.py           # ~2 min on one core
    .venv/bin/python benchmarks/bench_collection_levers.py --n 20    # more trajectories per env

Lever L2 (issue 38): a learning run with features hands the closed-form policy features the means
pi_{t-1}(obs_{t-1}) it computed one step earlier instead of a fourth forward pass. "off" is the
same code with :func:`lib.trust_region_meta.metafeatures.exact_policy_features` made to recompute
them (as the test does). Each collection trajectory (full-profile settings, random architecture)
runs in both arms in turn, and its two tables must be equal bit for bit before any time counts.
The numerics are pinned as in the notebooks (:func:`lib.numerics.pin`). Times are CPU seconds of this process (``time.process_time``), so other work on the machine
inflates both arms alike rather than one.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lib.numerics import pin  # noqa: E402

pin()  # the study's floating-point paths (MKL's unpinned path depends on buffer alignment: not bit-identical)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from common import OUT, collection_kwargs  # noqa: E402  (sets sys.path)

from lib.io import save_table  # noqa: E402
from lib.profiles import resolve  # noqa: E402
from lib.trust_region_meta import metafeatures as mf  # noqa: E402
from lib.trust_region_meta.metadataset import collect_trajectory  # noqa: E402

REUSED = mf.exact_policy_features


def recomputed(p_t, p_prev, o_t, o_prev, std0, *cached):
    """The closed-form features with the cached means ignored (the code before the lever)."""
    return REUSED(p_t, p_prev, o_t, o_prev, std0)


def timed(arm, kw: dict, index: int) -> tuple[float, pd.DataFrame]:
    """CPU seconds and table of collection trajectory ``index`` with ``arm`` as the features' code."""
    mf.exact_policy_features = arm
    try:
        start = time.process_time()
        table = collect_trajectory(index=index, **kw)
        return time.process_time() - start, table
    finally:
        mf.exact_policy_features = REUSED


def bench_env(env: str, cfg, n: int) -> list[dict]:
    kw = collection_kwargs(cfg, env)
    collect_trajectory(index=0, **kw)  # warm-up
    rows = []
    for i in range(1, n + 1):
        arms = [("off", recomputed), ("on", REUSED)][:: 1 if i % 2 else -1]  # alternate which arm goes first
        out = {name: timed(fn, kw, i) for name, fn in arms}
        pd.testing.assert_frame_equal(out["on"][1], out["off"][1], check_exact=True)
        rows.append(dict(env=env, traj=i, arch=out["on"][1].arch.iloc[0], cpu_s_off=out["off"][0], cpu_s_on=out["on"][0]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="collection trajectories per environment")
    parser.add_argument("--envs", default="cartpole,minigolf")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = resolve("meta", "full")
    per_traj = pd.DataFrame([r for env in args.envs.split(",") for r in bench_env(env, cfg, args.n)])
    table = (per_traj.groupby("env", sort=False)
             .agg(trajectories=("traj", "size"), cpu_s_off=("cpu_s_off", "sum"), cpu_s_on=("cpu_s_on", "sum"))
             .reset_index())
    table["ratio_on_off"] = table.cpu_s_on / table.cpu_s_off
    table["tables_identical"] = True  # asserted per trajectory above
    print(table.round(3).to_string(index=False))
    save_table(table, OUT / "collection_levers.csv",
               params=dict(seed=cfg.seed, envs=args.envs, n=args.n, torch_threads=1, torch=torch.__version__,
                           numpy=np.__version__, lever="L2 reuse pi_{t-1}(obs_{t-1})",
                           note="CPU seconds of one process, arms interleaved per trajectory"))


if __name__ == "__main__":
    main()
