"""Figure style, fixed colours per method, learning curves with bands, deterministic PNGs."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.ticker import MaxNLocator

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


METHOD_COLORS = {"Meta-KL": "#D55E00", "Fixed-KL (best)": "#0072B2", "Random-KL (dataset)": "#999999",
                 "Meta-KL (TRPO)": "#CC79A7"}

FEATURE_GROUPS = {
    "entropy H (t)": ["H_s_t", "H_a|s_t", "H_s'|sa_t"],
    "cross-entropy C (t, t-1)": ["C_s_t,tm1", "C_a|s_t,tm1", "C_s'|sa_t,tm1"],
    "KL (t || t-1)": ["KL_s_t||tm1", "KL_a|s_t||tm1", "KL_s'|sa_t||tm1"],
    "KL (t-1 || t)": ["KL_s_tm1||t", "KL_a|s_tm1||t", "KL_s'|sa_tm1||t"],
}


def feature_panels(df, envs):
    """Metafeatures along a learning run: rows = envs, columns = feature groups."""
    fig, axes = plt.subplots(len(envs), len(FEATURE_GROUPS), figsize=(16, 2.8 * len(envs)), squeeze=False)
    for i, env in enumerate(envs):
        part = df[df.env == env]
        for j, (title, names) in enumerate(FEATURE_GROUPS.items()):
            ax = axes[i, j]
            for name, style in zip(names, ("-", "--", ":")):
                ax.plot(part.step, part[name], style, label=name.split("_")[1])
            ax.set_title(f"{env}: {title}", fontsize=9)
            ax.set_xlabel("TRPO step t" if i == len(envs) - 1 else "")
        axes[i, 0].legend(title="distribution", fontsize=7)
    fig.tight_layout()
    return fig


def method_curves(curves, lambdas, panels, panel_col: str, title_fmt: str = "{}"):
    """Top row: return per step (mean, 90% CI) per method; bottom row: lambda per step.

    Args:
        curves: curve summary by ``[panel_col, method]``.
        lambdas: the same for the chosen lambda (mean over runs).
        panels: values of ``panel_col``, one column each.
    """
    fig, axes = plt.subplots(2, len(panels), figsize=(4.6 * len(panels), 6.0), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]}, sharex="col")
    for j, panel in enumerate(panels):
        top, bottom = axes[0, j], axes[1, j]
        for method, color in METHOD_COLORS.items():
            part = curves[(curves[panel_col] == panel) & (curves.method == method)]
            if len(part):
                band(top, part, label=method, color=color)
            lam = lambdas[(lambdas[panel_col] == panel) & (lambdas.method == method)]
            if len(lam):
                band(bottom, lam, color=color)
        top.set_title(title_fmt.format(panel))
        top.set_ylabel("return J (mean, 90% CI)" if j == 0 else "")
        bottom.set_yscale("log")
        bottom.set_ylabel("λ chosen" if j == 0 else "")
        bottom.set_xlabel("TRPO step t")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def validation_heatmaps(scores, envs, paper_choice: dict):
    """Heatmap of the validation score over (H, psi) per env; the paper's pick is boxed."""
    fig, axes = plt.subplots(1, len(envs), figsize=(4.6 * len(envs), 3.4), squeeze=False)
    for j, env in enumerate(envs):
        table = scores[scores.env == env].pivot(index="fqi_horizon", columns="min_split", values="score")
        sns.heatmap(table, annot=True, fmt=".3g", cmap="viridis", ax=axes[0, j], cbar=False)
        axes[0, j].set_title(f"{env}: mean return over validation runs")
        axes[0, j].set_xlabel("minimum split ψ")
        axes[0, j].set_ylabel("FQI horizon H")
        if env in paper_choice and paper_choice[env][1] in table.columns:
            h, psi = paper_choice[env]
            col = list(table.columns).index(psi)
            row = list(table.index).index(h)
            axes[0, j].add_patch(plt.Rectangle((col, row), 1, 1, fill=False, edgecolor="red", lw=2))
    fig.tight_layout()
    return fig


BOMRL_COLORS = {"BO-MRL (KL)": "#0072B2", "BO-MRL (Euclidean)": "#009E73", "BO-MRL (KL-constrained)": "#CC79A7",
                "MAML": "#D55E00", "Uniform init + Alg (KL)": "#999999"}


def adaptation_panels(curves, gaps, radii, labels: dict):
    """Paper 2's exact-experiment figure, one column per task distribution.

    Top: average return over test tasks vs policy-adaptation steps (mean, 90% CI over
    seeds) per method, with the all-task optimum as a dashed line. Bottom: optimality
    gap E_tau[J*_tau - J_tau] with no adaptation and after one adaptation step.

    Args:
        curves: :func:`lib.stats.curve_summary` of ``J`` by ``[goal_radius, method]`` over ``step``,
            plus a ``J_star`` column (mean optimum). gaps: table ``goal_radius, method, when,
            mean, lo, hi``. radii: distributions to draw. labels: radius -> title.
    """
    fig, axes = plt.subplots(2, len(radii), figsize=(5.2 * len(radii), 7.2), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2]})
    for j, r in enumerate(radii):
        top, bottom = axes[0, j], axes[1, j]
        for method, color in BOMRL_COLORS.items():
            part = curves[(curves.goal_radius == r) & (curves.method == method)]
            if len(part):
                band(top, part, label=method, color=color, marker="o", markersize=3)
        star = curves[curves.goal_radius == r].J_star.mean()
        top.axhline(star, color="black", linestyle="--", linewidth=1, label="optimal task-specific policies")
        top.set_title(labels.get(r, f"goal radius {r}"))
        top.set_xlabel("number of policy adaptation steps")
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_ylabel("average return over test tasks" if j == 0 else "")
        g = gaps[gaps.goal_radius == r]
        order = [m for m in BOMRL_COLORS if m in set(g.method)]
        whens = list(dict.fromkeys(g.when))
        width = 0.8 / len(whens)
        for k, when in enumerate(whens):
            part = g[g.when == when].set_index("method").loc[order]
            xs = [i + (k - (len(whens) - 1) / 2) * width for i in range(len(order))]
            bottom.bar(xs, part["mean"], width=width, yerr=[part["mean"] - part["lo"], part["hi"] - part["mean"]],
                       color=[BOMRL_COLORS[m] for m in order], alpha=0.45 if k == 0 else 0.95,
                       edgecolor="black", linewidth=0.5, capsize=2, label=when)
        bottom.set_xticks(range(len(order)))
        bottom.set_xticklabels([m.replace(" (", "\n(").replace(" + ", "\n+ ") for m in order], fontsize=7)
        bottom.set_ylabel("optimality gap (90% CI)" if j == 0 else "")
        bottom.legend(fontsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def theory_panels(gap_var, fits, gap_k):
    """Beyond the paper: the gap after one adaptation step vs Var(P(Gamma)) (one panel
    per BO-MRL metric, with the least-squares line) and vs the number of meta-iterations K
    (with the fit a + b / sqrt(K)).

    Args:
        gap_var: table ``method, goal_radius, seed, gap, variance``.
        fits: table ``method, intercept, slope`` of gap on variance.
        gap_k: table ``method, K, mean, lo, hi, fit`` (the fitted a + b/sqrt(K) curve in ``fit``).
    """
    methods = list(dict.fromkeys(gap_var.method))
    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(4.2 * (len(methods) + 1), 3.6), squeeze=False)
    for j, method in enumerate(methods):
        ax = axes[0, j]
        part = gap_var[gap_var.method == method]
        sns.scatterplot(data=part, x="variance", y="gap", hue="goal_radius", palette="viridis", ax=ax, s=25)
        f = fits[fits.method == method].iloc[0]
        xs = [part.variance.min(), part.variance.max()]
        ax.plot(xs, [f.intercept + f.slope * x for x in xs], color="black", linewidth=1)
        ax.set_title(method, fontsize=9)
        ax.set_xlabel("Var(P(Γ)) under its metric")
        ax.set_ylabel("gap after 1 adaptation step" if j == 0 else "")
        ax.legend(title="goal radius", fontsize=6, title_fontsize=7)
    ax = axes[0, -1]
    for method in methods:
        part = gap_k[(gap_k.method == method) & (gap_k.K > 0)]
        band(ax, part, x="K", label=method, color=BOMRL_COLORS[method], marker="o", markersize=3)
        ax.plot(part.K, part.fit, color=BOMRL_COLORS[method], linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("meta-iterations K (log)")
    ax.set_title("gap vs K (dotted: a + b/√K)", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


LOCOMOTION_COLORS = {"BO-MRL (KL)": "#0072B2", "BO-MRL (Euclidean)": "#009E73",
                     "BO-MRL (KL-constrained)": "#CC79A7", "MAML-TRPO": "#D55E00",
                     "ProMP": "#E69F00", "E-MAML-TRPO": "#999999"}
FAMILY_TITLES = {"halfcheetah-vel": "Half-cheetah, goal velocity", "halfcheetah-dir": "Half-cheetah, moving direction",
                 "ant-vel": "Ant, goal velocity", "ant-dir": "Ant, moving direction"}


def locomotion_panels(summary, families, x: str = "step", xlabel: str = "number of policy adaptation steps"):
    """Paper 2's locomotion figure: one panel per task family, one band per method.

    Args:
        summary: :func:`lib.stats.curve_summary` of the return by ``[family, method]`` over ``x``.
        families: panel order.
    """
    fig, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.6), squeeze=False)
    for ax, fam in zip(axes[0], families):
        for method, color in LOCOMOTION_COLORS.items():
            part = summary[(summary.family == fam) & (summary.method == method)]
            if len(part):
                dashed = not method.startswith("BO-MRL")
                band(ax, part, x=x, label=method, color=color, marker="o", markersize=3,
                     linestyle="--" if dashed else "-")
        ax.set_title(FAMILY_TITLES.get(fam, fam))
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("average return over test tasks (90% CI)")
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
