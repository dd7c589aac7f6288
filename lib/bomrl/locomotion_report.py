"""Measurements and summaries around the locomotion items of both protocols (notebooks 11 and 13).

The items themselves (meta-training and meta-test, resumable) are
:mod:`lib.bomrl.locomotion_study`; this module only measures the sampler, checks the
implicit meta-gradients on a real batch, summarises the items' tables and reads a running
run's checkpoints, so editing it never makes the committed checkpoints look stale.

Intervals: the unit that repeats independently is the **seed** (one meta-training run with
its own initial policy and tasks); test tasks within a seed share the meta-policy. The
figure therefore shows each seed's mean next to the pooled mean, and its interval is over
test tasks pooled across seeds: it covers test-task variation, not the variation between
meta-training runs, which two seeds cannot estimate.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl import locomotion_study, meta_items, methods, sampled
from lib.bomrl.locomotion_study import compare_methods, per_family, ranking
from lib.bomrl import authors_data
from lib.bomrl.locomotion_protocol import EVAL_TASKS, LOCOMOTION_AUTHORS, LOCOMOTION_OURS
from lib.bomrl.sampler import sample
from lib.cache import BadCheckpoint, read_checkpoint
from lib.envs.locomotion import sample_tasks
from lib.seeding import rng as make_rng
from lib.stats import curve_summary, t_interval, two_level_bootstrap, verdict


def sampler_speed(cfg, seed: int, repeats: int = 3) -> pd.DataFrame:
    """Steps per second of one meta-batch per family, initial policy, median of ``repeats``.

    Returns:
        ``family, obs_dim, act_dim, steps, seconds, steps_per_s``.
    """
    rows = []
    for fam in cfg.families:
        obs_dim, act_dim = locomotion_study.dims(fam, LOCOMOTION_OURS)
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
    obs_dim, act_dim = locomotion_study.dims(family, LOCOMOTION_OURS)
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
    stat = history.loc[history.method == "Alg(1)", "stationarity"]
    return "\n".join([
        "median wall seconds per meta-iteration (one worker):",
        cost.pivot(index="method", columns="family", values="iter_s").round(2).to_string(),
        f"iterations slower than {slow:g}x their item's median: {n_slow} of {len(history)}",
        f"Alg(1): relative gradient at the inner solution, median {stat.median():.2f}, "
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


# --- the authors' protocol: learning, inner solutions, cost, outer KL (notebook 13) -----------

def training_curves(history: pd.DataFrame, block: int = 5, column: str = "post_return") -> pd.DataFrame:
    """Our meta-training curve: ``column`` (default: mean return of the adapted policies on the
    iteration's training tasks; ``eval_return``: the authors' evaluation after the outer step, as
    their logs record it), averaged over blocks of ``block`` iterations, then over seeds.

    Returns:
        ``family, method, iter, mean, lo, hi, n``: ``lo``/``hi`` are the smallest and largest seed's
        block mean (the range over seeds, not an interval), ``n`` the number of seeds.
    """
    h = history.dropna(subset=[column]).assign(iter=(history["iter"] // block) * block)
    per_seed = h.groupby(["family", "method", "seed", "iter"], as_index=False)[column].mean()
    return (per_seed.groupby(["family", "method", "iter"], as_index=False)[column]
            .agg(mean="mean", lo="min", hi="max", n="size"))


def paired_matrix(last: pd.DataFrame, a: str, b: str, family: str, step: int) -> np.ndarray:
    """(seeds, test goals) matrix of ``ret(a) - ret(b)`` in ``last`` (one checkpoint per family)."""
    sub = last[(last.family == family) & (last.step == step)]
    wide = sub.pivot_table(index=["seed", "task_id"], columns="method", values="ret")
    diff = (wide[a] - wide[b]).unstack("task_id")
    return diff.to_numpy()


def compare_to_baselines(test: pd.DataFrame, step: int = 1, level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Each Alg(k) minus each gradient baseline after ``step`` adaptation steps at the family's last checkpoint.

    Pairs share the seed's initial policy, filter warm-up, training tasks and environment seeds
    (common random numbers). Returns ``family, method, baseline, ret, ret_baseline, diff, lo, hi``
    (two-level bootstrap: seeds, then goals), ``seeds_better`` (seeds whose mean difference is
    positive), ``n_seeds``, ``verdict``.
    """
    last = last_checkpoint(test)
    rows = []
    for fam in test.family.unique():
        g = last[(last.family == fam) & (last.step == step)]
        present = set(g.method)
        for ours in [m for m in methods.METRIC if m in present]:
            for base in [m for m in methods.BASELINES if m in present]:
                x = paired_matrix(last, ours, base, fam, step)
                mean, lo, hi = two_level_bootstrap(x, level, seed=seed)
                rows.append(dict(family=fam, method=ours, baseline=base, ret=g[g.method == ours].ret.mean(),
                                 ret_baseline=g[g.method == base].ret.mean(), diff=mean, lo=lo, hi=hi,
                                 seeds_better=int((np.nanmean(x, axis=1) > 0).sum()), n_seeds=len(x),
                                 verdict=verdict(lo, hi)))
    return pd.DataFrame(rows)


def learning_checks(history: pd.DataFrame, test: pd.DataFrame, window: int = 10, level: float = 0.9,
                    seed: int = 0) -> pd.DataFrame:
    """Does each method learn? Two differences per (family, method):

    * ``meta``: mean ``post_return`` of the last ``window`` meta-iterations minus the first
      ``window``, per seed; interval: t over seeds (``lo_meta, hi_meta``; NaN and verdict
      ``one seed`` with a single seed).
    * ``adapt``: at the last checkpoint, return after one adaptation step minus before it, paired
      by goal; two-level bootstrap over seeds and goals (``lo_adapt, hi_adapt``).
    Returns one row per (family, method) with both and their verdicts (``rises`` / ``falls`` / ``flat``),
    (NaN and ``not at the last checkpoint`` for a method of a run under way that has not reached its family's last
    checkpoint), and whether a method lost what it learned: ``peak`` (mean over seeds of the best ``window``-iteration
    mean minus the first window) and ``ends_below_start`` (seeds whose last window is below their first).
    """
    rows = []
    last = last_checkpoint(test)
    for (fam, method), g in history.groupby(["family", "method"], sort=False):
        per_seed = [s.sort_values("iter").post_return.to_numpy() for _, s in g.groupby("seed")]
        w = min(window, min(len(p) for p in per_seed) // 2) or 1
        gain = [p[-w:].mean() - p[:w].mean() for p in per_seed]
        peak = [np.convolve(p, np.ones(w) / w, "valid").max() - p[:w].mean() for p in per_seed]
        m, lo, hi = t_interval(gain, level) if len(gain) > 1 else (float(np.mean(gain)), np.nan, np.nan)
        t = last[(last.family == fam) & (last.method == method)]
        if len(t):
            wide = t.pivot_table(index=["seed", "task_id"], columns="step", values="ret")
            x = (wide[1] - wide[0]).unstack("task_id").to_numpy()
            am, alo, ahi = two_level_bootstrap(x, level, seed=seed)
            adapt_verdict = verdict(alo, ahi, "rises", "falls", "flat")
        else:  # a run still under way: this method has not reached its family's last checkpoint
            am = alo = ahi = np.nan
            adapt_verdict = "not at the last checkpoint"
        rows.append(dict(family=fam, method=method, window=w, meta=m, lo_meta=lo, hi_meta=hi,
                         meta_verdict=verdict(lo, hi, "rises", "falls", "flat") if len(gain) > 1 else "one seed",
                         adapt=am, lo_adapt=alo, hi_adapt=ahi, adapt_verdict=adapt_verdict,
                         peak=float(np.mean(peak)), ends_below_start=int(np.sum(np.array(gain) < 0)),
                         n_seeds=len(gain)))
    return pd.DataFrame(rows)


def inner_solutions(history: pd.DataFrame) -> pd.DataFrame:
    """How far each Alg(k)'s 50 Adam steps are from a stationary point of the inner problem.

    Returns per (family, method): the median and 90th percentile over meta-iterations of the
    per-iteration median relative gradient ``|grad F(theta')| / |grad F(phi)|`` (0 at an exact
    maximiser, 1 = no progress), the mean number of Adam steps taken (fewer than 50: stopped at
    D^2 > 3), the mean D^2 reached, and the outer step's KL over its bound (``outer_kl_median``,
    ``outer_kl_max``: KL / :func:`outer_kl_bound`, median and maximum over meta-iterations; the authors'
    line search does not check it, :func:`kl_checked`).
    """
    h = history[history.method.isin(list(methods.BOMRL))]
    h = h.assign(kl_ratio=h.kl / outer_kl_bound(h))
    return (h.groupby(["family", "method"], sort=False)
            .agg(stationarity_median=("stationarity", "median"),
                 stationarity_p90=("stationarity", lambda s: s.quantile(0.9)),
                 adam_steps=("inner_steps", "mean"), distance=("distance", "mean"),
                 outer_kl_median=("kl_ratio", "median"), outer_kl_max=("kl_ratio", "max"))
            .reset_index())


#: Quantile of an item's per-iteration seconds taken as its cost. Other work on the machine only
#: ever adds time (an extra process halves a worker's core), so the median of a run that shared the
#: machine for over half its iterations is the contended cost; the lower quartile is the cost of an
#: iteration with its core to itself and still ignores a few unusually fast ones.
COST_QUANTILE = 0.25


def cost(history: pd.DataFrame, q: float = COST_QUANTILE) -> pd.DataFrame:
    """Seconds per meta-iteration per (family, method), the ``q``-quantile over all iterations of
    its items (:data:`COST_QUANTILE`): ``iter_s, sample_s, physics_s, adapt_s, outer_s`` (each its
    own quantile, so the parts need not add up to ``iter_s``), ``iter_s_median`` (what the run took,
    contention included) and ``physics_share`` (median over iterations of physics / ``iter_s``)."""
    parts = ["sample_s", "physics_s", "adapt_s", "outer_s"]
    h = history.assign(iter_s=iteration_seconds(history))
    h = h.assign(physics_share=h.physics_s / h.iter_s)
    g = h.groupby(["family", "method"], sort=False)
    return (g[["iter_s", *parts]].quantile(q)
            .join(g.iter_s.median().rename("iter_s_median")).join(g.physics_share.median()).reset_index())


def outer_kl_bound(history: pd.DataFrame) -> pd.Series:
    """Per history row, the outer step's KL bound: the authors' BO-MRL ``max_kl`` for Alg(k), their
    MAML-TRPO's for the gradient baselines (:data:`lib.bomrl.locomotion_protocol.LOCOMOTION_AUTHORS`)."""
    proto = LOCOMOTION_AUTHORS
    return pd.Series([proto.max_kl[f] if m in methods.BOMRL else proto.maml_max_kl[f]
                      for f, m in zip(history.family, history.method)], index=history.index)


KL_CHECKED = ("MAML-TRPO", "E-MAML-TRPO")  # our baselines' line search rejects a step whose KL exceeds the bound


def kl_checked(history: pd.DataFrame) -> pd.Series:
    """Per history row, whether its outer line search rejects a step above :func:`outer_kl_bound`: our
    MAML-TRPO and E-MAML-TRPO always, Alg(k) only if the protocol sets ``outer_kl_check``. The authors' line
    search (Alg(k) on their protocol, their MAML-TRPO) only asks the loss to fall enough, so its steps can
    exceed the bound; ProMP's outer step is a KL penalty (no ``kl``)."""
    checked = KL_CHECKED + (tuple(methods.BOMRL) if LOCOMOTION_AUTHORS.outer_kl_check else ())
    return history.method.isin(checked) & history.kl.notna()


def within_kl_bound(history: pd.DataFrame, rtol: float = 1e-6) -> bool:
    """Whether every outer step whose line search checks the KL (:func:`kl_checked`) kept it within
    :func:`outer_kl_bound`."""
    checked = kl_checked(history)
    return bool((history.kl[checked] <= outer_kl_bound(history)[checked] * (1 + rtol)).all())


# --- where a long run stands ------------------------------------------------------------------

def _read_quietly(path: Path, key: str):
    """A checkpoint's content, or None (missing, being replaced, or bad); never moves the file."""
    try:
        return read_checkpoint(path, key, allow_pickle=False) if path.exists() else None
    except (BadCheckpoint, OSError, ValueError):
        return None


def read_all(cfg, cache_dir) -> dict:
    """Every item's tables as far as its checkpoint goes (finished or partial), without computing or
    moving anything: a long run's state while it runs. Items not started are absent; ``{}`` if none is."""
    out = []
    for job in locomotion_study.jobs(cfg, cache_dir):
        kw, path = job["kwargs"], Path(job["kwargs"]["partial"])
        state = _read_quietly(path, path.stem)
        if state is not None:
            out.append(meta_items.tidy(state, kw["family"], kw["method_name"], kw["s"]))
    return meta_items.concat_tables(out)


def evaluation_shares(cfg, family: str) -> tuple[float, float]:
    """What the training evaluation after a meta-iteration costs (:func:`.locomotion_study.training_evaluation`,
    run with ``cfg.best_so_far`` past ``cfg.select_after``), as shares of that iteration's sampling and
    adaptation seconds: it samples E evaluation goals before and after one adaptation (``n_traj`` each)
    where training samples T goals before (``n_traj``) and after (``post_factor`` x ``n_traj``), and adapts
    E times where training adapts T times: ``(2E / (T (1 + post_factor)), E / T)``; ``(0, 0)`` without it."""
    if not getattr(cfg, "best_so_far", False):
        return 0.0, 0.0
    e, t = len(EVAL_TASKS[family]), per_family(cfg.meta_batch, family)
    return 2 * e / (t * (1 + getattr(cfg, "post_factor", 1))), e / t


def run_progress(cfg, cache_dir, benchmark: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where a (possibly running) run of notebook 13 stands, read from its checkpoints without
    changing them (``tools/run_progress.py`` prints it).

    Args:
        benchmark: optional ``benchmarks/profile_authors_iteration.py`` table (``family, method,
            dtype, total_s``): the relative cost of methods that have not run yet.
    Returns:
        one row per item: ``family, method, seed, status`` ("done", "partial" or "not started"),
        ``iters`` done of ``n_iters``, ``s_per_iter`` (seconds of sampling, adaptation and outer step
        per meta-iteration, the :data:`COST_QUANTILE` over its iterations, so that iterations slowed
        by other work on the machine do not set the rate; NaN if none ran; meta-tests not counted),
        ``eval_s_per_iter`` (the training evaluation after an iteration, :func:`evaluation_shares` of the
        same quantiles of its sampling and adaptation) and ``remaining_s`` = (n_iters - iters) x the
        item's rate + the evaluations still to run (iterations past ``select_after``) x their rate. For
        an item without a rate, the median rate of its (family, method), else the benchmark's float32
        cost of its (family, method) times this machine's factor (median measured / benchmark over
        the items that have a rate), else the mean rate of its family (NaN if the family has none);
        its evaluation rate likewise, else its rate x its family's mean evaluation / rate ratio.
    """
    rows = []
    for job in locomotion_study.jobs(cfg, cache_dir):
        kw = job["kwargs"]
        partial = Path(kw["partial"])
        done = _read_quietly(partial.with_suffix(".ckpt"), partial.stem)
        state = None if done is not None else _read_quietly(partial, partial.stem)
        history = done["history"] if done is not None else pd.DataFrame(state["history"] if state else [])
        rate = float(iteration_seconds(history).quantile(COST_QUANTILE)) if len(history) else float("nan")
        share_sample, share_adapt = evaluation_shares(cfg, kw["family"])
        evaluation = (share_sample * history.sample_s.quantile(COST_QUANTILE)
                      + share_adapt * history.adapt_s.quantile(COST_QUANTILE)) if len(history) else float("nan")
        rows.append(dict(family=kw["family"], method=kw["method_name"], seed=kw["s"],
                         status="done" if done is not None else "partial" if state else "not started",
                         iters=len(history), n_iters=per_family(cfg.n_iters, kw["family"]), s_per_iter=rate,
                         eval_s_per_iter=float(evaluation)))
    out = pd.DataFrame(rows)
    rate = out.s_per_iter.fillna(out.groupby(["family", "method"]).s_per_iter.transform("median"))
    if benchmark is not None:
        bench = (benchmark[benchmark.dtype == "float32"].set_index(["family", "method"]).total_s
                 .reindex(pd.MultiIndex.from_frame(out[["family", "method"]])).to_numpy())
        ratio = out.s_per_iter / bench
        factor = np.nanmedian(ratio) if ratio.notna().any() else 1.0
        rate = rate.fillna(pd.Series(bench * factor, index=out.index))
    rate = rate.fillna(out.groupby("family").s_per_iter.transform("mean"))
    evaluation = out.eval_s_per_iter.fillna(out.groupby(["family", "method"]).eval_s_per_iter.transform("median"))
    ratio = (out.eval_s_per_iter / out.s_per_iter).groupby(out.family).transform("mean")
    evaluation = evaluation.fillna(rate * ratio)
    evaluated = (out.n_iters - np.maximum(out.iters, getattr(cfg, "select_after", 0))).clip(lower=0)
    out["remaining_s"] = (out.n_iters - out.iters) * rate + evaluated * evaluation.fillna(0.0)
    return out


def check_run(cfg, history: pd.DataFrame, test: pd.DataFrame) -> str:
    """Assert that a finished run of notebook 13 is complete and consistent (every value present, every
    method and family tested, every item at ``n_iters``, all methods starting from the same policy on
    the same goals); a one-line summary."""
    assert test["ret"].notna().all() and history[["pre_return", "post_return"]].notna().all().all()
    assert set(test["method"]) == set(cfg.methods) and set(test["family"]) == set(cfg.families)
    assert all((g.groupby(["method", "seed"]).size() == cfg.n_iters[f]).all() for f, g in history.groupby("family"))
    step0 = test[(test["iter"] == 0) & (test["step"] == 0)].groupby(["family", "seed", "task_id"]).ret.nunique()
    assert (step0 == 1).all(), "all methods start from the same meta-policy on the same goals"
    return f"{len(test)} meta-test rows, {len(history)} meta-iterations"


def decisive_pair(cfg, folder, run: bool) -> dict:
    """Issue 37's decisive pair (:func:`lib.bomrl.locomotion_study.decisive_config`): its items run
    (or resumed) if ``run``, else read as far as their checkpoints go.

    Returns:
        ``cfg``; the tables ``history``, ``test``, ``selected`` (those that exist), ``progress``
        (:func:`run_progress`: each item's status, iterations and projected seconds left),
        ``curves`` (their evaluation after each outer step, blocks of 10 iterations), ``their_logs``
        (the authors' logs of the same two methods, blocks of 10) and ``beside_logs``
        (:func:`late_evaluation`: ours and their log over iterations 450-499). The verdict is the record
        :func:`lib.bomrl.claims.decisive_locomotion` computes from the saved tables.
    """
    tables = locomotion_study.run_all(cfg, folder) if run else read_all(cfg, folder)
    history = tables.get("history", pd.DataFrame(columns=["family", "method", "seed", "iter", "eval_return"]))
    progress = run_progress(cfg, folder)
    curves = (training_curves(history, block=10, column="eval_return") if "eval_return" in history
              else pd.DataFrame(columns=["family", "method", "iter", "mean", "lo", "hi", "n"]))
    return dict(tables, cfg=cfg, progress=progress, curves=curves,
                their_logs=their_logs(10, cfg.methods),
                beside_logs=late_evaluation(history, their_logs(LATE[1] - LATE[0], cfg.methods)))


def decisive_tables(dec: dict) -> dict:
    """The tables of :func:`decisive_pair` that a notebook saves (``history``, ``test``, ``selected``,
    ``beside_logs``, ``progress``), those that exist."""
    names = ("history", "test", "selected", "beside_logs", "progress")
    return {n: dec[n] for n in names if n in dec}


LATE = (450, 500)  # the window of the authors' logs the verdict at 500 is set beside


def their_logs(block: int, methods_shown) -> pd.DataFrame:
    """The authors' logs of ``methods_shown`` in blocks of ``block`` iterations
    (:func:`lib.bomrl.authors_data.authors_logs`), their ``MAML_my`` run labelled as our method of it."""
    logs = authors_data.authors_logs(block).replace({"method": {"MAML-TRPO": methods.AUTHORS_MAML}})
    return logs[logs.method.isin(methods_shown)]


def late_evaluation(history: pd.DataFrame, their_blocks: pd.DataFrame, window=LATE) -> pd.DataFrame:
    """Their evaluation (return after one adaptation step on their evaluation goals) averaged over the
    iterations in ``window``: ours per seed, then mean and range over seeds, beside their log's block
    mean (one seed; ``their_blocks``: :func:`their_logs` with blocks of the window's length). Rows
    ``family, method, ours, lo, hi, n_seeds, theirs``; ``ours`` is NaN until a seed has reached the window."""
    h = history.dropna(subset=["eval_return"]) if "eval_return" in history else history.iloc[:0]
    h = h[(h["iter"] >= window[0]) & (h["iter"] < window[1])]
    per_seed = h.groupby(["family", "method", "seed"], as_index=False)["eval_return"].mean()
    ours = per_seed.groupby(["family", "method"], as_index=False)["eval_return"].agg(
        ours="mean", lo="min", hi="max", n_seeds="size")
    theirs = their_blocks[their_blocks["iter"] == window[0]].rename(columns={"ret": "theirs"})[["family", "method", "theirs"]]
    return theirs.merge(ours, on=["family", "method"], how="left")[["family", "method", "ours", "lo", "hi",
                                                                      "n_seeds", "theirs"]]
