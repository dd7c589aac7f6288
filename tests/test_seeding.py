"""Keyed random streams: the same numbers in any process and in any order of the work items."""
import subprocess
import sys
from pathlib import Path

import numpy as np

from lib.parallel import map_resumable
from lib.seeding import rng, torch_seed

ROOT = Path(__file__).resolve().parent.parent
PROBE = "from lib.seeding import rng, torch_seed; print(rng(3, 'task', 'cartpole', 7).integers(0, 2**62), torch_seed(3, 'init'))"


def test_string_keys_give_the_same_stream_in_another_process_with_another_hash_seed():
    here = f"{rng(3, 'task', 'cartpole', 7).integers(0, 2**62)} {torch_seed(3, 'init')}"
    for hash_seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True,
                             env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
        assert out.stdout.strip() == here


def test_streams_do_not_depend_on_the_order_in_which_they_are_drawn():
    keys = [("task", env, r) for env in ("minigolf", "cartpole") for r in range(3)]
    forward = {k: rng(0, *k).normal(size=4) for k in keys}
    backward = {k: rng(0, *k).normal(size=4) for k in reversed(keys)}
    assert all(np.array_equal(forward[k], backward[k]) for k in keys)
    assert len({forward[k].tobytes() for k in keys}) == len(keys)  # distinct keys, distinct streams


def test_a_sweep_gives_the_same_runs_in_any_job_order_and_worker_count(tmp_path):
    from lib.profiles import resolve
    from lib.trust_region_meta.fixed_kl import _one_run, sweep_jobs

    cfg = resolve("trpo_sweep", "quick", envs=("elikoeidis",), kl_grid=(0.01, 0.1), n_runs=2,
                  n_updates={"elikoeidis": 2}, n_traj={"elikoeidis": 4})
    jobs = sweep_jobs(cfg)
    one = map_resumable(_one_run, jobs, tmp_path / "a", n_workers=1)
    rev = map_resumable(_one_run, jobs[::-1], tmp_path / "b", n_workers=2)[::-1]
    assert all(x.equals(y) for x, y in zip(one, rev))
