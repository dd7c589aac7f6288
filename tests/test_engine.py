"""The Dask engine (lib.engine): results in job order, checkpoints reused, bad input named;
sampling thread-safe on a real scheduler with a 2-thread worker; loopback only."""
import pytest

from lib.cache import job_key, write_checkpoint
from lib.engine import map_checkpointed
from tests.helpers import square_and_log

IGNORE = ("log_dir",)


def test_map_on_a_local_cluster_and_resume(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    jobs = [dict(label=f"j{x}", ignore=IGNORE, kwargs=dict(x=x, log_dir=str(logs))) for x in range(5)]
    # a checkpoint left by an earlier (interrupted) run is used as is, not recomputed
    key3 = job_key(square_and_log, jobs[3]["kwargs"], "j3", IGNORE)
    write_checkpoint(tmp_path / "cache" / f"{key3}.pkl", key3, -1)
    out = map_checkpointed(square_and_log, jobs, tmp_path / "cache", n_workers=2)
    assert out == [0, 1, 4, -1, 16]
    assert sorted(int(p.name.split(".")[0]) for p in logs.iterdir()) == [0, 1, 2, 4]
    again = map_checkpointed(square_and_log, jobs, tmp_path / "cache", n_workers=2)
    assert again == out and len(list(logs.iterdir())) == 4  # nothing ran twice


def test_duplicate_jobs_and_bad_worker_count_are_refused(tmp_path):
    job = dict(kwargs=dict(x=1, log_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="same function and arguments"):
        map_checkpointed(square_and_log, [job, dict(job)], tmp_path)
    with pytest.raises(ValueError, match="n_workers"):
        map_checkpointed(square_and_log, [job], tmp_path, n_workers=0)


def test_the_local_cluster_listens_on_the_loopback_address_only():
    """Scheduler, dashboard and workers of client_for's local cluster: no socket on 0.0.0.0 or ::."""
    import psutil

    from lib.engine import client_for

    with client_for(n_workers=1) as client:
        pids = {psutil.Process().pid} | {p.pid for p in psutil.Process().children(recursive=True)}
        listening = [c for c in psutil.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.pid in pids]
        dashboard = client.dashboard_link
        client.cluster.close()
    assert listening, "the cluster should listen somewhere"
    assert all(c.laddr.ip in ("127.0.0.1", "::1") for c in listening), [c.laddr for c in listening]
    assert "127.0.0.1" in dashboard
