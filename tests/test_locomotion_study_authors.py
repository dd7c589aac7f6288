"""The locomotion items on the authors' protocol: shapes, common random numbers and exact resumption."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.bomrl import locomotion_report as rep
from lib.bomrl import locomotion_study as st
from lib.parallel import single_threaded
from lib.profiles import resolve
from tests.helpers import Interrupted, interrupt_after, load_script


@pytest.fixture(autouse=True)
def one_thread():
    """As map_resumable runs every job (torch's threads are 10x slower on busy cores here)."""
    with single_threaded():
        yield


@pytest.fixture(scope="module")
def cfg():
    return replace(resolve("locomotion_authors", "quick"), horizon=5, n_workers=1)


def test_an_item_trains_and_tests(cfg, tmp_path):
    out = st.run_item(cfg, "halfcheetah-vel", "Alg(1)", 0, str(tmp_path / "a.partial"))
    hist, test = out["history"], out["test"]
    assert list(hist["iter"]) == [0, 1]
    assert (hist["steps"] == 2 * (2 + 4) * 10).all()  # 2 tasks x (2 + 2 x 2) trajectories x (5 + tail 5)
    assert {"stationarity", "inner_steps", "distance", "kl"} <= set(hist.columns)
    assert (hist["kl"] <= 1e-2 + 1e-12).all()
    assert sorted(test["iter"].unique()) == [0, 2] and sorted(test["step"].unique()) == [0, 1]
    assert len(test) == 2 * 2 * 20  # checkpoints x steps x the authors' 20 velocity goals (0.0 ... 1.9)


def test_methods_share_the_tasks_and_the_first_batch(cfg, tmp_path):
    a = st.run_item(cfg, "halfcheetah-dir", "Alg(3)", 0, str(tmp_path / "a.partial"))
    b = st.run_item(cfg, "halfcheetah-dir", "MAML-TRPO", 0, str(tmp_path / "b.partial"))
    assert a["history"]["pre_return"].iloc[0] == b["history"]["pre_return"].iloc[0]
    t0a, t0b = (x["test"].query("iter == 0 and step == 0")["ret"].to_numpy() for x in (a, b))
    np.testing.assert_array_equal(t0a, t0b)
    np.testing.assert_array_equal(st.train_tasks(cfg, st.protocol(cfg), "halfcheetah-dir", 0, 1), [-1.0, 1.0])


def test_a_resumed_item_equals_an_uninterrupted_one(cfg, tmp_path):
    whole = st.run_item(cfg, "halfcheetah-vel", "Alg(2)", 0, str(tmp_path / "whole.partial"))
    partial = str(tmp_path / "cut.partial")
    with interrupt_after(1), pytest.raises(Interrupted):  # stopped after iteration 1
        st.run_item(cfg, "halfcheetah-vel", "Alg(2)", 0, partial)
    resumed = st.run_item(cfg, "halfcheetah-vel", "Alg(2)", 0, partial)
    for name in ("history", "test"):
        timing = [c for c in whole[name].columns if c.endswith("_s")]
        pd.testing.assert_frame_equal(whole[name].drop(columns=timing), resumed[name].drop(columns=timing))


def test_unknown_method_is_named(cfg, tmp_path):
    with pytest.raises(ValueError, match="BO-MRL"):
        st.jobs(replace(cfg, methods=("BO-MRL",)), tmp_path)


def test_best_so_far_selection_leaves_training_unchanged_and_meta_tests_the_best(cfg, tmp_path):
    """The authors' evaluation after every outer step past ``select_after`` draws its own data:
    the training history is that of a run without it; the ``selected`` table meta-tests the
    policy of the best evaluation (their test scripts load it)."""
    plain = st.run_item(cfg, "halfcheetah-vel", "MAML-TRPO (authors)", 0, str(tmp_path / "a.partial"))
    chosen = st.run_item(replace(cfg, best_so_far=True, select_after=0), "halfcheetah-vel", "MAML-TRPO (authors)", 0,
                         str(tmp_path / "b.partial"))
    hist = chosen["history"]
    timing = [c for c in hist.columns if c.endswith("_s")]
    pd.testing.assert_frame_equal(plain["history"].drop(columns=timing), hist.drop(columns=timing + ["eval_return"]))
    pd.testing.assert_frame_equal(plain["test"], chosen["test"])
    best = int(hist["iter"].iloc[hist["eval_return"].to_numpy().argmax()]) + 1  # the policy after that outer step
    sel = chosen["selected"]
    assert set(sel["iter"]) == {best} and len(sel) == len(chosen["test"].query("iter == 2"))
    if best == 2:  # the last iterate: the same policy, environment seeds and therefore returns
        np.testing.assert_array_equal(sel["ret"].to_numpy(), chosen["test"].query("iter == 2")["ret"].to_numpy())
    later = st.run_item(replace(cfg, best_so_far=True, select_after=1), "halfcheetah-vel", "MAML-TRPO (authors)", 0,
                        str(tmp_path / "c.partial"))
    assert later["history"]["eval_return"].isna().tolist() == [True, False]  # evaluated after iteration 2 only
    assert set(later["selected"]["iter"]) == {2}


def test_decisive_config_is_notebook_13s_run_extended_to_500():
    """The config of tools/run_decisive.py: its Alg(1) seeds 0-1 continue notebook 13's committed
    states (tools/extend_locomotion.py), so it must be notebook 13's full config, longer."""
    tool = load_script("tools/extend_locomotion.py")
    full = resolve("locomotion_authors", "full")
    expected = replace(tool.longer(full, 500, st.DECISIVE_CHECKPOINTS), **st.DECISIVE)
    assert st.decisive_config(full) == expected
    quick = st.decisive_config(resolve("locomotion_authors", "quick"))
    assert quick.best_so_far and quick.n_seeds == 2 and quick.n_iters == resolve("locomotion_authors", "quick").n_iters


def test_a_process_on_some_methods_or_families_writes_the_same_items_as_the_whole_run(tmp_path):
    """tools/run_decisive.py --methods/--families: one process per (method, family) shares the cores;
    each of its items has the file name (key) it has in the whole run, so the processes resume and
    complete one run between them."""
    full = st.decisive_config(resolve("locomotion_authors", "full"))
    names = {Path(j["kwargs"]["partial"]).name for j in st.jobs(full, tmp_path)}
    parts = [replace(full, methods=(m,), families=(f,)) for m in full.methods for f in full.families]
    part_names = [{Path(j["kwargs"]["partial"]).name for j in st.jobs(p, tmp_path)} for p in parts]
    assert set().union(*part_names) == names and sum(map(len, part_names)) == len(names)


def test_read_all_reads_a_running_item_without_computing(cfg, tmp_path):
    one = replace(cfg, families=("halfcheetah-dir",), methods=("Alg(1)", "MAML-TRPO (authors)"))
    assert rep.read_all(one, tmp_path) == {}
    (job, _) = st.jobs(one, tmp_path)
    with interrupt_after(1), pytest.raises(Interrupted):
        st.run_item(one, "halfcheetah-dir", "Alg(1)", 0, job["kwargs"]["partial"])
    got = rep.read_all(one, tmp_path)
    assert list(got["history"]["iter"]) == [0] and set(got["test"]["iter"]) == {0}
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(job["kwargs"]["partial"]).name]


def test_ant_items_train_and_test_on_the_authors_protocol(cfg, tmp_path):
    """Ant velocity (goals U[0, 3], their 30 test goals 0.0 ... 2.9) and direction (their meta-batch
    of 4 x 40 trajectories at full size), 27-d observations, both for Alg(1) and their MAML-TRPO."""
    ant = replace(cfg, families=("ant-vel", "ant-dir"))
    assert resolve("locomotion_authors", "full").n_traj["ant-dir"] == 40
    proto = st.protocol(ant)
    assert st.dims("ant-vel", proto) == (27, 8)
    goals = st.train_tasks(replace(ant, meta_batch=dict(ant.meta_batch, **{"ant-vel": 400})), proto, "ant-vel", 0, 3)
    assert 0 <= goals.min() < 0.1 and 2.9 < goals.max() <= 3.0
    vel = st.run_item(ant, "ant-vel", "Alg(1)", 0, str(tmp_path / "v.partial"))
    assert len(vel["test"]) == 2 * 2 * 30 and vel["test"]["task"].max() == 2.9
    assert (vel["history"]["steps"] == 2 * (2 + 4) * 10).all()
    direction = st.run_item(ant, "ant-dir", "MAML-TRPO (authors)", 0, str(tmp_path / "d.partial"))
    assert sorted(direction["test"]["task"].unique()) == [-1.0, 1.0]
    assert direction["history"][["pre_return", "post_return"]].notna().all().all()


def test_a_decisive_item_resumes_bit_identically_with_its_best_so_far_state(cfg, tmp_path):
    """The decisive pair's items carry the evaluation and the best-so-far policy in their checkpoint:
    stopped after iteration 1 and resumed, an item equals an uninterrupted one, selection included."""
    dcfg = replace(st.decisive_config(cfg), select_after=0, n_iters=dict.fromkeys(cfg.n_iters, 3),
                   checkpoints=dict.fromkeys(cfg.checkpoints, (0, 3)))
    whole = st.run_item(dcfg, "halfcheetah-dir", "MAML-TRPO (authors)", 1, str(tmp_path / "whole.partial"))
    cut = str(tmp_path / "cut.partial")
    with interrupt_after(1), pytest.raises(Interrupted):
        st.run_item(dcfg, "halfcheetah-dir", "MAML-TRPO (authors)", 1, cut)
    resumed = st.run_item(dcfg, "halfcheetah-dir", "MAML-TRPO (authors)", 1, cut)
    for name in ("history", "test", "selected"):
        timing = [c for c in whole[name].columns if c.endswith("_s")]
        pd.testing.assert_frame_equal(whole[name].drop(columns=timing), resumed[name].drop(columns=timing))
    assert whole["history"]["eval_return"].notna().all()


def test_two_run_decisive_processes_cannot_run_the_same_items(tmp_path):
    """tools/run_decisive.py locks each (method, family, seed) it runs: a second process whose filter
    overlaps stops with a message naming the item; one with other families or seeds runs; a lock is
    freed when released."""
    tool = load_script("tools/run_decisive.py")
    full = st.decisive_config(resolve("locomotion_authors", "full"))
    n = full.n_seeds
    first = tool.hold_items(replace(full, methods=("Alg(1)",)), tmp_path)
    assert len(first) == len(full.families) * n
    with pytest.raises(SystemExit, match=r"Alg\(1\) on halfcheetah-dir, seed 0, is being run"):
        tool.hold_items(replace(full, families=("halfcheetah-dir",)), tmp_path)
    other = tool.hold_items(replace(full, methods=("MAML-TRPO (authors)",)), tmp_path)
    assert len(other) == len(full.families) * n
    for h in first:
        h.close()
    assert len(tool.hold_items(replace(full, families=("halfcheetah-dir",)), tmp_path / "other")) == len(full.methods) * n
    again = tool.hold_items(replace(full, methods=("Alg(1)",)), tmp_path, seeds=[1])  # released: free again
    assert len(again) == len(full.families)
    beside = tool.hold_items(replace(full, methods=("Alg(1)",)), tmp_path, seeds=[0, 2])  # other seeds: free
    assert len(beside) == 2 * len(full.families)
    with pytest.raises(SystemExit, match=r"seed 2, is being run"):
        tool.hold_items(replace(full, methods=("Alg(1)",), families=("halfcheetah-vel",)), tmp_path, seeds=[2])


def test_seed_filter_keeps_each_items_key(tmp_path):
    """jobs(..., seeds): the chosen seeds' jobs, each under the checkpoint name it has in the whole run,
    so processes split by seed (tools/run_decisive.py --seeds) complete one run between them; a seed
    the run lacks is named."""
    full = st.decisive_config(resolve("locomotion_authors", "full"))
    names = {Path(j["kwargs"]["partial"]).name for j in st.jobs(full, tmp_path)}
    parts = [st.jobs(full, tmp_path, [s]) for s in range(full.n_seeds)]
    assert all({j["kwargs"]["s"] for j in p} == {s} for s, p in enumerate(parts))
    part_names = [{Path(j["kwargs"]["partial"]).name for j in p} for p in parts]
    assert set().union(*part_names) == names and sum(map(len, part_names)) == len(names)
    with pytest.raises(ValueError, match=r"seeds: 3 is not a seed index"):
        st.jobs(full, tmp_path, [0, 3])


def test_run_decisive_names_a_bad_seed(tmp_path, capsys):
    """tools/run_decisive.py --seeds 3: the option and the value in the error, before anything runs."""
    tool = load_script("tools/run_decisive.py")
    with pytest.raises(SystemExit):
        tool.main(["--status", "--seeds", "0", "3", "--out", str(tmp_path)])
    assert "--seeds: 3 is not a seed index" in capsys.readouterr().err


def test_run_all_runs_only_the_chosen_seeds(cfg, tmp_path):
    """run_all(..., seeds) (tools/run_decisive.py --seeds): on Dask, only the chosen seeds' items, under
    their whole-run names."""
    dcfg = replace(st.decisive_config(cfg), methods=("MAML-TRPO (authors)",), families=("halfcheetah-dir",),
                   select_after=0, n_iters=dict.fromkeys(cfg.n_iters, 2), checkpoints=dict.fromkeys(cfg.checkpoints, (0, 2)))
    got = st.run_all(dcfg, tmp_path, [1])
    assert set(got["history"]["seed"]) == {1} and list(got["history"]["iter"]) == [0, 1]
    (whole,) = [j for j in st.jobs(dcfg, tmp_path) if j["kwargs"]["s"] == 1]
    assert Path(whole["kwargs"]["partial"]).with_suffix(".ckpt").exists()
    assert not [j for j in st.jobs(dcfg, tmp_path) if j["kwargs"]["s"] != 1
                and Path(j["kwargs"]["partial"]).with_suffix(".ckpt").exists()]
