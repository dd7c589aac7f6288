"""Sizes of every stage in the ``quick`` and ``full`` profiles.

Both profiles run the same code; only sizes differ. ``quick`` is the default (Run All in
JupyterLab, CI: minutes); ``full`` is paper scale. :func:`resolve` returns a frozen config
and raises on an unknown profile, stage or override, naming the bad value.
"""
from __future__ import annotations

import ast
import math
import numbers
import os
from dataclasses import MISSING, dataclass, field, fields, replace

from lib.bomrl.authors_frozen_lake import Protocol
from lib.bomrl.exact import AlgConfig
from lib.envs import check_env_name
from lib.envs.frozen_lake import check_distribution
from lib.paths import PROFILES, check_profile  # noqa: F401  (re-exported: the profile names live in paths)
from lib.policies import check_arch
from lib.trpo import check_algo, check_kl_bound
from lib.trust_region_meta.fqi import check_fqi_params

KL_GRID_PAPER = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0)
# Elikoeidis' fixed-λ return still rises at λ = 1, the top of the grid above (final return 33.5 at 0.5,
# 64 at 1, 124-138 at 2; at 5 runs diverge to |J| ~ 1e2-1e3 with a negative mean; 30 runs each):
# so that its best fixed λ is not the grid's edge, its Λ also holds 2 and 5 (the paper gives no Λ).
KL_EXTRA = {"elikoeidis": (2.0, 5.0)}


def _lambdas(grid, extra, env: str) -> tuple:
    return tuple(sorted(set(grid) | set(extra.get(env, ()))))


def default_n_jobs() -> int:
    """Parallel workers: ``$STUDY_N_JOBS`` if set, else the number of cores."""
    text = os.environ.get("STUDY_N_JOBS", "")
    if not text:
        return os.cpu_count() or 1
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"STUDY_N_JOBS must be an integer >= 1, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class EnvsConfig:
    """Notebook 01: pictures of the environments.

    Attributes:
        n_tasks: tasks drawn per environment for the pictures.
        n_traj: trajectories per task for the return statistics.
    """

    profile: str
    seed: int = 0
    n_tasks: int = 5
    n_traj: int = 200


@dataclass(frozen=True)
class SweepConfig:
    """Notebook 02: TRPO vs xTRPO for a grid of fixed trust-region sizes.

    Attributes:
        envs: environment names.
        algos: ``TRPO`` and/or ``xTRPO``.
        kl_grid: fixed lambdas to try.
        n_runs: runs per (env, algo, lambda); each run draws its own task and policy init,
            and all (algo, lambda) share the same runs (common random numbers).
        n_traj: trajectories N per batch, per env.
        n_updates: TRPO steps T per run, per env.
        arch: policy architecture (h, n); the paper's Figure 1 uses linear policies.
        kl_extra: more lambdas per env (:data:`KL_EXTRA`); :meth:`grid` is an env's grid.
        split: ``"test"`` (the test tasks, shared with the meta-test), ``"val"`` (the
            meta-validation tasks, where the figures choose their best Fixed-KL) or ``"fresh"``.
        policy_init: ``()`` (the default initial policy) or ``(mean0, std0)`` (notebook 09).
        n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    envs: tuple = ("elikoeidis", "minigolf", "cartpole")
    algos: tuple = ("TRPO", "xTRPO")
    kl_grid: tuple = KL_GRID_PAPER
    n_runs: int = 30
    n_traj: dict = field(default_factory=lambda: {"elikoeidis": 8, "minigolf": 64, "cartpole": 64})
    n_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 45})
    arch: tuple = (0, 0)
    kl_extra: dict = field(default_factory=lambda: dict(KL_EXTRA))
    split: str = "test"
    policy_init: tuple = ()
    n_jobs: int = field(default_factory=default_n_jobs)

    def grid(self, env: str) -> tuple:
        """The fixed λ tried on ``env``: ``kl_grid`` plus the env's ``kl_extra``."""
        return _lambdas(self.kl_grid, self.kl_extra, env)

    def all_lambdas(self) -> tuple:
        return tuple(sorted({kl for env in self.envs for kl in self.grid(env)}))

    def summary(self) -> str:
        """Short stable text description (for notebook output)."""
        sizes = ", ".join(f"{e}: T={self.n_updates[e]} N={self.n_traj[e]}" for e in self.envs)
        return (f"profile={self.profile} seed={self.seed} runs={self.n_runs} "
                f"kl_grid={list(self.kl_grid)} (+{self.kl_extra}) algos={list(self.algos)}\n{sizes}")


def _all_archs(exclude=()) -> tuple:
    """Linear plus MLP(h, n) for h in 1..3, n in {8, 16, 32, 64}, minus ``exclude``."""
    archs = [(0, 0)] + [(h, n) for h in (1, 2, 3) for n in (8, 16, 32, 64)]
    return tuple(a for a in archs if a not in exclude)


@dataclass(frozen=True)
class MetaConfig:
    """Paper 1's meta-learning pipeline (notebooks 03-08): one config, per-env sizes.

    Attributes:
        envs: environments.
        kl_grid: Lambda, the meta-actions of the FQI model and the Fixed-KL grid; ``kl_extra``
            adds values per env (:data:`KL_EXTRA`), :meth:`grid` is an env's Λ.
        kl_range, log_uniform: range and scale of the random lambda during collection (its top
            raised to an env's largest λ, :meth:`collect_range`).
        n_traj: N trajectories per batch (metafeatures use B_t and B_{t-1}).
        collect_trajectories, collect_updates: learning trajectories and updates per
            trajectory of the meta-dataset (tuples = product).
        train_archs: architectures sampled during collection (held-out ones excluded).
        test_updates: updates of a meta-test run (Cartpole: 45 > 15 collected).
        fqi_horizons, fqi_min_leaves: meta-validation grid of H and psi.
        n_estimators: Extra Trees per forest.
        n_val_runs, val_updates: meta-validation runs (held-out tasks) and their length.
        n_test_runs: runs per configuration in Figures 1-3 (30 in the paper).
        fig2_archs, fig3_archs: architectures of Figures 2 (Minigolf) and 3 (Cartpole).
        max_points: cap on the k-NN sample sets.
        n_meta_models: M, independent meta-datasets and meta-models per environment (their
            collection and FQI seeds differ; test tasks, initial policies and the Fixed-KL
            runs are shared). Every verdict is reported per meta-model and pooled over them.
        n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    envs: tuple = ("elikoeidis", "minigolf", "cartpole")
    kl_grid: tuple = KL_GRID_PAPER
    kl_range: tuple = (1e-3, 1.0)
    kl_extra: dict = field(default_factory=lambda: dict(KL_EXTRA))
    log_uniform: bool = True
    n_traj: dict = field(default_factory=lambda: {"elikoeidis": 8, "minigolf": 64, "cartpole": 64})
    collect_trajectories: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 200, "cartpole": 1000})
    collect_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 15})
    train_archs: dict = field(default_factory=lambda: {
        "elikoeidis": ((0, 0),), "minigolf": _all_archs(exclude=((2, 32),)),
        "cartpole": _all_archs(exclude=((1, 16), (3, 64)))})
    test_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 45})
    fqi_horizons: tuple = (1, 2, 3, 4, 5)
    fqi_min_leaves: tuple = (5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2)
    n_estimators: int = 100
    n_val_runs: int = 10
    val_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 15})
    n_test_runs: int = 30
    fig2_archs: tuple = ((0, 0), (1, 16), (2, 32))
    fig3_archs: tuple = ((0, 0), (1, 16), (3, 64))
    max_points: int = 2000
    n_meta_models: int = 5
    n_jobs: int = field(default_factory=default_n_jobs)

    def meta_seeds(self) -> range:
        return range(self.n_meta_models)

    def fqi_seed(self, meta_seed: int) -> int:
        """Random state of meta-model ``meta_seed``'s forests (its iteration h adds h)."""
        return self.seed + 1000 * meta_seed

    def tuples(self, env: str) -> int:
        return self.collect_trajectories[env] * self.collect_updates[env]

    def grid(self, env: str) -> tuple:
        """Λ of ``env``: ``kl_grid`` plus the env's ``kl_extra``."""
        return _lambdas(self.kl_grid, self.kl_extra, env)

    def all_lambdas(self) -> tuple:
        return tuple(sorted({kl for env in self.envs for kl in self.grid(env)}))

    def collect_range(self, env: str) -> tuple:
        """Range of the random λ while collecting ``env``'s meta-dataset: up to its largest λ."""
        return (self.kl_range[0], max(self.kl_range[1], max(self.grid(env))))

    def sweep(self, env: str, arch=(0, 0), algos=("TRPO", "xTRPO"), split: str = "test",
              policy_init: tuple = ()) -> "SweepConfig":
        """The Fixed-KL baseline sweep of ``env``: on the test tasks (``n_test_runs``; shares runs and
        checkpoints with notebook 02) or on the validation tasks (``n_val_runs``, to choose the best)."""
        return SweepConfig(profile=self.profile, seed=self.seed, envs=(env,), algos=tuple(algos),
                           kl_grid=self.kl_grid, kl_extra=self.kl_extra, split=split, policy_init=tuple(policy_init),
                           n_runs=self.n_val_runs if split == "val" else self.n_test_runs,
                           n_traj={env: self.n_traj[env]}, n_updates={env: self.test_updates[env]},
                           arch=tuple(arch), n_jobs=self.n_jobs)

    def summary(self) -> str:
        lines = [f"profile={self.profile} seed={self.seed} Lambda={list(self.kl_grid)} (+{self.kl_extra}), "
                 f"{self.n_meta_models} meta-models per environment"]
        for env in self.envs:
            lines.append(f"{env}: {self.tuples(env)} tuples = {self.collect_trajectories[env]} x "
                         f"{self.collect_updates[env]} updates, N={self.n_traj[env]}, "
                         f"test T={self.test_updates[env]}, {len(self.train_archs[env])} train archs")
        return "\n".join(lines)


@dataclass(frozen=True)
class BOMRLConfig:
    """Paper 2's exact Frozen Lake experiment (notebook 10).

    Attributes:
        gamma: discount. n_holes: holes per map. goal_radii: task distributions (goal within
            this Manhattan distance of the bottom-right corner; 1 = "low", 6 = "high" variance).
        n_train_tasks, n_test_tasks: tasks drawn per (distribution, seed).
        checkpoints: meta-iterations K at which the meta-policy is meta-tested (last = K).
        lr: meta step size. batch_size: training tasks per meta-iteration.
        n_seeds: independent repetitions (new tasks, new minibatches).
        n_adapt_steps: policy-adaptation steps at meta-test.
        lam_kl, lam_euclidean: lambda of the KL and Euclidean Alg. delta: KL radius of the
            constrained Alg. temperature: of the soft-optimal theta*_tau used for Var(P(Gamma)).
        n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    gamma: float = 0.9
    n_holes: int = 2
    goal_radii: tuple = (0, 1, 2, 4, 6)
    n_train_tasks: int = 100
    n_test_tasks: int = 100
    checkpoints: tuple = (0, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300)  # 10 values of K > 0: the 1/√K test (claims)
    lr: float = 100.0
    batch_size: int = 20
    n_seeds: int = 5
    n_adapt_steps: int = 4
    lam_kl: float = 0.05
    lam_euclidean: float = 1e-3
    delta: float = 0.2
    temperature: float = 0.002
    n_jobs: int = field(default_factory=default_n_jobs)

    def summary(self) -> str:
        return (f"profile={self.profile} seed={self.seed} gamma={self.gamma} holes={self.n_holes} "
                f"goal radii={list(self.goal_radii)} tasks={self.n_train_tasks} train/{self.n_test_tasks} test "
                f"K={list(self.checkpoints)} lr={self.lr} batch={self.batch_size} seeds={self.n_seeds}\n"
                f"lambda_KL={self.lam_kl} lambda_Euclidean={self.lam_euclidean} delta={self.delta} "
                f"adaptation steps={self.n_adapt_steps}")


@dataclass(frozen=True)
class AuthorsFrozenLakeConfig:
    """Notebook 12: paper 2's Frozen Lake as its authors ran it (their values by default).

    Attributes:
        kinds: ``"hole"`` (high task variance) and/or ``"nohole"`` (low).
        n_seeds: independent repetitions (new minibatches and samples; the maps are theirs).
        n_iters, batch_size, lr: meta-iterations, maps per iteration, Adam step.
        episodes, length, td_step: one data collection (episodes x steps) and its TD(0) step.
        sgd_steps, sgd_lr: their Alg(1) solver. pg_step: their "MAML" step.
        n_adapt_steps: adaptation steps at meta-test. n_heldout: held-out maps per kind.
        n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    kinds: tuple = ("hole", "nohole")
    n_seeds: int = 5
    n_iters: int = Protocol.n_iters  # the protocol's sizes and step sizes: their values, one source
    batch_size: int = Protocol.batch_size
    lr: float = Protocol.lr
    episodes: int = Protocol.episodes
    length: int = Protocol.length
    td_step: float = Protocol.td_step
    sgd_steps: int = Protocol.sgd_steps
    sgd_lr: float = Protocol.sgd_lr
    pg_step: float = Protocol.pg_step
    n_adapt_steps: int = Protocol.n_adapt_steps
    n_heldout: int = 20
    n_jobs: int = field(default_factory=default_n_jobs)

    def summary(self) -> str:
        return (f"profile={self.profile} seed={self.seed} kinds={list(self.kinds)} seeds={self.n_seeds}\n"
                f"{self.n_iters} meta-iterations x {self.batch_size} maps, Adam {self.lr}; data {self.episodes} episodes x "
                f"{self.length} steps, TD step {self.td_step}; Alg(1) {self.sgd_steps} SGD steps of {self.sgd_lr}; "
                f"PG step {self.pg_step}; {self.n_adapt_steps} adaptation steps; {self.n_heldout} held-out maps")


@dataclass(frozen=True)
class LocomotionConfig:
    """Paper 2's locomotion experiment (notebook 11), at a reduced scale (see the notebook).

    Attributes:
        families: task families (``lib.envs.locomotion.FAMILIES``).
        methods: BO-MRL metrics and gradient-based baselines (``lib.bomrl.locomotion_study.METHODS``).
        arch: policy MLP ``(hidden layers, width)``. horizon: episode length.
        meta_batch: tasks per meta-iteration. n_traj: trajectories per task and policy.
        n_iters: meta-iterations. checkpoints: iterations at which the meta-policy is
            meta-tested (trend with the number of meta-iterations).
        n_test_tasks: fresh test tasks per (family, seed). n_adapt_steps: adaptation steps
            at meta-test (new data each step).
        n_seeds: independent repetitions. n_workers: Dask workers (local processes).
        scheduler: address of a running Dask scheduler ("" = start a local cluster).
    """

    profile: str
    seed: int = 0
    families: tuple = ("halfcheetah-vel", "halfcheetah-dir", "ant-vel", "ant-dir")
    methods: tuple = ("Alg(1) KL", "Alg(3) Euclidean", "KL-constrained (ours)",
                      "MAML-TRPO", "ProMP", "E-MAML-TRPO")
    arch: tuple = (2, 64)
    horizon: int = 200
    meta_batch: int = 10
    n_traj: int = 10
    n_iters: int = 60
    checkpoints: tuple = (0, 20, 60)
    n_test_tasks: int = 10
    n_adapt_steps: int = 3
    n_seeds: int = 2
    n_workers: int = field(default_factory=default_n_jobs)
    scheduler: str = ""

    def summary(self) -> str:
        return (f"profile={self.profile} seed={self.seed} families={list(self.families)}\n"
                f"methods={list(self.methods)}\n"
                f"policy MLP{self.arch} horizon={self.horizon} meta-batch={self.meta_batch} tasks x "
                f"{self.n_traj} trajectories, {self.n_iters} meta-iterations, meta-test at "
                f"{list(self.checkpoints)} on {self.n_test_tasks} tasks with {self.n_adapt_steps} "
                f"adaptation steps, {self.n_seeds} seeds, "
                + (f"the Dask cluster at {self.scheduler}" if self.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
                   else f"{self.n_workers} local Dask workers"))


@dataclass(frozen=True)
class LocomotionAuthorsConfig:
    """Paper 2's HalfCheetah experiment on its authors' protocol (:mod:`lib.bomrl.authors_locomotion`).

    Attributes:
        families: ``halfcheetah-vel``, ``halfcheetah-dir``. methods: ``Alg(1)``-``Alg(3)`` and
            the gradient baselines (``lib.bomrl.authors_locomotion_study.METHODS``).
        meta_batch: tasks per meta-iteration per family (theirs: 10 velocity, 4 direction).
        n_traj: trajectories per task before adaptation (theirs 20); post_factor: after
            adaptation, that many times more (theirs 5). horizon: steps per trajectory;
            tail: continue each trajectory as long again for the return's tail (theirs: yes).
        n_iters: meta-iterations per family (theirs 500). checkpoints: per family, the iterations
            with a meta-test on their fixed goals (0.0, 0.1 ... 1.9, or +1 and -1) with
            0..n_adapt_steps adaptation steps; the last is ``n_iters``.
        n_seeds: independent repetitions (theirs 1). n_workers, scheduler: as notebook 11's.
    """

    profile: str
    seed: int = 0
    families: tuple = ("halfcheetah-vel", "halfcheetah-dir")
    methods: tuple = ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO", "ProMP", "E-MAML-TRPO")
    meta_batch: dict = field(default_factory=lambda: {"halfcheetah-vel": 10, "halfcheetah-dir": 4})
    n_traj: int = 20
    post_factor: int = 5
    horizon: int = 200
    tail: bool = True
    # about 12 h of the 2 cores in all (benchmarks/profile_authors_iteration.py, float32, x 1.5 for two workers)
    n_iters: dict = field(default_factory=lambda: {"halfcheetah-vel": 120, "halfcheetah-dir": 120})
    checkpoints: dict = field(default_factory=lambda: {"halfcheetah-vel": (0, 40, 80, 120),
                                                       "halfcheetah-dir": (0, 40, 80, 120)})
    n_adapt_steps: int = 3
    n_seeds: int = 2
    n_workers: int = field(default_factory=default_n_jobs)
    scheduler: str = ""

    def summary(self) -> str:
        per_family = "; ".join(f"{f}: {self.n_iters[f]} meta-iterations, meta-test at {list(self.checkpoints[f])}"
                               for f in self.families)
        return (f"profile={self.profile} seed={self.seed} families={list(self.families)} "
                f"methods={list(self.methods)}\nmeta-batch {dict(self.meta_batch)} tasks x {self.n_traj} "
                f"trajectories (x {self.post_factor} after adaptation), horizon {self.horizon}"
                f"{' + tail' if self.tail else ''}, {self.n_adapt_steps} adaptation steps at test, {self.n_seeds} seeds"
                f"\n{per_family}\nDask: {self.scheduler or f'local cluster of {self.n_workers} workers'}")


_QUICK = {
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
    "locomotion_authors": dict(meta_batch={"halfcheetah-vel": 2, "halfcheetah-dir": 2}, n_traj=2, post_factor=2,
                               horizon=10, n_iters={"halfcheetah-vel": 2, "halfcheetah-dir": 2},
                               checkpoints={"halfcheetah-vel": (0, 2), "halfcheetah-dir": (0, 2)},
                               n_adapt_steps=1, n_seeds=1),
}
_CLASSES = {"envs": EnvsConfig, "trpo_sweep": SweepConfig, "meta": MetaConfig, "bomrl": BOMRLConfig,
            "bomrl_authors": AuthorsFrozenLakeConfig, "locomotion": LocomotionConfig,
            "locomotion_authors": LocomotionAuthorsConfig}


def resolve(stage: str, profile: str = "quick", **overrides):
    """The config of ``stage`` under ``profile``, with ``overrides`` applied.

    Raises:
        ValueError: unknown stage, profile or override name, or an invalid value.
    """
    if stage not in _CLASSES:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(_CLASSES)}")
    cls = _CLASSES[stage]
    cfg = cls(profile=check_profile(profile))
    if profile == "quick":
        cfg = replace(cfg, **_QUICK[stage])
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for stage {stage!r}; known: {sorted(names)}")
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    _check_types(cfg)
    _validate(cfg)
    return cfg


# --- validation: every field, by the type and sign of its default --------------------------

NON_NEGATIVE = {"seed", "n_holes"}  # integer fields that may be 0; every other count must be >= 1
ZERO_OK_LISTS = {"checkpoints", "goal_radii", "arch"}  # integer lists whose entries may be 0


def _default(f):
    return f.default_factory() if f.default_factory is not MISSING else f.default


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _check_int(name: str, value, low: int) -> None:
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")


def _check_float(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _check_list(name: str, value, default: tuple) -> None:
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a list, got {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    elem = default[0] if default else None
    for k, v in enumerate(value):
        if isinstance(elem, float):
            _check_float(f"{name}[{k}]", v)
        elif _is_int(elem):
            _check_int(f"{name}[{k}]", v, 0 if name in ZERO_OK_LISTS else 1)
        elif isinstance(elem, str) and not isinstance(v, str):
            raise ValueError(f"{name}[{k}] must be a name, got {v!r}")
    if name != "arch":
        seen = [tuple(v) if isinstance(v, (list, tuple)) else v for v in value]
        dup = sorted({repr(v) for v in seen if seen.count(v) > 1})
        if dup:
            raise ValueError(f"{name} has duplicate values {', '.join(dup)}")


def _check_field(name: str, value, default) -> None:
    """Raise a ValueError naming ``name`` if ``value`` is not of the kind of ``default``."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    elif _is_int(default):
        _check_int(name, value, 0 if name in NON_NEGATIVE else 1)
    elif isinstance(default, float):
        _check_float(name, value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
    elif isinstance(default, tuple):
        _check_list(name, value, default)


def _check_types(cfg) -> None:
    """Every field of ``cfg`` against the kind of its default; per-env mappings entry by entry."""
    envs = getattr(cfg, "envs", ())
    if hasattr(cfg, "envs"):
        _check_list("envs", envs, ("",))
        for env in envs:
            check_env_name(env)
    for f in fields(cfg):
        if f.name == "profile":
            continue
        value, default = getattr(cfg, f.name), _default(f)
        if f.name == "policy_init":  # () or (mean0, std0): checked in _validate
            continue
        if f.name == "kl_extra":  # optional per env: only the envs that need more λ have an entry
            if not isinstance(value, dict) or not all(isinstance(v, tuple) for v in value.values()):
                raise ValueError(f"kl_extra must map an environment to a tuple of λ, got {value!r}")
            continue
        if not isinstance(default, dict):
            _check_field(f.name, value, default)
            continue
        if not isinstance(value, dict):
            raise ValueError(f"{f.name} must be a mapping per environment, got {value!r}")
        missing = [e for e in envs if e not in value]
        if missing:
            raise ValueError(f"{f.name} has no value for {', '.join(missing)}")
        sample = next(iter(default.values()))
        for env in envs:
            if isinstance(sample, tuple):
                if not value[env]:
                    raise ValueError(f"{f.name}[{env}] must not be empty")
            else:
                _check_field(f"{f.name}[{env}]", value[env], sample)


def _validate(cfg) -> None:
    """What the field-by-field check of :func:`_check_types` cannot know: names, ranges,
    architectures, orderings and the stronger lower bounds."""
    for kl in getattr(cfg, "kl_grid", ()):
        check_kl_bound(kl, name="kl_grid")
    for env, extra in getattr(cfg, "kl_extra", {}).items():
        for kl in extra:
            check_kl_bound(kl, name=f"kl_extra[{env}]")
    if hasattr(cfg, "arch"):
        check_arch(cfg.arch, name="arch")
    if isinstance(cfg, EnvsConfig) and cfg.n_traj < 2:
        raise ValueError(f"n_traj must be >= 2 (a return variance needs two trajectories), got {cfg.n_traj}")
    if isinstance(cfg, (SweepConfig, MetaConfig)):
        for env, n in cfg.n_traj.items():
            if env in cfg.envs and n < 2:
                raise ValueError(f"n_traj[{env}] must be >= 2 (metafeatures compare two batches), got {n}")
    if isinstance(cfg, SweepConfig):
        for algo in cfg.algos:
            check_algo(algo)
        if cfg.split not in ("test", "val", "fresh"):
            raise ValueError(f"split must be 'test', 'val' or 'fresh', got {cfg.split!r}")
        if cfg.policy_init and (len(cfg.policy_init) != 2 or not cfg.policy_init[1] > 0):
            raise ValueError(f"policy_init must be () or (mean0, std0 > 0), got {cfg.policy_init!r}")
    if isinstance(cfg, BOMRLConfig):
        _validate_bomrl(cfg)
    if isinstance(cfg, LocomotionConfig):
        _validate_locomotion(cfg)
    if isinstance(cfg, LocomotionAuthorsConfig):
        _validate_locomotion_authors(cfg)
    if isinstance(cfg, AuthorsFrozenLakeConfig):
        for kind in cfg.kinds:
            if kind not in ("hole", "nohole"):
                raise ValueError(f"kinds: unknown kind {kind!r}; choose 'hole' or 'nohole'")
        for name in ("lr", "td_step", "sgd_lr", "pg_step"):
            if not getattr(cfg, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(cfg, name)}")
    if isinstance(cfg, MetaConfig):
        if len(cfg.kl_range) != 2 or not 0 < cfg.kl_range[0] < cfg.kl_range[1]:
            raise ValueError(f"kl_range must be (low, high) with 0 < low < high, got {cfg.kl_range}")
        for h in cfg.fqi_horizons:
            for psi in cfg.fqi_min_leaves:
                check_fqi_params(h, psi)
        for env in cfg.envs:
            for a in cfg.train_archs[env]:
                check_arch(a, name=f"train_archs[{env}]")
        for name in ("fig2_archs", "fig3_archs"):
            for a in getattr(cfg, name):
                check_arch(a, name=name)
        if cfg.max_points < 10:
            raise ValueError(f"max_points must be >= 10 (k-NN sets), got {cfg.max_points}")


def _validate_bomrl(cfg) -> None:
    for r in cfg.goal_radii:
        check_distribution(r, cfg.n_holes)
    if not 0 < cfg.gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {cfg.gamma}")
    ks = list(cfg.checkpoints)
    if not ks or ks[0] < 0 or ks != sorted(set(ks)):
        raise ValueError(f"checkpoints must be increasing non-negative integers, got {cfg.checkpoints}")
    for name in ("lr", "temperature", "lam_kl", "lam_euclidean", "delta"):
        if not getattr(cfg, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(cfg, name)}")
    AlgConfig("kl", lam=cfg.lam_kl)
    AlgConfig("euclidean", lam=cfg.lam_euclidean)
    AlgConfig("kl_constrained", delta=cfg.delta)


def _validate_locomotion(cfg) -> None:
    # Imported here, not at the top: they load MuJoCo (~0.5 s), which only a locomotion
    # config needs; every other notebook imports this module at start-up.
    from lib.bomrl.locomotion_study import check_method
    from lib.envs.locomotion import check_family

    for fam in cfg.families:
        check_family(fam)
    for m in cfg.methods:
        check_method(m)
    _check_checkpoints("checkpoints", cfg.checkpoints, "n_iters", cfg.n_iters)


def _validate_locomotion_authors(cfg) -> None:
    from lib.bomrl.authors_locomotion import check_family  # loads MuJoCo: see _validate_locomotion
    from lib.bomrl.authors_locomotion_study import check_method

    for m in cfg.methods:
        check_method(m)
    for fam in cfg.families:
        check_family(fam)
        for name in ("meta_batch", "n_iters", "checkpoints"):
            if fam not in getattr(cfg, name):
                raise ValueError(f"{name} has no value for {fam}")
        _check_int(f"meta_batch[{fam}]", cfg.meta_batch[fam], 1)
        _check_int(f"n_iters[{fam}]", cfg.n_iters[fam], 1)
        _check_checkpoints(f"checkpoints[{fam}]", cfg.checkpoints[fam], f"n_iters[{fam}]", cfg.n_iters[fam])


def _check_checkpoints(name: str, checkpoints, last_name: str, last: int) -> None:
    """Meta-test iterations: increasing, non-negative, ending at the last meta-iteration."""
    ks = list(checkpoints)
    if not ks or ks[0] < 0 or ks != sorted(set(ks)) or ks[-1] != last:
        raise ValueError(f"{name} must be increasing non-negative integers ending at "
                         f"{last_name}={last}, got {checkpoints}")


# notebook prefix -> stage of its config; parameters of a notebook that are not config fields
NOTEBOOK_STAGES = {"01": "envs", "02": "trpo_sweep", "03": "meta", "04": "meta", "05": "meta", "06": "meta",
                   "07": "meta", "08": "meta", "09": "meta", "10": "bomrl", "11": "locomotion", "12": "bomrl_authors", "13": "locomotion_authors"}
NOTEBOOK_ONLY = {"kl_bound"}
WORKER_FIELDS = ("n_jobs", "n_workers")  # 0 in a parameters cell means all cores


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}


def check_injected_parameters(history) -> None:
    """Refuse parameters that papermill injected but the notebook does not declare.

    Plain ``papermill nb.ipynb out.ipynb -p n_runs 3`` only warns about an unknown name and
    runs with the defaults; inside the kernel the executed cells (IPython's ``In``) show
    both the notebook's ``parameters`` cell (the first cell run) and papermill's injected
    cell (it starts with ``# Parameters``), so the notebook can stop instead.

    Raises:
        ValueError: naming each injected parameter that the parameters cell does not define.
    """
    cells = [c for c in history if isinstance(c, str) and c.strip()]
    injected = [c for c in cells if c.startswith("# Parameters\n")]
    if not injected or cells[0] in injected:
        return
    declared = _assigned(cells[0])
    unknown = sorted(set().union(*(_assigned(c) for c in injected)) - declared)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for this notebook; "
                         f"its parameters: {', '.join(sorted(declared))}")


def from_notebook(stage: str, profile: str = "quick", **params):
    """The config of a notebook's ``parameters`` cell (the same call for the runner, which
    checks parameters before any kernel starts, and for the notebook itself).

    Text parameters of list fields (``envs="minigolf,cartpole"``, ``kl_grid="0.01,0.1"``) are
    parsed, empty text keeps the profile's list; 0 workers means all cores; ``kl_bound`` (a
    notebook's own illustration value) is checked. Raises a ValueError naming the parameter.
    """
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        check_injected_parameters(shell.user_ns.get("In", []))
    cls = _CLASSES.get(stage)
    names = {f.name: _default(f) for f in fields(cls)} if cls else {}
    overrides = {}
    for name, value in params.items():
        if name in NOTEBOOK_ONLY:
            check_kl_bound(value, name=name)
        elif name in WORKER_FIELDS and isinstance(value, int) and not isinstance(value, bool) and value == 0:
            continue
        elif name in names and isinstance(names[name], tuple) and isinstance(value, str):
            parse = parse_floats if names[name] and isinstance(names[name][0], float) else parse_names
            try:
                overrides[name] = parse(value)
            except ValueError as err:
                raise ValueError(f"{name}: {err}") from None
        else:
            overrides[name] = value
    return resolve(stage, profile, **overrides)


def parse_names(text: str) -> tuple | None:
    """``"a, b"`` -> ``("a", "b")``; empty -> None (keep the profile's default)."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    return names or None


def parse_floats(text: str) -> tuple | None:
    """``"0.01, 0.1"`` -> ``(0.01, 0.1)``; empty -> None. Raises naming a non-number."""
    out = []
    for part in parse_names(text) or ():
        try:
            out.append(float(part))
        except ValueError:
            raise ValueError(f"not a number: {part!r} in {text!r}") from None
    return tuple(out) or None

