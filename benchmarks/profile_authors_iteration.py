"""One meta-iteration of the authors' HalfCheetah protocol per method and precision, timed by phase.

    python benchmarks/profile_authors_iteration.py                     # velocity, both precisions
    python benchmarks/profile_authors_iteration.py --family halfcheetah-dir --dtype float32
    python benchmarks/profile_authors_iteration.py --family ant-vel ant-dir --dtype float32 --out authors_iteration_ant.csv

The full profile's batch (velocity: 10 tasks x 20 trajectories before adaptation, 5 x that
after; direction: 4 tasks, 20 trajectories each, 40 for Ant), 400 env steps per trajectory (200 + the return's tail), one thread:
physics against everything else, adaptation and outer step, for our float32 and the authors'
float64 (``Protocol.dtype``) side by side, with the same seeds (the initial policies differ in their
low bits, and so does every draw after them). Also the return before and
after one adaptation and the inner solutions' stationarity. Writes
``data/full/benchmarks/authors_iteration.csv``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from common import OUT  # noqa: E402  (sets sys.path)

from lib.bomrl import locomotion_protocol, sampled_adam, sampler  # noqa: E402
from lib.bomrl import locomotion_study as st  # noqa: E402
from lib.envs.mujoco_batch import dims, robot_of  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.numerics import pin  # noqa: E402
from lib.profiles import resolve  # noqa: E402


def one_iteration(family: str, method_name: str, dtype: str, cfg) -> dict:
    """Time one meta-iteration from the authors' initial policy (after their warm-up)."""
    proto = locomotion_protocol.locomotion("authors", dtype=dtype)
    method = st.make_method(method_name, family, proto)
    od, ad = dims(robot_of(family))
    phi = sampled_adam.init_policy(od, ad, seed=0, proto=proto)
    norm = sampler.ObsNorm.empty(od)
    _, raw, _ = sampler.sample_filtered(family, phi, np.zeros(1), proto.warmup * cfg.n_traj[family], norm, 1, proto)
    norm = norm.update(raw)
    tasks = st.train_tasks(cfg, proto, family, 0, 0)
    t0 = time.perf_counter()
    pre, _, i1 = sampler.sample_filtered(family, phi, tasks, cfg.n_traj[family], norm, 2, proto)
    t1 = time.perf_counter()
    thetas = [method.adapt(phi, d) for d in pre]
    t2 = time.perf_counter()
    post, _, i2 = sampler.sample_filtered(family, thetas, tasks, cfg.post_factor * cfg.n_traj[family], norm, 3, proto)
    t3 = time.perf_counter()
    _, info = method.outer(phi, pre, post, thetas)
    t4 = time.perf_counter()
    return dict(family=family, method=method_name, dtype=dtype, sample_s=t1 - t0 + t3 - t2,
                physics_s=i1["physics_s"] + i2["physics_s"], adapt_s=t2 - t1, outer_s=t4 - t3, total_s=t4 - t0,
                pre_return=float(np.mean([d.returns.mean() for d in pre])),
                post_return=float(np.mean([d.returns.mean() for d in post])),
                stationarity=info.get("stationarity", float("nan")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", nargs="+", default=["halfcheetah-vel"], choices=locomotion_protocol.LOCOMOTION_AUTHORS.families)
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--out", default="authors_iteration.csv", help="file name under data/full/benchmarks/")
    parser.add_argument("--methods", nargs="+", default=list(st.method_names(locomotion_protocol.LOCOMOTION_AUTHORS)), choices=list(st.method_names(locomotion_protocol.LOCOMOTION_AUTHORS)))
    args = parser.parse_args()
    pin()
    torch.set_num_threads(1)
    cfg = resolve("locomotion_authors", "full")
    rows = []
    for family in args.family:
        for name in args.methods:
            for dtype in args.dtype:  # interleaved, so a change of load hits both precisions alike
                rows.append(one_iteration(family, name, dtype, cfg))
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    table = pd.DataFrame(rows)
    wide = table.pivot_table(index=["family", "method"], columns="dtype", values="total_s", sort=False)
    if {"float32", "float64"} <= set(wide.columns):
        wide["float32 / float64"] = wide["float32"] / wide["float64"]
    print(wide.round(2).to_string())
    save_table(table, OUT / args.out, params=dict(seed=0, families=args.family, methods=args.methods,
                                                                   dtypes=args.dtype, threads=1))


if __name__ == "__main__":
    main()
