"""Notebook 10's checks and summaries around the Frozen Lake items.

The items (meta-training and meta-test of every method per distribution and seed) are
:mod:`lib.bomrl.frozen_lake_study`; this module describes the tasks, checks the implicit
meta-gradients against finite differences, and turns the items' tables into the figures'
summaries (the verdicts: :mod:`lib.bomrl.claims`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import torch

from lib.bomrl import exact, frozen_lake_study, tabular
from lib.seeding import rng as make_rng
from lib.stats import curve_summary

if TYPE_CHECKING:  # the config's type only
    from lib.bomrl.config import BOMRLConfig


def variance_settings(cfg: "BOMRLConfig") -> tuple[dict, int, int]:
    """The low- and high-variance goal radii of the figure and their labels:
    ``(labels, low, high)``; low is the radius closest to 1, high the largest."""
    low, high = min(cfg.goal_radii, key=lambda r: abs(r - 1)), max(cfg.goal_radii)
    labels = {low: f"low task variance (goal radius {low})", high: f"high task variance (goal radius {high})"}
    return labels, low, high


def describe_tasks(cfg: "BOMRLConfig", labels: dict) -> str:
    """Per setting: J* over the test tasks, the task variances Var_KL and Var_Euclidean of the
    soft-optimal policies, and the first two test maps."""
    lines = []
    for r, label in labels.items():
        _, test = frozen_lake_study.draw_tasks(cfg, r, 0)
        star = tabular.optimal(test)["J"].numpy()
        theta_star = tabular.soft_optimal(test, cfg.temperature)
        lines.append(f"{label}: J* over test tasks {star.mean():.3f} (min {star.min():.3f}, max {star.max():.3f}); "
                     f"Var_KL {exact.task_variance(theta_star, 'kl'):.3f}, "
                     f"Var_Euclidean {exact.task_variance(theta_star, 'euclidean'):.0f}")
        lines += ["   " + "    ".join(" ".join(row) for row in test.maps[k]) for k in (0, 1)]
    return "\n".join(lines)


def gradient_check(cfg: "BOMRLConfig", goal_radius: int, seed: int, h: float = 1e-4, n_dirs: int = 3) -> pd.DataFrame:
    """The implicit meta-gradient of each BO-MRL metric on 4 training tasks against a central
    finite difference of the exact meta-objective along ``n_dirs`` random directions.

    Returns:
        ``method, implicit, finite_difference, rel_error``.
    """
    train, _ = frozen_lake_study.draw_tasks(cfg, goal_radius, 0)
    tasks = train.subset(range(4))
    phi = torch.as_tensor(make_rng(seed, "09-gradcheck").normal(0, 0.3, (16, 3)))
    rows = []
    for method in [m for m in frozen_lake_study.methods(cfg) if m.kind == "bomrl"]:
        grad, _ = exact.meta_gradient(phi, tasks, method.alg)
        for d in range(n_dirs):
            u = torch.as_tensor(make_rng(seed, "09-direction", d).normal(size=(16, 3)))
            fd = (exact.meta_objective(phi + h * u, tasks, method.alg)
                  - exact.meta_objective(phi - h * u, tasks, method.alg)) / (2 * h)
            rows.append(dict(method=method.name, implicit=float((grad * u).sum()), finite_difference=fd))
    table = pd.DataFrame(rows)
    table["rel_error"] = (table.implicit - table.finite_difference).abs() / table.finite_difference.abs()
    return table


def run_report(cfg: "BOMRLConfig", curves: pd.DataFrame, history: pd.DataFrame, seconds: pd.DataFrame) -> str:
    """Text: items run, mean seconds per item and method, and how many inner solutions were
    not a strict local maximum (their implicit system was damped)."""
    sec = seconds.groupby("method").seconds.mean()
    damped = int(history.groupby("method").n_nonconcave.sum().sum())
    total = int(history.method.isin(list(frozen_lake_study.METRIC_OF)).sum() * min(cfg.batch_size, cfg.n_train_tasks))
    return (f"{curves.groupby(['goal_radius', 'seed']).ngroups} (distribution, seed) items; mean seconds per item "
            f"and method: " + ", ".join(f"{k} {v:.1f}" for k, v in sec.items()) + "\n"
            f"inner solutions that were not a strict local maximum (implicit system damped): {damped} of {total} "
            f"BO-MRL task-iterations")


def return_summary(final: pd.DataFrame) -> pd.DataFrame:
    """Return per adaptation step (mean and 90 % t-interval over seeds) with the mean J*."""
    summary = curve_summary(final, ["goal_radius", "method"], x="step", y="J")
    star = final.groupby("goal_radius").J_star.mean().rename("J_star").reset_index()
    return summary.merge(star, on="goal_radius")


def theory_tables(curves: pd.DataFrame, variance: pd.DataFrame, K: int, goal_radius: int) -> dict[str, pd.DataFrame]:
    """The tables of the theory figure: gap against task variance with a line fit per method,
    and gap against meta-iterations K at ``goal_radius`` with the fit a + b/√K."""
    gap_var = frozen_lake_study.gap_vs_variance(curves, variance, K, step=1)
    fits = pd.DataFrame([dict(method=m, **frozen_lake_study.fit_slope(p.variance, p.gap))
                         for m, p in gap_var.groupby("method", sort=False)])
    gap_k, k_fits = frozen_lake_study.gap_vs_iterations(curves, goal_radius, step=1)
    return dict(gap_vs_variance=gap_var, variance_fits=fits, gap_vs_K=gap_k, K_fits=k_fits)



def adaptation_tables(curves: pd.DataFrame, K: int) -> dict[str, pd.DataFrame]:
    """The adaptation figure's tables at meta-iteration ``K``: ``return_summary``
    (:func:`return_summary`) and ``gap_summary`` (:func:`lib.bomrl.frozen_lake_study.gap_summary`)."""
    final = curves[curves.K == K]
    return dict(return_summary=return_summary(final), gap_summary=frozen_lake_study.gap_summary(final))


def compare_to_baselines(curves: pd.DataFrame, cfg: "BOMRLConfig") -> pd.DataFrame:
    """:func:`lib.bomrl.frozen_lake_study.compare_gaps` at the last meta-iteration, for the low-
    and high-variance settings, after one step and after all adaptation steps."""
    _, low, high = variance_settings(cfg)
    final = curves[curves.K == max(cfg.checkpoints)]
    return frozen_lake_study.compare_gaps(final, (low, high), (1, cfg.n_adapt_steps))
