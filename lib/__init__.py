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
:mod:`lib.trpo` (TRPO / xTRPO), :mod:`lib.experiments` (sweeps used by notebooks),
:mod:`lib.profiles` (quick / full sizes), :mod:`lib.stats`, :mod:`lib.plotting`,
:mod:`lib.io`, :mod:`lib.paths`.
"""

__version__ = "0.1.0"
