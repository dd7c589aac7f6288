"""Time of one Meta-KL greedy step: Q_H(φ_t, λ) for the 10 λ of Λ (a script, not a timed test).

    .venv/bin/python benchmarks/bench_fqi_greedy.py   # ~10 s; writes data/full/benchmarks/fqi_greedy.csv

A 100-tree forest fitted like notebook 05's on a Cartpole-sized meta-dataset (15 000 tuples, 20
metafeatures + log λ; synthetic values), queried with one φ and the 10 λ: scikit-learn's
``forest.predict`` against :func:`lib.trust_region_meta.fqi.forest_predict` (the same numbers,
checked first), for several leaf sizes ψ. Median of repeats, one process, one thread.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from common import OUT, interleaved_times  # noqa: E402  (sets sys.path)
from sklearn.ensemble import ExtraTreesRegressor  # noqa: E402

from lib.io import save_table  # noqa: E402
from lib.trust_region_meta.config import KL_GRID_PAPER  # noqa: E402
from lib.trust_region_meta.fqi import design, forest_predict, leaf_size  # noqa: E402

N_TUPLES, REPEATS = 15_000, 200


def main() -> None:
    rng = np.random.default_rng(0)
    x = design(rng.normal(size=(N_TUPLES, 20)), 10 ** rng.uniform(-3, 0, N_TUPLES))
    y = x[:, 0] + rng.normal(size=N_TUPLES)
    step = design(np.repeat(rng.normal(size=(1, 20)), len(KL_GRID_PAPER), axis=0), np.asarray(KL_GRID_PAPER))
    rows = []
    for psi in (5e-5, 1e-3, 1e-2):
        forest = ExtraTreesRegressor(100, min_samples_leaf=leaf_size(psi, N_TUPLES), max_features=1.0,
                                     bootstrap=False, random_state=0).fit(x, y)
        if not np.array_equal(forest.predict(step), forest_predict(forest, step)):
            raise SystemExit(f"ψ = {psi}: forest_predict differs from scikit-learn's predict")
        times = interleaved_times({"sklearn": lambda: forest.predict(step),
                                   "direct": lambda: forest_predict(forest, step)}, REPEATS)
        rows.append(dict(psi=psi, n_tuples=N_TUPLES, n_trees=100, sklearn_ms=1000 * times["sklearn"],
                         direct_ms=1000 * times["direct"], speedup=times["sklearn"] / times["direct"]))
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    save_table(table, OUT / "fqi_greedy.csv", params=dict(seed=0, repeats=REPEATS, n_tuples=N_TUPLES, threads=1))


if __name__ == "__main__":
    main()
