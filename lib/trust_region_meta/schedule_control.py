"""The schedule control of notebook 14: Meta-KL's test runs against open-loop λ schedules.

For each panel (:data:`PANELS`) the three controls of :mod:`.schedules` are chosen without the
test tasks (the grid's best on the validation tasks, the modal schedule of notebook 05's
validation runs, the validated t-only meta-model) and then run on the test tasks that the
figure's Meta-KL runs used, so that run i of a control is paired with run i of every meta-model.
The verdict is :func:`.claims.schedule_control`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lib import paths
from lib.io import load_table, save_tables
from lib.stats import curve_summary, per_run_scores, statistic_of
from lib.trust_region_meta.meta_kl import best_fixed, choose_model, validation_arch, validation_scores
from lib.trust_region_meta.metadataset import dataset_file
from lib.trust_region_meta.schedules import (
    as_text,
    fit_t_only,
    greedy_schedule,
    modal_schedule,
    run_schedules,
    schedule_grid,
    schedule_run,
)
from lib.trust_region_meta.validation import model_grid

if TYPE_CHECKING:  # the config's type only
    from lib.trust_region_meta.config import MetaConfig


STAGE = "14_lambda_schedules"
PANELS = (("06_figure1", "minigolf"), ("08_figure3", "MLP(0,0)"), ("08_figure3", "MLP(1,16)"),
          ("08_figure3", "MLP(3,64)"))  # (figure stage, panel): the Meta-KL runs each control is paired with


def _arch(label: str) -> tuple:
    """``"MLP(1,16)"`` -> ``(1, 16)``."""
    h, n = label.removeprefix("MLP(").removesuffix(")").split(",")
    return int(h), int(n)


def best_by_endpoint(val_runs: pd.DataFrame, statistic: str = "mean") -> dict[str, str]:
    """The grid schedule with the largest ``statistic`` (:func:`lib.stats.statistic_of`) of the final
    return and the one with the largest of the AUC, over the validation runs of one panel:
    ``{"final": name, "auc": name}``. The study runs these on the test tasks; the claim
    (:func:`.claims.control_comparisons`) reads its pick with the same rule."""
    scores = per_run_scores(val_runs, ["schedule"]).groupby("schedule")
    return {endpoint: str(scores[endpoint].apply(lambda x: float(statistic_of(x.to_numpy(), statistic))).idxmax())
            for endpoint in ("final", "auc")}


def t_only_validation(cfg: "MetaConfig", env: str, meta_seed: int, cache_dir) -> tuple[pd.DataFrame, tuple]:
    """Validate a t-only meta-model as notebook 05 validates Meta-KL: every (H, ψ) of
    :func:`.validation.model_grid`, ``n_val_runs`` runs of ``val_updates`` steps on the validation
    tasks with their drawn architectures, scored by mean return over steps and runs.

    Returns:
        ``(runs, schedule)``: the validation runs (columns ``meta_seed, fqi_horizon, min_leaf``) and
        the chosen model's greedy schedule over ``test_updates[env]`` steps.
    """
    dataset = load_table(dataset_file(cfg.profile, env, meta_seed))
    grid = model_grid(cfg, env)
    chains = {psi: fit_t_only(dataset, cfg.grid(env), max(h for h, p in grid if p == psi), psi,
                              cfg.n_estimators, cfg.fqi_seed(meta_seed)) for psi in dict.fromkeys(p for _, p in grid)}
    names = {f"t-only H={h} ψ={psi:g}": (h, psi) for h, psi in grid}
    runs = range(cfg.n_val_runs)
    archs = [validation_arch(env, cfg.seed, r, cfg.train_archs[env]) for r in runs]
    val = run_schedules(env, "val", {name: greedy_schedule(chains[psi][h - 1], cfg.val_updates[env])
                                     for name, (h, psi) in names.items()},
                        runs, archs, cfg.n_traj[env], cfg.seed, cache_dir, cfg.n_jobs)
    val.insert(3, "meta_seed", meta_seed)
    val.insert(4, "fqi_horizon", val.schedule.map(lambda n: names[n][0]))
    val.insert(5, "min_leaf", val.schedule.map(lambda n: names[n][1]))
    best = choose_model(validation_scores(val.drop(columns="schedule"))).iloc[0]
    h, psi = int(best.fqi_horizon), float(best.min_leaf)
    return val, greedy_schedule(chains[psi][h - 1], cfg.test_updates[env])


def control_tables(cfg: "MetaConfig", panels=PANELS, stage: str = STAGE) -> dict[str, pd.DataFrame]:
    """Run (or resume) the schedule controls of every panel and write their tables.

    Per panel (its environment and architecture read from the figure's Meta-KL runs):
    the grid on ``n_val_runs`` validation tasks; per meta-model the modal schedule of its
    validated Meta-KL runs (notebook 05) and the validated t-only model's schedule; then, on the
    ``n_test_runs`` test tasks, the grid's best by final return and by AUC, and every modal and
    t-only schedule.

    Returns:
        the tables as written to ``data/<profile>/<stage>/`` and read back: ``schedules`` (panel,
        kind, meta_seed, schedule, lambdas), ``grid_val_runs``, ``t_only_val_runs`` and
        ``test_runs`` (per-step, columns ``panel, schedule``).
    """
    cache = paths.cache_dir(cfg.profile, stage)
    chosen = load_table(paths.data_dir(cfg.profile, "05_fqi_validation") / "chosen.csv")
    val05 = load_table(paths.data_dir(cfg.profile, "05_fqi_validation") / "validation_runs.csv")
    schedules, grid_val, t_val, test = [], [], [], []
    own: dict = {}  # (env, kind, meta_seed) -> schedule: modal and t-only schedules are per env, not per panel
    for fig, panel in panels:
        meta = load_table(paths.data_dir(cfg.profile, fig) / "meta_kl_runs.csv")
        meta = meta[meta.panel == panel]
        env, arch = str(meta.env.iloc[0]), _arch(str(meta.arch.iloc[0]))
        n_updates = cfg.test_updates[env]
        grid = schedule_grid(n_updates)
        val = run_schedules(env, "val", grid, range(cfg.n_val_runs), [arch] * cfg.n_val_runs, cfg.n_traj[env],
                            cfg.seed, cache, cfg.n_jobs)
        grid_val.append(val.assign(panel=panel))
        rows = [dict(panel=panel, kind="grid", meta_seed=-1, schedule=name, lambdas=as_text(s)) for name, s in grid.items()]
        on_test = {name: grid[name] for name in dict.fromkeys(best_by_endpoint(val).values())}
        for m in cfg.meta_seeds():
            if (env, "modal", m) not in own:
                pick = chosen[(chosen.env == env) & (chosen.meta_seed == m)].iloc[0]
                runs = val05[(val05.env == env) & (val05.meta_seed == m) & (val05.fqi_horizon == pick.fqi_horizon)
                             & (val05.min_leaf == pick.min_leaf)]
                own[(env, "modal", m)] = modal_schedule(runs, n_updates)
                runs_t, own[(env, "t-only", m)] = t_only_validation(cfg, env, m, cache)
                t_val.append(runs_t)
            for kind in ("modal", "t-only"):
                name = f"{kind} m{m}"
                on_test[name] = own[(env, kind, m)]
                rows.append(dict(panel=panel, kind=kind, meta_seed=m, schedule=name, lambdas=as_text(on_test[name])))
        runs = run_schedules(env, "test", on_test, range(cfg.n_test_runs), [arch] * cfg.n_test_runs,
                             cfg.n_traj[env], cfg.seed, cache, cfg.n_jobs)
        test.append(runs.assign(panel=panel))
        schedules.append(pd.DataFrame(rows))
    return save_tables(paths.data_dir(cfg.profile, stage), cfg,
                       schedules=pd.concat(schedules, ignore_index=True),
                       grid_val_runs=pd.concat(grid_val, ignore_index=True),
                       t_only_val_runs=pd.concat(t_val, ignore_index=True),
                       test_runs=pd.concat(test, ignore_index=True))


METHODS = {"grid": "schedule (grid's best)", "modal": "modal schedule", "t-only": "t-only meta-model"}


def control_curves(profile: str, tables: dict[str, pd.DataFrame], panels=PANELS, level: float = 0.9):
    """Return and λ per step for each panel: Meta-KL (pooled over meta-models), the figure's best
    Fixed-KL and the three controls (modal and t-only pooled over meta-models), the grid's and the
    Fixed-KL's best chosen by AUC on the validation tasks.

    Returns:
        ``(curves, lambdas)`` as :func:`.meta_kl.method_tables` (λ as geometric means; column ``panel``
        as "Environment, architecture"), for :func:`lib.plotting.method_curves`.
    """
    parts = []
    for fig, panel in panels:
        read = {n: load_table(paths.data_dir(profile, fig) / f"{n}.csv")
                for n in ("meta_kl_runs", "fixed_kl_runs", "fixed_kl_val_runs")}
        meta, fixed, val = (d[d.panel == panel] for d in read.values())
        label = f"{meta.env.iloc[0].capitalize()}, {meta.arch.iloc[0]}"
        parts += [meta.assign(method="Meta-KL"), best_fixed(fixed, "panel", "auc", val).assign(method="Fixed-KL (best)")]
        test = tables["test_runs"][tables["test_runs"].panel == panel]
        grid = tables["grid_val_runs"][tables["grid_val_runs"].panel == panel]
        parts.append(test[test.schedule == best_by_endpoint(grid)["auc"]].assign(method=METHODS["grid"]))
        for kind in ("modal", "t-only"):
            parts.append(test[test.schedule.str.startswith(f"{kind} m")].assign(method=METHODS[kind]))
        parts[-5:] = [p.assign(panel=label) for p in parts[-5:]]
    runs = pd.concat(parts, ignore_index=True)[["panel", "method", "step", "ret", "kl_bound"]]
    curves = curve_summary(runs, by=["panel", "method"], level=level)
    lam = runs.dropna(subset=["kl_bound"]).assign(log_kl=lambda d: np.log10(d.kl_bound))
    lambdas = curve_summary(lam, by=["panel", "method"], y="log_kl", level=level)
    lambdas[["mean", "lo", "hi"]] = 10 ** lambdas[["mean", "lo", "hi"]]
    return curves, lambdas


def describe(tables: dict[str, pd.DataFrame], n_steps: int = 6) -> pd.DataFrame:
    """Per panel, the schedules run on the test tasks: the grid's best by final return and by AUC
    (validation tasks) and each meta-model's modal and t-only schedule, with their first ``n_steps`` λ."""
    sched = tables["schedules"]
    rows = []
    for panel, g in sched.groupby("panel", sort=False):
        best = best_by_endpoint(tables["grid_val_runs"][tables["grid_val_runs"].panel == panel])
        for endpoint, name in best.items():
            rows.append(dict(panel=panel, schedule=f"grid's best by {endpoint}: {name}",
                             lambdas=g[g.schedule == name].lambdas.iloc[0]))
        rows += [dict(panel=panel, schedule=r.schedule, lambdas=r.lambdas) for r in g[g.kind != "grid"].itertuples()]
    out = pd.DataFrame(rows)
    out["first λ"] = out.pop("lambdas").str.split(",").str[:n_steps].str.join(", ")
    return out


def replay_gap(cfg: "MetaConfig", fig: str = "08_figure3", panel: str = "MLP(0,0)", meta_seed: int = 0,
               run: int = 0) -> float:
    """Largest |ΔJ_t| between a figure's Meta-KL test run and an open-loop replay of its own λ
    sequence (:func:`.schedules.schedule_run`): 0 when the controls share the runs' random streams."""
    meta = load_table(paths.data_dir(cfg.profile, fig) / "meta_kl_runs.csv")
    one = meta[(meta.panel == panel) & (meta.meta_seed == meta_seed) & (meta.run == run)].sort_values("step")
    replay = schedule_run(str(one.env.iloc[0]), "test", run, _arch(str(one.arch.iloc[0])),
                          tuple(one.kl_bound.dropna()), cfg.n_traj[str(one.env.iloc[0])], cfg.seed)
    return float(abs(replay.ret.to_numpy() - one.ret.to_numpy()).max())
