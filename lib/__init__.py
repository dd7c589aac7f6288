"""Reference reproduction of two meta-RL papers: the study's library.

The house has three floors. Imports run downward only (``tests/test_architecture.py``).

**Top: the registry the notebooks consult.** :mod:`lib.profiles`: every stage's config class
(named as ``"module:Class"`` text, so it imports no paper package) and its quick sizes,
``resolve`` and ``from_notebook``; :mod:`lib.notebook`: papermill's parameters checked and
parsed, and the runner's kernels.

**Middle: one package per paper; neither imports the other.**

* :mod:`lib.trust_region_meta`: paper 1, *Trust Region Meta Learning for Policy
  Optimization* (Occorso et al.), notebooks 01-09 and 14;
* :mod:`lib.bomrl`: paper 2, *BO-MRL* (Xu and Zhu, NeurIPS 2024), notebooks 10-13.

Each package keeps its configs in its own ``config`` module (checked in ``__post_init__``).

Each package's docstring is its chapter index and glossary (φ and λ mean different things in
the two papers).

**Ground: the shared core.**

====================  ==================================================================
module                what it is
====================  ==================================================================
:mod:`lib.envs`       environments: Elikoeidis, Minigolf, Cartpole (paper 1); Frozen Lake
                      task distributions and MuJoCo locomotion families (paper 2)
:mod:`lib.policies`   Gaussian MLP policies, closed-form entropy and KL
:mod:`lib.rollouts`   batched rollouts, rewards-to-go, the linear baseline, advantages
:mod:`lib.trpo`       conjugate gradient, Fisher products, natural step, line search, TRPO/xTRPO
:mod:`lib.stats`      t intervals, paired bootstrap, per-run scores, curve summaries
:mod:`lib.claims`     the claim engine: one interval routine, endpoints, the records of every verdict
:mod:`lib.plotting`   house style, bands and captions, and paper 1's figures
:mod:`lib.config`     field checks every config runs in ``__post_init__``
:mod:`lib.seeding`    keyed random streams (``SeedSequence``)
:mod:`lib.parallel`   the resumable parallel map: joblib here, Dask on a cluster
:mod:`lib.cache`      job keys (function, arguments, code) and checked checkpoints
:mod:`lib.io`         tables with manifests, written through a journal
:mod:`lib.paths`      profile names and root-anchored folders of data, caches and figures
:mod:`lib.numerics`   floating-point code paths: pinning and describing them
:mod:`lib.progress`   progress bars, quiet under papermill and CI
:mod:`lib.report`     the closing watermark of a notebook (versions, wall time)
====================  ==================================================================
"""

import time as _time

__version__ = "0.1.0"
IMPORTED_AT = _time.perf_counter()  # the start of a notebook, for lib.report.watermark
