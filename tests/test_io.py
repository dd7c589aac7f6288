"""Checkpointed map: an interrupted run resumes without redoing finished work; manifests and
the table/manifest pair."""
import json
import os
import stat

import pandas as pd
import pytest

from lib.io import _pending, load_table, manifest_path, map_cached, recover_table, save_table, sha256
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
        map_cached(square_and_log, _jobs(log, range(6), fail_on=4), tmp_path / "cache", n_jobs=1)
    done_before = {p.name.split("-")[0] for p in (tmp_path / "cache").glob("*.pkl")}
    assert done_before == {"job0", "job1", "job2", "job3"}
    calls_before = len(list(log.iterdir()))
    out = map_cached(square_and_log, jobs, tmp_path / "cache", n_jobs=n_jobs)
    assert out == [x * x for x in range(6)]
    assert len(list(log.iterdir())) - calls_before == 2  # only job4 and job5 ran again
    assert map_cached(square_and_log, jobs, tmp_path / "cache", n_jobs=n_jobs) == out


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_cached_runs_a_group_in_one_worker_and_checkpoints_each_job(tmp_path, n_jobs):
    """Jobs of one group run in one process; each is checkpointed, so an interruption inside a
    group keeps the jobs finished before it."""
    def logged(log):
        return {int(name.split(".")[0]): name.split(".")[1] for name in (p.name for p in log.iterdir())}

    log, log2 = tmp_path / "log", tmp_path / "log2"
    log.mkdir(), log2.mkdir()
    jobs = [dict(j, group=f"g{j['kwargs']['x'] % 2}") for j in _jobs(log, range(8))]
    assert map_cached(square_and_log, jobs, tmp_path / "all", n_jobs=n_jobs) == [x * x for x in range(8)]
    pids = logged(log)
    assert len({pids[x] for x in (0, 2, 4, 6)}) == 1 and len({pids[x] for x in (1, 3, 5, 7)}) == 1
    jobs2 = [dict(j, kwargs={**j["kwargs"], "log_dir": str(log2)}) for j in jobs]
    with pytest.raises(KeyboardInterrupt):
        map_cached(square_and_log, [dict(j, kwargs={**j["kwargs"], "fail_on": 5}) for j in jobs2],
                   tmp_path / "cache", n_jobs=1)
    assert {p.name.split("-")[0] for p in (tmp_path / "cache").glob("*.pkl")} == {f"job{x}" for x in (0, 1, 2, 3, 4, 6)}
    before = set(logged(log2))
    assert map_cached(square_and_log, jobs2, tmp_path / "cache", n_jobs=n_jobs) == [x * x for x in range(8)]
    assert set(logged(log2)) - before == {5, 7}  # only the rest of the interrupted group ran again


def test_duplicate_jobs_rejected(tmp_path):
    job = dict(kwargs=dict(x=1, log_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="same function and arguments"):
        map_cached(square_and_log, [job, dict(job)], tmp_path / "c")


def test_save_table_writes_manifest_with_checksum_machine_and_git_state(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.1, 1 / 3]})
    path = save_table(df, tmp_path / "t.csv", params={"seed": 3})
    manifest = json.loads((tmp_path / "t.manifest.json").read_text())
    assert manifest["sha256"] == sha256(path) and manifest["rows"] == 2
    assert manifest["params"]["seed"] == 3 and "commit" in manifest and manifest["dirty"] in (True, False, None)
    machine = manifest["machine"]
    assert machine["cpu"] and machine["torch_cpu_capability"] and machine["blas"]
    assert {"python", "numpy", "scipy", "torch", "scikit-learn", "mujoco"} <= set(manifest["versions"])
    back = load_table(path)
    assert abs(back.b[1] - 1 / 3) < 1e-9


def test_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    for p in (path, manifest_path(path)):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_a_kill_between_table_and_manifest_is_repaired(tmp_path):
    """Simulate each point where a kill can stop save_table; every state is repaired."""
    path = tmp_path / "t.csv"
    save_table(pd.DataFrame({"a": [1]}), path)
    old_manifest = manifest_path(path).read_text()
    # kill after the pending manifest, before the CSV: the old pair stays, the pending one goes
    save_table(pd.DataFrame({"a": [2]}), path)
    new_csv, new_manifest = path.read_bytes(), manifest_path(path).read_text()
    path.write_bytes(b"a\n1\n"), manifest_path(path).write_text(old_manifest)
    _pending(path).write_text(new_manifest)
    recover_table(path)
    assert not _pending(path).exists() and load_table(path).a.tolist() == [1]
    # kill after the CSV, before the manifest: rolled forward to the new pair
    path.write_bytes(new_csv)
    _pending(path).write_text(new_manifest)
    assert load_table(path).a.tolist() == [2]
    assert manifest_path(path).read_text() == new_manifest and not _pending(path).exists()


def test_load_table_names_a_missing_or_changed_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="t.csv"):
        load_table(tmp_path / "t.csv")
    path = save_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    path.write_text("a\n7\n")
    with pytest.raises(ValueError, match="checksum"):
        load_table(path)
