"""Job keys and checkpoints (lib.cache): a cache is reused only when nothing that made it
changed; a damaged checkpoint is found by name, set aside and recomputed."""
import importlib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from lib import cache
from lib.cache import (
    BadCheckpoint,
    canonical,
    encode_checkpoint,
    job_key,
    read_checkpoint,
    write_checkpoint,
)
from lib.parallel import map_resumable
from lib.profiles import resolve
from tests.helpers import square_and_log

IGNORE = ("log_dir",)


def _jobs(log, xs):
    return [dict(label=f"job{x}", ignore=IGNORE, kwargs=dict(x=x, log_dir=str(log))) for x in xs]


def _calls(log):
    return len(list(log.iterdir()))


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """A package ``toypkg`` whose job multiplies by a constant imported from another module."""
    pkg = tmp_path / "src" / "toypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "consts.py").write_text('"""Constants."""\nSCALE = 2\n')
    (pkg / "jobs.py").write_text(textwrap.dedent('''
        """Jobs."""
        from toypkg import consts


        def scaled(x):
            """x times the scale."""
            return x * consts.SCALE
        '''))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    for name in [m for m in sys.modules if m.startswith("toypkg")]:
        del sys.modules[name]
    jobs = importlib.import_module("toypkg.jobs")
    yield pkg, jobs
    for name in [m for m in sys.modules if m.startswith("toypkg")]:
        del sys.modules[name]


def test_editing_a_constant_of_an_imported_module_recomputes_the_job(toy_package, tmp_path):
    pkg, jobs = toy_package
    run = lambda: map_resumable(jobs.scaled, [dict(kwargs=dict(x=5))], tmp_path / "cache")  # noqa: E731
    assert run() == [10]
    (pkg / "consts.py").write_text('"""Constants, reworded."""\n# a comment\nSCALE = 2\n')
    assert run() == [10] and len(list((tmp_path / "cache").glob("*.pkl"))) == 1  # prose: same key
    (pkg / "consts.py").write_text('"""Constants."""\nSCALE = 30\n')
    importlib.reload(sys.modules["toypkg.consts"])
    assert run() == [150] and len(list((tmp_path / "cache").glob("*.pkl"))) == 2


def test_the_code_closure_follows_imports_and_leaves_infrastructure_out():
    loco, sweeps = cache.code_closure("lib.bomrl.locomotion_study"), cache.code_closure("lib.trust_region_meta.fixed_kl")
    assert {"lib.trpo", "lib.policies", "lib.envs.locomotion", "lib.bomrl.sampler"} <= set(loco)
    assert {"lib.trpo", "lib.trust_region_meta.learning", "lib.trust_region_meta.metafeatures", "lib.rollouts"} <= set(sweeps)
    assert not set(loco) & {"lib.trust_region_meta.metafeatures", "lib.trust_region_meta.fqi", "lib.trust_region_meta.learning"}  # paper 1 edits keep paper 2's runs
    assert not (set(loco) | set(sweeps)) & cache.INFRASTRUCTURE


def test_a_cfg_field_changes_the_key_and_parallelism_does_not():
    from lib.trust_region_meta.meta_kl import meta_kl_run

    base = dict(env="cartpole", split="val", run=0, arch=(0, 0), n_updates=3, n_traj=4, seed=0,
                dataset_path="d.csv", kl_grid=(0.01, 0.1), horizon=2, min_leaf=1e-3, n_estimators=20)
    key = lambda **kw: job_key(meta_kl_run, {**base, **kw})  # noqa: E731
    assert len({key(), key(n_estimators=21), key(kl_grid=(1.0,)), key(max_points=10)}) == 4
    cfg = resolve("meta", "quick")
    assert canonical(cfg) == canonical(resolve("meta", "quick", n_jobs=1))
    assert canonical(cfg) != canonical(resolve("meta", "quick", n_estimators=7))


def test_float_keys_are_exact():
    k = lambda v: job_key(square_and_log, dict(x=v, log_dir="l"))  # noqa: E731
    assert k(0.1) != k(0.1000004) != k(0.1000001) != k(0.1)
    assert k(0.1) == k(np.float64(0.1)) and k(1) != k(1.0) and k(True) != k(1)
    assert canonical(float("nan")) == {"float": "nan"}
    with pytest.raises(TypeError, match="object"):
        canonical(object())


def test_a_sweep_with_close_lambdas_has_distinct_keys(tmp_path):
    from lib.parallel import plan_jobs
    from lib.trust_region_meta.fixed_kl import _one_run, sweep_jobs

    cfg = resolve("trpo_sweep", "quick", envs=("elikoeidis",), kl_grid=(0.1, 0.1000001), kl_extra={}, n_runs=1)
    keys, _, _ = plan_jobs(_one_run, sweep_jobs(cfg), tmp_path)
    assert len(set(keys)) == len(keys) == 2 * 2


def _bad(kind: str, path, other_key):
    good = path.read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "zeroed":
        path.write_bytes(b"\0" * len(good))
    elif kind == "garbage":
        path.write_bytes(os.urandom(len(good)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "swapped":  # another job's checkpoint copied over this one
        path.write_bytes(encode_checkpoint(other_key, 999))
    elif kind == "changed value":  # same header, one payload byte edited
        i = len(good) - 3
        path.write_bytes(good[:i] + bytes([good[i] ^ 1]) + good[i + 1:])


@pytest.mark.parametrize("kind", ["truncated", "zeroed", "garbage", "empty", "swapped", "changed value"])
def test_a_damaged_checkpoint_is_named_set_aside_and_recomputed(tmp_path, kind):
    log = tmp_path / "log"
    log.mkdir()
    jobs = _jobs(log, range(3))
    assert map_resumable(square_and_log, jobs, tmp_path / "cache") == [0, 1, 4]
    paths = sorted((tmp_path / "cache").glob("job1-*.pkl")), sorted((tmp_path / "cache").glob("job2-*.pkl"))
    target, other = paths[0][0], paths[1][0]
    _bad(kind, target, other.stem)
    with pytest.raises(BadCheckpoint, match=str(target.name)):
        read_checkpoint(target, target.stem)
    with pytest.warns(UserWarning, match="bad checkpoint set aside") as record:
        assert map_resumable(square_and_log, jobs, tmp_path / "cache") == [0, 1, 4]
    assert str(target) in str(record[0].message)
    assert _calls(log) == 4  # only job1 ran again
    assert len(list((tmp_path / "cache").glob("job1-*.pkl.bad-*"))) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert map_resumable(square_and_log, jobs, tmp_path / "cache") == [0, 1, 4]


def test_a_live_writers_temp_file_is_kept_and_a_dead_ones_removed(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live_tmp = folder / f".a.pkl.{os.getpid()}.0123abcd.tmp"
    dead_tmp = folder / f".b.pkl.{dead.pid}.0123abcd.tmp"
    live_tmp.write_bytes(b"half"), dead_tmp.write_bytes(b"half")
    map_resumable(square_and_log, _jobs(tmp_path, [1]), folder)
    assert live_tmp.exists() and not dead_tmp.exists()


def test_partial_state_of_a_locomotion_item_is_checked_too(tmp_path):
    path = tmp_path / "item.partial"
    write_checkpoint(path, "item", {"it": 3})
    assert read_checkpoint(path, "item") == {"it": 3}
    with pytest.raises(BadCheckpoint, match="another job"):
        read_checkpoint(path, "other-item")


def test_sampling_on_a_two_thread_dask_worker_equals_the_local_run(tmp_path, capsys):
    """A real scheduler and one worker process with 2 threads on 127.0.0.1: the samplers of
    two threads must not share MuJoCo environments."""
    from dask.distributed import Client, LocalCluster

    from lib.parallel import cluster_size, map_resumable
    from tests.helpers import sample_returns

    jobs = [dict(label=f"s{s}", kwargs=dict(family=fam, seed=s))
            for fam in ("halfcheetah-vel", "ant-vel") for s in range(3)]
    local = [sample_returns(**j["kwargs"]) for j in jobs]
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        assert cluster_size(client) == {"workers": 1, "threads": 2}
        remote = map_resumable(sample_returns, jobs, tmp_path / "cache", scheduler=cluster.scheduler_address, backend="dask")
    assert remote == local
    assert "1 workers, 2 threads" in capsys.readouterr().out  # the cluster's true size is printed


def test_prune_manifest_drops_the_entries_of_files_that_are_gone(tmp_path):
    from lib.cache import prune_manifest, read_manifest, record_in_manifest

    a, b = tmp_path / "a.ckpt", tmp_path / "b.ckpt"
    a.write_bytes(b"1")
    b.write_bytes(b"2")
    record_in_manifest(tmp_path, [a, b])
    b.unlink()
    assert prune_manifest(tmp_path) == ["b.ckpt"]
    assert list(read_manifest(tmp_path)) == ["a.ckpt"] and prune_manifest(tmp_path) == []


def _record_many(folder: str, tag: str, n: int) -> None:
    """One writer of the concurrency test below: ``n`` entries, one manifest write each."""
    from lib.cache import record_in_manifest

    for i in range(n):
        path = Path(folder) / f"{tag}-{i}.ckpt"
        path.write_bytes(f"{tag}{i}".encode())
        record_in_manifest(Path(folder), [path])


def test_two_processes_recording_into_one_manifest_lose_no_entry(tmp_path):
    """Two run_decisive.py processes (one per method) share a checkpoint folder: without the lock on
    the manifest's read-modify-write, one writer's entry is overwritten by the other's stale copy."""
    import multiprocessing as mp

    from lib.cache import read_manifest

    ctx = mp.get_context("spawn")
    n = 150
    writers = [ctx.Process(target=_record_many, args=(str(tmp_path), tag, n)) for tag in ("a", "b")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]
    assert len(read_manifest(tmp_path)) == 2 * n
