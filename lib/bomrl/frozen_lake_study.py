"""Paper 2's exact Frozen Lake experiment: meta-train every method, meta-test on held-out tasks.

One work item = one (task distribution, seed): it draws the training and test tasks once
(common random numbers across methods), meta-trains each method for K iterations, and at
the checkpoints ``cfg.checkpoints`` meta-tests the current meta-parameters with 0..n
policy-adaptation steps on the test tasks. Items are independent and checkpointed
(:func:`lib.parallel.map_resumable`), so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats

from lib.bomrl import exact, tabular
from lib.envs import frozen_lake as fl
from lib.parallel import map_resumable
from lib.seeding import rng as make_rng
from lib.stats import curve_summary, t_interval, verdict

METHOD_ORDER = ("Alg(1) KL", "Alg(2) reverse KL", "Alg(3) Euclidean", "KL-constrained (ours)", "MAML",
                "Uniform init + Alg(1)")
METRIC_OF = {"Alg(1) KL": "kl", "Alg(2) reverse KL": "kl_reverse", "Alg(3) Euclidean": "euclidean",
             "KL-constrained (ours)": "kl_constrained"}


def methods(cfg) -> list[exact.Method]:
    """The compared methods, sized from a :class:`lib.profiles.BOMRLConfig`.

    MAML's step size is ``(1 - gamma) / (2 lambda_euclidean)``: its PG step is then exactly
    the first-order solution of the Euclidean Alg (``grad_theta f = (1 - gamma) grad J`` at
    theta = phi), so MAML and Alg(3) Euclidean differ only in solving Alg to optimality.
    The authors' names: Alg(1) = KL, Alg(2) = reverse KL (same λ as Alg(1); solved in closed form),
    Alg(3) = Euclidean; KL-constrained is our own extra.
    """
    kl = exact.AlgConfig("kl", lam=cfg.lam_kl)
    return [
        exact.Method("Alg(1) KL", "bomrl", kl),
        exact.Method("Alg(2) reverse KL", "bomrl", exact.AlgConfig("kl_reverse", lam=cfg.lam_kl)),
        exact.Method("Alg(3) Euclidean", "bomrl", exact.AlgConfig("euclidean", lam=cfg.lam_euclidean)),
        exact.Method("KL-constrained (ours)", "bomrl", exact.AlgConfig("kl_constrained", delta=cfg.delta)),
        exact.Method("MAML", "maml", alpha=(1 - cfg.gamma) / (2 * cfg.lam_euclidean)),
        exact.Method("Uniform init + Alg(1)", "scratch", kl),
    ]


def draw_tasks(cfg, goal_radius: int, seed: int) -> tuple[fl.TabularTasks, fl.TabularTasks]:
    """Training and test tasks of one (distribution, seed), independent of the method."""
    train = fl.sample_tasks(make_rng(cfg.seed, "bomrl", goal_radius, cfg.n_holes, seed, "train"),
                            cfg.n_train_tasks, goal_radius, cfg.n_holes, cfg.gamma)
    test = fl.sample_tasks(make_rng(cfg.seed, "bomrl", goal_radius, cfg.n_holes, seed, "test"),
                           cfg.n_test_tasks, goal_radius, cfg.n_holes, cfg.gamma)
    return train, test


def run_item(cfg, goal_radius: int, seed: int) -> dict:
    """Meta-train and meta-test every method on one (distribution, seed).

    Returns:
        ``curves``: table ``goal_radius, seed, method, K, step, J, J_star, gap`` (means over
        test tasks); ``history``: meta-training table ``method, iter, J_meta, J_adapted,
        n_nonconcave``;
        ``variance``: Var(P(Gamma)) of the test tasks per metric; ``seconds`` per method.
    """
    train, test = draw_tasks(cfg, goal_radius, seed)
    j_star = tabular.optimal(test)["J"].numpy()
    theta_star = tabular.soft_optimal(test, cfg.temperature)
    variance = {m: exact.task_variance(theta_star, m) for m in ("kl", "kl_reverse", "euclidean")}
    rows, hist, seconds = [], [], {}
    for method in methods(cfg):
        t0 = time.perf_counter()
        rng = make_rng(cfg.seed, "bomrl-minibatches", goal_radius, seed, method.name)
        phi, done = None, 0
        for K in cfg.checkpoints:
            phi, h = exact.meta_train(method, train, K, cfg.lr, cfg.batch_size, rng, phi0=phi, start=done)
            done = K
            hist.append(h.assign(method=method.name))
            if method.kind != "scratch" or K == cfg.checkpoints[0]:  # uniform init ignores K: test once
                J = exact.meta_test(method, phi, test, cfg.n_adapt_steps)
            for step in range(J.shape[1]):
                rows.append(dict(goal_radius=goal_radius, seed=seed, method=method.name, K=K, step=step,
                                 J=float(J[:, step].mean()), J_star=float(j_star.mean()),
                                 gap=float((j_star - J[:, step]).mean())))
        seconds[method.name] = time.perf_counter() - t0
    history = pd.concat(hist, ignore_index=True).assign(goal_radius=goal_radius, seed=seed)
    return dict(curves=pd.DataFrame(rows), history=history, variance=variance, seconds=seconds)


# fields of the config that choose which items exist, not what one item computes
ITEM_IGNORES = ("cfg.profile", "cfg.goal_radii", "cfg.n_seeds")


def run_all(cfg, cache_dir) -> dict:
    """Every (distribution, seed) of ``cfg`` through :func:`lib.parallel.map_resumable`.

    Returns:
        ``curves``, ``history`` (tables over all items), ``variance`` (table
        ``goal_radius, seed, metric, variance``), ``seconds`` (table ``goal_radius, seed,
        method, seconds``).
    """
    jobs = [dict(label=f"r{r}-s{s}", ignore=ITEM_IGNORES, kwargs=dict(cfg=cfg, goal_radius=r, seed=s))
            for r in cfg.goal_radii for s in range(cfg.n_seeds)]
    out = map_resumable(run_item, jobs, cache_dir, n_workers=cfg.n_jobs, desc="BO-MRL runs")
    var = [dict(goal_radius=j["kwargs"]["goal_radius"], seed=j["kwargs"]["seed"], metric=m, variance=v)
           for j, o in zip(jobs, out) for m, v in o["variance"].items()]
    sec = [dict(goal_radius=j["kwargs"]["goal_radius"], seed=j["kwargs"]["seed"], method=m, seconds=v)
           for j, o in zip(jobs, out) for m, v in o["seconds"].items()]
    return dict(curves=pd.concat([o["curves"] for o in out], ignore_index=True),
                history=pd.concat([o["history"] for o in out], ignore_index=True),
                variance=pd.DataFrame(var), seconds=pd.DataFrame(sec))


def gap_vs_variance(curves: pd.DataFrame, variance: pd.DataFrame, K: int, step: int = 1) -> pd.DataFrame:
    """Per BO-MRL metric and seed: optimality gap after ``step`` adaptations at ``K``, with the
    task variance under that metric (the x of the theorem's bound)."""
    rows = []
    for method, metric in METRIC_OF.items():
        vm = metric if metric in ("euclidean", "kl_reverse") else "kl"
        c = curves[(curves.method == method) & (curves.K == K) & (curves.step == step)]
        v = variance[variance.metric == vm]
        rows.append(c.merge(v, on=["goal_radius", "seed"])[["method", "goal_radius", "seed", "gap", "variance"]])
    return pd.concat(rows, ignore_index=True)


def fit_slope(x, y, level: float = 0.9) -> dict:
    """Least-squares ``y = a + b x`` with a t confidence interval for b."""
    res = stats.linregress(np.asarray(x, float), np.asarray(y, float))
    t = stats.t.ppf(0.5 + level / 2, len(x) - 2) if len(x) > 2 else np.nan
    return dict(intercept=res.intercept, slope=res.slope, lo=res.slope - t * res.stderr,
                hi=res.slope + t * res.stderr, r=res.rvalue, n=len(x))


def gap_summary(final: pd.DataFrame, level: float = 0.9) -> pd.DataFrame:
    """Optimality gap with no adaptation and after one step: mean and t-interval over seeds.

    Args:
        final: curves at one K. Returns: ``goal_radius, method, when, mean, lo, hi``.
    """
    summary = curve_summary(final[final.step <= 1], ["goal_radius", "method"], x="step", y="gap", level=level)
    summary.insert(2, "when", summary.step.map({0: "no adaptation", 1: "one adaptation step"}))
    return summary.drop(columns=["step", "n"])


def compare_gaps(final: pd.DataFrame, radii, steps, baselines=("MAML", "Uniform init + Alg(1)"),
                 level: float = 0.9) -> pd.DataFrame:
    """Each BO-MRL metric vs each baseline: difference in optimality gap, paired by seed.

    Returns:
        ``goal_radius, step, method, baseline, gap, gap_baseline, diff, lo, hi, verdict,
        n_seeds``; verdict ``smaller`` (BO-MRL closer to the optimum: the t-interval of the
        difference is below 0), ``larger`` or ``indistinguishable``.
    """
    def gaps(method, r, step):
        part = final[(final.method == method) & (final.goal_radius == r) & (final.step == step)]
        return part.set_index("seed").gap.sort_index()

    rows = []
    for r in radii:
        for step in steps:
            for method in METRIC_OF:
                a = gaps(method, r, step)
                for base in baselines:
                    b = gaps(base, r, step).loc[a.index]
                    mean, lo, hi = t_interval((a - b).to_numpy(), level)
                    rows.append(dict(goal_radius=r, step=step, method=method, baseline=base, gap=a.mean(),
                                     gap_baseline=b.mean(), diff=mean, lo=lo, hi=hi,
                                     verdict=verdict(lo, hi, above="larger", below="smaller"),
                                     n_seeds=len(a)))
    return pd.DataFrame(rows)


def gap_vs_iterations(curves: pd.DataFrame, goal_radius: int, step: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gap after ``step`` adaptations vs meta-iterations K for each BO-MRL metric, with the
    least-squares fit gap = a + b / sqrt(K) over K > 0.

    Returns:
        ``summary`` (``method, K, mean, lo, hi, n, fit``) and ``fits`` (``method, a, b, b_lo, b_hi, n``).
    """
    part = curves[(curves.goal_radius == goal_radius) & (curves.step == step) & curves.method.isin(list(METRIC_OF))]
    summary = curve_summary(part, ["method"], x="K", y="gap")
    summary["fit"] = np.nan
    rows = []
    for method, grp in summary.groupby("method", sort=False):
        grp = grp[grp.K > 0]
        f = fit_slope(1 / np.sqrt(grp.K), grp["mean"])
        rows.append(dict(method=method, a=f["intercept"], b=f["slope"], b_lo=f["lo"], b_hi=f["hi"], n=f["n"]))
        summary.loc[grp.index, "fit"] = f["intercept"] + f["slope"] / np.sqrt(grp.K)
    return summary, pd.DataFrame(rows)
