"""Check the authors' MAML-TRPO as we run it (:mod:`lib.bomrl.maml_authors`) against their own code, run
unmodified beside it: one meta-iteration on identical data, HalfCheetah and Ant, velocity and direction; and
their Gym 0.26 environments (``HalfCheetah-v4``, ``Ant-v4``) against ours from the same states and actions.

Our sampler draws the meta-batch (velocity: 10 tasks x 20 trajectories, 5 x that after adaptation;
direction: 4 tasks, 40 trajectories for Ant) from notebook 13's initial policy and filter; the same arrays go through their
functions (``compute_adavatage``, ``task_specific_adaptation_nograd``, ``policy_gradient_obain``,
``task_specific_adaptation_grad`` inside their ``get_loss``, ``get_kl`` and ``trpo.trpo_step``, as their
``__main__`` calls them) and through ours, both in float64. The table gives the relative difference of
each intermediate (max over tasks). Their returns use the trajectory's continuation as the tail, as
our sampler does, so no tail is swapped here.

Their code is not part of this repository. To run this script, check out
``xsy786912649/Bilevel-optimization-MRL`` at ``08feaa5`` and install gym 0.26 where only this script sees it::

    git clone https://github.com/xsy786912649/Bilevel-optimization-MRL /tmp/bomrl
    git -C /tmp/bomrl checkout 08feaa5
    pip install --target /tmp/gym026 gym==0.26.2 && rm -rf /tmp/gym026/numpy*
    python fidelity/check_maml_against_authors.py --authors /tmp/bomrl/MAML_my --gym /tmp/gym026

It writes ``data/full/fidelity/maml_authors_check.csv`` (with its manifest); about 3 minutes on one core for
Half-cheetah, 15 for Ant.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fidelity"))

import numpy as np
import torch

import common  # noqa: E402  (fidelity/common.py: the shared command line and table)

from check_against_authors_code import captured_rewards, flat, from_their_net, ours_order, rel, to_memory, to_their_net
from lib.bomrl import functional_policy as fp
from lib.bomrl import locomotion_study as study
from lib.bomrl import maml_authors, sampled_adam, sampler
from lib.bomrl.sampler import TaskData

SCRIPTS = {"halfcheetah-vel": "train_trpo_HalfCheetah_vel", "halfcheetah-dir": "train_trpo_HalfCheetah_dir",
           "ant-vel": "train_trpo_Ant_vel", "ant-dir": "train_trpo_Ant_dir"}
GOAL_TERMS = {"vel": lambda v, g: -abs(v - g), "dir": lambda v, g: v * g}  # their reward lines, before the rest


def their_reward(family: str, info: dict, action: np.ndarray, goal: float) -> float:
    """The reward their ``sample_data_for_task_specific`` computes from Gym's step ``info`` (R1 MAML_my/train_trpo_*.py)."""
    term = GOAL_TERMS[family.split("-")[1]](info["x_velocity"], goal)
    if family.startswith("ant"):
        return term + 0.05 + info["reward_survive"] + info["reward_ctrl"] * 1e-2
    return term - 0.5 * 1e-1 * np.sum(np.square(action))


def env_check(A, family: str, n_states: int = 3, n_steps: int = 40, seed: int = 0) -> list[dict]:
    """Their Gym 0.26 env (``A.env``) against ours from the same states and actions: the largest
    absolute difference of the observation and of the reward over ``n_states`` x ``n_steps`` steps."""
    from lib.envs.mujoco_batch import batch_for
    rng = np.random.default_rng(seed)
    sim = batch_for(family, n_states)
    sim.reset(rng)
    env = A.env.unwrapped
    goal = 1.3 if family.endswith("vel") else -1.0
    d_obs = d_rew = 0.0
    for i, d in enumerate(sim.datas):
        env.reset(seed=seed)
        env.set_state(d.qpos.copy(), d.qvel.copy())
        one = batch_for(family, 1)
        one.set_state(d.qpos[None].copy(), d.qvel[None].copy())
        for _ in range(n_steps):
            a = rng.uniform(-1, 1, size=sim.model.nu)
            obs, _, _, _, info = env.step(a)
            ours, vel = one.step(a[None])
            d_obs = max(d_obs, float(np.abs(ours[0] - obs).max()))
            mine = sampler.task_rewards(family, np.array([goal]), vel, a[None])[0]
            d_rew = max(d_rew, abs(mine - their_reward(family, info, a, goal)))
    return [dict(quantity="observation (max abs difference)", value=d_obs, n=n_states * n_steps),
            dict(quantity="reward (max abs difference)", value=d_rew, n=n_states * n_steps)]


def import_authors(authors: Path, gym_site: Path, family: str):
    """Their MAML training script of ``family`` as a module (its top level parses argv, makes the env and the filter)."""
    if not hasattr(np, "bool8"):
        np.bool8 = np.bool_  # gym 0.26 on numpy 2
    for p in (str(authors), str(gym_site)):
        if p not in sys.path:
            sys.path.insert(0, p)
    argv, sys.argv = sys.argv, [SCRIPTS[family] + ".py"]
    cwd = os.getcwd()
    os.chdir(tempfile.mkdtemp())  # an empty check_point/: nothing of theirs is loaded
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module = importlib.import_module(SCRIPTS[family])
    finally:
        os.chdir(cwd)
        sys.argv = argv
    return module


def their_view(A, d: TaskData, rew: np.ndarray):
    """``(batch, centred returns (n T, 1), our TaskData with their returns)`` of one task's trajectories."""
    batch, extra = to_memory(A, d, rew)
    q = A.compute_adavatage(batch, extra, d.obs.shape[0])
    q = q - q.mean()
    return batch, q, TaskData(d.obs, d.act, d.mask, q.reshape(d.adv.shape).clone(), d.returns, d.task)


def one_iteration(A, family: str, phi, norm, cfg, proto, seed: int) -> list[dict]:
    """Rows ``quantity, value, n``: relative difference of one meta-iteration, ours vs theirs."""
    k, n, act_dim = cfg.meta_batch[family], cfg.n_traj[family], phi[-1].numel()
    tasks = study.train_tasks(cfg, proto, family, 0, seed)
    method = maml_authors.AuthorsMAML(family, proto)
    diffs: dict[str, list] = {}
    with captured_rewards() as captured:
        pre, _, _ = sampler.sample_filtered(family, phi, tasks, n, norm, seed + 1, proto)
        ours_adv = [d.adv for d in pre]
        views = [their_view(A, d, captured[-1][j * n:(j + 1) * n]) for j, d in enumerate(pre)]
        thetas, nets = [], []
        for (batch, q, d), adv in zip(views, ours_adv):
            diffs.setdefault("centred returns", []).append(rel(adv.reshape(-1), q.reshape(-1)))
            net = to_their_net(A, phi)
            net = A.task_specific_adaptation_nograd(net, to_their_net(A, phi), batch, q, proto.maml_lr)
            thetas.append(method.adapt(phi, d))
            nets.append(net)
            diffs.setdefault("adapted policy theta", []).append(rel(flat(thetas[-1]), flat(from_their_net(net))))
        post, _, _ = sampler.sample_filtered(family, thetas, tasks, cfg.post_factor * n, norm, seed + 2, proto)
        m = cfg.post_factor * n
        post_views = [their_view(A, d, captured[-1][j * m:(j + 1) * m]) for j, d in enumerate(post)]
    grads = []
    for net, theta, (after, qa, dp) in zip(nets, thetas, post_views):
        _, g = A.policy_gradient_obain(net, after, qa)
        grads.append(g)
        diffs.setdefault("post-adaptation gradient g", []).append(
            rel(sampled_adam.post_loss_gradient(theta, dp), ours_order(torch.cat([x.reshape(-1) for x in g]), act_dim)))
    meta_net = to_their_net(A, phi)

    def their_loss(volatile=False):  # their __main__'s get_loss
        total = 0.0
        for (batch, q, _), g in zip(views, grads):
            new = A.task_specific_adaptation_grad(meta_net, batch, q, proto.maml_lr)
            total = total + (torch.cat([x.contiguous().view(-1) for x in g]) * torch.cat([p.contiguous().view(-1) for p in new])).sum() / k
        return total

    states = torch.cat([torch.as_tensor(np.array(b.state)) for b, _, _ in views])
    with torch.no_grad():
        m0, l0, s0 = meta_net(states)

    def their_kl():  # their __main__'s get_kl: every task's pre-adaptation states
        m1, l1, s1 = meta_net(states)
        return (l1 - l0 + (s0.pow(2) + (m0 - m1).pow(2)) / (2.0 * s1.pow(2)) - 0.5).sum(1, keepdim=True)

    their_grad = torch.cat([x.reshape(-1) for x in torch.autograd.grad(their_loss(), meta_net.parameters())])
    pre_theirs = [d for _, _, d in views]
    gs = [sampled_adam.post_loss_gradient(th, dp) for th, (_, _, dp) in zip(thetas, post_views)]
    leaf = fp.detach(phi)
    ours_grad = fp.flat(torch.autograd.grad(maml_authors.outer_loss(leaf, pre_theirs, gs, proto.maml_lr), leaf)).detach()
    diffs["meta-gradient"] = [rel(ours_grad, ours_order(their_grad, act_dim))]
    with contextlib.redirect_stdout(io.StringIO()):
        A.trpo_step(meta_net, their_loss, their_kl, proto.maml_max_kl[family], proto.cg_damping)
    phi_new, info = method.outer(phi, pre_theirs, [d for _, _, d in post_views], thetas)
    diffs["outer step phi' - phi"] = [rel(flat(phi_new) - flat(phi), flat(from_their_net(meta_net)) - flat(phi))]
    rows = [dict(quantity=q, value=max(v), n=len(v)) for q, v in diffs.items()]
    rows.append(dict(quantity="KL(phi || phi') of our step (max_kl %g)" % proto.maml_max_kl[family], value=info["kl"], n=1))
    return rows


def main(argv=None) -> int:
    parser = common.parser(__doc__, "their MAML_my folder at 08feaa5", "maml_authors_check.csv")
    parser.add_argument("--family", nargs="+", default=list(SCRIPTS), choices=list(SCRIPTS))
    args = parser.parse_args(argv)
    cfg, proto = common.float64_protocol()
    rows = []
    for family in args.family:
        A = import_authors(args.authors.resolve(), args.gym.resolve(), family)
        init = study.initial_state(cfg, study.protocol(cfg), family, 0)
        phi = [p.detach().double().clone().requires_grad_(True) for p in init["phi"]]
        for r in env_check(A, family):
            rows.append(dict(check=f"their Gym 0.26 env vs ours, {family}", **r))
            print(rows[-1], flush=True)
        for r in one_iteration(A, family, phi, sampler.ObsNorm.from_state(init["norm"]), cfg, proto, seed=5):
            rows.append(dict(check=f"one meta-iteration, initial policy, {family}", **r))
            print(rows[-1], flush=True)
        sys.modules.pop(SCRIPTS[family], None)
    return common.write(rows, args, seed=5)


if __name__ == "__main__":
    raise SystemExit(main())
