"""Notebook 13's summaries: the authors' committed numbers as read, and the comparisons on
synthetic tables whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from lib.bomrl import authors_data
from lib.bomrl import locomotion_report as rep
from tests.helpers import Interrupted, interrupt_after


def test_authors_logs_are_their_500_iterations_in_blocks_of_5():
    raw = pd.read_csv(authors_data.LOGS_FILE)
    blocks = authors_data.authors_logs(block=5)
    assert set(map(tuple, blocks[["family", "method"]].drop_duplicates().to_numpy())) == {
        (f, m) for f in ("halfcheetah-vel", "halfcheetah-dir") for m in ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO")}
    one = raw[(raw.family == "halfcheetah-vel") & (raw.method == "Alg(1)")]
    assert len(one) == 500 and one["iter"].tolist() == list(range(500))
    first = blocks[(blocks.family == "halfcheetah-vel") & (blocks.method == "Alg(1)") & (blocks["iter"] == 0)]
    assert first.ret.item() == pytest.approx(one.ret.iloc[:5].mean(), abs=1e-12)
    assert first.ret.item() == pytest.approx(-221.0, abs=10)  # their log starts at -227.5, -218.7, ...
    # the research notes' last-50-iteration means of the raw logs (paper2_authors_protocol.md, 2.6)
    last50 = raw.groupby(["family", "method"]).ret.apply(lambda s: s.iloc[-50:].mean())
    assert last50[("halfcheetah-vel", "Alg(3)")] == pytest.approx(-72.0, abs=0.05)
    assert last50[("halfcheetah-dir", "Alg(1)")] == pytest.approx(300.0, abs=0.05)


def test_authors_rerun_reads_each_index_in_blocks(tmp_path):
    assert authors_data.authors_rerun(folder=tmp_path).empty  # never run: nothing to draw
    pd.DataFrame({"iter": range(7), "eval_after": [-240.0, -238, -236, -234, -232, -200, -100],
                  "train_before": 0.0, "train_after": 0.0, "n_tasks": 10}).to_csv(tmp_path / "authors_rerun_vel_3.csv")
    pd.DataFrame({"iter": range(2), "eval_after": [-1.0, -3.0], "train_before": 0.0, "train_after": 0.0,
                  "n_tasks": 10}).to_csv(tmp_path / "authors_rerun_vel_1.csv")
    blocks = authors_data.authors_rerun(block=5, folder=tmp_path)
    assert blocks[["method", "iter", "ret", "n"]].values.tolist() == [
        ["Alg(1)", 0, -2.0, 2], ["Alg(3)", 0, -236.0, 5], ["Alg(3)", 5, -150.0, 2]]
    assert set(blocks.family) == {"halfcheetah-vel"}


def test_authors_results_apply_graph_py_factor():
    res = authors_data.authors_results()
    assert (res.plotted == res.value * res.plot_factor).all()
    scaled = res[res.plot_factor != 1.0]
    assert set(map(tuple, scaled[["family", "method"]].drop_duplicates().to_numpy())) == {
        ("halfcheetah-dir", "Alg(2)"), ("halfcheetah-dir", "Alg(3)")}
    one = res[(res.family == "halfcheetah-vel") & (res.method == "Alg(1)")].sort_values("step")
    assert one.plotted.round(2).tolist() == [-105.81, -59.62, -41.18, -33.63]


def synthetic_test(n_seeds=3, n_goals=20, shift=5.0, noise=1.0, seed=0):
    """Meta-test rows in which Alg(1) = MAML-TRPO + shift + noise, step 1 = step 0 + 10."""
    r = np.random.default_rng(seed)
    rows = []
    for s in range(n_seeds):
        for k in range(n_goals):
            base, eps = r.normal(-100, 20), r.normal(0, noise)
            for step in (0, 1):
                for method, add in (("MAML-TRPO", 0.0), ("Alg(1)", shift + eps)):
                    rows.append(dict(family="halfcheetah-vel", method=method, seed=s, iter=40, step=step,
                                     task_id=k, task=0.1 * k, ret=base + add + 10 * step))
    return pd.DataFrame(rows)


def test_compare_to_baselines_finds_a_known_shift_and_counts_seeds():
    c = rep.compare_to_baselines(synthetic_test(shift=5.0))
    row = c.iloc[0]
    assert (row.method, row.baseline) == ("Alg(1)", "MAML-TRPO")
    assert row.lo < 5.0 < row.hi and row.hi - row.lo < 2.0
    assert row.verdict == "better" and row.seeds_better == row.n_seeds == 3
    flat = rep.compare_to_baselines(synthetic_test(shift=0.0, seed=1)).iloc[0]
    assert flat.lo < 0 < flat.hi and flat.verdict == "indistinguishable"


def test_learning_checks_read_rises_and_one_seed():
    test = synthetic_test()
    hist = pd.DataFrame([dict(family="halfcheetah-vel", method=m, seed=s, iter=i, post_return=slope * i + s)
                         for m, slope in (("Alg(1)", 1.0), ("MAML-TRPO", -1.0)) for s in range(3) for i in range(40)])
    checks = rep.learning_checks(hist, test, window=10).set_index("method")
    assert checks.loc["Alg(1)", "meta"] == pytest.approx(30.0) and checks.loc["Alg(1)", "meta_verdict"] == "rises"
    assert checks.loc["MAML-TRPO", "meta_verdict"] == "falls"
    assert checks.loc["Alg(1)", "adapt"] == pytest.approx(10.0) and checks.loc["Alg(1)", "adapt_verdict"] == "rises"
    one = rep.learning_checks(hist[hist.seed == 0], test[test.seed == 0]).set_index("method")
    assert one.loc["Alg(1)", "meta_verdict"] == "one seed" and np.isnan(one.loc["Alg(1)", "lo_meta"])


def test_learning_checks_catch_a_method_that_learns_then_collapses():
    test = synthetic_test()

    def rise_fall(i):  # peaks at iteration 10, ends below where it started
        return 50 - abs(i - 10) * 3.0

    hist = pd.DataFrame([dict(family="halfcheetah-vel", method=m, seed=s, iter=i,
                              post_return=(rise_fall(i) if m == "MAML-TRPO" and s < 2 else float(i)))
                         for m in ("Alg(1)", "MAML-TRPO") for s in range(3) for i in range(40)])
    checks = rep.learning_checks(hist, test, window=4).set_index("method")
    assert checks.loc["MAML-TRPO", "ends_below_start"] == 2 and checks.loc["MAML-TRPO", "n_seeds"] == 3
    # best 4-iteration mean of the tent (iterations 9-12: 50 - 3 x mean(1, 0, 1, 2)) minus its first 4
    tent = np.mean([rise_fall(i) for i in range(9, 13)]) - np.mean([rise_fall(i) for i in range(4)])
    assert checks.loc["MAML-TRPO", "peak"] == pytest.approx((2 * tent + 36) / 3)
    assert checks.loc["Alg(1)", "ends_below_start"] == 0 and checks.loc["Alg(1)", "peak"] == pytest.approx(36.0)


def test_training_curves_range_over_seeds():
    hist = pd.DataFrame([dict(family="halfcheetah-dir", method="Alg(2)", seed=s, iter=i, post_return=float(s))
                         for s in range(2) for i in range(10)])
    c = rep.training_curves(hist, block=5)
    assert c["iter"].tolist() == [0, 5] and (c.lo == 0.0).all() and (c.hi == 1.0).all() and (c["mean"] == 0.5).all()


def test_outer_kl_bound_is_the_authors_per_method():
    h = pd.DataFrame(dict(family=["halfcheetah-vel", "halfcheetah-dir", "halfcheetah-dir"],
                          method=["Alg(1)", "Alg(3)", "MAML-TRPO"]))
    assert rep.outer_kl_bound(h).tolist() == [1e-2, 3e-2, 3e-3]


def test_kl_bound_is_checked_where_the_line_search_checks_it():
    """MAML-TRPO's line search rejects steps above the bound, so one above fails the check; the authors' line search
    (Alg(k) on their protocol) does not, so its steps above are reported as a ratio (inner_solutions); ProMP has no KL."""
    h = pd.DataFrame(dict(family=["halfcheetah-vel"] * 4, method=["Alg(1)", "Alg(1)", "ProMP", "MAML-TRPO"],
                          kl=[0.01, 0.03, np.nan, 0.0099]))
    assert rep.within_kl_bound(h)
    assert not rep.within_kl_bound(h.assign(kl=[0.01, 0.03, np.nan, 0.0101]))
    assert rep.kl_checked(h).tolist() == [False, False, False, True]
    sol = rep.inner_solutions(h.assign(stationarity=0.1, inner_steps=50, distance=1.0)).set_index("method")
    assert sol.loc["Alg(1)", ["outer_kl_median", "outer_kl_max"]].tolist() == pytest.approx([2.0, 3.0])


def test_each_family_is_read_at_its_own_last_checkpoint():
    vel = synthetic_test(n_seeds=2, n_goals=3)
    direction = synthetic_test(n_seeds=2, n_goals=2).assign(family="halfcheetah-dir", iter=120)
    early = vel.assign(iter=0, ret=vel.ret - 1000)  # an earlier checkpoint must not enter
    test = pd.concat([vel, direction, early], ignore_index=True)
    iv = rep.return_intervals(test)["return_intervals"].set_index(["family", "method", "step"])
    assert iv.loc[("halfcheetah-vel", "Alg(1)", 0), "n_tasks"] == 6  # 2 seeds x 3 goals at iteration 40 only
    assert iv.loc[("halfcheetah-dir", "Alg(1)", 0), "n_tasks"] == 4  # 2 seeds x 2 goals at iteration 120
    assert iv.loc[("halfcheetah-vel", "Alg(1)", 0), "mean"] > -200  # the iteration-0 rows (-1000) stay out
    c = rep.compare_to_baselines(test).set_index("family")
    assert (c["diff"] > 4).all()


def test_plotted_curves_apply_graph1_offsets_and_factors():
    raw = pd.read_csv(authors_data.LOGS_FILE)
    plotted = authors_data.authors_plotted_curves().set_index(["family", "method", "iter"]).ret
    vel1 = raw[(raw.family == "halfcheetah-vel") & (raw.method == "Alg(1)")].ret.to_numpy()
    assert plotted[("halfcheetah-vel", "Alg(1)", 0)] == pytest.approx(vel1[:5].mean() + 10.0)
    maml = raw[(raw.family == "halfcheetah-vel") & (raw.method == "MAML-TRPO")].ret.to_numpy()
    assert plotted[("halfcheetah-vel", "MAML-TRPO", 5)] == pytest.approx(maml[5:10].mean() - 10.0)  # by position
    dir3 = raw[(raw.family == "halfcheetah-dir") & (raw.method == "Alg(3)")].ret.to_numpy()
    assert plotted[("halfcheetah-dir", "Alg(3)", 495)] == pytest.approx(dir3[495:].mean() * 1.6)
    assert len(plotted) == 8 * 100


def test_run_progress_reads_done_partial_and_missing_items_without_touching_them(tmp_path):
    from dataclasses import replace

    from lib.bomrl import locomotion_study as st
    from lib.parallel import map_resumable, single_threaded
    from lib.profiles import resolve

    cfg = replace(resolve("locomotion_authors", "quick"), horizon=5, n_workers=1, families=("halfcheetah-dir",),
                  methods=("Alg(1)", "MAML-TRPO"), n_seeds=2, n_iters={"halfcheetah-vel": 2, "halfcheetah-dir": 3},
                  checkpoints={"halfcheetah-vel": (0, 2), "halfcheetah-dir": (0, 3)})
    jobs = st.jobs(cfg, tmp_path)
    with single_threaded():
        map_resumable(st.run_item, jobs[:1], tmp_path, n_workers=1, portable=True)  # Alg(1) seed 0: all 3 iterations
        with interrupt_after(1), pytest.raises(Interrupted):  # 1 of 3, then stopped
            st.run_item(cfg, "halfcheetah-dir", "MAML-TRPO", 0, jobs[2]["kwargs"]["partial"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    table = rep.run_progress(cfg, tmp_path).set_index(["method", "seed"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert table.loc[("Alg(1)", 0), ["status", "iters", "remaining_s"]].tolist() == ["done", 3, 0.0]
    part = table.loc[("MAML-TRPO", 0)]
    assert (part.status, part.iters) == ("partial", 1) and part.remaining_s == pytest.approx(2 * part.s_per_iter)
    assert table.loc[("Alg(1)", 1), "status"] == "not started" and np.isnan(table.loc[("Alg(1)", 1), "s_per_iter"])
    # an unstarted item is projected at its method's measured rate
    assert table.loc[("Alg(1)", 1), "remaining_s"] == pytest.approx(3 * table.loc[("Alg(1)", 0), "s_per_iter"])
    assert table.loc[("MAML-TRPO", 1), "remaining_s"] == pytest.approx(3 * part.s_per_iter)


def test_run_progress_projects_a_method_that_has_not_run_from_the_benchmark_scaled_to_this_machine(tmp_path):
    from dataclasses import replace

    from lib.bomrl import locomotion_study as st
    from lib.parallel import single_threaded
    from lib.profiles import resolve

    cfg = replace(resolve("locomotion_authors", "quick"), horizon=5, n_workers=1, families=("halfcheetah-dir",),
                  methods=("Alg(1)", "ProMP"), n_seeds=1, n_iters={"halfcheetah-vel": 2, "halfcheetah-dir": 3},
                  checkpoints={"halfcheetah-vel": (0, 2), "halfcheetah-dir": (0, 3)})
    (alg1, promp) = st.jobs(cfg, tmp_path)
    with single_threaded():
        with interrupt_after(2), pytest.raises(Interrupted):  # 2 of 3 iterations, then stopped
            st.run_item(cfg, "halfcheetah-dir", "Alg(1)", 0, alg1["kwargs"]["partial"])
    measured = rep.run_progress(cfg, tmp_path).set_index("method").loc["Alg(1)", "s_per_iter"]
    bench = pd.DataFrame(dict(family="halfcheetah-dir", method=["Alg(1)", "ProMP", "ProMP"],
                              dtype=["float32", "float32", "float64"], total_s=[2.0, 6.0, 100.0]))
    table = rep.run_progress(cfg, tmp_path, bench).set_index("method")
    # this machine runs Alg(1) at measured / 2.0 of the benchmark; ProMP costs 3x Alg(1) there (float32 row)
    assert table.loc["ProMP", "remaining_s"] == pytest.approx(3 * 6.0 * measured / 2.0)
    assert table.loc["Alg(1)", "remaining_s"] == pytest.approx(1 * measured)
    assert np.isnan(rep.run_progress(cfg, tmp_path).set_index("method").loc["ProMP", "s_per_iter"])


def test_training_curves_figure_draws_the_rerun_and_lists_it_once():
    import matplotlib
    matplotlib.use("Agg")
    from lib.bomrl import figures

    fams = ["halfcheetah-vel", "halfcheetah-dir"]
    ours = pd.DataFrame([dict(family=f, method="Alg(3)", iter=i, mean=-200.0 + i, lo=-210.0 + i, hi=-190.0 + i, n=2)
                         for f in fams for i in (0, 5)])
    theirs = pd.DataFrame([dict(family=f, method="Alg(3)", iter=i, ret=-220.0 + i) for f in fams for i in (0, 5)])
    rerun = pd.DataFrame([dict(family="halfcheetah-vel", method="Alg(3)", iter=0, ret=-236.0, n=5)])
    fig = figures.authors_training_curves(ours, theirs, fams, rerun=rerun)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels.count("Alg(3) (ours)") == 1 and "Alg(3) (authors' code, run here)" in labels
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "Alg(3) (authors' code, run here)"]
    assert line[0].get_ydata().tolist() == [-236.0] and line[0].get_linestyle() == "-."
    assert not [ln for ln in fig.axes[1].get_lines() if "run here" in ln.get_label()]  # velocity only


def test_cost_is_the_uncontended_quartile_when_half_the_run_shared_its_core():
    # 12 iterations at 10 s, then 12 at 20 s (another process took half the core): the median is
    # contended (15 s between the two halves); the lower quartile is the 10 s of a free core
    n = 24
    slow = np.arange(n) >= 12
    history = pd.DataFrame(dict(family="halfcheetah-vel", method="Alg(1)", sample_s=np.where(slow, 16.0, 8.0),
                                physics_s=np.where(slow, 14.4, 7.2), adapt_s=np.where(slow, 2.0, 1.0),
                                outer_s=np.where(slow, 2.0, 1.0)))
    row = rep.cost(history).iloc[0]
    assert row.iter_s == pytest.approx(10.0) and row.iter_s_median == pytest.approx(15.0)
    assert row.physics_share == pytest.approx(0.72)  # contention scales both, the share stays
    assert row.sample_s + row.adapt_s + row.outer_s == pytest.approx(row.iter_s)


def test_their_logs_label_their_maml_run_as_ours_of_it():
    logs = rep.their_logs(50, ("Alg(1)", "MAML-TRPO (authors)"))
    assert set(logs.method) == {"Alg(1)", "MAML-TRPO (authors)"} and (logs.iter % 50 == 0).all()


def test_late_evaluation_sets_ours_beside_their_log_in_the_same_window():
    rows = [dict(family="halfcheetah-vel", method=m, seed=s, iter=it, eval_return=float(10 * s + it))
            for m in ("Alg(1)", "MAML-TRPO (authors)") for s in (0, 1) for it in (440, 450, 499)]
    theirs = pd.DataFrame([dict(family="halfcheetah-vel", method=m, iter=450, ret=r, n=50)
                           for m, r in (("Alg(1)", -90.0), ("MAML-TRPO (authors)", -80.0))])
    out = rep.late_evaluation(pd.DataFrame(rows), theirs)
    assert list(out.method) == ["Alg(1)", "MAML-TRPO (authors)"] and list(out.theirs) == [-90.0, -80.0]
    # seed 0: mean of 450 and 499 = 474.5; seed 1: 484.5 (iteration 440 is outside the window)
    assert out.ours.tolist() == [479.5, 479.5] and out.lo.tolist() == [474.5, 474.5] and (out.n_seeds == 2).all()


def test_learning_checks_of_a_run_under_way_leave_adapt_blank_for_a_method_behind():
    """A decisive run read while it runs: the family's last checkpoint (iteration 40) exists for Alg(1) only,
    MAML-TRPO's last meta-test is at 30; the method behind gets NaN and says so, and Alg(1)'s numbers are those
    of a table without it."""
    test = synthetic_test()
    behind = test[test.method == "MAML-TRPO"].assign(iter=30)
    test = pd.concat([test[test.method != "MAML-TRPO"], behind], ignore_index=True)
    hist = pd.DataFrame([dict(family="halfcheetah-vel", method=m, seed=s, iter=i, post_return=float(i))
                         for m in ("Alg(1)", "MAML-TRPO") for s in range(3) for i in range(40)])
    checks = rep.learning_checks(hist, test).set_index("method")
    assert np.isnan(checks.loc["MAML-TRPO", ["adapt", "lo_adapt", "hi_adapt"]].astype(float)).all()
    assert checks.loc["MAML-TRPO", "adapt_verdict"] == "not at the last checkpoint"
    alone = rep.learning_checks(hist[hist.method == "Alg(1)"], test[test.method == "Alg(1)"]).set_index("method")
    assert checks.loc["Alg(1)", "adapt"] == alone.loc["Alg(1)", "adapt"] and checks.loc["Alg(1)", "adapt_verdict"] == "rises"


def test_run_progress_counts_the_training_evaluations_still_to_run(tmp_path):
    """With the authors' best-so-far selection, every iteration past ``select_after`` is followed by an
    evaluation on E goals (sampled before and after one adaptation); the projection adds it at its share
    of the item's sampling and adaptation: (2E / (T (1 + post_factor)), E / T)."""
    from dataclasses import replace

    from lib.bomrl import locomotion_study as st
    from lib.bomrl.locomotion_protocol import EVAL_TASKS
    from lib.parallel import single_threaded
    from lib.profiles import resolve

    base = replace(resolve("locomotion_authors", "quick"), horizon=5, n_workers=1, families=("halfcheetah-vel",),
                   methods=("MAML-TRPO",), n_seeds=1, n_iters={"halfcheetah-vel": 6, "halfcheetah-dir": 3},
                   checkpoints={"halfcheetah-vel": (0, 6), "halfcheetah-dir": (0, 3)})
    assert rep.evaluation_shares(base, "halfcheetah-vel") == (0.0, 0.0)  # no selection, no evaluation
    cfg = replace(base, best_so_far=True, select_after=3)
    [job] = st.jobs(cfg, tmp_path)
    with single_threaded(), interrupt_after(2), pytest.raises(Interrupted):  # 2 of 6 iterations, then stopped
        st.run_item(cfg, "halfcheetah-vel", "MAML-TRPO", 0, job["kwargs"]["partial"])
    e, t = len(EVAL_TASKS["halfcheetah-vel"]), cfg.meta_batch["halfcheetah-vel"]
    shares = (2 * e / (t * (1 + cfg.post_factor)), e / t)
    assert rep.evaluation_shares(cfg, "halfcheetah-vel") == pytest.approx(shares)
    row = rep.run_progress(cfg, tmp_path).iloc[0]
    assert (row.status, row.iters) == ("partial", 2)
    assert row.eval_s_per_iter > 0
    # iterations 2..5 still to train; evaluations after iterations 4, 5 and 6 (past select_after = 3)
    assert row.remaining_s == pytest.approx(4 * row.s_per_iter + 3 * row.eval_s_per_iter)
