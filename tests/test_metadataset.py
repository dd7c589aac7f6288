"""Meta-dataset: tuples are consistent; a killed collection resumes to the identical dataset."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lib.trust_region_meta.metadataset import (
    NEXT,
    PHI,
    collect,
    collect_trajectory,
    sample_arch,
)

ROOT = Path(__file__).resolve().parent.parent
ARGS = dict(env="minigolf", n_trajectories=8, n_updates=3, n_traj=4, archs=[(0, 0), (1, 8), (2, 8)],
            seed=5, max_points=200)


def test_tuples_chain_and_meta_reward():
    df = collect_trajectory("cartpole", 0, n_updates=4, n_traj=4, archs=[(0, 0)], seed=1, max_points=300)
    assert len(df) == 4 and list(df.t) == [0, 1, 2, 3]
    # phi_{t+1} of one tuple is phi_t of the next one
    np.testing.assert_array_equal(df[NEXT].to_numpy()[:-1], df[PHI].to_numpy()[1:])
    # meta-reward = J_{t+1} - J_t, and J_t is the phi feature "J_mean_t"
    np.testing.assert_allclose(df.meta_reward.to_numpy()[:-1], np.diff(df.ret.to_numpy()))
    np.testing.assert_allclose(df["phi:J_mean_t"], df.ret)
    assert ((df.kl_bound >= 1e-3) & (df.kl_bound <= 1.0)).all()


def test_sample_arch_covers_every_depth():
    rng = np.random.default_rng(0)
    archs = [(0, 0), (1, 16), (2, 8), (2, 64), (3, 8)]
    draws = [sample_arch(rng, archs) for _ in range(400)]
    depths = np.bincount([h for h, _ in draws])
    assert set(draws) == set(archs) and (depths > 70).all()


def test_killed_collection_resumes_to_the_identical_dataset(tmp_path):
    cache = tmp_path / "interrupted"
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            f"from lib.trust_region_meta.metadataset import collect\n"
            f"collect(cache_dir={str(cache)!r}, **{ARGS!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("*.pkl"))) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.pkl")}
    assert 3 <= len(done) < ARGS["n_trajectories"], "kill the collection mid-run"
    resumed = collect(cache_dir=cache, **ARGS)[0]
    for name, mtime in done.items():  # finished trajectories were not redone
        assert (cache / name).stat().st_mtime_ns == mtime
    fresh = collect(cache_dir=tmp_path / "fresh", **ARGS)[0]
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)
    assert len(fresh) == ARGS["n_trajectories"] * ARGS["n_updates"]
    assert not list(cache.glob(".*"))  # no half-written temp files left behind


def test_exact_policy_feature_dataset_swaps_only_the_policy_columns():
    from lib.trust_region_meta.metadataset import EXACT, NEXT, PHI, collect_trajectory, with_exact_policy_features
    from lib.trust_region_meta.metafeatures import POLICY_FEATURES
    d = collect_trajectory("minigolf", 0, n_updates=4, n_traj=8, archs=[(0, 0)], seed=3)
    x = with_exact_policy_features(d)
    swapped = [f"phi:{n}" for n in POLICY_FEATURES] + [f"next:{n}" for n in POLICY_FEATURES]
    kept = [c for c in PHI + NEXT if c not in swapped]
    pd.testing.assert_frame_equal(x[kept], d[kept])
    np.testing.assert_array_equal(x[[f"phi:{n}" for n in POLICY_FEATURES]].to_numpy(), d[EXACT].to_numpy())
    # phi_{t+1} of tuple t is phi_t of tuple t + 1, for the exact columns too
    np.testing.assert_array_equal(x[[f"next:{n}" for n in POLICY_FEATURES]].to_numpy()[:-1],
                                  x[[f"phi:{n}" for n in POLICY_FEATURES]].to_numpy()[1:])
