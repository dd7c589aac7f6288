"""TRPO: our update vs MushroomRL's and sb3-contrib's (a script, not a timed test).

    make bench-install                                   # the peers (once)
    .venv/bin/python benchmarks/bench_trpo.py            # ~15 min on 2 cores
    .venv/bin/python benchmarks/bench_trpo.py --updates 5 --seeds 1   # a smoke run

1. **One policy update on the same batch** (``trpo_update.csv``): 12 800 Cartpole steps
   (64 trajectories' worth at the 200-step horizon) from our initial policy, their
   normalised advantages, the same initial weights copied into each library's policy,
   KL bound 0.01, 10 CG iterations, damping 0.01, backtracking 0.5 x 10. Timed: ours
   (``lib.trpo.trpo_step``), MushroomRL's ``TRPO.fit`` without its critic (its own
   loss/gradient, ``_conjugate_gradient`` and ``_line_search`` calls, in the order of
   ``fit``), and sb3-contrib's ``TRPO.train`` with ``n_critic_updates=0``. Median of
   interleaved repeats, one process, one torch thread. Next to the time, each update's
   result measured by our float64 code: the realised mean KL, the surrogate gain and the
   cosine between its step and ours.
2. **Learning** (``trpo_returns.csv``): each library's own training loop (its sampler,
   advantage estimator and critic, as a user would run it) on our Cartpole (default task,
   observations scaled as our policies scale them), K TRPO updates of 64 episodes
   (sb3-contrib: 12 800 steps per update, it collects by steps), then the mean return of
   64 episodes of the stochastic policy; several seeds; wall time per update.
"""
from __future__ import annotations

import argparse
import copy
import math
import time
import warnings

import numpy as np
import pandas as pd
import torch
from common import OUT, interleaved_times, missing_peer_note, peer_version  # noqa: E402  (sets sys.path)
from torch import nn

from lib.envs import get_spec, make  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.policies import DTYPE, make_policy, mean_kl  # noqa: E402
from lib.rollouts import advantages, rollout  # noqa: E402
from lib.trpo import TRPOConfig, trpo_step  # noqa: E402
from lib.trust_region_meta.learning import learn  # noqa: E402

KL_BOUND = 0.01
N_STEPS = 64 * 200
ENV = "cartpole"


def hidden_sizes(arch) -> list[int]:
    h, n = arch
    return [n] * h


def our_layers(policy) -> list[nn.Linear]:
    return [m for m in policy.mean_net if isinstance(m, nn.Linear)]


def fixed_batch(arch, seed: int = 0):
    """(policy, obs, act, adv): N_STEPS steps of our initial policy, advantages per batch."""
    spec = get_spec(ENV)
    policy = make_policy(spec, arch, seed=seed)
    rng = np.random.default_rng(seed)
    obs, act, adv = [], [], []
    while sum(len(o) for o in obs) < N_STEPS:
        batch = rollout(spec, policy, np.tile(spec.default_task, (64, 1)), rng)
        obs.append(batch.flat("obs"))
        act.append(batch.flat("act"))
        adv.append(advantages(batch, spec))
    cat = lambda xs: np.concatenate(xs)[:N_STEPS]  # noqa: E731
    return policy, cat(obs), cat(act), cat(adv)


class MushroomMLP(nn.Module):
    """The mean network in MushroomRL's network-class convention."""

    def __init__(self, input_shape, output_shape, hidden=(), **kwargs):
        super().__init__()
        sizes = [input_shape[0], *hidden, output_shape[0]]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, state, **kwargs):
        return self.net(state.float())


def copy_layers(src: list[nn.Linear], dst: list[nn.Linear]) -> None:
    with torch.no_grad():
        for a, b in zip(src, dst, strict=True):
            b.weight.copy_(a.weight)
            b.bias.copy_(a.bias)


def mushroom_agent(arch, policy, seed: int = 0):
    """MushroomRL's TRPO with a Gaussian policy initialised at our ``policy``."""
    import torch.nn.functional as F
    from mushroom_rl.algorithms.actor_critic import TRPO
    from mushroom_rl.core import MDPInfo
    from mushroom_rl.policy import GaussianTorchPolicy
    from mushroom_rl.utils.spaces import Box

    spec = get_spec(ENV)
    torch.manual_seed(seed)
    pi = GaussianTorchPolicy(MushroomMLP, (spec.obs_dim,), (spec.act_dim,), std_0=spec.std0,
                             hidden=hidden_sizes(arch))
    copy_layers(our_layers(policy), [m for m in pi._mu.model.network.net if isinstance(m, nn.Linear)])
    with torch.no_grad():
        pi._log_sigma.copy_(policy.log_std.float())
    critic = dict(network=MushroomMLP, optimizer={"class": torch.optim.Adam, "params": {"lr": 3e-3}},
                  loss=F.mse_loss, batch_size=64, input_shape=(spec.obs_dim,), output_shape=(1,),
                  hidden=(32, 32))
    env = make(ENV)
    scale = np.asarray(spec.obs_scale)
    info = MDPInfo(Box(env.observation_space.low * scale, env.observation_space.high * scale),
                   Box(env.action_space.low, env.action_space.high), spec.gamma, spec.horizon)
    return TRPO(info, pi, critic, max_kl=KL_BOUND, n_epochs_line_search=10, n_epochs_cg=10,
                cg_damping=1e-2, cg_residual_tol=1e-10)


def mushroom_gradient(agent, obs, act, adv):
    """The start of MushroomRL's ``TRPO.fit`` (its own methods, in fit's order).

    Returns:
        ``(g, old_dist, old_log_prob, prev_loss)``: the surrogate's gradient (float32, its
        parameter order), the frozen old policy's distribution and log-probs, the loss.
    """
    from mushroom_rl.utils.torch import get_gradient, zero_grad

    agent._old_policy = copy.deepcopy(agent.policy)
    old_dist = agent._old_policy.distribution_t(obs)
    old_log_prob = agent._old_policy.log_prob_t(obs, act).detach()
    zero_grad(agent.policy.parameters())
    loss = agent._compute_loss(obs, act, adv, old_log_prob)
    prev_loss = loss.item()
    loss.backward()
    return get_gradient(agent.policy.parameters()), old_dist, old_log_prob, prev_loss


def mushroom_policy_step(agent, obs, act, adv) -> None:
    """The policy part of MushroomRL's ``TRPO.fit`` (its own methods, in fit's order)."""
    g, old_dist, old_log_prob, prev_loss = mushroom_gradient(agent, obs, act, adv)
    stepdir = agent._conjugate_gradient(g, obs, old_dist)
    agent._line_search(obs, act, adv, old_log_prob, old_dist, prev_loss, stepdir)


def scaled_env(seed: int = 0):
    """Our Cartpole as a Gymnasium env with observations multiplied by the policy's scale."""
    import gymnasium as gym

    spec = get_spec(ENV)
    env = make(ENV)
    scale = np.asarray(spec.obs_scale)
    space = gym.spaces.Box(env.observation_space.low * scale, env.observation_space.high * scale,
                           dtype=np.float64)
    env = gym.wrappers.TransformObservation(env, lambda o: o * scale, space)
    # the env takes raw actions and clips them itself; sb3 needs finite bounds, so give it
    # bounds no Gaussian sample reaches (its own clipping then never acts)
    env.action_space = gym.spaces.Box(-1e6, 1e6, shape=env.action_space.shape, dtype=np.float64)
    env.reset(seed=seed)
    return env


def sb3_model(arch, policy, seed: int = 0, n_critic_updates: int = 0):
    """sb3-contrib's TRPO with the same constants, policy initialised at our ``policy``."""
    from sb3_contrib import TRPO
    from stable_baselines3.common.logger import configure

    spec = get_spec(ENV)
    hidden = hidden_sizes(arch)
    kwargs = dict(net_arch=dict(pi=hidden, vf=[32, 32]), activation_fn=nn.Tanh, ortho_init=False,
                  log_std_init=math.log(spec.std0))
    model = TRPO("MlpPolicy", scaled_env(seed), n_steps=N_STEPS, batch_size=N_STEPS, gamma=spec.gamma,
                 cg_max_steps=10, cg_damping=1e-2, line_search_shrinking_factor=0.5,
                 line_search_max_iter=10, n_critic_updates=n_critic_updates, target_kl=KL_BOUND,
                 normalize_advantage=False, policy_kwargs=kwargs, seed=seed, device="cpu", verbose=0)
    dst = [m for m in model.policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    copy_layers(our_layers(policy), dst + [model.policy.action_net])
    with torch.no_grad():
        model.policy.log_std.copy_(policy.log_std.float())
    model.set_logger(configure(None, []))
    return model


def fill_sb3_buffer(model, obs, act, adv) -> None:
    """Put our batch (scaled observations) into sb3's rollout buffer, log-probs from its policy."""
    buf = model.rollout_buffer
    buf.reset()
    buf.observations[:] = obs[:, None, :]
    buf.actions[:] = act[:, None, :]
    buf.advantages[:] = adv[:, None]
    with torch.no_grad():
        dist = model.policy.get_distribution(torch.as_tensor(obs, dtype=torch.float32))
        buf.log_probs[:] = dist.log_prob(torch.as_tensor(act, dtype=torch.float32)).numpy()[:, None]
    buf.pos, buf.full = buf.buffer_size, True


def as_ours(arch, layers, log_std):
    """Our float64 policy with the given Linear layers' weights and log-std."""
    policy = make_policy(get_spec(ENV), arch)
    copy_layers(layers, our_layers(policy))
    with torch.no_grad():
        policy.log_std.copy_(torch.as_tensor(log_std, dtype=DTYPE))
    return policy


def step_vector(policy, start) -> torch.Tensor:
    new = torch.cat([p.detach().reshape(-1) for p in policy.parameters()])
    old = torch.cat([p.detach().reshape(-1) for p in start.parameters()])
    return new - old


def update_benchmark(arch, repeats: int) -> list[dict]:
    policy, obs, act, adv = fixed_batch(arch)
    spec = get_spec(ENV)
    start = copy.deepcopy(policy)
    state = copy.deepcopy(policy.state_dict())
    obs_scaled = obs * np.asarray(spec.obs_scale)
    fns, results = {}, {}

    def ours():
        policy.load_state_dict(state)
        trpo_step(policy, obs, act, adv, KL_BOUND, require_improvement=True, config=TRPOConfig())
        results["ours"] = copy.deepcopy(policy)

    fns["ours (float32 evaluations)"] = ours

    def ours64():
        policy.load_state_dict(state)
        trpo_step(policy, obs, act, adv, KL_BOUND, require_improvement=True, dtype=torch.float64)
        results["ours (all float64)"] = copy.deepcopy(policy)

    fns["ours (all float64)"] = ours64
    notes = {}
    if peer_version("mushroom_rl"):
        agent = mushroom_agent(arch, policy)
        w0 = agent.policy.get_weights().copy()
        o, a, d = (torch.as_tensor(x, dtype=torch.float32) for x in (obs_scaled, act, adv[:, None]))

        def mushroom():
            agent.policy.set_weights(w0.copy())
            mushroom_policy_step(agent, o, a, d)
            net = [m for m in agent.policy._mu.model.network.net if isinstance(m, nn.Linear)]
            results["MushroomRL"] = as_ours(arch, net, agent.policy._log_sigma.detach())

        fns["MushroomRL"] = mushroom
    else:
        notes["MushroomRL"] = missing_peer_note("mushroom_rl")
    if peer_version("sb3_contrib"):
        model = sb3_model(arch, policy)
        fill_sb3_buffer(model, obs_scaled.astype(np.float32), act.astype(np.float32), adv.astype(np.float32))
        snapshot = copy.deepcopy(model.policy.state_dict())

        def sb3():
            model.policy.load_state_dict(snapshot)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # mean of the empty critic-loss list
                model.train()
            net = [m for m in model.policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
            results["sb3-contrib"] = as_ours(arch, net + [model.policy.action_net],
                                             model.policy.log_std.detach())

        fns["sb3-contrib"] = sb3
    else:
        notes["sb3-contrib"] = missing_peer_note("sb3_contrib")
    times = interleaved_times(fns, repeats)
    obs_t, act_t = torch.as_tensor(obs, dtype=DTYPE), torch.as_tensor(act, dtype=DTYPE)
    adv_t = torch.as_tensor(adv, dtype=DTYPE)
    logp0 = start.log_prob(obs_t, act_t).detach()
    ref = step_vector(results["ours (all float64)"], start)
    rows = []
    for name in ("ours (float32 evaluations)", "ours (all float64)", "MushroomRL", "sb3-contrib"):
        row = dict(arch=f"MLP{tuple(arch)}", library=name, n_steps=len(obs))
        if name in notes:
            rows.append(dict(row, note=notes[name]))
            continue
        new = results[name if name != "ours (float32 evaluations)" else "ours"]
        with torch.no_grad():
            gain = float((torch.exp(new.log_prob(obs_t, act_t) - logp0) * adv_t).mean() - adv_t.mean())
            kl = float(mean_kl(start, new, obs_t))
        step = step_vector(new, start)
        cos = float(step @ ref / (step.norm() * ref.norm() + 1e-300))
        rows.append(dict(row, ms_per_update=1000 * times[name], kl=kl, surrogate_gain=gain,
                         cosine_to_ours_float64=cos, note=""))
    base = rows[0]["ms_per_update"]
    for row in rows:
        if "ms_per_update" in row:
            row["ours_over_library"] = base / row["ms_per_update"]
    return rows


def mushroom_learning(arch, seed: int, n_updates: int) -> tuple[float, float]:
    from mushroom_rl.core import Core, Environment
    from mushroom_rl.utils.dataset import compute_J

    spec = get_spec(ENV)
    policy = make_policy(spec, arch, seed=seed)
    agent = mushroom_agent(arch, policy, seed)

    class Cartpole(Environment):
        def __init__(self):
            self.env = scaled_env(seed)
            super().__init__(agent.mdp_info)

        def reset(self, state=None):
            return self.env.reset()[0]

        def step(self, action):
            obs, reward, term, _, info = self.env.step(action)
            return obs, reward, term, info

    np.random.seed(seed)
    core = Core(agent, Cartpole())
    start = time.perf_counter()
    core.learn(n_episodes=64 * n_updates, n_episodes_per_fit=64, quiet=True)
    elapsed = time.perf_counter() - start
    dataset = core.evaluate(n_episodes=64, quiet=True)
    return float(np.mean(compute_J(dataset, 1.0))), elapsed / n_updates


def sb3_learning(arch, seed: int, n_updates: int) -> tuple[float, float]:
    from stable_baselines3.common.evaluation import evaluate_policy

    policy = make_policy(get_spec(ENV), arch, seed=seed)
    model = sb3_model(arch, policy, seed, n_critic_updates=10)
    start = time.perf_counter()
    model.learn(total_timesteps=N_STEPS * n_updates)
    elapsed = time.perf_counter() - start
    returns, _ = evaluate_policy(model, scaled_env(seed + 1000), n_eval_episodes=64, deterministic=False,
                                 return_episode_rewards=True)
    return float(np.mean(returns)), elapsed / n_updates


def ours_learning(arch, seed: int, n_updates: int) -> tuple[float, float]:
    spec = get_spec(ENV)
    start = time.perf_counter()
    df = learn(ENV, spec.default_task, KL_BOUND, "TRPO", arch=arch, n_updates=n_updates, n_traj=64,
               seed=seed, key=("bench",))
    return float(df.ret.iloc[-1]), (time.perf_counter() - start) / n_updates


def learning_benchmark(arch, seeds: int, n_updates: int) -> list[dict]:
    runners = {"ours": ours_learning}
    if peer_version("mushroom_rl"):
        runners["MushroomRL"] = mushroom_learning
    if peer_version("sb3_contrib"):
        runners["sb3-contrib"] = sb3_learning
    rows = []
    for seed in range(seeds):
        for name, fn in runners.items():
            ret, sec = fn(arch, seed, n_updates)
            rows.append(dict(arch=f"MLP{tuple(arch)}", library=name, seed=seed, n_updates=n_updates,
                             final_return=ret, s_per_update=sec))
            print(f"  {name:12s} seed {seed}: return {ret:7.1f} after {n_updates} updates, {sec:.2f} s/update",
                  flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--updates", type=int, default=20, help="updates of each learning run")
    parser.add_argument("--seeds", type=int, default=5, help="learning runs per library")
    parser.add_argument("--learning-arch", default="2,32", help="h,n of the learning runs' MLP")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for arch in [(0, 0), (3, 64)]:
        rows += update_benchmark(arch, args.repeats)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200):
        print(table.drop(columns="note").round(4).to_string(index=False))
    params = dict(seed=0, kl_bound=KL_BOUND, n_steps=N_STEPS, repeats=args.repeats, threads=1,
                  mushroom_rl=peer_version("mushroom_rl"), sb3_contrib=peer_version("sb3_contrib"))
    save_table(table, OUT / "trpo_update.csv", params=params)
    arch = tuple(int(v) for v in args.learning_arch.split(","))
    learning = pd.DataFrame(learning_benchmark(arch, args.seeds, args.updates))
    summary = learning.groupby("library", sort=False).agg(
        mean_return=("final_return", "mean"), sd_return=("final_return", "std"),
        s_per_update=("s_per_update", "median")).reset_index()
    print(summary.round(2).to_string(index=False))
    save_table(learning, OUT / "trpo_returns.csv",
               params=dict(params, arch=arch, n_updates=args.updates, seeds=args.seeds))


if __name__ == "__main__":
    main()
