"""Meta-validation of the FQI meta-model (notebook 05): which (H, ψ) drives xTRPO best.

Every (H, ψ) of the grid is fitted on each of an environment's M meta-datasets and drives
xTRPO on ``n_val_runs`` held-out validation runs (their own tasks, training architectures
drawn per run; the same runs for every meta-model); the score is the mean return over all
steps of all runs, and the pick per (environment, meta-model) is the highest score
(:func:`.meta_kl.validation_scores`, :func:`.meta_kl.choose_model`); :func:`pick_stability`
says how often the M meta-models agree.

Ablation (:func:`exact_feature_runs`, :func:`exact_feature_comparison`): each validated meta-model
refitted with the six policy features in closed form instead of their k-NN estimates, both driving
xTRPO on the same fresh tasks (a split no choice has seen), paired run by run.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lib import paths
from lib.trust_region_meta.fqi import distinct_psis, leaf_size
from lib.trust_region_meta.metadataset import dataset_file
from lib.stats import t_interval, two_level_bootstrap, verdict
from lib.trust_region_meta.learning import FEATURE_SETS
from lib.trust_region_meta.meta_kl import run_meta_kl, run_meta_kl_calls, stored_model, validation_arch
from lib.trust_region_meta.metafeatures import FEATURE_NAMES

if TYPE_CHECKING:  # the config's type only
    from lib.trust_region_meta.config import MetaConfig

PAPER_CHOICE = {"minigolf": (3, 1e-3), "cartpole": (1, 5e-5)}  # paper 1, Figures 2 and 3: (H, ψ)


def model_grid(cfg: "MetaConfig", env: str) -> list[tuple[int, float]]:
    """Every distinct (H, ψ) of the grid for ``env``'s dataset size, ordered so that one FQI chain
    per ψ serves every H (ψ that give the same leaf size on its tuples are one model,
    :func:`.fqi.distinct_psis`)."""
    return [(h, psi) for psi in distinct_psis(cfg.fqi_min_leaves, cfg.tuples(env)) for h in cfg.fqi_horizons]


def validation_runs(cfg: "MetaConfig") -> pd.DataFrame:
    """Per-step tables of every validation run of every model of every meta-model seed of every
    environment (resumable); column ``meta_seed``."""
    calls, seeds = [], []
    for env in cfg.envs:
        runs = range(cfg.n_val_runs)
        archs = [validation_arch(env, cfg.seed, r, cfg.train_archs[env]) for r in runs]
        for m in cfg.meta_seeds():
            calls.append(dict(env=env, split="val", runs=runs, archs=archs, n_updates=cfg.val_updates[env],
                              n_traj=cfg.n_traj[env], seed=cfg.seed, dataset_path=dataset_file(cfg.profile, env, m),
                              kl_grid=cfg.grid(env), models=model_grid(cfg, env), n_estimators=cfg.n_estimators,
                              fqi_seed=cfg.fqi_seed(m), max_points=cfg.max_points))
            seeds.append(m)
    parts = run_meta_kl_calls(calls, paths.cache_dir(cfg.profile, "05_fqi_validation"), cfg.n_jobs,
                              "Meta-KL validation")
    for part, m in zip(parts, seeds):
        part.insert(3, "meta_seed", m)
    return pd.concat(parts, ignore_index=True)


def importances(cfg: "MetaConfig", chosen: pd.DataFrame) -> pd.DataFrame:
    """Extra Trees impurity importances of the chosen models' last Q, averaged over the
    meta-models of an environment: ``env, feature, importance`` (summing to 1 per env;
    ``log10_lambda`` is the action). The models are fitted once and stored
    (:func:`.meta_kl.stored_model`): the ablation and notebooks 06-08 load them."""
    rows = []
    for _, row in chosen.iterrows():
        m = int(row.meta_seed)
        model = stored_model(dataset_file(cfg.profile, row.env, m), cfg.grid(row.env), int(row.fqi_horizon),
                             float(row.min_leaf), cfg.n_estimators, cfg.fqi_seed(m))
        rows += [dict(env=row.env, meta_seed=m, feature=name, importance=imp)
                 for name, imp in zip([*FEATURE_NAMES, "log10_lambda"], model.forest.feature_importances_)]
    per_model = pd.DataFrame(rows)
    return per_model.groupby(["env", "feature"], as_index=False, sort=False).importance.mean()


def pick_stability(chosen: pd.DataFrame) -> pd.DataFrame:
    """How often the M meta-models of an env pick the same (H, ψ): ``env, n_models, distinct_picks,
    most_common`` (the pick and how many meta-models chose it)."""
    rows = []
    for env, g in chosen.groupby("env", sort=False):
        picks = pd.Series([(int(h), float(p)) for h, p in zip(g.fqi_horizon, g.min_leaf)]).value_counts()
        rows.append(dict(env=env, n_models=len(g), distinct_picks=len(picks),
                         most_common=f"{picks.index[0]} x{picks.iloc[0]}"))
    return pd.DataFrame(rows)


def pick_table(chosen: pd.DataFrame, scores: pd.DataFrame, tuples: dict, paper=PAPER_CHOICE) -> pd.DataFrame:
    """The validated pick per env beside the paper's (H, ψ) and the score the paper's pick got here.

    Args:
        chosen, scores: notebook 05's tables. tuples: env -> meta-dataset size, for the leaf size
            each ψ gives (the paper's ψ is scored by the model of the same H and leaf size).
    """
    keys = [c for c in ("env", "meta_seed") if c in chosen.columns]
    table = chosen[keys + ["fqi_horizon", "min_leaf", "score"]].copy()
    table.insert(len(keys) + 2, "leaf_size", [leaf_size(p, tuples[e]) for e, p in zip(table.env, table.min_leaf)])
    table["paper (H, psi)"] = table.env.map(lambda e: str(paper.get(e, "-")))
    score = []
    for _, row in table.iterrows():
        e = row.env
        s = scores[(scores.env == e) & (scores.fqi_horizon == paper.get(e, (0,))[0])]
        if "meta_seed" in keys:
            s = s[s.meta_seed == row.meta_seed]
        same = [leaf_size(p, tuples[e]) == leaf_size(paper[e][1], tuples[e]) for p in s.min_leaf] if e in paper else []
        score.append(s[same].score.mean() if any(same) else np.nan)
    table["paper's pick: score"] = score
    return table


def exact_feature_runs(cfg: "MetaConfig", chosen: pd.DataFrame) -> pd.DataFrame:
    """Meta-KL runs of every validated (env, meta-model) pick on ``n_val_runs`` fresh tasks, with the
    k-NN metafeatures and with the exact policy features (model refitted on them; the run sees
    them): per-step tables with columns ``features`` and ``meta_seed``. Both feature sets share
    each run's task, architecture, initial policy and first batch (common random numbers)."""
    parts = []
    for env in cfg.envs:
        runs = range(cfg.n_val_runs)
        archs = [validation_arch(env, cfg.seed, r, cfg.train_archs[env]) for r in runs]
        for _, pick in chosen[chosen.env == env].iterrows():
            m = int(pick.meta_seed)
            for features in FEATURE_SETS:
                part = run_meta_kl(env, "fresh", runs, archs, cfg.val_updates[env], cfg.n_traj[env], cfg.seed,
                                   dataset_file(cfg.profile, env, m), cfg.grid(env),
                                   [(int(pick.fqi_horizon), float(pick.min_leaf))],
                                   paths.cache_dir(cfg.profile, "05_fqi_validation"), cfg.n_estimators,
                                   cfg.fqi_seed(m), "xTRPO", cfg.n_jobs, cfg.max_points, features=features)
                part.insert(3, "meta_seed", m)
                part.insert(4, "features", features)
                parts.append(part)
    return pd.concat(parts, ignore_index=True)


def exact_feature_comparison(runs: pd.DataFrame, level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Exact minus k-NN policy features, on the validation score (mean return over all steps of a
    run), paired by run: per (env, meta-model) a t-interval over runs, and ``pooled`` over the
    meta-models with the two-level bootstrap (meta-models, then runs).

    Returns:
        ``env, meta_seed ("pooled" for the pool), n_runs, knn, exact, diff, lo, hi, verdict``.
    """
    score = runs.groupby(["env", "meta_seed", "features", "run"], as_index=False).ret.mean()
    wide = score.pivot_table(index=["env", "meta_seed", "run"], columns="features", values="ret").reset_index()
    wide["diff"] = wide["exact-policy"] - wide["knn"]
    rows = []
    for env, g in wide.groupby("env", sort=False):
        for m, gm in g.groupby("meta_seed"):
            mean, lo, hi = t_interval(gm["diff"].to_numpy(), level)
            rows.append(dict(env=env, meta_seed=str(m), n_runs=len(gm), knn=gm.knn.mean(),
                             exact=gm["exact-policy"].mean(), diff=mean, lo=lo, hi=hi))
        matrix = g.pivot(index="meta_seed", columns="run", values="diff").to_numpy()
        mean, lo, hi = two_level_bootstrap(matrix, level, seed=seed)
        rows.append(dict(env=env, meta_seed="pooled", n_runs=int(np.isfinite(matrix).sum()), knn=g.knn.mean(),
                         exact=g["exact-policy"].mean(), diff=mean, lo=lo, hi=hi))
    out = pd.DataFrame(rows)
    out["verdict"] = [verdict(lo, hi, "exact better", "k-NN better") for lo, hi in zip(out.lo, out.hi)]
    return out


def exact_feature_ablation(cfg: "MetaConfig", chosen: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Notebook 05's ablation tables: ``{"exact_feature_runs": ..., "exact_feature_comparison": ...}``
    (:func:`exact_feature_runs`, :func:`exact_feature_comparison`)."""
    runs = exact_feature_runs(cfg, chosen)
    return {"exact_feature_runs": runs, "exact_feature_comparison": exact_feature_comparison(runs)}


def top_importances(importances: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` most important inputs per env of an :func:`importances` table."""
    return importances.sort_values("importance", ascending=False).groupby("env", sort=False).head(n)
