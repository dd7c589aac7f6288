"""Does our sampler draw the same data as the authors' sampler? A side-by-side check, same machine.

``fidelity/check_against_authors_code.py`` showed that one meta-iteration of ours equals theirs on
*identical* trajectories. Whether the trajectories themselves come from the same distribution is
the other half: here the same policy and observation filter sample the log's 9 goals (``n`` per
goal) once with their ``sample_data_for_task_specific`` (gym 0.26 ``HalfCheetah-v4``, one
environment, their per-observation filter updates) and once with ``lib.bomrl.sampler.sample_filtered``
(our batched MuJoCo, filter frozen during a call). Three policies: the initial policy of notebook
13 with its warmed-up filter, our velocity Alg(3) seed 0 after 120 meta-iterations (the committed
checkpoint), and their trained velocity Alg(1) policy with its filter.

Rows (``policy, quantity, ours, theirs, diff, lo, hi, n``): the mean over trajectories of the
200-step return, of the return of the 200-step continuation (the return tail), and of the
discounted return with tail at t = 0 (what the advantages are made of, before centring; both with
their tail of 82dc4e8, ``tail_source="own"``); the
difference ours - theirs pooled over goals with a 90 % normal interval (per-goal standard errors);
and the largest per-dimension difference of the mean normalised observation, in units of that
dimension's standard deviation (``diff``; in ``ours`` the same statistic between two draws of our
sampler with different seeds: its noise level).

Set-up as in ``check_against_authors_code.py`` (their ``BOMRL_my`` at ``82dc4e8``, gym 0.26 in a
separate folder)::

    python fidelity/check_sampler_against_authors.py --authors /tmp/bomrl/BOMRL_my --gym /tmp/gym026

Writes ``data/full/fidelity/authors_sampler_check.csv`` (with its manifest). About 5 minutes on one core.
"""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fidelity"))

import numpy as np
import torch

import common  # noqa: E402  (fidelity/common.py: the shared command line and table)
from check_against_authors_code import (
    FAMILY,
    LOG_GOALS,
    captured_rewards,
    import_authors,
    their_trained_policy,
    to_their_net,
)
from scipy import stats

from lib.bomrl import sampler
from lib.bomrl import locomotion_study as study
from lib.bomrl.meta_items import load_state

CHECKPOINT = ROOT / "data/full/13_bomrl_authors_locomotion/checkpoints"


def their_filter(A, norm: sampler.ObsNorm):
    """Their ``ZFilter`` holding our filter's statistics."""
    zf = A.ZFilter((norm.mean.shape[0],), clip=norm.clip)
    zf.rs._n, zf.rs._M[...], zf.rs._S[...] = norm.n, norm.mean, norm.m2
    return zf


def theirs(A, phi, norm: sampler.ObsNorm, n: int, seed: int, proto) -> dict[str, np.ndarray]:
    """(goals, n) per-trajectory arrays from their sampler, and the (m, obs_dim) normalised observations."""
    A.running_state = their_filter(A, norm)  # their sampler reads the module's global filter
    net = to_their_net(A, phi)
    torch.manual_seed(seed)
    A.env.reset(seed=seed)
    out = {"ret": [], "tail": [], "g0": []}
    obs = []
    for goal in LOG_GOALS:
        with contextlib.redirect_stdout(io.StringIO()):
            batch, extra, _ = A.sample_data_for_task_specific(float(goal), net, n)
        rew = np.asarray(batch.reward).reshape(n, -1)
        rew_tail = np.asarray(extra.reward).reshape(n, -1)
        q = A.compute_adavatage(batch, extra, n).detach().numpy().reshape(n, -1)
        out["ret"].append(rew.sum(1))
        out["tail"].append(rew_tail.sum(1))
        out["g0"].append(q[:, 0])
        obs.append(np.asarray(batch.state))
    return {k: np.array(v) for k, v in out.items()} | {"obs": np.concatenate(obs)}


def ours(phi, norm: sampler.ObsNorm, n: int, seed: int, proto) -> dict[str, np.ndarray]:
    """The same arrays from ``lib.bomrl.sampler.sample_filtered``."""
    with captured_rewards() as captured:
        data, _, _ = sampler.sample_filtered(FAMILY, phi, LOG_GOALS, n, norm, seed, proto)
    rew = captured[-1].reshape(len(LOG_GOALS), n, -1)
    g = sampler.returns_with_tail(captured[-1], proto.horizon, proto.gamma, "own")  # their formula at 82dc4e8
    return {"ret": rew[:, :, :proto.horizon].sum(2), "tail": rew[:, :, proto.horizon:].sum(2),
            "g0": g[:, 0].reshape(len(LOG_GOALS), n),
            "obs": torch.cat([d.obs.reshape(-1, d.obs.shape[-1]) for d in data]).numpy()}


def obs_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest per-dimension |mean(a) - mean(b)| in units of the dimension's sd; a, b (m, obs_dim)."""
    sd = np.sqrt((a.var(0) + b.var(0)) / 2) + 1e-12
    return float((np.abs(a.mean(0) - b.mean(0)) / sd).max())


def compare(name: str, a: dict, b: dict, a2: dict) -> list[dict]:
    """Rows of ours (a) vs theirs (b), pooled over goals with per-goal standard errors; ``a2`` is a
    second draw of ours, whose observation gap to ``a`` is the noise level of that statistic."""
    z = stats.norm.ppf(0.95)
    rows = []
    for key, what in [("ret", "200-step return"), ("tail", "return of the continuation (tail)"),
                      ("g0", "discounted return with tail at t = 0")]:
        x, y = a[key], b[key]
        diff = x.mean() - y.mean()
        se = np.sqrt((x.var(1, ddof=1) / x.shape[1] + y.var(1, ddof=1) / y.shape[1]).sum()) / x.shape[0]
        rows.append(dict(policy=name, quantity=what, ours=x.mean(), theirs=y.mean(), diff=diff,
                         lo=diff - z * se, hi=diff + z * se, n=x.size))
    rows.append(dict(policy=name, quantity="max over dims |mean normalised obs difference| / sd",
                     ours=obs_gap(a["obs"], a2["obs"]), theirs=np.nan, diff=obs_gap(a["obs"], b["obs"]),
                     lo=np.nan, hi=np.nan, n=len(a["obs"])))
    return rows


def policies(A, authors: Path, cfg, proto):
    """``(name, phi, norm)`` of the three policies compared."""
    init = study.initial_state(cfg, study.protocol(cfg), FAMILY, 0)
    yield "initial policy (notebook 13, seed 0)", init["phi"], sampler.ObsNorm.from_state(init["norm"])
    partial = next(CHECKPOINT.glob("halfcheetah-vel-Alg_3_-0-*.partial"))
    st = load_state(str(partial), dict)
    yield f"ours: velocity Alg(3) seed 0 at iteration {st['it']}", st["phi"], sampler.ObsNorm.from_state(st["norm"])
    yield "theirs: trained velocity Alg(1) (best-so-far)", *their_trained_policy(authors, proto)


def main(argv=None) -> int:
    parser = common.parser(__doc__, "their BOMRL_my folder at 82dc4e8", "authors_sampler_check.csv")
    parser.add_argument("--n", type=int, default=50, help="trajectories per goal and sampler")
    args = parser.parse_args(argv)
    cfg, proto = common.float64_protocol()
    A = import_authors(args.authors.resolve(), args.gym.resolve())
    rows = []
    for k, (name, phi, norm) in enumerate(policies(A, args.authors.resolve(), cfg, proto)):
        phi = [p.detach().double().clone() for p in phi]
        mine = ours(phi, norm, args.n, 1000 + k, proto)
        their = theirs(A, phi, norm, args.n, 2000 + k, proto)
        again = ours(phi, norm, args.n, 3000 + k, proto)
        rows += compare(name, mine, their, again)
        for r in rows[-4:]:
            print(r, flush=True)
    return common.write(rows, args, n=args.n)


if __name__ == "__main__":
    raise SystemExit(main())
