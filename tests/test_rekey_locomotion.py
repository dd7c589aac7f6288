"""tools/rekey_locomotion.py on notebook 13's items: a checkpoint written under another code's
key is found by its item's label and moved to the current key with the same contents; an item
that has not started is passed over (a run in progress)."""
from pathlib import Path

import numpy as np

from lib.bomrl import locomotion_study as als
from lib.cache import read_checkpoint, write_checkpoint
from lib.profiles import resolve
from tests.helpers import load_script

tool = load_script("tools/rekey_locomotion.py")


def test_stale_partial_of_a_run_in_progress_is_rekeyed(tmp_path):
    cfg = resolve("locomotion_authors", "quick")
    jobs = als.jobs(cfg, tmp_path)
    first = jobs[0]
    current = Path(first["kwargs"]["partial"])
    stale = tmp_path / f"{current.stem[:-24]}{'0' * 24}.partial"  # same label, another code digest
    norm = dict(n=3, mean=np.array([0.5, -1.0]), m2=np.array([2.0, 0.25]), clip=5.0)  # as a real partial's filter
    state = dict(it=1, phi=[[1.0, 2.0]], norm=norm, history=[dict(iter=0, post_return=-3.5)], test=[])
    write_checkpoint(stale, stale.stem, state, portable=True)

    moves = tool.plan(tmp_path, cfg, complete=False)
    assert moves == [(stale, current, current.stem, None)]  # the other items have no file yet

    tool.rekey(tmp_path, moves, write=True)
    assert not stale.exists()
    assert tool._same(read_checkpoint(current, current.stem, allow_pickle=False), state)
    assert tool.plan(tmp_path, cfg, complete=False) == []  # now under the current key
    assert not tool._same(dict(norm=dict(norm, mean=np.array([0.5, -1.5]))), dict(norm=norm))


def test_renamed_method_is_found_under_its_earlier_label_and_relabelled(tmp_path):
    from lib.bomrl import locomotion_study as ls
    import pandas as pd

    cfg = resolve("locomotion", "quick", families=("halfcheetah-vel",), methods=("Alg(1)",), n_seeds=1)
    (job,) = ls.jobs(cfg, tmp_path)
    key = Path(job["kwargs"]["partial"]).stem
    earlier = tmp_path / f"halfcheetah-vel-BO-MRL_KL_-0-{'1' * 24}"
    table = pd.DataFrame(dict(family=["halfcheetah-vel"] * 2, method=["BO-MRL (KL)"] * 2, seed=[0] * 2, ret=[1.0, 2.0]))
    write_checkpoint(earlier.with_suffix(".ckpt"), earlier.name, {"history": table, "test": table}, portable=True)
    write_checkpoint(earlier.with_suffix(".partial"), earlier.name, dict(it=2, history=[], test=[]), portable=True)
    moves = tool.plan(tmp_path, cfg)
    assert moves == [(earlier.with_suffix(".ckpt"), tmp_path / f"{key}.ckpt", key, ("BO-MRL (KL)", "Alg(1)")),
                     (earlier.with_suffix(".partial"), tmp_path / f"{key}.partial", key, ("BO-MRL (KL)", "Alg(1)"))]
    tool.rekey(tmp_path, moves, write=True)
    out = read_checkpoint(tmp_path / f"{key}.ckpt", key, allow_pickle=False)
    assert set(out["test"].method) == {"Alg(1)"} and out["test"].ret.tolist() == [1.0, 2.0]
