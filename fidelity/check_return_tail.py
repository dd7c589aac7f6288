"""Does the authors' earlier return tail change one adaptation step? (notebook 13's protocol; a script).

    .venv/bin/python fidelity/check_return_tail.py              # ~17 min on one busy core
    .venv/bin/python fidelity/check_return_tail.py --reps 4     # fewer repetitions

Notebook 13 builds each return's tail from the 200-step continuation of the trajectory, as the
authors' HEAD does. Every version of their training scripts before commit ``1784ed7`` (which came
after all their Half-cheetah logs and CSVs last changed) built it from the trajectory's own first
200 rewards instead (``docs/paper2_provenance.md``). This script measures what that does to one
inner adaptation of Alg(k) on Half-cheetah velocity, with common random numbers: for ``--reps``
draws of 10 goals U[0, 2], the same pre-adaptation batch (20 trajectories per goal), advantages
with either tail, the authors' 50 Adam steps, then 100 post-adaptation trajectories per goal drawn
with the same seed for both. It does so from the initial meta-policy and from notebook 13's
committed Alg(1) meta-policy after 120 iterations (seed index 0).

The earlier line is ``Protocol(tail_source="own")`` (:func:`lib.bomrl.sampler.returns_with_tail`):
with no early termination that is exactly ``prev_return[k,0]=rewards[i]+...`` of their ``compute_adavatage``.
The committed table was made with the Alg(1) meta-policy of commit ``d6bba21`` (whose outer line search
also checked the KL); run again, the script uses the Alg(1) seed-0 checkpoint committed now.
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "data" / "full" / "fidelity"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from lib import profiles  # noqa: E402
from lib.bomrl import methods, sampler  # noqa: E402
from lib.bomrl import locomotion_study as study  # noqa: E402
from lib.bomrl import meta_items as items  # noqa: E402
from lib.io import save_table  # noqa: E402

FAMILY = "halfcheetah-vel"
CHECKPOINTS = ROOT / "data" / "full" / "13_bomrl_authors_locomotion" / "checkpoints"


def sample(phi, tasks, n_traj, norm, seed, proto, own_tail: bool):
    """:func:`lib.bomrl.sampler.sample_filtered` with either tail (the same trajectories for one seed)."""
    proto = dataclasses.replace(proto, tail_source="own" if own_tail else "continuation")
    return sampler.sample_filtered(FAMILY, phi, tasks, n_traj, norm, seed, proto)[0]


def one_step_gains(state: dict, method, cfg, proto, rep: int) -> dict:
    """Mean over 10 goals of the return after one adaptation step minus before it, per tail."""
    phi = [p.detach().clone().requires_grad_(True) for p in state["phi"]]
    norm = sampler.ObsNorm.from_state(state["norm"])
    tasks = np.random.default_rng(1000 + rep).uniform(0.0, 2.0, 10)
    gain = {}
    for tail in ("continuation", "own"):  # the same trajectories (same seed); only their advantages differ
        pre = sample(phi, tasks, cfg.n_traj[FAMILY], norm, 7000 + rep, proto, tail == "own")
        thetas = [method.adapt(phi, d) for d in pre]
        post = sample(thetas, tasks, cfg.post_factor * cfg.n_traj[FAMILY], norm, 9000 + rep, proto, False)
        before = np.array([float(d.returns.mean()) for d in pre])
        gain[tail] = np.array([float(d.returns.mean()) for d in post]) - before
    return dict(pre_return=float(before.mean()), gain_continuation=float(gain["continuation"].mean()),
                gain_own=float(gain["own"].mean()),
                gain_own_minus_continuation=float((gain["own"] - gain["continuation"]).mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="draws of 10 goals per meta-policy")
    parser.add_argument("--metric", default="Alg(1)", choices=list(methods.BOMRL))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = profiles.from_notebook("locomotion_authors", "full")
    proto = study.protocol(cfg)
    method = study.make_method(args.metric, FAMILY, proto)
    trained = glob.glob(str(CHECKPOINTS / f"{FAMILY}-Alg_1_-0-*.partial"))
    if not trained:
        raise SystemExit(f"no committed Alg(1) seed-0 checkpoint of notebook 13 under {CHECKPOINTS}")
    policies = {"initial": study.initial_state(cfg, proto, FAMILY, 0),
                "Alg(1) after 120 iterations": items.load_state(trained[0], lambda: None)}
    rows = []
    for name, state in policies.items():
        for rep in range(args.reps):
            t0 = time.perf_counter()
            rows.append(dict(meta_policy=name, metric=args.metric, rep=rep,
                             **one_step_gains(state, method, cfg, proto, rep)))
            r = rows[-1]
            print(f"{name} rep {rep}: gain {r['gain_continuation']:+.2f} (continuation tail), "
                  f"{r['gain_own']:+.2f} (own tail) [{time.perf_counter() - t0:.0f} s]", flush=True)
    table = pd.DataFrame(rows)
    save_table(table, OUT / "return_tail.csv", params=dict(seed=cfg.seed, reps=args.reps, metric=args.metric))
    summary = table.groupby("meta_policy")[["gain_continuation", "gain_own", "gain_own_minus_continuation"]]
    print(summary.agg(["mean", "sem"]).round(2).to_string())


if __name__ == "__main__":
    main()
