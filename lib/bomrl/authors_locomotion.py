"""Paper 2's locomotion experiment as its authors' code runs it (HalfCheetah), for notebook 13.

Every constant below was read in ``xsy786912649/Bilevel-optimization-MRL`` at commit 08feaa5
(``BOMRL_my/train_trpo_HalfCheetah_{vel,dir}.py``, ``trpo.py``, ``models.py``,
``running_state.py``; ``MAML_my/`` for their MAML-TRPO); ``docs/paper2_provenance.md`` and
``../shared/research/paper2_authors_protocol.md`` cite them line by line.

* **Policy**: tanh MLP 2 x 128, output layer weights x 0.1 and bias 0, state-independent log-std
  -0.7 (std 0.50); PyTorch's default initialisation otherwise (:func:`init_policy`).
* **Observations** are normalised by running mean and std, clipped to +-5 (their ZFilter), warmed up
  on 5 x batch episodes of the initial policy (:class:`ObsNorm`). Here the statistics are frozen
  during a sampling call and updated with all its observations after it (theirs update after
  every observation; after the warm-up's 20 000 observations the difference is tiny, and a
  frozen filter makes the batched sampler exact and order-free).
* **Returns**: gamma = 0.995 Monte-Carlo returns-to-go; each 200-step trajectory is continued
  for another 200 steps that only supply the return's tail; advantages are the returns minus
  their batch mean (centred, not normalised, no baseline). Rewards: ``-|v_x - g| - 0.05 ||a||^2``
  (velocity) and ``d v_x - 0.05 ||a||^2`` (direction), as in our other locomotion notebook.
* **Alg(1)/(2)/(3)**: minimise ``loss / lam + D^2(phi, theta)`` from phi by 50 Adam steps
  (lr 1e-3), stopping before a step once ``D^2 > 3``; ``loss = -mean[A 2 sigmoid(2 r - 2)]``,
  ``r = pi_theta / pi_phi`` (a smooth ratio that saturates at 2), lam = 0.5;
  ``D^2`` = KL(pi_phi || pi_theta) (Alg(1)), KL(pi_theta || pi_phi) (Alg(2)), ||theta - phi||^2
  (Alg(3)), KLs as means over the batch's states (:func:`adapt`).
* **Meta-gradient** (:func:`meta_gradient`): ``g`` = gradient of the post-adaptation loss
  ``-mean[A' r]`` on 5 x batch trajectories of the adapted policy; ``x = H^-1 g`` by 10
  conjugate-gradient iterations without damping, ``H`` the Hessian in theta of
  ``D^2 + loss / lam`` at theta'; the outer loss ``-<grad_theta D^2(phi, theta'), x>`` keeps only
  the mixed derivative of ``D^2`` (the surrogate's pi_phi is held fixed). This is the implicit
  function theorem's ``(d theta' / d phi)^T g`` without the surrogate's cross term.
* **Outer step**: TRPO on the outer loss (CG 10, no damping): the natural-gradient step whose
  quadratic model of the mean KL(phi_old || phi) on the pre-adaptation states of the first 5 tasks
  equals 1e-2 (velocity) / 3e-2 (direction), then their line search (:func:`improvement_line_search`):
  halve until the outer loss falls by more than 0.1 x its linear prediction, *without* checking the
  KL. ``Protocol(outer_kl_check=True)`` also rejects candidates whose KL exceeds the bound (our
  first version; it halved about half of the steps, which slowed meta-training).
* **Tasks**: velocity goals U[0, 2], 10 tasks x 20 trajectories; directions the fixed list
  -1, +1, -1, +1, 4 tasks x 20 trajectories. Meta-test goals: 0.1, 0.2, ..., 1.9 and +-1.
* **Their MAML-TRPO** adapts with one step of lr 0.1 on the same centred returns (our
  :class:`lib.bomrl.baselines.GradientBaseline` takes the same first step; the ratio and the
  log-likelihood surrogates have the same gradient at phi) with outer max-KL 1e-2 (velocity) /
  3e-3 (direction).

**Precision** (our one change of their setting, for speed): policies and data are float32,
PyTorch's default (theirs are float64: ``torch.set_default_tensor_type('torch.DoubleTensor')``,
line 21 of ``train_trpo_HalfCheetah_{vel,dir}.py``). A meta-iteration costs 0.48-0.83x as much
(``benchmarks/profile_authors_iteration.py``); ``tests/test_authors_locomotion.py`` bounds the change of one adaptation and of the
meta-gradient against float64 (``Protocol(dtype="float64")``, which the finite-difference tests use).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl.sampler import TaskData
from lib.envs.mujoco_batch import HalfCheetahBatch
from lib.policies import gaussian_kl, gaussian_log_prob
from lib.rollouts import rewards_to_go
from lib.trpo import TRPOConfig, conjugate_gradient, line_search, natural_step

FAMILIES = ("halfcheetah-vel", "halfcheetah-dir")
METRICS = {"Alg(1)": "kl", "Alg(2)": "kl_reverse", "Alg(3)": "euclidean"}
DIR_TASKS = (-1.0, 1.0, -1.0, 1.0)
# meta-test goals of BOMRL_my/test_HalfCheetah_{vel,dir}.py: target_v = 0.1 k for k in range(20), and +1, -1
TEST_TASKS = {"halfcheetah-vel": tuple(round(0.1 * k, 1) for k in range(20)), "halfcheetah-dir": (1.0, -1.0)}
CTRL_COST = 0.05
TAIL_SOURCES = ("continuation", "own")


@dataclass(frozen=True)
class Protocol:
    """The authors' constants (module docstring); sizes that a profile scales live in the config.

    Attributes:
        hidden, layers: the MLP. out_scale: factor of the output layer's initial weights.
        log_std0: initial log-std. gamma: discount. horizon: steps per trajectory.
        tail: continue each trajectory ``horizon`` more steps for the return's tail.
        obs_clip: clip of the normalised observations. warmup: warm-up episodes per trajectory
            of a batch (5 x 20 = 100).
        lam: lambda of Alg(1)-(3). inner_steps, inner_lr: the Adam solver. max_distance: stop
            once D^2 exceeds it. cg_iters, cg_damping: the implicit system and the outer step.
        max_kl: outer KL bound of BO-MRL per family; maml_max_kl: that of their MAML-TRPO.
        maml_lr: MAML's inner step.
        outer_kl_check: the outer line search also rejects candidates with KL > max_kl (theirs
            does not; False is their protocol).
        tail_source: what the return's tail sums (with ``tail``): ``"continuation"``, the
            trajectory's next ``horizon`` rewards (their HEAD), or ``"own"``, its own first
            ``horizon`` rewards again (every version of their scripts before ``1784ed7``).
        dtype: "float32" (ours) or "float64" (theirs) for policies and data.
    """

    hidden: int = 128
    layers: int = 2
    out_scale: float = 0.1
    log_std0: float = -0.7
    gamma: float = 0.995
    horizon: int = 200
    tail: bool = True
    obs_clip: float = 5.0
    warmup: int = 5
    lam: float = 0.5
    inner_steps: int = 50
    inner_lr: float = 1e-3
    max_distance: float = 3.0
    cg_iters: int = 10
    cg_damping: float = 0.0
    max_kl: dict = field(default_factory=lambda: {"halfcheetah-vel": 1e-2, "halfcheetah-dir": 3e-2})
    maml_max_kl: dict = field(default_factory=lambda: {"halfcheetah-vel": 1e-2, "halfcheetah-dir": 3e-3})
    maml_lr: float = 0.1
    outer_kl_check: bool = False
    tail_source: str = "continuation"
    dtype: str = "float32"

    def __post_init__(self):
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.tail_source not in TAIL_SOURCES:
            raise ValueError(f"tail_source must be one of {', '.join(map(repr, TAIL_SOURCES))}, got {self.tail_source!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)


def check_family(name: str) -> str:
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r} for the authors' protocol; choose one of {', '.join(FAMILIES)}")
    return name


# --- policy and observation filter ----------------------------------------------------------

def init_policy(obs_dim: int, act_dim: int, seed: int, proto: Protocol = Protocol()) -> fp.Params:
    """The authors' initial policy as a parameter list ``[W1, b1, ..., W3, b3, log_std]``.

    PyTorch's default ``nn.Linear`` initialisation (U(-1/sqrt(in), 1/sqrt(in)) for weights and
    biases) under ``torch.manual_seed(seed)``; output weights x ``out_scale``, output bias 0.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        sizes = [obs_dim] + [proto.hidden] * proto.layers + [act_dim]
        layers = [torch.nn.Linear(i, o, dtype=proto.torch_dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    with torch.no_grad():
        layers[-1].weight.mul_(proto.out_scale)
        layers[-1].bias.zero_()
    params = [t for layer in layers for t in (layer.weight, layer.bias)]
    params.append(torch.full((act_dim,), proto.log_std0, dtype=proto.torch_dtype))
    return [p.detach().clone().requires_grad_(True) for p in params]


@dataclass
class ObsNorm:
    """Running mean and standard deviation of observations (the authors' ZFilter, clip 5).

    ``std`` is ``sqrt(M2 / (n - 1))`` (``|mean|`` while n = 1, as theirs); a normalised
    observation is ``clip((x - mean) / (std + 1e-8), -clip, clip)``.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    clip: float = 5.0

    @classmethod
    def empty(cls, dim: int, clip: float = 5.0) -> "ObsNorm":
        return cls(0, np.zeros(dim), np.zeros(dim), clip)

    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else np.abs(self.mean)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x - self.mean) / (self.std() + 1e-8), -self.clip, self.clip)

    def update(self, x: np.ndarray) -> "ObsNorm":
        """A new filter with the rows of ``x`` (m, dim) added (Chan et al.'s exact merge)."""
        x = np.asarray(x, dtype=float).reshape(-1, self.mean.shape[0])
        m = x.shape[0]
        if m == 0:
            return self
        mean_b = x.mean(0)
        m2_b = ((x - mean_b) ** 2).sum(0)
        n = self.n + m
        delta = mean_b - self.mean
        mean = self.mean + delta * m / n
        m2 = self.m2 + m2_b + delta**2 * self.n * m / n
        return ObsNorm(n, mean, m2, self.clip)

    def state(self) -> dict:
        return dict(n=self.n, mean=self.mean.copy(), m2=self.m2.copy(), clip=self.clip)

    @classmethod
    def from_state(cls, state: dict) -> "ObsNorm":
        return cls(int(state["n"]), np.asarray(state["mean"], dtype=float), np.asarray(state["m2"], dtype=float),
                   float(state["clip"]))


def _stack(plist: list) -> list[torch.Tensor]:
    """Per-task parameter lists -> stacked tensors (k, ...), for one batched forward pass."""
    return [torch.stack([p[i].detach() for p in plist]) for i in range(len(plist[0]))]


def _batched_actions(stacked, obs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """a ~ pi_k(.|s) for obs (k, n, obs_dim) with the k stacked policies; (k, n, act_dim)."""
    h = obs
    layers = stacked[:-1]
    for i in range(0, len(layers), 2):
        h = torch.baddbmm(layers[i + 1][:, None, :], h, layers[i].mT)
        if i + 2 < len(layers):
            h = torch.tanh(h)
    return h + torch.exp(stacked[-1])[:, None, :] * torch.randn(h.shape, generator=gen, dtype=h.dtype)


# --- sampling -----------------------------------------------------------------------------

def task_rewards(family: str, tasks: np.ndarray, vel: np.ndarray, act: np.ndarray) -> np.ndarray:
    """(m,) rewards: ``-|v - g| - 0.05 ||a||^2`` (vel) or ``d v - 0.05 ||a||^2`` (dir)."""
    term = -np.abs(vel - tasks) if family.endswith("vel") else tasks * vel
    return term - CTRL_COST * (act**2).sum(-1)


def returns_with_tail(rew: np.ndarray, horizon: int, gamma: float, tail_source: str = "continuation") -> np.ndarray:
    """(n, horizon) discounted returns of the first ``horizon`` steps of (n, T) reward rows (no early ends).

    ``"continuation"``: ``G_t = sum_{s=t}^{T-1} gamma^(s-t) r_s`` (the tail is the steps after
    ``horizon``). ``"own"`` (their scripts before ``1784ed7``; needs T = 2 horizon): the tail is the
    first ``horizon`` rewards again, so ``G_t = (1 + gamma^H) RTG_t + gamma^(H-t) sum_{s<t} gamma^s r_s``
    with ``RTG_t`` the in-horizon reward-to-go.
    """
    if tail_source == "own":
        if rew.shape[1] != 2 * horizon:
            raise ValueError(f"the 'own' tail needs 2 x horizon = {2 * horizon} rewards per row, got {rew.shape[1]}")
        rew = np.concatenate([rew[:, :horizon], rew[:, :horizon]], 1)
    elif tail_source != "continuation":
        raise ValueError(f"tail_source must be one of {', '.join(map(repr, TAIL_SOURCES))}, got {tail_source!r}")
    return rewards_to_go(rew, np.ones_like(rew), gamma)[:, :horizon]


def sample(family: str, params, tasks, n_traj: int, norm: ObsNorm, seed: int,
           proto: Protocol = Protocol()) -> tuple[list[TaskData], np.ndarray, dict]:
    """``n_traj`` trajectories per task of one policy (or one per task), as the authors sample them.

    Args:
        params: one parameter list, or a list of them (one per task).
        tasks: (k,) goal velocities or directions. norm: the frozen observation filter.
        seed: reset states and action noise derive from it.
    Returns:
        ``(data, raw_obs, info)``: one :class:`TaskData` per task (normalised observations of the
        ``horizon`` steps, centred discounted returns with the tail as ``adv``, in the policy's
        dtype; undiscounted
        ``horizon``-step returns), every raw observation the policy saw (for the filter), and
        ``{"steps", "seconds", "physics_s"}``.
    """
    check_family(family)
    tasks = np.asarray(tasks, dtype=float)
    k = len(tasks)
    plist = params if isinstance(params[0], (list, tuple)) else [params]
    if len(plist) not in (1, k):
        raise ValueError(f"{len(plist)} parameter lists for {k} tasks")
    stacked = _stack(plist)
    dtype = stacked[-1].dtype
    groups = len(plist)
    n = k * n_traj
    row_task = np.repeat(tasks, n_traj)
    horizon, total = proto.horizon, proto.horizon * (2 if proto.tail else 1)
    sim = HalfCheetahBatch(n)
    gen = torch.Generator().manual_seed(int(seed))
    start = time.perf_counter()
    raw = sim.reset(np.random.default_rng(int(seed)))
    obs_dim, act_dim = raw.shape[1], plist[0][-1].numel()
    obs = np.empty((n, horizon, obs_dim))
    act = np.empty((n, horizon, act_dim))
    rew = np.empty((n, total))
    seen = np.empty((total, n, obs_dim))
    physics = 0.0
    for t in range(total):
        seen[t] = raw
        x = norm(raw)
        with torch.no_grad():
            a = _batched_actions(stacked, torch.as_tensor(x, dtype=dtype).view(groups, -1, obs_dim), gen)
        a = a.reshape(n, act_dim).numpy()
        if t < horizon:
            obs[:, t], act[:, t] = x, a
        t0 = time.perf_counter()
        raw, vel = sim.step(a)
        physics += time.perf_counter() - t0
        rew[:, t] = task_rewards(family, row_task, vel, a)
    seconds = time.perf_counter() - start
    g = returns_with_tail(rew, horizon, proto.gamma, proto.tail_source)
    data = []
    ones = torch.ones(n_traj, horizon, dtype=dtype)
    for j, task in enumerate(tasks):
        rows = slice(j * n_traj, (j + 1) * n_traj)
        adv = g[rows] - g[rows].mean()
        data.append(TaskData(torch.as_tensor(obs[rows], dtype=dtype), torch.as_tensor(act[rows], dtype=dtype),
                             ones, torch.as_tensor(adv, dtype=dtype), rew[rows, :horizon].sum(1), float(task)))
    return data, seen.reshape(-1, obs_dim), dict(steps=n * total, seconds=seconds, physics_s=physics)


# --- Alg(1)-(3): the inner problem ----------------------------------------------------------

def smooth_gain(theta, phi_logp: torch.Tensor, d: TaskData) -> torch.Tensor:
    """``mean[A 2 sigmoid(2 r - 2)]`` with ``r = pi_theta / pi_phi`` (the authors' surrogate, a gain)."""
    r = torch.exp(fp.log_prob(theta, d.obs, d.act) - phi_logp)
    return (d.weights() * d.adv * 2 * torch.sigmoid(2 * r - 2)).sum()


def distance(metric: str, phi, theta, d: TaskData) -> torch.Tensor:
    """D^2(phi, theta): mean KL(pi_phi || pi_theta), mean KL(pi_theta || pi_phi) or ||theta - phi||^2."""
    if metric == "kl":
        return (d.weights() * fp.kl(phi, theta, d.obs)).sum()
    if metric == "kl_reverse":
        return (d.weights() * fp.kl(theta, phi, d.obs)).sum()
    if metric == "euclidean":
        return sum(((t - p) ** 2).sum() for t, p in zip(theta, phi))
    raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS.values())}")


@dataclass(frozen=True)
class Anchor:
    """What the inner problem needs of the fixed phi on one task's data, computed once:
    ``params`` (detached), ``mean`` (n, T, act_dim) and ``logp`` (n, T) of the data's actions."""

    params: list
    mean: torch.Tensor
    logp: torch.Tensor


def anchor(phi, d: TaskData) -> Anchor:
    with torch.no_grad():
        params = [p.detach() for p in phi]
        mu = fp.mean(params, d.obs)
        return Anchor(params, mu, gaussian_log_prob(d.act, mu, params[-1]))


def inner_terms(theta, a: Anchor, d: TaskData, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(gain, D^2)`` of :func:`smooth_gain` and :func:`distance` from one forward pass of theta
    (the same values; :func:`adapt` evaluates them 50 times per task, so this matters)."""
    mu, w = fp.mean(theta, d.obs), d.weights()
    r = torch.exp(gaussian_log_prob(d.act, mu, theta[-1]) - a.logp)
    gain = (w * d.adv * 2 * torch.sigmoid(2 * r - 2)).sum()
    if metric == "kl":
        dist = (w * gaussian_kl(a.mean, a.params[-1], mu, theta[-1])).sum()
    elif metric == "kl_reverse":
        dist = (w * gaussian_kl(mu, theta[-1], a.mean, a.params[-1])).sum()
    else:
        dist = distance(metric, a.params, theta, d)
    return gain, dist


def inner_objective(theta, phi, d: TaskData, metric: str, lam: float, a: Anchor | None = None) -> torch.Tensor:
    """``-gain(theta) / lam + D^2(phi, theta)``, phi held fixed (the quantity Adam minimises);
    ``a``: phi's :func:`anchor` on ``d`` if already computed."""
    gain, dist = inner_terms(theta, a or anchor(phi, d), d, metric)
    return -gain / lam + dist


def stationarity(theta, phi, d: TaskData, metric: str, lam: float) -> float:
    """``|grad F(theta')| / |grad F(phi)|`` of the inner objective F (0 at a stationary point)."""
    a = anchor(phi, d)

    def grad_norm(at):
        th = fp.detach(at)
        return float(fp.flat(torch.autograd.grad(inner_objective(th, phi, d, metric, lam, a), th)).norm())
    return grad_norm(theta) / max(grad_norm(phi), 1e-300)


def adapt(phi, d: TaskData, metric: str, proto: Protocol = Protocol()) -> tuple[list, dict]:
    """The authors' ``one_step_trpo``: Adam on :func:`inner_objective` from phi; (theta', info).

    ``info``: ``steps`` taken (fewer than ``inner_steps`` if D^2 passed ``max_distance``) and
    ``distance``, D^2 at theta'.
    """
    a = anchor(phi, d)
    theta = fp.detach(a.params)
    opt = torch.optim.Adam(theta, lr=proto.inner_lr)
    steps = 0
    for _ in range(proto.inner_steps):
        opt.zero_grad()
        gain, dist = inner_terms(theta, a, d, metric)
        if float(dist.detach()) > proto.max_distance:
            break
        (-gain / proto.lam + dist).backward()
        opt.step()
        steps += 1
    theta = [t.detach() for t in theta]
    with torch.no_grad():
        dist = float(distance(metric, a.params, theta, d))
    return theta, dict(steps=steps, distance=dist)


# --- the authors' meta-gradient and outer step ----------------------------------------------

def post_loss_gradient(theta, d: TaskData) -> torch.Tensor:
    """(p,) gradient at theta of ``-mean[A r]`` on theta's own data (``r`` = 1 there): ``-mean[A grad log pi]``."""
    th = fp.detach(theta)
    loss = -(d.weights() * d.adv * fp.log_prob(th, d.obs, d.act)).sum()
    return fp.flat(torch.autograd.grad(loss, th)).detach()


def implicit_direction(phi, theta, d: TaskData, g: torch.Tensor, metric: str, proto: Protocol = Protocol()):
    """``x = H^-1 g`` by CG (``cg_iters``, ``cg_damping``, their squared-residual tolerance 1e-10), ``H`` the Hessian in theta of F at theta'."""
    th = fp.detach(theta)
    grad = fp.flat(torch.autograd.grad(inner_objective(th, phi, d, metric, proto.lam), th, create_graph=True))

    def hvp(v):
        return fp.flat(torch.autograd.grad(grad @ v, th, retain_graph=True)).detach() + proto.cg_damping * v

    return conjugate_gradient(hvp, g, proto.cg_iters, 1e-10)  # their residual tolerance


def outer_loss(phi, thetas, pre: list[TaskData], xs, metric: str) -> torch.Tensor:
    """``-mean_k <grad_theta D^2(phi, theta'_k), x_k>`` (differentiable in phi): the authors' outer loss."""
    total = 0.0
    for theta, d, x in zip(thetas, pre, xs):
        th = fp.detach(theta)
        grad = fp.flat(torch.autograd.grad(distance(metric, phi, th, d), th, create_graph=True))
        total = total - grad @ x
    return total / len(pre)


def improvement_line_search(loss, x0: torch.Tensor, full_step: torch.Tensor, expected: float,
                            max_backtracks: int = 10, accept_ratio: float = 0.1) -> tuple[torch.Tensor, dict]:
    """The authors' backtracking (``linesearch`` in their ``trpo.py``): the first ``x0 + 0.5^j full_step``
    whose loss decrease is positive and more than ``accept_ratio`` x ``0.5^j expected``; no KL check.

    Args:
        loss: flat parameters (p,) -> loss (float). expected: the full step's predicted decrease
            ``-<grad, full_step>`` (> 0 for a descent step).
    Returns:
        ``(x, info)``: ``x0`` unchanged if no candidate passes; info has ``accepted``,
        ``n_backtracks`` and ``step_frac``.
    """
    f0 = loss(x0)
    for j in range(max_backtracks):
        frac = 0.5**j
        x = x0 + frac * full_step
        actual = f0 - loss(x)
        if math.isfinite(actual) and actual > 0 and actual / (expected * frac) > accept_ratio:
            return x, dict(accepted=True, n_backtracks=j, step_frac=frac)
    return x0.clone(), dict(accepted=False, n_backtracks=max_backtracks, step_frac=0.0)


class AuthorsBOMRL:
    """The authors' Alg(1), Alg(2) or Alg(3) (same interface as ``GradientBaseline``)."""

    def __init__(self, name: str, family: str, proto: Protocol = Protocol()):
        if name not in METRICS:
            raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METRICS)}")
        self.name, self.metric, self.proto = name, METRICS[name], proto
        self.max_kl = proto.max_kl[check_family(family)]
        self.trpo = TRPOConfig(cg_iters=proto.cg_iters, cg_damping=proto.cg_damping, kl_slack=1.0)
        self.last_info: dict = {}

    def adapt(self, params, d: TaskData):
        theta, self.last_info = adapt(params, d, self.metric, self.proto)
        return theta

    def outer(self, phi, pre: list[TaskData], post: list[TaskData], thetas) -> tuple[list, dict]:
        """One TRPO step on :func:`outer_loss`; diagnostics include the inner solutions' stationarity."""
        phi = fp.detach(phi)
        xs = [implicit_direction(phi, th, d, post_loss_gradient(th, dp), self.metric, self.proto)
              for th, d, dp in zip(thetas, pre, post)]
        loss = outer_loss(phi, thetas, pre, xs, self.metric)
        grad = fp.flat(torch.autograd.grad(loss, phi)).detach()
        phi_bar = [p.detach() for p in phi]
        kl_data = pre[:5]
        obs = torch.cat([d.obs.reshape(-1, d.obs.shape[-1]) for d in kl_data])
        w = torch.cat([d.weights().reshape(-1) for d in kl_data]) / len(kl_data)
        fvp = lambda v: fp.fisher_vp(phi_bar, obs, v, w) + self.trpo.cg_damping * v  # noqa: E731
        step = natural_step(fvp, -grad, self.max_kl, self.trpo)

        def value(x):
            return -float(outer_loss(fp.detach(fp.unflat(x, phi_bar)), thetas, pre, xs, self.metric).detach())

        def kl(x):
            with torch.no_grad():
                return float((w * fp.kl(phi_bar, fp.unflat(x, phi_bar), obs)).sum())

        x0 = fp.flat(phi_bar)
        if self.proto.outer_kl_check:
            x_new, info = line_search(value, kl, x0, step, self.max_kl, require_improvement=True, config=self.trpo)
        else:
            x_new, info = improvement_line_search(lambda x: -value(x), x0, step, float(-grad @ step))
            info["kl"] = kl(x_new) if info["accepted"] else 0.0
        stats = [stationarity(th, phi_bar, d, self.metric, self.proto.lam) for th, d in zip(thetas, pre)]
        return fp.detach(fp.unflat(x_new, phi_bar)), dict(
            kl=info["kl"], n_backtracks=info["n_backtracks"], accepted=bool(info["accepted"]),
            grad_norm=float(grad.norm()), stationarity=float(np.median(stats)))
