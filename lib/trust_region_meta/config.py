"""Paper 1's configs (notebooks 01-09): the fields of each stage with one docstring line per
field, checked in ``__post_init__`` (:mod:`lib.config` by the kind of each default, then the
rules below). :mod:`lib.profiles` holds the quick and full sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lib.config import check_fields, check_list, default_n_jobs
from lib.envs import check_env_name
from lib.policies import check_arch
from lib.trpo import check_algo, check_kl_bound
from lib.trust_region_meta.fqi import check_fqi_params

KL_GRID_PAPER = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0)
# Elikoeidis' fixed-λ return still rises at λ = 1, the top of the grid above (final return 33.5 at 0.5,
# 64 at 1, 124-138 at 2; at 5 runs diverge to |J| ~ 1e2-1e3 with a negative mean; 30 runs each):
# so that its best fixed λ is not the grid's edge, its Λ also holds 2 and 5 (the paper gives no Λ).
KL_EXTRA = {"elikoeidis": (2.0, 5.0)}


def _check_paper1(cfg) -> None:
    """The rules the sweep and meta configs share: environment names, each field's kind, λ grids, N >= 2."""
    check_list("envs", cfg.envs, ("",))
    for env in cfg.envs:
        check_env_name(env)
    check_fields(cfg, cfg.envs)
    for kl in cfg.kl_grid:
        check_kl_bound(kl, name="kl_grid")
    if not isinstance(cfg.kl_extra, dict) or not all(isinstance(v, tuple) for v in cfg.kl_extra.values()):
        raise ValueError(f"kl_extra must map an environment to a tuple of λ, got {cfg.kl_extra!r}")
    for env, extra in cfg.kl_extra.items():
        for kl in extra:
            check_kl_bound(kl, name=f"kl_extra[{env}]")
    for env in cfg.envs:
        if cfg.n_traj[env] < 2:
            raise ValueError(f"n_traj[{env}] must be >= 2 (metafeatures compare two batches), got {cfg.n_traj[env]}")


def _lambdas(grid, extra, env: str) -> tuple:
    return tuple(sorted(set(grid) | set(extra.get(env, ()))))


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

    def __post_init__(self):
        check_fields(self)
        if self.n_traj < 2:
            raise ValueError(f"n_traj must be >= 2 (a return variance needs two trajectories), got {self.n_traj}")


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

    def __post_init__(self):
        _check_paper1(self)
        check_arch(self.arch, name="arch")
        for algo in self.algos:
            check_algo(algo)
        if self.split not in ("test", "val", "fresh"):
            raise ValueError(f"split must be 'test', 'val' or 'fresh', got {self.split!r}")
        if self.policy_init and (len(self.policy_init) != 2 or not self.policy_init[1] > 0):
            raise ValueError(f"policy_init must be () or (mean0, std0 > 0), got {self.policy_init!r}")

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

    def __post_init__(self):
        _check_paper1(self)
        if len(self.kl_range) != 2 or not 0 < self.kl_range[0] < self.kl_range[1]:
            raise ValueError(f"kl_range must be (low, high) with 0 < low < high, got {self.kl_range}")
        for h in self.fqi_horizons:
            for psi in self.fqi_min_leaves:
                check_fqi_params(h, psi)
        for env in self.envs:
            for a in self.train_archs[env]:
                check_arch(a, name=f"train_archs[{env}]")
        for name in ("fig2_archs", "fig3_archs"):
            for a in getattr(self, name):
                check_arch(a, name=name)
        if self.max_points < 10:
            raise ValueError(f"max_points must be >= 10 (k-NN sets), got {self.max_points}")

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
