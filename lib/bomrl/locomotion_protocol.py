"""Paper 2's locomotion experiment as data: our protocol and the authors' (``AUTHORS = replace(OURS,
…)``, as rl-baselines3-zoo overrides a default block), every constant with its source.

Sources: "R1" is the authors' code, ``xsy786912649/Bilevel-optimization-MRL`` at commit 08feaa5
(``BOMRL_my/`` for BO-MRL, ``MAML_my/`` for their MAML-TRPO); ``docs/paper2_provenance.md`` and ``../shared/research/paper2_authors_protocol.md``
cite file and line. "ours" marks our own choice where the paper gives no value.

BO-MRL's λ lives here once per protocol; a notebook sets it through its config (``lam_kl``,
``lam_euclidean``), whose defaults are these values. This module imports no study.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

TAIL_SOURCES = ("continuation", "own")
SOLVERS = ("lbfgs", "adam")
FAMILIES = ("halfcheetah-vel", "halfcheetah-dir", "ant-vel", "ant-dir")


@dataclass(frozen=True)
class LocomotionProtocol:
    """How a locomotion experiment samples, adapts and steps (notebooks 11 and 13).

    Attributes:
        name: ``"ours"`` or ``"authors"``. stream: prefix of its random streams (``lib.seeding``).
        environment: ``"gymnasium"`` (Gymnasium v5 tasks, :mod:`lib.envs.locomotion`) or
            ``"batch"`` (their Gym v4 Half-cheetah, :class:`lib.envs.mujoco_batch.HalfCheetahBatch`).
        families: the task families it defines. goals: ``"drawn"`` (training and test goals drawn
            per family, :func:`lib.envs.locomotion.sample_tasks`) or ``"authors"`` (velocity U[0, 2],
            their direction list, their fixed test goals).
        solver: Alg's inner solver: ``"lbfgs"`` (exact maximiser, implicit meta-gradient, outer
            natural step: :mod:`.sampled`) or ``"adam"`` (their 50 Adam steps, smooth ratio, their
            meta-gradient and outer step: :mod:`.sampled_adam`).
        lam_kl, lam_euclidean: λ of Alg(1)/Alg(2) and of Alg(3). delta: KL radius of our
            KL-constrained variant.
        hidden, layers, out_scale, log_std0: their policy (``"adam"`` solver; ours: the config's ``arch``).
        gamma: discount. horizon: steps per trajectory. tail: continue each trajectory ``horizon``
            more steps for the return's tail; tail_source: ``"continuation"`` (their HEAD) or
            ``"own"`` (their scripts before ``1784ed7``). obs_clip, warmup: their observation
            filter's clip and warm-up episodes per trajectory of a batch.
        inner_steps, inner_lr, max_distance: the Adam solver. cg_iters, cg_damping: its implicit
            system and outer step. max_kl / maml_max_kl: outer KL bound per family of BO-MRL / of
            the MAML baselines. promp_normalize_adv: ProMP standardises each task's advantages as
            its own code does. maml_lr: MAML's inner step; maml_later_lr: the authors' MAML-TRPO's
            step after the first at meta-test (:mod:`.maml_authors`). outer_kl_check: the outer line search
            also rejects candidates with KL > max_kl. dtype: of policies and data (``"adam"`` solver).
    """

    name: str = "ours"
    stream: str = "loco"
    environment: str = "gymnasium"
    families: tuple = FAMILIES
    goals: str = "drawn"
    solver: str = "lbfgs"
    lam_kl: float = 10.0  # ours: mean KL of the adapted policy ~1e-3 at notebook 11's initial policy
    lam_euclidean: float = 5.0  # ours: MAML's alpha = 1 / (2 λ) = 0.1
    delta: float = 0.01  # ours (KL-constrained variant)
    hidden: int = 128
    layers: int = 2
    out_scale: float = 0.1
    log_std0: float = -0.7
    gamma: float = 0.99  # ours (MAML / ProMP practice)
    horizon: int = 200
    tail: bool = False
    tail_source: str = "continuation"
    obs_clip: float = 5.0
    warmup: int = 5
    inner_steps: int = 50
    inner_lr: float = 1e-3
    max_distance: float = 3.0
    cg_iters: int = 10
    cg_damping: float = 0.0
    max_kl: dict = field(default_factory=lambda: dict.fromkeys(FAMILIES, 0.01))  # ours: MAML-TRPO's delta
    maml_max_kl: dict = field(default_factory=lambda: dict.fromkeys(FAMILIES, 0.01))  # MAML / ProMP scripts
    maml_lr: float = 0.1  # MAML / ProMP scripts
    maml_later_lr: float = 0.05  # R1 MAML_my/test_HalfCheetah_*.py: lr = meta_lr * 0.5 after the first step
    outer_kl_check: bool = False
    promp_normalize_adv: bool = False  # ProMP standardises each task's advantages (its run scripts)
    dtype: str = "float32"

    def __post_init__(self):
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.tail_source not in TAIL_SOURCES:
            raise ValueError(f"tail_source must be one of {', '.join(map(repr, TAIL_SOURCES))}, got {self.tail_source!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, got {self.solver!r}")
        for name in ("lam_kl", "lam_euclidean", "delta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    def lam_for(self, metric: str) -> float:
        """λ of the Alg with regulariser ``metric`` (``lam_euclidean`` for Alg(3), else ``lam_kl``)."""
        return self.lam_euclidean if metric == "euclidean" else self.lam_kl

    def check_family(self, name: str) -> str:
        if name not in self.families:
            raise ValueError(f"unknown family {name!r} for the {self.name} protocol; choose one of "
                             f"{', '.join(self.families)}")
        return name


LOCOMOTION_OURS = LocomotionProtocol()

LOCOMOTION_AUTHORS = replace(
    LOCOMOTION_OURS,
    name="authors", stream="authors-loco",
    environment="batch",  # R1 train_trpo_{HalfCheetah,Ant}_{vel,dir}.py: Gym 0.26 HalfCheetah-v4 / Ant-v4, 200 steps
    families=FAMILIES,
    goals="authors",  # R1: velocity U[0, 2]; directions -1, +1, -1, +1; test 0.0 … 1.9 and ±1
    solver="adam",  # R1 one_step_trpo: 50 Adam steps (lr 1e-3), stop once D^2 > 3
    lam_kl=0.5, lam_euclidean=0.5,  # R1 train_trpo_HalfCheetah_*.py: one λ for Alg(1)-(3)
    gamma=0.995,  # R1 train_trpo_HalfCheetah_*.py --gamma
    tail=True,  # R1: each trajectory continues 200 more steps that only supply the return's tail
    max_kl={"halfcheetah-vel": 1e-2, "halfcheetah-dir": 3e-2,  # R1 BOMRL_my/train_trpo_*.py --max-kl
            "ant-vel": 1e-2, "ant-dir": 1e-2},
    maml_max_kl={"halfcheetah-vel": 1e-2, "halfcheetah-dir": 3e-3,  # R1 MAML_my/train_trpo_*.py --max-kl
                 "ant-vel": 3e-3, "ant-dir": 3e-3},
    # ProMP has no code in their repositories; its constants are ProMP's own, set for standardised
    # advantages (jonasrothfuss/ProMP run scripts: normalize_adv=True, per task), so it standardises the
    # authors' centred returns as ProMP's sample processor would (ours are standardised by our sampler)
    promp_normalize_adv=True,
)
DIR_TASKS = (-1.0, 1.0, -1.0, 1.0)  # R1 train_trpo_{HalfCheetah,Ant}_dir.py: the fixed direction list
VEL_GOAL_HIGH = {"halfcheetah-vel": 2.0, "ant-vel": 3.0}  # R1 setting_reward: U[0, 2] / U[0, 3]
# R1 test_{HalfCheetah,Ant}_{vel,dir}.py: target_v = 0.1 k for k in range(20) / range(30), and +1, -1
TEST_TASKS = {"halfcheetah-vel": tuple(round(0.1 * k, 1) for k in range(20)), "halfcheetah-dir": (1.0, -1.0),
              "ant-vel": tuple(round(0.1 * k, 1) for k in range(30)), "ant-dir": (1.0, -1.0)}
# R1 train_trpo_*.py (BOMRL_my/ and MAML_my/): target_v_list000, the goals of the
# evaluation after every outer step whose best-so-far policy their test scripts load
EVAL_TASKS = {"halfcheetah-vel": (0.1, 0.3, 0.5, 0.7, 1.0, 1.3, 1.5, 1.7, 1.9), "halfcheetah-dir": (-1.0, 1.0),
              "ant-vel": (0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7), "ant-dir": (-1.0, 1.0)}
# per robot, the reward beside the goal term (R1 sample_data_for_task_specific): HalfCheetah -0.05 ||a||^2;
# Ant +0.05 + reward_survive + 0.01 reward_ctrl = +1.05 - 0.005 ||a||^2 (Gym v4's Ant pays survive = 1.0 at
# every step while it terminates when unhealthy, which their loop ignores; ctrl = -0.5 ||a||^2; no contact cost)
CTRL_COST = {"halfcheetah": 0.05, "ant": 0.005}
ALIVE_BONUS = {"halfcheetah": 0.0, "ant": 1.05}  # R1: -0.05 ||a||^2 in both rewards


def locomotion(name: str, **overrides) -> LocomotionProtocol:
    """The locomotion protocol ``"ours"`` or ``"authors"`` with ``overrides`` (a config's sizes and λ)."""
    base = {"ours": LOCOMOTION_OURS, "authors": LOCOMOTION_AUTHORS}
    if name not in base:
        raise ValueError(f"unknown protocol {name!r}; choose 'ours' or 'authors'")
    return replace(base[name], **overrides)
