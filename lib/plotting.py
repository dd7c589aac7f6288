"""Figure style, fixed colours per method, learning curves with bands, deterministic PNGs."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns

ALGO_COLORS = {"TRPO": "#0072B2", "xTRPO": "#D55E00"}


def setup() -> None:
    """Seaborn paper style used by every figure."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def band(ax, summary, x: str = "step", label: str | None = None, color=None, **kwargs):
    """Draw mean with its confidence band from a :func:`lib.stats.curve_summary` slice."""
    line, = ax.plot(summary[x], summary["mean"], label=label, color=color, **kwargs)
    ax.fill_between(summary[x], summary["lo"], summary["hi"], color=line.get_color(),
                    alpha=0.2, linewidth=0)
    return line


def save_figure(fig, path: Path) -> Path:
    """Save a PNG without timestamp metadata (same data -> same bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight", metadata={"Software": None})
    return path


def kl_palette(kl_grid) -> dict:
    """One colour per lambda (viridis, ordered by size)."""
    colors = sns.color_palette("viridis", len(kl_grid))
    return dict(zip(sorted(kl_grid), colors))


def sweep_curves(summary, envs, algos, kl_grid, ylabel: str = "return J (mean, 90% CI)"):
    """Learning curves per (algo row, env column), one line + band per fixed lambda.

    Args:
        summary: :func:`lib.stats.curve_summary` by ``[env, algo, fixed_kl]``.
    Returns:
        the matplotlib Figure.
    """
    palette = kl_palette(kl_grid)
    fig, axes = plt.subplots(len(algos), len(envs), figsize=(4.2 * len(envs), 3.2 * len(algos)),
                             squeeze=False, sharex="col", sharey="col")
    for i, algo in enumerate(algos):
        for j, env in enumerate(envs):
            ax = axes[i, j]
            for kl in sorted(kl_grid):
                part = summary[(summary.env == env) & (summary.algo == algo) & (summary.fixed_kl == kl)]
                band(ax, part, label=f"{kl:g}", color=palette[kl])
            ax.set_title(f"{env} — {algo}")
            ax.set_xlabel("TRPO step t" if i == len(algos) - 1 else "")
            ax.set_ylabel(ylabel if j == 0 else "")
    axes[0, -1].legend(title="fixed λ", fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def sensitivity(perf, envs, algos):
    """Final return vs fixed lambda (log axis), one line + band per algorithm, per env."""
    fig, axes = plt.subplots(1, len(envs), figsize=(4.2 * len(envs), 3.2), squeeze=False)
    for j, env in enumerate(envs):
        ax = axes[0, j]
        for algo in algos:
            part = perf[(perf.env == env) & (perf.algo == algo)].sort_values("fixed_kl")
            band(ax, part, x="fixed_kl", label=algo, color=ALGO_COLORS.get(algo), marker="o")
        ax.set_xscale("log")
        ax.set_title(env)
        ax.set_xlabel("fixed trust region λ")
        ax.set_ylabel("final return (mean, 90% CI)" if j == 0 else "")
    axes[0, 0].legend()
    fig.tight_layout()
    return fig
