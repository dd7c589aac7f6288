"""Resumable meta-training items, shared by the locomotion studies (notebooks 11 and 13).

An item is one (family, method, seed index): meta-training for ``n_iters`` iterations with
meta-tests at the ``checkpoints``. Its state is a dict ``it, phi, history, test`` (plus what a
study adds, e.g. the authors' observation filter); after every iteration it is written as a
portable checkpoint (JSON, no pickle), so a killed item resumes with identical numbers as long
as every random draw derives from ``(seed, family, seed index, iteration)``.

A study supplies two functions of the state: ``meta_test(state) -> rows`` and
``train_iteration(state) -> (updated fields, history row)``; this module runs the loop, makes
the tidy tables, and keys and runs the items on Dask (:mod:`lib.parallel`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from lib.cache import job_key, load_or_set_aside, write_checkpoint
from lib.parallel import map_resumable

# fields of the config that choose which items exist or where they run, not what one item computes
TABLES = ("history", "test", "selected")  # an item's row lists (the last only with a best-so-far selection)
ITEM_IGNORES = ("partial", "cfg.profile", "cfg.families", "cfg.methods", "cfg.n_seeds")


def load_state(partial: str | None, initial: Callable[[], dict]) -> dict:
    """The item's saved state from ``partial`` if it holds a sound one, else ``initial()``
    (a damaged file is set aside by :func:`lib.cache.load_or_set_aside`)."""
    state = load_or_set_aside(Path(partial), Path(partial).stem, allow_pickle=False)[1] if partial else None
    return initial() if state is None else state


def train_and_test(state: dict, n_iters: int, checkpoints, meta_test: Callable, train_iteration: Callable,
                   partial: str | None = None) -> dict:
    """Run an item from ``state`` to ``n_iters`` iterations; the final state.

    At every iteration ``it`` in ``checkpoints`` not yet tested, ``meta_test(state)`` adds rows
    (each with ``iter = it``) to ``state["test"]``; below ``n_iters``, ``train_iteration(state)``
    returns ``(fields, row)``: the state's new fields (e.g. ``phi``) and one history row; the
    state is then written to ``partial`` (if given).
    """
    checkpoints = set(checkpoints)
    while True:
        it = state["it"]
        if it in checkpoints and not any(r["iter"] == it for r in state["test"]):
            state = dict(state, test=state["test"] + meta_test(state))
        if it >= n_iters:
            return state
        fields, row = train_iteration(state)
        state = dict(state, **fields, it=it + 1, history=state["history"] + [row])
        save_state(state, partial)


def save_state(state: dict, partial: str | None) -> None:
    """Write ``state`` to ``partial`` (portable JSON) if given."""
    if partial:
        write_checkpoint(Path(partial), Path(partial).stem, state, portable=True)


def history_row(it: int, pre, post, steps: int, timings: dict, diagnostics: dict, **extra) -> dict:
    """One meta-iteration's history row: ``iter``, the mean return of the pre- and
    post-adaptation batches (lists of :class:`lib.bomrl.sampler.TaskData`), ``steps`` (env
    steps), ``timings`` (seconds, in their order), ``extra`` fields, then the outer step's
    scalar ``diagnostics``."""
    row = dict(iter=it, pre_return=float(np.mean([d.returns.mean() for d in pre])),
               post_return=float(np.mean([d.returns.mean() for d in post])), steps=steps, **timings, **extra)
    row.update({k: v for k, v in diagnostics.items() if isinstance(v, (int, float, bool))})
    return row


def tidy(state: dict, family: str, method: str, s: int) -> dict:
    """``{"history": ..., "test": ...}`` DataFrames of a final state, ``family, method, seed`` first
    (and ``"selected"``: the meta-test of the best-so-far policy, if the state has one)."""
    out = {}
    for name in [n for n in TABLES if n in state]:
        df = pd.DataFrame(state[name])
        df.insert(0, "seed", s)
        df.insert(0, "method", method)
        df.insert(0, "family", family)
        out[name] = df
    return out


def seed_indices(cfg, seeds=None) -> list[int]:
    """The seed indices to run: ``seeds`` (each checked against ``cfg.n_seeds``), default all."""
    if seeds is None:
        return list(range(cfg.n_seeds))
    bad = [s for s in seeds if not 0 <= s < cfg.n_seeds]
    if bad:
        raise ValueError(f"seeds: {bad[0]} is not a seed index of this run (0 to {cfg.n_seeds - 1})")
    return sorted(set(seeds))


def jobs(run_item: Callable, cfg, cache_dir, check: Callable[[str, str], None] | None = None,
         seeds=None) -> list[dict]:
    """One job of ``run_item(cfg, family, method_name, s, partial)`` per (family, method, seed
    index) of ``cfg`` (``seeds``: these seed indices only, :func:`seed_indices`); its ``partial``
    file is named by its key, which does not depend on ``seeds``, so processes given different
    seeds complete one run between them. ``check(family, method)`` raises a ValueError naming a
    bad one before any job runs."""
    if check is not None:
        for family in cfg.families:
            for method in cfg.methods:
                check(family, method)
    out = []
    for family in cfg.families:
        for method in cfg.methods:
            for s in seed_indices(cfg, seeds):
                kwargs = dict(cfg=cfg, family=family, method_name=method, s=s)
                label = f"{family}-{method}-{s}"
                key = job_key(run_item, kwargs, label, ITEM_IGNORES)
                out.append(dict(label=label, ignore=ITEM_IGNORES,
                                kwargs=dict(kwargs, partial=str(Path(cache_dir) / f"{key}.partial"))))
    return out


def run_all(run_item: Callable, cfg, cache_dir, desc: str, check: Callable[[str, str], None] | None = None,
            seeds=None) -> dict:
    """Run (or resume) every item (of the chosen ``seeds``, default all) on Dask (``cfg.n_workers``,
    ``cfg.scheduler``); the items' ``{"history": ..., "test": ...}`` tables concatenated."""
    results = map_resumable(run_item, jobs(run_item, cfg, cache_dir, check, seeds), cache_dir, n_workers=cfg.n_workers,
                            backend="dask", scheduler=cfg.scheduler, desc=desc, portable=True)
    return concat_tables(results)


def concat_tables(results: list[dict]) -> dict:
    """The items' :func:`tidy` tables concatenated per name (a name absent from every item is left out)."""
    return {name: pd.concat([r[name] for r in results if name in r], ignore_index=True)
            for name in TABLES if any(name in r for r in results)}
