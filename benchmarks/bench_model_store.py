"""Lever L3: the chosen meta-models stored once instead of fitted in every worker (a script, not a timed test).

    .venv/bin/python benchmarks/bench_model_store.py   # ~1 min; writes data/full/benchmarks/model_store.csv

For every validated (environment, meta-model) of the full profile (``data/full/05_fqi_validation/chosen.csv``,
on the committed meta-datasets): the CPU seconds of fitting its Q_H (FQI chain Q_1..Q_H, as every Meta-KL
worker did before), of loading it from the store (:func:`lib.trust_region_meta.meta_kl.stored_model`), the
stored file's size, and a check that the loaded model gives the same greedy λ and Q-values, bit for bit, on
the dataset's metafeature rows. ``fits_before`` counts the fits of that model in notebooks 05-08 at full
profile on 2 workers (each worker that runs a job of a call fits the call's model: the importances 1, the
ablation's k-NN arm 2, Figure 1 2, Figure 2 or 3 2, the xTRPO/TRPO ablation 2 for meta-model 0); after the
lever it is fitted once (the importances) and loaded by every later worker. One process, one thread.
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np
import pandas as pd
from common import OUT  # noqa: E402  (sets sys.path)

from lib.io import load_table, save_table  # noqa: E402
from lib.numerics import pin  # noqa: E402
from lib.paths import DATA  # noqa: E402
from lib.profiles import resolve  # noqa: E402
from lib.trust_region_meta import meta_kl  # noqa: E402
from lib.trust_region_meta.metadataset import PHI, dataset_file  # noqa: E402


def fits_before(env: str, meta_seed: int) -> int:
    """Fits of one chosen model in notebooks 05-08 at full profile on 2 workers before the lever."""
    fig = 2 if env in ("minigolf", "cartpole") else 0  # Figure 2 (Minigolf) or Figure 3 (Cartpole)
    return 1 + 2 + 2 + fig + (2 if meta_seed == 0 else 0)


def one_model(cfg, row) -> dict:
    """Fit, store, load and compare one chosen model; CPU seconds of each step."""
    m, env = int(row.meta_seed), row.env
    path = dataset_file("full", env, m)
    args = (str(path), cfg.grid(env), int(row.fqi_horizon), float(row.min_leaf), cfg.n_estimators, cfg.fqi_seed(m))
    meta_kl._MODELS.clear()
    start = time.process_time()
    fitted = meta_kl.stored_model(*args)  # an empty store: fits Q_1..Q_H, then writes Q_H
    fit_s = time.process_time() - start
    meta_kl._MODELS.clear()
    start = time.process_time()
    loaded = meta_kl.stored_model(*args)
    load_s = time.process_time() - start
    phi = pd.read_csv(path, usecols=PHI)[PHI].to_numpy()
    same = bool(np.array_equal(fitted.q_values(phi), loaded.q_values(phi))
                and np.array_equal(fitted.greedy(phi), loaded.greedy(phi)))
    size = sum(f.stat().st_size for f in meta_kl.model_store().glob("*.pkl") if f.stem.startswith(f"{env}_m{m}-"))
    before = fits_before(env, m)
    return dict(env=env, meta_seed=m, fqi_horizon=int(row.fqi_horizon), min_leaf=float(row.min_leaf),
                fit_cpu_s=fit_s, load_cpu_s=load_s, store_mb=size / 1e6, fits_before=before, fits_after=1,
                loads_after=before - 1, saved_cpu_s=(before - 1) * (fit_s - load_s), identical=same)


def main() -> None:
    pin()
    cfg = resolve("meta", "full")
    chosen = load_table(DATA / "full" / "05_fqi_validation" / "chosen.csv")
    with tempfile.TemporaryDirectory() as root:
        os.environ["STUDY_CACHE_ROOT"] = root  # an empty store, removed afterwards
        table = pd.DataFrame([one_model(cfg, row) for row in chosen.itertuples()])
    if not table.identical.all():
        raise SystemExit("a loaded model differs from the fitted one")
    print(table.round(3).to_string(index=False))
    print(f"CPU saved in notebooks 05-08 (2 workers): {table.saved_cpu_s.sum():.0f} s; "
          f"store {table.store_mb.sum():.0f} MB")
    save_table(table, OUT / "model_store.csv", params=dict(profile="full", seed=cfg.seed, workers=2, threads=1))


if __name__ == "__main__":
    main()
