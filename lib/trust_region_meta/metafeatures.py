"""Metafeatures phi(B_t, B_{t-1}): Table 1 of paper 1, 20 numbers from two trajectory batches.

The meta-state (the distribution of trajectories of the current policy on the current
task) is summarised by information measures of three distributions estimated from the
N trajectories of step t and the N of step t-1:

* p(s): state visits; p(a|s): the policy; p(s'|s,a): the transitions.

For each: Shannon entropy H at t and t-1; cross-entropy C both ways; KL = C - H both ways.
Plus the mean and the variance of the return at t. Conditionals are estimated as joint minus
marginal (chain rule) per point: ``-log p(a|s) = -log p(s,a) + log p(s)``.

k-nearest-neighbour estimators (Euclidean, k = 3, ``V_d`` = volume of the unit d-ball,
``rho_k(i)`` = distance from x_i to its k-th neighbour among the m reference points):
``-log p(x_i) ~ d log rho_k(i) + log V_d + psi(m + 1) - psi(k)`` (Kozachenko-Leonenko / Singh
et al. 2003 for an entropy, the reference being the same batch; Leonenko et al. 2008 for a
cross-entropy, the reference being the other batch; Wang, Kulkarni and Verdu 2009: KL = C - H).

Two departures from the i.i.d. textbook setting, both because a batch pools every step of N
trajectories (see the comment block above :func:`_kth_other` for the details and the tests):
a point's neighbours in its own batch come from the *other* trajectories only, and states that
two or more trajectories share exactly (atoms) are conditioned on rather than fed to a
density estimator. The functions :func:`entropy`, :func:`cross_entropy` and
:func:`kl_divergence` are the plain i.i.d. estimators (with the old ``log(n-1)`` / ``log m``
constants), kept as references. Samples are scaled by fixed per-environment factors (never
fitted per batch, which would erase the information) and capped at ``max_points`` by random
subsampling, for speed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from lib.policies import gaussian_entropy, gaussian_kl

MIN_DIST = 1e-10
K = 3
MAX_POINTS = 2000

FEATURE_NAMES = (
    "H_s_t", "H_s_tm1", "H_a|s_t", "H_a|s_tm1", "H_s'|sa_t", "H_s'|sa_tm1",
    "C_s_t,tm1", "C_s_tm1,t", "C_a|s_t,tm1", "C_a|s_tm1,t", "C_s'|sa_t,tm1", "C_s'|sa_tm1,t",
    "KL_s_t||tm1", "KL_s_tm1||t", "KL_a|s_t||tm1", "KL_a|s_tm1||t",
    "KL_s'|sa_t||tm1", "KL_s'|sa_tm1||t", "J_mean_t", "J_var_t",
)


def log_unit_ball_volume(d: int) -> float:
    """log V_d = (d/2) log(pi) - log Gamma(d/2 + 1)."""
    return 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)


def _kth_distance(query: np.ndarray, ref: np.ndarray, k: int, exclude_self: bool) -> np.ndarray:
    """Distance from each query point to its k-th nearest neighbour in ``ref``, shape (n,).

    scipy's k-d tree, exact, one thread (measured at 2 000 points: 5.6 / 7.7 / 28 ms in
    4 / 5 / 9 dimensions, against 10 / 14 / 57 ms for scikit-learn's ``NearestNeighbors``
    with its automatic algorithm, whose brute-force path also starts OpenMP threads that
    compete with the study's parallel workers)."""
    dist, _ = cKDTree(ref).query(query, k=[k + int(exclude_self)])
    return np.maximum(dist[:, 0], MIN_DIST)


def _as_2d(x, name: str = "samples") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} for a k-NN estimate must be finite; {int((~np.isfinite(x)).sum())} "
                         f"of {x.size} values are NaN or infinite")
    return x[:, None] if x.ndim == 1 else x


def entropy(x, k: int = K) -> float:
    """Kozachenko-Leonenko entropy (nats) of samples ``x`` (n, d), n > k."""
    x = _as_2d(x, "x")
    n, d = x.shape
    if n <= k:
        raise ValueError(f"need more than k={k} samples, got {n}")
    rho = _kth_distance(x, x, k, exclude_self=True)
    return float(d * np.log(rho).mean() + log_unit_ball_volume(d) + np.log(n - 1) - digamma(k))


def cross_entropy(x, y, k: int = K) -> float:
    """k-NN cross-entropy C(p, q) = E_p[-log q] (nats) from x (n, d) ~ p and y (m, d) ~ q."""
    x, y = _as_2d(x, "x"), _as_2d(y, "y")
    (n, d), m = x.shape, len(y)
    if m < k:
        raise ValueError(f"need at least k={k} reference samples, got {m}")
    nu = _kth_distance(x, y, k, exclude_self=False)
    return float(d * np.log(nu).mean() + log_unit_ball_volume(d) + np.log(m) - digamma(k))


def kl_divergence(x, y, k: int = K) -> float:
    """Wang-Kulkarni-Verdu KL(p || q) from x ~ p, y ~ q: ``C(x -> y) - H(x)``."""
    return cross_entropy(x, y, k) - entropy(x, k)


@dataclass(frozen=True)
class SampleSets:
    """The three sample sets of one batch, scaled and subsampled.

    Attributes:
        s: (n, ds) states; sa: (n, ds + da) state-actions; sas: (n, 2 ds + da).
        traj: (n,) the trajectory of each sample (steps of one trajectory are dependent).
        trees: k-d trees of these sets, built on first use (the batch is a reference three times:
            for its own entropies and for both cross-entropies with its neighbours in time).
        returns: (N,) per-trajectory undiscounted returns.
    """

    s: np.ndarray
    sa: np.ndarray
    sas: np.ndarray
    traj: np.ndarray
    returns: np.ndarray
    trees: dict = field(default_factory=dict, compare=False, repr=False)


def sample_sets(batch, obs_scale, act_scale: float, rng: np.random.Generator,
                max_points: int = MAX_POINTS) -> SampleSets:
    """Pool all steps of a :class:`~lib.rollouts.Batch` into scaled S, SA, SAS sets.

    Args:
        batch: trajectories. obs_scale: (obs_dim,) fixed factors. act_scale: actions are
        divided by it (the policy's initial std). rng: for subsampling beyond max_points.
    """
    scale = np.asarray(obs_scale, dtype=np.float64)
    if not (np.isfinite(act_scale) and act_scale > 0):
        raise ValueError(f"act_scale must be a finite number > 0, got {act_scale!r}")
    s = batch.flat("obs") * scale
    a = batch.flat("act") / act_scale
    s2 = batch.flat("next_obs") * scale
    traj = np.broadcast_to(np.arange(len(batch.mask))[:, None], batch.mask.shape)[batch.mask]
    if len(s) > max_points:
        idx = np.sort(rng.choice(len(s), size=max_points, replace=False))
        s, a, s2, traj = s[idx], a[idx], s2[idx], traj[idx]
    return SampleSets(s=s, sa=np.hstack([s, a]), sas=np.hstack([s, a, s2]), traj=np.asarray(traj),
                      returns=batch.returns)


# --- estimators for pooled, dependent steps and data with atoms --------------------------------
#
# A batch pools every step of N trajectories. Two things break an i.i.d. k-NN estimator there:
#
# 1. Steps of one trajectory are dependent and can repeat exactly: Minigolf's ball does not move
#    after a null stroke (half the first strokes of a zero-mean policy), so the k-th neighbour of
#    a state is a copy of it at distance 0, and log 0 (floored: log 1e-10 = -23) entered every
#    entropy. Even without exact repeats, Cartpole's neighbours along its own trajectory describe
#    a curve, not the density. So a point's neighbours are taken from the *other* trajectories
#    of its batch only (leave one trajectory out); with m other points the k-NN term uses
#    psi(m + 1), the exact Beta correction (Kozachenko-Leonenko's form).
# 2. Genuine atoms: a state shared by two or more trajectories (Elikoeidis' single state; a
#    point mass of the state distribution). There every quantity is taken with respect to
#    counting measure on the atoms plus Lebesgue measure elsewhere, under which the chain rule
#    holds exactly:
#    * marginal, per point: ``-log(g/n)`` at an atom holding g of the n points, and
#      ``-log(n_c/n) + [k-NN term among the n_c non-atom points]`` elsewhere;
#    * conditional p(t | c), per point: at an atom, the k-NN term of t among the atom's points of
#      the other trajectories (a sample of p(t | c) at that c); elsewhere, joint minus marginal
#      k-NN terms among the non-atom points.
#
# So H(a|s) is the policy's entropy with or without repeats (tested against closed forms with
# 30 % of the states at one point and with Minigolf-like repeats), without a distance floor
# doing the work. Cross terms query the other batch (independent of the query's): a query point
# equal to one of its states uses those points, any other its non-atom points. Coordinates
# constant in both sets (Elikoeidis' state) are dropped: its state and transition features are 0.


def _tree(ref: np.ndarray, trees: dict | None) -> cKDTree:
    """A k-d tree of ``ref``, reused from ``trees`` (keyed by the array's bytes) when built before."""
    if trees is None:
        return cKDTree(ref)
    key = (ref.shape, hash(ref.tobytes()))
    if key not in trees:
        trees[key] = cKDTree(ref)
    return trees[key]


def _kth_other(query, ref, k, q_traj=None, r_traj=None, trees: dict | None = None):
    """Distance from each query point to its k-th neighbour in ``ref`` among the reference points
    of *other* trajectories (all of them when ``q_traj`` is None): ``(rho, m, k)`` per point, m
    the number of such points, k (an int or one per point) capped at m.

    One k-d tree (from ``trees`` if given); the neighbour list grows (x4) only for the points whose
    first k + 1 neighbours hold fewer than k of other trajectories. rho is floored at ``MIN_DIST`` (only exact ties among other
    trajectories reach it, and :func:`conditional_terms` routes those to its atom branch).
    """
    n, nq = len(ref), len(query)
    if q_traj is None:
        m = np.full(nq, n)
    else:
        m = n - np.bincount(r_traj, minlength=max(r_traj.max(), q_traj.max()) + 1)[q_traj]
    kk = np.minimum(np.broadcast_to(k, (nq,)), m)
    rho = np.full(nq, MIN_DIST)
    todo = np.flatnonzero(kk >= 1)
    tree = _tree(ref, trees)
    width = min(n, int(kk.max(initial=1)) + (0 if q_traj is None else 1))
    while len(todo):
        dist, idx = tree.query(query[todo], k=width)
        dist, idx = dist.reshape(len(todo), -1), idx.reshape(len(todo), -1)
        other = np.ones(idx.shape, bool) if q_traj is None else r_traj[np.minimum(idx, n - 1)] != q_traj[todo, None]
        count = np.cumsum(other, axis=1)
        done = count[:, -1] >= kk[todo]
        pos = np.argmax(count >= kk[todo, None], axis=1)
        rho[todo[done]] = dist[done, pos[done]]
        todo = todo[~done]
        if width >= n:
            break
        width = min(n, 4 * width)
    return np.maximum(rho, MIN_DIST), m, kk


def _trees(memo: dict | None) -> dict | None:
    """The k-d trees kept in a memo (``memo["trees"]``), shared by the calls that use the same reference."""
    return None if memo is None else memo.setdefault("trees", {})


def _digest(*arrays) -> tuple:
    return tuple(hash(a.tobytes()) if a is not None else None for a in arrays)


def _knn_terms(query, ref, k, q_traj=None, r_traj=None, memo: dict | None = None) -> np.ndarray:
    """Per query point, the k-NN estimate of -log density ``d log rho_k + log V_d + psi(m + 1) - psi(k)``
    (m reference points of other trajectories, k capped at m); (n,) zeros if d = 0.

    ``psi(m + 1)`` rather than ``log m``: the probability mass of the k-th neighbour's ball is
    Beta(k, m + 1 - k), so E log(mass) = psi(k) - psi(m + 1) exactly for a locally uniform density,
    which matters in an atom's small groups. ``memo`` keeps the terms and the k-d trees
    (``memo["trees"]``) of the calls on one pair of batches."""
    d = query.shape[1]
    if d == 0:
        return np.zeros(len(query))
    key = (k, *_digest(query, ref, q_traj, r_traj)) if memo is not None else None
    if key in (memo or {}):
        return memo[key]
    rho, m, kk = _kth_other(query, ref, k, q_traj, r_traj, _trees(memo))
    m, kk = np.maximum(m, 1), np.maximum(kk, 1)
    out = d * np.log(rho) + log_unit_ball_volume(d) + digamma(m + 1) - digamma(kk)
    if memo is not None:
        memo[key] = out
    return out


def _varying(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Columns not constant at one common value over both sets, as a boolean mask."""
    if not len(q) or not len(r):
        return np.ones(q.shape[1], bool)
    return (q.min(0) < q.max(0)) | (r.min(0) < r.max(0)) | (q[0] != r[0])


def _row_ids(x: np.ndarray) -> np.ndarray:
    """Group id of each row, equal ids for exactly equal rows, shape (n,).

    Sorts one random projection of the rows (fast) and checks that rows sharing a projection
    are equal; falls back to ``np.unique(axis=0)`` if two different rows ever collide."""
    key = x @ np.random.default_rng(0).uniform(1.0, 2.0, size=x.shape[1])
    uniq, ids = np.unique(key, return_inverse=True)
    first = np.zeros(len(uniq), int)
    first[ids[::-1]] = np.arange(len(x))[::-1]
    if len(uniq) == len(x) or (x == x[first[ids]]).all():
        return ids.ravel()
    return np.unique(x, axis=0, return_inverse=True)[1].ravel()


def _atoms(cq, cr, q_traj=None, r_traj=None):
    """Genuine atoms of the conditioning block: ``(ids_q, ids_r, g, cont_r, counts)``.

    Group ids of query and reference rows (equal rows, equal id); g: per query row, the reference
    rows equal to it, from other trajectories when ``q_traj`` is given (the query is the
    reference), all of them otherwise (another batch); cont_r: the reference rows that are not an
    atom, i.e. whose value occurs in fewer than two of the reference's trajectories (``r_traj``;
    without it every distinct row is its own trajectory); counts: reference rows per group id.
    """
    if cq.shape[1] == 0:  # nothing to condition on: one group
        ids_q, ids_r = np.zeros(len(cq), int), np.zeros(len(cr), int)
    elif q_traj is not None:
        ids_r = _row_ids(cr)
        ids_q = ids_r
    else:
        ids = _row_ids(np.vstack([cr, cq]))
        ids_r, ids_q = ids[:len(cr)], ids[len(cr):]
    n_ids = max(ids_q.max(initial=0), ids_r.max(initial=0)) + 1
    counts = np.bincount(ids_r, minlength=n_ids)
    r_traj = np.arange(len(cr)) if r_traj is None else r_traj
    base = int(r_traj.max(initial=0)) + 1
    pairs, inverse, pair_counts = np.unique(ids_r.astype(np.int64) * base + r_traj, return_inverse=True,
                                            return_counts=True)
    n_traj = np.bincount(pairs // base, minlength=n_ids)
    cont = n_traj[ids_r] < 2
    if q_traj is None:
        return ids_q, ids_r, counts[ids_q], cont, counts
    own = pair_counts[inverse.ravel()]  # rows equal to this one in its own trajectory
    return ids_q, ids_r, np.where(n_traj[ids_q] >= 2, counts[ids_q] - own, 0), cont, counts


def marginal_terms(cq, cr, k: int = K, q_traj=None, r_traj=None, memo: dict | None = None) -> np.ndarray:
    """Per query point, -log f(c) under the atoms-plus-Lebesgue measure, f estimated from ``cr``.

    Args:
        cq, cr: (n, d) query and (m, d) reference points. q_traj: the query's trajectory ids when
            the query is the reference itself (each point's neighbours come from other
            trajectories); None for another batch. r_traj: the reference's trajectory ids (which
            repeated values are atoms: those of two or more trajectories); None: every row its own.
        memo: a dict shared by the calls on one pair of batches, so that a k-NN search that two
            quantities need (the marginal of s in H(s) and in H(a|s)) runs once.
    Returns:
        (n,) per-point terms; their mean is the (cross-)entropy.
    """
    keep = _varying(cq, cr)
    cq, cr = cq[:, keep], cr[:, keep]
    out = np.zeros(len(cq))
    if cq.shape[1] == 0:
        return out
    ids_q, _, g, cont, counts = _atoms(cq, cr, q_traj, r_traj)
    n = len(cr)
    atom = g >= 1
    out[atom] = -np.log(counts[ids_q[atom]] / n)
    if (~atom).any():
        ref = cont if cont.sum() > (k if q_traj is not None else 0) else np.ones(n, bool)
        rt = None if q_traj is None else r_traj[ref]
        qt = None if q_traj is None else q_traj[~atom]
        out[~atom] = -np.log(ref.sum() / n) + _knn_terms(cq[~atom], cr[ref], k, qt, rt, memo)
    return out


def conditional_terms(cq, tq, cr, tr, k: int = K, q_traj=None, r_traj=None,
                      memo: dict | None = None) -> np.ndarray:
    """Per query point, -log p(t | c), p estimated from the reference pairs ``(cr, tr)``. (n,).

    At an atom of c: the k-NN term of t among the atom's reference points (other trajectories);
    elsewhere: the joint-minus-marginal k-NN terms among the reference points that are not atoms.
    Trajectory ids and memo as in :func:`marginal_terms`.
    """
    keep_c, keep_t = _varying(cq, cr), _varying(tq, tr)
    cq, cr, tq, tr = cq[:, keep_c], cr[:, keep_c], tq[:, keep_t], tr[:, keep_t]
    out = np.zeros(len(cq))
    if tq.shape[1] == 0:
        return out
    ids_q, ids_r, g, cont, _ = _atoms(cq, cr, q_traj, r_traj)
    atom = g >= 1
    if atom.any():
        # one tree for every atom: the group id as an extra coordinate, far beyond any distance in t
        far = 10.0 * (1.0 + np.sqrt(tq.shape[1]) * np.ptp(np.vstack([tq, tr]), axis=0).max())
        ref = np.column_stack([tr, far * ids_r])
        query = np.column_stack([tq[atom], far * ids_q[atom]])
        qt = None if q_traj is None else q_traj[atom]
        rho, _, kk = _kth_other(query, ref, np.minimum(k, g[atom]), qt, None if q_traj is None else r_traj)  # k-th within the atom
        d = tq.shape[1]
        out[atom] = d * np.log(rho) + log_unit_ball_volume(d) + digamma(g[atom] + 1) - digamma(kk)
    if (~atom).any():
        use = cont if cont.sum() > (k if q_traj is not None else 0) else np.ones(len(cr), bool)
        qt = None if q_traj is None else q_traj[~atom]
        rt = None if q_traj is None else r_traj[use]
        joint_q, joint_r = np.hstack([cq[~atom], tq[~atom]]), np.hstack([cr[use], tr[use]])
        out[~atom] = (_knn_terms(joint_q, joint_r, k, qt, rt, memo)
                      - _knn_terms(cq[~atom], cr[use], k, qt, rt, memo))
    return out


def _blocks(sets: SampleSets):
    """``(s, a, sa, s')`` views of a batch's sample sets."""
    ds, dsa = sets.s.shape[1], sets.sa.shape[1]
    return sets.s, sets.sa[:, ds:], sets.sa, sets.sas[:, dsa:]


def batch_entropies(sets: SampleSets, k: int = K) -> dict:
    """Entropies of one batch (nats): ``{"s": H(s), "a|s": H(a|s), "s'|sa": H(s'|s,a)}``,
    each point's neighbours taken from the other trajectories."""
    s, a, sa, s2 = _blocks(sets)
    tr, memo = (sets.traj, sets.traj), {"trees": sets.trees}
    return {"s": float(marginal_terms(s, s, k, *tr, memo=memo).mean()),
            "a|s": float(conditional_terms(s, a, s, a, k, *tr, memo=memo).mean()),
            "s'|sa": float(conditional_terms(sa, s2, sa, s2, k, *tr, memo=memo).mean())}


def cross_entropies(x: SampleSets, y: SampleSets, k: int = K) -> dict:
    """Cross-entropies E_x[-log q_y] of the three distributions, x's points scored by y's estimate."""
    xs, xa, xsa, xs2 = _blocks(x)
    ys, ya, ysa, ys2 = _blocks(y)
    memo = {"trees": y.trees}
    return {"s": float(marginal_terms(xs, ys, k, r_traj=y.traj, memo=memo).mean()),
            "a|s": float(conditional_terms(xs, xa, ys, ya, k, r_traj=y.traj, memo=memo).mean()),
            "s'|sa": float(conditional_terms(xsa, xs2, ysa, ys2, k, r_traj=y.traj, memo=memo).mean())}


def metafeatures(cur: SampleSets, prev: SampleSets, h_cur: dict | None = None,
                 h_prev: dict | None = None, k: int = K) -> np.ndarray:
    """The 20 metafeatures of Table 1, in the order of :data:`FEATURE_NAMES`.

    Args:
        cur, prev: sample sets of B_t and B_{t-1}.
        h_cur, h_prev: their :func:`batch_entropies` if already computed (a learning run
            computes each batch's entropies once and reuses them at the next step).
    Returns:
        (20,) float64 vector.
    """
    h_cur = batch_entropies(cur, k) if h_cur is None else h_cur
    h_prev = batch_entropies(prev, k) if h_prev is None else h_prev
    c_fwd, c_bwd = cross_entropies(cur, prev, k), cross_entropies(prev, cur, k)
    names = ("s", "a|s", "s'|sa")
    feats = ([x for n in names for x in (h_cur[n], h_prev[n])]
             + [x for n in names for x in (c_fwd[n], c_bwd[n])]
             + [x for n in names for x in (c_fwd[n] - h_cur[n], c_bwd[n] - h_prev[n])]
             + [float(np.mean(cur.returns)), float(np.var(cur.returns, ddof=1))])
    return np.asarray(feats, dtype=np.float64)


POLICY_FEATURES = tuple(n for n in FEATURE_NAMES if "a|s" in n)


def policy_means(policy, obs) -> torch.Tensor:
    """``policy.mean(obs)`` without a graph: (n, act_dim) for obs (n, obs_dim), a tensor or an array."""
    with torch.no_grad():
        return policy.mean(torch.as_tensor(obs))


def exact_policy_features(policy_t, policy_prev, obs_t, obs_prev, std0: float,
                          mean_t=None, mean_prev=None) -> dict:
    """The six policy features of Table 1 in closed form for Gaussian policies (nats): the
    exact counterparts of the k-NN ``H_a|s``, ``C_a|s`` and ``KL_a|s`` of :func:`metafeatures`.

    In the features' action units (actions divided by ``std0``), ``H(a|s) = sum_j ½ log(2πe) +
    log σ_j - log std0`` at every state; ``KL_a|s_t||tm1 = mean over B_t's states of
    KL(π_t(·|s) || π_{t-1}(·|s))`` (scale-free), ``KL_a|s_tm1||t`` the same over B_{t-1}'s states
    with the roles swapped, and ``C = H + KL``.

    Args:
        policy_t, policy_prev: the :class:`lib.policies.GaussianPolicy` of B_t and of B_{t-1}.
        obs_t: (n, obs_dim) states of B_t; obs_prev: (m, obs_dim) of B_{t-1} (raw, as stored).
        std0: the env's initial policy std (the features' action unit).
        mean_t, mean_prev: ``policy_t.mean(obs_t)`` and ``policy_prev.mean(obs_prev)`` if already
            computed (:func:`policy_means`; a learning run computed B_{t-1}'s one step earlier), else None.
    Returns:
        ``{name: value}`` for the names of :data:`POLICY_FEATURES`.
    """
    with torch.no_grad():
        obs_t, obs_prev = torch.as_tensor(obs_t), torch.as_tensor(obs_prev)
        mean_t = policy_means(policy_t, obs_t) if mean_t is None else mean_t
        mean_prev = policy_means(policy_prev, obs_prev) if mean_prev is None else mean_prev
        ls_t, ls_p = policy_t.log_std, policy_prev.log_std
        h_t = float(gaussian_entropy(ls_t)) - ls_t.numel() * np.log(std0)
        h_p = float(gaussian_entropy(ls_p)) - ls_p.numel() * np.log(std0)
        kl_fwd = float(gaussian_kl(mean_t, ls_t, policy_prev.mean(obs_t), ls_p).mean())
        kl_bwd = float(gaussian_kl(mean_prev, ls_p, policy_t.mean(obs_prev), ls_t).mean())
    return {"H_a|s_t": h_t, "H_a|s_tm1": h_p, "C_a|s_t,tm1": h_t + kl_fwd, "C_a|s_tm1,t": h_p + kl_bwd,
            "KL_a|s_t||tm1": kl_fwd, "KL_a|s_tm1||t": kl_bwd}


def knn_vs_exact(runs: pd.DataFrame) -> pd.DataFrame:
    """The k-NN policy features of learning runs next to their closed forms, per env (means
    over steps): H(a|s) against the Gaussian policy's entropy (the run's ``exact:H_a|s_t``,
    :func:`exact_policy_features`), and KL(a|s)(t−1‖t) against the update's realised mean KL.

    Args:
        runs: :func:`lib.trust_region_meta.learning.learn` tables with features, stacked.
    """
    prev_kl = runs.groupby("env").kl.shift(1)
    d = runs.assign(_h=runs["exact:H_a|s_t"], _kl=prev_kl)
    return d.groupby("env").apply(lambda g: pd.Series({
        "H(a|s) knn": g["H_a|s_t"].mean(),
        "H(a|s) exact": g._h.mean(),
        "KL(a|s)(t-1||t) knn": g["KL_a|s_tm1||t"].iloc[1:].mean(),
        "realised KL exact": g._kl.iloc[1:].mean(),
    }), include_groups=False)
