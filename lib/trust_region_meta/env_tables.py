"""Tables that describe the environments and their task distributions (notebook 01)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib.envs import cartpole, elikoeidis, get_spec, minigolf
from lib.rollouts import rollout
from lib.seeding import rng as make_rng


def elikoeidis_landscape(actions=np.linspace(-2, 12, 1401)) -> pd.DataFrame:
    """Mean reward m(a) and expected step reward of N(mu, sigma^2) for sigma = 0.3, 1.

    Returns: columns ``x, curve, value`` with curve in
    ``{"m(a)", "E[m], sigma=0.3", "E[m], sigma=1"}`` (x is a or mu).
    """
    task = np.asarray(elikoeidis.DEFAULT_TASK)
    parts = [pd.DataFrame(dict(x=actions, curve="m(a)", value=elikoeidis.mean_reward(actions, task)))]
    for sigma in (0.3, 1.0):
        parts.append(pd.DataFrame(dict(x=actions, curve=f"E[m], sigma={sigma:g}",
                                       value=elikoeidis.expected_step_reward(actions, sigma, task))))
    return pd.concat(parts, ignore_index=True)


def elikoeidis_local_maxima(table: pd.DataFrame) -> pd.DataFrame:
    """Local maxima of m(a) for a > 0 from the landscape table: columns ``a, m``."""
    m = table[table.curve == "m(a)"]
    a, v = m.x.to_numpy(), m.value.to_numpy()
    peak = (v[1:-1] > v[:-2]) & (v[1:-1] > v[2:]) & (a[1:-1] > 0)
    return pd.DataFrame(dict(a=a[1:-1][peak], m=v[1:-1][peak]))


def minigolf_windows(tasks: np.ndarray, x=np.linspace(0, 20, 201)) -> pd.DataFrame:
    """Actions that hole the ball without noise, per task: ``[v_min/l, v_max/l]`` vs x."""
    rows = []
    for i, (length, friction) in enumerate(tasks):
        v_min, v_max = minigolf.speed_window(x, np.full_like(x, friction))
        rows.append(pd.DataFrame(dict(task=i, putter_length=length, friction=friction, x=x,
                                      a_low=v_min / length, a_high=v_max / length)))
    return pd.concat(rows, ignore_index=True)


def minigolf_reference_returns(tasks: np.ndarray, n_traj: int, seed: int) -> pd.DataFrame:
    """Returns per episode of the initial policy N(0, 1) and of the task-aware oracle."""
    spec = get_spec("minigolf")
    rows = []
    for i, task in enumerate(tasks):
        many = np.tile(task, (n_traj, 1))
        policies = {
            "initial N(0,1)": lambda obs, r: r.standard_normal((len(obs), 1)),
            "oracle": lambda obs, r, m=many: minigolf.oracle_action(obs[:, 0], m[: len(obs)])[:, None],
        }
        for name, act_fn in policies.items():
            batch = rollout(spec, act_fn, many, make_rng(seed, "01", "minigolf", i, name))
            rows.append(pd.DataFrame(dict(task=i, policy=name, episode=np.arange(n_traj),
                                          ret=batch.returns)))
    return pd.concat(rows, ignore_index=True)


def cartpole_falls(tasks: np.ndarray, seed: int) -> pd.DataFrame:
    """Pole angle over time with zero force from the same tilted start, per task."""
    rows = []
    for i, task in enumerate(tasks):
        state = np.array([[0.0, 0.0, 0.02, 0.0]])
        for t in range(cartpole.HORIZON + 1):
            rows.append(dict(task=i, cart_mass=task[0], pole_mass=task[1], half_length=task[2],
                             t=t * cartpole.TAU, theta=state[0, 2]))
            if abs(state[0, 2]) > cartpole.THETA_LIMIT or t == cartpole.HORIZON:
                break
            state, _, _ = cartpole.step_batch(state, np.zeros((1, 1)), task[None])
    return pd.DataFrame(rows)


def overview(cfg) -> dict[str, pd.DataFrame]:
    """All tables of notebook 01 for an :class:`lib.trust_region_meta.config.EnvsConfig`, keyed by name."""
    mg_tasks = get_spec("minigolf").sample_tasks(make_rng(cfg.seed, "01", "minigolf"), cfg.n_tasks)
    cp_tasks = get_spec("cartpole").sample_tasks(make_rng(cfg.seed, "01", "cartpole"), cfg.n_tasks)
    land = elikoeidis_landscape()
    return {
        "elikoeidis_landscape": land,
        "elikoeidis_maxima": elikoeidis_local_maxima(land),
        "minigolf_windows": minigolf_windows(mg_tasks),
        "minigolf_returns": minigolf_reference_returns(mg_tasks, cfg.n_traj, cfg.seed),
        "cartpole_falls": cartpole_falls(cp_tasks, cfg.seed),
    }
