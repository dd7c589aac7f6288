"""Redraw full-profile figures from the committed tables, with the notebooks' own plotting calls.

    python tools/redraw_figures.py               # 02, 06, 09, 13
    python tools/redraw_figures.py --only 06 13

A notebook draws its figure from the tables it has just written and read back; this script makes
the same calls on the committed ``data/full`` tables, so a change of a plotting function (axis
limits, captions) reaches ``figures/`` without re-running hours of learning runs. Each figure
here is the one its notebook draws at full profile (same function, same tables).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import paths, plotting  # noqa: E402
from lib.claims import Tables  # noqa: E402


def fig02(t: Tables) -> dict:
    from lib.trust_region_meta.figures import sweep_figure_curves

    curves = sweep_figure_curves(t["02_trpo_vs_xtrpo/runs"])
    envs, algos = list(dict.fromkeys(t["02_trpo_vs_xtrpo/curves"].env)), list(dict.fromkeys(curves.algo))
    return {"02_trpo_vs_xtrpo_curves": plotting.sweep_curves(curves, envs, algos, sorted(set(curves.fixed_kl)))}


def fig06(t: Tables) -> dict:
    import pandas as pd

    from lib.trust_region_meta.figures import ROBUST_ENVS, panel_random_runs, robust_curves

    meta, fixed, val = (t[f"06_figure1/{n}"] for n in ("meta_kl_runs", "fixed_kl_runs", "fixed_kl_val_runs"))
    panels = list(dict.fromkeys(meta.panel))
    seeds = sorted(meta.meta_seed.unique())
    random_runs = pd.concat([panel_random_runs("full", env, [(0, 0)], seeds).assign(panel=env) for env in ROBUST_ENVS
                             if env in panels], ignore_index=True)
    curves = robust_curves(t["06_figure1/curves"], meta, fixed, val, random_runs)
    return {"06_figure1": plotting.method_curves(curves, t["06_figure1/lambdas"], panels, "panel")}


def fig09(t: Tables) -> dict:
    from lib.trust_region_meta import horizon

    recipe = t[f"{horizon.STAGE}/recipe_comparison"] if t.exists(f"{horizon.STAGE}/recipe_comparison") else None
    fig = plotting.interval_forest(horizon.forest_rows(t[f"{horizon.STAGE}/target_comparison"], recipe),
                                   xlabel="Meta-KL − best Fixed-KL (mean, 90 % two-level CI)")
    plotting.caption(fig, "pooled over meta-models and fresh-task runs; the best Fixed-KL chosen on validation tasks; "
                          "> 0: Meta-KL better")
    return {horizon.STAGE: plotting.gain_by_horizon(t[f"{horizon.STAGE}/setup_gains"], list(horizon.SETUPS)),
            "09_minigolf_targets": fig}


def fig13(t: Tables) -> dict:
    beside = t["13_bomrl_authors_locomotion/beside_paper"]
    from lib.bomrl.figures import authors_meta_test
    return {"13_authors_meta_test": authors_meta_test(beside, list(dict.fromkeys(beside.family)))}


FIGURES = {"02": fig02, "06": fig06, "09": fig09, "13": fig13}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=sorted(FIGURES), default=sorted(FIGURES))
    args = parser.parse_args()
    import matplotlib.pyplot as plt

    plotting.setup()
    tables = Tables.of("full")
    for key in args.only:
        for name, fig in FIGURES[key](tables).items():
            print(plotting.save_figure(fig, paths.figure_path("full", name)).relative_to(ROOT))
            plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
