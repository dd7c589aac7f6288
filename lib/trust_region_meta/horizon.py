"""Why Minigolf's Meta-KL loses (notebook 09): the one-step meta-reward against the gain over the run.

The paper's meta-reward is the one-step gain ``l_t = J_{t+1} - J_t``. If the λ that is best over
a whole run pays off only after several steps, a meta-model trained on ``l_t`` learns the short-run
optimum instead. Three pieces of evidence, each a function here:

* :func:`paired_gains`: in a fixed-λ sweep every λ of run i starts from the same policy and first
  batch, so ``J_k - J_0`` is a paired k-step gain; :func:`best_by_horizon` reads the best λ per k.
* :data:`SETUPS` and :func:`setup_sweeps`: the same sweep under other initial policies (mean
  action ≈ 1 instead of ≈ 0, so no null strokes; σ0 = 0.3 instead of 1), to tell whether our
  set-up creates the delay.
* :func:`target_runs`: meta-models fitted on constant-λ learning trajectories with the paper's
  target (FQI on ``l_t``, the paper's Minigolf (H, ψ)) and with the rest of the run's gain
  ``J_T - J_t`` (our extension), each driving xTRPO on fresh tasks, for every meta-model seed;
  and the paper's recipe on a third collection whose per-step λ is uniform on [1e-3, 0.2] (the
  range around the best fixed λ, on a linear scale) instead of log-uniform on [1e-3, 1]: does our
  collection's λ distribution, rather than the one-step target, make the model pick small λ?
  (:data:`COLLECTIONS`, :func:`meta_datasets`).
* :func:`recipe_in_setups`: in every set-up whose one-step best λ is also the whole run's best
  (:func:`coinciding_setups`), the paper's recipe rerun from that initial policy: per-step random λ
  collection, FQI on ``l_t``, Meta-KL on fresh tasks against the best Fixed-KL of the same set-up.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lib import paths
from lib.io import save_table
from lib.stats import t_interval
from lib.trust_region_meta.fixed_kl import fixed_kl_sweep
from lib.trust_region_meta.meta_kl import choose_model, pooled_comparison, run_meta_kl, validation_scores
from lib.trust_region_meta.metadataset import collect

if TYPE_CHECKING:  # the config's type only
    from lib.trust_region_meta.config import MetaConfig

STAGE = "09_minigolf_horizon"
HORIZONS = (1, 2, 5, 10)  # k of J_k - J_0, plus the run's last step
RUN_GAIN_PSIS = (0.01, 0.02, 0.05, 0.1, 0.2)  # leaf fractions tried for the run-gain model on validation tasks
RUN_COLUMNS = ["env", "algo", "arch", "run", "fqi_horizon", "min_leaf", "step", "ret", "kl_bound", "meta_seed"]

# Initial policy (mean0, std0) of each set-up check; () is the study's own (mean ≈ 0, σ0 = 1).
SETUPS = {"ours: mean 0, σ0 1": (), "mean 1, σ0 1": (1.0, 1.0), "mean 0, σ0 0.3": (0.0, 0.3),
          "mean 1, σ0 0.3": (1.0, 0.3)}

# Meta-datasets of section 3 (sizes and streams of notebook 04: trajectory i of meta-dataset m has
# the task and architecture of notebook 04's, only its λ differ): name -> collect() options.
COLLECTIONS = {"constant_lambda": dict(per_trajectory=True),
               "uniform_0.2": dict(per_trajectory=False, kl_range=(1e-3, 0.2), log_uniform=False)}

# The meta-models of section 3: (label, collection, target, H, ψ); ψ None: validated per meta-model
# (:func:`run_gain_validation`).
TARGETS = (("paper: FQI on l_t, H=3, ψ=1e-3", "constant_lambda", "one-step", 3, 1e-3),
           ("ours: regression of J_T - J_t, ψ validated", "constant_lambda", "run-gain", 0, None),
           ("paper's recipe, per-step λ ~ U[1e-3, 0.2]: FQI on l_t, H=3, ψ=1e-3", "uniform_0.2", "one-step", 3, 1e-3))


def paired_gains(fixed: pd.DataFrame, horizons=HORIZONS, level: float = 0.9) -> pd.DataFrame:
    """Mean and t-interval over runs of the paired gain ``J_k - J_0`` of a fixed-λ sweep.

    Args:
        fixed: per-step runs (:func:`.fixed_kl.fixed_kl_sweep`; any extra key such as ``setup``
            is kept). horizons: the k; the run's last step T is added.
    Returns:
        ``[setup,] env, algo, fixed_kl, horizon, gain, lo, hi, n`` (``horizon`` = k).
    """
    keys = [c for c in ("setup", "env", "algo", "fixed_kl") if c in fixed.columns]
    j0 = fixed[fixed.step == 0].set_index(keys + ["run"]).ret
    rows = []
    for k in sorted({*horizons, int(fixed.step.max())}):
        jk = fixed[fixed.step == k].set_index(keys + ["run"]).ret
        d = (jk - j0).dropna().rename("gain").reset_index()
        for key, g in d.groupby(keys, sort=False):
            mean, lo, hi = t_interval(g.gain.to_numpy(), level)
            rows.append({**dict(zip(keys, key)), "horizon": k, "gain": mean, "lo": lo, "hi": hi, "n": len(g)})
    return pd.DataFrame(rows)


def best_by_horizon(gains: pd.DataFrame) -> pd.DataFrame:
    """The λ with the largest mean gain per (set-up, env, algo, horizon), and whether the one-step
    best λ (k = 1) is also the best over the whole run (the largest k)."""
    keys = [c for c in ("setup", "env", "algo") if c in gains.columns]
    best = gains.loc[gains.groupby(keys + ["horizon"], sort=False).gain.idxmax()]
    table = best.pivot_table(index=keys, columns="horizon", values="fixed_kl", sort=False)
    table.columns = [f"best λ at k={k}" for k in table.columns]
    table["one-step best = run best"] = table.iloc[:, 0] == table.iloc[:, -1]
    return table.reset_index()


def setup_sweeps(cfg: "MetaConfig", env: str = "minigolf", setups=SETUPS, algo: str = "xTRPO") -> pd.DataFrame:
    """The linear-policy fixed-λ sweep (``algo``, every λ of the env's Λ, ``n_test_runs`` test
    tasks) under each initial policy of ``setups``; column ``setup``. The study's own set-up
    shares its runs with notebook 02."""
    parts = [fixed_kl_sweep(cfg.sweep(env, (0, 0), (algo,), "test", init), paths.cache_dir(cfg.profile, "02_trpo_vs_xtrpo"))
             .assign(setup=name) for name, init in setups.items()]
    return pd.concat(parts, ignore_index=True)


def meta_datasets(cfg: "MetaConfig", name: str, env: str = "minigolf", **options) -> dict[int, str]:
    """Collect (or resume) the M meta-datasets of ``env`` of collection ``name`` (:data:`COLLECTIONS`, or
    notebook 04's per-step λ for a name not there; ``options`` are more :func:`.metadataset.collect`
    arguments, e.g. ``policy_init``; sizes of notebook 04), written to
    ``data/<profile>/09_minigolf_horizon/<name>_<env>_m<m>.csv``.

    Returns:
        ``{meta_seed: path of its table}``.
    """
    options = dict(kl_range=cfg.collect_range(env), log_uniform=cfg.log_uniform) | COLLECTIONS.get(name, {}) | options
    data = collect(env, cfg.collect_trajectories[env], cfg.collect_updates[env], cfg.n_traj[env],
                   cfg.train_archs[env], paths.cache_dir(cfg.profile, STAGE), seed=cfg.seed, n_jobs=cfg.n_jobs,
                   max_points=cfg.max_points, meta_seeds=cfg.meta_seeds(), **options)
    out = paths.data_dir(cfg.profile, STAGE)
    files = {}
    for m, d in data.items():
        files[m] = out / f"{name}_{env}_m{m}.csv"
        save_table(d, files[m], params=asdict(cfg) | {"collection": name})
    return files


def run_gain_validation(cfg: "MetaConfig", env: str = "minigolf", psis=RUN_GAIN_PSIS) -> tuple[pd.DataFrame, dict]:
    """Choose the run-gain model's ψ as notebook 05 chooses (H, ψ): per meta-model (the constant-λ
    collection), Meta-KL with each ψ on ``n_val_runs`` validation tasks (linear policy, ``test_updates``
    steps), scored by the mean return over steps and runs (:func:`.meta_kl.validation_scores`).

    Returns:
        ``(runs, {meta_seed: ψ})``: the validation runs (:data:`RUN_COLUMNS`) and each meta-model's pick.
    """
    files = meta_datasets(cfg, "constant_lambda", env)
    parts = []
    for m, path in files.items():
        runs = range(cfg.n_val_runs)
        part = run_meta_kl(env, "val", runs, [(0, 0)] * len(runs), cfg.test_updates[env], cfg.n_traj[env], cfg.seed,
                           path, cfg.grid(env), [(0, psi) for psi in psis], paths.cache_dir(cfg.profile, STAGE),
                           cfg.n_estimators, cfg.fqi_seed(m), "xTRPO", cfg.n_jobs, cfg.max_points, "run-gain")
        parts.append(part.assign(meta_seed=m)[RUN_COLUMNS])
    runs = pd.concat(parts, ignore_index=True)
    chosen = choose_model(validation_scores(runs))
    return runs, {int(r.meta_seed): float(r.min_leaf) for r in chosen.itertuples()}


def target_runs(cfg: "MetaConfig", env: str = "minigolf", targets=TARGETS, psis: dict | None = None) -> pd.DataFrame:
    """Meta-KL (xTRPO, linear policy) on ``n_test_runs`` fresh tasks for each meta-model of ``targets``
    (its collection's M meta-datasets, :func:`meta_datasets`); columns ``meta_seed``, ``target``.
    ``psis``: each meta-model's validated ψ (:func:`run_gain_validation`), for targets whose ψ is None."""
    files = {name: meta_datasets(cfg, name, env) for name in dict.fromkeys(c for _, c, *_ in targets)}
    parts = []
    for label, collection, target, horizon, psi in targets:
        if psi is None and psis is None:
            raise ValueError(f"target {label!r} needs its validated ψ: pass psis (run_gain_validation)")
        for m, path in files[collection].items():
            runs = range(cfg.n_test_runs)
            part = run_meta_kl(env, "fresh", runs, [(0, 0)] * len(runs), cfg.test_updates[env], cfg.n_traj[env],
                               cfg.seed, path, cfg.grid(env), [(horizon, psis[m] if psi is None else psi)],
                               paths.cache_dir(cfg.profile, STAGE),
                               cfg.n_estimators, cfg.fqi_seed(m), "xTRPO", cfg.n_jobs, cfg.max_points, target)
            parts.append(part.assign(meta_seed=m, target=label))
    return pd.concat(parts, ignore_index=True)


def fresh_baselines(cfg: "MetaConfig", env: str = "minigolf", policy_init: tuple = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fixed-KL (TRPO and xTRPO, linear, from ``policy_init``) on the fresh tasks and, to choose the
    best, on the validation tasks: ``(fresh, val)`` per-step tables."""
    cache = paths.cache_dir(cfg.profile, "02_trpo_vs_xtrpo")
    return (fixed_kl_sweep(cfg.sweep(env, (0, 0), ("TRPO", "xTRPO"), "fresh", policy_init), cache),
            fixed_kl_sweep(cfg.sweep(env, (0, 0), ("TRPO", "xTRPO"), "val", policy_init), cache))


def target_comparison(meta: pd.DataFrame, fresh: pd.DataFrame, val: pd.DataFrame, level: float = 0.9,
                      seed: int = 0) -> pd.DataFrame:
    """Each target's Meta-KL minus the best Fixed-KL (chosen on the validation tasks, reported on
    the fresh ones), pooled over meta-models (:func:`.meta_kl.pooled_comparison`); ``panel`` = target."""
    parts = [pooled_comparison(g.assign(panel=label), fresh.assign(panel=label), "panel", level, seed,
                               selection=val.assign(panel=label))
             for label, g in meta.groupby("target", sort=False)]
    return pd.concat(parts, ignore_index=True)


def forest_rows(targets: pd.DataFrame, recipe: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of the verdict's figure: each target's (and each recipe rerun's) Meta-KL minus the best
    Fixed-KL, ``label, metric, diff, lo, hi, group``, final return and AUC."""
    metric = {"final": "final return", "auc": "AUC"}
    short = {"paper:": "target l_t (the paper's)", "ours:": "target J_T − J_t (ours)",
             "paper's recipe": "target l_t, λ ~ U[1e-3, 0.2]"}
    label = targets.panel.map(lambda p: next((v for k, v in short.items() if p.startswith(k)), p))
    parts = [targets.assign(label=label, group="fresh tasks (section 3)")]
    if recipe is not None and len(recipe):
        parts.append(recipe.assign(label="target l_t from " + recipe.panel, group="optima coincide (section 4)"))
    rows = pd.concat(parts, ignore_index=True)
    return rows.assign(metric=rows.metric.map(metric))[["label", "metric", "diff", "lo", "hi", "group"]]


def chosen_lambdas(meta: pd.DataFrame) -> pd.DataFrame:
    """Per target: the geometric mean of the λ Meta-KL chose and the shares at or below 0.01 and
    in [0.05, 0.2] (the audit: the one-step model picks ≈ 0.01, the best fixed λ is 0.1)."""
    lam = meta.dropna(subset=["kl_bound"])
    return lam.groupby("target", sort=False).kl_bound.agg(
        geometric_mean=lambda x: float(np.exp(np.log(x).mean())),
        share_le_0_01=lambda x: float((x <= 0.01).mean()),
        share_0_05_to_0_2=lambda x: float(x.between(0.05, 0.2).mean())).reset_index()


def coinciding_setups(best: pd.DataFrame, algo: str = "xTRPO") -> list[str]:
    """The set-ups of a :func:`best_by_horizon` table whose one-step best λ is the whole run's best."""
    rows = best[(best.algo == algo) & best["one-step best = run best"].astype(bool)]
    return [name for name in SETUPS if name in set(rows.setup)]


RECIPE_COLUMNS = ["panel", "metric", "fixed_algo", "fixed_kl", "meta", "fixed", "diff", "lo", "hi", "n_models",
                  "n_runs", "verdict", "models_better", "models_worse"]


def recipe_in_setups(cfg: "MetaConfig", setups, env: str = "minigolf", level: float = 0.9) -> dict[str, pd.DataFrame]:
    """The paper's recipe (per-step random λ as notebook 04, FQI on ``l_t`` with the paper's Minigolf
    (H, ψ) = (3, 1e-3)) rerun from each set-up's initial policy (:data:`SETUPS`): M meta-datasets
    collected from that policy, Meta-KL on ``n_test_runs`` fresh tasks from it, against the best
    Fixed-KL from it (chosen on the validation tasks), pooled over meta-models.

    Returns:
        ``{"recipe_runs": per-step Meta-KL runs (columns ``meta_seed, setup``), "recipe_comparison":
        one :func:`.meta_kl.pooled_comparison` block per set-up (``panel`` = set-up)}``; no rows if
        ``setups`` is empty.
    """
    if not setups:
        return {"recipe_runs": pd.DataFrame(columns=["env", "run", "step", "ret", "meta_seed", "setup"]),
                "recipe_comparison": pd.DataFrame(columns=RECIPE_COLUMNS)}
    runs, comparisons = [], []
    for name in setups:
        init = tuple(SETUPS[name])
        files = meta_datasets(cfg, "recipe_" + ("ours" if not init else f"mean{init[0]:g}_std{init[1]:g}"), env,
                              policy_init=init)
        meta = pd.concat([run_meta_kl(env, "fresh", range(cfg.n_test_runs), [(0, 0)] * cfg.n_test_runs,
                                      cfg.test_updates[env], cfg.n_traj[env], cfg.seed, path, cfg.grid(env), [(3, 1e-3)],
                                      paths.cache_dir(cfg.profile, STAGE), cfg.n_estimators, cfg.fqi_seed(m), "xTRPO",
                                      cfg.n_jobs, cfg.max_points, policy_init=init).assign(meta_seed=m, setup=name)
                          for m, path in files.items()], ignore_index=True)
        fresh, val = fresh_baselines(cfg, env, init)
        comparisons.append(pooled_comparison(meta.assign(panel=name), fresh.assign(panel=name), "panel", level,
                                             cfg.seed, selection=val.assign(panel=name)))
        runs.append(meta)
    return {"recipe_runs": pd.concat(runs, ignore_index=True),
            "recipe_comparison": pd.concat(comparisons, ignore_index=True)}
