"""Helpers shared by the benchmark scripts (timing, output folder, peer availability)."""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.paths import DATA  # noqa: E402

OUT = DATA / "full" / "benchmarks"


def interleaved_times(fns: dict, repeats: int) -> dict:
    """Median wall time (s) of each callable, the callables run in turn ``repeats`` times
    (interleaved, so a change of machine load hits every contender alike). One warm-up call
    each is not timed."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def peer_version(module: str) -> str | None:
    """The installed version of a peer library, or None if it cannot be imported."""
    try:
        return importlib.import_module(module).__version__
    except Exception:  # noqa: BLE001  any import failure means "not available"
        return None


def missing_peer_note(module: str) -> str:
    return (f"{module} not importable: install the benchmark extras with `make bench-install` "
            f"(see README)")


def collection_kwargs(cfg, env: str, meta_seed: int = 0) -> dict:
    """The arguments of :func:`lib.trust_region_meta.metadataset.collect_trajectory` for one of notebook
    04's trajectories of ``env`` at ``cfg``'s sizes (all but ``index``)."""
    return dict(env=env, n_updates=cfg.collect_updates[env], n_traj=cfg.n_traj[env], archs=cfg.train_archs[env],
                kl_range=cfg.collect_range(env), log_uniform=cfg.log_uniform, seed=cfg.seed,
                max_points=cfg.max_points, meta_seed=meta_seed)
