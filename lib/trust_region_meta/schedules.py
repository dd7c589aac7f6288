"""Open-loop λ schedules: the control that tells a learned, state-dependent λ from a plain schedule.

Meta-KL chooses λ_t from the metafeatures φ_t of the current batches. On Cartpole it picks λ = 1 at
step 0 and 1e-3 from step 2 on in most runs, so its gain could come from the *schedule* alone. Three
open-loop controls, none of which reads a batch, each run on the same test tasks as Meta-KL (run i
shares task, initial policy and random streams, so a replay of a Meta-KL run's own λ sequence
reproduces that run exactly):

* **grid**: two-phase schedules (λ₀ until step s, then λ₁) and geometric decays
  λ_t = max(λ_floor, λ₀ rᵗ) (:func:`schedule_grid`); the best one is chosen on the validation
  tasks only, per endpoint, as the best Fixed-KL is;
* **modal**: per meta-model, the most common λ at each step of its Meta-KL runs on the
  validation tasks (notebook 05, its chosen (H, ψ)), replayed open loop (:func:`modal_schedule`);
* **t-only**: an FQI meta-model whose state is the step t alone (:func:`fit_t_only`), fitted on the
  same meta-dataset, its (H, ψ) validated as notebook 05 validates Meta-KL's. Its state is known
  in advance, so its greedy policy *is* a schedule (:func:`greedy_schedule`).

This module holds the schedules and their runs (its code closure keys the runs' checkpoints);
:mod:`.schedule_control` assembles the study of notebook 14.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.parallel import map_resumable
from lib.trust_region_meta.fqi import FQIModel, fit_fqi
from lib.trust_region_meta.learning import learn, run_setup

LAM0 = (0.2, 0.5, 1.0)  # first-phase λ of the two-phase grid
SWITCH = (1, 2, 3)  # steps of the first phase
LAM1 = (1e-3, 2e-3, 1e-2)  # second-phase λ
DECAY = (0.1, 0.3)  # geometric ratios, from λ = 1 down to FLOOR
FLOOR = 1e-3


def two_phase(lam0: float, switch: int, lam1: float, n_updates: int) -> tuple:
    """λ₀ for the first ``switch`` updates, then λ₁: a tuple of ``n_updates`` λ."""
    if not 0 <= switch <= n_updates:
        raise ValueError(f"switch must be in [0, n_updates={n_updates}], got {switch}")
    return (float(lam0),) * switch + (float(lam1),) * (n_updates - switch)


def geometric(lam0: float, ratio: float, floor: float, n_updates: int) -> tuple:
    """λ_t = max(floor, λ₀ ratioᵗ), t = 0..n_updates-1."""
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must be in (0, 1), got {ratio}")
    return tuple(float(max(floor, lam0 * ratio ** t)) for t in range(n_updates))


def schedule_grid(n_updates: int) -> dict[str, tuple]:
    """The grid of open-loop schedules, ``name -> (λ_0, ..., λ_{n_updates-1})`` (29 schedules)."""
    grid = {f"{a:g} for {s}, then {b:g}": two_phase(a, s, b, n_updates)
            for a in LAM0 for s in SWITCH for b in LAM1}
    grid.update({f"1 × {r:g}^t, floor {FLOOR:g}": geometric(1.0, r, FLOOR, n_updates) for r in DECAY})
    return grid


def modal_schedule(runs: pd.DataFrame, n_updates: int) -> tuple:
    """The most common λ at each step of ``runs`` (columns ``step, kl_bound``; ties: the smaller λ),
    continued with the last step's mode up to ``n_updates`` values."""
    lam = runs.dropna(subset=["kl_bound"])
    modes = lam.groupby("step").kl_bound.agg(lambda s: float(s.mode().min()))
    modes = modes.reindex(range(int(modes.index.max()) + 1)).ffill()
    values = modes.to_numpy()[:n_updates].tolist()
    return tuple(values + [values[-1]] * (n_updates - len(values)))


def fit_t_only(dataset: pd.DataFrame, kl_grid, horizon: int, min_leaf: float, n_estimators: int = 100,
               seed: int = 0) -> list[FQIModel]:
    """FQI on the meta-dataset with the step t as the only state (next state t + 1): Q_1..Q_horizon.

    The same tuples, rewards, actions and forest settings as Meta-KL's model
    (:func:`.meta_kl.fit_models`); only φ_t is replaced by t.
    """
    t = dataset.t.to_numpy(dtype=float)[:, None]
    return fit_fqi(t, dataset.kl_bound.to_numpy(), dataset.meta_reward.to_numpy(), t + 1,
                   np.asarray(kl_grid, dtype=float), horizon, min_leaf, n_estimators=n_estimators, seed=seed)


def greedy_schedule(model: FQIModel, n_updates: int) -> tuple:
    """A t-only model's greedy λ at t = 0..n_updates-1: its whole policy, as a schedule."""
    return tuple(float(x) for x in model.greedy(np.arange(n_updates, dtype=float)[:, None]))


def as_text(schedule) -> str:
    """A schedule as a comma-separated string (the tables' ``lambdas`` column)."""
    return ",".join(f"{x:g}" for x in schedule)


def schedule_run(env: str, split: str, run: int, arch, schedule: tuple, n_traj: int, seed: int,
                 algo: str = "xTRPO") -> pd.DataFrame:
    """One xTRPO run of ``len(schedule)`` updates with λ_t = ``schedule[t]`` (per-step table of
    :func:`.learning.learn`, column ``run``), on run ``run``'s task and random streams of ``split``."""
    task, key = run_setup(env, split, seed, run)
    df = learn(env, task, tuple(schedule), algo, arch=tuple(arch), n_updates=len(schedule), n_traj=n_traj,
               seed=seed, key=key)
    df.insert(3, "run", run)
    return df


def run_schedules(env: str, split: str, schedules: dict[str, tuple], runs, archs, n_traj: int, seed: int,
                  cache_dir, n_jobs: int = 1, algo: str = "xTRPO") -> pd.DataFrame:
    """Every schedule on every run (run ``runs[i]`` with policy ``archs[i]``), resumable.

    Schedules with the same λ sequence share their runs (one checkpoint per distinct
    (sequence, run, arch)). Returns the per-step tables with a column ``schedule`` (the name).
    """
    distinct = list(dict.fromkeys(tuple(s) for s in schedules.values()))
    jobs = [dict(label=f"{env}-{split}-schedule-r{run}", kwargs=dict(
        env=env, split=split, run=int(run), arch=tuple(arch), schedule=s, n_traj=n_traj, seed=seed, algo=algo))
        for s in distinct for run, arch in zip(runs, archs)]
    parts = map_resumable(schedule_run, jobs, cache_dir, n_workers=n_jobs, desc=f"schedules {env} {split}")
    by = {(job["kwargs"]["schedule"], job["kwargs"]["run"]): part for job, part in zip(jobs, parts)}
    out = [by[(tuple(s), int(run))].assign(schedule=name) for name, s in schedules.items() for run in runs]
    return pd.concat(out, ignore_index=True)
