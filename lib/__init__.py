"""Reference reproduction of two meta-RL papers.

Glossary (paper symbol -> name in code):

====================  ===================  =========================================
paper                 code                 meaning
====================  ===================  =========================================
lambda                ``kl_bound``         TRPO trust-region size (max mean KL)
Lambda                ``kl_grid``          finite set of trust-region sizes
N                     ``n_traj``           trajectories per batch
MLP(h, n)             ``arch=(h, n)``      Gaussian MLP policy, h hidden layers of n
J                     ``ret``              undiscounted return of one trajectory
c                     ``task``             task parameters of an environment
====================  ===================  =========================================

Modules: :mod:`lib.envs` (environments), :mod:`lib.policies`, :mod:`lib.rollouts`,
:mod:`lib.trpo` (TRPO / xTRPO), :mod:`lib.sweeps` (fixed-lambda sweeps),
:mod:`lib.profiles` (quick / full sizes, parameter checks), :mod:`lib.stats`, :mod:`lib.plotting`;
infrastructure: :mod:`lib.io` (tables, manifests, the joblib map), :mod:`lib.engine` (the Dask map),
:mod:`lib.cache` (job keys, checkpoints), :mod:`lib.numerics` (floating-point code paths),
:mod:`lib.kernels` (the runner's kernels), :mod:`lib.paths`.
"""

__version__ = "0.1.0"
