"""The one registry of paper 2's methods and their labels (every locomotion table and figure).

BO-MRL's within-task algorithm is named as the authors name it, ``Alg(1)``-``Alg(3)``, by the
metric D of its regulariser; ``KL-constrained (ours)`` is our own extra variant; the gradient
baselines are those of the paper's figures.
"""
from __future__ import annotations

BOMRL = {"Alg(1)": "kl", "Alg(2)": "kl_reverse", "Alg(3)": "euclidean"}  # label -> metric D
OURS_ONLY = {"KL-constrained (ours)": "kl_constrained"}  # our variant: max J s.t. KL <= δ
GRADIENT = ("MAML-TRPO", "E-MAML-TRPO", "ProMP")
AUTHORS_MAML = "MAML-TRPO (authors)"  # their MAML_my (lib.bomrl.maml_authors): the authors' protocol only
BASELINES = (*GRADIENT, AUTHORS_MAML)  # every baseline BO-MRL is compared with
METRIC = {**BOMRL, **OURS_ONLY}
LOCOMOTION = (*BOMRL, *OURS_ONLY, *GRADIENT)  # every method our protocol can run
LOCOMOTION_AUTHORS = (*BOMRL, *BASELINES)  # every method the authors' protocol can run
EARLIER = {"Alg(1) KL": "Alg(1)", "Alg(2) reverse KL": "Alg(2)", "Alg(3) Euclidean": "Alg(3)",
           "BO-MRL (KL)": "Alg(1)", "BO-MRL (reverse KL)": "Alg(2)", "BO-MRL (Euclidean)": "Alg(3)",
           "BO-MRL (KL-constrained)": "KL-constrained (ours)"}  # labels of committed runs -> today's


def check_name(what: str, value, choices) -> str:
    """``value`` if it is one of ``choices``; else a ValueError naming ``what`` and the choices."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(map(str, choices))}")
    return value


def check_method(name: str) -> str:
    return check_name("method", name, LOCOMOTION)
