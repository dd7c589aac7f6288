"""Write the study's verdicts from the committed full-profile tables.

    python tools/write_results.py           # rewrite docs/results.md and the README's verdict table
    python tools/write_results.py --check   # exit 1 if either is not what the tables say

Every number and every verdict word in ``docs/results.md`` and in the table between the
README's ``verdicts`` markers is computed here from ``data/full/`` (each table checked
against its manifest), so prose cannot drift from the data; ``tests/test_results_doc.py``
runs ``--check``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.io import load_table, manifest_path  # noqa: E402
from lib.stats import per_run_scores  # noqa: E402
from lib.trust_region_meta.figures import CLAIMS, claim_held, claim_held_per_model  # noqa: E402
from lib.trust_region_meta.validation import PAPER_CHOICE, pick_table  # noqa: E402

FULL = ROOT / "data" / "full"
RESULTS = ROOT / "docs" / "results.md"
README = ROOT / "README.md"
START, END = "<!-- verdicts:start (tools/write_results.py) -->", "<!-- verdicts:end -->"


def table(stage: str, name: str):
    return load_table(FULL / stage / f"{name}.csv")


def commit_of(stage: str, name: str) -> str:
    """The short commit recorded in a table's manifest (the code that wrote it)."""
    return manifest(stage, name).get("commit", "?")[:7]


def manifest(stage: str, name: str) -> dict:
    return json.loads(manifest_path(FULL / stage / f"{name}.csv").read_text())


def older(stage: str, name: str) -> bool:
    """Whether a meta-test figure's table predates notebook 05's current validated models.

    Decided from the data alone (no git needed): manifests written since 2026-12-02 record the
    machine; a figure table without it next to a ``chosen.csv`` with it comes from the earlier
    full run, whose meta-dataset and meta-models were replaced.
    """
    return "machine" not in manifest(stage, name) and "machine" in manifest("05_fqi_validation", "chosen")


META_STAGES = ("04_meta_dataset", "05_fqi_validation", "06_figure1", "07_figure2", "08_figure3")


def before_round_two(stage: str, name: str) -> bool:
    """Whether a paper-1 meta-learning table was written before round two (issue 16: ψ read as the
    minimum leaf size, metafeatures conditioned on repeated states, ...). Decided from the data:
    the configs of round two name their ψ grid ``fqi_min_leaves``; earlier ones ``fqi_min_splits``."""
    return stage in META_STAGES and "fqi_min_leaves" not in manifest(stage, name).get("params", {})


ROUND_ONE_NOTE = (" **Before round two:** these tables were written by the code before issue 16 (ψ read as "
                  "scikit-learn's `min_samples_split`, k-NN metafeatures floored on repeated states, Fixed-KL chosen "
                  "on the test runs); the current code has not been run at full profile yet.")


def provenance(stage: str, name: str) -> str:
    """Which commit wrote the table, and a warning when a meta-test figure's tables predate
    the meta-model it should use (notebook 05's ``chosen.csv``)."""
    text = f"Tables: `data/full/{stage}/`, written at commit `{commit_of(stage, name)}`."
    if stage in CLAIMS and older(stage, name):
        text += (f" **Stale:** notebook 05's validated models were re-made at commit "
                 f"`{commit_of('05_fqi_validation', 'chosen')}`; these runs used the meta-dataset and meta-model of "
                 f"the earlier run. Re-run notebook {stage[:2]} at full profile to bring it in line.")
    if before_round_two(stage, name):
        text += ROUND_ONE_NOTE
    return text


def n_runs(perf) -> str:
    """``"30 runs"`` (or ``"29-30 runs"``) from a table's ``n`` column."""
    lo, hi = int(perf.n.min()), int(perf.n.max())
    return f"{lo} runs" if lo == hi else f"{lo}-{hi} runs"


def ci(diff, lo, hi, fmt=".3g") -> str:
    return f"{diff:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def md_table(df, floatfmt=".3g") -> str:
    cols = list(df.columns)
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in df.itertuples(index=False):
        rows.append("| " + " | ".join(f"{v:{floatfmt}}" if isinstance(v, float) else str(v) for v in r) + " |")
    return "\n".join(rows)


def sweep() -> tuple[str, str]:
    perf = table("02_trpo_vs_xtrpo", "final_performance")
    best = perf.loc[perf.groupby("env")["mean"].idxmax()]
    worst = perf.loc[perf.groupby("env")["mean"].idxmin()]
    lines = [f"{r.env}: best λ = {r.fixed_kl:g} ({r.algo}, {r.mean:.3g}), worst λ = {w.fixed_kl:g} ({w.mean:.3g})"
             for r, w in zip(best.itertuples(), worst.itertuples())]
    distinct = best.fixed_kl.nunique()
    word = f"**reproduced**: the best fixed λ differs between the {len(best)} problems" if distinct == len(best) \
        else f"best λ shared by {len(best) - distinct + 1} problems"
    body = ("Final return (mean of the last 3 steps, mean over runs) of the best and the worst fixed λ per "
            f"environment, {n_runs(perf)} each:\n\n" + "\n".join(f"* {x}" for x in lines))
    return word, body + heavy_tails()


def heavy_tails(ratio: float = 3.0, rel: float = 0.5) -> str:
    """Paragraph on the (env, algo, λ) whose mean final return is far from the median over runs
    (|mean - median| > ``ratio`` x the inter-quartile range and > ``rel`` x |median|): a few
    diverging runs drive the mean."""
    keys = ["env", "algo", "fixed_kl"]
    final = per_run_scores(table("02_trpo_vs_xtrpo", "runs"), keys)  # mean of the last 3 steps, per run
    rows = []
    for (env, algo, kl), g in final.groupby(keys):
        q1, med, q3 = np.quantile(g.final, [0.25, 0.5, 0.75])
        gap = abs(g.final.mean() - med)
        if gap > ratio * (q3 - q1) and gap > rel * abs(med):
            below = int((g.final < q1 - 3 * (q3 - q1)).sum())
            rows.append(f"{env} {algo} λ = {kl:g}: mean {g.final.mean():.3g}, median {med:.3g}, {below} of {len(g)} "
                        f"runs far below the rest (minimum {g.final.min():.3g})")
    if not rows:
        return ""
    return ("\n\n**Means driven by a few runs** (|mean − median| > 3 inter-quartile ranges and > |median| / 2; "
            "\"far below\": under "
            "Q1 − 3 IQR): " + "; ".join(rows) + ". Verdicts that compare means of these settings are not informative.")


PAPER_SCORE = "paper's pick: score"  # the column of validation.pick_table


def validation() -> tuple[str, str]:
    old = before_round_two("05_fqi_validation", "chosen")
    chosen, scores = (table("05_fqi_validation", n).rename(columns={"min_split": "min_leaf"}) for n in ("chosen", "scores"))
    params = manifest("05_fqi_validation", "chosen")["params"]
    tuples = {e: params["collect_trajectories"][e] * params["collect_updates"][e] for e in params["envs"]}
    picks = pick_table(chosen, scores, tuples)
    lines, same, models = [], {}, {}
    for _, r in picks.iterrows():
        seed = f" (meta-model {int(r.meta_seed)})" if "meta_seed" in picks.columns else ""
        text = f"{r.env}{seed}: validated (H = {r.fqi_horizon}, ψ = {r.min_leaf:g}), score {r.score:.3g}"
        if r.env in PAPER_CHOICE:
            h, psi = PAPER_CHOICE[r.env]
            text += f"; the paper's (H = {h}, ψ = {psi:g}) scores {r[PAPER_SCORE]:.3g}"
            same[r.env] = same.get(r.env, 0) + int(r.fqi_horizon == h and np.isclose(r.min_leaf, psi))
            models[r.env] = models.get(r.env, 0) + 1
        lines.append(text)
    if all(n == 1 for n in models.values()):
        word = f"the paper's pick is validated for {sum(same.values())} of {len(PAPER_CHOICE)} environments"
    else:  # one pick per meta-model: count them per environment
        word = "the paper's pick is validated for " + ", ".join(
            f"{env}: {same[env]} of {models[env]} meta-models" for env in sorted(models))
    reading = "ψ read as a minimum split (before round two)" if old else "ψ = minimum leaf fraction"
    body = f"Mean return over the validation runs of every (H, ψ), {reading}:\n\n" + "\n".join(f"* {x}" for x in lines)
    if old:
        word += " (before round two)"
        body += "\n\n" + ROUND_ONE_NOTE.strip()
    return word, body


SHOWN = ["panel", "metric", "meta", "fixed", "fixed_algo", "fixed_kl", "difference", "relative", "verdict"]


def shown_comparison(cmp, extra=()):
    """The columns a figure's table shows: the difference with its interval and relative to |best Fixed-KL|."""
    shown = cmp.assign(difference=[ci(r.diff, r.lo, r.hi) for r in cmp.itertuples()],
                       relative=[f"{r.diff / abs(r.fixed):+.1%}" for r in cmp.itertuples()])
    return shown[SHOWN + list(extra)]


def claim_allows(stage: str) -> str:
    return "; ".join(f"{p}: {' or '.join(v)}" for p, v in CLAIMS[stage].items())


def figure(stage: str) -> tuple[str, str]:
    if (FULL / stage / "pooled.csv").exists():
        return figure_pooled(stage)
    comparison = table(stage, "comparison")
    held = claim_held(comparison, CLAIMS[stage])
    k = sum(held.values())
    verdicts = comparison.pivot(index="panel", columns="metric", values="verdict")
    per_panel = ", ".join(f"{p} {verdicts.loc[p, 'final']}/{verdicts.loc[p, 'auc']}" for p in held)
    head = f"**holds in {k} of {len(held)} panels**" if k else f"**not reproduced** (0 of {len(held)} panels)"
    word = f"{head}; final/AUC: {per_panel}"
    shown = shown_comparison(comparison)
    body = ("Meta-KL minus the best Fixed-KL (chosen per panel on the test runs), paired bootstrap 90 % interval "
            f"over {int(comparison.n_runs.max())} runs of one meta-model (relative: the difference over |best "
            "Fixed-KL|). The claim allows, per panel: " + claim_allows(stage) + ".\n\n" + md_table(shown)
            + "\n\n" + "; ".join(f"{p}: {'holds' if h else 'does not hold'}" for p, h in held.items()) + ".\n\n"
            + provenance(stage, "comparison"))
    if older(stage, "comparison"):
        word += " (stale: an earlier meta-model, see results)"
    elif before_round_two(stage, "comparison"):
        word += " (before round two, see results)"
    return word, body


def figure_pooled(stage: str) -> tuple[str, str]:
    """A figure of round two: verdicts pooled over M meta-models, and for how many of them the claim holds."""
    pooled, comparison = table(stage, "pooled"), table(stage, "comparison")
    held, k_of = claim_held(pooled, CLAIMS[stage]), claim_held_per_model(comparison, CLAIMS[stage])
    m = int(pooled.n_models.max())
    k = sum(held.values())
    verdicts = pooled.pivot(index="panel", columns="metric", values="verdict")
    per_panel = ", ".join(f"{p} {verdicts.loc[p, 'final']}/{verdicts.loc[p, 'auc']} ({k_of[p]} of {m})" for p in held)
    head = f"**holds pooled in {k} of {len(held)} panels**" if k else f"**not reproduced** (0 of {len(held)} panels)"
    word = f"{head}; final/AUC pooled (meta-models for which it holds): {per_panel}"
    shown = shown_comparison(pooled, ["models_better", "models_worse"])
    trend = table(stage, "lambda_trend")
    body = (f"Meta-KL minus the best Fixed-KL (chosen per panel on the validation tasks, reported on the test runs), "
            f"pooled over {m} meta-models (each its own meta-dataset and FQI fit) and {int(pooled.n_runs.max())} runs; "
            "90 % two-level bootstrap interval (meta-models, then runs); models_better / models_worse: meta-models "
            "whose own paired interval lies above / below 0. The claim allows, per panel: " + claim_allows(stage)
            + ".\n\n" + md_table(shown)
            + "\n\n" + "; ".join(f"{p}: {'holds' if h else 'does not hold'} pooled, for {k_of[p]} of {m} meta-models"
                                   for p, h in held.items()) + ".\n\n"
            + "Meta-KL's λ against the step (slope of log10 λ, decades per step, two-level interval): "
            + "; ".join(f"{r.panel} {ci(r.slope, r.lo, r.hi, '.2g')} ({r.trend}, {r.models_decreasing} of {r.n_models} "
                        "meta-models decreasing)" for r in trend.itertuples()) + ".\n\n"
            + provenance(stage, "pooled"))
    return word, body


def ablation() -> tuple[str, str]:
    ab = table("06_figure1", "ablation_xtrpo_vs_trpo")
    sig = [(r.env, "xTRPO better" if r.lo > 0 else "TRPO better") for r in ab.itertuples() if r.lo > 0 or r.hi < 0]
    word = "no significant difference in any environment" if not sig else "; ".join(f"{e}: {v}" for e, v in sig)
    body = "Final return of Meta-KL with xTRPO minus with TRPO, paired bootstrap 90 % interval:\n\n" + "\n".join(
        f"* {r.env}: {r.xtrpo:.3g} vs {r.trpo:.3g}, {ci(r.diff, r.lo, r.hi)}" for r in ab.itertuples())
    if before_round_two("06_figure1", "ablation_xtrpo_vs_trpo"):
        word += " (before round two, see results)"
        body += "\n\n" + ROUND_ONE_NOTE.strip()
    return word, body


def minigolf_horizon() -> tuple[str, str]:
    """Notebook 09 (our extension): is the one-step best λ the whole-run best, and does a long-horizon
    target close the gap that the paper's one-step target leaves on fresh tasks?"""
    from lib.trust_region_meta.horizon import STAGE, best_by_horizon

    if not (FULL / STAGE / "target_comparison.csv").exists():
        return "not run at full profile yet", "Notebook 09 has not been run at full profile."
    best = best_by_horizon(table(STAGE, "setup_gains"))
    cmp, lams = table(STAGE, "target_comparison"), table(STAGE, "target_lambdas")
    final = cmp[cmp.metric == "final"]
    n_models = int(cmp.n_models.max())
    short = {"paper:": "target l_t", "ours:": "target J_T − J_t", "paper's recipe": "l_t, λ ~ U[1e-3, 0.2]"}
    parts = [f"{next(v for k, v in short.items() if r.panel.startswith(k))} {ci(r.diff, r.lo, r.hi)} "
             f"({r.models_worse} of {r.n_models} worse)" for r in final.itertuples()]
    coincide = best[best["one-step best = run best"]]
    word = (f"one-step best λ = whole-run best in {len(coincide)} of {len(best)} set-ups; Meta-KL − best Fixed-KL, "
            f"final, {n_models} meta-models: " + "; ".join(parts))
    shown = ["panel", "metric", "fixed_kl", "meta", "fixed", "difference", "verdict", "models_better", "models_worse"]
    body = ("Best fixed λ after k steps of a linear-policy xTRPO run, per initial policy (section 1):\n\n"
            + md_table(best) + "\n\nMeta-KL trained on each target minus the best Fixed-KL (chosen on validation "
            f"tasks), fresh tasks, two-level bootstrap over {n_models} meta-models and their runs [90 %] "
            "(section 3):\n\n"
            + md_table(cmp.assign(difference=[ci(r.diff, r.lo, r.hi) for r in cmp.itertuples()])[shown])
            + "\n\nλ chosen by each target's meta-models (geometric mean, shares):\n\n" + md_table(lams))
    if (FULL / STAGE / "recipe_comparison.csv").exists():
        recipe = table(STAGE, "recipe_comparison")
        body += ("\n\nThe paper's recipe rerun from the set-ups whose one-step and whole-run best λ coincide "
                 "(section 4):\n\n"
                 + md_table(recipe.assign(difference=[ci(r.diff, r.lo, r.hi) for r in recipe.itertuples()])[shown]))
    return word, body


def frozen_lake() -> tuple[str, str]:
    cmp = table("10_bomrl_frozen_lake", "comparison")
    maml = cmp[cmp.baseline == "MAML"]
    k = int((maml.verdict == "smaller").sum())
    word = f"BO-MRL's gap smaller than MAML's in {k} of {len(maml)} (metric, variance, steps) cells"
    shown = maml.assign(difference=[ci(r.diff, r.lo, r.hi) for r in maml.itertuples()])
    shown = shown[["goal_radius", "step", "method", "gap", "gap_baseline", "difference", "verdict"]]
    body = (f"Optimality gap after adaptation, BO-MRL minus MAML, 90 % t-interval over {int(cmp.n_seeds.max())} "
            "seeds (goal radius 1: low task variance):\n\n" + md_table(shown))
    return word, body


def theory() -> tuple[str, str]:
    fits, kf = table("10_bomrl_frozen_lake", "variance_fits"), table("10_bomrl_frozen_lake", "K_fits")
    up = int((fits.lo > 0).sum())
    down = int((kf.b_lo > 0).sum())
    word = f"gap grows with task variance for {up} of {len(fits)} metrics; falls like 1/√K for {down} of {len(kf)}"
    body = "\n".join([f"* gap vs Var, {r.method}: slope {ci(r.slope, r.lo, r.hi)} over {r.n} points"
                      for r in fits.itertuples()]
                     + [f"* gap vs K, {r.method}: a = {r.a:.3g}, b = {ci(r.b, r.b_lo, r.b_hi)}" for r in kf.itertuples()])
    return word, body


def authors_frozen_lake() -> tuple[str, str]:
    stage = "12_bomrl_authors_frozen_lake"
    if not (FULL / stage / "side_by_side.csv").exists():
        return "not run at full profile yet", "Notebook 12 has not been run at full profile."
    side, cmp = table(stage, "side_by_side"), table(stage, "comparisons")
    seeds = int(table(stage, "gaps").n_seeds.max())
    inside = int(side.inside.sum())
    maml = cmp[cmp.baseline.str.startswith("authors' MAML")]
    better = int((maml.hi < 0).sum())
    word = (f"their reported one-step gap inside our 90 % interval over {seeds} seeds for {inside} of {len(side)} bars; "
            f"their protocol's BO-MRL beats their \"MAML\" in {better} of {len(maml)} (kind, test maps, Alg) cells")
    shown = side.assign(here_ci=[ci(r.here, r.lo, r.hi) for r in side.itertuples()])
    shown = shown[["kind", "bar", "reported", "reported_vs_J*", "here_ci", "inside"]]
    diffs = cmp.assign(difference=[ci(r.diff, r.lo, r.hi) for r in cmp.itertuples()])
    body = (f"The authors' one-step optimality gaps (their bars; `reported_vs_J*` re-expresses them against the exact "
            f"optimum) beside their protocol run here on their maps (mean, 90 % t-interval over {seeds} seeds):\n\n"
            + md_table(shown) + "\n\nGap after one step, BO-MRL minus baseline, paired by seed (< 0: BO-MRL closer "
            "to the optimum):\n\n" + md_table(diffs[["kind", "test_set", "method", "baseline", "difference"]]))
    return word, body


def locomotion() -> tuple[str, str]:
    cmp, ranks = table("11_locomotion", "comparison"), table("11_locomotion", "ranking")
    k, w = int((cmp.verdict == "better").sum()), int((cmp.verdict == "worse").sum())
    word = f"**not reproduced** at 1 % of the paper's sampling: BO-MRL better in {k}, worse in {w} of {len(cmp)} pairs" \
        if k < len(cmp) else f"holds in all {len(cmp)} pairs"
    order = [f"* {fam}: " + " > ".join(g.sort_values("rank").method) for fam, g in ranks.groupby("family", sort=False)]
    body = (f"Return after one adaptation step at the last meta-iteration, each BO-MRL variant minus each baseline, "
            f"90 % t-interval over {int(cmp.n.max())} (seed, test task) pairs: better {k}, worse {w}, "
            f"indistinguishable {len(cmp) - k - w} of {len(cmp)}. Ranking per family:\n\n" + "\n".join(order))
    return word, body


def velocity_one_step(beside) -> str:
    """Velocity panel after one step: ours, the paper's plotted values and their trained policy run here."""
    v = beside[(beside.family == "halfcheetah-vel") & (beside.step == 1)].set_index("method")
    algs = [m for m in v.index if m.startswith("Alg(")]
    base = [m for m in v.index if not m.startswith("Alg(")]

    def values(col, methods):
        return "/".join(f"{v.at[m, col]:.1f}" for m in methods)

    names = "/".join(a if i == 0 else a[3:] for i, a in enumerate(algs)) + " vs " + "/".join(base)
    text = (f"velocity after one step, {names}: ours {values('ours', algs)} vs {values('ours', base)}, "
            f"paper {values('paper', algs)} vs {values('paper', base)}")
    check = FULL / "benchmarks" / "authors_code_check.csv"
    if check.exists():
        rows = pd.read_csv(check)
        theirs = rows[rows.check.str.startswith("their trained policy: return after 1 steps")].value.mean()
        text += f", their trained Alg(1) here {theirs:.1f}"
    return text


def authors_locomotion() -> tuple[str, str]:
    stage = "13_bomrl_authors_locomotion"
    if not (FULL / stage / "comparison.csv").exists():
        from lib.bomrl.authors_locomotion_report import run_progress
        from lib.profiles import resolve

        folder = FULL / stage / "checkpoints"
        status = run_progress(resolve("locomotion_authors", "full"), folder).status.value_counts()
        return ("running at full profile (resumable)",
                f"Notebook 13's full run is in progress: of {status.sum()} items, {status.get('done', 0)} are done and "
                f"{status.get('partial', 0)} part-way under the current code, in `data/full/{stage}/checkpoints/` "
                f"(`python tools/run_progress.py` for the iterations and the projected time left).")
    cmp, checks = table(stage, "comparison"), table(stage, "learning_checks")
    inner, beside = table(stage, "inner_solutions"), table(stage, "beside_paper")
    k, w = int((cmp.verdict == "better").sum()), int((cmp.verdict == "worse").sum())
    seeds = int(cmp.n_seeds.max())
    word = (f"{'holds' if k == len(cmp) else '**not reproduced**'} on their batch sizes: Alg(k) better than the "
            f"baseline in {k}, worse in {w} of {len(cmp)} pairs ({seeds} seeds); "
            + velocity_one_step(beside) + "; inner relative gradient "
            f"{inner.stationarity_median.min():.2f}-{inner.stationarity_median.max():.2f}")
    shown = cmp.assign(difference=[ci(r.diff, r.lo, r.hi) for r in cmp.itertuples()])
    learn = checks.assign(meta_gain=[ci(r.meta, r.lo_meta, r.hi_meta) for r in checks.itertuples()],
                          adapt_gain=[ci(r.adapt, r.lo_adapt, r.hi_adapt) for r in checks.itertuples()])
    step1 = beside[beside.step == 1][["family", "method", "ours", "paper"]]
    body = ("Each Alg(k) minus each baseline after one adaptation step at the family's last checkpoint, 90 % "
            f"two-level bootstrap (seeds, then goals), `seeds_better` of {seeds}:\n\n"
            + md_table(shown[["family", "method", "baseline", "difference", "seeds_better", "verdict"]])
            + "\n\nDo the methods learn (last minus first 10 meta-iterations; one step minus none at the last "
            "checkpoint; best 10 minus first 10, and seeds ending below their start)?\n\n"
            + md_table(learn[["family", "method", "meta_gain", "meta_verdict", "adapt_gain", "adapt_verdict",
                              "peak", "ends_below_start"]])
            + "\n\nReturn after one step, ours beside the paper's plotted value (theirs after 500 meta-iterations):\n\n"
            + md_table(step1))
    return word, body


ROWS = [  # (claim, notebook, figure, function)
    ("the return depends strongly on the fixed λ and the best λ differs between problems", "02_trpo_vs_xtrpo",
     "02_trpo_vs_xtrpo_curves", sweep),
    ("the paper's validated (H, ψ) per environment", "05_fqi_validation", "05_fqi_validation", validation),
    ("Fig. 1: Meta-KL as good as the best Fixed-KL on every environment, linear policies", "06_figure1",
     "06_figure1", lambda: figure("06_figure1")),
    ("(beyond the paper) xTRPO vs TRPO under the meta-model", "06_figure1", "06_figure1", ablation),
    ("Fig. 2: Minigolf, Meta-KL beats the baselines (linear, MLP(1,16)), matches on MLP(2,32)", "07_figure2",
     "07_figure2", lambda: figure("07_figure2")),
    ("Fig. 3: Cartpole, Meta-KL beats the baselines (linear), matches on MLP(1,16), MLP(3,64)", "08_figure3",
     "08_figure3", lambda: figure("08_figure3")),
    ("(beyond the paper) Minigolf: the one-step meta-reward l_t vs a long-horizon target", "09_minigolf_horizon",
     "09_minigolf_horizon", minigolf_horizon),
    ("paper 2, Frozen Lake: BO-MRL adapts closer to the task optima than MAML", "10_bomrl_frozen_lake",
     "10_bomrl_frozen_lake", frozen_lake),
    ("(beyond the paper) the bound: gap ≤ O(1/√K) + O(Var)", "10_bomrl_frozen_lake", "10_bomrl_theory", theory),
    ("paper 2, locomotion: every BO-MRL variant beats MAML-TRPO, ProMP, E-MAML", "11_locomotion", "11_locomotion",
     locomotion),
    ("paper 2, Frozen Lake on the authors' protocol: their one-step gaps (e.g. 0.086 / 0.178 / 0.338 with holes)",
     "12_bomrl_authors_frozen_lake", "12_bomrl_authors_frozen_lake", authors_frozen_lake),
    ("paper 2, Half-cheetah on the authors' protocol: every Alg(k) beats MAML-TRPO, ProMP, E-MAML",
     "13_bomrl_authors_locomotion", "13_authors_meta_test", authors_locomotion),
]


def render() -> tuple[str, str]:
    """``(docs/results.md, the README's verdict table)``."""
    verdicts = ["| paper's claim | our result (full profile) | notebook |", "|---|---|---|"]
    doc = ["# Results at full profile", "",
           "Written by `tools/write_results.py` from the committed tables in `data/full/` (do not edit by hand; "
           "`make test` fails when this file and the tables disagree). Each section names the notebook that "
           "computes it and the figure it draws.", ""]
    for claim, nb, fig, fn in ROWS:
        word, body = fn()
        verdicts.append(f"| {claim} | {word} | [{nb[:2]}](notebooks/{nb}.ipynb) |")
        figure_link = (f"figure [`{fig}.png`](../figures/{fig}.png)" if (ROOT / "figures" / f"{fig}.png").exists()
                       else "no full-profile figure yet")
        doc += [f"## {claim}", "", f"**{word.replace('**', '')}.** Notebook [`{nb}`](../notebooks/{nb}.ipynb), "
                f"{figure_link}.", "", body, ""]
    return "\n".join(doc), "\n".join(verdicts)


def readme_with(verdicts: str) -> str:
    text = README.read_text()
    a, b = text.index(START) + len(START), text.index(END)
    return text[:a] + "\n" + verdicts + "\n" + text[b:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are not what the tables say")
    args = parser.parse_args()
    doc, verdicts = render()
    readme = readme_with(verdicts)
    if args.check:
        stale = [p.name for p, text in ((RESULTS, doc + "\n"), (README, readme))
                 if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date with data/full: {', '.join(stale)}; run python tools/write_results.py")
            return 1
        return 0
    RESULTS.write_text(doc + "\n")
    README.write_text(readme)
    print(f"wrote {RESULTS.relative_to(ROOT)} and the verdict table of README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
