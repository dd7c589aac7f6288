"""Checkpointed map: an interrupted run resumes without redoing finished work; manifests."""
import json

import pandas as pd
import pytest

from lib.io import map_cached, save_table, sha256
from tests.helpers import square_and_log


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_map_cached_resumes_after_interruption(tmp_path, n_jobs):
    log = tmp_path / "log"
    log.mkdir()
    jobs = [dict(key=f"job{x}", kwargs=dict(x=x, log_dir=str(log))) for x in range(6)]
    interrupted = [dict(key=j["key"], kwargs={**j["kwargs"], "fail_on": 4}) for j in jobs]
    with pytest.raises(KeyboardInterrupt):
        map_cached(square_and_log, interrupted, tmp_path / "cache", n_jobs=1)
    done_before = {p.stem for p in (tmp_path / "cache").glob("*.pkl")}
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
    jobs = [dict(key=f"job{x}", group=f"g{x % 2}", kwargs=dict(x=x, log_dir=str(log))) for x in range(8)]
    assert map_cached(square_and_log, jobs, tmp_path / "all", n_jobs=n_jobs) == [x * x for x in range(8)]
    pids = logged(log)
    assert len({pids[x] for x in (0, 2, 4, 6)}) == 1 and len({pids[x] for x in (1, 3, 5, 7)}) == 1
    jobs2 = [dict(j, kwargs={**j["kwargs"], "log_dir": str(log2)}) for j in jobs]
    with pytest.raises(KeyboardInterrupt):
        map_cached(square_and_log, [dict(j, kwargs={**j["kwargs"], "fail_on": 5}) for j in jobs2],
                   tmp_path / "cache", n_jobs=1)
    assert {p.stem for p in (tmp_path / "cache").glob("*.pkl")} == {f"job{x}" for x in (0, 1, 2, 3, 4, 6)}
    before = set(logged(log2))
    assert map_cached(square_and_log, jobs2, tmp_path / "cache", n_jobs=n_jobs) == [x * x for x in range(8)]
    assert set(logged(log2)) - before == {5, 7}  # only the rest of the interrupted group ran again


def test_duplicate_keys_rejected(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        map_cached(square_and_log, [dict(key="a", kwargs={}), dict(key="a", kwargs={})], tmp_path)


def test_save_table_writes_manifest_with_checksum(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.1, 1 / 3]})
    path = save_table(df, tmp_path / "t.csv", params={"seed": 3})
    manifest = json.loads((tmp_path / "t.manifest.json").read_text())
    assert manifest["sha256"] == sha256(path) and manifest["rows"] == 2
    assert manifest["params"]["seed"] == 3 and "commit" in manifest
    back = pd.read_csv(path)
    assert abs(back.b[1] - 1 / 3) < 1e-9
