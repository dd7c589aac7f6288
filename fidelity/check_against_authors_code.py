"""Check notebook 13's implementation against the authors' own code, run unmodified beside it.

Two checks of the authors' protocol (``lib.bomrl.sampler.sample_filtered``, ``lib.bomrl.sampled_adam``) (HalfCheetah velocity):

1. **One meta-iteration on identical data**, for each of Alg(1), Alg(2), Alg(3) (their ``index`` 1, 2, 3).
   Our sampler draws 10 tasks x 20 trajectories (and 5 x
   that after adaptation); the same arrays go through their functions (``compute_adavatage``,
   ``task_specific_adaptation``, ``policy_gradient_obain``, ``loss_obain_new``, their CG and
   ``trpo_step``, as their ``__main__`` calls them) and through ours, both in float64. The table
   gives the relative difference of each intermediate. Our return tail is replaced by theirs of
   that version (the trajectory's own first 200 rewards, ``docs/paper2_provenance.md``) so that
   both sides adapt on the same advantages.
2. **Their trained policy in our sampler.** Their best-so-far HalfCheetah-velocity Alg(1) policy and
   observation filter (``BOMRL_my/check_point/*_HalfCheetah_vel_1.pkl``), adapted with our
   Alg(1) on the 9 goals of their training log, 20 trajectories per goal, two draws.

Their code is not part of this repository. To run this script, check out
``xsy786912649/Bilevel-optimization-MRL`` at ``82dc4e8`` (2024-03-30, the commit of their
velocity log's last version and of the trained policy; its ``train_trpo_HalfCheetah_vel.py`` differs
from ``aee432e``, the version in effect while the log was written, only in a checkpoint file
name) and install gym 0.26 where only this script sees it::

    git clone https://github.com/xsy786912649/Bilevel-optimization-MRL /tmp/bomrl
    git -C /tmp/bomrl checkout 82dc4e8
    pip install --target /tmp/gym026 gym==0.26.2 && rm -rf /tmp/gym026/numpy*
    python fidelity/check_against_authors_code.py --authors /tmp/bomrl/BOMRL_my --gym /tmp/gym026

(gym 0.26 needs ``np.bool8``, which numpy 2 dropped; the script aliases it.) It writes
``data/full/fidelity/authors_code_check.csv`` (with its manifest). About 15 minutes on one core.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np
import torch

import common  # noqa: E402  (fidelity/common.py: the shared command line and table)

from lib.bomrl import methods, sampled_adam, sampler
from lib.bomrl import locomotion_study as study
from lib.bomrl import functional_policy as fp
from lib.bomrl.sampler import TaskData

FAMILY = "halfcheetah-vel"
LOG_GOALS = np.array([0.1, 0.3, 0.5, 0.7, 1.0, 1.3, 1.5, 1.7, 1.9])  # target_v_list000 of their script
THEIR_NAMES = ["affine1.weight", "affine1.bias", "affine2.weight", "affine2.bias",
               "action_mean.weight", "action_mean.bias", "action_log_std"]  # in our parameter order


def import_authors(authors: Path, gym_site: Path):
    """Their training script as a module (its top level parses argv, makes the env and the filter)."""
    if not hasattr(np, "bool8"):
        np.bool8 = np.bool_  # gym 0.26 on numpy 2
    sys.path[:0] = [str(gym_site), str(authors)]
    argv, sys.argv = sys.argv, ["train_trpo_HalfCheetah_vel.py", "--index", "1"]
    cwd = os.getcwd()
    os.chdir(tempfile.mkdtemp())  # an empty check_point/: nothing of theirs is loaded
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import train_trpo_HalfCheetah_vel as authors_module
    finally:
        os.chdir(cwd)
        sys.argv = argv
    # their module switched the default dtype to float64 (their torch.Tensor(...) calls need it); ours pass dtypes
    return authors_module


def to_their_net(A, params):
    """Their ``Policy`` holding our parameter list (theirs registers ``action_log_std`` first)."""
    net = A.Policy(params[0].shape[1], params[-1].numel()).double()
    named = dict(net.named_parameters())
    with torch.no_grad():
        for name, p in zip(THEIR_NAMES, params):
            named[name].copy_(p.detach().reshape(named[name].shape))
    return net


def from_their_net(net) -> list[torch.Tensor]:
    named = dict(net.named_parameters())
    return [named[n].detach().double().reshape(-1 if n == "action_log_std" else named[n].shape).clone()
            for n in THEIR_NAMES]


def flat(params) -> torch.Tensor:
    return fp.flat(params).detach()


def ours_order(v: torch.Tensor, act_dim: int) -> torch.Tensor:
    """Their flat vector (log-std first) in our order (log-std last)."""
    return torch.cat([v[act_dim:], v[:act_dim]])


def to_memory(A, d: TaskData, rew: np.ndarray):
    """Their ``(batch, batch_extra)`` for our trajectories; ``rew`` (n, 400) per-step rewards."""
    from replay_memory import Memory  # theirs, on the path after import_authors
    m, e = Memory(), Memory()
    n, horizon = d.obs.shape[:2]
    for i in range(n):
        for t in range(horizon):
            m.push(d.obs[i, t].numpy(), d.act[i, t].numpy()[None], i, None, float(rew[i, t]))
        for t in range(horizon):
            e.push(d.obs[i, t].numpy(), d.act[i, t].numpy()[None], i, None, float(rew[i, horizon + t]))
    return m.sample(), e.sample()


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / max(float(b.norm()), 1e-300))


@contextlib.contextmanager
def captured_rewards():
    """Within the block, the per-step reward rows (with the tail) of every ``sampler.sample_filtered`` call, in call order."""
    captured = []
    original = sampler.rewards_to_go

    def capture(rew, mask, gamma):
        captured.append(rew.copy())
        return original(rew, mask, gamma)

    sampler.rewards_to_go = capture
    try:
        yield captured
    finally:
        sampler.rewards_to_go = original


def one_iteration(A, phi, norm, cfg, proto, seed: int, method: str = "Alg(1)") -> list[dict]:
    """Rows ``quantity, value, n``: relative difference (max over n tasks) of one meta-iteration of
    ``method`` (Alg(1), Alg(2) or Alg(3)), ours vs theirs."""
    index, metric = int(method[4]), methods.BOMRL[method]  # their --index, our metric
    with captured_rewards() as captured:
        tasks = np.random.default_rng(seed).uniform(0, 2, cfg.meta_batch[FAMILY])
        pre, _, _ = sampler.sample_filtered(FAMILY, phi, tasks, cfg.n_traj[FAMILY], norm, seed + 1, proto)
        rew_pre = captured[-1]
        diffs: dict[str, list] = {}
        act_dim = phi[-1].numel()
        pre_theirs, thetas, nets, batches = [], [], [], []
        for j, d in enumerate(pre):
            rows = slice(j * cfg.n_traj[FAMILY], (j + 1) * cfg.n_traj[FAMILY])
            batch, extra = to_memory(A, d, rew_pre[rows])
            q = A.compute_adavatage(batch, extra, cfg.n_traj[FAMILY])
            ours_q = sampler.returns_with_tail(rew_pre[rows], proto.horizon, proto.gamma, "own")
            diffs.setdefault("returns (their tail of 2024-03)", []).append(
                rel(q.reshape(-1), torch.as_tensor(ours_q).reshape(-1)))
            q1 = q - q.mean()
            d_theirs = TaskData(d.obs, d.act, d.mask, q1.reshape(d.adv.shape).clone(), d.returns, d.task)
            net, anchor_net = to_their_net(A, phi), to_their_net(A, phi)
            with contextlib.redirect_stdout(io.StringIO()):
                net = A.task_specific_adaptation(net, anchor_net, batch, q1, proto.lam_for(metric), index)
            theta, _ = sampled_adam.adapt(phi, d_theirs, metric, proto)
            diffs.setdefault("adapted policy theta'", []).append(rel(flat(theta), flat(from_their_net(net))))
            pre_theirs.append(d_theirs)
            thetas.append(theta)
            nets.append(net)
            batches.append(batch)
        post, _, _ = sampler.sample_filtered(FAMILY, thetas, tasks, cfg.post_factor * cfg.n_traj[FAMILY], norm, seed + 2, proto)
        rew_post = captured[-1]
    meta_net = to_their_net(A, phi)
    post_theirs, xs = [], []
    n_post = cfg.post_factor * cfg.n_traj[FAMILY]
    for j, d in enumerate(post):
        after, after_extra = to_memory(A, d, rew_post[j * n_post:(j + 1) * n_post])
        qa = A.compute_adavatage(after, after_extra, n_post)
        qa = qa - qa.mean()
        post_theirs.append(TaskData(d.obs, d.act, d.mask, qa.reshape(d.adv.shape).clone(), d.returns, d.task))
        net, batch = nets[j], batches[j]
        kl_term = A.kl_divergence(meta_net, net, batch, index)
        _, grads = A.policy_gradient_obain(net, after, qa)
        loss_term = A.loss_obain_new(net, meta_net, batch, pre_theirs[j].adv.reshape(-1, 1))

        def hvp(v, net=net, kl_term=kl_term, loss_term=loss_term):  # their __main__'s closure
            g = torch.autograd.grad(kl_term + loss_term / proto.lam_for(metric), net.parameters(), create_graph=True, retain_graph=True)
            g = torch.cat([x.contiguous().view(-1) for x in g])
            h = torch.autograd.grad((g * v).sum(), net.parameters(), create_graph=True, retain_graph=True)
            return torch.cat([x.contiguous().view(-1) for x in h]).data.clone()

        g_theirs = torch.cat([x.contiguous().view(-1) for x in grads]).data
        x_theirs = A.conjugate_gradients(hvp, g_theirs, proto.cg_iters)
        xs.append(x_theirs)
        g_ours = sampled_adam.post_loss_gradient(thetas[j], post_theirs[j])
        x_ours = sampled_adam.implicit_direction(phi, thetas[j], pre_theirs[j], g_ours, metric, proto)
        diffs.setdefault("post-adaptation gradient g", []).append(rel(g_ours, ours_order(g_theirs, act_dim)))
        diffs.setdefault("x = H^-1 g (CG 10)", []).append(rel(x_ours, ours_order(x_theirs, act_dim)))

    def their_loss(volatile=False):
        total = 0.0
        for net, batch, x in zip(nets, batches, xs):
            k = A.kl_divergence(meta_net, net, batch, index)
            g = torch.autograd.grad(k, net.parameters(), create_graph=True, retain_graph=True)
            total = total - (torch.cat([v.contiguous().view(-1) for v in g]) * x).sum() / len(nets)
        return total

    states = torch.cat([torch.as_tensor(np.array(b.state)) for b in batches[:5]])
    with torch.no_grad():
        m0, l0, s0 = meta_net(states)

    def their_kl():
        m1, l1, s1 = meta_net(states)
        return (l1 - l0 + (s0.pow(2) + (m0 - m1).pow(2)) / (2.0 * s1.pow(2)) - 0.5).sum(1, keepdim=True)

    with contextlib.redirect_stdout(io.StringIO()):
        A.trpo_step(meta_net, their_loss, their_kl, proto.max_kl[FAMILY], proto.cg_damping)
    phi_new, _ = sampled_adam.AdamBOMRL(method, FAMILY, proto).outer(phi, pre_theirs, post_theirs, thetas)
    step_theirs = flat(from_their_net(meta_net)) - flat(phi)
    diffs["outer step phi' - phi"] = [rel(flat(phi_new) - flat(phi), step_theirs)]
    return [dict(quantity=k, value=max(v), n=len(v)) for k, v in diffs.items()]


def their_trained_policy(authors: Path, proto) -> tuple[list[torch.Tensor], sampler.ObsNorm]:
    """Their best-so-far velocity Alg(1) policy (our parameter order, float64) and its observation filter."""
    import running_state  # noqa: F401  (theirs: needed to unpickle the filter)
    net = torch.load(authors / "check_point" / "meta_policy_net_HalfCheetah_vel_1.pkl", weights_only=False)
    with open(authors / "check_point" / "running_state_HalfCheetah_vel_1.pkl", "rb") as fh:
        zf = pickle.load(fh)
    norm = sampler.ObsNorm(int(zf.rs.n), np.asarray(zf.rs.mean, float), np.asarray(zf.rs._S, float), proto.obs_clip)
    return from_their_net(net), norm


def their_policy_here(authors: Path, proto, reps: int = 2) -> list[dict]:
    """Rows ``rep, steps, ret``: their trained policy adapted by our Alg(1) on the log's 9 goals."""
    params, norm = their_trained_policy(authors, proto)
    phi = [p.requires_grad_(True) for p in params]
    rows = [dict(rep=-1, steps=-1, ret=float(phi[-1].detach().exp().mean()))]  # mean action std
    for rep in range(reps):
        params = [phi] * len(LOG_GOALS)
        for step in range(3):
            data, _, _ = sampler.sample_filtered(FAMILY, params, LOG_GOALS, 20, norm, 100 * rep + step, proto)
            rows.append(dict(rep=rep, steps=step, ret=float(np.mean([d.returns.mean() for d in data]))))
            params = [sampled_adam.adapt(p, d, "kl", proto)[0] for p, d in zip(params, data)]
    return rows


def main(argv=None) -> int:
    args = common.parser(__doc__, "their BOMRL_my folder at 82dc4e8", "authors_code_check.csv").parse_args(argv)
    cfg, proto = common.float64_protocol()
    A = import_authors(args.authors.resolve(), args.gym.resolve())
    init = study.initial_state(cfg, study.protocol(cfg), FAMILY, 0)
    rows = []
    phi0 = [p.detach().double().clone().requires_grad_(True) for p in init["phi"]]
    for method in methods.BOMRL:
        for r in one_iteration(A, phi0, sampler.ObsNorm.from_state(init["norm"]), cfg, proto, seed=5, method=method):
            rows.append(dict(check=f"one meta-iteration, initial policy, {method}", **r))
            print(rows[-1], flush=True)
    for r in their_policy_here(args.authors.resolve(), proto):
        what = "their trained policy: mean action std" if r["steps"] < 0 else f"their trained policy: return after {r['steps']} steps, draw {r['rep']}"
        rows.append(dict(check=what, quantity="mean return over the goals" if r["steps"] >= 0 else "std", value=r["ret"], n=len(LOG_GOALS)))
        print(rows[-1], flush=True)
    return common.write(rows, args, seed=5)


if __name__ == "__main__":
    raise SystemExit(main())
