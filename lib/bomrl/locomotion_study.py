"""Paper 2's locomotion experiment: meta-train each method on a task family, meta-test it with
0..K adaptation steps; one study for both protocols of :mod:`.locomotion_protocol` (notebook 13: the
authors', notebook 11: ours).

One work item = (family, method, seed index): ``n_iters`` meta-iterations (``meta_batch`` tasks;
``n_traj`` trajectories of the meta-policy per task; adapt; ``post_factor x n_traj`` trajectories
of each adapted policy; outer step), with meta-tests at the ``checkpoints``. Under the authors'
protocol the item also carries their observation filter (warmed up on ``warmup x n_traj``
episodes of the initial policy; it absorbs every observation of an iteration, frozen within a
sampling call and at meta-test). Items run on Dask (:mod:`.meta_items`) and checkpoint themselves
after every iteration as portable JSON, so a killed run resumes with identical numbers: every draw
derives from ``(seed, protocol stream, family, seed index, iteration, phase)``.

Common random numbers: the methods of one (family, seed index) share the initial policy, the
tasks of every iteration, the test tasks and the environment seeds. Differences from the
authors' scripts: the filter is frozen within a sampling call; the meta-test reports the
stochastic policy's mean return (theirs printed three numbers and their CSVs were filled by
hand); the last iterate is tested, not a best-so-far checkpoint; ``n_seeds`` seeds.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from lib.bomrl import functional_policy as fp
from lib.bomrl import meta_items as items
from lib.bomrl import locomotion_protocol, methods
from lib.bomrl.baselines import GradientBaseline, GradientMetaConfig
from lib.bomrl.locomotion_protocol import LocomotionProtocol
from lib.bomrl.maml_authors import AuthorsMAML
from lib.bomrl.sampled import SampledAlgConfig, SampledBOMRL
from lib.bomrl.sampled_adam import AdamBOMRL, init_policy
from lib.bomrl.sampler import ObsNorm, sample, sample_filtered
from lib.seeding import rng, torch_seed
from lib.stats import t_interval, verdict


def protocol(cfg) -> LocomotionProtocol:
    """The protocol of a config (its class's ``PROTOCOL``) with the config's horizon, tail and λ."""
    extra = {"tail": cfg.tail} if hasattr(cfg, "tail") else {}
    return locomotion_protocol.locomotion(cfg.PROTOCOL, horizon=cfg.horizon, lam_kl=cfg.lam_kl,
                                lam_euclidean=cfg.lam_euclidean, **extra)


def method_names(proto: LocomotionProtocol) -> tuple:
    """The methods a protocol can run: our KL-constrained variant needs the exact (L-BFGS) solver."""
    return methods.LOCOMOTION if proto.solver == "lbfgs" else methods.LOCOMOTION_AUTHORS


def make_method(name: str, family: str, proto: LocomotionProtocol):
    """The method object (``adapt`` / ``outer``) of one name of :data:`lib.bomrl.methods.LOCOMOTION`."""
    methods.check_name("method", name, method_names(proto))
    if name == methods.AUTHORS_MAML:
        return AuthorsMAML(family, proto)
    if name in methods.GRADIENT:
        return GradientBaseline(name, GradientMetaConfig(alpha=proto.maml_lr, delta=proto.maml_max_kl[family],
                                                         normalize_adv=name == "ProMP" and proto.promp_normalize_adv))
    if proto.solver == "adam":
        return AdamBOMRL(name, family, proto)
    return SampledBOMRL(SampledAlgConfig(methods.METRIC[name], lam_kl=proto.lam_kl, lam_euclidean=proto.lam_euclidean,
                                         delta=proto.delta, delta_outer=proto.max_kl[family]))


def per_family(value, family: str):
    """A config size that is either one value or a mapping per family."""
    return value[family] if isinstance(value, dict) else value


def dims(family: str, proto: LocomotionProtocol = locomotion_protocol.LOCOMOTION_OURS) -> tuple[int, int]:
    """(obs_dim, act_dim) of a family's environment under ``proto``."""
    if proto.environment == "batch":
        from lib.envs.mujoco_batch import dims as batch_dims
        from lib.envs.mujoco_batch import robot_of
        return batch_dims(robot_of(family))
    from lib.envs.locomotion import LocomotionTask
    env = LocomotionTask(family, 0.0)
    out = env.observation_space.shape[0], env.action_space.shape[0]
    env.close()
    return out


def env_seed(cfg, proto: LocomotionProtocol, family: str, s: int, *key) -> int:
    return torch_seed(cfg.seed, proto.stream, family, s, *key) % (2**31 - 1000)


def train_tasks(cfg, proto: LocomotionProtocol, family: str, s: int, it: int) -> np.ndarray:
    """The meta-batch of iteration ``it``: drawn goals, or the authors' (velocity U[0, 2] for
    HalfCheetah, U[0, 3] for Ant; their direction list cycled to the meta-batch)."""
    k = per_family(cfg.meta_batch, family)
    stream = rng(cfg.seed, f"{proto.stream}-train", family, s, it)
    if proto.goals == "drawn":
        from lib.envs.locomotion import sample_tasks
        return sample_tasks(family, stream, k)
    if family.endswith("dir"):
        return np.resize(np.asarray(locomotion_protocol.DIR_TASKS), k)
    return stream.uniform(0.0, locomotion_protocol.VEL_GOAL_HIGH[family], size=k)


def test_tasks(cfg, proto: LocomotionProtocol, family: str, s: int) -> np.ndarray:
    """Fresh goals per (family, seed), or the authors' fixed ones."""
    if proto.goals == "drawn":
        from lib.envs.locomotion import sample_tasks
        return sample_tasks(family, rng(cfg.seed, f"{proto.stream}-test", family, s), cfg.n_test_tasks)
    return np.asarray(locomotion_protocol.TEST_TASKS[family])


def collect(proto: LocomotionProtocol, family: str, params, tasks, n_traj: int, norm: ObsNorm | None, seed: int):
    """``(data, raw observations or None, info)`` of one sampling call under ``proto``."""
    if proto.environment == "batch":
        return sample_filtered(family, params, tasks, n_traj, norm, seed, proto)
    data, info = sample(family, params, tasks, n_traj, seed, proto.horizon, proto.gamma)
    return data, None, info


def initial_state(cfg, proto: LocomotionProtocol, family: str, s: int) -> dict:
    """Iteration 0: the initial policy (and, with a filter, the filter after the authors' warm-up)."""
    obs_dim, act_dim = dims(family, proto)
    seed = torch_seed(cfg.seed, f"{proto.stream}-init", family, s)
    if proto.environment != "batch":
        phi = fp.init_params(obs_dim, act_dim, cfg.arch, seed=seed)
        return dict(it=0, phi=[p.detach() for p in phi], history=[], test=[])
    phi = init_policy(obs_dim, act_dim, seed, proto)
    norm = ObsNorm.empty(obs_dim, proto.obs_clip)
    _, raw, _ = sample_filtered(family, phi, np.zeros(1), proto.warmup * per_family(cfg.n_traj, family), norm,
                                env_seed(cfg, proto, family, s, "warmup"), proto)
    return dict(it=0, phi=[p.detach() for p in phi], norm=norm.update(raw).state(), history=[], test=[])


def meta_test(cfg, proto, family: str, method, phi, norm, s: int, iteration: int) -> list[dict]:
    """Rows ``iter, step, task_id, task, ret``: mean return of ``n_traj`` trajectories per test goal
    after 0..n_adapt_steps adaptation steps (new data each step)."""
    tasks = test_tasks(cfg, proto, family, s)
    params = [phi] * len(tasks)
    rows = []
    for step in range(cfg.n_adapt_steps + 1):
        data, _, _ = collect(proto, family, params, tasks, per_family(cfg.n_traj, family), norm,
                             env_seed(cfg, proto, family, s, "test", iteration, step))
        rows += [dict(iter=iteration, step=step, task_id=k, task=float(t), ret=float(d.returns.mean()))
                 for k, (t, d) in enumerate(zip(tasks, data))]
        if step < cfg.n_adapt_steps:
            params = [method.adapt(p, d, step=step) for p, d in zip(params, data)]
    return rows


def training_evaluation(cfg, proto, family: str, method, phi, norm, s: int, iteration: int) -> float:
    """The authors' evaluation after an outer step, the criterion of their best-so-far policy (R1
    ``train_trpo_HalfCheetah_*.py``): mean return after one adaptation step on each goal of
    :data:`~lib.bomrl.locomotion_protocol.EVAL_TASKS`, ``n_traj`` trajectories before and after
    (their filter also absorbs these observations; ours stays frozen, so training is unchanged)."""
    tasks = np.asarray(locomotion_protocol.EVAL_TASKS[family])
    pre, _, _ = collect(proto, family, phi, tasks, per_family(cfg.n_traj, family), norm, env_seed(cfg, proto, family, s, "eval", iteration, 0))
    thetas = [method.adapt(phi, d) for d in pre]
    post, _, _ = collect(proto, family, thetas, tasks, per_family(cfg.n_traj, family), norm,
                         env_seed(cfg, proto, family, s, "eval", iteration, 1))
    return float(np.mean([d.returns.mean() for d in post]))


def train_iteration(cfg, proto, family: str, method, phi, norm, s: int, it: int):
    """One meta-iteration; returns (new phi, new filter or None, history row with timings and diagnostics)."""
    tasks = train_tasks(cfg, proto, family, s, it)
    t0 = time.perf_counter()
    pre, raw_pre, info_pre = collect(proto, family, phi, tasks, per_family(cfg.n_traj, family), norm, env_seed(cfg, proto, family, s, "pre", it))
    t1 = time.perf_counter()
    thetas, inner = [], []
    for d in pre:
        thetas.append(method.adapt(phi, d))
        inner.append(getattr(method, "last_info", {}))
    t2 = time.perf_counter()
    post, raw_post, info_post = collect(proto, family, thetas, tasks, getattr(cfg, "post_factor", 1) * per_family(cfg.n_traj, family),
                                        norm, env_seed(cfg, proto, family, s, "post", it))
    t3 = time.perf_counter()
    phi_new, diag = method.outer(phi, pre, post, thetas)
    t4 = time.perf_counter()
    physics = {"physics_s": info_pre["physics_s"] + info_post["physics_s"]} if "physics_s" in info_pre else {}
    timings = dict(sample_s=(t1 - t0) + (t3 - t2), **physics, adapt_s=t2 - t1, outer_s=t4 - t3)
    extra = (dict(inner_steps=float(np.mean([i["steps"] for i in inner])),
                  distance=float(np.mean([i["distance"] for i in inner]))) if inner and inner[0] else {})
    row = items.history_row(it, pre, post, info_pre["steps"] + info_post["steps"], timings, diag, **extra)
    norm_new = None if raw_pre is None else norm.update(np.concatenate([raw_pre, raw_post]))
    return phi_new, norm_new, row


def run_item(cfg, family: str, method_name: str, s: int, partial: str | None = None) -> dict:
    """Meta-train and meta-test one (family, method, seed index); resumable via ``partial``.

    Returns:
        ``{"history": one row per iteration, "test": meta-test rows}`` with ``family, method, seed`` first.
    """
    proto = protocol(cfg)
    proto.check_family(family)
    method = make_method(method_name, family, proto)

    def policy(state):
        norm = ObsNorm.from_state(state["norm"]) if "norm" in state else None
        return fp.detach(state["phi"]), norm

    def test(state):
        return meta_test(cfg, proto, family, method, *policy(state), s, state["it"])

    def train(state):
        phi_new, norm_new, row = train_iteration(cfg, proto, family, method, *policy(state), s, state["it"])
        fields = dict(phi=[p.detach() for p in phi_new])
        fields = fields if norm_new is None else dict(fields, norm=norm_new.state())
        it = state["it"] + 1
        if selecting and it > cfg.select_after:
            row["eval_return"] = training_evaluation(cfg, proto, family, method, *policy(fields), s, it)
            if "best" not in state or row["eval_return"] > state["best"]["score"]:
                fields["best"] = dict(fields, it=it, score=row["eval_return"])
        return fields, row

    selecting = getattr(cfg, "best_so_far", False)
    state = items.load_state(partial, lambda: initial_state(cfg, proto, family, s))
    state = items.train_and_test(state, per_family(cfg.n_iters, family), per_family(cfg.checkpoints, family),
                                 test, train, partial)
    if selecting and "best" in state and "selected" not in state:
        state = dict(state, selected=meta_test(cfg, proto, family, method, *policy(state["best"]), s, state["best"]["it"]))
        items.save_state(state, partial)
    return items.tidy(state, family, method_name, s)


def check(cfg):
    """A function ``(family, method)`` that raises a ValueError naming one the config's protocol lacks."""
    proto = protocol(cfg)

    def _check(family: str, method: str) -> None:
        proto.check_family(family)
        methods.check_name("method", method, method_names(proto))
    return _check


def jobs(cfg, cache_dir, seeds=None) -> list[dict]:
    """One job per (family, method, seed index) (of ``seeds``, default all; :func:`lib.bomrl.meta_items.jobs`)."""
    return items.jobs(run_item, cfg, cache_dir, check=check(cfg), seeds=seeds)


DECISIVE = dict(methods=("Alg(1)", methods.AUTHORS_MAML), n_seeds=3, best_so_far=True, select_after=120)
DECISIVE_ITERS = 500  # the authors' scripts: for i_episode in range(500)
DECISIVE_CHECKPOINTS = (0, 40, 80, 120, 200, 300, 400, 500)  # notebook 13's up to 120, then every 100


def decisive_config(base, **overrides):
    """Issue 37's decisive pair from notebook 13's config ``base``: Alg(1) and the authors' MAML-TRPO
    with their best-so-far selection (:data:`DECISIVE`). Full profile: trained to 500 meta-iterations on
    both families, meta-tested at :data:`DECISIVE_CHECKPOINTS`, selection over iterations 121-500;
    quick: the quick sizes, 2 seeds, selection after iteration 1."""
    if base.profile == "full":
        sizes = dict(DECISIVE, n_iters=dict.fromkeys(base.n_iters, DECISIVE_ITERS),
                     checkpoints=dict.fromkeys(base.checkpoints, DECISIVE_CHECKPOINTS))
    else:
        sizes = dict(DECISIVE, n_seeds=2, select_after=1)
    return replace(base, **{**sizes, **overrides})


def run_all(cfg, cache_dir, seeds=None) -> dict:
    """Run (or resume) every item (of ``seeds``, default all) on Dask; ``{"history": ..., "test": ...}`` tidy tables."""
    return items.run_all(run_item, cfg, cache_dir, f"locomotion items ({cfg.PROTOCOL} protocol)", check=check(cfg),
                         seeds=seeds)


def per_seed_curves(test: pd.DataFrame, iteration: int | None = None) -> pd.DataFrame:
    """Mean return over test tasks per (family, method, seed, step) at one checkpoint (last if None)."""
    it = test["iter"].max() if iteration is None else iteration
    sub = test[test["iter"] == it]
    return sub.groupby(["family", "method", "seed", "step"], as_index=False)["ret"].mean()


def ranking(test: pd.DataFrame, step: int = 1) -> pd.DataFrame:
    """Per family: methods ordered by mean return after ``step`` adaptation steps (last checkpoint)."""
    cur = per_seed_curves(test)
    cur = cur[cur["step"] == step].groupby(["family", "method"], as_index=False)["ret"].mean()
    cur["rank"] = cur.groupby("family")["ret"].rank(ascending=False).astype(int)
    return cur.sort_values(["family", "rank"]).reset_index(drop=True)


def compare_methods(test: pd.DataFrame, step: int = 1, level: float = 0.9) -> pd.DataFrame:
    """Each BO-MRL variant vs each baseline per family, after ``step`` adaptation steps at the
    last checkpoint: mean difference in return over (seed, test task) pairs with a t-interval.

    Pairs share the test task, the seed's initial policy and the environment seeds (common
    random numbers). ``verdict``: ``better`` / ``worse`` if the interval excludes 0, else
    ``indistinguishable``. With few seeds the interval mostly reflects test-task variation.
    """
    last = test[(test["iter"] == test["iter"].max()) & (test["step"] == step)]
    wide = last.pivot_table(index=["family", "seed", "task_id"], columns="method", values="ret")
    rows = []
    for fam, g in wide.groupby(level="family"):
        for ours in [m for m in methods.METRIC if m in g]:
            for base in [m for m in methods.BASELINES if m in g]:
                diff = (g[ours] - g[base]).to_numpy()
                mean, lo, hi = t_interval(diff, level)
                rows.append(dict(family=fam, method=ours, baseline=base, ret=g[ours].mean(),
                                 ret_baseline=g[base].mean(), diff=mean, lo=lo, hi=hi, n=len(diff),
                                 verdict=verdict(lo, hi)))
    return pd.DataFrame(rows)
