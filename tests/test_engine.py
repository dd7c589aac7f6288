"""The Dask engine (lib.engine): results in job order, checkpoints reused, bad input named."""
import pickle

import pytest

from lib.engine import map_checkpointed
from tests.helpers import square_and_log


def test_map_on_a_local_cluster_and_resume(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    jobs = [dict(key=f"j{x}", kwargs=dict(x=x, log_dir=str(logs))) for x in range(5)]
    # a checkpoint left by an earlier (interrupted) run is used as is, not recomputed
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "j3.pkl").write_bytes(pickle.dumps(-1))
    out = map_checkpointed(square_and_log, jobs, tmp_path / "cache", n_workers=2)
    assert out == [0, 1, 4, -1, 16]
    assert sorted(int(p.name.split(".")[0]) for p in logs.iterdir()) == [0, 1, 2, 4]
    again = map_checkpointed(square_and_log, jobs, tmp_path / "cache", n_workers=2)
    assert again == out and len(list(logs.iterdir())) == 4  # nothing ran twice


def test_duplicate_keys_and_bad_worker_count_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        map_checkpointed(square_and_log, [dict(key="a", kwargs={}), dict(key="a", kwargs={})], tmp_path)
    with pytest.raises(ValueError, match="n_workers"):
        map_checkpointed(square_and_log, [dict(key="a", kwargs=dict(x=1, log_dir=str(tmp_path)))],
                         tmp_path, n_workers=0)
