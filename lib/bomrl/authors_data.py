"""The authors' reported numbers, read-only: their Frozen Lake gaps; their locomotion training logs,
what their plotting script draws, their plotted meta-test values and our unmodified rerun of their
training script.

``data/external/bomrl_authors_locomotion_*.csv`` were written by
``fidelity/import_authors_locomotion.py`` from their repositories (R1 ``BOMRL_my/`` logs; R2
``BOMRL_new/graph1.py`` and the figure's values); ``data/full/fidelity/authors_rerun_vel_*.csv`` by
``fidelity/rerun_authors_training.py``. Units: a return is the undiscounted sum of rewards over
one 200-step trajectory, averaged over trajectories (their "accumulated reward").
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lib.paths import ROOT

EXTERNAL = ROOT / "data" / "external"
LOGS_FILE = EXTERNAL / "bomrl_authors_locomotion_logs.csv"
RESULTS_FILE = EXTERNAL / "bomrl_authors_locomotion_results.csv"
# Their optimality gaps after one adaptation step (bars of graph.py: y_opt minus the value;
# Alg(1)/Alg(2) from their result files, PG hard-coded in graph.py):
REPORTED_GAPS = {("hole", "Alg(1)"): 0.086, ("hole", "Alg(2)"): 0.178, ("hole", "PG"): 0.338,
                 ("nohole", "Alg(1)"): 0.066, ("nohole", "Alg(2)"): 0.076, ("nohole", "PG"): 0.121}
# The optimum each of their bars subtracts from (graph.py's y_optimal of that bar's figure: a sampled
# estimate, not J* = 1.6384; the PG bar is read from the Alg(1) figure):
REPORTED_Y_OPT = {("hole", "Alg(1)"): 1.6381797250192158, ("hole", "Alg(2)"): 1.6381797250192158,
                  ("hole", "PG"): 1.6381797250192158, ("nohole", "Alg(1)"): 1.6238083970192134,
                  ("nohole", "Alg(2)"): 1.6142083970192134, ("nohole", "PG"): 1.6238083970192134}
# the authors' figure calls our E-MAML-TRPO "E-MAML"
AUTHORS_NAME = {"E-MAML-TRPO": "E-MAML"}


def authors_logs(block: int = 5) -> pd.DataFrame:
    """The authors' training logs (return after one adaptation step, every meta-iteration),
    unscaled, as means over blocks of ``block`` iterations (what their ``graph1.py`` plots
    before its offsets and factors).

    Returns:
        ``family, method, iter`` (first iteration of the block), ``ret``, ``n`` (log lines in the block).
    """
    logs = pd.read_csv(LOGS_FILE)
    logs = logs.assign(iter=(logs["iter"] // block) * block)
    return logs.groupby(["family", "method", "iter"], as_index=False).agg(ret=("ret", "mean"), n=("ret", "size"))


RERUN_FILES = ROOT / "data" / "full" / "fidelity"  # authors_rerun_vel_<index>.csv


def authors_rerun(block: int = 5, folder: Path = RERUN_FILES) -> pd.DataFrame:
    """The authors' velocity training script run unmodified on this machine
    (``fidelity/rerun_authors_training.py``): the value it logs each meta-iteration (return after
    one step on its 9 goals), as means over blocks of ``block`` iterations.

    Returns:
        ``family, method, iter`` (first iteration of the block), ``ret``, ``n``; empty if never run.
    """
    parts = [pd.read_csv(f).assign(method=f"Alg({f.stem.rsplit('_', 1)[1]})")
             for f in sorted(folder.glob("authors_rerun_vel_*.csv"))]
    if not parts:
        return pd.DataFrame(columns=["family", "method", "iter", "ret", "n"])
    runs = pd.concat(parts).assign(family="halfcheetah-vel", iter=lambda d: (d["iter"] // block) * block)
    return runs.groupby(["family", "method", "iter"], as_index=False).agg(ret=("eval_after", "mean"),
                                                                          n=("eval_after", "size"))


# what BOMRL_new/graph1.py (986c396) does to each Half-cheetah log before plotting it: ret * factor + offset
PLOTTED_TRANSFORM = {("halfcheetah-vel", "Alg(1)"): (1.0, 10.0), ("halfcheetah-vel", "Alg(2)"): (1.0, 10.0),
                     ("halfcheetah-vel", "Alg(3)"): (1.0, 0.0), ("halfcheetah-vel", "MAML-TRPO"): (1.0, -10.0),
                     **{("halfcheetah-dir", m): (1.6, 0.0) for m in ("Alg(1)", "Alg(2)", "Alg(3)", "MAML-TRPO")}}


def authors_plotted_curves(block: int = 5) -> pd.DataFrame:
    """The authors' training curves as their ``graph1.py`` draws them: the mean of every ``block``
    consecutive log lines (by position, as its slicing does), times its factor plus its offset
    (:data:`PLOTTED_TRANSFORM`), at x = block x position.

    Returns:
        ``family, method, iter, ret``.
    """
    logs = pd.read_csv(LOGS_FILE)
    rows = []
    for (fam, method), g in logs.groupby(["family", "method"], sort=False):
        factor, offset = PLOTTED_TRANSFORM[(fam, method)]
        ret = g.ret.to_numpy()
        n = len(ret) // block
        means = ret[: n * block].reshape(n, block).mean(axis=1) * factor + offset
        rows += [dict(family=fam, method=method, iter=block * k, ret=float(v)) for k, v in enumerate(means)]
    return pd.DataFrame(rows)


def authors_results() -> pd.DataFrame:
    """The paper's plotted meta-test returns: ``family, method, step, value, plot_factor, plotted``."""
    cols = ["family", "method", "step", "value", "plot_factor", "plotted"]
    return pd.read_csv(RESULTS_FILE)[cols]


def beside_paper(intervals: pd.DataFrame) -> pd.DataFrame:
    """Our last-checkpoint meta-test (``return_intervals``) next to the paper's plotted values:
    ``family, method, step, ours, lo, hi, paper`` (NaN where the paper has no value)."""
    paper = authors_results().assign(method=lambda d: d.method.replace({v: k for k, v in AUTHORS_NAME.items()}))
    ours = intervals.rename(columns={"mean": "ours"})[["family", "method", "step", "ours", "lo", "hi"]]
    return ours.merge(paper[["family", "method", "step", "plotted"]].rename(columns={"plotted": "paper"}),
                      on=["family", "method", "step"], how="left")
