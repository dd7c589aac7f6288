"""Why MushroomRL's MLP(3,64) TRPO step points elsewhere (cosine 0.69 in ``trpo_update.csv``).

    make bench-install                                       # the peers (once)
    .venv/bin/python benchmarks/check_mushroom_cg.py         # ~30 s

MushroomRL 1.10.2's ``TRPO._conjugate_gradient`` starts with ``p = b.detach().cpu().numpy()``
and ``r = b.detach().cpu().numpy()``. On CPU both are views of the gradient tensor ``b``, so
``r -= v * z`` also changes ``p`` (and the gradient) during the first iteration, and the
next search direction is built from the wrong ``p``. On GPU ``.cpu()`` copies and the bug
does not show. This script takes the same batch and initial policy as ``bench_trpo.py``,
computes MushroomRL's gradient with its own methods, and reports for each policy the cosine
between our float64 TRPO step and (a) MushroomRL's CG as shipped, (b) the same 10 CG
iterations on MushroomRL's own Fisher-vector product with ``p`` and ``r`` as separate arrays.
"""
from __future__ import annotations

import copy
import sys

import numpy as np
import pandas as pd
import torch

from common import OUT, missing_peer_note, peer_version  # noqa: E402  (sets sys.path)

import bench_trpo as bt  # noqa: E402
from lib.envs import get_spec  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.trpo import trpo_step  # noqa: E402


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def separate_arrays_cg(agent, b: np.ndarray, obs, old_dist, iters: int = 10) -> np.ndarray:
    """MushroomRL's CG loop, float32 like it, with ``p`` and ``r`` copies of ``b``."""
    p, r, x = b.copy(), b.copy(), np.zeros_like(b)
    r2 = r @ r
    for _ in range(iters):
        z = agent._fisher_vector_product(p, obs, old_dist).detach().numpy()
        v = r2 / (p @ z)
        x += v * p
        r -= v * z
        r2_new = r @ r
        p = r + (r2_new / r2) * p
        r2 = r2_new
    return x


def in_our_order(agent, arch, start, vec: np.ndarray) -> np.ndarray:
    """A MushroomRL parameter-space vector (its ``get_weights`` order) in our parameter order."""
    w0 = agent.policy.get_weights().copy()
    eps = 1e-3  # a small displacement read back through our layout; the map is linear
    agent.policy.set_weights(w0 + eps * vec.astype(np.float32))
    layers = [m for m in agent.policy._mu.model.network.net if isinstance(m, torch.nn.Linear)]
    moved = bt.as_ours(arch, layers, agent.policy._log_sigma.detach())
    agent.policy.set_weights(w0)
    return bt.step_vector(moved, start).numpy() / eps


def check(arch) -> dict:
    from mushroom_rl.utils.torch import get_gradient, zero_grad

    policy, obs, act, adv = bt.fixed_batch(arch)
    start = copy.deepcopy(policy)
    exact = copy.deepcopy(policy)
    trpo_step(exact, obs, act, adv, bt.KL_BOUND, fisher_dtype=torch.float64)
    reference = bt.step_vector(exact, start).numpy()
    agent = bt.mushroom_agent(arch, policy)
    scale = np.asarray(get_spec(bt.ENV).obs_scale)
    o, a, d = (torch.as_tensor(x, dtype=torch.float32) for x in (obs * scale, act, adv[:, None]))
    old_policy = copy.deepcopy(agent.policy)  # as TRPO.fit does: the KL's first argument is constant
    old_dist = old_policy.distribution_t(o)
    old_log_prob = old_policy.log_prob_t(o, a).detach()
    zero_grad(agent.policy.parameters())
    agent._compute_loss(o, a, d, old_log_prob).backward()
    grad = get_gradient(agent.policy.parameters())
    b = grad.numpy().copy()
    shipped = agent._conjugate_gradient(grad.clone(), o, old_dist)
    probe = grad.clone()
    agent._conjugate_gradient(probe, o, old_dist)
    fixed = separate_arrays_cg(agent, b, o, old_dist)
    return dict(arch=f"MLP{tuple(arch)}", cg_changes_its_input=not np.array_equal(probe.numpy(), b),
                cosine_shipped_cg=cosine(in_our_order(agent, arch, start, shipped), reference),
                cosine_separate_arrays=cosine(in_our_order(agent, arch, start, fixed), reference))


def main() -> None:
    if not peer_version("mushroom_rl"):
        sys.exit(missing_peer_note("mushroom_rl"))
    torch.set_num_threads(1)
    table = pd.DataFrame([check(arch) for arch in ((0, 0), (3, 64))])
    print(table.round(5).to_string(index=False))
    save_table(table, OUT / "mushroom_cg.csv",
               params=dict(seed=0, env=bt.ENV, kl_bound=bt.KL_BOUND, n_steps=bt.N_STEPS, cg_iters=10,
                           mushroom_rl=peer_version("mushroom_rl")))


if __name__ == "__main__":
    main()
