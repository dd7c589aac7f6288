"""Frozen Lake task distributions for paper 2's exact experiment (tabular, no sampling).

A task is a 4x4 Frozen Lake map: start ``S`` in the top-left corner, one goal ``G`` and a
few holes ``H``. Transitions come from Gymnasium's ``FrozenLakeEnv`` (slippery: the
intended move and the two perpendicular ones, 1/3 each); reaching ``G`` pays 1, holes and
the goal are absorbing with no further reward. The discounted return
``J_tau(pi) = E[sum_t gamma^t r_t]`` is computed exactly (:mod:`lib.bomrl.tabular`).

The task distribution is set by two numbers:

* ``goal_radius``: the goal is uniform over the cells within that Manhattan distance of
  the bottom-right corner (0: always the corner; 6: anywhere but the start);
* ``n_holes``: holes uniform over the remaining cells, redrawn until the goal is reachable.

A larger radius spreads the optimal task-specific policies apart, i.e. a larger
task-distribution variance Var(P(Gamma)) in the sense of the paper (computed exactly in
:func:`lib.bomrl.exact.task_variance`). ``PRESETS`` names the two settings of our figure.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import torch

SIZE = 4
N_STATES, N_ACTIONS = SIZE * SIZE, 4
PRESETS = {"low": dict(goal_radius=1, n_holes=2), "high": dict(goal_radius=6, n_holes=2)}
DTYPE = torch.float64


def check_distribution(goal_radius: int, n_holes: int) -> None:
    """Raise a ValueError for a radius outside 0..6 or a hole count outside 0..8."""
    if not 0 <= int(goal_radius) <= 2 * (SIZE - 1):
        raise ValueError(f"goal_radius must be in 0..{2 * (SIZE - 1)}, got {goal_radius}")
    if not 0 <= int(n_holes) <= 8:
        raise ValueError(f"n_holes must be in 0..8, got {n_holes}")


def make_map(goal: int, holes) -> tuple[str, ...]:
    """The Gymnasium ``desc`` rows for a goal cell and hole cells (cell = row * 4 + col)."""
    cells = ["F"] * N_STATES
    cells[0] = "S"
    cells[goal] = "G"
    for h in holes:
        cells[h] = "H"
    return tuple("".join(cells[r * SIZE:(r + 1) * SIZE]) for r in range(SIZE))


def _reachable(desc) -> bool:
    """Whether G can be reached from S through non-hole cells (4-neighbourhood)."""
    flat = "".join(desc)
    seen, todo = {0}, deque([0])
    while todo:
        s = todo.popleft()
        if flat[s] == "G":
            return True
        r, c = divmod(s, SIZE)
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            t = rr * SIZE + cc
            if 0 <= rr < SIZE and 0 <= cc < SIZE and t not in seen and flat[t] != "H":
                seen.add(t)
                todo.append(t)
    return False


def sample_maps(rng: np.random.Generator, n: int, goal_radius: int, n_holes: int) -> list[tuple[str, ...]]:
    """``n`` task maps from the distribution (see the module docstring)."""
    check_distribution(goal_radius, n_holes)
    corner = N_STATES - 1
    goals = [s for s in range(1, N_STATES)
             if abs(s // SIZE - corner // SIZE) + abs(s % SIZE - corner % SIZE) <= goal_radius]
    maps = []
    while len(maps) < n:
        goal = int(rng.choice(goals))
        free = [s for s in range(1, N_STATES) if s != goal]
        holes = rng.choice(free, size=n_holes, replace=False) if n_holes else []
        desc = make_map(goal, holes)
        if _reachable(desc):
            maps.append(desc)
    return maps


def transition_model(desc) -> tuple[np.ndarray, np.ndarray]:
    """Transition tensor P (S, A, S) and expected reward R (S, A) of one map.

    Read from Gymnasium's ``FrozenLakeEnv.P``; the episode's terminal cells (holes, goal)
    become absorbing states with zero reward, so that an infinite discounted sum equals
    the episodic return.
    """
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

    env = FrozenLakeEnv(desc=list(desc), is_slippery=True)
    P = np.zeros((N_STATES, N_ACTIONS, N_STATES))
    R = np.zeros((N_STATES, N_ACTIONS))
    flat = "".join(desc)
    for s in range(N_STATES):
        for a in range(N_ACTIONS):
            if flat[s] in "GH":
                P[s, a, s] = 1.0
                continue
            for prob, nxt, rew, _ in env.P[s][a]:
                P[s, a, nxt] += prob
                R[s, a] += prob * rew
    return P, R


@dataclass(frozen=True)
class TabularTasks:
    """A batch of n tabular MDPs sharing S, A, the start state and gamma.

    Attributes:
        P: (n, S, A, S) transition probabilities. R: (n, S, A) expected rewards.
        rho0: (S,) start distribution. gamma: discount. maps: the n ``desc`` tuples.
    """

    P: torch.Tensor
    R: torch.Tensor
    rho0: torch.Tensor
    gamma: float
    maps: tuple

    @property
    def n(self) -> int:
        return self.P.shape[0]

    def subset(self, idx) -> "TabularTasks":
        """The tasks at integer positions ``idx``."""
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return TabularTasks(self.P[idx], self.R[idx], self.rho0, self.gamma,
                            tuple(self.maps[i] for i in idx.tolist()))


def check_map(desc, name: str = "map") -> None:
    """Raise a ValueError naming ``name`` unless ``desc`` is a 4x4 map of S, F, H and G with
    the start in the top-left corner, exactly one goal, and the goal reachable."""
    rows = list(desc) if not isinstance(desc, str) else [desc]
    flat = "".join(rows)
    if len(rows) != SIZE or any(len(r) != SIZE for r in rows) or set(flat) - set("SFHG"):
        raise ValueError(f"{name} must be {SIZE} rows of {SIZE} cells from S, F, H, G, got {desc!r}")
    if flat[0] != "S" or flat.count("S") != 1:
        raise ValueError(f"{name} must have one start S in the top-left corner, got {desc!r}")
    if flat.count("G") != 1:
        raise ValueError(f"{name} must have exactly one goal G, got {flat.count('G')} in {desc!r}")
    if not _reachable(rows):
        raise ValueError(f"{name}: the goal cannot be reached from the start (holes block it) in {desc!r}")


def make_tasks(maps, gamma: float = 0.9) -> TabularTasks:
    """Stack the transition models of ``maps`` into a :class:`TabularTasks` batch."""
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    if not len(maps):
        raise ValueError("maps must not be empty")
    for i, m in enumerate(maps):
        check_map(m, f"maps[{i}]")
    models = [transition_model(m) for m in maps]
    P = torch.as_tensor(np.stack([m[0] for m in models]), dtype=DTYPE)
    R = torch.as_tensor(np.stack([m[1] for m in models]), dtype=DTYPE)
    rho0 = torch.zeros(N_STATES, dtype=DTYPE)
    rho0[0] = 1.0
    return TabularTasks(P, R, rho0, float(gamma), tuple(maps))


def sample_tasks(rng: np.random.Generator, n: int, goal_radius: int, n_holes: int,
                 gamma: float = 0.9) -> TabularTasks:
    """``n`` tasks drawn from the distribution, as a :class:`TabularTasks` batch."""
    return make_tasks(sample_maps(rng, n, goal_radius, n_holes), gamma)
