"""Paper 1: *Trust Region Meta Learning for Policy Optimization* (Occorso et al.).

A meta-MDP whose action is TRPO's trust-region size λ: at every update an FQI meta-model
(Extra Trees) reads metafeatures φ(B_t) of the last two trajectory batches and picks λ
from a grid Λ. The learner is xTRPO (TRPO whose line search does not require improvement).

Chapter index (notebook -> module):

=====================  ==============================  ===========================================
notebook               module                          what
=====================  ==============================  ===========================================
01_environments        :mod:`.env_tables`              tables of the three environments and tasks
02_trpo_vs_xtrpo       :mod:`.learning`,               one learning run (T updates, logged);
                       :mod:`.fixed_kl`                the Fixed-KL sweep over Λ
03_metafeatures        :mod:`.metafeatures`            Table 1's 20 features, k-NN estimators
04_meta_dataset        :mod:`.metadataset`             tuples <φ_t, λ_t, l_t, φ_{t+1}>
05_fqi_validation      :mod:`.fqi`, :mod:`.validation` FQI with Extra Trees; choosing (H, ψ)
05-08                  :mod:`.meta_kl`                 Meta-KL runs, validation scores, comparisons
06-08_figure1..3       :mod:`.figures`                 the figures' tables and curves
09_minigolf_horizon    :mod:`.horizon`                 one-step vs whole-run gain (our extension)
14_lambda_schedules    :mod:`.schedules`,              open-loop λ schedules, t-only FQI (control);
                       :mod:`.schedule_control`        the control study against Meta-KL's runs
02-09, 14              :mod:`.claims`                  the verdict records (README rows), endpoints
01-09, 14              :mod:`.config`                  the configs of notebooks 01-09 and 14
=====================  ==============================  ===========================================

Glossary (paper -> code):

=====================  ==============================  ===========================================
paper                  code                            meaning
=====================  ==============================  ===========================================
λ                      ``kl_bound``, ``fixed_kl``      trust-region size (max mean KL); never ``lam``
Λ                      ``kl_grid``                     the finite set of trust-region sizes
φ(B_t)                 ``phi:*`` columns               metafeatures of batches (not parameters)
l_t                    ``meta_reward``                 one-step gain Ĵ_{t+1} − Ĵ_t
H, ψ                   ``fqi_horizon``, ``min_leaf``  FQI iterations, minimum leaf size (fraction)
N, T                   ``n_traj``, ``n_updates``       trajectories per batch, updates per run
MLP(h, n)              ``arch=(h, n)``                 Gaussian MLP policy, h hidden layers of n
J                      ``ret``                         undiscounted return of one trajectory
M                      ``meta_seed``, ``n_meta_models`` independent meta-datasets and meta-models
c                      ``task``                        task parameters of an environment
=====================  ==============================  ===========================================
"""
