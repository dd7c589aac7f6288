"""One resumable parallel map: joblib on this machine, Dask on a cluster.

:func:`map_resumable` runs independent jobs and writes each result to its own checkpoint
file (:mod:`lib.cache`) as soon as it finishes; a re-run skips finished jobs, so an
interrupted run loses at most the jobs in flight (and jobs that checkpoint themselves,
like :func:`lib.bomrl.locomotion_study.run_item`, lose less). The assembled result is the
same as an uninterrupted run's, in job order, whatever the number of workers: each job
seeds itself from its arguments and runs single-threaded (:func:`single_threaded`).

A job is a dict:

* ``kwargs``: the arguments of ``fn``;
* ``label``, ``ignore``, ``extra``: its key (:func:`lib.cache.job_key`: the function, every
  argument except ``ignore``, ``extra`` and the code the function imports);
* ``group`` (optional): jobs with the same group run one after another in one worker, in
  job order, for jobs that share an expensive per-process setup (a memoised model); each is
  still checkpointed on its own.

Where the workers come from:

* ``backend="joblib"`` (default): ``n_workers`` local processes (1 = in this process);
* ``backend="dask"``, or a ``scheduler`` address (or ``$DASK_SCHEDULER_ADDRESS``): a Dask
  cluster (``dask scheduler`` / ``dask worker``, dask-jobqueue, Kubernetes...) whose size the
  cluster decides, or without an address a local cluster of ``n_workers`` single-threaded
  processes bound to the loopback address, started and shut down here. Checkpoints are
  written on the machine that runs the map. Workers must be able to import ``lib``
  (``pip install -e .`` on them).
"""
from __future__ import annotations

import contextlib
import logging
import numbers
import os
import warnings
from pathlib import Path
from typing import Callable

import torch
from joblib import Parallel, delayed

from lib.cache import (
    code_fingerprint,
    job_key,
    load_or_set_aside,
    read_manifest,
    record_in_manifest,
    remove_dead_temps,
    write_checkpoint,
)
from lib.progress import progress

BACKENDS = ("joblib", "dask")


@contextlib.contextmanager
def single_threaded():
    """Run the body with one torch thread, then restore the caller's count.

    Every job runs this way, in a worker or in process, so a result does not depend on the
    number of workers (torch splits reductions across threads) and a notebook kernel that
    runs jobs in process keeps its own thread count.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def plan_jobs(fn: Callable, jobs: list[dict], cache_dir, portable: bool = False) -> tuple[list[str], dict, dict]:
    """Keys, checkpoint paths and the results already on disk for ``jobs``.

    Bad checkpoints are set aside (and so recomputed); temp files of writers that died are
    removed, a live writer's are left alone. With ``portable`` (a committed folder)
    checkpoints are ``<key>.ckpt`` in JSON, listed in the folder's ``MANIFEST.json``; a
    pickle or a file that does not match the manifest is refused.

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


def _run_group(fn: Callable, group: list, portable: bool) -> list:
    """Run the ``(kwargs, key, path)`` of a group in order, checkpointing each as it ends
    (joblib: the worker writes, on this machine)."""
    out = []
    with single_threaded():
        for kwargs, key, path in group:
            result = fn(**kwargs)
            write_checkpoint(path, key, result, portable)
            out.append((key, result))
    return out


def _call_group(fn: Callable, kwargs_list: list) -> list:
    """Dask: run a group's jobs in order on a worker; the caller writes the checkpoints."""
    with single_threaded():
        return [fn(**kwargs) for kwargs in kwargs_list]


def check_n_workers(n_workers) -> int:
    """``n_workers`` if it is an integer >= 1, else a ValueError naming it."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    return int(n_workers)


def client_for(n_workers: int = 1, scheduler: str = ""):
    """A ``dask.distributed.Client``: to ``scheduler`` if given, else a local process cluster of
    ``n_workers`` (an integer >= 1: a cluster without workers would wait forever)."""
    from dask.distributed import Client, LocalCluster

    check_n_workers(n_workers)
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS", "")
    if address:
        return Client(address)
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)  # loopback only
    return Client(cluster)


# the machines of the Dask workers this process has used ({address: lib.numerics.describe()}); the
# manifests of the tables written afterwards record them (lib.io)
WORKER_MACHINES: dict = {}


def check_workers(client) -> dict:
    """Every worker's :func:`lib.numerics.describe`; raises a RuntimeError naming a worker whose pinned
    floating-point variables differ from this process's (a worker started without the study's pins:
    its low bits would differ). Records the descriptions in :data:`WORKER_MACHINES`."""
    from lib.numerics import PINNED, describe

    names = (*PINNED, "STUDY_NUMERICS")  # not the thread counts: Dask's nanny sets them to 1 on purpose
    here = {name: os.environ.get(name) for name in names}
    seen = client.run(describe)
    for address, machine in seen.items():
        theirs = {name: machine["environment"].get(name) for name in names}
        diff = sorted(name for name in names if theirs[name] != here[name])
        if diff:
            raise RuntimeError(f"Dask worker {address} runs with other floating-point settings: "
                               + ", ".join(f"{n}={theirs[n]!r} (here {here[n]!r})" for n in diff)
                               + "; start the workers with the study's pins (docs/cluster.md)")
    WORKER_MACHINES.update(seen)
    return seen


def cluster_size(client) -> dict:
    """``{"workers": n, "threads": n}`` of the cluster behind ``client``, as its scheduler counts them."""
    nthreads = client.nthreads()
    return {"workers": len(nthreads), "threads": int(sum(nthreads.values()))}


def _groups(jobs, keys, paths, done) -> list[list]:
    """The unfinished jobs as ``[(kwargs, key, path), ...]`` groups, in job order."""
    groups: dict = {}
    for job, key in zip(jobs, keys):
        if key not in done:
            name = ("group", job["group"]) if "group" in job else ("key", key)
            groups.setdefault(name, []).append((job["kwargs"], key, paths[key]))
    return list(groups.values())


LOKY_RESTART = "A worker stopped while some jobs were given to the executor"


def quiet_worker_restarts() -> None:
    """Ignore loky's warning that a worker stopped while jobs were queued (idempotent).

    loky replaces a worker whose memory grew past its leak threshold (after fitting Extra Trees,
    say) once the worker has finished its task and sent its result; the queued jobs go to the new
    worker, so nothing is lost or recomputed, but the warning printed into notebook outputs reads
    like a failure. Only this message from loky's own module is filtered; a worker killed mid-job
    still raises ``TerminatedWorkerError``."""
    warnings.filterwarnings("ignore", message=LOKY_RESTART, category=UserWarning,
                            module=r"joblib\.externals\.loky\.process_executor")


def _run_joblib(fn, groups, n_workers, portable):
    """Finished groups as ``[(key, result), ...]``; the workers have written the checkpoints."""
    if n_workers == 1:
        yield from (_run_group(fn, g, portable) for g in groups)
    else:
        quiet_worker_restarts()  # loky's executor only runs here
        yield from Parallel(n_jobs=n_workers, return_as="generator_unordered")(
            delayed(_run_group)(fn, g, portable) for g in groups)


def _run_dask(fn, groups, n_workers, scheduler, portable):
    """Finished groups as ``[(key, result), ...]``, checkpointed here as they arrive."""
    from dask.distributed import as_completed

    with client_for(min(n_workers, len(groups)), scheduler) as client:
        size = cluster_size(client)
        check_workers(client)
        print(f"Dask cluster at {client.scheduler.address}: {size['workers']} workers, {size['threads']} threads; "
              f"dashboard {client.dashboard_link}", flush=True)
        futures = {client.submit(_call_group, fn, [kw for kw, _, _ in g], key=f"study-{g[0][1]}", pure=False): g
                   for g in groups}
        for fut in as_completed(futures):
            finished = []
            for (_, key, path), result in zip(futures[fut], fut.result()):
                write_checkpoint(path, key, result, portable)
                finished.append((key, result))
            yield finished
        cluster = client.cluster
    if cluster is not None:
        cluster.close()


def map_resumable(fn: Callable, jobs: list[dict], cache_dir, n_workers: int = 1, backend: str = "joblib",
                  scheduler: str = "", desc: str | None = None, portable: bool = False) -> list:
    """``[fn(**job["kwargs"]) for job in jobs]`` with one checkpoint file per job.

    Args:
        fn: a module-level (picklable) function.
        jobs: dicts with ``"kwargs"`` and optionally ``"label"``, ``"ignore"``, ``"extra"``,
            ``"group"`` (module docstring).
        cache_dir: folder of the checkpoints (``<key>.pkl``; ``<key>.ckpt`` if ``portable``).
        n_workers: worker processes (joblib: 1 = in process; Dask: of a local cluster).
        backend: ``"joblib"`` or ``"dask"``; a ``scheduler`` address implies ``"dask"``.
        scheduler: the address of a running Dask scheduler.
        desc: progress-bar label.
        portable: checkpoints for a committed folder: JSON, listed in its ``MANIFEST.json``,
            so loading them never runs code.
    Returns:
        results in the order of ``jobs``.
    Raises:
        ValueError: an unknown backend, ``n_workers < 1`` or two identical jobs.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    check_n_workers(n_workers)
    keys, paths, done = plan_jobs(fn, jobs, cache_dir, portable)
    groups = _groups(jobs, keys, paths, done)
    if groups:
        dask = backend == "dask" or bool(scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS", ""))
        runs = (_run_dask(fn, groups, n_workers, scheduler, portable) if dask
                else _run_joblib(fn, groups, n_workers, portable))
        with progress(total=sum(map(len, groups)), desc=desc) as bar:
            for finished in runs:
                done.update(finished)
                if portable:  # listed as soon as written: a killed run keeps what it finished
                    record_in_manifest(Path(cache_dir), [paths[k] for k, _ in finished])
                bar.update(len(finished))
    return [done[k] for k in keys]
