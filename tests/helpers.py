"""Module-level helpers for tests (joblib workers must be able to import them)."""
import os
from pathlib import Path


def square_and_log(x: int, log_dir: str, fail_on: int = -1):
    """Return x*x; append x to a per-call log file; raise for x == fail_on (an 'interrupt')."""
    if x == fail_on:
        raise KeyboardInterrupt(f"interrupted at {x}")
    Path(log_dir, f"{x}.{os.getpid()}.{os.urandom(4).hex()}").touch()
    return x * x
