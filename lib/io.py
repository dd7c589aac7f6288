"""Saving tables with a manifest, and a checkpointed parallel map that resumes.

* :func:`save_table` writes a tidy CSV plus ``<name>.manifest.json`` with the parameters,
  seed, git commit (and whether the work tree had uncommitted changes), the machine and
  its floating-point code paths (:func:`lib.numerics.describe`), package versions and the
  CSV's sha256. The pair is written through a journal, so no kill leaves a table without
  its manifest: :func:`recover_table` finishes or drops a pair cut short.
* :func:`map_cached` runs independent jobs (in parallel with joblib), writing each result
  to its own checkpoint file (:mod:`lib.cache`) as soon as it finishes; a re-run skips
  finished jobs, so an interrupted run loses at most the jobs in flight, and the assembled
  result is identical to an uninterrupted run (each job seeds itself from its arguments).
"""
from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pandas as pd
from joblib import Parallel, delayed

from lib.cache import (atomic_write_bytes, code_fingerprint, job_key, load_or_set_aside, read_manifest,
                       remove_dead_temps, write_checkpoint)
from lib.paths import ROOT
from lib.progress import progress

__all__ = ["atomic_write_bytes", "save_table", "load_table", "recover_table", "map_cached", "plan_jobs",
           "sha256", "git_state"]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def git_state() -> dict:
    """``{"commit": HEAD or "unknown", "dirty": uncommitted changes to tracked files}``."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
    try:
        commit = git("rev-parse", "HEAD").stdout.strip() or "unknown"
        status = git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}
    return {"commit": commit, "dirty": dirty}


@functools.lru_cache(maxsize=1)
def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("numpy", "scipy", "torch", "scikit-learn", "pandas", "mujoco", "gymnasium", "joblib", "dask"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=1)
def _machine() -> dict:
    from lib.numerics import describe

    return describe()


def manifest_path(path: Path) -> Path:
    return Path(path).with_suffix(".manifest.json")


def _pending(path: Path) -> Path:
    return Path(path).with_name(f".{manifest_path(path).name}.pending")


def recover_table(path: Path) -> None:
    """Finish a :func:`save_table` cut short: a pending manifest whose checksum matches the
    CSV becomes the manifest (the CSV was written); otherwise it is dropped (it was not)."""
    path, pending = Path(path), _pending(path)
    if not pending.exists():
        return
    try:
        wanted = json.loads(pending.read_text())["sha256"]
    except (ValueError, KeyError):
        wanted = None
    if wanted is not None and path.exists() and sha256(path) == wanted:
        pending.replace(manifest_path(path))
    else:
        pending.unlink(missing_ok=True)


def save_table(df: pd.DataFrame, path: Path, params: dict | None = None) -> Path:
    """Write ``df`` as CSV (floats with 10 significant digits) plus a manifest JSON.

    Order: the new manifest is stored as pending, then the CSV replaces the old one, then
    the manifest replaces the old manifest; :func:`recover_table` repairs a kill in between.

    Args:
        df: tidy table. path: ``.csv`` path. params: parameters that produced it
            (must include the seed).
    Returns:
        the CSV path.
    """
    path = Path(path)
    recover_table(path)
    data = df.to_csv(index=False, float_format="%.10g").encode()
    manifest = {"file": path.name, "rows": len(df), "columns": list(df.columns),
                "sha256": hashlib.sha256(data).hexdigest(), "params": params or {}, **git_state(),
                "machine": _machine(), "versions": _versions()}
    atomic_write_bytes(_pending(path), (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode())
    atomic_write_bytes(path, data)
    _pending(path).replace(manifest_path(path))
    return path


def load_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`save_table`, after checking it against its manifest.

    Raises:
        FileNotFoundError: the table does not exist (its message names it).
        ValueError: the CSV does not match its manifest's checksum, or has no manifest.
    """
    path = Path(path)
    recover_table(path)
    if not path.exists():
        raise FileNotFoundError(f"table {path} does not exist: run the notebook that writes it first")
    mpath = manifest_path(path)
    if not mpath.exists():
        raise ValueError(f"table {path} has no manifest {mpath.name}: it was not written by save_table")
    if json.loads(mpath.read_text()).get("sha256") != sha256(path):
        raise ValueError(f"table {path} does not match the checksum in {mpath.name}: it changed after it "
                         "was written; re-run the notebook that writes it")
    return pd.read_csv(path)


def plan_jobs(fn: Callable, jobs: list[dict], cache_dir, portable: bool = False) -> tuple[list[str], dict, dict]:
    """Keys, checkpoint paths and the results already on disk for ``jobs``.

    Each job is ``{"kwargs": ..., "label": "...", "ignore": (...), "extra": ...}``
    (see :func:`lib.cache.job_key`). Bad checkpoints are set aside (and so recomputed);
    temp files of writers that died are removed, a live writer's are left alone. With
    ``portable`` (a committed folder) checkpoints are ``<key>.ckpt`` in JSON, listed in the
    folder's ``MANIFEST.json``; a pickle or a file that does not match the manifest is refused.

    Returns:
        ``(keys, {key: path}, {key: result})``.
    Raises:
        ValueError: two jobs have the same key (the same function and arguments).
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    code = code_fingerprint(fn.__module__)  # the same for every job of fn: computed once
    keys = [job_key(fn, job["kwargs"], job.get("label", ""), job.get("ignore", ()), job.get("extra"), code)
            for job in jobs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"two jobs have the same function and arguments (key {dup}); "
                         "remove the duplicate parameter value")
    remove_dead_temps(cache_dir)
    paths = {k: cache_dir / f"{k}.{'ckpt' if portable else 'pkl'}" for k in keys}
    manifest = read_manifest(cache_dir) if portable else None
    done = {}
    for k in keys:
        ok, value = load_or_set_aside(paths[k], k, manifest)
        if ok:
            done[k] = value
    return keys, paths, done


def _run_and_store(fn: Callable, job: dict, key: str, path: Path):
    result = fn(**job["kwargs"])
    write_checkpoint(path, key, result)
    return key, result


def _run_group(fn: Callable, group: list) -> list:
    """Run the ``(job, key, path)`` of a group one after another, checkpointing each."""
    return [_run_and_store(fn, job, key, path) for job, key, path in group]


def map_cached(fn: Callable, jobs: list[dict], cache_dir: Path, n_jobs: int = 1,
               desc: str | None = None) -> list:
    """``[fn(**job["kwargs"]) for job in jobs]`` with one checkpoint file per job.

    Args:
        fn: a picklable function (module level).
        jobs: dicts with ``"kwargs"`` and optionally ``"label"``, ``"ignore"``, ``"extra"``
            (the job's key, :func:`lib.cache.job_key`) and ``"group"``: jobs with the same
            group run one after another in the same worker (in job order), for jobs that
            share an expensive per-process setup such as a memoised model. Each job is
            still checkpointed as soon as it finishes.
        cache_dir: folder of the checkpoints (``<key>.pkl``).
        n_jobs: joblib workers (1 = in process).
    Returns:
        results in the order of ``jobs``.
    """
    keys, paths, done = plan_jobs(fn, jobs, cache_dir)
    groups: dict = {}
    for job, key in zip(jobs, keys):
        if key not in done:
            name = ("group", job["group"]) if "group" in job else ("key", key)
            groups.setdefault(name, []).append((job, key, paths[key]))
    if groups:
        if n_jobs == 1:
            results = (_run_group(fn, group) for group in groups.values())
        else:
            runner = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
            results = runner(delayed(_run_group)(fn, group) for group in groups.values())
        with progress(total=sum(map(len, groups.values())), desc=desc) as bar:
            for finished in results:
                done.update(finished)
                bar.update(len(finished))
    return [done[k] for k in keys]
