"""Fixed trust-region sweeps: TRPO vs xTRPO for a grid of lambda (notebook 02).

Every (env, run) pair draws one task and one initial policy; all algorithms and all
lambdas reuse them (common random numbers), so differences between curves come from the
algorithm and lambda, not from luck of the draw. Each learning run is one checkpointed
job, so an interrupted sweep resumes where it stopped. ``split="val"`` runs the same sweep on the
meta-validation tasks, where the meta-test figures choose their best Fixed-KL baseline.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from lib.parallel import map_resumable
from lib.stats import per_run_scores, t_interval
from lib.trust_region_meta.learning import learn, run_setup

if TYPE_CHECKING:  # the config's type only
    from lib.trust_region_meta.config import SweepConfig


def _one_run(env, algo, kl_bound, run, arch, n_updates, n_traj, seed, split="test", policy_init=()):
    task, key = run_setup(env, split, seed, run)
    df = learn(env, task, kl_bound, algo, arch=arch, n_updates=n_updates, n_traj=n_traj,
               seed=seed, key=key, policy_init=tuple(policy_init))
    df.insert(3, "fixed_kl", kl_bound)
    df.insert(4, "run", run)
    return df


def sweep_jobs(cfg: SweepConfig) -> list[dict]:
    """One job per (env, algo, lambda, run); its key digests every argument and the code."""
    jobs = []
    h, n = cfg.arch
    for env in cfg.envs:
        t_len, n_traj = cfg.n_updates[env], cfg.n_traj[env]
        for algo in cfg.algos:
            for kl in cfg.grid(env):
                for run in range(cfg.n_runs):
                    jobs.append(dict(label=f"{env}-{cfg.split}-{algo}-kl{kl:g}-r{run}-a{h}x{n}", kwargs=dict(
                        env=env, algo=algo, kl_bound=kl, run=run, arch=cfg.arch,
                        n_updates=t_len, n_traj=n_traj, seed=cfg.seed, split=cfg.split,
                        policy_init=tuple(cfg.policy_init))))
    return jobs


def fixed_kl_sweep(cfg: SweepConfig, cache_dir) -> pd.DataFrame:
    """Run (or resume) the sweep; tidy table, one row per (env, algo, fixed_kl, run, step)."""
    results = map_resumable(_one_run, sweep_jobs(cfg), cache_dir, n_workers=cfg.n_jobs,
                            desc="fixed-lambda runs")
    return pd.concat(results, ignore_index=True)


def final_performance(df: pd.DataFrame, last: int = 3, level: float = 0.9) -> pd.DataFrame:
    """Return over the last ``last`` steps of each run, then mean and t-interval over runs.

    Returns:
        one row per (env, algo, fixed_kl): ``mean, lo, hi, n`` and ``auc`` (mean return
        over all steps, averaged over runs).
    """
    keys = ["env", "algo", "fixed_kl"]
    per_run = per_run_scores(df, keys, last)
    rows = []
    for (env, algo, kl), g in per_run.groupby(keys):
        mean, lo, hi = t_interval(g.final, level)
        rows.append(dict(env=env, algo=algo, fixed_kl=kl, mean=mean, lo=lo, hi=hi, n=len(g),
                         auc=g.auc.mean()))
    return pd.DataFrame(rows)


def best_and_worst(perf: pd.DataFrame) -> pd.DataFrame:
    """Per (env, algo): the best and worst fixed lambda by final return, and their returns."""
    rows = []
    for (env, algo), g in perf.groupby(["env", "algo"], sort=False):
        best, worst = g.loc[g["mean"].idxmax()], g.loc[g["mean"].idxmin()]
        rows.append(dict(env=env, algo=algo, best_kl=best.fixed_kl, best=best["mean"],
                         worst_kl=worst.fixed_kl, worst=worst["mean"]))
    return pd.DataFrame(rows)


