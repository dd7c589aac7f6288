"""Time per 20-metafeature vector at N = 64 trajectories (a script, not a timed test).

    .venv/bin/python benchmarks/bench_metafeatures.py   # ~1 min; writes data/full/benchmarks/metafeatures.csv

Two batches B_t, B_t-1 of 64 trajectories each from an MLP(2,32) policy (default task),
k-NN estimators with k = 3 on at most 2 000 points per set (the study's ``max_points``):

* ``per_step_ms``: what a learning run pays per step - the sample sets and entropies of
  the new batch plus the 20 features (B_t-1's entropies are reused from the previous step);
* ``from_scratch_ms``: both batches' sets and entropies plus the features;
* ``per_step_ms_sklearn``: the per-step cost with scikit-learn's ``NearestNeighbors``
  (automatic algorithm) in place of scipy's k-d tree behind ``metafeatures._tree`` (checked to
  give the same features before timing).

Median of repeats, one process.
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from common import OUT, interleaved_times  # noqa: E402  (sets sys.path)

from lib.envs import ENV_NAMES, get_spec  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.policies import make_policy  # noqa: E402
from lib.rollouts import rollout  # noqa: E402
from lib.trust_region_meta import metafeatures as mf  # noqa: E402

N = 64


class SklearnTree:
    """scikit-learn's ``NearestNeighbors`` (automatic algorithm) behind the one method of scipy's
    ``cKDTree`` that :func:`lib.trust_region_meta.metafeatures._kth_other` calls."""

    def __init__(self, ref):
        from sklearn.neighbors import NearestNeighbors

        self.nn = NearestNeighbors().fit(ref)

    def query(self, points, k):
        return self.nn.kneighbors(points, n_neighbors=k)


def sklearn_tree(ref, trees=None):
    """``metafeatures._tree`` with scikit-learn in place of scipy (no memo: each call builds its index)."""
    return SklearnTree(ref)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for name in ENV_NAMES:
        spec = get_spec(name)
        policy = make_policy(spec, (2, 32), seed=0)
        rng = np.random.default_rng(0)
        tasks = np.tile(spec.default_task, (N, 1))
        cur, prev = rollout(spec, policy, tasks, rng), rollout(spec, policy, tasks, rng)
        sets = lambda b: mf.sample_sets(b, spec.obs_scale, spec.std0, np.random.default_rng(2))  # noqa: E731
        prev_sets = sets(prev)
        prev_h = mf.batch_entropies(prev_sets)

        def per_step():
            s = sets(cur)
            return mf.metafeatures(s, prev_sets, mf.batch_entropies(s), prev_h)

        def from_scratch():
            mf.metafeatures(sets(cur), sets(prev))

        def per_step_sklearn():
            scipy_version, mf._tree = mf._tree, sklearn_tree
            try:
                return per_step()
            finally:
                mf._tree = scipy_version

        same = np.allclose(per_step(), per_step_sklearn(), rtol=1e-9, atol=1e-12)
        if not same:
            raise SystemExit(f"{name}: scikit-learn's neighbours give other metafeatures than scipy's")

        times = interleaved_times({"per_step": per_step, "from_scratch": from_scratch,
                                   "per_step_sklearn": per_step_sklearn}, args.repeats)
        rows.append(dict(env=name, n_trajectories=N, steps_in_batch=int(cur.mask.sum()),
                         points_per_set=len(sets(cur).s), per_step_ms=1000 * times["per_step"],
                         from_scratch_ms=1000 * times["from_scratch"],
                         per_step_ms_sklearn=1000 * times["per_step_sklearn"]))
    table = pd.DataFrame(rows)
    print(table.round(1).to_string(index=False))
    save_table(table, OUT / "metafeatures.csv", params=dict(seed=0, k=mf.K, max_points=mf.MAX_POINTS,
                                                            repeats=args.repeats, threads=1))


if __name__ == "__main__":
    main()
