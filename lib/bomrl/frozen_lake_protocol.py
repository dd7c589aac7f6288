"""Paper 2's Frozen Lake experiment as its authors ran it, as data (notebook 12): every constant
with its source. R1 is the authors' code, ``xsy786912649/Bilevel-optimization-MRL`` at commit
08feaa5, folder ``BOMRL_discrete_my/``; ``docs/paper2_provenance.md`` cites file and line. This
module imports no study.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FrozenLakeProtocol:
    """The authors' Frozen Lake protocol (notebook 12; R1 ``BOMRL_discrete_my/``).

    Attributes:
        n_iters, batch_size, lr, init: meta-training (Adam) and the logits' initial value.
        episodes, length, td_step: one data collection (episodes x steps) and its TD(0) step.
        sgd_steps, sgd_lr: their Alg(1) solver. kl_count: how many times Alg(1)'s loss counts the KL
            (the paper's loss: 1; their code's: 4, :func:`.tabular_sampled.adapt`). pg_step: their "MAML" step.
        n_adapt_steps: adaptation steps at meta-test.
        lam_scale: our knob (1 = theirs): multiplies their training and test λ (:data:`TRAIN_LAM`,
            :data:`TEST_LAM`), so a notebook can move BO-MRL's λ without editing their values.
    """

    n_iters: int = 150  # R1 train.py
    batch_size: int = 5  # R1 train.py: 5 maps per iteration
    lr: float = 0.03  # R1 train.py: Adam
    init: float = 0.1  # R1 train.py: logits 16 x 4 at 0.1
    episodes: int = 500  # R1 extra_function.py sample_trajectorie
    length: int = 49
    td_step: float = 0.3
    sgd_steps: int = 20  # R1 one_step_adaptation, d_i == 1
    sgd_lr: float = 0.6
    kl_count: int = 4  # R1 train.py one_step_adaptation: torch.sum(-π·A/λ + KL_1(...)), KL_1 a scalar
    pg_step: float = 50.0  # R1 test_gd.py
    n_adapt_steps: int = 4  # R1 test.py
    lam_scale: float = 1.0  # our choice: their λ as they set it

    def train_lam(self, kind: str) -> float:
        """λ of meta-training on maps of ``kind``: theirs (:data:`TRAIN_LAM`) times ``lam_scale``."""
        return TRAIN_LAM[kind] * self.lam_scale

    def test_lam(self, kind: str, metric: str) -> float:
        """λ of Alg(1) (``metric="kl"``) or Alg(2) (``"kl_reverse"``) at meta-test: theirs
        (:data:`TEST_LAM`) times ``lam_scale``."""
        return TEST_LAM[(kind, metric)] * self.lam_scale


FROZEN_LAKE_AUTHORS = FrozenLakeProtocol()
FROZEN_LAKE_PAPER = replace(FROZEN_LAKE_AUTHORS, kl_count=1)  # the loss as the paper states it
KINDS = ("hole", "nohole")
GAMMA = 0.8  # R1 train.py
PENALTY = {"hole": -1.0, "nohole": -0.5}  # R1 extra_function.py / extra_function_nohole.py
TRAIN_LAM = {"hole": 5.0, "nohole": 4.0}  # R1 train.py / train_nohole.py
TEST_LAM = {("hole", "kl"): 0.1, ("hole", "kl_reverse"): 0.2, ("nohole", "kl"): 0.05,
            ("nohole", "kl_reverse"): 0.1}  # R1 test.py / test_nohole.py
RANDOM_INIT_FACTOR = {"hole": 2.0, "nohole": 10.0}  # R1 test*.py: θ = 0 adapted at λ x2 / x10
