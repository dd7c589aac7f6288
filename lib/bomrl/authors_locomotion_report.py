"""Notebook 13's summaries of the authors'-protocol Half-cheetah items, beside the authors' numbers.

The items are :mod:`lib.bomrl.authors_locomotion_study`; this module only reads their tables
and the authors' committed numbers (``data/external/bomrl_authors_locomotion_*.csv``, written by
``fidelity/import_authors_locomotion.py`` from their repository), so editing it never makes the
committed checkpoints look stale.

Units: a return is the undiscounted sum of rewards over one 200-step trajectory, averaged over
trajectories (the authors' "accumulated reward"). Intervals over meta-training runs use the
two-level bootstrap of :func:`lib.stats.two_level_bootstrap` (seeds, then test goals within a
seed), so they cover the spread between independent meta-trainings as far as the seeds can show it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from pathlib import Path

import numpy as np
import pandas as pd

from lib.bomrl.authors_locomotion import METRICS, Protocol
from lib.bomrl import authors_locomotion_study
from lib.bomrl.baselines import GRADIENT_METHODS
from lib.cache import BadCheckpoint, read_checkpoint
from lib.bomrl.locomotion_report import iteration_seconds, last_checkpoint
from lib.bomrl.locomotion_report import return_intervals  # noqa: F401 (notebook 13 calls it from here)
from lib.paths import ROOT
from lib.stats import t_interval, two_level_bootstrap, verdict

if TYPE_CHECKING:  # the config's type only; lib.profiles sits above this module
    from lib.profiles import LocomotionAuthorsConfig

EXTERNAL = ROOT / "data" / "external"
LOGS_FILE = EXTERNAL / "bomrl_authors_locomotion_logs.csv"
RESULTS_FILE = EXTERNAL / "bomrl_authors_locomotion_results.csv"
BOMRL_METHODS = tuple(METRICS)
# the authors' figure calls our E-MAML-TRPO "E-MAML"
AUTHORS_NAME = {"E-MAML-TRPO": "E-MAML"}


def authors_logs(block: int = 5) -> pd.DataFrame:
    """The authors' training logs (return after one adaptation step, every meta-iteration),
    unscaled, as means over blocks of ``block`` iterations (what their ``graph1.py`` plots
    before its offsets and factors).

    Returns:
        ``family, method, iter`` (first iteration of the block), ``ret``, ``n`` (log lines in the block).
    """
    logs = pd.read_csv(LOGS_FILE)
    logs = logs.assign(iter=(logs["iter"] // block) * block)
    return logs.groupby(["family", "method", "iter"], as_index=False).agg(ret=("ret", "mean"), n=("ret", "size"))


RERUN_FILES = ROOT / "data" / "full" / "fidelity"  # authors_rerun_vel_<index>.csv


def authors_rerun(block: int = 5, folder: Path = RERUN_FILES) -> pd.DataFrame:
    """The authors' velocity training script run unmodified on this machine
    (``fidelity/rerun_authors_training.py``): the value it logs each meta-iteration (return after
    one step on its 9 goals), as means over blocks of ``block`` iterations.

    Returns:
        ``family, method, iter`` (first iteration of the block), ``ret``, ``n``; empty if never run.
    """
    parts = [pd.read_csv(f).assign(method=f"Alg({f.stem.rsplit('_', 1)[1]})")
             for f in sorted(folder.glob("authors_rerun_vel_*.csv"))]
    if not parts:
        return pd.DataFrame(columns=["family", "method", "iter", "ret", "n"])
    runs = pd.concat(parts).assign(family="halfcheetah-vel", iter=lambda d: (d["iter"] // block) * block)
    return runs.groupby(["family", "method", "iter"], as_index=False).agg(ret=("eval_after", "mean"),
                                                                          n=("eval_after", "size"))


# what BOMRL_new/graph1.py (986c396) does to each Half-cheetah log before plotting it: ret * factor + offset
PLOTTED_TRANSFORM = {("halfcheetah-vel", "Alg(1)"): (1.0, 10.0), ("halfcheetah-vel", "Alg(2)"): (1.0, 10.0),
                     ("halfcheetah-vel", "Alg(3)"): (1.0, 0.0), ("halfcheetah-vel", "MAML-TRPO"): (1.0, -10.0),
                     **{("halfcheetah-dir", m): (1.6, 0.0) for m in ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO")}}


def authors_plotted_curves(block: int = 5) -> pd.DataFrame:
    """The authors' training curves as their ``graph1.py`` draws them: the mean of every ``block``
    consecutive log lines (by position, as its slicing does), times its factor plus its offset
    (:data:`PLOTTED_TRANSFORM`), at x = block x position.

    Returns:
        ``family, method, iter, ret``.
    """
    logs = pd.read_csv(LOGS_FILE)
    rows = []
    for (fam, method), g in logs.groupby(["family", "method"], sort=False):
        factor, offset = PLOTTED_TRANSFORM[(fam, method)]
        ret = g.ret.to_numpy()
        n = len(ret) // block
        means = ret[: n * block].reshape(n, block).mean(axis=1) * factor + offset
        rows += [dict(family=fam, method=method, iter=block * k, ret=float(v)) for k, v in enumerate(means)]
    return pd.DataFrame(rows)


def authors_results() -> pd.DataFrame:
    """The paper's plotted meta-test returns: ``family, method, step, value, plot_factor, plotted``."""
    cols = ["family", "method", "step", "value", "plot_factor", "plotted"]
    return pd.read_csv(RESULTS_FILE)[cols]


def training_curves(history: pd.DataFrame, block: int = 5) -> pd.DataFrame:
    """Our meta-training curve: mean return of the adapted policies on the iteration's training
    tasks (``post_return``), averaged over blocks of ``block`` iterations, then over seeds.

    Returns:
        ``family, method, iter, mean, lo, hi, n``: ``lo``/``hi`` are the smallest and largest seed's
        block mean (the range over seeds, not an interval), ``n`` the number of seeds.
    """
    h = history.assign(iter=(history["iter"] // block) * block)
    per_seed = h.groupby(["family", "method", "seed", "iter"], as_index=False).post_return.mean()
    return (per_seed.groupby(["family", "method", "iter"], as_index=False).post_return
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
        for ours in [m for m in BOMRL_METHODS if m in present]:
            for base in [m for m in GRADIENT_METHODS if m in present]:
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
    and whether a method lost what it learned: ``peak`` (mean over seeds of the best ``window``-iteration
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
        wide = t.pivot_table(index=["seed", "task_id"], columns="step", values="ret")
        x = (wide[1] - wide[0]).unstack("task_id").to_numpy()
        am, alo, ahi = two_level_bootstrap(x, level, seed=seed)
        rows.append(dict(family=fam, method=method, window=w, meta=m, lo_meta=lo, hi_meta=hi,
                         meta_verdict=verdict(lo, hi, "rises", "falls", "flat") if len(gain) > 1 else "one seed",
                         adapt=am, lo_adapt=alo,
                         hi_adapt=ahi, adapt_verdict=verdict(alo, ahi, "rises", "falls", "flat"),
                         peak=float(np.mean(peak)), ends_below_start=int(np.sum(np.array(gain) < 0)),
                         n_seeds=len(gain)))
    return pd.DataFrame(rows)


def inner_solutions(history: pd.DataFrame) -> pd.DataFrame:
    """How far each Alg(k)'s 50 Adam steps are from a stationary point of the inner problem.

    Returns per (family, method): the median and 90th percentile over meta-iterations of the
    per-iteration median relative gradient ``|grad F(theta')| / |grad F(phi)|`` (0 at an exact
    maximiser, 1 = no progress), the mean number of Adam steps taken (fewer than 50: stopped at
    D^2 > 3) and the mean D^2 reached.
    """
    h = history[history.method.isin(BOMRL_METHODS)]
    return (h.groupby(["family", "method"], sort=False)
            .agg(stationarity_median=("stationarity", "median"),
                 stationarity_p90=("stationarity", lambda s: s.quantile(0.9)),
                 adam_steps=("inner_steps", "mean"), distance=("distance", "mean"))
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


def beside_paper(intervals: pd.DataFrame) -> pd.DataFrame:
    """Our last-checkpoint meta-test (``return_intervals``) next to the paper's plotted values:
    ``family, method, step, ours, lo, hi, paper`` (NaN where the paper has no value)."""
    paper = authors_results().assign(method=lambda d: d.method.replace({v: k for k, v in AUTHORS_NAME.items()}))
    ours = intervals.rename(columns={"mean": "ours"})[["family", "method", "step", "ours", "lo", "hi"]]
    return ours.merge(paper[["family", "method", "step", "plotted"]].rename(columns={"plotted": "paper"}),
                      on=["family", "method", "step"], how="left")



def outer_kl_bound(history: pd.DataFrame) -> pd.Series:
    """Per history row, the outer step's KL bound: the authors' BO-MRL ``max_kl`` for Alg(k), their
    MAML-TRPO's for the gradient baselines (:class:`lib.bomrl.authors_locomotion.Protocol`)."""
    proto = Protocol()
    return pd.Series([proto.max_kl[f] if m in METRICS else proto.maml_max_kl[f]
                      for f, m in zip(history.family, history.method)], index=history.index)


def within_kl_bound(history: pd.DataFrame, rtol: float = 1e-6) -> bool:
    """Whether every TRPO outer step kept its mean KL within :func:`outer_kl_bound` (ProMP's
    outer step is a KL penalty, not a bound: its rows have no ``kl`` and are skipped)."""
    trpo = history.kl.notna()
    return bool((history.kl[trpo] <= outer_kl_bound(history)[trpo] * (1 + rtol)).all())


# --- where a long run stands ------------------------------------------------------------------

def _read_quietly(path: Path, key: str):
    """A checkpoint's content, or None (missing, being replaced, or bad); never moves the file."""
    try:
        return read_checkpoint(path, key, allow_pickle=False) if path.exists() else None
    except (BadCheckpoint, OSError, ValueError):
        return None


def run_progress(cfg: "LocomotionAuthorsConfig", cache_dir, benchmark: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where a (possibly running) run of notebook 13 stands, read from its checkpoints without
    changing them (``tools/run_progress.py`` prints it).

    Args:
        benchmark: optional ``benchmarks/profile_authors_iteration.py`` table (``family, method,
            dtype, total_s``): the relative cost of methods that have not run yet.
    Returns:
        one row per item: ``family, method, seed, status`` ("done", "partial" or "not started"),
        ``iters`` done of ``n_iters``, ``s_per_iter`` (seconds of sampling, adaptation and outer step
        per meta-iteration, the :data:`COST_QUANTILE` over its iterations, so that iterations slowed
        by other work on the machine do not set the rate; NaN if none ran; meta-tests not counted) and
        ``remaining_s`` = (n_iters - iters) x the item's rate; for an item without one, the
        median rate of its (family, method), else the benchmark's float32 cost of its (family,
        method) times this machine's factor (median measured / benchmark over the items that
        have a rate), else the mean rate of its family (NaN if the family has none).
    """
    rows = []
    for job in authors_locomotion_study.jobs(cfg, cache_dir):
        kw = job["kwargs"]
        partial = Path(kw["partial"])
        done = _read_quietly(partial.with_suffix(".ckpt"), partial.stem)
        state = None if done is not None else _read_quietly(partial, partial.stem)
        history = done["history"] if done is not None else pd.DataFrame(state["history"] if state else [])
        rate = float(iteration_seconds(history).quantile(COST_QUANTILE)) if len(history) else float("nan")
        rows.append(dict(family=kw["family"], method=kw["method_name"], seed=kw["s"],
                         status="done" if done is not None else "partial" if state else "not started",
                         iters=len(history), n_iters=cfg.n_iters[kw["family"]], s_per_iter=rate))
    out = pd.DataFrame(rows)
    rate = out.s_per_iter.fillna(out.groupby(["family", "method"]).s_per_iter.transform("median"))
    if benchmark is not None:
        bench = (benchmark[benchmark.dtype == "float32"].set_index(["family", "method"]).total_s
                 .reindex(pd.MultiIndex.from_frame(out[["family", "method"]])).to_numpy())
        ratio = out.s_per_iter / bench
        factor = np.nanmedian(ratio) if ratio.notna().any() else 1.0
        rate = rate.fillna(pd.Series(bench * factor, index=out.index))
    rate = rate.fillna(out.groupby("family").s_per_iter.transform("mean"))
    out["remaining_s"] = (out.n_iters - out.iters) * rate
    return out
