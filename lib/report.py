"""What a notebook prints about itself at the end: versions and wall time."""
from __future__ import annotations

import platform
import time
from importlib.metadata import PackageNotFoundError, version

import lib

PACKAGES = ("numpy", "pandas", "scipy", "scikit-learn", "torch", "gymnasium", "mujoco")


def watermark(packages=PACKAGES) -> str:
    """``python X | numpy Y | ...`` and the wall time since this kernel first imported ``lib``
    (a notebook's first code cell after its parameters: the notebook's wall time when it is
    run top to bottom), in seconds."""
    parts = [f"python {platform.python_version()}"]
    for name in packages:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return " | ".join(parts) + f"\nwall time since lib was imported: {time.perf_counter() - lib.IMPORTED_AT:.1f} s"
