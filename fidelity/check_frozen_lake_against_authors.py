"""Check notebook 12's Frozen Lake protocol against the authors' own functions, run unmodified beside it.

Two checks, from their published meta-policies (``meta_policy.py``) on their maps:

1. **One adaptation step on identical data.** Their sampler (``sample_trajectorie``) collects one batch
   per map; the same Q table and visitation go through their ``one_step_adaptation`` (``d_i`` 1: Alg(1),
   2: Alg(2)) and ``gd_adaptation`` (their "MAML", taken from ``test_gd.py`` by name), and through ours
   (:func:`lib.bomrl.tabular_sampled.adapt` with the KL counted 4 times as their code does, and once as
   the paper states; :func:`lib.bomrl.tabular_sampled.pg_step`). The table gives the largest difference
   of the adapted policies' probabilities (theirs run in float32, ours in float64).
2. **J after 0..4 adaptation steps** (means over their maps): their result files (``results/*.csv``,
   means of their rows), their test loop run here (their sampler and adaptation, ``--their-runs`` runs;
   J as they print it, the sampled discounted return of the batch), and our protocol (``--our-runs``
   runs; J exact and sampled).

Their code is not part of this repository. To run this script, check out
``xsy786912649/Bilevel-optimization-MRL`` (commit 08feaa5) and point ``--authors`` at its
``BOMRL_discrete_my`` folder. Their scripts import ``gym`` 0.26; give ``--gym`` a folder where it is
installed (``pip install --target /tmp/gym026 gym==0.26.2``), or leave it out to run them on
Gymnasium's identical ``FrozenLake-v1`` (its wrappers do not forward ``env.desc`` as gym 0.26's did,
so the script hands their code the unwrapped environment; their 49-step episodes never reach the
100-step time limit that the wrapper would add)::

    git clone https://github.com/xsy786912649/Bilevel-optimization-MRL /tmp/bomrl
    python fidelity/check_frozen_lake_against_authors.py --authors /tmp/bomrl/BOMRL_discrete_my

It writes ``data/full/fidelity/frozen_lake_adaptation_check.csv`` and
``data/full/fidelity/frozen_lake_pipeline_check.csv`` (with manifests). About 15 minutes on one core
with the defaults (their sampler takes 3-6 s per batch of 500 episodes).
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from lib.bomrl import tabular_sampled as ts  # noqa: E402
from lib.bomrl.frozen_lake_protocol import FROZEN_LAKE_AUTHORS, GAMMA, TEST_LAM  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.seeding import rng as make_rng  # noqa: E402

OUT = ROOT / "data" / "full" / "fidelity"
PRIOR = {("hole", "kl"): "training_meta_theta_1", ("hole", "kl_reverse"): "training_meta_theta_2",
         ("nohole", "kl"): "training_meta_theta_no_hole_1", ("nohole", "kl_reverse"): "training_meta_theta_no_hole_2"}
RESULT = {("hole", "Alg(1)"): "result_hole_d1.csv", ("hole", "Alg(2)"): "result_hole_d2.csv",
          ("hole", "PG"): "result_hole_gd.csv", ("nohole", "Alg(1)"): "result_nohole_d1.csv",
          ("nohole", "Alg(2)"): "result_nohole_d2.csv", ("nohole", "PG"): "result_nohole_gd.csv"}
METHODS = {"Alg(1)": ("kl", "alg"), "Alg(2)": ("kl_reverse", "alg"), "PG": ("kl", "pg")}  # PG from the Alg(1) prior


def import_authors(folder: Path, gym_dir: Path | None) -> types.SimpleNamespace:
    """Their modules for both kinds, imported unmodified from ``folder`` (run there: they read maps by
    relative path). ``train*.py`` read ``sys.argv[1]`` at import; ``gd_adaptation`` is compiled from
    ``test_gd.py``'s own source (importing that script would run its test loop)."""
    if gym_dir is not None:
        sys.path.insert(0, str(gym_dir))
        np.bool8 = np.bool_  # gym 0.26 uses it; numpy 2 dropped it
    else:
        import gymnasium
        shim = types.ModuleType("gym")
        shim.make = lambda *args, **kwargs: gymnasium.make(*args, **kwargs).unwrapped
        sys.modules["gym"] = shim
    sys.path.insert(0, str(folder))
    argv, cwd = sys.argv, os.getcwd()
    sys.argv = ["train.py", "1"]
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import extra_function
            import extra_function_nohole
            import meta_policy
            import train
            import train_nohole
    finally:
        sys.argv = argv
        os.chdir(cwd)
    tree = ast.parse((folder / "test_gd.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "gd_adaptation")
    scope = {"torch": torch}
    exec(compile(ast.Module([node], []), str(folder / "test_gd.py"), "exec"), scope)  # their function, unmodified
    return types.SimpleNamespace(folder=folder, gym=sys.modules["gym"], priors=meta_policy, gd_adaptation=scope["gd_adaptation"],
                                 sample={"hole": extra_function.sample_trajectorie,
                                         "nohole": extra_function_nohole.sample_trajectorie},
                                 adapt={"hole": train.one_step_adaptation, "nohole": train_nohole.one_step_adaptation})


def their_env(A, kind: str, desc):
    """The environment their test scripts build for one map (``nohole``: an all-frozen map; the
    penalty cells come from ``reward_map``)."""
    frozen = ["SFFF", "FFFF", "FFFF", "FFFG"]
    return A.gym.make("FrozenLake-v1", desc=list(desc) if kind == "hole" else frozen, is_slippery=False)


def their_batch(A, kind: str, desc, theta):
    """``(total_reward, observations, Q)`` of their ``sample_trajectorie`` on one map."""
    env = their_env(A, kind, desc)
    if kind == "hole":
        return A.sample[kind](env, GAMMA, theta)
    return A.sample[kind](np.array(list(desc)), env, GAMMA, theta)  # their reward_map: np.load of the map


def their_step(A, kind: str, method: str, theta, batch):
    """Their adaptation of logits ``theta`` (16, 4) on one batch: new logits, as their test scripts keep them."""
    _, observations, q = batch
    metric, adaptation = METHODS[method]
    if adaptation == "pg":
        return A.gd_adaptation(theta, q, observations, FROZEN_LAKE_AUTHORS.pg_step)
    return torch.log(A.adapt[kind](theta, q, TEST_LAM[(kind, metric)], 1 if metric == "kl" else 2))


def our_data(theta, batch) -> dict:
    """Their batch as :mod:`lib.bomrl.tabular_sampled` data (one task, float64)."""
    _, observations, q = batch
    pi = torch.softmax(torch.as_tensor(theta, dtype=ts.DTYPE), -1)[None]
    Q = torch.as_tensor(q.detach().numpy(), dtype=ts.DTYPE)[None]
    return dict(pi=pi, Q=Q, A=Q - (pi * Q).sum(-1, keepdim=True),
                d=torch.as_tensor(observations.detach().numpy().reshape(1, -1), dtype=ts.DTYPE))


def adaptation_check(A, kinds, n_maps: int) -> pd.DataFrame:
    """Part 1: one step on identical data per (kind, map, method); ``max_abs_dpi`` between the policies."""
    rows = []
    for kind in kinds:
        maps = ts.load_maps(ts.MAPS_FILE, kind)[:n_maps]
        for k, desc in enumerate(maps):
            for method, (metric, adaptation) in METHODS.items():
                theta = getattr(A.priors, PRIOR[(kind, metric)]).clone()
                np.random.seed(1000 + k)  # their sampler draws from numpy's global generator
                batch = their_batch(A, kind, desc, theta)
                theirs = torch.softmax(their_step(A, kind, method, theta, batch).double(), -1)
                data = our_data(theta, batch)
                logits = torch.as_tensor(theta, dtype=ts.DTYPE)[None]
                variants = ([("PG", None)] if adaptation == "pg" else [(method, 1)] if metric != "kl"
                            else [(f"{method}, KL x4 (their code)", 4), (f"{method}, KL once (the paper)", 1)])
                for name, count in variants:
                    if adaptation == "pg":
                        ours = ts.pg_step(logits, data, FROZEN_LAKE_AUTHORS.pg_step)
                    else:
                        ours = ts.adapt(logits, data, TEST_LAM[(kind, metric)], metric, FROZEN_LAKE_AUTHORS.sgd_steps,
                                        FROZEN_LAKE_AUTHORS.sgd_lr, count)
                    dpi = (torch.softmax(ours[0], -1) - theirs).abs().max().item()
                    rows.append(dict(kind=kind, map=k, method=name, max_abs_dpi=dpi))
    return pd.DataFrame(rows)


def their_pipeline(A, kind: str, method: str, maps, runs: int, seed: int) -> np.ndarray:
    """(runs, 5): their test loop's mean printed J over the maps after 0..4 steps (new batch each step)."""
    metric, _ = METHODS[method]
    out = np.zeros((runs, FROZEN_LAKE_AUTHORS.n_adapt_steps + 1))
    for r in range(runs):
        np.random.seed(seed + r)
        for desc in maps:
            theta = getattr(A.priors, PRIOR[(kind, metric)]).clone()
            for step in range(out.shape[1]):
                batch = their_batch(A, kind, desc, theta)
                out[r, step] += batch[0] / len(maps)
                theta = their_step(A, kind, method, theta, batch)
    return out


def our_pipeline(A, kind: str, method: str, maps, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Our protocol from their prior: (runs, 5) exact J and sampled J, means over the maps."""
    metric, adaptation = METHODS[method]
    tasks = ts.make_tasks(maps, kind)
    prior = torch.as_tensor(getattr(A.priors, PRIOR[(kind, metric)]).numpy(), dtype=ts.DTYPE)
    exact, sampled = [], []
    for r in range(runs):
        rng = make_rng(seed, "fl-fidelity", kind, method, r)
        J = ts.meta_test(prior, tasks, kind, adaptation, metric, "sampled", rng, FROZEN_LAKE_AUTHORS)
        exact.append(J.mean(0))
        logits, js = prior.expand(tasks.n, -1, -1).clone(), []  # the sampled J of the same kind of run
        for _ in range(FROZEN_LAKE_AUTHORS.n_adapt_steps + 1):
            d = ts.sampled_data(tasks, logits, rng)
            js.append(float(d["J"].mean()))
            logits = (ts.pg_step(logits, d, FROZEN_LAKE_AUTHORS.pg_step) if adaptation == "pg"
                      else ts.adapt(logits, d, TEST_LAM[(kind, metric)], metric, FROZEN_LAKE_AUTHORS.sgd_steps,
                                    FROZEN_LAKE_AUTHORS.sgd_lr, FROZEN_LAKE_AUTHORS.kl_count))
        sampled.append(js)
    return np.array(exact), np.array(sampled)


def pipeline_check(A, kinds, methods, their_runs: int, our_runs: int, seed: int) -> pd.DataFrame:
    """Part 2: J after each step, theirs (file, run here) beside ours, with the standard error of each mean."""
    rows = []
    for kind in kinds:
        maps = ts.load_maps(ts.MAPS_FILE, kind)
        for method in methods:
            file = pd.read_csv(A.folder / "results" / RESULT[(kind, method)], header=None).to_numpy()
            here = their_pipeline(A, kind, method, maps, their_runs, seed) if their_runs else None
            exact, sampled = our_pipeline(A, kind, method, maps, our_runs, seed)
            for step in range(exact.shape[1]):
                row = dict(kind=kind, method=method, step=step, theirs_file=file[:, step].mean(), file_rows=len(file),
                           ours_exact=exact[:, step].mean(), ours_sampled=sampled[:, step].mean(),
                           ours_se=sampled[:, step].std(ddof=1) / np.sqrt(our_runs) if our_runs > 1 else np.nan,
                           our_runs=our_runs)
                if here is not None:
                    row.update(theirs_here=here[:, step].mean(), their_runs=their_runs)
                row["diff_file"] = row["ours_sampled"] - row["theirs_file"]
                rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authors", type=Path, required=True, help="their BOMRL_discrete_my folder")
    parser.add_argument("--gym", type=Path, default=None, help="a folder with gym 0.26 installed (optional)")
    parser.add_argument("--kinds", nargs="+", default=["hole", "nohole"], choices=["hole", "nohole"])
    parser.add_argument("--maps", type=int, default=3, help="maps per kind in the identical-data check")
    parser.add_argument("--their-runs", type=int, default=1, help="runs of their test loop here (0: skip)")
    parser.add_argument("--our-runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("maps", "our_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if not (args.authors / "train.py").is_file():
        parser.error(f"--authors {args.authors}: no train.py there (give their BOMRL_discrete_my folder)")
    A = import_authors(args.authors.resolve(), args.gym.resolve() if args.gym else None)
    torch.manual_seed(args.seed)
    step = adaptation_check(A, args.kinds, args.maps)
    print(step.groupby(["kind", "method"]).max_abs_dpi.max().to_string())
    params = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    save_table(step, OUT / "frozen_lake_adaptation_check.csv", params)
    pipe = pipeline_check(A, args.kinds, list(METHODS), args.their_runs, args.our_runs, args.seed)
    print(pipe.round(4).to_string(index=False))
    save_table(pipe, OUT / "frozen_lake_pipeline_check.csv", params)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
