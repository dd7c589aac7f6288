"""Job keys and checkpoint files: a cached result is reused only if nothing that made it changed.

One key function, :func:`job_key`, serves the resumable map (:func:`lib.parallel.map_resumable`,
joblib or Dask). A key is a readable label plus a
SHA-256 digest of

* the job's function (module and name),
* every argument, exactly: floats by their shortest round-trip ``repr`` (``0.1`` and
  ``0.1000004`` differ), dataclass configs field by field (except the fields in
  :data:`NOT_RESULT_FIELDS`, which choose only how many workers run the jobs), arrays by
  dtype, shape and bytes,
* the source of the code the job runs: :func:`code_fingerprint` of the function's module
  and of every ``lib`` module it imports, transitively, as a syntax tree without
  docstrings and comments (so editing prose does not invalidate a cache, and editing a
  constant does). Infrastructure that cannot change a result (this module, I/O, paths,
  progress bars, parameter validation, plotting) is left out, so a long committed run
  stays usable across changes that do not touch its code.

A checkpoint file is ``MAGIC``, one JSON header line (the job's key, the payload's format,
size and SHA-256) and the payload: a pickle in the gitignored cache, JSON (:func:`to_portable`:
exact floats, arrays and tensors as hex bytes, DataFrames with their dtypes) in committed
folders, which also keep a ``MANIFEST.json`` of every file's SHA-256; loading there refuses
pickles and files that do not match the manifest. :func:`read_checkpoint` checks all three before it
unpickles anything, so a truncated, zeroed, garbage, swapped (another job's file) or
edited checkpoint is found by name; :func:`load_or_set_aside` moves such a file aside with
a warning, and the caller recomputes it.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import pickle
import re
import sys
import time
import warnings
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (one writer at a time there)
    fcntl = None

import numpy as np

MAGIC = b"STUDY-CHECKPOINT 1\n"
NOT_RESULT_FIELDS = frozenset({"n_jobs", "n_workers", "scheduler"})
# lib modules that cannot change what a job computes (their edits keep caches valid)
INFRASTRUCTURE = frozenset({"lib.cache", "lib.io", "lib.parallel", "lib.paths", "lib.progress",
                            "lib.profiles", "lib.plotting", "lib.numerics", "lib.config", "lib.notebook"})
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


class BadCheckpoint(Exception):
    """A checkpoint file that cannot be trusted; the message names the path and the reason."""


# --- code fingerprints ------------------------------------------------------------------

def _module_file(name: str, root: Path) -> Path | None:
    base = root.joinpath(*name.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _imports(tree: ast.AST, package: str, root: Path) -> set[str]:
    """Names of the modules of ``package`` that ``tree`` imports (anywhere, also lazily)."""
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name == package or name.startswith(package + "."):
                parts = name.split(".")
                for i in range(1, len(parts) + 1):  # a module implies its packages
                    if _module_file(".".join(parts[:i]), root) is not None:
                        out.add(".".join(parts[:i]))
    return out


_SOURCE_CACHE: dict = {}


def _normalised_source(path: Path, package: str, root: Path) -> tuple[str, set[str]]:
    stat = path.stat()
    ident = (str(path), stat.st_mtime_ns, stat.st_size)
    if ident not in _SOURCE_CACHE:
        tree = _strip_docstrings(ast.parse(path.read_text(), filename=str(path)))
        _SOURCE_CACHE[ident] = (ast.dump(tree), _imports(tree, package, root))
    return _SOURCE_CACHE[ident]


def code_closure(module: str) -> list[str]:
    """The modules whose source can change a job of ``module``: it and its imports within
    its top-level package, transitively, minus :data:`INFRASTRUCTURE`; sorted."""
    package = module.split(".")[0]
    mod = sys.modules.get(package)
    if mod is None or getattr(mod, "__file__", None) is None:
        raise ValueError(f"cannot fingerprint module {module!r}: package {package!r} is not importable from files")
    root = Path(mod.__file__).resolve().parent.parent
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in seen or name in INFRASTRUCTURE:
            continue
        seen.add(name)
        path = _module_file(name, root)
        if path is None:
            continue
        todo.extend(_normalised_source(path, package, root)[1])
    return sorted(seen)


def code_fingerprint(module: str) -> str:
    """SHA-256 (hex) of the normalised source of :func:`code_closure` of ``module``."""
    package = module.split(".")[0]
    root = Path(sys.modules[package].__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in code_closure(module):
        path = _module_file(name, root)
        if path is not None:
            digest.update(f"{name}\n{_normalised_source(path, package, root)[0]}\n".encode())
    return digest.hexdigest()


# --- keys --------------------------------------------------------------------------------

def canonical(obj):
    """A JSON-able value that differs whenever ``obj`` could give another result.

    Raises:
        TypeError: for a type it does not know (rather than guessing with ``repr``).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return {"float": repr(value)} if math.isfinite(value) else {"float": str(value)}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, dict):
        return {"dict": sorted(([canonical(k), canonical(v)] for k, v in obj.items()), key=json.dumps)}
    if isinstance(obj, Path):
        return {"path": str(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                  if f.name not in NOT_RESULT_FIELDS}
        return {"class": f"{type(obj).__module__}.{type(obj).__qualname__}", "fields": fields}
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return {"array": str(arr.dtype), "shape": list(arr.shape), "sha256": hashlib.sha256(arr.tobytes()).hexdigest()}
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        return canonical(obj.detach().cpu().numpy())
    raise TypeError(f"cannot key a job argument of type {type(obj).__name__}: {obj!r:.80}")


def _canonical_kwargs(kwargs: dict, ignore) -> dict:
    """:func:`canonical` of each argument, without the names in ``ignore`` (``"cfg.n_seeds"``
    drops one field of a dataclass argument)."""
    dropped = {name for name in ignore if "." not in name}
    out = {name: canonical(value) for name, value in kwargs.items() if name not in dropped}
    for name in ignore:
        head, _, field = name.partition(".")
        if field and head in out:
            if not isinstance(out[head], dict) or "fields" not in out[head]:
                raise TypeError(f"ignore {name!r}: argument {head!r} is not a dataclass")
            out[head]["fields"].pop(field, None)
    return out


def safe_label(label: str) -> str:
    """The filename-safe form of a job label (the readable part of its key)."""
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", label).strip("_")[:120]


def job_key(fn, kwargs: dict, label: str = "", ignore=(), extra=None, code: str | None = None) -> str:
    """Filename-safe key of the job ``fn(**kwargs)``: ``<label>-<24 hex digits>``.

    Args:
        fn: a module-level function. kwargs: its arguments.
        label: readable prefix (only for people; the digest decides).
        ignore: argument names that cannot change the result (an output path, say), or
            ``"arg.field"`` for one field of a dataclass argument.
        extra: anything else the result depends on that is not an argument (e.g. a digest
            of an input file named by a path argument).
        code: :func:`code_fingerprint` of ``fn``'s module, when the caller keys many jobs of
            one function (computed here otherwise; it stats every file of the closure).
    """
    blob = json.dumps({"fn": f"{fn.__module__}.{fn.__qualname__}", "code": code or code_fingerprint(fn.__module__),
                       "kwargs": _canonical_kwargs(kwargs, ignore), "extra": canonical(extra)}, sort_keys=True)
    safe = safe_label(label)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:24]
    return f"{safe}-{digest}" if safe else digest


# --- files ---------------------------------------------------------------------------------

def temp_path(path: Path) -> Path:
    """A fresh temp name beside ``path`` that names this process (``.<name>.<pid>.<hex>.tmp``)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file and ``os.replace`` (never half-written).

    The file gets the mode that the umask gives a new file (not ``mkstemp``'s 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_temps(folder: Path) -> list[Path]:
    """Delete temp files left by processes that no longer run (a live writer's stay)."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        m = _TEMP.match(tmp.name)
        if m and not _alive(int(m["pid"])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


# --- payloads: pickle (gitignored cache) or JSON (committed files, cannot carry code) -----

def to_portable(obj):
    """``obj`` as JSON-able data (floats exact): dicts, lists, tuples, numbers, strings, numpy
    arrays, torch tensors and pandas DataFrames; a TypeError for anything else."""
    import pandas as pd

    if obj is None or isinstance(obj, (bool, str, int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, list):
        return [to_portable(v) for v in obj]
    if isinstance(obj, tuple):
        return {"$": "tuple", "items": [to_portable(v) for v in obj]}
    if isinstance(obj, dict):
        return {"$": "dict", "items": [[to_portable(k), to_portable(v)] for k, v in obj.items()]}
    if isinstance(obj, pd.DataFrame):
        return {"$": "frame", "columns": [str(c) for c in obj.columns], "dtypes": [str(t) for t in obj.dtypes],
                "data": [to_portable(obj[c].tolist()) for c in obj.columns]}
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        arr = obj.detach().cpu().numpy()
        return {"$": "tensor", "dtype": str(arr.dtype), "shape": list(arr.shape), "hex": arr.tobytes().hex()}
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        if arr.dtype == object:
            raise TypeError("object arrays cannot be stored portably")
        return {"$": "ndarray", "dtype": str(arr.dtype), "shape": list(arr.shape), "hex": arr.tobytes().hex()}
    raise TypeError(f"cannot store a {type(obj).__name__} portably")


def from_portable(data):
    """The inverse of :func:`to_portable`."""
    import pandas as pd

    if isinstance(data, list):
        return [from_portable(v) for v in data]
    if not isinstance(data, dict):
        return data
    kind = data.get("$")
    if kind == "tuple":
        return tuple(from_portable(v) for v in data["items"])
    if kind == "dict":
        return {from_portable(k) if not isinstance(k, list) else tuple(k): from_portable(v) for k, v in data["items"]}
    if kind == "frame":
        cols = {c: pd.Series(from_portable(v), dtype=t) for c, t, v in zip(data["columns"], data["dtypes"], data["data"])}
        return pd.DataFrame(cols, columns=data["columns"])
    if kind in ("ndarray", "tensor"):
        arr = np.frombuffer(bytes.fromhex(data["hex"]), dtype=np.dtype(data["dtype"])).reshape(data["shape"]).copy()
        if kind == "ndarray":
            return arr
        import torch
        return torch.from_numpy(arr)
    raise ValueError(f"unknown portable value {str(data)[:80]}")


def encode_checkpoint(key: str, obj, portable: bool = False) -> bytes:
    """``MAGIC``, a JSON header (key, payload format, size, SHA-256), then the payload:
    JSON of :func:`to_portable` with ``portable``, else a pickle."""
    if portable:
        payload, fmt = json.dumps(to_portable(obj), separators=(",", ":")).encode(), "json"
    else:
        payload, fmt = pickle.dumps(obj, protocol=4), "pickle"
    header = json.dumps({"key": key, "format": fmt, "bytes": len(payload),
                         "sha256": hashlib.sha256(payload).hexdigest()})
    return MAGIC + header.encode() + b"\n" + payload


def write_checkpoint(path: Path, key: str, obj, portable: bool = False) -> None:
    """Store ``obj`` for job ``key`` at ``path`` (atomically, with its key and checksum)."""
    atomic_write_bytes(path, encode_checkpoint(key, obj, portable))


def checkpoint_header(data: bytes) -> dict | None:
    """The header (``key``, ``format``, ``bytes``, ``sha256``) of a checkpoint's bytes, or None
    when they do not start with a well-formed one. Only the first line after ``MAGIC`` is read."""
    if not data.startswith(MAGIC):
        return None
    head, sep, _ = data[len(MAGIC):].partition(b"\n")
    try:
        header = json.loads(head) if sep else None
    except ValueError:
        return None
    return header if isinstance(header, dict) and {"key", "bytes", "sha256"} <= set(header) else None


def read_checkpoint(path: Path, key: str, allow_pickle: bool = True, data: bytes | None = None):
    """The object stored at ``path`` for job ``key`` (``data``: the file's bytes, if already read).

    Raises:
        BadCheckpoint: naming ``path``, when the file is not a checkpoint, is cut short or
            padded, belongs to another job, its payload does not match its checksum, or it
            is a pickle where ``allow_pickle`` is False (committed files must not run code).
    """
    data = Path(path).read_bytes() if data is None else data
    if not data.startswith(MAGIC):
        raise BadCheckpoint(f"{path}: not a study checkpoint (garbage or an old format)")
    header = checkpoint_header(data)
    if header is None:
        raise BadCheckpoint(f"{path}: damaged header")
    payload = data[len(MAGIC):].partition(b"\n")[2]
    if header["key"] != key:
        raise BadCheckpoint(f"{path}: holds the result of another job ({header['key']})")
    if len(payload) != header["bytes"]:
        raise BadCheckpoint(f"{path}: {len(payload)} bytes of payload, header says {header['bytes']} (truncated?)")
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise BadCheckpoint(f"{path}: payload does not match its checksum (changed after it was written)")
    fmt = header.get("format", "pickle")
    if fmt == "json":
        return from_portable(json.loads(payload))
    if not allow_pickle:
        raise BadCheckpoint(f"{path}: a pickle, refused here (loading a pickle can run code)")
    return pickle.loads(payload)


# --- manifests of committed checkpoint folders ----------------------------------------------

MANIFEST = "MANIFEST.json"


def read_manifest(folder: Path) -> dict:
    """``{file name: sha256}`` of a committed checkpoint folder (empty if none)."""
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text())["sha256"] if path.exists() else {}


def _write_manifest(folder: Path, entries: dict) -> None:
    text = json.dumps({"note": "SHA-256 of every committed checkpoint; a file that does not match is refused",
                       "sha256": dict(sorted(entries.items()))}, indent=1)
    atomic_write_bytes(Path(folder) / MANIFEST, (text + "\n").encode())


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive advisory lock (``flock``) on the folder itself for a manifest's read-modify-write,
    so two processes writing into one checkpoint folder (say, two ``tools/run_decisive.py``, one
    per method) cannot lose each other's entries; no lock file is left behind. Where ``fcntl``
    does not exist (Windows) it does nothing."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def record_in_manifest(folder: Path, paths) -> None:
    """Add the SHA-256 of each file in ``paths`` to the folder's manifest (under a lock on the folder)."""
    digests = {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}
    with _folder_lock(folder):
        _write_manifest(folder, {**read_manifest(folder), **digests})


def prune_manifest(folder: Path) -> list[str]:
    """Drop the manifest entries of files that no longer exist (re-keyed or removed checkpoints);
    returns their names."""
    if not (Path(folder) / MANIFEST).exists():
        return []
    with _folder_lock(folder):
        entries = read_manifest(folder)
        gone = sorted(name for name in entries if not (Path(folder) / name).exists())
        if gone:
            _write_manifest(folder, {k: v for k, v in entries.items() if k not in gone})
    return gone


def load_or_set_aside(path: Path, key: str, manifest: dict | None = None, allow_pickle: bool = True):
    """``(True, obj)`` for a good checkpoint; ``(False, None)`` when it is missing or bad.

    With ``manifest`` (a committed folder's :func:`read_manifest`), the file must match its
    entry there and must not be a pickle (nor with ``allow_pickle=False``). A bad file is renamed ``<name>.bad-<unix time>``
    with a warning naming both paths, so the job is recomputed and the evidence kept.
    """
    path = Path(path)
    if not path.exists():
        return False, None
    data = path.read_bytes()
    try:
        if manifest is not None and manifest.get(path.name) != hashlib.sha256(data).hexdigest():
            raise BadCheckpoint(f"{path}: does not match its entry in {MANIFEST}"
                                + ("" if path.name in manifest else " (no entry)"))
        return True, read_checkpoint(path, key, allow_pickle=allow_pickle and manifest is None, data=data)
    except BadCheckpoint as err:
        aside = path.with_name(f"{path.name}.bad-{int(time.time())}")
        os.replace(path, aside)
        warnings.warn(f"bad checkpoint set aside and recomputed: {err}; moved to {aside}", stacklevel=2)
        return False, None
