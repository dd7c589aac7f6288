"""Saving tables with a manifest, and a checkpointed parallel map that resumes.

* :func:`save_table` writes a tidy CSV atomically plus ``<name>.manifest.json`` with the
  parameters, seed, git commit, package versions and the CSV's sha256.
* :func:`map_cached` runs independent jobs (in parallel with joblib), writing each
  result to its own checkpoint file as soon as it finishes; a re-run skips finished jobs,
  so an interrupted run loses at most the jobs in flight, and the assembled result is
  identical to an uninterrupted run (each job seeds itself from its key).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd
from joblib import Parallel, delayed

from lib.paths import ROOT
from lib.progress import progress


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file and ``os.replace`` (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git_commit() -> str:
    """Current commit of the repository (``unknown`` outside git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict:
    import numpy, scipy, sklearn, torch  # noqa: E401

    return {"python": sys.version.split()[0], "numpy": numpy.__version__,
            "scipy": scipy.__version__, "torch": torch.__version__,
            "scikit-learn": sklearn.__version__, "pandas": pd.__version__}


def save_table(df: pd.DataFrame, path: Path, params: dict | None = None) -> Path:
    """Write ``df`` as CSV (floats with 10 significant digits) plus a manifest JSON.

    Args:
        df: tidy table. path: ``.csv`` path. params: parameters that produced it
            (must include the seed).
    Returns:
        the CSV path.
    """
    path = Path(path)
    atomic_write_bytes(path, df.to_csv(index=False, float_format="%.10g").encode())
    manifest = {"file": path.name, "rows": len(df), "columns": list(df.columns),
                "sha256": sha256(path), "params": params or {}, "commit": git_commit(),
                "versions": _versions()}
    atomic_write_bytes(path.with_suffix(".manifest.json"),
                       (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode())
    return path


def load_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def plan_checkpoints(jobs: list[dict], cache_dir) -> tuple[dict, list[dict]]:
    """``({key: checkpoint path}, jobs without a checkpoint)``; refuses duplicate keys and
    removes temp files of writes cut short by a kill."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    keys = [job["key"] for job in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    paths = {k: cache_dir / f"{k}.pkl" for k in keys}
    for stale in cache_dir.glob(".*.pkl.*"):
        stale.unlink(missing_ok=True)
    return paths, [job for job in jobs if not paths[job["key"]].exists()]


def load_checkpoints(paths: dict) -> list:
    """The pickled results, in the order of ``paths``."""
    return [pickle.loads(p.read_bytes()) for p in paths.values()]


def _run_and_store(fn: Callable, job: dict, path: Path):
    result = fn(**job["kwargs"])
    atomic_write_bytes(path, pickle.dumps(result, protocol=4))
    return result


def _run_group(fn: Callable, jobs: list[dict], paths: dict) -> list:
    """Run ``jobs`` one after another in this process, checkpointing each as it finishes."""
    return [_run_and_store(fn, job, paths[job["key"]]) for job in jobs]


def map_cached(fn: Callable, jobs: list[dict], cache_dir: Path, n_jobs: int = 1,
               desc: str | None = None) -> list:
    """``[fn(**job["kwargs"]) for job in jobs]`` with one checkpoint file per job.

    Args:
        fn: a picklable function (module level).
        jobs: dicts with ``"key"`` (unique, filename-safe string) and ``"kwargs"``; an
            optional ``"group"``: jobs with the same group run one after another in the same
            worker (in job order), for jobs that share an expensive per-process setup such
            as a memoised model. Each job is still checkpointed as soon as it finishes.
        cache_dir: folder of the checkpoints (``<key>.pkl``).
        n_jobs: joblib workers (1 = in process).
    Returns:
        results in the order of ``jobs``.
    """
    paths, todo = plan_checkpoints(jobs, cache_dir)
    if todo:
        groups: dict = {}
        for job in todo:
            name = ("group", job["group"]) if "group" in job else ("key", job["key"])
            groups.setdefault(name, []).append(job)
        tasks = [(group, {job["key"]: paths[job["key"]] for job in group}) for group in groups.values()]
        if n_jobs == 1:
            results = (_run_group(fn, group, group_paths) for group, group_paths in tasks)
        else:
            runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            results = runner(delayed(_run_group)(fn, group, group_paths) for group, group_paths in tasks)
        with progress(total=len(todo), desc=desc) as bar:
            for done in results:
                bar.update(len(done))
    return load_checkpoints(paths)
