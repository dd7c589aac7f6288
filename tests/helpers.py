"""Module-level helpers for tests (joblib workers must be able to import them)."""
import os
from pathlib import Path


def square_and_log(x: int, log_dir: str, fail_on: int = -1):
    """Return x*x; append x to a per-call log file; raise for x == fail_on (an 'interrupt')."""
    if x == fail_on:
        raise KeyboardInterrupt(f"interrupted at {x}")
    Path(log_dir, f"{x}.{os.getpid()}.{os.urandom(4).hex()}").touch()
    return x * x


def sample_returns(family: str, seed: int, n_tasks: int = 3) -> list:
    """Mean returns of a tiny locomotion sample (a job for the 2-thread Dask worker test)."""
    import numpy as np

    from lib.bomrl import functional_policy as fp
    from lib.bomrl.locomotion_study import dims
    from lib.bomrl.sampler import sample

    obs_dim, act_dim = dims(family)
    phi = fp.init_params(obs_dim, act_dim, (1, 8), seed=seed)
    data, _ = sample(family, phi, np.linspace(0.5, 1.5, n_tasks), 2, seed=seed, horizon=30)
    return [float(d.returns.mean()) for d in data]


def torch_threads(i: int) -> int:
    """The torch thread count a job sees (``i`` only makes the jobs distinct)."""
    import torch

    return torch.get_num_threads()


class Interrupted(Exception):
    """Raised by :func:`interrupt_after` where a kill would stop an item."""


def interrupt_after(n_writes: int):
    """A context in which a meta-training item stops right after its ``n_writes``-th checkpoint
    write (as a kill between two iterations would), by raising :class:`Interrupted`."""
    import contextlib

    from lib.bomrl import meta_items

    @contextlib.contextmanager
    def context():
        real, count = meta_items.write_checkpoint, [0]

        def write(*args, **kwargs):
            real(*args, **kwargs)
            count[0] += 1
            if count[0] >= n_writes:
                raise Interrupted(f"stopped after {n_writes} checkpoint writes")
        meta_items.write_checkpoint = write
        try:
            yield
        finally:
            meta_items.write_checkpoint = real
    return context()


def load_script(path: str):
    """The module of a script of this repository that is not a package (``tools/``, ``fidelity/``),
    loaded from ``path`` relative to the repository root, under its file's stem."""
    import importlib.util
    file = Path(__file__).resolve().parent.parent / path
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
