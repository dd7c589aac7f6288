"""Sizes of every stage in the ``quick`` and ``full`` profiles.

Both profiles run the same code; only sizes differ. ``quick`` is the default (Run All in
JupyterLab, CI: minutes); ``full`` is paper scale. :func:`resolve` returns a frozen config
and raises on an unknown profile, stage or override, naming the bad value.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace

PROFILES = ("quick", "full")
KL_GRID_PAPER = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0)


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is ``quick`` or ``full``, else raise a ValueError naming it."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def default_n_jobs() -> int:
    """Parallel workers: ``$STUDY_N_JOBS`` if set, else the number of cores."""
    return int(os.environ.get("STUDY_N_JOBS", os.cpu_count() or 1))


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
    n_jobs: int = field(default_factory=default_n_jobs)

    def summary(self) -> str:
        """Short stable text description (for notebook output)."""
        sizes = ", ".join(f"{e}: T={self.n_updates[e]} N={self.n_traj[e]}" for e in self.envs)
        return (f"profile={self.profile} seed={self.seed} runs={self.n_runs} "
                f"kl_grid={list(self.kl_grid)} algos={list(self.algos)}\n{sizes}")


def _all_archs(exclude=()) -> tuple:
    """Linear plus MLP(h, n) for h in 1..3, n in {8, 16, 32, 64}, minus ``exclude``."""
    archs = [(0, 0)] + [(h, n) for h in (1, 2, 3) for n in (8, 16, 32, 64)]
    return tuple(a for a in archs if a not in exclude)


@dataclass(frozen=True)
class MetaConfig:
    """Paper 1's meta-learning pipeline (notebooks 03-08): one config, per-env sizes.

    Attributes:
        envs: environments.
        kl_grid: Lambda, the meta-actions of the FQI model and the Fixed-KL grid.
        kl_range, log_uniform: range and scale of the random lambda during collection.
        n_traj: N trajectories per batch (metafeatures use B_t and B_{t-1}).
        collect_trajectories, collect_updates: learning trajectories and updates per
            trajectory of the meta-dataset (tuples = product).
        train_archs: architectures sampled during collection (held-out ones excluded).
        test_updates: updates of a meta-test run (Cartpole: 45 > 15 collected).
        fqi_horizons, fqi_min_splits: meta-validation grid of H and psi.
        n_estimators: Extra Trees per forest.
        n_val_runs, val_updates: meta-validation runs (held-out tasks) and their length.
        n_test_runs: runs per configuration in Figures 1-3 (30 in the paper).
        fig2_archs, fig3_archs: architectures of Figures 2 (Minigolf) and 3 (Cartpole).
        max_points: cap on the k-NN sample sets.
        n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    envs: tuple = ("elikoeidis", "minigolf", "cartpole")
    kl_grid: tuple = KL_GRID_PAPER
    kl_range: tuple = (1e-3, 1.0)
    log_uniform: bool = True
    n_traj: dict = field(default_factory=lambda: {"elikoeidis": 8, "minigolf": 64, "cartpole": 64})
    collect_trajectories: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 200, "cartpole": 1000})
    collect_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 15})
    train_archs: dict = field(default_factory=lambda: {
        "elikoeidis": ((0, 0),), "minigolf": _all_archs(exclude=((2, 32),)),
        "cartpole": _all_archs(exclude=((1, 16), (3, 64)))})
    test_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 45})
    fqi_horizons: tuple = (1, 2, 3, 4, 5)
    fqi_min_splits: tuple = (5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2)
    n_estimators: int = 100
    n_val_runs: int = 10
    val_updates: dict = field(default_factory=lambda: {"elikoeidis": 10, "minigolf": 35, "cartpole": 15})
    n_test_runs: int = 30
    fig2_archs: tuple = ((0, 0), (1, 16), (2, 32))
    fig3_archs: tuple = ((0, 0), (1, 16), (3, 64))
    max_points: int = 2000
    n_jobs: int = field(default_factory=default_n_jobs)

    def tuples(self, env: str) -> int:
        return self.collect_trajectories[env] * self.collect_updates[env]

    def sweep(self, env: str, arch=(0, 0), algos=("TRPO", "xTRPO")) -> "SweepConfig":
        """The Fixed-KL baseline sweep of ``env`` (shares runs and checkpoints with notebook 02)."""
        return SweepConfig(profile=self.profile, seed=self.seed, envs=(env,), algos=tuple(algos),
                           kl_grid=self.kl_grid, n_runs=self.n_test_runs,
                           n_traj={env: self.n_traj[env]}, n_updates={env: self.test_updates[env]},
                           arch=tuple(arch), n_jobs=self.n_jobs)

    def summary(self) -> str:
        lines = [f"profile={self.profile} seed={self.seed} Lambda={list(self.kl_grid)}"]
        for env in self.envs:
            lines.append(f"{env}: {self.tuples(env)} tuples = {self.collect_trajectories[env]} x "
                         f"{self.collect_updates[env]} updates, N={self.n_traj[env]}, "
                         f"test T={self.test_updates[env]}, {len(self.train_archs[env])} train archs")
        return "\n".join(lines)


@dataclass(frozen=True)
class BOMRLConfig:
    """Paper 2's exact Frozen Lake experiment (notebook 09).

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
    checkpoints: tuple = (0, 10, 30, 100, 300)
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
class LocomotionConfig:
    """Paper 2's locomotion experiment (notebook 10), at a reduced scale (see the notebook).

    Attributes:
        families: task families (``lib.envs.locomotion.FAMILIES``).
        methods: BO-MRL metrics and gradient-based baselines (``lib.locomotion_study.METHODS``).
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
    methods: tuple = ("BO-MRL (KL)", "BO-MRL (Euclidean)", "BO-MRL (KL-constrained)",
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
                f"adaptation steps, {self.n_seeds} seeds, {self.n_workers} Dask workers")


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
        fqi_horizons=(1, 3), fqi_min_splits=(1e-3, 1e-2), n_estimators=20,
        n_val_runs=3, n_test_runs=4, max_points=400),
    "bomrl": dict(goal_radii=(1, 6), n_train_tasks=30, n_test_tasks=30, checkpoints=(0, 5, 20),
                  batch_size=10, n_seeds=2, n_adapt_steps=3),
    "locomotion": dict(horizon=20, meta_batch=2, n_traj=2, n_iters=2, checkpoints=(0, 2),
                       n_test_tasks=2, n_adapt_steps=2, n_seeds=1, arch=(1, 16)),
}
_CLASSES = {"envs": EnvsConfig, "trpo_sweep": SweepConfig, "meta": MetaConfig, "bomrl": BOMRLConfig,
            "locomotion": LocomotionConfig}


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
    _validate(cfg)
    return cfg


def _validate(cfg) -> None:
    from lib.envs import check_env_name
    from lib.fqi import check_fqi_params
    from lib.trpo import check_algo, check_kl_bound

    if cfg.seed < 0:
        raise ValueError(f"seed must be >= 0, got {cfg.seed}")
    if getattr(cfg, "n_jobs", 1) < 1:
        raise ValueError(f"n_jobs must be >= 1, got {cfg.n_jobs}")
    for env in getattr(cfg, "envs", ()):
        check_env_name(env)
    for kl in getattr(cfg, "kl_grid", ()):
        check_kl_bound(kl)
    if isinstance(cfg, SweepConfig):
        for algo in cfg.algos:
            check_algo(algo)
        if cfg.n_runs < 1:
            raise ValueError(f"n_runs must be >= 1, got {cfg.n_runs}")
    if isinstance(cfg, BOMRLConfig):
        _validate_bomrl(cfg)
    if isinstance(cfg, LocomotionConfig):
        _validate_locomotion(cfg)
    if isinstance(cfg, MetaConfig):
        lo, hi = cfg.kl_range
        if not 0 < lo < hi:
            raise ValueError(f"kl_range must satisfy 0 < low < high, got {cfg.kl_range}")
        for h in cfg.fqi_horizons:
            for psi in cfg.fqi_min_splits:
                check_fqi_params(h, psi)


def _validate_bomrl(cfg) -> None:
    from lib.bomrl import AlgConfig
    from lib.envs.frozen_lake import check_distribution

    for r in cfg.goal_radii:
        check_distribution(r, cfg.n_holes)
    if not 0 < cfg.gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {cfg.gamma}")
    ks = list(cfg.checkpoints)
    if not ks or ks[0] < 0 or ks != sorted(set(ks)):
        raise ValueError(f"checkpoints must be increasing non-negative integers, got {cfg.checkpoints}")
    for name in ("n_train_tasks", "n_test_tasks", "batch_size", "n_seeds"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.n_adapt_steps < 1:
        raise ValueError(f"n_adapt_steps must be >= 1, got {cfg.n_adapt_steps}")
    if not cfg.lr > 0 or not cfg.temperature > 0:
        raise ValueError(f"lr and temperature must be > 0, got {cfg.lr}, {cfg.temperature}")
    AlgConfig("kl", lam=cfg.lam_kl)
    AlgConfig("euclidean", lam=cfg.lam_euclidean)
    AlgConfig("kl_constrained", delta=cfg.delta)


def _validate_locomotion(cfg) -> None:
    from lib.envs.locomotion import check_family
    from lib.locomotion_study import check_method
    from lib.policies import check_arch

    for fam in cfg.families:
        check_family(fam)
    for m in cfg.methods:
        check_method(m)
    check_arch(cfg.arch)
    for name in ("horizon", "meta_batch", "n_traj", "n_test_tasks", "n_adapt_steps", "n_seeds"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    ks = list(cfg.checkpoints)
    if not ks or ks[0] < 0 or ks != sorted(set(ks)) or ks[-1] != cfg.n_iters:
        raise ValueError(f"checkpoints must be increasing non-negative integers ending at "
                         f"n_iters={cfg.n_iters}, got {cfg.checkpoints}")


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
