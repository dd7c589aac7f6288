"""The meta-test figures 1-3 of paper 1 (notebooks 06-08): one recipe, three panel sets.

Each figure compares three ways of choosing the trust region λ along a learning run:

* **Meta-KL**: the FQI meta-model's greedy λ at every step (:func:`.meta_kl.run_meta_kl`);
* **Fixed-KL (best)**: the best single λ of the grid Λ, TRPO or xTRPO, by AUC per panel
  (:func:`.meta_kl.best_fixed`, runs shared with notebook 02's sweep);
* **Random-KL (dataset)**: the meta-dataset's own learning runs, λ drawn at random each step,
  of the panel's architectures only (Figure 1: the linear ones).

A panel is one environment (Figure 1) or one policy architecture (Figures 2 and 3).
:func:`figure_tables` runs (or resumes) the panels' runs and writes every table the figure
and its claim read; :func:`claim_lines` reads the paper's claim against the comparison.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import pandas as pd

from lib import paths
from lib.io import load_table, save_table
from lib.policies import arch_label
from lib.trust_region_meta.meta_kl import (
    compare_runs,
    compare_to_fixed,
    method_tables,
    random_kl_runs,
    run_figure,
)

if TYPE_CHECKING:  # the config's type only; lib.profiles sits above this module
    from lib.profiles import MetaConfig

FIXED_STAGE = "02_trpo_vs_xtrpo"  # the Fixed-KL runs of linear policies are notebook 02's

# The paper's claim per figure and panel, as the verdicts (final return and AUC, Meta-KL minus
# the best Fixed-KL) that it allows.
CLAIMS = {
    "06_figure1": {env: ("better", "indistinguishable") for env in ("elikoeidis", "minigolf", "cartpole")},
    "07_figure2": {"MLP(0,0)": ("better",), "MLP(1,16)": ("better",), "MLP(2,32)": ("better", "indistinguishable")},
    "08_figure3": {"MLP(0,0)": ("better",), "MLP(1,16)": ("better", "indistinguishable"),
                   "MLP(3,64)": ("better", "indistinguishable")},
}


def claim_held(comparison: pd.DataFrame, claim: dict[str, tuple]) -> dict[str, bool]:
    """Per panel present: whether both its verdicts (final, AUC) are among those the claim allows."""
    verdicts = comparison.pivot(index="panel", columns="metric", values="verdict")
    return {panel: all(v in allowed for v in verdicts.loc[panel]) for panel, allowed in claim.items()
            if panel in verdicts.index}


def _chosen(cfg: "MetaConfig") -> pd.DataFrame:
    """Notebook 05's validated (H, ψ) per environment, indexed by ``env``."""
    return load_table(paths.data_dir(cfg.profile, "05_fqi_validation") / "chosen.csv").set_index("env")


def _dataset(cfg: "MetaConfig", env: str):
    return paths.data_dir(cfg.profile, "04_meta_dataset") / f"{env}.csv"


def _meta_runs(cfg, stage, env, archs, chosen: pd.DataFrame, algo="xTRPO"):
    choice = chosen.loc[env]
    return run_figure(cfg, env, archs, int(choice.fqi_horizon), choice.min_leaf, _dataset(cfg, env),
                      paths.cache_dir(cfg.profile, stage), paths.cache_dir(cfg.profile, FIXED_STAGE), algo=algo)


def figure_tables(cfg: "MetaConfig", stage: str, panels: list[tuple[str, list]], panel_by: str,
                  level: float = 0.9) -> dict[str, pd.DataFrame]:
    """Run (or resume) a figure's Meta-KL and Fixed-KL runs and write its tables.

    Args:
        cfg: the ``meta`` stage config.
        stage: the notebook's stage, e.g. ``"06_figure1"`` (its data and cache folders).
        panels: ``[(env, [arch, ...]), ...]``, the environments and architectures drawn.
        panel_by: ``"env"`` (one panel per environment) or ``"arch"`` (one per architecture).
        level: confidence level of the curve bands and the paired comparison.
    Returns:
        the tables as written to ``data/<profile>/<stage>/`` and read back: ``meta``,
        ``fixed`` (per-step runs), ``curves``, ``lambdas`` (:func:`.meta_kl.method_tables`),
        ``comparison`` (:func:`.meta_kl.compare_to_fixed`), plus ``panels`` (their order).
    """
    if panel_by not in ("env", "arch"):
        raise ValueError(f"panel_by must be 'env' or 'arch', got {panel_by!r}")
    meta, fixed, random_runs = [], [], []
    chosen = _chosen(cfg)
    for env, archs in panels:
        m, f = _meta_runs(cfg, stage, env, archs, chosen)
        meta.append(m)
        fixed.append(f)
        rk = random_kl_runs(load_table(_dataset(cfg, env)), env)
        random_runs.append(rk[rk.arch.isin([arch_label(a) for a in archs])])  # the panel's architectures only
    meta, fixed, random_runs = (pd.concat(x, ignore_index=True).assign(panel=lambda d: d[panel_by])
                                for x in (meta, fixed, random_runs))
    random_runs = random_runs[random_runs.panel.isin(set(meta.panel))]
    curves, lambdas = method_tables(meta, fixed, random_runs, "panel", level=level)
    tables = dict(meta_kl_runs=meta, fixed_kl_runs=fixed, curves=curves, lambdas=lambdas,
                  comparison=compare_to_fixed(meta, fixed, "panel", level=level, seed=cfg.seed))
    out = paths.data_dir(cfg.profile, stage)
    for name, df in tables.items():
        save_table(df, out / f"{name}.csv", params=asdict(cfg))
    read = {name: load_table(out / f"{name}.csv") for name in tables}
    print(f"Meta-KL: {meta.groupby(['panel', 'run']).ngroups} runs, "
          f"Fixed-KL: {fixed.groupby(['panel', 'algo', 'fixed_kl', 'run']).ngroups} runs")
    return dict(meta=read["meta_kl_runs"], fixed=read["fixed_kl_runs"], curves=read["curves"],
                lambdas=read["lambdas"], comparison=read["comparison"], panels=list(dict.fromkeys(meta.panel)))


def xtrpo_ablation(cfg: "MetaConfig", stage: str, meta: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Meta-KL driving xTRPO vs the same meta-model driving TRPO, linear policies, per env.

    Returns (and writes as ``ablation_xtrpo_vs_trpo.csv``) one row per env: ``xtrpo, trpo``
    (mean final returns), ``diff, lo, hi`` (paired bootstrap CI of xTRPO minus TRPO).
    """
    rows, runs = [], []
    chosen = _chosen(cfg)
    for env in cfg.envs:
        m_trpo, _ = _meta_runs(cfg, stage, env, [(0, 0)], chosen, algo="TRPO")
        runs.append(m_trpo.assign(panel=env))
        d = compare_runs(meta[meta.panel == env], runs[-1], "final", level, seed=cfg.seed)
        rows.append(dict(env=env, xtrpo=d["a"], trpo=d["b"], diff=d["diff"], lo=d["lo"], hi=d["hi"]))
    out = paths.data_dir(cfg.profile, stage)
    save_table(pd.concat(runs, ignore_index=True), out / "meta_kl_trpo_runs.csv", params=asdict(cfg))
    save_table(pd.DataFrame(rows), out / "ablation_xtrpo_vs_trpo.csv", params=asdict(cfg))
    return load_table(out / "ablation_xtrpo_vs_trpo.csv")


def claim_lines(comparison: pd.DataFrame, claim: dict[str, tuple], cfg: "MetaConfig") -> str:
    """Markdown: per panel, Meta-KL vs the best Fixed-KL and whether the paper's claim holds.

    Args:
        comparison: :func:`.meta_kl.compare_to_fixed`'s table.
        claim: panel -> the verdicts the paper's claim allows, e.g. ``("better",)``.
    Returns:
        one bullet per panel present: means, the final-return difference with its CI, the
        verdicts on final return and AUC, and "holds" when both verdicts are allowed.
    """
    verdicts = comparison.pivot(index="panel", columns="metric", values="verdict")
    lines = []
    for panel, held in claim_held(comparison, claim).items():
        expected, got = claim[panel], verdicts.loc[panel]
        c = comparison[(comparison.panel == panel) & (comparison.metric == "final")].iloc[0]
        lines.append(f"* **{panel}**: Meta-KL {c.meta:.3g} vs best Fixed-KL {c.fixed:.3g} ({c.fixed_algo}, "
                     f"λ={c.fixed_kl:g}); difference {c['diff']:.3g} [{c.lo:.3g}, {c.hi:.3g}]; verdicts final/AUC: "
                     f"{got['final']}/{got['auc']} → claim ({' or '.join(expected)}) "
                     f"**{'holds' if held else 'does not hold'}**.")
    head = f"**Our result ({cfg.profile} profile, {cfg.n_test_runs} runs per panel):**\n\n"
    return head + "\n".join(lines)
