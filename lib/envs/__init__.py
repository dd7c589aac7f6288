"""Environments of both papers.

Paper 1: Elikoeidis, Minigolf, Cartpole, registered here by name. Paper 2: Frozen Lake task
distributions (:mod:`.frozen_lake`) and MuJoCo locomotion families (:mod:`.locomotion`;
:mod:`.mujoco_batch` steps HalfCheetah on bare MuJoCo for the authors' protocol).

``get_spec(name)`` returns the :class:`~lib.envs.spec.EnvSpec` the algorithms use;
``make(name, task=None)`` returns the Gymnasium environment.
"""
from __future__ import annotations

from lib.envs import cartpole, elikoeidis, minigolf
from lib.envs.cartpole import Cartpole
from lib.envs.elikoeidis import Elikoeidis
from lib.envs.minigolf import Minigolf
from lib.envs.spec import EnvSpec

ENV_NAMES = ("elikoeidis", "minigolf", "cartpole")
_SPECS = {"elikoeidis": elikoeidis.SPEC, "minigolf": minigolf.SPEC, "cartpole": cartpole.SPEC}
_CLASSES = {"elikoeidis": Elikoeidis, "minigolf": Minigolf, "cartpole": Cartpole}


def check_env_name(name: str) -> str:
    """Return ``name`` if it is a known environment, else raise a ValueError naming it."""
    if name not in _SPECS:
        raise ValueError(f"unknown environment {name!r}; choose one of {', '.join(ENV_NAMES)}")
    return name


def get_spec(name: str) -> EnvSpec:
    """The batched-path description of environment ``name``."""
    return _SPECS[check_env_name(name)]


def make(name: str, task=None):
    """A Gymnasium env for ``name`` with ``task`` (default: the paper's default task)."""
    cls = _CLASSES[check_env_name(name)]
    return cls() if task is None else cls(task)


__all__ = ["ENV_NAMES", "EnvSpec", "get_spec", "make", "check_env_name",
           "Elikoeidis", "Minigolf", "Cartpole"]
