"""The registry of stages: which config class each stage uses, and its quick-profile sizes.

Both profiles run the same code; only sizes differ. ``quick`` is the default (Run All in
JupyterLab, CI: minutes); ``full`` is paper scale: each config's defaults. :func:`resolve`
returns a frozen config whose ``__post_init__`` checked every field, and raises a ValueError on
an unknown profile, stage or override, naming the bad value.

A stage names its config as ``"module:Class"`` (as Gymnasium's registry names an environment's
entry point), so this registry imports no paper package: each wing's ``config`` module sits
beside the code it configures and is loaded when its stage is resolved.
"""
from __future__ import annotations

import importlib
from dataclasses import fields

from lib.notebook import check_kernel_history, overrides
from lib.paths import PROFILES, check_profile  # noqa: F401  (re-exported: the profile names live in paths)
from lib.trpo import check_kl_bound

STAGES = {
    "envs": "lib.trust_region_meta.config:EnvsConfig",
    "trpo_sweep": "lib.trust_region_meta.config:SweepConfig",
    "meta": "lib.trust_region_meta.config:MetaConfig",
    "bomrl": "lib.bomrl.config:BOMRLConfig",
    "bomrl_authors": "lib.bomrl.config:AuthorsFrozenLakeConfig",
    "locomotion": "lib.bomrl.config:LocomotionConfig",
    "locomotion_authors": "lib.bomrl.config:LocomotionAuthorsConfig",
}
LOCOMOTION_FAMILIES = ("halfcheetah-vel", "halfcheetah-dir", "ant-vel", "ant-dir")  # the authors' protocol's
QUICK = {
    "envs": dict(n_tasks=3, n_traj=100),
    "trpo_sweep": dict(kl_grid=(1e-3, 1e-2, 0.1, 1.0), n_runs=4,
                       n_traj={"elikoeidis": 8, "minigolf": 16, "cartpole": 8},
                       n_updates={"elikoeidis": 10, "minigolf": 10, "cartpole": 10}),
    "meta": dict(
        kl_grid=(1e-3, 1e-2, 0.1, 1.0),
        n_traj={"elikoeidis": 8, "minigolf": 16, "cartpole": 8},
        collect_trajectories={"elikoeidis": 10, "minigolf": 16, "cartpole": 16},
        collect_updates={"elikoeidis": 10, "minigolf": 8, "cartpole": 5},
        test_updates={"elikoeidis": 10, "minigolf": 10, "cartpole": 10},
        val_updates={"elikoeidis": 10, "minigolf": 8, "cartpole": 5},
        fqi_horizons=(1, 3), fqi_min_leaves=(1e-3, 1e-2), n_estimators=20,
        n_val_runs=3, n_test_runs=4, max_points=400, n_meta_models=2),
    "bomrl": dict(goal_radii=(1, 6), n_train_tasks=30, n_test_tasks=30, checkpoints=(0, 5, 20),
                  batch_size=10, n_seeds=2, n_adapt_steps=3),
    "bomrl_authors": dict(n_seeds=2, n_iters=3, episodes=20, n_heldout=3, n_adapt_steps=2),
    "locomotion": dict(horizon=20, meta_batch=2, n_traj=2, n_iters=2, checkpoints=(0, 2),
                       n_test_tasks=2, n_adapt_steps=2, n_seeds=1, arch=(1, 16)),
    "locomotion_authors": dict(meta_batch=dict.fromkeys(LOCOMOTION_FAMILIES, 2), n_traj=dict.fromkeys(LOCOMOTION_FAMILIES, 2),
                               post_factor=2, horizon=10, n_iters=dict.fromkeys(LOCOMOTION_FAMILIES, 2),
                               checkpoints=dict.fromkeys(LOCOMOTION_FAMILIES, (0, 2)), n_adapt_steps=1, n_seeds=1),
}
# notebook prefix -> stage of its config; parameters of a notebook that are not config fields
NOTEBOOK_STAGES = {"01": "envs", "02": "trpo_sweep", "03": "meta", "04": "meta", "05": "meta", "06": "meta",
                   "07": "meta", "08": "meta", "09": "meta", "10": "bomrl", "11": "locomotion",
                   "12": "bomrl_authors", "13": "locomotion_authors", "14": "meta"}
DECISIVE_MODES = ("run", "read")  # notebook 13: compute the decisive pair's missing iterations, or read its checkpoints


def check_decisive(value, name: str = "decisive") -> str:
    if value not in DECISIVE_MODES:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, DECISIVE_MODES))}, got {value!r}")
    return value


NOTEBOOK_ONLY = {"kl_bound": check_kl_bound, "decisive": check_decisive}  # name -> its check


def config_class(stage: str) -> type:
    """The config class of ``stage`` (its module is imported on first use)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    module, name = STAGES[stage].split(":")
    return getattr(importlib.import_module(module), name)


def resolve(stage: str, profile: str = "quick", **overrides):
    """The config of ``stage`` under ``profile``, with ``overrides`` applied (None keeps a value).

    Raises:
        ValueError: unknown stage, profile or override name, or an invalid value.
    """
    cls = config_class(stage)
    check_profile(profile)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for stage {stage!r}; known: {sorted(names)}")
    sizes = QUICK[stage] if profile == "quick" else {}
    return cls(profile=profile, **{**sizes, **{k: v for k, v in overrides.items() if v is not None}})


def from_notebook(stage: str, profile: str = "quick", **params):
    """The config of a notebook's ``parameters`` cell (the same call for the runner, which checks
    parameters before any kernel starts, and for the notebook itself): papermill's injected
    names checked (:func:`lib.notebook.check_injected_parameters`), text lists parsed, 0 workers =
    all cores, ``kl_bound`` (a notebook's own illustration value) and ``decisive`` (notebook 13's mode) checked. Raises a ValueError
    naming the parameter."""
    check_kernel_history()
    for name in NOTEBOOK_ONLY.keys() & set(params):
        NOTEBOOK_ONLY[name](params.pop(name), name=name)
    return resolve(stage, profile, **overrides(config_class(stage), params))
