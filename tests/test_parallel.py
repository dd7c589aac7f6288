"""The resumable map (lib.parallel), joblib and Dask: results in job order, an interrupted run
resumes without redoing finished work, groups run in one worker, checkpoints reused, bad input
named, one torch thread per job; the local Dask cluster listens on loopback only."""
import pytest

from lib.cache import job_key, write_checkpoint
from lib.parallel import map_resumable
from tests.helpers import square_and_log

IGNORE = ("log_dir", "fail_on")  # the log folder and the test's interrupt do not change x * x


def _jobs(log, xs, **extra):
    return [dict(label=f"job{x}", ignore=IGNORE, kwargs=dict(x=x, log_dir=str(log), **extra)) for x in xs]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_cached_resumes_after_interruption(tmp_path, n_jobs):
    log = tmp_path / "log"
    log.mkdir()
    jobs = _jobs(log, range(6))
    with pytest.raises(KeyboardInterrupt):
        map_resumable(square_and_log, _jobs(log, range(6), fail_on=4), tmp_path / "cache", n_workers=1)
    done_before = {p.name.split("-")[0] for p in (tmp_path / "cache").glob("*.pkl")}
    assert done_before == {"job0", "job1", "job2", "job3"}
    calls_before = len(list(log.iterdir()))
    out = map_resumable(square_and_log, jobs, tmp_path / "cache", n_workers=n_jobs)
    assert out == [x * x for x in range(6)]
    assert len(list(log.iterdir())) - calls_before == 2  # only job4 and job5 ran again
    assert map_resumable(square_and_log, jobs, tmp_path / "cache", n_workers=n_jobs) == out


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_cached_runs_a_group_in_one_worker_and_checkpoints_each_job(tmp_path, n_jobs):
    """Jobs of one group run in one process; each is checkpointed, so an interruption inside a
    group keeps the jobs finished before it."""
    def logged(log):
        return {int(name.split(".")[0]): name.split(".")[1] for name in (p.name for p in log.iterdir())}

    log, log2 = tmp_path / "log", tmp_path / "log2"
    log.mkdir(), log2.mkdir()
    jobs = [dict(j, group=f"g{j['kwargs']['x'] % 2}") for j in _jobs(log, range(8))]
    assert map_resumable(square_and_log, jobs, tmp_path / "all", n_workers=n_jobs) == [x * x for x in range(8)]
    pids = logged(log)
    assert len({pids[x] for x in (0, 2, 4, 6)}) == 1 and len({pids[x] for x in (1, 3, 5, 7)}) == 1
    jobs2 = [dict(j, kwargs={**j["kwargs"], "log_dir": str(log2)}) for j in jobs]
    with pytest.raises(KeyboardInterrupt):
        map_resumable(square_and_log, [dict(j, kwargs={**j["kwargs"], "fail_on": 5}) for j in jobs2],
                   tmp_path / "cache", n_workers=1)
    assert {p.name.split("-")[0] for p in (tmp_path / "cache").glob("*.pkl")} == {f"job{x}" for x in (0, 1, 2, 3, 4, 6)}
    before = set(logged(log2))
    assert map_resumable(square_and_log, jobs2, tmp_path / "cache", n_workers=n_jobs) == [x * x for x in range(8)]
    assert set(logged(log2)) - before == {5, 7}  # only the rest of the interrupted group ran again


def test_duplicate_jobs_rejected(tmp_path):
    job = dict(kwargs=dict(x=1, log_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="same function and arguments"):
        map_resumable(square_and_log, [job, dict(job)], tmp_path / "c")



def test_map_on_a_local_cluster_and_resume(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    jobs = [dict(label=f"j{x}", ignore=IGNORE, kwargs=dict(x=x, log_dir=str(logs))) for x in range(5)]
    # a checkpoint left by an earlier (interrupted) run is used as is, not recomputed
    key3 = job_key(square_and_log, jobs[3]["kwargs"], "j3", IGNORE)
    write_checkpoint(tmp_path / "cache" / f"{key3}.pkl", key3, -1)
    out = map_resumable(square_and_log, jobs, tmp_path / "cache", n_workers=2, backend="dask")
    assert out == [0, 1, 4, -1, 16]
    assert sorted(int(p.name.split(".")[0]) for p in logs.iterdir()) == [0, 1, 2, 4]
    again = map_resumable(square_and_log, jobs, tmp_path / "cache", n_workers=2, backend="dask")
    assert again == out and len(list(logs.iterdir())) == 4  # nothing ran twice


def test_duplicate_jobs_and_bad_worker_count_are_refused(tmp_path):
    job = dict(kwargs=dict(x=1, log_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="same function and arguments"):
        map_resumable(square_and_log, [job, dict(job)], tmp_path, backend="dask")
    with pytest.raises(ValueError, match="n_workers"):
        map_resumable(square_and_log, [job], tmp_path, n_workers=0, backend="dask")


def test_the_local_cluster_listens_on_the_loopback_address_only():
    """Scheduler, dashboard and workers of client_for's local cluster: no socket on 0.0.0.0 or ::."""
    import psutil

    from lib.parallel import client_for

    with client_for(n_workers=1) as client:
        pids = {psutil.Process().pid} | {p.pid for p in psutil.Process().children(recursive=True)}
        listening = [c for c in psutil.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.pid in pids]
        dashboard = client.dashboard_link
        client.cluster.close()
    assert listening, "the cluster should listen somewhere"
    assert all(c.laddr.ip in ("127.0.0.1", "::1") for c in listening), [c.laddr for c in listening]
    assert "127.0.0.1" in dashboard


def test_each_job_runs_single_threaded_and_the_callers_threads_are_restored(tmp_path):
    import torch

    from tests.helpers import torch_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        jobs = [dict(label=f"t{i}", kwargs=dict(i=i)) for i in range(3)]
        assert map_resumable(torch_threads, jobs, tmp_path / "in", n_workers=1) == [1, 1, 1]
        assert torch.get_num_threads() == 2
        assert map_resumable(torch_threads, jobs, tmp_path / "pool", n_workers=2) == [1, 1, 1]
    finally:
        torch.set_num_threads(before)


def test_an_unknown_backend_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown backend 'spark'"):
        map_resumable(square_and_log, [], tmp_path, backend="spark")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_a_cluster_without_workers_is_refused_by_name(bad):
    """``client_for(0)`` used to start a cluster with no workers that waits forever."""
    from lib.parallel import client_for

    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        client_for(bad)


def test_a_cluster_given_as_an_address_is_checked_and_its_workers_are_recorded(tmp_path, monkeypatch, capsys):
    """map_resumable on a running scheduler (a LocalCluster given by address): the workers' floating-point pins
    are compared with this process's, their machines reach the next manifest, and a worker with other pins is
    refused by name."""
    import json

    import pandas as pd
    from dask.distributed import Client, LocalCluster

    from lib import parallel
    from lib.io import save_table
    from tests.helpers import square_and_log

    monkeypatch.setattr(parallel, "WORKER_MACHINES", {})
    jobs = [dict(label=f"x{x}", kwargs=dict(x=x, log_dir=str(tmp_path))) for x in range(3)]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:
        out = parallel.map_resumable(square_and_log, jobs, tmp_path / "cache", scheduler=cluster.scheduler_address)
        assert out == [0, 1, 4] and "dashboard http://127.0.0.1:" in capsys.readouterr().out
        assert len(parallel.WORKER_MACHINES) == 1
        save_table(pd.DataFrame(dict(a=[1])), tmp_path / "t.csv", params={"seed": 0})
        manifest = json.loads((tmp_path / "t.manifest.json").read_text())
        assert manifest["workers"] == list(parallel.WORKER_MACHINES.values())
        with Client(cluster.scheduler_address) as client:
            client.run(lambda: __import__("os").environ.__setitem__("MKL_CBWR", "COMPATIBLE"))
            with pytest.raises(RuntimeError, match="MKL_CBWR='COMPATIBLE'"):
                parallel.check_workers(client)


def test_only_lokys_worker_restart_warning_is_quieted():
    """The filter drops loky's 'worker stopped' notice (a memory-leak restart after a finished task)
    and nothing else: the same text from another module and other loky warnings still show."""
    import warnings

    from lib.parallel import LOKY_RESTART, quiet_worker_restarts

    def shown(message, module):
        with warnings.catch_warnings(record=True) as caught:
            quiet_worker_restarts()
            warnings.warn_explicit(message, UserWarning, "process_executor.py", 787, module=module)
        return len(caught)

    loky = "joblib.externals.loky.process_executor"
    assert shown(LOKY_RESTART + ". This can be caused by a too short worker timeout or by a memory leak.", loky) == 0
    assert shown(LOKY_RESTART + ".", "lib.study") == 1
    assert shown("A worker process managed by the executor was unexpectedly terminated.", loky) == 1
