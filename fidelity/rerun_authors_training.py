"""Run the authors' own Half-cheetah velocity training script, unmodified, on this machine, and tabulate it.

Notebook 13's Alg(k) equals the authors' code for one meta-iteration on identical data
(``check_against_authors_code.py``) and its sampler draws the same data as theirs
(``check_sampler_against_authors.py``), yet our velocity runs improved about half as fast as their
committed training logs over the first 120 iterations. Their logs are one run each. This script
runs their ``train_trpo_HalfCheetah_vel.py`` as it is (their repository at ``82dc4e8``, default
arguments, ``--index k``) in a fresh folder, so nothing of theirs is loaded, stops it after
``--iters`` meta-iterations and writes one row per iteration:

* ``eval_after``: what their script appends to its training log (mean return after one adaptation
  step on its 9 evaluation goals, the quantity of their committed log);
* ``train_before``, ``train_after``: means over the iteration's 10 training tasks of the returns
  it prints before and after adaptation (the latter on 5x the trajectories, as notebook 13's
  ``post_return``).

Their script seeds torch (543) but not numpy, so the goals and reset states differ from run to run:
this is one more draw of their own procedure. It cannot resume (a restart reloads their best-so-far
checkpoint), so run it in one go: about 5 minutes per iteration on one idle core. Set-up as in
``check_against_authors_code.py``::

    python fidelity/rerun_authors_training.py --authors /tmp/bomrl/BOMRL_my --gym /tmp/gym026 --index 3 --iters 40

Writes ``data/full/fidelity/authors_rerun_vel_<index>.csv`` (each table with its manifest) (and keeps their printed output next to
it in the work folder), and ``..._pace.csv``: the slope of the one-step return against the
meta-iteration over the rerun's iterations, for their committed log, the rerun and notebook 13's
seeds (:func:`pace`; ``--pace-only`` recomputes it from the table).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.io import load_table, save_table  # noqa: E402

LOGS = ROOT / "data" / "external" / "bomrl_authors_locomotion_logs.csv"  # their logs, as imported
CHECKPOINTS = ROOT / "data" / "full" / "13_bomrl_authors_locomotion" / "checkpoints"
RUNNER = """import sys, runpy
import numpy as np
np.bool8 = np.bool_  # gym 0.26 on numpy 2
import torch
torch.set_num_threads(1)
sys.argv = ["train_trpo_HalfCheetah_vel.py", "--index", "{index}"]
runpy.run_path("train_trpo_HalfCheetah_vel.py", run_name="__main__")
"""
BEFORE = re.compile(r"\(before adaptation\) Episode (\d+)\s+Average reward (-?[\d.]+)")
AFTER = re.compile(r"\(after adaptation\) Episode (\d+)\s+Average reward (-?[\d.]+)")


def prepare(authors: Path, work: Path, index: int) -> Path:
    """A copy of their code folder with an empty ``check_point/`` and the runner script."""
    code = work / "BOMRL_my"
    shutil.copytree(authors, code, ignore=shutil.ignore_patterns("check_point", "__pycache__"))
    (code / "check_point").mkdir()
    (code / "run.py").write_text(RUNNER.format(index=index))
    return code


def table(stdout: str, log: Path, iters: int) -> pd.DataFrame:
    """One row per finished iteration from their printed output and their training log."""
    ev = pd.read_csv(log, header=None, names=["iter", "eval_after"])
    before = pd.DataFrame([(int(i), float(r)) for i, r in BEFORE.findall(stdout)], columns=["iter", "ret"])
    after = pd.DataFrame([(int(i), float(r)) for i, r in AFTER.findall(stdout)], columns=["iter", "ret"])
    # the evaluation's own before/after lines are not printed; the training tasks' are, 10 per iteration
    out = ev.assign(train_before=ev.iter.map(before.groupby("iter").ret.mean()),
                    train_after=ev.iter.map(after.groupby("iter").ret.mean()),
                    n_tasks=ev.iter.map(after.groupby("iter").size()))
    return out[out.iter < iters]


def pace(rerun: pd.DataFrame, index: int, checkpoints: Path = CHECKPOINTS) -> pd.DataFrame:
    """How fast the return after one step on their 9 goals rises, per meta-iteration, over the
    rerun's iterations: their committed log and the rerun (least-squares slope, 90 % interval),
    and notebook 13's Alg(k) seeds (change between the meta-tests at 0 and 40, on the same 9 goals).

    Returns:
        ``run, iters, slope, lo, hi`` (return per meta-iteration).
    """
    from check_against_authors_code import LOG_GOALS
    from scipy import stats

    from lib.bomrl.meta_items import load_state

    n = len(rerun)
    logs = pd.read_csv(LOGS)
    log = logs[(logs.family == "halfcheetah-vel") & (logs.method == f"Alg({index})") & (logs["iter"] < n)]
    rows = []
    for run, it, ret in [("their committed log", log["iter"], log["ret"]),
                         ("their script rerun here", rerun["iter"], rerun["eval_after"])]:
        fit = stats.linregress(it, ret)
        half = stats.t.ppf(0.95, len(it) - 2) * fit.stderr
        rows.append(dict(run=run, iters=len(it), slope=fit.slope, lo=fit.slope - half, hi=fit.slope + half))
    for partial in sorted(checkpoints.glob(f"halfcheetah-vel-Alg_{index}_-*.partial")):
        test = pd.DataFrame(load_state(str(partial), dict)["test"])
        test = test[(test.step == 1) & test.task.round(1).isin(LOG_GOALS) & test["iter"].isin([0, 40])]
        means = test.groupby("iter").ret.mean()
        if len(means) == 2:
            seed = partial.stem.split("-")[-2]
            rows.append(dict(run=f"ours, seed {seed} (meta-tests at 0 and 40)", iters=40,
                             slope=(means[40] - means[0]) / 40, lo=float("nan"), hi=float("nan")))
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authors", type=Path, help="their BOMRL_my folder at 82dc4e8")
    parser.add_argument("--gym", type=Path, help="a folder holding gym 0.26 (pip --target)")
    parser.add_argument("--index", type=int, choices=[1, 2, 3], default=3, help="their Alg(k)")
    parser.add_argument("--iters", type=int, default=40, help="meta-iterations before stopping their script")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a new temporary one)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--pace-only", action="store_true", help="only recompute the pace table from --out")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "data/full/fidelity" / f"authors_rerun_vel_{args.index}.csv"
    params = dict(index=args.index, iters=args.iters)
    pace_out = out.with_name(out.stem + "_pace.csv")
    if args.pace_only:
        p = pace(load_table(out), args.index)
        save_table(p, pace_out, params=params)
        print(p.round(2).to_string(index=False))
        return 0
    if args.authors is None or args.gym is None:
        parser.error("--authors and --gym are needed to run their script (or --pace-only)")
    work = args.work or Path(tempfile.mkdtemp(prefix="authors_rerun_"))
    code = prepare(args.authors.resolve(), work, args.index)
    log = code / "check_point" / f"training_log_HalfCheetah_vel_{args.index}.csv"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=f"{args.gym.resolve()}{os.pathsep}{code}")
    printed = work / "stdout.txt"
    with open(printed, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-u", "run.py"], cwd=code, env=env, stdout=fh, stderr=subprocess.STDOUT)
        try:
            while proc.poll() is None:
                time.sleep(10)
                done = sum(1 for _ in open(log)) if log.exists() else 0
                if done >= args.iters:
                    break
                if done:  # keep what has finished, so an interrupted run still leaves a table
                    out.parent.mkdir(parents=True, exist_ok=True)
                    save_table(table(printed.read_text(), log, args.iters), out, params=params)
        finally:
            proc.terminate()
            proc.wait()
    t = table(printed.read_text(), log, args.iters)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_table(t, out, params=params)
    save_table(pace(t, args.index), pace_out, params=params)
    print(f"wrote {out} ({len(t)} iterations; their output in {work}) and {pace_out.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
