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
