"""Field checks shared by every stage's config (each wing's ``config`` module calls them in
``__post_init__``): a field is checked against the kind and sign of its default, so a bad
value raises a ValueError that names the field and the value.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import MISSING, fields

NON_NEGATIVE = {"seed", "n_holes", "select_after"}  # integer fields that may be 0; every other count must be >= 1
ZERO_OK_LISTS = {"checkpoints", "goal_radii", "arch"}  # integer lists whose entries may be 0
FREE_FIELDS = {"profile", "policy_init", "kl_extra"}  # checked by their config's own rule


def default_n_jobs() -> int:
    """Parallel workers: ``$STUDY_N_JOBS`` if set, else the number of cores."""
    text = os.environ.get("STUDY_N_JOBS", "")
    if not text:
        return os.cpu_count() or 1
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"STUDY_N_JOBS must be an integer >= 1, got {text!r}")
    return int(text)


def default(f):
    """The default value of dataclass field ``f``."""
    return f.default_factory() if f.default_factory is not MISSING else f.default


def is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_int(name: str, value, low: int) -> None:
    if not is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")


def check_float(name: str, value) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def check_positive(cfg, *names: str) -> None:
    """Each named field of ``cfg`` is > 0."""
    for name in names:
        if not getattr(cfg, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(cfg, name)}")


def check_list(name: str, value, default_value: tuple) -> None:
    """A non-empty list without duplicates whose entries have the kind of the default's first."""
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"{name} must be a list, got {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    elem = default_value[0] if default_value else None
    for k, v in enumerate(value):
        if isinstance(elem, float):
            check_float(f"{name}[{k}]", v)
        elif is_int(elem):
            check_int(f"{name}[{k}]", v, 0 if name in ZERO_OK_LISTS else 1)
        elif isinstance(elem, str) and not isinstance(v, str):
            raise ValueError(f"{name}[{k}] must be a name, got {v!r}")
    if name != "arch":
        seen = [tuple(v) if isinstance(v, (list, tuple)) else v for v in value]
        dup = sorted({repr(v) for v in seen if seen.count(v) > 1})
        if dup:
            raise ValueError(f"{name} has duplicate values {', '.join(dup)}")


def check_field(name: str, value, default_value) -> None:
    """Raise a ValueError naming ``name`` if ``value`` is not of the kind of ``default_value``."""
    if isinstance(default_value, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    elif is_int(default_value):
        check_int(name, value, 0 if name in NON_NEGATIVE else 1)
    elif isinstance(default_value, float):
        check_float(name, value)
    elif isinstance(default_value, str):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string, got {value!r}")
    elif isinstance(default_value, tuple):
        check_list(name, value, default_value)


def check_fields(cfg, keys: tuple = ()) -> None:
    """Every field of ``cfg`` against the kind of its default. A mapping field (per environment
    or family) must hold an entry for each of ``keys``, each checked like the default's entries."""
    for f in fields(cfg):
        if f.name in FREE_FIELDS:
            continue
        value, dflt = getattr(cfg, f.name), default(f)
        if not isinstance(dflt, dict):
            check_field(f.name, value, dflt)
            continue
        if not isinstance(value, dict):
            raise ValueError(f"{f.name} must be a mapping per environment, got {value!r}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise ValueError(f"{f.name} has no value for {', '.join(missing)}")
        sample = next(iter(dflt.values()))
        for k in keys:
            if isinstance(sample, tuple):
                if not value[k]:
                    raise ValueError(f"{f.name}[{k}] must not be empty")
            else:
                check_field(f"{f.name}[{k}]", value[k], sample)


def check_checkpoints(name: str, checkpoints, last_name: str | None = None, last: int | None = None) -> None:
    """Meta-test iterations: increasing, non-negative (and ending at ``last`` when given)."""
    ks = list(checkpoints)
    if not ks or ks[0] < 0 or ks != sorted(set(ks)) or (last is not None and ks[-1] != last):
        end = f" ending at {last_name}={last}" if last is not None else ""
        raise ValueError(f"{name} must be increasing non-negative integers{end}, got {checkpoints}")
