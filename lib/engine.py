"""Distributed sweeps with Dask: the same notebook on a laptop or on a cluster.

:func:`map_checkpointed` runs independent jobs on a Dask cluster and writes each result to
its own checkpoint file (on the machine that runs the notebook) as soon as it arrives; a
re-run skips finished jobs, so an interrupted sweep loses only the jobs in flight (and
jobs that checkpoint themselves, like :func:`lib.locomotion_study.run_item`, lose less).

Where the workers come from:

* ``scheduler`` (or the environment variable ``DASK_SCHEDULER_ADDRESS``) set: connect to
  that running cluster (``dask scheduler`` / ``dask worker``, dask-jobqueue, Kubernetes...);
  the cluster decides how many workers there are, the notebook does not change;
* otherwise: a local cluster of ``n_workers`` single-threaded processes, started and shut
  down here -- nothing to set up.

Workers must be able to import ``lib`` (install the study with ``pip install -e .`` on them).
"""
from __future__ import annotations

import logging
import os
from typing import Callable

from lib.cache import record_in_manifest, write_checkpoint
from lib.io import plan_jobs
from lib.progress import progress


def client_for(n_workers: int = 1, scheduler: str = ""):
    """A ``dask.distributed.Client``: to ``scheduler`` if given, else a local process cluster."""
    from dask.distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS", "")
    if address:
        return Client(address)
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)  # loopback only
    return Client(cluster)


def cluster_size(client) -> dict:
    """``{"workers": n, "threads": n}`` of the cluster behind ``client``, as its scheduler counts them."""
    nthreads = client.nthreads()
    return {"workers": len(nthreads), "threads": int(sum(nthreads.values()))}


def map_checkpointed(fn: Callable, jobs: list[dict], cache_dir, n_workers: int = 1,
                     scheduler: str = "", desc: str | None = None, portable: bool = False) -> list:
    """``[fn(**job["kwargs"]) for job in jobs]`` on Dask, one checkpoint file per job.

    Args:
        fn: a module-level function. jobs: dicts with ``"kwargs"`` and optionally
            ``"label"``, ``"ignore"``, ``"extra"`` (the key of :func:`lib.cache.job_key`, the
            same as :func:`lib.io.map_cached`'s). cache_dir: folder of the checkpoints.
        n_workers: local workers when no scheduler is given. scheduler: a Dask address.
        portable: checkpoints for a committed folder: JSON, listed in its ``MANIFEST.json``
            (:func:`lib.io.plan_jobs`), so loading them never runs code.
    Returns:
        results in the order of ``jobs``.
    """
    keys, paths, done = plan_jobs(fn, jobs, cache_dir, portable)
    todo = [(job, key) for job, key in zip(jobs, keys) if key not in done]
    if todo:
        from dask.distributed import as_completed

        with client_for(min(n_workers, len(todo)), scheduler) as client:
            size = cluster_size(client)
            print(f"Dask cluster at {client.scheduler.address}: {size['workers']} workers, {size['threads']} threads",
                  flush=True)
            futures = {client.submit(fn, **job["kwargs"], key=f"study-{key}", pure=False): key for job, key in todo}
            for fut in progress(as_completed(futures), total=len(todo), desc=desc):
                key = futures[fut]
                done[key] = fut.result()
                write_checkpoint(paths[key], key, done[key], portable)
                if portable:
                    record_in_manifest(cache_dir, [paths[key]])
            cluster = client.cluster
        if cluster is not None:
            cluster.close()
    return [done[k] for k in keys]
