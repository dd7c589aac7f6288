"""Reproducible random streams.

Every random draw in the study comes from a generator derived from one root seed and a
key that names the work item (for example ``(seed, "02", env_id, run)``), through numpy's
``SeedSequence``. The same parameters therefore give the same numbers whatever the number
of parallel workers or the order in which work items run.
"""
from __future__ import annotations

import zlib

import numpy as np
import torch


def _key_to_int(part) -> int:
    if isinstance(part, (int, np.integer)):
        if part < 0:
            raise ValueError(f"seed key parts must be non-negative, got {part}")
        return int(part)
    return zlib.crc32(str(part).encode())  # stable across processes, unlike hash()


def seed_sequence(seed: int, *key) -> np.random.SeedSequence:
    """A SeedSequence for the root ``seed`` and a key of ints and strings."""
    return np.random.SeedSequence([_key_to_int(seed), *(_key_to_int(k) for k in key)])


def rng(seed: int, *key) -> np.random.Generator:
    """A numpy Generator for ``(seed, *key)``."""
    return np.random.default_rng(seed_sequence(seed, *key))


def torch_seed(seed: int, *key) -> int:
    """An int seed for torch initialisation derived from ``(seed, *key)``."""
    return int(seed_sequence(seed, *key).generate_state(1, dtype=np.uint32)[0])


def torch_generator(seed: int, *key) -> torch.Generator:
    """A torch Generator for ``(seed, *key)`` (CPU)."""
    gen = torch.Generator()
    gen.manual_seed(torch_seed(seed, *key))
    return gen
