"""Notebook 11's measurements and summaries around the locomotion items.

The items themselves (meta-training and meta-test, resumable) are
:mod:`lib.bomrl.locomotion_study`; this module only measures the sampler, checks the
implicit meta-gradients on a real batch, and summarises the items' tables, so editing it
never makes the committed checkpoints look stale.

Intervals: the unit that repeats independently is the **seed** (one meta-training run with
its own initial policy and tasks); test tasks within a seed share the meta-policy. The
figure therefore shows each seed's mean next to the pooled mean, and its interval is over
test tasks pooled across seeds: it covers test-task variation, not the variation between
meta-training runs, which two seeds cannot estimate.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl import sampled
from lib.bomrl.locomotion_study import compare_methods, dims, ranking
from lib.bomrl.sampler import sample
from lib.envs.locomotion import sample_tasks
from lib.seeding import rng as make_rng
from lib.stats import curve_summary, t_interval

if TYPE_CHECKING:  # the config's type only; lib.profiles sits above this module
    from lib.profiles import LocomotionConfig


def sampler_speed(cfg: "LocomotionConfig", seed: int, repeats: int = 3) -> pd.DataFrame:
    """Steps per second of one meta-batch per family, initial policy, median of ``repeats``.

    Returns:
        ``family, obs_dim, act_dim, steps, seconds, steps_per_s``.
    """
    rows = []
    for fam in cfg.families:
        obs_dim, act_dim = dims(fam)
        phi0 = fp.init_params(obs_dim, act_dim, cfg.arch, seed=0)
        tasks = sample_tasks(fam, make_rng(seed, "10-speed", fam), cfg.meta_batch)
        infos = [sample(fam, phi0, tasks, cfg.n_traj, seed=1, horizon=cfg.horizon)[1] for _ in range(repeats)]
        seconds = float(np.median([i["seconds"] for i in infos]))
        rows.append(dict(family=fam, obs_dim=obs_dim, act_dim=act_dim, steps=infos[0]["steps"], seconds=seconds,
                         steps_per_s=infos[0]["steps"] / seconds))
    return pd.DataFrame(rows)


def gradient_check(family: str, seed: int, h: float = 1e-5, n_dirs: int = 3) -> tuple[pd.DataFrame, float]:
    """Implicit meta-gradients of Alg(3) (Euclidean) and the KL-constrained step on one real
    batch (linear policy, 10 trajectories of 50 steps) against central finite differences.

    For a random post-adaptation gradient g', compares ``(dθ'/dφ)ᵀ g'`` along ``n_dirs``
    random directions u with ``(g'ᵀθ'(φ + h u) − g'ᵀθ'(φ − h u)) / 2h``.

    Returns:
        ``(table metric, implicit, finite_difference, rel_error; stationarity)`` where
        stationarity is Alg(1)'s relative gradient ``|∇F(θ')| / |∇F(φ)|`` after its
        L-BFGS iterations on the same batch (0 at an exact maximiser).
    """
    obs_dim, act_dim = dims(family)
    phi = fp.init_params(obs_dim, act_dim, (0, 0), std0=0.8, seed=1)
    data, _ = sample(family, phi, [1.0], 10, seed=2, horizon=50)
    g_post = torch.as_tensor(make_rng(seed, "10-gpost").normal(size=fp.flat(phi).numel()))
    x0 = fp.flat(phi).detach()
    rows = []
    for metric in ("euclidean", "kl_constrained"):
        acfg = sampled.SampledAlgConfig(metric, cg_iters=400, cg_damping=1e-10, cg_tol=1e-26)
        grad, _ = sampled.meta_gradient(phi, data[0], sampled.adapt(phi, data[0], acfg), g_post, acfg)

        def along(x, acfg=acfg):
            return float(fp.flat(sampled.adapt(fp.unflat(x, phi), data[0], acfg)) @ g_post)

        for k in range(n_dirs):
            u = torch.as_tensor(make_rng(seed, "10-dir", k).normal(size=x0.numel()))
            fd = (along(x0 + h * u) - along(x0 - h * u)) / (2 * h)
            rows.append(dict(metric=metric, implicit=float(grad @ u), finite_difference=fd))
    table = pd.DataFrame(rows)
    table["rel_error"] = (table.implicit - table.finite_difference).abs() / table.finite_difference.abs()
    _, info = sampled.solve_kl(phi, data[0], sampled.SampledAlgConfig("kl"))
    return table, float(info["stationarity"])


def iteration_seconds(history: pd.DataFrame) -> pd.Series:
    """Wall seconds of each meta-iteration: sampling + adaptation + outer step."""
    return history[["sample_s", "adapt_s", "outer_s"]].sum(axis=1)


def iteration_cost(history: pd.DataFrame, parts=("sample_s", "adapt_s", "outer_s")) -> pd.DataFrame:
    """Median wall seconds per meta-iteration per (family, method): ``iter_s`` and the columns
    ``parts`` (default: the three that add up to ``iter_s``)."""
    history = history.assign(iter_s=iteration_seconds(history))
    return history.groupby(["family", "method"], sort=False)[["iter_s", *parts]].median().reset_index()


def training_report(history: pd.DataFrame, cost: pd.DataFrame, slow: float = 5.0) -> str:
    """Text: seconds per meta-iteration per method and family; how many iterations took over
    ``slow`` times their item's median (the machine busy with other work); how far BO-MRL
    (KL)'s inner solution is from stationary (median and 90th percentile of the relative
    gradient, 0 at an exact maximiser)."""
    it = iteration_seconds(history)
    n_slow = int((it > slow * it.groupby([history.family, history.method]).transform("median")).sum())
    stat = history.loc[history.method == "Alg(1) KL", "stationarity"]
    return "\n".join([
        "median wall seconds per meta-iteration (one worker):",
        cost.pivot(index="method", columns="family", values="iter_s").round(2).to_string(),
        f"iterations slower than {slow:g}x their item's median: {n_slow} of {len(history)}",
        f"Alg(1) KL: relative gradient at the inner solution, median {stat.median():.2f}, "
        f"90th percentile {stat.quantile(0.9):.2f}"])


def last_checkpoint(test: pd.DataFrame) -> pd.DataFrame:
    """The meta-test rows at each family's last checkpoint (notebook 13's families train for
    different lengths; notebook 11's share one)."""
    return test[test["iter"] == test.groupby("family")["iter"].transform("max")]


def return_intervals(test: pd.DataFrame, level: float = 0.9) -> dict[str, pd.DataFrame]:
    """Return after each adaptation step at each family's last checkpoint, as interval estimates.

    Returns:
        ``return_intervals``: ``family, method, step, mean, lo, hi, n_tasks, n_seeds`` (t-interval
        over the test tasks of all seeds: test-task variation only, module docstring);
        ``return_seed_means``: ``family, method, step, seed, ret`` (each seed's mean over its tasks).
    """
    last = last_checkpoint(test)
    rows = []
    for (fam, method, step), g in last.groupby(["family", "method", "step"], sort=False):
        mean, lo, hi = t_interval(g.ret.to_numpy(), level)
        rows.append(dict(family=fam, method=method, step=step, mean=mean, lo=lo, hi=hi, n_tasks=len(g),
                         n_seeds=g.seed.nunique()))
    seeds = last.groupby(["family", "method", "step", "seed"], sort=False).ret.mean().reset_index()
    return dict(return_intervals=pd.DataFrame(rows), return_seed_means=seeds)


def trend(test: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Return after one adaptation step against the meta-iteration of the frozen meta-policy:
    mean and t-interval over seeds x test tasks, per (family, method)."""
    return curve_summary(test[test["step"] == 1], ["family", "method"], x="iter", y="ret", level=level)


def comparisons(test: pd.DataFrame, step: int = 1) -> dict[str, pd.DataFrame]:
    """``comparison`` (every BO-MRL variant vs every baseline, paired by seed and test task)
    and ``ranking`` (methods by mean return) after ``step`` adaptation steps."""
    return dict(comparison=compare_methods(test, step=step), ranking=ranking(test, step=step))


