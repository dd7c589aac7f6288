"""Paper 2: *BO-MRL*, meta-RL with universal policy adaptation (Xu and Zhu, NeurIPS 2024).

Bilevel meta-RL: a meta-policy π_φ collects data once in a new task; the within-task
algorithm Alg then maximises ``J(θ) − λ D(θ, φ)`` on that data; the meta-parameters φ are
trained through the implicit derivative of Alg's solution.

Chapter index (notebook -> module):

=====================  ==============================  ===========================================
notebook               module                          what
=====================  ==============================  ===========================================
10-13                  :mod:`.locomotion_protocol`     each experiment as data: ours and the
                       :mod:`.frozen_lake_protocol`    authors' constants with sources; λ here
                       :mod:`.methods`                 the one registry of methods and labels
                       :mod:`.config`                  the configs of notebooks 10-13
10_bomrl_frozen_lake   :mod:`.tabular`                 exact values of batches of tabular MDPs
                       :mod:`.exact`                   exact BO-MRL, implicit meta-gradient, MAML
                       :mod:`.frozen_lake_study`       meta-train and meta-test every method
                       :mod:`.frozen_lake_report`      task summaries, gradient check, tables
11, 13 locomotion      :mod:`.functional_policy`       the MLP policy as a function of parameters
                       :mod:`.sampler`                 meta-batches of trajectories per task; the
                                                       authors' sampler (filter, return tail)
                       :mod:`.sampled`                 BO-MRL on sampled trajectories (L-BFGS)
                       :mod:`.sampled_adam`            the same solved by Adam as the authors do
                       :mod:`.baselines`               MAML-TRPO, E-MAML-TRPO, ProMP
                       :mod:`.maml_authors`            MAML-TRPO as the authors ran it (their MAML_my)
                       :mod:`.meta_items`              the resumable item loop, keys and Dask run
                       :mod:`.locomotion_study`        the items of either protocol, their tables
                       :mod:`.locomotion_report`       sampler speed, gradient check, intervals,
                                                       learning checks, cost, a run's progress
                       :mod:`.authors_data`            their reported gaps, logs, figure values (read-only)
12_bomrl_authors_...   :mod:`.tabular_sampled`         their maps, sampled TD data, their Alg(1)/(2), PG
                       :mod:`.frozen_lake_maps_study`  their protocol on their maps beside exact versions
all                    :mod:`.claims`                  the verdict records of notebooks 10-13 (README rows)
                       :mod:`.figures`                 the figures of notebooks 10-13
=====================  ==============================  ===========================================

Glossary (paper -> code):

=====================  ==============================  ===========================================
paper                  code                            meaning
=====================  ==============================  ===========================================
φ                      ``phi``                         meta-parameters (of π_φ; not features)
θ                      ``theta``                       adapted task-specific parameters
λ                      ``lam``, ``lam_kl``,            weight of the regulariser D (not a trust
                       ``lam_euclidean``               region)
δ                      ``delta``                       KL radius of our KL-constrained variant
Alg(1), Alg(3)         ``"kl"``, ``"euclidean"``       D = KL(π_φ‖π_θ), D = ½‖θ − φ‖²
Alg(2)                 ``"kl_reverse"``                D = KL(π_θ‖π_φ) (the authors' second metric)
Γ, P(Γ)                ``tasks``, ``goal_radius``      task distribution (Frozen Lake goal radius)
J_τ                    ``J``                           discounted return of task τ
=====================  ==============================  ===========================================
"""
