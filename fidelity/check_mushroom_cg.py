"""Why MushroomRL's MLP(3,64) TRPO step points elsewhere (cosine 0.69 in ``trpo_update.csv``).

    make bench-install                                       # the peers (once)
    .venv/bin/python fidelity/check_mushroom_cg.py         # ~30 s

MushroomRL 1.10.2's ``TRPO._conjugate_gradient`` starts with ``p = b.detach().cpu().numpy()``
and ``r = b.detach().cpu().numpy()``. On CPU both are views of the gradient tensor ``b``, so
``r -= v * z`` also changes ``p`` (and the gradient) during the first iteration, and the
next search direction is built from the wrong ``p``. On GPU ``.cpu()`` copies and the bug
does not show. This script takes the same batch and initial policy as ``bench_trpo.py``,
computes MushroomRL's gradient with its own methods, and reports for each policy the cosine
between our float64 TRPO step and (a) MushroomRL's CG as shipped, (b) the same 10 CG
iterations on MushroomRL's own Fisher-vector product by ``lib.trpo.conjugate_gradient``,
whose ``p`` and ``r`` are separate tensors.
"""
from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))  # the peers' helpers

import bench_trpo as bt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from common import ROOT, missing_peer_note, peer_version  # noqa: E402  (sets sys.path)

from lib.envs import get_spec  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.trpo import conjugate_gradient, trpo_step  # noqa: E402

OUT = ROOT / "data" / "full" / "fidelity"


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


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
    policy, obs, act, adv = bt.fixed_batch(arch)
    start = copy.deepcopy(policy)
    exact = copy.deepcopy(policy)
    trpo_step(exact, obs, act, adv, bt.KL_BOUND, dtype=torch.float64)
    reference = bt.step_vector(exact, start).numpy()
    agent = bt.mushroom_agent(arch, policy)
    scale = np.asarray(get_spec(bt.ENV).obs_scale)
    o, a, d = (torch.as_tensor(x, dtype=torch.float32) for x in (obs * scale, act, adv[:, None]))
    grad, old_dist, _, _ = bt.mushroom_gradient(agent, o, a, d)
    b = grad.clone()
    shipped = agent._conjugate_gradient(grad, o, old_dist)  # changes grad in place on CPU
    # the same 10 iterations on its Fisher product, with x, r and p separate tensors
    fixed = conjugate_gradient(lambda v: agent._fisher_vector_product_t(v, o, old_dist), b,
                               iters=agent._n_epochs_cg(), tol=agent._cg_residual_tol())
    return dict(arch=f"MLP{tuple(arch)}", cg_changes_its_input=not torch.equal(grad, b),
                cosine_shipped_cg=cosine(in_our_order(agent, arch, start, shipped), reference),
                cosine_separate_arrays=cosine(in_our_order(agent, arch, start, fixed.numpy()), reference))


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
