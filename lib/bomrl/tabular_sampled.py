"""Tabular BO-MRL on sampled data, as the authors' Frozen Lake code runs it (notebook 12), beside exact
versions of the same steps. Its constants are :mod:`.frozen_lake_protocol`.

What their code does (repository ``xsy786912649/Bilevel-optimization-MRL``, folder ``BOMRL_discrete_my``,
commit 08feaa5; read for this study, summarised in ``docs/paper2_bomrl.md``; their reported numbers are
:mod:`.authors_data`):

* **Tasks**: deterministic 4x4 Frozen Lake (``is_slippery=False``), start top-left, goal bottom-right,
  reward on the cell *entered* at every step, discount 0.8, 49 steps (0.8^49 < 2e-5, so the
  infinite discounted sum used here differs by less than that). ``"hole"`` (high task variance):
  their 10 maps, holes absorbing at -1 per step, the goal absorbing at +1 per step. ``"nohole"``
  (low variance): their 20 maps only mark penalty cells (-0.5 per step, not terminal) on an
  all-frozen grid. The maps are committed in :data:`MAPS_FILE` with the SHA-256 of each ``.npy``.
* **Data**: one collection = 500 episodes of 49 steps from the start; Q by TD(0) (step 0.3,
  expected-SARSA target under the collecting policy) along the transitions in the order sampled;
  state weights d = discounted visit counts, normalised (:func:`sampled_data`).
* **Alg(1)** (forward KL): per state, 20 SGD steps (lr 0.6) on ``-π_θ·A/λ + KL(π_φ‖π_θ)`` (probabilities
  clipped at 1e-4). **Alg(2)** (reverse KL): ``θ' = φ + Q/λ`` (:func:`adapt`). No Alg(3) code.
* **Meta-gradient**: first order, ``d'(s) π'(a|s) A'(s,a)`` from a second collection at the adapted
  policy, applied to φ (dθ'/dφ taken as the identity); Adam (lr 0.03), 150 iterations, 5 training
  maps per iteration, full 16x4 logits initialised at 0.1; λ = 5 (hole) / 4 (nohole) in training.
* **Meta-test** on the training maps, 0-4 adaptation steps with new data each, at a test λ that
  differs from training (:data:`.frozen_lake_protocol.TEST_LAM`). Their "MAML" is 4 policy-gradient steps of size 50 on
  ``d π A`` from BO-MRL's own learned prior; "random initialisation" is θ = 0 adapted by Alg at λ
  x2 (hole) / x10 (nohole).

Beside their protocol the same methods run with exact data (Q, d and J in closed form:
:mod:`lib.bomrl.tabular`), with our exact implicit meta-gradient (:func:`lib.bomrl.exact.meta_gradient`,
exact inner solution) and with a MAML-trained prior (exact second-order MAML, step matched to their
PG step), tested on their maps and on held-out maps from their generator's rules. Every policy's
return is evaluated exactly.
"""
from __future__ import annotations

import hashlib
import io
import numpy as np
import pandas as pd
import torch

from lib.bomrl import exact
from lib.bomrl.frozen_lake_protocol import (
    FROZEN_LAKE_AUTHORS,
    GAMMA,
    KINDS,
    PENALTY,
    FrozenLakeProtocol,
)
from lib.bomrl.tabular import evaluate, optimal
from lib.envs.frozen_lake import N_ACTIONS, N_STATES, SIZE, TabularTasks, _reachable
from lib.paths import ROOT

DTYPE = torch.float64
MAPS_REPOSITORY = "xsy786912649/Bilevel-optimization-MRL"
MAPS_COMMIT = "08feaa51b73af921bdc0135f7bf167d47f691169"
MAPS_FILE = ROOT / "data" / "external" / "bomrl_authors_frozen_lake_maps.csv"  # kind, index, map, npy_sha256, source
MOVES = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}  # Gymnasium's LEFT, DOWN, RIGHT, UP


def npy_sha256(rows) -> str:
    """SHA-256 of the ``.npy`` file ``np.save`` writes for a map given as its rows (their file format)."""
    buf = io.BytesIO()
    np.save(buf, np.array(list(rows)))
    return hashlib.sha256(buf.getvalue()).hexdigest()


def load_maps(path, kind: str) -> list[tuple[str, ...]]:
    """The authors' maps of ``kind`` from the committed table, in their file order; each map's
    ``.npy`` checksum is verified against the one recorded from their repository.

    Raises:
        ValueError: unknown kind, or a map whose bytes differ from the authors' file.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    table = pd.read_csv(path)
    table = table[table.kind == kind].sort_values("index")
    maps = []
    for _, row in table.iterrows():
        rows = tuple(row["map"].split("/"))
        if npy_sha256(rows) != row.npy_sha256:
            raise ValueError(f"map {kind} {row['index']} does not match the authors' file {row.path} (checksum)")
        maps.append(rows)
    return maps


def model(desc, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic transitions P (S, A, S) and rewards R (S, A) of one map under the authors' rules.

    The next cell is the move clipped at the border; ``"hole"``: holes and the goal are
    absorbing; ``"nohole"``: only the goal is (the map's H cells are penalties). The reward is that
    of the cell entered (staying in an absorbing cell enters it again): +1 goal, :data:`PENALTY` H.
    """
    flat = "".join(desc)
    absorbing = set("GH") if kind == "hole" else {"G"}
    reward = {"G": 1.0, "H": PENALTY[kind]}
    P = np.zeros((N_STATES, N_ACTIONS, N_STATES))
    R = np.zeros((N_STATES, N_ACTIONS))
    for s in range(N_STATES):
        r, c = divmod(s, SIZE)
        for a, (dr, dc) in MOVES.items():
            nxt = s if flat[s] in absorbing else min(max(r + dr, 0), SIZE - 1) * SIZE + min(max(c + dc, 0), SIZE - 1)
            P[s, a, nxt] = 1.0
            R[s, a] = reward.get(flat[nxt], 0.0)
    return P, R


def make_tasks(maps, kind: str) -> TabularTasks:
    """A :class:`TabularTasks` batch of the authors' task kind (discount :data:`GAMMA`)."""
    models = [model(m, kind) for m in maps]
    rho0 = torch.zeros(N_STATES, dtype=DTYPE)
    rho0[0] = 1.0
    return TabularTasks(torch.as_tensor(np.stack([m[0] for m in models]), dtype=DTYPE),
                        torch.as_tensor(np.stack([m[1] for m in models]), dtype=DTYPE), rho0, GAMMA, tuple(maps))


def heldout_maps(rng: np.random.Generator, n: int, kind: str) -> list[tuple[str, ...]]:
    """``n`` new maps from the rules of their generators: each cell a hole with probability 0.2,
    start and goal fixed, redrawn until the goal is reachable; ``"hole"`` maps also keep every cell
    with row + column <= 2 frozen."""
    out = []
    while len(out) < n:
        grid = np.where(rng.random((SIZE, SIZE)) < 0.2, "H", "F")
        if kind == "hole":
            grid[np.add.outer(np.arange(SIZE), np.arange(SIZE)) <= 2] = "F"
        grid[0, 0], grid[-1, -1] = "S", "G"
        rows = tuple("".join(r) for r in grid)
        if _reachable(rows):
            out.append(rows)
    return out


# --- data: exact, or sampled as the authors do ------------------------------------------------

def exact_data(tasks: TabularTasks, logits: torch.Tensor) -> dict:
    """``pi, d, Q, A, J`` of full logits (n, S, A) in closed form: d the normalised discounted visitation."""
    pi = torch.softmax(logits, -1)
    ev = evaluate(tasks, pi)
    Q = ev["Q"]
    return dict(pi=pi, d=ev["nu"], Q=Q, A=Q - (pi * Q).sum(-1, keepdim=True), J=ev["J"])


def sampled_data(tasks: TabularTasks, logits: torch.Tensor, rng: np.random.Generator, episodes: int = 500,
                 length: int = 49, td_step: float = 0.3) -> dict:
    """One data collection per task as the authors' ``sample_trajectorie``: ``episodes`` episodes of
    ``length`` steps from the start, Q by TD(0) with an expected-SARSA target, updated in the order
    the transitions were sampled (episode after episode), d the normalised discounted visit counts.

    Returns:
        ``pi, d, Q, A`` (n, S[, A]) tensors and ``J`` (n,) the mean sampled discounted return.
    """
    pi = torch.softmax(logits, -1).detach()
    n = tasks.n
    nxt = tasks.P.argmax(-1).numpy()  # deterministic: (n, S, A)
    R = tasks.R.numpy()
    probs = pi.numpy()
    d = np.zeros((n, N_STATES))
    Q = np.zeros((n, N_STATES, N_ACTIONS))
    J = np.zeros(n)
    disc = GAMMA ** np.arange(length + 1)
    for i in range(n):
        states = np.zeros((episodes, length + 1), dtype=int)
        actions = np.zeros((episodes, length), dtype=int)
        cum = np.cumsum(probs[i], axis=1)
        for t in range(length):
            u = rng.random(episodes)
            a = np.minimum((u[:, None] > cum[states[:, t]]).sum(1), N_ACTIONS - 1)
            actions[:, t] = a
            states[:, t + 1] = nxt[i, states[:, t], a]
        rewards = R[i, states[:, :-1], actions]
        J[i] = (rewards * disc[:-1]).sum(1).mean()
        np.add.at(d[i], states, np.broadcast_to(disc, states.shape))
        d[i] /= d[i].sum()
        Q[i] = _td_q(states.tolist(), actions.tolist(), rewards.tolist(), probs[i].tolist(), td_step)
    Qt = torch.as_tensor(Q, dtype=DTYPE)
    return dict(pi=pi, d=torch.as_tensor(d, dtype=DTYPE), Q=Qt, A=Qt - (pi * Qt).sum(-1, keepdim=True),
                J=torch.as_tensor(J, dtype=DTYPE))


def _td_q(states, actions, rewards, pi, step: float) -> np.ndarray:
    """Sequential TD(0) Q table (S, A) along episodes of (s_t, a_t, r_t, s_t+1), plain Python lists
    (the order of updates matters, so this loop cannot be vectorised)."""
    q = [[0.0] * N_ACTIONS for _ in range(N_STATES)]
    for ep_s, ep_a, ep_r in zip(states, actions, rewards):
        for t, (s, a, r) in enumerate(zip(ep_s, ep_a, ep_r)):
            s2 = ep_s[t + 1]
            q2, p2 = q[s2], pi[s2]
            v2 = q2[0] * p2[0] + q2[1] * p2[1] + q2[2] * p2[2] + q2[3] * p2[3]
            q[s][a] += step * (r + GAMMA * v2 - q[s][a])
    return np.asarray(q)


# --- the authors' adaptation and meta-gradient ------------------------------------------------

def adapt(logits: torch.Tensor, data: dict, lam: float, metric: str, sgd_steps: int = 20,
          sgd_lr: float = 0.6, kl_count: int = 1) -> torch.Tensor:
    """Their one-step adaptation from full logits (n, S, A) on one collection's ``data``.

    ``"kl_reverse"`` (Alg(2)): ``φ + Q/λ`` exactly. ``"kl"`` (Alg(1)): ``sgd_steps`` SGD steps per state
    (all states at once: the per-state losses are separate) on ``-π_θ·A/λ + kl_count · KL(π_φ‖π_θ)`` with
    both probability vectors clipped at 1e-4, from θ = φ; returns the log-probabilities of the result.
    ``kl_count = 1`` is the paper's loss; their code's is 4 (``one_step_adaptation`` adds the scalar KL
    to each of the 4 entries of ``-π_θ·A/λ`` before summing), i.e. 4 x the paper's loss at λ' = 4λ.
    """
    if metric == "kl_reverse":
        return logits.detach() + data["Q"] / lam
    if metric != "kl":
        raise ValueError(f"the authors' Frozen Lake code has Alg(1) ('kl') and Alg(2) ('kl_reverse'), got {metric!r}")
    p_phi = torch.softmax(logits.detach(), -1).clamp(1e-4, 1.0)
    theta = logits.detach().clone().requires_grad_(True)
    opt = torch.optim.SGD([theta], lr=sgd_lr)
    for _ in range(sgd_steps):
        opt.zero_grad()
        p = torch.softmax(theta, -1)
        pc = p.clamp(1e-4, 1.0)
        loss = (-(p * data["A"]).sum() / lam + kl_count * (p_phi * (torch.log(p_phi) - torch.log(pc))).sum())
        loss.backward()
        opt.step()
    return torch.log_softmax(theta.detach(), -1)


def first_order_gradient(data: dict) -> torch.Tensor:
    """Their meta-gradient: ``d(s) π(a|s) A(s, a)`` at the adapted policy, averaged over tasks, (S, A)."""
    return (data["d"].unsqueeze(-1) * data["pi"] * data["A"]).mean(0)


def pg_step(logits: torch.Tensor, data: dict, step: float) -> torch.Tensor:
    """Their "MAML" adaptation: ``θ + step · d π A`` (per task), from one collection's data."""
    return logits.detach() + step * data["d"].unsqueeze(-1) * data["pi"] * data["A"]


def reduced(logits: torch.Tensor) -> torch.Tensor:
    """Full logits (..., S, A) -> the reduced ones of :mod:`lib.bomrl.tabular` (last logit 0)."""
    return logits[..., :-1] - logits[..., -1:]


def full(theta: torch.Tensor) -> torch.Tensor:
    """Reduced logits (..., S, A-1) -> full logits with the last one 0."""
    return torch.cat([theta, torch.zeros_like(theta[..., :1])], -1)


# --- methods ----------------------------------------------------------------------------------

METHODS = ("authors", "exact data", "exact implicit", "MAML prior")


def _data(method: str, tasks, logits, rng, proto: FrozenLakeProtocol) -> dict:
    if method == "authors":
        return sampled_data(tasks, logits, rng, proto.episodes, proto.length, proto.td_step)
    return exact_data(tasks, logits)


def meta_train(method: str, metric: str, tasks: TabularTasks, kind: str, rng: np.random.Generator,
               proto: FrozenLakeProtocol = FROZEN_LAKE_AUTHORS) -> tuple[torch.Tensor, pd.DataFrame]:
    """Meta-train a prior with Adam on ``tasks`` (their maps), ``batch_size`` maps per iteration.

    Methods: ``"authors"`` (sampled data, their Alg and first-order gradient), ``"exact data"`` (the
    same steps on exact data), ``"exact implicit"`` (our exact BO-MRL: exact inner solution and
    implicit meta-gradient, :func:`lib.bomrl.exact.meta_gradient`), ``"MAML prior"`` (exact
    second-order MAML with step ``pg_step (1 - γ)``, the exact-gradient size of their PG step;
    ``metric`` unused). Training λ ``proto.train_lam(kind)`` (theirs, :data:`.frozen_lake_protocol.TRAIN_LAM`, by default).

    Returns:
        full logits (S, A) of the prior and a table ``iter, J_meta, J_adapted`` (batch means, exact).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    lam = proto.train_lam(kind)
    phi = torch.full((N_STATES, N_ACTIONS), proto.init, dtype=DTYPE)
    if method in ("exact implicit", "MAML prior"):
        phi = reduced(phi)
    phi.requires_grad_(True)
    opt = torch.optim.Adam([phi], lr=proto.lr)
    rows = []
    for k in range(proto.n_iters):
        batch = tasks.subset(rng.choice(tasks.n, size=min(proto.batch_size, tasks.n), replace=False))
        if method == "exact implicit":
            grad, info = exact.meta_gradient(phi.detach(), batch, exact.AlgConfig(metric=metric, lam=lam))
            j_meta, j_adapted = float(info["J_meta"].mean()), float(info["J_adapted"].mean())
        elif method == "MAML prior":
            grad, info = exact.maml_meta_gradient(phi.detach(), batch, proto.pg_step * (1 - GAMMA))
            j_meta, j_adapted = float(info["J_meta"].mean()), float(info["J_adapted"].mean())
        else:
            logits = phi.detach().expand(batch.n, -1, -1)
            before = _data(method, batch, logits, rng, proto)
            theta = adapt(logits, before, lam, metric, proto.sgd_steps, proto.sgd_lr, proto.kl_count)
            after = _data(method, batch, theta, rng, proto)
            grad = first_order_gradient(after)
            j_meta = float(exact_data(batch, logits)["J"].mean())
            j_adapted = float(exact_data(batch, theta)["J"].mean())
        rows.append(dict(iter=k, J_meta=j_meta, J_adapted=j_adapted))
        opt.zero_grad()
        phi.grad = -grad.to(DTYPE)
        opt.step()
    prior = phi.detach()
    return (full(prior) if prior.shape[-1] == N_ACTIONS - 1 else prior), pd.DataFrame(rows)


def meta_test(prior: torch.Tensor, tasks: TabularTasks, kind: str, adaptation: str, metric: str,
              data: str, rng: np.random.Generator, proto: FrozenLakeProtocol = FROZEN_LAKE_AUTHORS, lam: float | None = None) -> np.ndarray:
    """Exact J after 0..n_adapt_steps adaptations from ``prior`` (full logits), (n_tasks, steps + 1).

    ``adaptation``: ``"alg"`` (their Alg at the protocol's test λ, ``proto.test_lam``, or ``lam``) or ``"pg"`` (their
    PG step of size ``pg_step``); ``data``: ``"sampled"`` (a new collection each step) or ``"exact"``.
    """
    logits = prior.detach().expand(tasks.n, -1, -1).clone()
    lam = proto.test_lam(kind, metric) if lam is None else lam
    out = [exact_data(tasks, logits)["J"]]
    for _ in range(proto.n_adapt_steps):
        d = (sampled_data(tasks, logits, rng, proto.episodes, proto.length, proto.td_step) if data == "sampled"
             else exact_data(tasks, logits))
        logits = (pg_step(logits, d, proto.pg_step) if adaptation == "pg"
                  else adapt(logits, d, lam, metric, proto.sgd_steps, proto.sgd_lr, proto.kl_count))
        out.append(exact_data(tasks, logits)["J"])
    return torch.stack(out, 1).numpy()


def optimal_returns(tasks: TabularTasks) -> np.ndarray:
    """J* per task (policy iteration), (n,)."""
    return optimal(tasks)["J"].numpy()
