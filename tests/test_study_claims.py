"""The two papers' claim records (lib/trust_region_meta/claims.py, lib/bomrl/claims.py): each
pre-registered rule on synthetic tables with a known answer, and one record per README row."""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.bomrl import claims as c2
from lib.claims import Tables
from lib.io import save_table
from lib.stats import per_run_scores
from lib.trust_region_meta import claims as c1

ROOT = Path(__file__).resolve().parent.parent


def runs_table(rng, n_runs, n_steps, level, spread=1.0, slope=1.0, **keys):
    """Per-step returns ``level + slope x step + noise`` for runs 0..n_runs-1, with constant key columns."""
    rows = [dict(keys, run=r, step=s, ret=level + slope * s + rng.normal(0, spread)) for r in range(n_runs)
            for s in range(n_steps)]
    return pd.DataFrame(rows)


def figure_tables(root, env="minigolf", meta_level=0.0, n_models=4, n_runs=20, stage="06_figure1", panel=None,
                  offset=0.0, slope=1.0):
    """A one-panel figure: a Fixed-KL grid whose best λ (0.1, level 10) is known, and Meta-KL at ``meta_level``."""
    rng = np.random.default_rng(0)
    panel = panel or env
    levels = {kl: lv + offset for kl, lv in {0.001: -10.0, 0.01: 0.0, 0.1: 10.0, 1.0: 2.0}.items()}
    fixed = pd.concat([runs_table(rng, n_runs, 6, lv, slope=slope, env=env, panel=panel, algo="xTRPO", fixed_kl=kl)
                       for kl, lv in levels.items()], ignore_index=True)
    val = pd.concat([runs_table(rng, 10, 6, lv, slope=slope, env=env, panel=panel, algo="xTRPO", fixed_kl=kl)
                     for kl, lv in levels.items()], ignore_index=True)
    meta = pd.concat([runs_table(rng, n_runs, 6, meta_level, slope=slope, env=env, panel=panel, meta_seed=m)
                      for m in range(n_models)], ignore_index=True)
    for name, df in dict(meta_kl_runs=meta, fixed_kl_runs=fixed, fixed_kl_val_runs=val).items():
        save_table(df, root / stage / f"{name}.csv", params={"seed": 0})
    return Tables(root)


def test_the_margin_comes_from_the_validation_sweep_alone(tmp_path):
    t = figure_tables(tmp_path, meta_level=10.0)
    val = per_run_scores(t["06_figure1/fixed_kl_val_runs"], ["algo", "fixed_kl"])
    (algo, kl), delta = c1.choose_baseline(val, "auc", "mean")
    by = val.groupby(["algo", "fixed_kl"]).auc.mean()
    assert (algo, kl) == ("xTRPO", 0.1)
    assert delta == pytest.approx(c1.FRACTION * (by.max() - by.median()))  # 0.25 x (12.5 - 3.5)
    # the test runs cannot change the choice: a test table where λ = 1 is best leaves it at 0.1
    fixed = t["06_figure1/fixed_kl_runs"]
    fixed.loc[fixed.fixed_kl == 1.0, "ret"] += 100
    save_table(fixed, tmp_path / "06_figure1" / "fixed_kl_runs.csv", params={"seed": 0})
    comps = c1.panel_comparisons(Tables(tmp_path), "06_figure1", "minigolf", "non-inferiority")
    assert all("λ = 0.1" in c.contrast for c in comps)


def test_non_inferior_inside_the_margin_and_inferior_outside(tmp_path):
    near = c1.figure1(figure_tables(tmp_path / "a", meta_level=9.5))  # 0.5 below the best; δ = 2.25
    assert near.verdict == "reproduced" and all(c.outcome == "supports" for c in near.comparisons)
    far = c1.figure1(figure_tables(tmp_path / "b", meta_level=2.0))  # 8 below the best
    assert far.verdict == "not reproduced" and all(c.outcome == "contradicts" for c in far.comparisons)
    assert "k of" not in far.result and "holds in 0 of 1 counted panels" in far.result


def test_an_endpoint_at_the_ceiling_is_reported_not_counted(tmp_path):
    # the best fixed λ ends at 200 (the ceiling: final 160 + 10 x 4) but its AUC (185) is below it
    t = figure_tables(tmp_path, env="cartpole", meta_level=158.0, offset=150.0, slope=10.0)
    comps = {c.endpoint: c for c in c1.panel_comparisons(t, "06_figure1", "cartpole", "non-inferiority")}
    assert not comps["final return"].counted and "ceiling" in comps["final return"].note
    assert comps["AUC"].counted


def test_a_reused_panel_is_counted_once(tmp_path):
    figure_tables(tmp_path, env="cartpole", stage="06_figure1")
    t = figure_tables(tmp_path, env="cartpole", stage="08_figure3", panel="MLP(0,0)")  # the same draws
    record = c1.figure3(t)
    assert all(not c.counted and "counted there" in c.note for c in record.comparisons)
    assert record.verdict == "not testable at this budget"


def locomotion_tables(root, promp_collapses=True, n_seeds=3, iters=120):
    rng = np.random.default_rng(1)
    methods = {"Alg(1)": 10.0, "MAML-TRPO": 0.0, "ProMP": -50.0}
    test = pd.DataFrame([dict(family="halfcheetah-vel", method=m, seed=s, iter=iters, step=st, task_id=g, task=g / 10,
                              ret=lv + 3 * s + rng.normal(0, 1)) for m, lv in methods.items() for s in range(n_seeds)
                         for st in range(2) for g in range(10)])
    checks = pd.DataFrame([dict(family="halfcheetah-vel", method=m, window=10, meta=1.0, peak=5.0,
                                ends_below_start=n_seeds if (m == "ProMP" and promp_collapses) else 0, n_seeds=n_seeds)
                           for m in methods])
    save_table(test, root / "13_bomrl_authors_locomotion" / "test.csv", params={"seed": 0})
    save_table(checks, root / "13_bomrl_authors_locomotion" / "learning_checks.csv", params={"seed": 0})
    return Tables(root)


def test_a_baseline_that_collapses_in_every_seed_is_excluded_by_rule(tmp_path):
    record = c2.authors_locomotion(locomotion_tables(tmp_path / "a", iters=500))
    by = {c.contrast: c for c in record.comparisons}
    assert not by["− ProMP"].counted and "excluded by rule" in by["− ProMP"].note
    assert by["− MAML-TRPO"].counted and by["− MAML-TRPO"].outcome == "supports"
    assert record.verdict == "reproduced"  # at the paper's budget, Alg(1) beats the one counted baseline
    kept = c2.authors_locomotion(locomotion_tables(tmp_path / "b", promp_collapses=False, iters=500))
    assert all(c.counted for c in kept.comparisons)


def test_a_locomotion_claim_below_the_papers_budget_is_not_testable(tmp_path):
    record = c2.authors_locomotion(locomotion_tables(tmp_path, iters=120))
    assert record.verdict == "not testable at this budget" and "120 of 500" in record.budget
    assert any("450-499" in line for line in record.evidence)  # the authors' logs at their budget beside it


def test_the_root_k_test_rejects_a_constant_plus_exponential_curve():
    K = np.array([5, 10, 20, 30, 50, 75, 100, 150, 200, 300], dtype=float)
    se = np.full(len(K), 0.002)
    expo = 0.1 + 0.08 * np.exp(-K / 25)
    fits = c2.decay_models(K, expo, se)
    assert c2.root_k_outcome(fits, len(K)) == "contradicts"
    assert fits.set_index("model").loc["a + b·exp(-K/τ)", "chi2"] < 1e-6
    root = 0.1 + 0.08 / np.sqrt(K) + np.random.default_rng(0).normal(0, 0.002, len(K))
    assert c2.root_k_outcome(c2.decay_models(K, root, se), len(K)) == "supports"
    # four values of K cannot tell the models apart
    assert c2.root_k_outcome(c2.decay_models(K[[1, 3, 6, 9]], root[[1, 3, 6, 9]], se[:4]), 4) == "inconclusive"


@pytest.fixture(scope="module")
def committed_records():
    sys.path.insert(0, str(ROOT / "tools"))
    import write_results

    return write_results.ROWS, write_results.records()


def test_one_claim_one_record_the_notebook_and_the_readme_show_the_same(committed_records):
    rows, records = committed_records
    readme = (ROOT / "README.md").read_text()
    for fn, record in zip(rows, records):
        nb = json.loads((ROOT / "notebooks" / f"{record.notebook}.ipynb").read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert re.search(rf"display\(claims\.{fn.__name__}\(profile\)[,)]", code), \
            f"notebook {record.notebook} does not display {fn.__name__}'s record"
        assert record.row() in readme, f"the README's row for {fn.__name__} is not its record"


def test_every_committed_record_states_its_rule_budget_and_tables(committed_records):
    _, records = committed_records
    for r in records:
        assert r.endpoint and r.margin and r.unit and r.budget and r.paper_budget and r.rests_on, r.key
    keys = [r.key for r in records]
    assert len(keys) == len(set(keys))


def test_the_iteration_average_is_exact_for_a_gap_linear_in_k():
    """The trapezoid rule over the checkpoints integrates a linear gap exactly: mean over 0..K of a − bk = a − bK/2."""
    K = [0, 5, 10, 30, 100]
    rows = [dict(goal_radius=6, seed=s, method="Alg(1) KL", K=k, step=1, gap=0.5 - 0.001 * k + 0.01 * s)
            for s in range(3) for k in K]
    avg = c2.iteration_average(pd.DataFrame(rows), 6, ["Alg(1) KL"]).set_index("K")
    for k in K[1:]:
        assert avg.loc[k, "mean"] == pytest.approx(0.51 - 0.001 * k / 2)
    assert (avg.n == 3).all() and (avg.lo < avg["mean"]).all()


def test_records_of_our_own_designs_are_shown_in_their_notebooks_and_not_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for fn in c2.OWN_DESIGN:
        record = fn(Tables(ROOT / "data" / "full"))
        nb = json.loads((ROOT / "notebooks" / f"{record.notebook}.ipynb").read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert f"display(claims.{fn.__name__}(profile))" in code and record.row() not in readme


def decisive_tables(root: Path, iters: int, best_effect: float, last_effect: float, not_started=()) -> Tables:
    """The decisive pair's tables: 3 seeds, both families, Alg(1) = the authors' MAML-TRPO + an effect that
    varies by seed (1, 2, 3 times ``*_effect``), plus a huge effect on velocity goal 0.0 (which must be dropped);
    the items in ``not_started`` (family, method, seed) are only rows of ``progress``."""
    hist, test, sel, progress = [], [], [], []
    for fam, goals in (("halfcheetah-vel", (0.0, 0.5, 1.0)), ("halfcheetah-dir", (1.0, -1.0))):
        for m in ("Alg(1)", "MAML-TRPO (authors)"):
            for s in range(3):
                started = (fam, m, s) not in not_started
                progress.append(dict(family=fam, method=m, seed=s, iters=iters if started else 0, n_iters=500,
                                     status="not started" if not started else "done" if iters >= 500 else "partial"))
                if not started:
                    continue
                hist += [dict(family=fam, method=m, seed=s, iter=i, post_return=float(i), eval_return=float(i))
                         for i in range(iters)]
                for table, it, effect in ((test, iters, last_effect), (sel, iters - 7, best_effect)):
                    for step in (0, 1):
                        for k, g in enumerate(goals):
                            bonus = 1e4 if g == 0.0 and fam.endswith("vel") else effect * (s + 1)
                            table.append(dict(family=fam, method=m, seed=s, iter=it, step=step, task_id=k, task=g,
                                              ret=-50.0 + k + (bonus if m == "Alg(1)" else 0.0)))
    for name, df in dict(history=hist, test=test, selected=sel, progress=progress).items():
        save_table(pd.DataFrame(df), root / "13_decisive" / f"{name}.csv", params={"seed": 0})
    return Tables(root)


def test_decisive_record_is_decided_by_the_best_so_far_selection_at_500(tmp_path):
    rec = c2.decisive_locomotion(decisive_tables(tmp_path, 500, best_effect=2.0, last_effect=-2.0))
    best = [c for c in rec.comparisons if c.panel.endswith("best-so-far")]
    last = [c for c in rec.comparisons if c.panel.endswith("last iterate")]
    assert len(best) == len(last) == 2 and all(c.counted for c in best) and not any(c.counted for c in last)
    assert all(c.estimate == pytest.approx(4.0) and c.outcome == "supports" for c in best)  # goal 0.0 dropped
    from scipy import stats as sst
    half = sst.t.ppf(0.95, 2) * np.std([2.0, 4.0, 6.0], ddof=1) / np.sqrt(3)  # seeds' effects 2, 4, 6: 2 df
    assert all((c.lo, c.hi) == pytest.approx((4.0 - half, 4.0 + half)) for c in best)
    assert all(c.estimate == pytest.approx(-4.0) for c in last)
    assert rec.verdict == "reproduced"
    assert rec.result.startswith("best-so-far: Alg(1) better in 2, worse in 0 of 2 families; last iterate: dir -4 [")


def test_decisive_record_is_not_testable_before_500_and_fails_when_alg1_is_worse(tmp_path):
    assert c2.decisive_locomotion(decisive_tables(tmp_path / "a", 300, 2.0, 2.0)).verdict == "not testable at this budget"
    assert c2.decisive_locomotion(decisive_tables(tmp_path / "b", 500, -2.0, 2.0)).verdict == "not reproduced"


def test_decisive_record_shows_no_last_iterate_before_500(tmp_path):
    """A meta-test of an unfinished item (here at 300) is not the last iterate: no such comparison is shown."""
    rec = c2.decisive_locomotion(decisive_tables(tmp_path, 300, 2.0, 2.0))
    assert not [c for c in rec.comparisons if c.panel.endswith("last iterate")]


def test_decisive_record_waits_for_the_items_that_have_not_started(tmp_path):
    """Every started item at 500 is not the run at 500: an item that has not started (a row of progress only)
    keeps the record untestable, and the budget counts it."""
    rec = c2.decisive_locomotion(decisive_tables(tmp_path, 500, 2.0, 2.0,
                                                 not_started={("halfcheetah-dir", "MAML-TRPO (authors)", 2)}))
    assert rec.verdict == "not testable at this budget"
    assert rec.budget.startswith("11 of 12 items") and rec.result.startswith("running: 11 of 12")
