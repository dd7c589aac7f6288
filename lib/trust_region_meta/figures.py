"""The meta-test figures 1-3 of paper 1 (notebooks 06-08): one recipe, three panel sets.

Each figure compares three ways of choosing the trust region λ along a learning run:

* **Meta-KL**: the FQI meta-model's greedy λ at every step (:func:`.meta_kl.run_meta_kl`);
* **Fixed-KL (best)**: the best single λ of the grid Λ, TRPO or xTRPO, by AUC per panel,
  chosen on the meta-validation tasks and reported on the test tasks (:func:`.meta_kl.best_fixed`;
  test runs shared with notebook 02's sweep). The comparison table also holds the "oracle"
  choice made on the test runs themselves (``selected_on``), for reference;
* **Random-KL (dataset)**: the meta-dataset's own learning runs, λ drawn at random each step,
  of the panel's architectures only (Figure 1: the linear ones).

A panel is one environment (Figure 1) or one policy architecture (Figures 2 and 3).
:func:`figure_tables` runs (or resumes) the panels' runs and writes every table the figure
and its claim read (the verdict itself: :mod:`.claims`).
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import pandas as pd

from lib import paths
from lib.io import load_table, save_table
from lib.policies import arch_label
from lib.stats import curve_quantiles, curve_summary
from lib.trust_region_meta.meta_kl import (
    best_fixed,
    compare_runs,
    compare_to_fixed,
    fixed_test_runs,
    lambda_trend,
    meta_test_runs,
    method_tables,
    pooled_comparison,
    random_kl_runs,
)
from lib.trust_region_meta.metadataset import dataset_file

if TYPE_CHECKING:  # the config's type only
    from lib.trust_region_meta.config import MetaConfig

FIXED_STAGE = "02_trpo_vs_xtrpo"  # the Fixed-KL runs of linear policies are notebook 02's
ROBUST_ENVS = ("elikoeidis",)  # unbounded reward: a few diverging runs decide every mean (docs/preregistration.md)


def sweep_figure_curves(runs: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """The curves notebook 02's figure draws per ``[env, algo, fixed_kl]``: mean with a t-band, except on
    :data:`ROBUST_ENVS`, median with the inter-quartile band (column ``statistic`` says which)."""
    robust = runs.env.isin(ROBUST_ENVS)
    parts = [curve_summary(runs[~robust], by=["env", "algo", "fixed_kl"], level=level).assign(statistic="mean")]
    if robust.any():
        parts.append(curve_quantiles(runs[robust], by=["env", "algo", "fixed_kl"]).assign(statistic="median"))
    return pd.concat(parts, ignore_index=True)


def _chosen(cfg: "MetaConfig") -> pd.DataFrame:
    """Notebook 05's validated (H, ψ) per environment and meta-model, indexed by ``(env, meta_seed)``."""
    return load_table(paths.data_dir(cfg.profile, "05_fqi_validation") / "chosen.csv").set_index(["env", "meta_seed"])


def _meta_runs(cfg, stage, env, archs, chosen: pd.DataFrame, meta_seed: int, algo="xTRPO"):
    choice = chosen.loc[(env, meta_seed)]
    runs = meta_test_runs(cfg, env, archs, int(choice.fqi_horizon), choice.min_leaf,
                          dataset_file(cfg.profile, env, meta_seed), cfg.fqi_seed(meta_seed),
                          paths.cache_dir(cfg.profile, stage), algo=algo)
    runs.insert(3, "meta_seed", meta_seed)
    return runs


def panel_random_runs(profile: str, env: str, archs, meta_seeds) -> pd.DataFrame:
    """Random-KL: the meta-datasets' own random-λ runs of the panel's architectures (column ``meta_seed``)."""
    parts = []
    for m in meta_seeds:
        rk = random_kl_runs(load_table(dataset_file(profile, env, m)), env).assign(meta_seed=m)
        parts.append(rk[rk.arch.isin([arch_label(a) for a in archs])])  # the panel's architectures only
    return pd.concat(parts, ignore_index=True)


def robust_curves(curves: pd.DataFrame, meta, fixed, fixed_val, random_runs) -> pd.DataFrame:
    """:func:`.meta_kl.method_tables`' curves with the panels of :data:`ROBUST_ENVS` redrawn as medians with
    inter-quartile bands (column ``statistic``: ``mean`` or ``median``), the same runs and baseline choice."""
    curves = curves.assign(statistic="mean")
    robust = sorted(set(meta[meta.env.isin(ROBUST_ENVS)].panel))
    if not robust:
        return curves
    best = best_fixed(fixed, "panel", "auc", fixed_val)
    parts = {"Meta-KL": meta, "Fixed-KL (best)": best, "Random-KL (dataset)": random_runs}
    rows = [curve_quantiles(runs[runs.panel.isin(robust)].assign(method=name), by=["panel", "method"])
            for name, runs in parts.items() if len(runs) and runs.panel.isin(robust).any()]
    return pd.concat([curves[~curves.panel.isin(robust)], *[r.assign(statistic="median") for r in rows]],
                     ignore_index=True)


def figure_tables(cfg: "MetaConfig", stage: str, panels: list[tuple[str, list]], panel_by: str,
                  level: float = 0.9) -> dict[str, pd.DataFrame]:
    """Run (or resume) a figure's Meta-KL runs (every meta-model) and Fixed-KL runs, and write its tables.

    Args:
        cfg: the ``meta`` stage config.
        stage: the notebook's stage, e.g. ``"06_figure1"`` (its data and cache folders).
        panels: ``[(env, [arch, ...]), ...]``, the environments and architectures drawn.
        panel_by: ``"env"`` (one panel per environment) or ``"arch"`` (one per architecture).
        level: confidence level of the curve bands and the comparisons.
    Returns:
        the tables as written to ``data/<profile>/<stage>/`` and read back: ``meta`` (column
        ``meta_seed``), ``fixed``, ``fixed_val`` (per-step runs on the test and the validation
        tasks), ``curves``, ``lambdas`` (:func:`.meta_kl.method_tables`, Meta-KL pooled over the
        meta-models), ``comparison`` (per meta-model, :func:`.meta_kl.compare_to_fixed`, with the
        baseline chosen on the validation tasks and, for reference, on the test runs),
        ``pooled`` (:func:`.meta_kl.pooled_comparison`), ``lambda_trend``
        (:func:`.meta_kl.lambda_trend`), plus ``panels`` (their order).
    """
    if panel_by not in ("env", "arch"):
        raise ValueError(f"panel_by must be 'env' or 'arch', got {panel_by!r}")
    meta, fixed, fixed_val, random_runs = [], [], [], []
    chosen = _chosen(cfg)
    for env, archs in panels:
        meta += [_meta_runs(cfg, stage, env, archs, chosen, m) for m in cfg.meta_seeds()]
        f, fv = fixed_test_runs(cfg, env, archs, paths.cache_dir(cfg.profile, FIXED_STAGE))
        fixed.append(f)
        fixed_val.append(fv)
        random_runs.append(panel_random_runs(cfg.profile, env, archs, cfg.meta_seeds()))
    meta, fixed, fixed_val, random_runs = (pd.concat(x, ignore_index=True).assign(panel=lambda d: d[panel_by])
                                           for x in (meta, fixed, fixed_val, random_runs))
    random_runs = random_runs[random_runs.panel.isin(set(meta.panel))]
    curves, lambdas = method_tables(meta, fixed, random_runs, "panel", level=level, selection=fixed_val)
    curves = robust_curves(curves, meta, fixed, fixed_val, random_runs)
    per_model = []
    for m, runs in meta.groupby("meta_seed"):
        for selection, label in ((fixed_val, "validation tasks"), (None, "test runs (oracle)")):
            per_model.append(compare_to_fixed(runs, fixed, "panel", level, cfg.seed, selection).assign(
                meta_seed=m, selected_on=label))
    tables = dict(meta_kl_runs=meta, fixed_kl_runs=fixed, fixed_kl_val_runs=fixed_val, curves=curves,
                  lambdas=lambdas, comparison=pd.concat(per_model, ignore_index=True),
                  pooled=pooled_comparison(meta, fixed, "panel", level, cfg.seed, selection=fixed_val),
                  lambda_trend=lambda_trend(meta, "panel", level, cfg.seed))
    out = paths.data_dir(cfg.profile, stage)
    for name, df in tables.items():
        save_table(df, out / f"{name}.csv", params=asdict(cfg))
    read = {name: load_table(out / f"{name}.csv") for name in tables}
    print(f"Meta-KL: {meta.groupby(['panel', 'meta_seed', 'run']).ngroups} runs of {cfg.n_meta_models} meta-models, "
          f"Fixed-KL: {fixed.groupby(['panel', 'algo', 'fixed_kl', 'run']).ngroups} test and "
          f"{fixed_val.groupby(['panel', 'algo', 'fixed_kl', 'run']).ngroups} validation runs")
    return dict(meta=read["meta_kl_runs"], fixed=read["fixed_kl_runs"], fixed_val=read["fixed_kl_val_runs"],
                curves=read["curves"], lambdas=read["lambdas"], comparison=read["comparison"],
                pooled=read["pooled"], lambda_trend=read["lambda_trend"], panels=list(dict.fromkeys(meta.panel)))


def xtrpo_ablation(cfg: "MetaConfig", stage: str, meta: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Meta-KL driving xTRPO vs the same meta-model driving TRPO, linear policies, per env, for
    meta-model 0 (one meta-model: the ablation is beyond the paper and costs a full set of runs).

    Returns (and writes as ``ablation_xtrpo_vs_trpo.csv``) one row per env: ``xtrpo, trpo``
    (mean final returns), ``diff, lo, hi`` (paired bootstrap CI of xTRPO minus TRPO).
    """
    rows, runs = [], []
    chosen = _chosen(cfg)
    for env in cfg.envs:
        runs.append(_meta_runs(cfg, stage, env, [(0, 0)], chosen, 0, algo="TRPO").assign(panel=env))
        d = compare_runs(meta[(meta.panel == env) & (meta.meta_seed == 0)], runs[-1], "final", level, seed=cfg.seed)
        rows.append(dict(env=env, meta_seed=0, xtrpo=d["a"], trpo=d["b"], diff=d["diff"], lo=d["lo"], hi=d["hi"]))
    out = paths.data_dir(cfg.profile, stage)
    save_table(pd.concat(runs, ignore_index=True), out / "meta_kl_trpo_runs.csv", params=asdict(cfg))
    save_table(pd.DataFrame(rows), out / "ablation_xtrpo_vs_trpo.csv", params=asdict(cfg))
    return load_table(out / "ablation_xtrpo_vs_trpo.csv")


