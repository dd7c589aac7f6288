"""Show that a floating-point setting changes the low bits of a short learning run.

    python tools/probe_numerics.py                 # hash and final returns, this environment
    python tools/probe_numerics.py --compare       # pinned paths vs lib.numerics.PERTURBED
    python tools/probe_numerics.py --perturbed-env # the perturbed setting, for env(1)

Two Cartpole runs (linear and MLP(2,32), 15 TRPO updates of 16 trajectories, lambda = 0.05,
with metafeatures); the hash covers every return. ``--compare`` runs the probe in two fresh
processes, one with the study's pinned paths and one with :data:`lib.numerics.PERTURBED`,
prints both and exits 1 if the hashes agree (the perturbed test pass would prove nothing).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def probe() -> str:
    import numpy as np
    import torch

    from lib.envs import get_spec
    from lib.seeding import rng
    from lib.trust_region_meta.learning import learn

    torch.set_num_threads(1)
    task = get_spec("cartpole").sample_tasks(rng(3, "probe"), 1)[0]
    rets = [learn("cartpole", task, 0.05, "TRPO", arch=arch, n_updates=15, n_traj=16, seed=3,
                  key=("probe",), with_features=True).ret.to_numpy() for arch in ((0, 0), (2, 32))]
    digest = hashlib.sha256(np.concatenate(rets).tobytes()).hexdigest()[:12]
    return f"{digest} final returns {[round(float(r[-1]), 4) for r in rets]}"


def _child(env: dict) -> str:
    out = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", action="store_true", help="pinned vs perturbed paths; exit 1 if equal")
    parser.add_argument("--perturbed-env", action="store_true",
                        help="print the perturbed setting as NAME=VALUE words (for env(1))")
    args = parser.parse_args(argv)
    if args.perturbed_env:
        from lib.numerics import PERTURBED
        print(" ".join(f"{k}={v}" for k, v in PERTURBED.items()))
        return 0
    if not args.compare:
        print(probe())
        return 0
    from lib.numerics import PERTURBED, PINNED

    base = {k: v for k, v in os.environ.items() if k not in PINNED and k != "STUDY_NUMERICS"}
    pinned, perturbed = _child({**base, **PINNED}), _child({**base, **PERTURBED})
    print(f"pinned    {PINNED}: {pinned}\nperturbed {PERTURBED}: {perturbed}")
    if pinned.split()[0] == perturbed.split()[0]:
        print("the perturbed setting does not change the low bits here", file=sys.stderr)
        return 1
    print("the perturbed setting changes the low bits")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
