"""Saving tables with a manifest (the resumable map is :mod:`lib.parallel`).

* :func:`save_table` writes a tidy CSV plus ``<name>.manifest.json`` with the parameters,
  seed, git commit (and whether the code paths :data:`CODE_PATHS` had uncommitted changes: the
  run's own writes to ``data/`` do not count), ``code``: the module that wrote the table and the
  fingerprint of the code it runs (:func:`lib.cache.code_fingerprint`, the job keys' own), the machine and
  its floating-point code paths (:func:`lib.numerics.describe`), package versions and the
  CSV's sha256. The pair is written through a journal, so no kill leaves a table without
  its manifest: :func:`recover_table` finishes or drops a pair cut short.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from lib.cache import atomic_write_bytes, remove_dead_temps
from lib.paths import ROOT

__all__ = ["atomic_write_bytes", "save_table", "save_tables", "load_table", "recover_table", "sha256", "git_state",
           "adopt_table"]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


CODE_PATHS = ("lib", "tools", "benchmarks", "pyproject.toml")  # what "dirty" looks at (not data/, docs/, figures/)


def git_state() -> dict:
    """``{"commit": HEAD or "unknown", "dirty": uncommitted changes to tracked files under CODE_PATHS}``."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
    try:
        commit = git("rev-parse", "HEAD").stdout.strip() or "unknown"
        status = git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
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


def _workers() -> dict:
    """``{"workers": [machine, ...]}`` of the Dask workers this process used (none: ``{}``), distinct."""
    from lib.parallel import WORKER_MACHINES

    machines = {json.dumps(m, sort_keys=True): m for m in WORKER_MACHINES.values()}
    return {"workers": [machines[k] for k in sorted(machines)]} if machines else {}


def producer(skip: int = 2) -> str:
    """The ``lib`` module that asked for a table to be written: the first caller outside this
    module, or ``"lib"`` when a notebook or a tool writes it (then the whole library is pinned)."""
    frame = sys._getframe(skip)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("lib.") and name != __name__:
            return name
        frame = frame.f_back
    return "lib"


@functools.lru_cache(maxsize=64)
def code_state(module: str) -> dict:
    """``{"module", "fingerprint", "dirty"}``: the code that can change what ``module`` computes
    (for ``"lib"``: every non-infrastructure module of the library), as the cache's job keys see it."""
    import pkgutil

    import lib
    from lib.cache import code_fingerprint

    if module == "lib":
        names = sorted(m.name for m in pkgutil.walk_packages(lib.__path__, "lib."))
        digest = hashlib.sha256("".join(code_fingerprint(n) for n in names).encode()).hexdigest()
    else:
        digest = code_fingerprint(module)
    return {"module": module, "fingerprint": digest, "dirty": git_state()["dirty"]}


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
    if path.parent.is_dir():
        remove_dead_temps(path.parent)  # a writer killed mid-write left its temp file here
    data = df.to_csv(index=False, float_format="%.10g").encode()
    manifest = {"file": path.name, "rows": len(df), "columns": list(df.columns),
                "sha256": hashlib.sha256(data).hexdigest(), "params": params or {}, **git_state(),
                "code": code_state(producer()), "machine": _machine(), "versions": _versions(),
                **_workers()}
    atomic_write_bytes(_pending(path), (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode())
    atomic_write_bytes(path, data)
    _pending(path).replace(manifest_path(path))
    return path


def adopt_table(path: Path, written_by: str, commit: str) -> Path:
    """Give a committed CSV written before tables carried manifests a manifest that says so: its rows,
    columns and sha256, the script that wrote it and the commit that last changed it, and ``null`` for
    what is not known (parameters, machine, versions, code). Returns the manifest's path.

    Raises:
        ValueError: the table already has a manifest.
    """
    path = Path(path)
    mpath = manifest_path(path)
    if mpath.exists():
        raise ValueError(f"table {path} already has a manifest {mpath.name}")
    df = pd.read_csv(path)
    manifest = {"file": path.name, "rows": len(df), "columns": list(df.columns), "sha256": sha256(path),
                "params": {"adopted": f"written by {written_by} before tables carried manifests; this manifest "
                                      "records the file as committed", "seed": None},
                "commit": commit, "dirty": None, "code": None, "machine": None, "versions": None}
    atomic_write_bytes(mpath, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return mpath


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


def save_tables(folder: Path, params, **tables: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """:func:`save_table` each ``name=table`` as ``folder/<name>.csv`` with ``params`` (a config
    dataclass or a dict) in its manifest, and return the tables as read back from disk, so
    what a notebook plots and prints is what the data folder holds."""
    params = dataclasses.asdict(params) if dataclasses.is_dataclass(params) else dict(params)
    for name, df in tables.items():
        save_table(df, Path(folder) / f"{name}.csv", params=params)
    return {name: load_table(Path(folder) / f"{name}.csv") for name in tables}
