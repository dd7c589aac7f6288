"""Meta-validation and meta-test: xTRPO runs whose trust region is chosen by the FQI model.

``Meta-KL`` (paper 1, Sec. 4.2): at every step the metafeatures phi_t of the current and
previous batch are computed and ``lambda_t = argmax_{lambda in Lambda} Q_H(phi_t, lambda)``.

Runs are independent checkpointed jobs (:func:`lib.io.map_cached`). Each worker fits the
FQI model it needs once from the dataset file and keeps it in memory for the following
jobs (a 100-tree forest is too large to send with every job); the fit is deterministic,
so every worker has the same model.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from lib.fqi import FQIModel, fit_fqi
from lib.io import map_cached
from lib.learning import learn
from lib.metadataset import NEXT, PHI, sample_arch
from lib.seeding import rng as make_rng
from lib.sweeps import run_setup

_MODELS: dict = {}


def fit_models(dataset: pd.DataFrame, kl_grid, horizon: int, min_split: float,
               n_estimators: int = 100, seed: int = 0) -> list[FQIModel]:
    """FQI Q_1..Q_horizon on a meta-dataset table (columns of :mod:`lib.metadataset`)."""
    return fit_fqi(dataset[PHI].to_numpy(), dataset.kl_bound.to_numpy(),
                   dataset.meta_reward.to_numpy(), dataset[NEXT].to_numpy(),
                   np.asarray(kl_grid, dtype=float), horizon, min_split,
                   n_estimators=n_estimators, seed=seed)


def cached_model(dataset_path: str, kl_grid, horizon: int, min_split: float,
                 n_estimators: int, seed: int) -> FQIModel:
    """Q_horizon fitted on the dataset file, memoised per process (by file identity)."""
    stat = os.stat(dataset_path)
    base = (dataset_path, stat.st_mtime_ns, stat.st_size, tuple(kl_grid), min_split, n_estimators, seed)
    if base + (horizon,) not in _MODELS:
        models = fit_models(pd.read_csv(dataset_path), kl_grid, horizon, min_split, n_estimators, seed)
        for model in models:
            _MODELS[base + (model.horizon,)] = model
    return _MODELS[base + (horizon,)]


def meta_kl_run(env: str, split: str, run: int, arch, n_updates: int, n_traj: int, seed: int,
                dataset_path: str, kl_grid, horizon: int, min_split: float,
                n_estimators: int = 100, fqi_seed: int = 0, algo: str = "xTRPO",
                max_points: int = 2000) -> pd.DataFrame:
    """One learning run with lambda_t chosen greedily by the FQI model (per-step table)."""
    model = cached_model(dataset_path, kl_grid, horizon, min_split, n_estimators, fqi_seed)
    task, key = run_setup(env, split, seed, run)
    df = learn(env, task, lambda t, phi: model.greedy(phi), algo, arch=arch, n_updates=n_updates,
               n_traj=n_traj, seed=seed, key=key, with_features=True, max_points=max_points)
    df.insert(3, "run", run)
    df.insert(4, "fqi_horizon", horizon)
    df.insert(5, "min_split", min_split)
    return df


def validation_arch(env: str, seed: int, run: int, archs) -> tuple:
    """Architecture of validation run ``run``: drawn from the training architectures."""
    return sample_arch(make_rng(seed, "val-arch", env, run), archs)


def _key(env, split, run, arch, n_updates, n_traj, seed, horizon, min_split, algo, tag):
    h, n = arch
    return (f"{env}-{split}-{algo}-H{horizon}-psi{min_split:g}-r{run}-a{h}x{n}-T{n_updates}"
            f"-N{n_traj}-s{seed}-{tag}")


def run_meta_kl(env: str, split: str, runs, archs, n_updates: int, n_traj: int, seed: int,
                dataset_path, kl_grid, models, cache_dir, n_estimators: int = 100,
                fqi_seed: int = 0, algo: str = "xTRPO", n_jobs: int = 1,
                max_points: int = 2000, dataset_tag: str = "") -> pd.DataFrame:
    """Meta-KL runs for every (H, psi) in ``models`` x run, with one arch per run.

    Args:
        runs: run indices. archs: one arch per run (same length).
        models: list of (H, psi) pairs. dataset_tag: a digest of the dataset, part of the
            checkpoint keys (a new dataset must not reuse old runs).
    Returns:
        concatenated per-step tables.
    """
    jobs = []
    for horizon, min_split in models:
        for run, arch in zip(runs, archs):
            jobs.append(dict(
                key=_key(env, split, run, arch, n_updates, n_traj, seed, horizon, min_split, algo,
                         dataset_tag),
                kwargs=dict(env=env, split=split, run=run, arch=tuple(arch), n_updates=n_updates,
                            n_traj=n_traj, seed=seed, dataset_path=str(dataset_path),
                            kl_grid=tuple(kl_grid), horizon=horizon, min_split=min_split,
                            n_estimators=n_estimators, fqi_seed=fqi_seed, algo=algo,
                            max_points=max_points)))
    parts = map_cached(meta_kl_run, jobs, cache_dir, n_jobs=n_jobs, desc=f"Meta-KL {env} {split}")
    return pd.concat(parts, ignore_index=True)
