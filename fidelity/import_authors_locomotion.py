"""Write the BO-MRL authors' Half-cheetah numbers as committed data (notebook 13 plots them).

Reads two snapshots of the authors' public repositories (bare git directories, e.g. from the
study's fetch tool) and writes, in ``data/external/``:

* ``bomrl_authors_locomotion_logs.csv``: ``family, method, iter, ret`` with ``repository, path,
  commit``. Each row is one line of a ``training_log_HalfCheetah_*.csv``: the mean return after
  one adaptation step on the fixed evaluation goals, logged every meta-iteration. These are the
  files the paper's training-curve script (``BOMRL_new/graph1.py``) reads, taken unscaled.
* ``bomrl_authors_locomotion_results.csv``: ``family, method, step, value, plot_factor, plotted``
  with the same source columns: the meta-test values per adaptation step (0-3) of
  ``BOMRL_new/results/result_cheetah*.csv`` and the factor ``graph.py`` multiplies them by
  (0.75 for Half-cheetah direction Alg(2) and Alg(3), otherwise 1).

Usage::

    python fidelity/import_authors_locomotion.py --figures-repo <git dir of meta-constrained-reinforcement-learning>
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIGURES_REPOSITORY = "xsy786912649/meta-constrained-reinforcement-learning"
FAMILIES = {"vel": "halfcheetah-vel", "dir": "halfcheetah-dir"}
LOG_METHODS = {"1": "Alg(1)", "2": "Alg(2)", "3": "Alg(3)", "maml": "MAML-TRPO"}
RESULT_METHODS = {"1": "Alg(1)", "2": "Alg(2)", "3": "Alg(3)", "maml": "MAML-TRPO", "ProMP": "ProMP",
                  "emaml": "E-MAML"}
PLOT_FACTOR = {("halfcheetah-dir", "Alg(2)"): 0.75, ("halfcheetah-dir", "Alg(3)"): 0.75}  # graph.py lines 30-31


def show(git_dir: Path, path: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


def head_commit(git_dir: Path) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def numbers(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)


def logs(git_dir: Path, commit: str) -> pd.DataFrame:
    rows = []
    for short, family in FAMILIES.items():
        for key, method in LOG_METHODS.items():
            path = f"BOMRL_new/results/training_log_HalfCheetah_{short}_{key}.csv"
            for it, ret in numbers(show(git_dir, path)):
                rows.append(dict(family=family, method=method, iter=int(it), ret=float(ret),
                                 repository=FIGURES_REPOSITORY, path=path, commit=commit))
    return pd.DataFrame(rows)


def results(git_dir: Path, commit: str) -> pd.DataFrame:
    rows = []
    for short, family in FAMILIES.items():
        stem = "result_cheetah" if short == "vel" else "result_cheetah_dir"
        for key, method in RESULT_METHODS.items():
            path = f"BOMRL_new/results/{stem}_{key}.csv"
            factor = PLOT_FACTOR.get((family, method), 1.0)
            for step, value in enumerate(numbers(show(git_dir, path)).ravel()):
                rows.append(dict(family=family, method=method, step=step, value=float(value), plot_factor=factor,
                                 plotted=float(value) * factor, repository=FIGURES_REPOSITORY, path=path,
                                 commit=commit))
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--figures-repo", type=Path, required=True,
                        help="bare git directory of xsy786912649/meta-constrained-reinforcement-learning")
    args = parser.parse_args(argv)
    commit = head_commit(args.figures_repo)
    out = ROOT / "data" / "external"
    logs(args.figures_repo, commit).to_csv(out / "bomrl_authors_locomotion_logs.csv", index=False)
    results(args.figures_repo, commit).to_csv(out / "bomrl_authors_locomotion_results.csv", index=False)
    print(f"wrote the logs and results of {FIGURES_REPOSITORY} at {commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
