"""Where MAML-TRPO's outer step spends its time, beside the authors' MAML-TRPO, on one full-profile batch.

    python benchmarks/profile_maml_outer.py            # Half-cheetah velocity, float32, one thread

One batch of the authors' protocol (10 tasks x 20 trajectories before adaptation, 100 after, 200 steps),
from their initial policy; each method's outer step timed ``--repeats`` times in turn (interleaved),
with the share of its Fisher-vector products (our MAML-TRPO and E-MAML-TRPO differentiate the KL of the
10 adapted policies on the 200 000 post-adaptation states through the inner step, twice, in each of
their 11 products; the authors' MAML-TRPO bounds the meta-policy's KL on the 40 000 pre-adaptation
states, in closed form). Writes ``data/full/benchmarks/maml_outer.csv``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from common import OUT  # noqa: E402  (sets sys.path)

from lib.bomrl import locomotion_protocol, sampled_adam, sampler  # noqa: E402
from lib.bomrl import functional_policy as fp  # noqa: E402
from lib.bomrl import locomotion_study as st  # noqa: E402
from lib.envs.mujoco_batch import dims  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.numerics import pin  # noqa: E402
from lib.profiles import resolve  # noqa: E402

METHODS = ("MAML-TRPO", "E-MAML-TRPO", "MAML-TRPO (authors)")


def batch(family: str, cfg, proto):
    """(phi, pre, post, thetas of our MAML inner step) of one meta-iteration from the initial policy."""
    od, ad = dims()
    phi = sampled_adam.init_policy(od, ad, seed=0, proto=proto)
    norm = sampler.ObsNorm.empty(od)
    _, raw, _ = sampler.sample_filtered(family, phi, np.zeros(1), proto.warmup * cfg.n_traj[family], norm, 1, proto)
    norm = norm.update(raw)
    tasks = st.train_tasks(cfg, proto, family, 0, 0)
    pre, _, _ = sampler.sample_filtered(family, phi, tasks, cfg.n_traj[family], norm, 2, proto)
    thetas = [st.make_method("MAML-TRPO", family, proto).adapt(phi, d) for d in pre]
    post, _, _ = sampler.sample_filtered(family, thetas, tasks, cfg.post_factor * cfg.n_traj[family], norm, 3, proto)
    return phi, pre, post, thetas


def timed_outer(method, phi, pre, post, thetas) -> dict:
    """Seconds of one outer step, and the number of and seconds inside its ``torch.autograd.grad`` calls
    (our MAML-TRPO: 2 gradients and 11 Fisher-vector products, which dominate)."""
    calls = []
    grad = torch.autograd.grad

    def timed_grad(*args, **kwargs):
        t = time.perf_counter()
        out = grad(*args, **kwargs)
        calls.append(time.perf_counter() - t)
        return out

    torch.autograd.grad = timed_grad
    try:
        t0 = time.perf_counter()
        method.outer(phi, pre, post, thetas)
        total = time.perf_counter() - t0
    finally:
        torch.autograd.grad = grad
    return dict(outer_s=total, autograd_calls=len(calls), autograd_s=sum(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="halfcheetah-vel", choices=locomotion_protocol.LOCOMOTION_AUTHORS.families)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pin()
    torch.set_num_threads(1)
    cfg = resolve("locomotion_authors", "full")
    proto = locomotion_protocol.locomotion("authors")
    phi, pre, post, thetas = batch(args.family, cfg, proto)
    rows = []
    for rep in range(args.repeats):
        for name in METHODS:
            row = timed_outer(st.make_method(name, args.family, proto), fp.detach(phi), pre, post, thetas)
            rows.append(dict(family=args.family, method=name, rep=rep, **row))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.groupby("method", sort=False)[["outer_s", "autograd_s"]].median().round(2).to_string())
    save_table(table, OUT / "maml_outer.csv", params=dict(seed=0, family=args.family, repeats=args.repeats, threads=1, dtype="float32"))


if __name__ == "__main__":
    main()
