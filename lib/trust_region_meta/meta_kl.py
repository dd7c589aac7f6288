"""Meta-validation and meta-test: xTRPO runs whose trust region is chosen by the FQI model.

``Meta-KL`` (paper 1, Sec. 4.2): at every step the metafeatures phi_t of the current and
previous batch are computed and ``lambda_t = argmax_{lambda in Lambda} Q_H(phi_t, lambda)``.

Runs are independent checkpointed jobs (:func:`lib.parallel.map_resumable`). Each worker fits the
FQI model it needs once from the dataset file and keeps it in memory for the following
jobs (a 100-tree forest is too large to send with every job); the fit is deterministic,
so every worker has the same model. A chosen meta-model (a call with one (H, psi)) is also
stored on disk once fitted (:func:`stored_model`), so notebook 05's importances, its ablation
and notebooks 06-08 load the same Q_H instead of fitting it again in every worker (lever L3).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from lib import paths
from lib.cache import job_key, load_or_set_aside, safe_label, write_checkpoint
from lib.io import sha256
from lib.parallel import map_resumable
from lib.seeding import rng as make_rng
from lib.stats import (
    curve_summary,
    paired_bootstrap_diff,
    per_run_scores,
    run_slopes,
    t_interval,
    two_level_bootstrap,
    verdict,
)
from lib.trust_region_meta.fixed_kl import fixed_kl_sweep
from lib.trust_region_meta.fqi import FQIModel, fit_fqi, fit_gain_model
from lib.trust_region_meta.learning import learn, run_setup
from lib.trust_region_meta.learning import check_feature_set
from lib.trust_region_meta.metadataset import NEXT, PHI, remaining_gain, sample_arch, with_exact_policy_features

_MODELS: dict = {}


TARGET_KINDS = ("one-step", "run-gain")


def fit_models(dataset: pd.DataFrame, kl_grid, horizon: int, min_leaf: float,
               n_estimators: int = 100, seed: int = 0, target: str = "one-step",
               features: str = "knn") -> list[FQIModel]:
    """The meta-models of a meta-dataset table (columns of :mod:`lib.trust_region_meta.metadataset`).

    ``target="one-step"`` (the paper): FQI Q_1..Q_horizon on the meta-reward l_t.
    ``"run-gain"`` (our extension, notebook 09): one regression of the rest of the run's gain
    J_T - J_t (:func:`.metadataset.remaining_gain`), returned as ``[model]`` with horizon 0.
    ``features="exact-policy"``: the six policy features in closed form replace the k-NN ones
    (:func:`.metadataset.with_exact_policy_features`; the ablation of notebook 05).
    """
    if check_feature_set(features) == "exact-policy":
        dataset = with_exact_policy_features(dataset)
    if target == "run-gain":
        return [fit_gain_model(dataset[PHI].to_numpy(), dataset.kl_bound.to_numpy(), remaining_gain(dataset),
                               kl_grid, min_leaf, n_estimators, seed)]
    if target != "one-step":
        raise ValueError(f"target must be one of {TARGET_KINDS}, got {target!r}")
    return fit_fqi(dataset[PHI].to_numpy(), dataset.kl_bound.to_numpy(),
                   dataset.meta_reward.to_numpy(), dataset[NEXT].to_numpy(),
                   np.asarray(kl_grid, dtype=float), horizon, min_leaf,
                   n_estimators=n_estimators, seed=seed)


def cached_model(dataset_path: str, kl_grid, horizon: int, min_leaf: float,
                 n_estimators: int, seed: int, fit_horizon: int | None = None,
                 target: str = "one-step", features: str = "knn") -> FQIModel:
    """Q_horizon fitted on the dataset file, memoised per process (by file identity).

    ``fit_horizon`` >= horizon runs that many iterations once and memoises every Q_h on the
    way (Q_h does not depend on how many iterations follow it).
    """
    stat = os.stat(dataset_path)
    base = (dataset_path, stat.st_mtime_ns, stat.st_size, tuple(kl_grid), min_leaf, n_estimators, seed, target,
            features)
    if base + (horizon,) not in _MODELS:
        models = fit_models(pd.read_csv(dataset_path), kl_grid, max(horizon, fit_horizon or 0, 1),
                            min_leaf, n_estimators, seed, target, features)
        _MODELS.clear()  # one chain per process: fully grown forests take ~200 MB each
        for model in models:
            _MODELS[base + (model.horizon,)] = model
    return _MODELS[base + (horizon,)]


_DIGESTS: dict = {}


def model_store() -> Path:
    """Folder of the stored meta-models (gitignored; under :func:`lib.paths.cache_root`, so the
    tests' fresh cache root gets a fresh store). Created."""
    path = paths.cache_root() / "fqi_models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dataset_digest(dataset_path: str) -> str:
    """SHA-256 of a dataset file, memoised per process by file identity (11 MB at full profile)."""
    stat = os.stat(dataset_path)
    ident = (str(dataset_path), stat.st_mtime_ns, stat.st_size)
    if ident not in _DIGESTS:
        _DIGESTS[ident] = sha256(dataset_path)
    return _DIGESTS[ident]


def stored_model(dataset_path: str, kl_grid, horizon: int, min_leaf: float, n_estimators: int, seed: int,
                 target: str = "one-step", features: str = "knn") -> FQIModel:
    """Q_horizon from the on-disk store if it is there, else fitted (:func:`cached_model`) and stored.

    The file is keyed like a job (:func:`lib.cache.job_key`): every argument but the dataset's
    path, the dataset's SHA-256, scikit-learn's version and the code of this module's closure;
    a damaged or foreign file is set aside and refitted. The fit is deterministic, so a loaded Q_H predicts
    bit for bit what a fresh fit would (``tests/test_meta_kl.py``). Writing a model removes the files
    of the same model and dataset under other code, so the store does not grow with every edit."""
    spec = dict(dataset_path=str(dataset_path), kl_grid=tuple(kl_grid), horizon=horizon, min_leaf=min_leaf,
                n_estimators=n_estimators, seed=seed, target=target, features=features)
    digest = _dataset_digest(dataset_path)
    label = f"{Path(dataset_path).stem}-{digest[:8]}-{target}-{features}-H{horizon}-psi{min_leaf:g}"
    key = job_key(stored_model, spec, label, ignore=("dataset_path",),
                  extra={"dataset_sha256": digest, "sklearn": sklearn.__version__})
    memo = ("stored", key)
    if memo in _MODELS:
        return _MODELS[memo]
    path = model_store() / f"{key}.pkl"
    found, model = load_or_set_aside(path, key)  # a damaged file is set aside with a warning, and refitted
    if not found:
        model = cached_model(str(dataset_path), kl_grid, horizon, min_leaf, n_estimators, seed,
                             target=target, features=features)
        write_checkpoint(path, key, model)
        for stale in path.parent.glob(f"{safe_label(label)}-*.pkl"):  # the same model under older code
            if stale != path:
                stale.unlink(missing_ok=True)
    _MODELS.clear()  # one model per process, as cached_model keeps it
    _MODELS[memo] = model
    return model


def meta_kl_run(env: str, split: str, run: int, arch, n_updates: int, n_traj: int, seed: int,
                dataset_path: str, kl_grid, horizon: int, min_leaf: float,
                n_estimators: int = 100, fqi_seed: int = 0, algo: str = "xTRPO",
                max_points: int = 2000, fit_horizon: int | None = None, target: str = "one-step",
                features: str = "knn", policy_init: tuple = (), store: bool = False) -> pd.DataFrame:
    """One learning run with lambda_t chosen greedily by the meta-model (per-step table);
    ``target`` and ``features`` as in :func:`fit_models` (``horizon`` 0 for ``"run-gain"``), ``policy_init``
    as in :func:`.learning.learn`; ``store``: the model comes from :func:`stored_model` (a chosen
    meta-model that later notebooks use again) instead of this process's memo alone."""
    if store:
        model = stored_model(dataset_path, kl_grid, horizon, min_leaf, n_estimators, fqi_seed, target, features)
    else:
        model = cached_model(dataset_path, kl_grid, horizon, min_leaf, n_estimators, fqi_seed, fit_horizon,
                             target, features)
    task, key = run_setup(env, split, seed, run)
    df = learn(env, task, lambda t, phi: model.greedy(phi), algo, arch=arch, n_updates=n_updates,
               n_traj=n_traj, seed=seed, key=key, with_features=True, max_points=max_points, feature_set=features,
               policy_init=tuple(policy_init))
    df.insert(3, "run", run)
    df.insert(4, "fqi_horizon", horizon)
    df.insert(5, "min_leaf", min_leaf)
    return df


def validation_arch(env: str, seed: int, run: int, archs) -> tuple:
    """Architecture of validation run ``run``: drawn from the training architectures."""
    return sample_arch(make_rng(seed, "val-arch", env, run), archs)


def meta_kl_jobs(env: str, split: str, runs, archs, n_updates: int, n_traj: int, seed: int,
                 dataset_path, kl_grid, models, n_estimators: int = 100,
                 fqi_seed: int = 0, algo: str = "xTRPO", n_jobs: int = 1,
                 max_points: int = 2000, target: str = "one-step", features: str = "knn",
                 policy_init: tuple = (), group_prefix: str = "") -> list[dict]:
    """The jobs of :func:`lib.parallel.map_resumable` for Meta-KL runs of every (H, psi) in ``models``
    x run, with one arch per run (``target`` and ``features`` as in :func:`fit_models`).

    One fit of FQI's chain Q_1..Q_Hmax serves every H of a psi (:func:`cached_model`). With
    several psi and at least as many of them as workers, the runs of one psi are one group
    (named ``group_prefix`` + psi: they run in one worker), so each chain is fitted once;
    otherwise the runs are spread job by job and each worker fits the chain it needs. A call over
    one (H, psi), a validated pick that later notebooks use again, loads its Q_H from the store
    (:func:`stored_model`) instead.

    Args:
        runs: run indices. archs: one arch per run (same length).
        models: list of (H, psi) pairs. The dataset's SHA-256 is part of the checkpoint keys
            (a new dataset must not reuse old runs); its path is not (a moved clone keeps its
            cache), nor ``fit_horizon`` (Q_h does not depend on it).
        group_prefix: tells this call's groups apart when several calls' jobs share one list.
    """
    dataset_digest = _dataset_digest(dataset_path)
    n_splits = len({min_leaf for _, min_leaf in models})
    by_split = n_splits > 1 and n_splits >= n_jobs
    jobs = []
    for horizon, min_leaf in models:
        for run, arch in zip(runs, archs):
            jobs.append(dict(
                label=f"{env}-{split}-{target}-{features}-H{horizon}-psi{min_leaf:g}-r{run}",
                ignore=("dataset_path", "fit_horizon", "store"), extra={"dataset_sha256": dataset_digest},
                kwargs=dict(env=env, split=split, run=run, arch=tuple(arch), n_updates=n_updates,
                            n_traj=n_traj, seed=seed, dataset_path=str(dataset_path),
                            kl_grid=tuple(kl_grid), horizon=horizon, min_leaf=min_leaf,
                            n_estimators=n_estimators, fqi_seed=fqi_seed, algo=algo,
                            max_points=max_points, fit_horizon=max(h for h, _ in models), target=target,
                            features=features, policy_init=tuple(policy_init), store=len(models) == 1)))
            if by_split:
                jobs[-1]["group"] = f"{group_prefix}psi{min_leaf:g}"
    return jobs


def run_meta_kl_calls(calls: list[dict], cache_dir, n_jobs: int = 1, desc: str = "Meta-KL") -> list[pd.DataFrame]:
    """Several :func:`meta_kl_jobs` calls (their keyword arguments) as one job list on ``n_jobs``
    workers, so no worker waits at the end of one call while the other finishes its last group
    (notebook 05's meta-models of an environment: 5 psi groups over 2 workers). Every job keeps
    its key, so the results equal the calls run one by one.

    Returns:
        one concatenated per-step table per call, in order.
    """
    jobs, spans = [], []
    for i, call in enumerate(calls):
        new = meta_kl_jobs(**call, n_jobs=n_jobs, group_prefix=f"call{i}-")
        spans.append((len(jobs), len(jobs) + len(new)))
        jobs += new
    parts = map_resumable(meta_kl_run, jobs, cache_dir, n_workers=n_jobs, desc=desc)
    return [pd.concat(parts[a:b], ignore_index=True) for a, b in spans]


def run_meta_kl(env: str, split: str, runs, archs, n_updates: int, n_traj: int, seed: int,
                dataset_path, kl_grid, models, cache_dir, n_estimators: int = 100,
                fqi_seed: int = 0, algo: str = "xTRPO", n_jobs: int = 1,
                max_points: int = 2000, target: str = "one-step", features: str = "knn",
                policy_init: tuple = ()) -> pd.DataFrame:
    """Meta-KL runs for every (H, psi) in ``models`` x run (:func:`meta_kl_jobs`), resumable from
    ``cache_dir``. Returns the concatenated per-step tables."""
    jobs = meta_kl_jobs(env, split, runs, archs, n_updates, n_traj, seed, dataset_path, kl_grid, models,
                        n_estimators, fqi_seed, algo, n_jobs, max_points, target, features, policy_init)
    parts = map_resumable(meta_kl_run, jobs, cache_dir, n_workers=n_jobs, desc=f"Meta-KL {env} {split}")
    return pd.concat(parts, ignore_index=True)


# --- meta-validation ------------------------------------------------------------------------

def _model_keys(table: pd.DataFrame) -> list[str]:
    """``env`` and, when the table has one meta-model per seed, ``meta_seed``."""
    return ["env", "meta_seed"] if "meta_seed" in table.columns else ["env"]


def validation_scores(val: pd.DataFrame) -> pd.DataFrame:
    """Score of each (env, [meta_seed,] H, psi): mean return over all steps and runs (area under the curve)."""
    keys = _model_keys(val) + ["fqi_horizon", "min_leaf"]
    per_run = val.groupby(keys + ["run"], as_index=False)["ret"].mean()
    return per_run.groupby(keys, as_index=False)["ret"].mean().rename(columns={"ret": "score"})


def choose_model(scores: pd.DataFrame) -> pd.DataFrame:
    """The best (H, psi) per env (and meta_seed) by validation score (ties: smaller H, then larger psi)."""
    keys = _model_keys(scores)
    ordered = scores.sort_values(keys + ["score", "fqi_horizon", "min_leaf"],
                                 ascending=[True] * len(keys) + [False, True, False])
    return ordered.groupby(keys, as_index=False).first()


# --- meta-test tables -------------------------------------------------------------------------

def best_fixed(fixed: pd.DataFrame, panel: str, metric: str, selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per panel, the runs of ``fixed`` of the (algo, lambda) with the best mean ``metric``.

    The paper's "best Fixed-KL found by grid search". With ``selection`` (the same sweep on the
    meta-validation tasks) the winner is chosen there and only *reported* on ``fixed``, the test
    runs: the test runs never enter the choice. Without it the winner is chosen on the test runs
    themselves, an optimistic "oracle" (the best of 10-22 configurations gains from selection
    on noise: about 1-1.5 points in Minigolf).
    """
    scores = per_run_scores(fixed if selection is None else selection, [panel, "algo", "fixed_kl"])
    means = scores.groupby([panel, "algo", "fixed_kl"], as_index=False)[metric].mean()
    best = means.loc[means.groupby(panel)[metric].idxmax(), [panel, "algo", "fixed_kl"]]
    return fixed.merge(best, on=[panel, "algo", "fixed_kl"])


def random_kl_runs(dataset: pd.DataFrame, env: str) -> pd.DataFrame:
    """The training meta-dataset's own learning curves (random lambda each step), per-step rows.

    Returns columns ``env, arch, run (= traj), step, ret, kl_bound`` with steps 0..T
    (J_T = J_{T-1} + l_{T-1}).
    """
    rows = dataset[["arch", "traj", "t", "ret", "kl_bound"]].rename(columns={"traj": "run", "t": "step"})
    last = dataset.loc[dataset.groupby("traj")["t"].idxmax()]
    tail = pd.DataFrame({"arch": last.arch, "run": last.traj, "step": last.t + 1,
                         "ret": last.ret + last.meta_reward, "kl_bound": np.nan})
    out = pd.concat([rows, tail], ignore_index=True).sort_values(["run", "step"], ignore_index=True)
    out.insert(0, "env", env)
    return out


def paired_difference(a_scores: pd.DataFrame, b_scores: pd.DataFrame, metric: str, level: float = 0.9,
                      seed: int = 0) -> dict:
    """Paired bootstrap CI of mean(a - b) over the runs both per-run score tables share.

    Args:
        a_scores, b_scores: :func:`lib.stats.per_run_scores` tables of one panel (column ``run``).
        metric: ``"final"`` or ``"auc"``.
    Returns:
        ``a, b`` (means), ``diff, lo, hi``, ``n_runs`` and ``verdict``: ``better`` (CI above 0),
        ``worse`` (below) or ``indistinguishable``.
    """
    common = sorted(set(a_scores.run) & set(b_scores.run))
    a = a_scores[a_scores.run.isin(common)].sort_values("run")
    b = b_scores[b_scores.run.isin(common)].sort_values("run")
    diff, lo, hi = paired_bootstrap_diff(a[metric].to_numpy(), b[metric].to_numpy(), level, seed=seed)
    return dict(a=a[metric].mean(), b=b[metric].mean(), diff=diff, lo=lo, hi=hi, n_runs=len(common),
                verdict=verdict(lo, hi))


def compare_runs(a_runs: pd.DataFrame, b_runs: pd.DataFrame, metric: str = "final", level: float = 0.9,
                 seed: int = 0) -> dict:
    """:func:`paired_difference` of two sets of learning runs of one panel (run i paired with run i)."""
    return paired_difference(per_run_scores(a_runs, []), per_run_scores(b_runs, []), metric, level, seed)


def compare_to_fixed(meta: pd.DataFrame, fixed: pd.DataFrame, panel: str, level: float = 0.9,
                     seed: int = 0, selection: pd.DataFrame | None = None) -> pd.DataFrame:
    """Paired bootstrap CI of Meta-KL minus the best Fixed-KL, in final return and in AUC.

    Returns one row per (panel, metric): the best fixed (algo, lambda) (chosen on ``selection``,
    the validation runs, when given: :func:`best_fixed`), both means, the mean difference with
    its CI, and a verdict: ``better`` (CI above 0), ``worse`` (below), ``indistinguishable``
    (contains 0).
    """
    meta_scores = per_run_scores(meta, [panel])
    rows = []
    for metric in ("final", "auc"):
        fixed_best = best_fixed(fixed, panel, metric, selection)
        fixed_scores = per_run_scores(fixed_best, [panel, "algo", "fixed_kl"])
        for value in meta_scores[panel].unique():
            m = meta_scores[meta_scores[panel] == value]
            f = fixed_scores[fixed_scores[panel] == value]
            d = paired_difference(m, f, metric, level, seed)
            rows.append({panel: value, "metric": metric, "fixed_algo": f.algo.iloc[0],
                         "fixed_kl": f.fixed_kl.iloc[0], "meta": d["a"], "fixed": d["b"], "diff": d["diff"],
                         "lo": d["lo"], "hi": d["hi"], "n_runs": d["n_runs"], "verdict": d["verdict"]})
    return pd.DataFrame(rows)


def method_tables(meta: pd.DataFrame, fixed: pd.DataFrame, random_runs: pd.DataFrame, panel: str,
                  level: float = 0.9, selection: pd.DataFrame | None = None):
    """Curve summaries (return and lambda per step) of the three methods, for plotting.

    Fixed-KL is the best (algo, lambda) by AUC per panel, chosen on ``selection`` if given. Lambda is summarised on the log
    scale (geometric mean with a t-interval of log10 lambda), the scale it is drawn on.
    Returns:
        ``(curves, lambdas)`` tidy tables with columns ``panel, method, step, mean, lo, hi, n``.
    """
    fixed_best = best_fixed(fixed, panel, "auc", selection)
    parts = {"Meta-KL": meta, "Fixed-KL (best)": fixed_best, "Random-KL (dataset)": random_runs}
    curves, lambdas = [], []
    for method, runs in parts.items():
        if not len(runs):
            continue
        runs = runs.assign(method=method)
        curves.append(curve_summary(runs, by=[panel, "method"], y="ret", level=level))
        lam = runs.dropna(subset=["kl_bound"]).assign(log_kl=lambda d: np.log10(d.kl_bound))
        lambdas.append(curve_summary(lam, by=[panel, "method"], y="log_kl", level=level))
    lambdas = pd.concat(lambdas, ignore_index=True)
    lambdas[["mean", "lo", "hi"]] = 10 ** lambdas[["mean", "lo", "hi"]]  # geometric mean and its CI
    return pd.concat(curves, ignore_index=True), lambdas


def meta_kl_lambdas(lambdas: pd.DataFrame, panels, steps=(0, 1, 5, 10)) -> pd.DataFrame:
    """Meta-KL's lambda per panel at a few steps, at its last step and its median over steps.

    Args:
        lambdas: the ``lambdas`` table of :func:`method_tables` (geometric means over runs).
        panels: column order. steps: the steps shown (those a panel lacks are NaN, absent ones dropped).
    Returns:
        rows ``steps..., "last step", "median"``, one column per panel.
    """
    lam = lambdas[lambdas.method == "Meta-KL"].pivot(index="step", columns="panel", values="mean")[list(panels)]
    shown = lam.loc[[s for s in steps if s in lam.index]]
    tail = pd.DataFrame({"last step": lam.apply(lambda s: s.dropna().iloc[-1]), "median": lam.median()}).T
    return pd.concat([shown, tail])


def meta_test_runs(cfg, env: str, archs, horizon: int, min_leaf: float, dataset_path, fqi_seed: int,
                   meta_cache, algo: str = "xTRPO") -> pd.DataFrame:
    """Meta-KL runs of one meta-model on the test tasks: ``n_test_runs`` per architecture."""
    archs = [tuple(a) for a in archs]
    runs = [r for _ in archs for r in range(cfg.n_test_runs)]
    arch_list = [a for a in archs for _ in range(cfg.n_test_runs)]
    return run_meta_kl(env, "test", runs, arch_list, cfg.test_updates[env], cfg.n_traj[env],
                       cfg.seed, dataset_path, cfg.grid(env), [(horizon, min_leaf)], meta_cache,
                       cfg.n_estimators, fqi_seed, algo, cfg.n_jobs, cfg.max_points)


def fixed_test_runs(cfg, env: str, archs, fixed_cache) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fixed-KL runs of a meta-test figure on the test tasks and, to choose the best of them, on
    ``n_val_runs`` validation tasks: TRPO and xTRPO for linear policies (the test runs shared
    with notebook 02's sweep), TRPO, the paper's baseline, for the other architectures.

    Returns:
        ``(test, val)`` per-step tables.
    """
    def sweep(split):
        return pd.concat([fixed_kl_sweep(cfg.sweep(env, a, ("TRPO", "xTRPO") if tuple(a) == (0, 0) else ("TRPO",),
                                                   split), fixed_cache) for a in archs], ignore_index=True)

    return sweep("test"), sweep("val")


def pooled_comparison(meta: pd.DataFrame, fixed: pd.DataFrame, panel: str, level: float = 0.9, seed: int = 0,
                      selection: pd.DataFrame | None = None, n_boot: int = 10000) -> pd.DataFrame:
    """Meta-KL minus the best Fixed-KL pooled over the meta-models, with an interval over both
    the meta-models and the runs (:func:`lib.stats.two_level_bootstrap` of the paired per-run
    differences, meta-model m's run r minus the baseline's run r).

    Args:
        meta: Meta-KL runs with a ``meta_seed`` column. fixed, selection: as in :func:`compare_to_fixed`.
    Returns:
        one row per (panel, metric): ``fixed_algo, fixed_kl, meta, fixed, diff, lo, hi,
        n_models, n_runs, verdict`` and, per meta-model, how many were better / worse.
    """
    meta_scores = per_run_scores(meta, [panel, "meta_seed"])
    rows = []
    for metric in ("final", "auc"):
        fixed_best = best_fixed(fixed, panel, metric, selection)
        fixed_scores = per_run_scores(fixed_best, [panel, "algo", "fixed_kl"])
        for value in meta_scores[panel].unique():
            f = fixed_scores[fixed_scores[panel] == value].set_index("run")[metric]
            m = meta_scores[meta_scores[panel] == value].pivot(index="meta_seed", columns="run", values=metric)
            runs = sorted(set(m.columns) & set(f.index))
            d = m[runs].to_numpy() - f.loc[runs].to_numpy()[None, :]
            diff, lo, hi = two_level_bootstrap(d, level, n_boot, seed)
            per_model = [verdict(*paired_bootstrap_diff(row, np.zeros_like(row), level, seed=seed)[1:]) for row in d]
            rows.append({panel: value, "metric": metric, "fixed_algo": fixed_best[fixed_best[panel] == value].algo.iloc[0],
                         "fixed_kl": fixed_best[fixed_best[panel] == value].fixed_kl.iloc[0],
                         "meta": float(np.mean(m[runs].to_numpy())), "fixed": float(f.loc[runs].mean()), "diff": diff,
                         "lo": lo, "hi": hi, "n_models": len(m), "n_runs": len(runs), "verdict": verdict(lo, hi),
                         "models_better": per_model.count("better"), "models_worse": per_model.count("worse")})
    return pd.DataFrame(rows)


def lambda_trend(meta: pd.DataFrame, panel: str, level: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Does Meta-KL's λ decrease with time? Per panel, the least-squares slope of log10 λ against
    the step within each run, averaged over runs and meta-models, with a two-level bootstrap
    interval (decades per step).

    Returns:
        ``panel, slope, lo, hi, n_models, n_runs, trend`` (``decreasing``: interval below 0,
        ``increasing``: above, ``no trend``: contains 0) and ``models_decreasing``: meta-models
        whose own paired interval is below 0.
    """
    lam = meta.dropna(subset=["kl_bound"]).assign(log_kl=lambda d: np.log10(d.kl_bound))
    slopes = run_slopes(lam, [panel, "meta_seed"])
    rows = []
    for value, g in slopes.groupby(panel, sort=False):
        x = g.pivot(index="meta_seed", columns="run", values="slope").to_numpy()
        mean, lo, hi = two_level_bootstrap(x, level, seed=seed)
        own = [t_interval(row[np.isfinite(row)], level) for row in x]
        rows.append({panel: value, "slope": mean, "lo": lo, "hi": hi, "n_models": len(x), "n_runs": x.shape[1],
                     "trend": verdict(lo, hi, "increasing", "decreasing", "no trend"),
                     "models_decreasing": sum(h < 0 for _, _, h in own)})
    return pd.DataFrame(rows)


def robust_checks(meta: pd.DataFrame, comparison: pd.DataFrame, kl_grid) -> str:
    """Facts of a meta-test figure that no floating-point path can change (notebooks 06-08's
    tagged check cell): panels, runs, that Meta-KL acts in Lambda, well-formed intervals.

    The returns and verdicts themselves are one draw of a chaotic learning run at quick
    size, so they are printed in an untagged cell, not checked.
    """
    inside = bool(meta.dropna(subset=["kl_bound"]).kl_bound.isin(kl_grid).all())
    ordered = bool(((comparison.lo <= comparison["diff"]) & (comparison["diff"] <= comparison.hi)).all())
    labels = set(comparison.verdict) <= {"better", "worse", "indistinguishable"}
    return "\n".join([
        f"panels: {list(dict.fromkeys(meta.panel))}",
        f"meta-models: {meta.meta_seed.nunique()}; Meta-KL runs per panel and meta-model: "
        f"{sorted(set(meta.groupby(['panel', 'meta_seed']).run.nunique()))}",
        f"comparisons: {len(comparison)} ({', '.join(sorted(set(comparison.metric)))} per panel)",
        f"Meta-KL's lambda always in Lambda: {inside}",
        f"every interval contains its mean difference: {ordered}; verdicts well-formed: {labels}",
    ])
