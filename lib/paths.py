"""Root-anchored paths, so no notebook depends on its working directory.

Quick-profile outputs go to the gitignored ``data/quick/`` and ``figures/quick/``;
full-profile tables go to ``data/full/`` and their figures to ``figures/`` (both in git).
"""
from __future__ import annotations

import os
from pathlib import Path

PROFILES = ("quick", "full")
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIGURES = ROOT / "figures"


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is ``quick`` or ``full``, else raise a ValueError naming it."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def data_dir(profile: str, stage: str) -> Path:
    """Folder of one notebook stage's tables, e.g. ``data/quick/02_trpo_vs_xtrpo``. Created."""
    path = DATA / check_profile(profile) / stage
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_root() -> Path:
    """Folder of the gitignored checkpoints: ``data/cache``, or ``$STUDY_CACHE_ROOT`` if set
    (the test suite uses a fresh one to re-execute the notebooks under other code paths)."""
    return Path(os.environ["STUDY_CACHE_ROOT"]) if os.environ.get("STUDY_CACHE_ROOT") else DATA / "cache"


def cache_dir(profile: str, stage: str) -> Path:
    """Per-run checkpoints of a stage (gitignored), so an interrupted run resumes."""
    path = cache_root() / check_profile(profile) / stage
    path.mkdir(parents=True, exist_ok=True)
    return path


def resume_dir(profile: str, stage: str) -> Path:
    """Checkpoints that must outlive a fresh checkout. Created.

    For the full profile they are committed under ``data/full/<stage>/checkpoints/``, so a run
    longer than one sitting (notebook 11: hours) resumes on another clone or machine and a
    finished run re-executes its notebook in seconds; for the quick profile it is :func:`cache_dir`.
    """
    if check_profile(profile) == "quick":
        return cache_dir(profile, stage)
    path = DATA / "full" / stage / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    return path


def require(profile: str, *files: str) -> None:
    """Stop with a clear message if a table another notebook writes is missing.

    Args:
        files: paths below ``data/<profile>/``, e.g. ``"05_fqi_validation/chosen.csv"``; the
            first folder names the notebook that writes the file.
    Raises:
        FileNotFoundError: naming the missing files and the notebooks to run first.
    """
    missing = [f for f in files if not (DATA / check_profile(profile) / f).exists()]
    if missing:
        stages = sorted({f.split("/")[0] for f in missing})
        only = ",".join(s[:2] for s in stages)
        raise FileNotFoundError(
            f"this notebook needs {', '.join(f'data/{profile}/{f}' for f in missing)}: run notebook(s) "
            f"{', '.join(stages)} first with the same profile ({profile}), e.g. "
            f"python tools/run_notebooks.py --profile {profile} --only {only}")


def figure_path(profile: str, name: str) -> Path:
    """PNG path of a figure: ``figures/<name>.png`` (full) or ``figures/quick/<name>.png``."""
    folder = FIGURES if check_profile(profile) == "full" else FIGURES / "quick"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
