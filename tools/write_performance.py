"""Render the benchmark tables of ``docs/performance.md`` from the committed CSVs of ``data/full/benchmarks/``.

    python tools/write_performance.py           # rewrite every table between its markers
    python tools/write_performance.py --check   # exit 1 where a table is not what its CSV says

A table sits between ``<!-- table NAME.csv (tools/write_performance.py) -->`` and ``<!-- /table -->``;
:data:`RENDER` maps each CSV to the function that turns it into markdown (the prose around the
tables is written by hand). ``tests/test_results_doc.py`` runs ``--check``, so a benchmark rerun
that is committed without its page, or a page edited by hand, fails the tests.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.io import load_table  # noqa: E402

BENCH = ROOT / "data" / "full" / "benchmarks"
DOC = ROOT / "docs" / "performance.md"
BLOCK = re.compile(r"(<!-- table (?P<name>[\w.]+) \(tools/write_performance.py\) -->\n)(?P<body>.*?)(<!-- /table -->)",
                   re.S)


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table: header, separator, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def _arch(label: str) -> str:
    return "linear" if label == "MLP(0, 0)" else label.replace(", ", ",")


def trpo_update(t: pd.DataFrame) -> str:
    """One TRPO update per library and policy: ms, and ours (float32) over each peer."""
    libs = ["ours (float32 evaluations)", "ours (all float64)", "MushroomRL", "sb3-contrib"]
    rows = []
    for arch, g in t.groupby("arch", sort=False):
        ms = g.set_index("library").ms_per_update
        rows.append([_arch(arch)] + [f"{ms[lib]:.3g} ms" for lib in libs]
                    + [f"{ms[libs[0]] / ms[peer]:.2f}" for peer in libs[2:]])
    return markdown(["policy", "ours (float32 evaluations)", "ours, all float64", "MushroomRL", "sb3-contrib",
                     "ours / MushroomRL", "ours / sb3-contrib"], rows)


def trpo_returns(t: pd.DataFrame) -> str:
    """Each library's own learning loop over seeds: final return mean ± sd (min), seconds per update."""
    rows = []
    ours = t[t.library == "ours"].s_per_update.mean()
    for lib, g in t.groupby("library", sort=False):
        r = g.final_return
        rows.append([lib, str(len(g)), f"{r.mean():.1f} ± {r.std(ddof=1):.1f}", f"{r.min():.1f}",
                     f"{g.s_per_update.mean():.3g} s", f"{ours / g.s_per_update.mean():.3g}"])
    return markdown(["library", "seeds", "final return (mean ± sd)", "min", "time per update", "ours / library"], rows)


def fqi(t: pd.DataFrame) -> str:
    """FQI chain fits, ours against MushroomRL's, and how often the two agree on the greedy λ."""
    rows = [[str(r.H), f"{r.ours_fit_s:.2f} s", f"{r.mushroom_fit_s:.2f} s", f"{r.ours_over_mushroom:.2f}",
             f"{100 * r.greedy_agreement:.0f} %", f"{r.mean_abs_log10_ratio:.2f}"] for r in t.itertuples()]
    return markdown(["H", "ours", "MushroomRL", "ours / MushroomRL", "same greedy λ",
                     "mean abs log10 ratio of greedy λ"], rows)


def _mega(v: float) -> str:
    m = v / 1e6
    return f"{m:.2f} M" if m >= 0.1 else f"{m:.2g} M"


def rollouts(t: pd.DataFrame) -> str:
    """Env steps per second of each path, one column per environment."""
    spec = [("our batched path, random actions", "batched_steps_per_s", _mega),
            ("our batched path, MLP(2,32) policy", "batched_mlp_2_32_steps_per_s", _mega),
            ("Gymnasium API, one env at a time", "gymnasium_steps_per_s", _mega),
            ("batched / Gymnasium", "batched_over_gymnasium", lambda v: f"{v:.0f}"),
            ("bare `step_batch` loop (the practical limit)", "bare_dynamics_steps_per_s", _mega),
            ("our lock-step rate / bare loop", "lockstep_over_bare", lambda v: f"{v:.2f}")]
    rows = [[label] + [fmt(v) for v in t[col]] for label, col, fmt in spec]
    return markdown([""] + [e.capitalize() for e in t.env], rows)


def metafeatures(t: pd.DataFrame) -> str:
    """The 20 k-NN features per learning step and from scratch, scipy's k-d tree against scikit-learn's."""
    rows = [[r.env.capitalize(), f"{r.points_per_set:,}".replace(",", " "), f"{r.per_step_ms:.1f} ms",
             f"{r.from_scratch_ms:.1f} ms", f"{r.per_step_ms_sklearn:.1f} ms",
             f"{r.per_step_ms_sklearn / r.per_step_ms:.1f}"] for r in t.itertuples()]
    return markdown(["env", "points per set", "per learning step", "from scratch", "per step, scikit-learn",
                     "scikit-learn / ours"], rows)


def collection_profile(t: pd.DataFrame) -> str:
    """Shares of a collection trajectory's time per part, environments as columns; the Fisher-vector
    products (inside the TRPO update) in brackets, and the seconds per tuple."""
    envs = list(dict.fromkeys(t.env))
    share = t.pivot(index="part", columns="env", values="share")
    fisher = "  of it: Fisher-vector products"
    rows = []
    for part in dict.fromkeys(t.part):
        if part == fisher:
            continue
        cells = [f"{100 * share.loc[part, e]:.0f} %" for e in envs]
        if part == "TRPO update":
            cells = [f"{c} ({100 * share.loc[fisher, e]:.0f} %)" for c, e in zip(cells, envs)]
            part = "TRPO update (of it: Fisher-vector products)"
        rows.append([part] + cells)
    top = t[~t.part.str.startswith("  ")]
    per_tuple = top.groupby("env").seconds.sum() / top.groupby("env").tuples.first()
    rows.append(["seconds per tuple (cProfile)"] + [f"{per_tuple[e]:.3f}" for e in envs])
    return markdown(["part"] + [e.capitalize() for e in envs], rows)


def collection_levers(t: pd.DataFrame) -> str:
    """CPU seconds of the same collection trajectories with and without the lossless levers."""
    rows = [[r.env.capitalize(), str(r.trajectories), f"{r.cpu_s_off:.1f} s", f"{r.cpu_s_on:.1f} s",
             f"{r.ratio_on_off:.3f}", "yes" if r.tables_identical else "no"] for r in t.itertuples()]
    return markdown(["env", "trajectories", "CPU without L2", "CPU with L2", "with / without",
                     "tables bit-identical"], rows)


def worker_scaling(t: pd.DataFrame) -> str:
    """Wall and CPU seconds of the same collection trajectories on 1 and 2 workers, and the efficiency."""
    rows = [[str(r.workers), str(r.trajectories), f"{r.wall_s:.1f} s", f"{r.cpu_s_per_trajectory:.2f} s",
             f"{r.efficiency:.2f}"] for r in t.itertuples()]
    return markdown(["workers", "trajectories", "wall time", "CPU per trajectory", "parallel efficiency"], rows)


def model_store(t: pd.DataFrame) -> str:
    """Per chosen meta-model: CPU seconds to fit and to load its Q_H, the stored size, fits before and
    after lever L3 in notebooks 05-08, and the CPU it saves; a total row."""
    rows = [[r.env.capitalize(), str(r.meta_seed), f"{r.fqi_horizon}, {r.min_leaf:g}", f"{r.fit_cpu_s:.1f} s",
             f"{r.load_cpu_s:.2f} s", f"{r.store_mb:.1f} MB", f"{r.fits_before} → {r.fits_after}",
             f"{r.saved_cpu_s:.0f} s", "yes" if r.identical else "no"] for r in t.itertuples()]
    rows.append(["all", "", "", f"{t.fit_cpu_s.sum():.0f} s", f"{t.load_cpu_s.sum():.1f} s",
                 f"{t.store_mb.sum():.0f} MB", f"{t.fits_before.sum()} → {t.fits_after.sum()}",
                 f"{t.saved_cpu_s.sum():.0f} s", "yes" if t.identical.all() else "no"])
    return markdown(["env", "meta-model", "H, ψ", "fit (CPU)", "load (CPU)", "stored", "fits in 05-08",
                     "CPU saved", "same Q"], rows)


RENDER = {"trpo_update.csv": trpo_update, "trpo_returns.csv": trpo_returns, "fqi.csv": fqi,
          "rollouts.csv": rollouts, "metafeatures.csv": metafeatures, "collection_profile.csv": collection_profile,
          "collection_levers.csv": collection_levers, "worker_scaling.csv": worker_scaling,
          "model_store.csv": model_store}


def render(text: str, bench: Path = BENCH) -> str:
    """``text`` with every marked table rendered from its CSV under ``bench``.

    Raises:
        ValueError: a marker names a CSV without a renderer.
    """
    def table(m: re.Match) -> str:
        name = m.group("name")
        if name not in RENDER:
            raise ValueError(f"docs/performance.md: no renderer for table {name!r}; known: {', '.join(RENDER)}")
        return m.group(1) + RENDER[name](load_table(bench / name)) + m.group(4)

    return BLOCK.sub(table, text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/performance.md's tables are stale")
    args = parser.parse_args(argv)
    text = DOC.read_text()
    new = render(text)
    missing = sorted(set(RENDER) - {m.group("name") for m in BLOCK.finditer(text)})
    if missing:
        print(f"docs/performance.md has no marked table for {', '.join(missing)}")
        return 1
    if args.check:
        if new != text:
            print("docs/performance.md's tables differ from data/full/benchmarks/: run python tools/write_performance.py")
            return 1
        return 0
    DOC.write_text(new)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
