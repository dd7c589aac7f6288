"""Meta-dataset collection: tuples <phi_t, lambda_t, l_t, phi_{t+1}> from xTRPO learning runs.

Paper 1, Sec. 4.2: at the start of each learning trajectory a task is drawn from the
environment's distribution and an architecture from a training set (linear and MLPs with
up to 3 hidden layers); xTRPO then runs T steps with a fresh random trust region each
step, and every step gives one tuple with meta-reward ``l_t = J_{t+1} - J_t`` (sample
means of the batches' returns; meta-discount 1).

Learning trajectories are independent jobs, run in parallel with joblib and checkpointed
one file each (:func:`lib.parallel.map_resumable`): an interrupted collection resumes without
redoing or losing finished trajectories, and yields exactly the dataset an uninterrupted
run gives (trajectory i of meta-dataset m seeds itself from ``(seed, "collect", env, m, i)``).
The study collects M independent meta-datasets per environment (``meta_seed`` m = 0..M-1),
one file each: :func:`dataset_file`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lib import paths
from lib.envs import get_spec
from lib.parallel import map_resumable
from lib.policies import arch_label
from lib.seeding import rng as make_rng
from lib.trust_region_meta.learning import learn
from lib.trust_region_meta.metafeatures import FEATURE_NAMES, POLICY_FEATURES

PHI = [f"phi:{name}" for name in FEATURE_NAMES]
NEXT = [f"next:{name}" for name in FEATURE_NAMES]
EXACT = [f"exact:{name}" for name in POLICY_FEATURES]
EXACT_NEXT = [f"exact_next:{name}" for name in POLICY_FEATURES]


def dataset_file(profile: str, env: str, meta_seed: int):
    """Path of meta-dataset ``meta_seed`` of ``env``: ``data/<profile>/04_meta_dataset/<env>_m<m>.csv``."""
    return paths.data_dir(profile, "04_meta_dataset") / f"{env}_m{meta_seed}.csv"


def sample_arch(rng: np.random.Generator, archs) -> tuple:
    """Hidden-layer count uniform over those present in ``archs``, then a width uniformly."""
    archs = [tuple(a) for a in archs]
    depths = sorted({h for h, _ in archs})
    h = depths[rng.integers(len(depths))]
    widths = [a for a in archs if a[0] == h]
    return widths[rng.integers(len(widths))]


def sample_kl_bounds(rng: np.random.Generator, n: int, low: float, high: float,
                     log_uniform: bool = True) -> np.ndarray:
    """n trust-region sizes, uniform in [low, high] on a log scale (default) or linearly."""
    if log_uniform:
        return np.exp(rng.uniform(np.log(low), np.log(high), size=n))
    return rng.uniform(low, high, size=n)


def collect_trajectory(env: str, index: int, n_updates: int, n_traj: int, archs,
                       kl_range=(1e-3, 1.0), log_uniform: bool = True, seed: int = 0,
                       max_points: int = 2000, meta_seed: int = 0, per_trajectory: bool = False,
                       policy_init: tuple = ()) -> pd.DataFrame:
    """Learning trajectory ``index`` of meta-dataset ``meta_seed``: ``n_updates`` tuples.

    ``per_trajectory``: one random λ held for the whole trajectory instead of a fresh one each
    step (notebook 09's constant-λ data); ``policy_init``: as in :func:`.learning.learn`.

    Returns:
        one row per t: ``traj, t, arch, task:<name>..., kl_bound, meta_reward, ret``,
        the 20 ``phi:`` columns of phi_t and the 20 ``next:`` columns of phi_{t+1}, and the six
        policy features in closed form, ``exact:`` (at t) and ``exact_next:`` (at t + 1).
    """
    spec = get_spec(env)
    rng = make_rng(seed, "collect", env, meta_seed, index)
    task = spec.sample_tasks(rng, 1)[0]
    arch = sample_arch(rng, archs)
    if per_trajectory:
        kl_bounds = np.repeat(sample_kl_bounds(rng, 1, *kl_range, log_uniform=log_uniform), n_updates)
    else:
        kl_bounds = sample_kl_bounds(rng, n_updates, *kl_range, log_uniform=log_uniform)
    run = learn(env, task, kl_bounds, "xTRPO", arch=arch, n_updates=n_updates, n_traj=n_traj,
                seed=seed, key=("collect", env, meta_seed, index), with_features=True, max_points=max_points,
                policy_init=tuple(policy_init))
    feats = run[list(FEATURE_NAMES)].to_numpy()
    out = pd.DataFrame({"traj": index, "t": np.arange(n_updates), "arch": arch_label(arch)})
    for name, value in zip(spec.task_names, task):
        out[f"task:{name}"] = value
    out["kl_bound"] = kl_bounds
    out["meta_reward"] = np.diff(run.ret.to_numpy())
    out["ret"] = run.ret.to_numpy()[:-1]
    out[PHI] = feats[:-1]
    out[NEXT] = feats[1:]
    exact = run[[f"exact:{n}" for n in POLICY_FEATURES]].to_numpy()
    out[EXACT] = exact[:-1]
    out[EXACT_NEXT] = exact[1:]
    return out


def with_exact_policy_features(dataset: pd.DataFrame) -> pd.DataFrame:
    """A copy of a meta-dataset whose six k-NN policy features (``phi:`` and ``next:``) are
    replaced by their closed forms (the ``exact:`` columns): the exact-policy-feature ablation."""
    out = dataset.copy()
    for name in POLICY_FEATURES:
        out[f"phi:{name}"] = dataset[f"exact:{name}"]
        out[f"next:{name}"] = dataset[f"exact_next:{name}"]
    return out


def collect(env: str, n_trajectories: int, n_updates: int, n_traj: int, archs, cache_dir,
            kl_range=(1e-3, 1.0), log_uniform: bool = True, seed: int = 0, n_jobs: int = 1,
            max_points: int = 2000, meta_seeds=(0,), per_trajectory: bool = False,
            policy_init: tuple = ()) -> dict[int, pd.DataFrame]:
    """Collect (or resume) ``n_trajectories`` learning trajectories for each meta-dataset of
    ``meta_seeds`` (all of them one job list, so the workers stay busy); rows sorted by (traj, t).

    Returns:
        ``{meta_seed: dataset}``.
    """
    mode = "const" if per_trajectory else "step"
    jobs = [dict(label=f"{env}-{mode}-m{m}-traj{i}", kwargs=dict(
        env=env, index=i, n_updates=n_updates, n_traj=n_traj, archs=[tuple(a) for a in archs],
        kl_range=tuple(kl_range), log_uniform=log_uniform, seed=seed, max_points=max_points, meta_seed=m,
        per_trajectory=per_trajectory, policy_init=tuple(policy_init)))
        for m in meta_seeds for i in range(n_trajectories)]
    parts = map_resumable(collect_trajectory, jobs, cache_dir, n_workers=n_jobs, desc=f"collecting {env}")
    return {m: pd.concat(parts[k * n_trajectories:(k + 1) * n_trajectories], ignore_index=True)
            for k, m in enumerate(meta_seeds)}


def collect_env(cfg, env: str, cache_dir) -> dict[int, pd.DataFrame]:
    """The M meta-datasets of ``env`` with the sizes of a :class:`lib.profiles.MetaConfig`."""
    return collect(env, cfg.collect_trajectories[env], cfg.collect_updates[env], cfg.n_traj[env],
                   cfg.train_archs[env], cache_dir, kl_range=cfg.collect_range(env),
                   log_uniform=cfg.log_uniform, seed=cfg.seed, n_jobs=cfg.n_jobs,
                   max_points=cfg.max_points, meta_seeds=cfg.meta_seeds())


def remaining_gain(dataset: pd.DataFrame) -> np.ndarray:
    """Per tuple, the gain over the rest of its learning trajectory, ``J_T - J_t`` (T: the
    trajectory's last batch, ``J_T = J_{T-1} + l_{T-1}``), shape (n,): a long-horizon target
    next to the paper's one-step meta-reward ``l_t`` (notebook 09)."""
    last = dataset.loc[dataset.groupby("traj")["t"].idxmax()].set_index("traj")
    final = (last.ret + last.meta_reward).reindex(dataset.traj).to_numpy()
    return final - dataset.ret.to_numpy()


def dataset_summary(datasets: dict[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Per (env, meta_seed): tuples, trajectories, architectures, the mean meta-reward and the
    correlation of log λ with the meta-reward (does a larger trust region pay one step later?)."""
    return pd.DataFrame([dict(env=env, meta_seed=m, tuples=len(d), trajectories=d.traj.nunique(),
                              archs=d.arch.nunique(), mean_meta_reward=d.meta_reward.mean(),
                              corr_log_kl_meta_reward=np.corrcoef(np.log(d.kl_bound), d.meta_reward)[0, 1])
                         for (env, m), d in datasets.items()])
