"""Paper 2's configs (notebooks 10-13): the fields of each stage with one docstring line per
field, checked in ``__post_init__`` (:mod:`lib.config` by the kind of each default, then the
rules below). :mod:`lib.profiles` holds the quick and full sizes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from lib.bomrl import methods
from lib.bomrl.frozen_lake_protocol import FROZEN_LAKE_AUTHORS as Protocol
from lib.bomrl.locomotion_protocol import FAMILIES, LOCOMOTION_AUTHORS, LOCOMOTION_OURS
from lib.bomrl.exact import AlgConfig
from lib.config import check_checkpoints, check_fields, check_positive, default_n_jobs
from lib.envs.frozen_lake import check_distribution


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

    def __post_init__(self):
        check_fields(self)
        for r in self.goal_radii:
            check_distribution(r, self.n_holes)
        if not 0 < self.gamma < 1:
            raise ValueError(f"gamma must be in (0, 1), got {self.gamma}")
        check_checkpoints("checkpoints", self.checkpoints)
        check_positive(self, "lr", "temperature", "lam_kl", "lam_euclidean", "delta")
        AlgConfig("kl", lam=self.lam_kl)
        AlgConfig("euclidean", lam=self.lam_euclidean)
        AlgConfig("kl_constrained", delta=self.delta)

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
        sgd_steps, sgd_lr: their Alg(1) solver. kl_count: times their Alg(1) loss counts the KL (their
            code 4; the paper's loss 1, run beside it). pg_step: their "MAML" step.
        n_adapt_steps: adaptation steps at meta-test. lam_scale: multiplies their training and test
            λ (1 = theirs; :meth:`.frozen_lake_protocol.FrozenLakeProtocol.test_lam`).
        n_heldout: held-out maps per kind. n_jobs: parallel workers.
    """

    profile: str
    seed: int = 0
    kinds: tuple = ("hole", "nohole")
    n_seeds: int = 10
    n_iters: int = Protocol.n_iters  # the protocol's sizes and step sizes: their values, one source
    batch_size: int = Protocol.batch_size
    lr: float = Protocol.lr
    episodes: int = Protocol.episodes
    length: int = Protocol.length
    td_step: float = Protocol.td_step
    sgd_steps: int = Protocol.sgd_steps
    sgd_lr: float = Protocol.sgd_lr
    kl_count: int = Protocol.kl_count
    pg_step: float = Protocol.pg_step
    n_adapt_steps: int = Protocol.n_adapt_steps
    lam_scale: float = Protocol.lam_scale
    n_heldout: int = 20
    n_jobs: int = field(default_factory=default_n_jobs)

    def __post_init__(self):
        check_fields(self)
        for kind in self.kinds:
            if kind not in ("hole", "nohole"):
                raise ValueError(f"kinds: unknown kind {kind!r}; choose 'hole' or 'nohole'")
        check_positive(self, "lr", "td_step", "sgd_lr", "pg_step", "lam_scale")


    def summary(self) -> str:
        return (f"profile={self.profile} seed={self.seed} kinds={list(self.kinds)} seeds={self.n_seeds}\n"
                f"{self.n_iters} meta-iterations x {self.batch_size} maps, Adam {self.lr}; data {self.episodes} episodes x "
                f"{self.length} steps, TD step {self.td_step}; Alg(1) {self.sgd_steps} SGD steps of {self.sgd_lr}, KL x{self.kl_count}; "
                f"PG step {self.pg_step}; {self.n_adapt_steps} adaptation steps; {self.n_heldout} held-out maps; "
                f"λ x{self.lam_scale} of theirs")


@dataclass(frozen=True)
class LocomotionConfig:
    """Paper 2's locomotion experiment (notebook 11), at a reduced scale (see the notebook).

    Attributes:
        families: task families (``lib.envs.locomotion.FAMILIES``).
        methods: BO-MRL's Alg and the gradient-based baselines (:data:`lib.bomrl.methods.LOCOMOTION`).
        arch: policy MLP ``(hidden layers, width)``. horizon: episode length.
        meta_batch: tasks per meta-iteration. n_traj: trajectories per task and policy.
        n_iters: meta-iterations. checkpoints: iterations at which the meta-policy is
            meta-tested (trend with the number of meta-iterations).
        n_test_tasks: fresh test tasks per (family, seed). n_adapt_steps: adaptation steps
            at meta-test (new data each step).
        n_seeds: independent repetitions. lam_kl, lam_euclidean: λ of Alg(1)/(2) and of Alg(3)
            (:data:`lib.bomrl.locomotion_protocol.LOCOMOTION_OURS`). n_workers: Dask workers (local processes).
        scheduler: address of a running Dask scheduler ("" = start a local cluster).
    """

    profile: str
    seed: int = 0
    families: tuple = ("halfcheetah-vel", "halfcheetah-dir", "ant-vel", "ant-dir")
    methods: tuple = ("Alg(1)", "Alg(3)", "KL-constrained (ours)",
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
    lam_kl: float = LOCOMOTION_OURS.lam_kl
    lam_euclidean: float = LOCOMOTION_OURS.lam_euclidean
    n_workers: int = field(default_factory=default_n_jobs)
    scheduler: str = ""
    PROTOCOL: ClassVar[str] = "ours"

    def __post_init__(self):
        check_fields(self)
        from lib.envs.locomotion import check_family  # loads MuJoCo (~0.5 s): only a locomotion config needs it

        for fam in self.families:
            check_family(fam)
        for m in self.methods:
            methods.check_method(m)
        check_positive(self, "lam_kl", "lam_euclidean")
        check_checkpoints("checkpoints", self.checkpoints, "n_iters", self.n_iters)

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
    """Paper 2's locomotion experiment on its authors' protocol (:mod:`lib.bomrl.locomotion_study`).

    Attributes:
        families: ``halfcheetah-vel``, ``halfcheetah-dir`` (default), ``ant-vel``, ``ant-dir``. methods:
            ``Alg(1)``-``Alg(3)`` and the baselines (:data:`lib.bomrl.methods.LOCOMOTION_AUTHORS`).
        meta_batch: tasks per meta-iteration per family (theirs: 10 velocity, 4 direction).
        n_traj: trajectories per task before adaptation, per family (theirs 20; Ant direction 40); post_factor: after
            adaptation, that many times more (theirs 5). horizon: steps per trajectory;
            tail: continue each trajectory as long again for the return's tail (theirs: yes).
        n_iters: meta-iterations per family (theirs 500). checkpoints: per family, the iterations
            with a meta-test on their fixed goals (0.0, 0.1 ... 1.9 or 2.9, or +1 and -1) with
            0..n_adapt_steps adaptation steps; the last is ``n_iters``.
        best_so_far: also keep the best-so-far policy on the authors' evaluation after every outer
            step beyond iteration ``select_after`` (:func:`lib.bomrl.locomotion_study.training_evaluation`;
            their test scripts load that policy) and meta-test it at the end (table ``selected``).
        n_seeds: independent repetitions (theirs 1). lam_kl, lam_euclidean: λ of Alg(1)/(2) and of
            Alg(3) (theirs 0.5 for all: :data:`lib.bomrl.locomotion_protocol.LOCOMOTION_AUTHORS`).
            n_workers, scheduler: as notebook 11's.
    """

    profile: str
    seed: int = 0
    families: tuple = ("halfcheetah-vel", "halfcheetah-dir")
    methods: tuple = ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO", "ProMP", "E-MAML-TRPO")
    # R1 train_trpo_*.py --task-batch-size and --batch-size
    meta_batch: dict = field(default_factory=lambda: {"halfcheetah-vel": 10, "halfcheetah-dir": 4, "ant-vel": 10, "ant-dir": 4})
    n_traj: dict = field(default_factory=lambda: {"halfcheetah-vel": 20, "halfcheetah-dir": 20, "ant-vel": 20, "ant-dir": 40})
    post_factor: int = 5
    horizon: int = 200
    tail: bool = True
    # Half-cheetah: about 12 h of the 2 cores in all (benchmarks/profile_authors_iteration.py, float32, x 1.5 for
    # two workers); Ant's physics costs 4-8x as much (a cluster's run: docs/paper2_bomrl.md)
    n_iters: dict = field(default_factory=lambda: dict.fromkeys(FAMILIES, 120))
    checkpoints: dict = field(default_factory=lambda: dict.fromkeys(FAMILIES, (0, 40, 80, 120)))
    n_adapt_steps: int = 3
    best_so_far: bool = False
    select_after: int = 0
    n_seeds: int = 2
    lam_kl: float = LOCOMOTION_AUTHORS.lam_kl
    lam_euclidean: float = LOCOMOTION_AUTHORS.lam_euclidean
    n_workers: int = field(default_factory=default_n_jobs)
    scheduler: str = ""
    PROTOCOL: ClassVar[str] = "authors"

    def __post_init__(self):
        for fam in self.families:
            LOCOMOTION_AUTHORS.check_family(fam)
        check_fields(self, self.families)
        for m in self.methods:
            methods.check_name("method", m, methods.LOCOMOTION_AUTHORS)
        check_positive(self, "lam_kl", "lam_euclidean")
        for fam in self.families:
            check_checkpoints(f"checkpoints[{fam}]", self.checkpoints[fam], f"n_iters[{fam}]", self.n_iters[fam])

    def summary(self) -> str:
        per_family = "; ".join(f"{f}: {self.n_iters[f]} meta-iterations, meta-test at {list(self.checkpoints[f])}"
                               for f in self.families)
        return (f"profile={self.profile} seed={self.seed} families={list(self.families)} "
                f"methods={list(self.methods)}\nmeta-batch {dict(self.meta_batch)} tasks x {self.n_traj} "
                f"trajectories (x {self.post_factor} after adaptation), horizon {self.horizon}"
                f"{' + tail' if self.tail else ''}, {self.n_adapt_steps} adaptation steps at test, {self.n_seeds} seeds"
                f"\n{per_family}\nDask: {self.scheduler or f'local cluster of {self.n_workers} workers'}")
