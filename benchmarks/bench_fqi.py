"""FQI with Extra Trees: ours vs MushroomRL's on the Cartpole meta-dataset (a script).

    make bench-install                                  # the peers (once)
    .venv/bin/python benchmarks/bench_fqi.py            # ~10 min on 2 cores

The committed full-profile meta-dataset ``data/full/04_meta_dataset/cartpole_m0.csv``
(15 000 tuples <phi_t, lambda_t, l_t, phi_t+1>). Both fit H iterations of FQI with 100
Extra Trees, every feature tried at each split, no bootstrap, the same minimum split
(15 samples = psi 1e-3 of 15 000, the validated Cartpole psi), meta-discount 1, one thread:

* ours (``lib.trust_region_meta.fqi.fit_fqi``): one forest per iteration on ``[phi, log10 lambda]``, lambda
  continuous as collected;
* MushroomRL's ``FQI``: its action set must be discrete, so each lambda is snapped to the
  nearest grid value (in log10) and its ``Regressor`` fits one forest per action.

Reported per H = 1..5: fit time of each (median of ``--repeats``), and on the 15 000
meta-states the agreement of the greedy trust regions (fraction identical, mean
|log10 ratio|) - the two models differ by design (continuous vs snapped action), so
agreement measures how much that choice matters, not a bug.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from common import OUT, missing_peer_note, peer_version  # noqa: E402  (sets sys.path)

from lib.io import save_table  # noqa: E402
from lib.paths import DATA  # noqa: E402
from lib.trust_region_meta.config import KL_GRID_PAPER  # noqa: E402
from lib.trust_region_meta.fqi import fit_fqi, leaf_size  # noqa: E402
from lib.trust_region_meta.metadataset import NEXT, PHI  # noqa: E402

PSI = 1e-3
N_ESTIMATORS = 100


def load(path=DATA / "full" / "04_meta_dataset" / "cartpole_m0.csv"):
    df = pd.read_csv(path)
    return (df[PHI].to_numpy(), df.kl_bound.to_numpy(), df.meta_reward.to_numpy(), df[NEXT].to_numpy())


def snap(kl: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Index of the grid value nearest each lambda on the log10 scale, shape (n,)."""
    return np.abs(np.log10(kl)[:, None] - np.log10(grid)[None, :]).argmin(axis=1)


def mushroom_fqi(phi, action, reward, phi_next, grid, horizon: int, min_leaf: int, seed: int = 0):
    """MushroomRL's FQI with an ExtraTreesRegressor per action; returns the fitted agent."""
    from mushroom_rl.algorithms.value import FQI
    from mushroom_rl.core import MDPInfo
    from mushroom_rl.policy import EpsGreedy
    from mushroom_rl.utils.spaces import Box, Discrete
    from sklearn.ensemble import ExtraTreesRegressor

    d = phi.shape[1]
    info = MDPInfo(Box(np.full(d, -np.inf), np.full(d, np.inf)), Discrete(len(grid)), gamma=1.0, horizon=horizon)
    params = dict(input_shape=(d,), n_actions=len(grid), n_estimators=N_ESTIMATORS,
                  min_samples_leaf=min_leaf, max_features=1.0, bootstrap=False, random_state=seed, n_jobs=1)
    agent = FQI(info, EpsGreedy(0.0), ExtraTreesRegressor, n_iterations=horizon, approximator_params=params,
                quiet=True)
    n = len(phi)
    absorbing, last = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    dataset = list(zip(phi, action[:, None], reward, phi_next, absorbing, last))
    agent.fit(dataset)
    return agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--horizons", default="1,2,3,4,5")
    args = parser.parse_args()
    phi, kl, reward, phi_next = load()
    grid = np.asarray(KL_GRID_PAPER)
    min_leaf = leaf_size(PSI, len(phi))
    action = snap(kl, grid)
    have_peer = peer_version("mushroom_rl") is not None
    rows = []
    for horizon in (int(h) for h in args.horizons.split(",")):
        t_ours, t_peer = [], []
        for _ in range(args.repeats):  # interleaved
            start = time.perf_counter()
            ours = fit_fqi(phi, kl, reward, phi_next, grid, horizon, PSI, N_ESTIMATORS, seed=0)[-1]
            t_ours.append(time.perf_counter() - start)
            if have_peer:
                start = time.perf_counter()
                peer = mushroom_fqi(phi, action, reward, phi_next, grid, horizon, min_leaf)
                t_peer.append(time.perf_counter() - start)
        row = dict(H=horizon, n_tuples=len(phi), min_leaf=min_leaf, ours_fit_s=float(np.median(t_ours)))
        greedy_ours = ours.greedy(phi)
        if have_peer:
            greedy_peer = grid[np.argmax(peer.approximator.predict(phi), axis=1)]
            row.update(mushroom_fit_s=float(np.median(t_peer)),
                       ours_over_mushroom=float(np.median(t_ours) / np.median(t_peer)),
                       greedy_agreement=float(np.mean(greedy_ours == greedy_peer)),
                       mean_abs_log10_ratio=float(np.mean(np.abs(np.log10(greedy_ours / greedy_peer)))),
                       note="")
        else:
            row.update(note=missing_peer_note("mushroom_rl"))
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    save_table(table, OUT / "fqi.csv", params=dict(seed=0, psi=PSI, n_estimators=N_ESTIMATORS,
                                                   repeats=args.repeats, mushroom_rl=peer_version("mushroom_rl")))


if __name__ == "__main__":
    main()
