"""Which floating-point code paths run, pinned where that is cheap, and described in manifests.

Three independent library paths change the low bits of the study's results from one CPU to
another (``shared/research/cross_machine_numerics.md``; the probe ``tools/probe_numerics.py``):
MKL's code path (torch's matrix products), torch's ATen CPU capability (its vectorised
kernels) and OpenBLAS's kernel (numpy's and scipy's matrix products). :func:`pin` selects the
AVX2 path of all three, which every x86-64 CPU since 2013 has, unless the user set them:

* ``MKL_CBWR=AVX2,STRICT`` (MKL's conditional numerical reproducibility),
* ``ATEN_CPU_CAPABILITY=avx2``,
* ``OPENBLAS_CORETYPE=Haswell``.

They must be in the environment before numpy and torch load, so the study's entry points
(``tools/run_notebooks.py``, the test suite's ``conftest.py``) call :func:`pin` first, and the
notebook kernels they start inherit it. ``STUDY_NUMERICS=native`` leaves the libraries'
own choice. A learning run amplifies a changed ulp into a different return; pinning makes
machines with the same paths agree, it does not make the study's checks depend on that: the
tagged check cells print only what survives a different path (the test suite re-executes
the notebooks under :data:`PERTURBED` to show it).
"""
from __future__ import annotations

import os
import platform

PINNED = {"MKL_CBWR": "AVX2,STRICT", "ATEN_CPU_CAPABILITY": "avx2", "OPENBLAS_CORETYPE": "Haswell"}
# another path of each library that every x86-64 CPU can run: used to show that the checks
# do not depend on the low bits
PERTURBED = {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Sandybridge"}
VARIABLES = tuple(PINNED) + ("OPENBLAS_L2_SIZE", "STUDY_NUMERICS", "OMP_NUM_THREADS")


def _cpuinfo(field: str) -> str | None:
    """The value of ``field`` for the first CPU in ``/proc/cpuinfo`` (None where there is none)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """Flags of the first CPU in ``/proc/cpuinfo`` (empty where there is none)."""
    return set((_cpuinfo("flags") or "").split())


def pin(environ=None) -> dict:
    """Set the variables of :data:`PINNED` in ``environ`` (``os.environ``) where unset.

    Nothing is set with ``STUDY_NUMERICS=native`` or on a CPU without AVX2 (or FMA).
    Returns:
        the variables this call set.
    """
    environ = os.environ if environ is None else environ
    if environ.get("STUDY_NUMERICS", "").lower() == "native":
        return {}
    flags = cpu_flags()
    if platform.machine() not in ("x86_64", "AMD64") or not {"avx2", "fma"} <= flags:
        return {}
    done = {}
    for name, value in PINNED.items():
        if name not in environ:
            environ[name] = done[name] = value
    return done


def cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def describe() -> dict:
    """The machine and code paths behind a result: CPU, torch's capability, BLAS kernels."""
    import threadpoolctl
    import torch

    blas = [{k: info.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}
            for info in threadpoolctl.threadpool_info()]
    blas.sort(key=lambda d: [str(v) for v in d.values()])  # load order varies: identical runs, identical manifests
    return {"cpu": cpu_model(), "machine": platform.machine(), "cores": os.cpu_count(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_mkl": torch.backends.mkl.is_available(), "blas": blas,
            "environment": {name: os.environ.get(name) for name in VARIABLES if name in os.environ}}
