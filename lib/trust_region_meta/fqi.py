"""Fitted Q-Iteration with Extra Trees: the meta-model of paper 1 (Sec. 2.1 and 4.2).

Input of the regressor: ``x = [phi (20 metafeatures), log10 lambda]`` (Extra Trees draw
split thresholds uniformly between a feature's min and max, so lambda is given on the
log scale it is sampled on).

* h = 1: ``Q_1 = ET.fit(x_t, l_t)``: a one-step regression of the return improvement;
* h = 2..H: ``y = l_t + gamma * max_{lambda' in Lambda} Q_{h-1}(phi_{t+1}, lambda')`` and
  ``Q_h = ET.fit(x_t, y)`` (a fresh forest each iteration; no absorbing states: learning
  goes on after the last collected step, and the meta-test runs are longer). The max is
  one batched ``predict`` over every (phi', lambda') pair.

psi is the paper's "ratio between the minimum number of nodes in each leaf and the total
number of nodes" (Sec. 2.1): every leaf holds at least ``leaf_size(psi, n) = max(1, ceil(psi * n))``
of the n training tuples (scikit-learn's ``min_samples_leaf``, passed as that integer). Two psi
of a grid can give the same leaf size on a small dataset (1e-4 and 5e-5 both give 1 on 7 000
tuples); :func:`distinct_psis` keeps one psi per leaf size. The meta-policy is greedy:
``lambda_hat(phi) = argmax_{lambda in Lambda} Q_H(phi, lambda)``, evaluated for all
lambdas in one ``predict``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor


@dataclass
class FQIModel:
    """A fitted Q_H with its action set.

    Attributes:
        forest: the ExtraTreesRegressor of the last iteration.
        kl_grid: (n_actions,) the finite action set Lambda.
        horizon: H. min_leaf: psi, the minimum leaf size as a fraction of the tuples.
    """

    forest: ExtraTreesRegressor
    kl_grid: np.ndarray
    horizon: int
    min_leaf: float

    def q_values(self, phi: np.ndarray) -> np.ndarray:
        """Q_H(phi, lambda) for every lambda in the grid: (n, n_actions) for phi (n, d)."""
        return q_table(self.forest, np.atleast_2d(phi), self.kl_grid)

    def greedy(self, phi: np.ndarray) -> np.ndarray:
        """argmax over the grid: (n,) lambdas for phi (n, d), or a float for phi (d,)."""
        phi = np.asarray(phi, dtype=np.float64)
        best = self.kl_grid[np.argmax(self.q_values(phi), axis=1)]
        return float(best[0]) if phi.ndim == 1 else best


def design(phi: np.ndarray, kl: np.ndarray) -> np.ndarray:
    """Regressor input ``[phi, log10 lambda]``, shape (n, d + 1), float32: scikit-learn's trees
    compare float32 thresholds and convert any other input to it, so building it as float32
    gives the same model and saves a copy of the (n x 10)-row max query of every iteration."""
    return np.column_stack([phi, np.log10(kl)]).astype(np.float32)


def forest_predict(forest: ExtraTreesRegressor, x: np.ndarray) -> np.ndarray:
    """``forest.predict(x)`` for float32 rows (:func:`design`), bit for bit, without scikit-learn's
    per-call input checks and thread pool: each tree's leaf value, summed in estimator order, then
    divided by the number of trees, as ``ForestRegressor.predict`` accumulates them with one job.
    A Meta-KL step predicts 10 rows, where those fixed costs dominate. Returns (n,) float64."""
    out = np.zeros(len(x))
    for est in forest.estimators_:
        tree = est.tree_
        out += tree.value[tree.apply(x), 0, 0]
    out /= len(forest.estimators_)
    return out


def q_table(forest, phi: np.ndarray, kl_grid: np.ndarray) -> np.ndarray:
    """Predictions for every (row of phi, lambda in kl_grid) in one call: (n, n_actions)."""
    n, m = len(phi), len(kl_grid)
    x = design(np.repeat(phi, m, axis=0), np.tile(kl_grid, n))
    return forest_predict(forest, x).reshape(n, m)


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def check_fqi_params(horizon: int, min_leaf: float) -> None:
    """A ValueError naming H or ψ unless H is an integer >= 1 and ψ a number in (0, 1)."""
    if not _is_int(horizon) or horizon < 1:
        raise ValueError(f"FQI horizon H must be an integer >= 1, got {horizon!r}")
    if not _is_real(min_leaf) or not 0 < min_leaf < 1:
        raise ValueError(f"minimum leaf fraction psi must be a number in (0, 1), got {min_leaf!r}")


def _array(name: str, value, ndim: int, positive: bool = False) -> np.ndarray:
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from None
    if x.ndim != ndim or x.size == 0:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(x)).sum())} non-finite values")
    if positive and (x <= 0).any():
        raise ValueError(f"{name} must be > 0 (trust-region sizes), got minimum {x.min()!r}")
    return x


def check_fqi_inputs(phi, kl, reward, phi_next, kl_grid, n_estimators, gamma, seed) -> tuple:
    """The arrays of :func:`fit_fqi` as float64, after checks whose errors name the argument:
    phi and phi_next (n, d) finite, kl (n,) > 0, reward (n,) finite, kl_grid (k,) > 0,
    n_estimators an integer >= 1, gamma in [0, 1], seed an integer >= 0."""
    phi, phi_next = _array("phi", phi, 2), _array("phi_next", phi_next, 2)
    kl, reward, kl_grid = _array("kl", kl, 1, True), _array("reward", reward, 1), _array("kl_grid", kl_grid, 1, True)
    if phi_next.shape != phi.shape:
        raise ValueError(f"phi_next must have phi's shape {phi.shape}, got {phi_next.shape}")
    if not len(kl) == len(reward) == len(phi):
        raise ValueError(f"kl and reward must have one value per row of phi ({len(phi)}), got {len(kl)} and {len(reward)}")
    if not _is_int(n_estimators) or n_estimators < 1:
        raise ValueError(f"n_estimators must be an integer >= 1, got {n_estimators!r}")
    if not _is_real(gamma) or not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return phi, kl, reward, phi_next, kl_grid


def leaf_size(psi: float, n: int) -> int:
    """Minimum samples per leaf for the fraction psi of n tuples: ``max(1, ceil(psi * n))``."""
    return max(1, math.ceil(psi * n - 1e-9))


def distinct_psis(psis, n: int) -> tuple:
    """The psi of ``psis`` that give distinct leaf sizes on n tuples (the smallest psi of each)."""
    kept, sizes = [], set()
    for psi in sorted(psis):
        if leaf_size(psi, n) not in sizes:
            kept.append(psi)
            sizes.add(leaf_size(psi, n))
    return tuple(kept)


def fit_fqi(phi, kl, reward, phi_next, kl_grid, horizon: int, min_leaf: float,
            n_estimators: int = 100, gamma: float = 1.0, seed: int = 0,
            n_jobs: int = 1) -> list[FQIModel]:
    """Run H iterations of FQI and return the models Q_1..Q_H (one fit serves every H <= horizon).

    Args:
        phi: (n, d) meta-states; kl: (n,) meta-actions taken; reward: (n,) meta-rewards;
        phi_next: (n, d) next meta-states; kl_grid: (n_actions,) Lambda for the max and
        the greedy policy; horizon: H; min_leaf: psi (leaves hold >= :func:`leaf_size` tuples);
        gamma: meta-discount (1 in the paper).
    Returns:
        ``[Q_1, ..., Q_H]`` as :class:`FQIModel`.
    """
    check_fqi_params(horizon, min_leaf)
    phi, kl, reward, phi_next, kl_grid = check_fqi_inputs(phi, kl, reward, phi_next, kl_grid, n_estimators, gamma, seed)
    x = design(phi, kl)
    target = reward
    models = []
    for h in range(1, horizon + 1):
        forest = ExtraTreesRegressor(n_estimators=n_estimators, min_samples_leaf=leaf_size(min_leaf, len(x)),
                                     max_features=1.0, bootstrap=False,
                                     random_state=seed + h, n_jobs=n_jobs)
        forest.fit(x, target)
        models.append(FQIModel(forest, kl_grid, h, min_leaf))
        if h < horizon:
            target = reward + gamma * q_table(forest, phi_next, kl_grid).max(axis=1)
    return models


def fit_gain_model(phi, kl, gain, kl_grid, min_leaf: float, n_estimators: int = 100, seed: int = 0,
                   n_jobs: int = 1) -> FQIModel:
    """A one-forest regression of a long-horizon gain (e.g. the rest of the run's ``J_T - J_t``)
    on ``[phi, log10 lambda]``, greedy over the grid like Q_H: notebook 09's alternative to the
    paper's one-step meta-reward (our extension, not the paper's method).

    Args:
        phi: (n, d); kl: (n,) the λ held over the gain's horizon; gain: (n,) the target.
    Returns:
        an :class:`FQIModel` with ``horizon=0`` (no Bellman iteration).
    """
    check_fqi_params(1, min_leaf)
    x = design(np.asarray(phi, float), np.asarray(kl, float))
    forest = ExtraTreesRegressor(n_estimators=n_estimators, min_samples_leaf=leaf_size(min_leaf, len(x)),
                                 max_features=1.0, bootstrap=False, random_state=seed, n_jobs=n_jobs)
    forest.fit(x, np.asarray(gain, float))
    return FQIModel(forest, np.asarray(kl_grid, float), 0, min_leaf)
