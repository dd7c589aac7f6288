"""Figure style, fixed colours per method, learning curves with bands, deterministic PNGs."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
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


def off_scale(lines: dict, ratio: float = 3.0) -> set:
    """The lines whose divergence would set a shared axis: repeatedly, the line with the lowest minimum
    is off scale when it lies more than ``ratio`` times the other lines' range below their minimum.

    Args:
        lines: label -> (n,) values drawn (means, or band bounds).
    Returns:
        the labels of the lines to mark and leave out of the axis limits.
    """
    left = {k: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for k, v in lines.items()}
    left = {k: v for k, v in left.items() if len(v)}
    out = set()
    while len(left) > 1:
        low = min(left, key=lambda k: left[k].min())
        rest = np.concatenate([v for k, v in left.items() if k != low])
        span = max(rest.max() - rest.min(), 1e-12)
        if rest.min() - left[low].min() <= ratio * span:
            break
        out.add(low)
        del left[low]
    return out


def limit_to(ax, lines: dict, skip: set, pad: float = 0.08, name=str) -> None:
    """Set ``ax``'s y-limits to the lines not in ``skip`` (their values, padded) and say in the panel
    which lines leave it below, with their lowest value."""
    keep = [np.asarray(v, dtype=float) for k, v in lines.items() if k not in skip]
    if not skip or not keep:
        return
    gone = ", ".join(f"{name(k)} (min {np.nanmin(np.asarray(lines[k], dtype=float)):.3g})" for k in sorted(skip, key=str))
    ax.text(0.02, 0.02, f"below the axis: {gone}", transform=ax.transAxes, fontsize=7, va="bottom",
            bbox=dict(facecolor="white", alpha=0.8, linewidth=0))
    vals = np.concatenate(keep)
    vals = vals[np.isfinite(vals)]
    lo, hi = vals.min(), vals.max()
    margin = pad * max(hi - lo, 1e-12)
    ax.set_ylim(lo - margin, hi + margin)


def statistic_note(summary) -> str:
    """``" (median, IQR)"`` when a curve summary's ``statistic`` column says medians, else ``""``."""
    if "statistic" in summary.columns and (summary["statistic"] == "median").any():
        return " (median, IQR)"
    return ""


def caption(fig, text: str) -> None:
    """A one-line note under the figure, e.g. what its bands are."""
    fig.text(0.5, -0.01, text, ha="center", va="top", fontsize=8)


def n_text(summary, over: str) -> str:
    """``"30 runs"``, ``"4-16 runs"`` or ``"1 run"`` from the ``n`` column of a curve summary (``over``: a plural
    noun ending in s)."""
    lo, hi = int(summary["n"].min()), int(summary["n"].max())
    if lo == hi:
        return f"1 {over.removesuffix('s')}" if lo == 1 else f"{lo} {over}"
    return f"{lo}-{hi} {over}"


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
                             squeeze=False, sharex="col")
    for i, algo in enumerate(algos):
        for j, env in enumerate(envs):
            ax = axes[i, j]
            parts = {kl: summary[(summary.env == env) & (summary.algo == algo) & (summary.fixed_kl == kl)]
                     for kl in sorted(kl_grid)}
            gone = off_scale({kl: p["mean"] for kl, p in parts.items()})
            for kl, part in parts.items():
                band(ax, part, label=f"{kl:g}", color=palette[kl])
            limit_to(ax, {kl: np.r_[p["lo"], p["hi"]] for kl, p in parts.items()}, gone, name=lambda k: f"λ = {k:g}")
            ax.set_title(f"{env} — {algo}" + statistic_note(summary[summary.env == env]))
            ax.set_xlabel("TRPO step t" if i == len(algos) - 1 else "")
            ax.set_ylabel(ylabel if j == 0 else "")
    axes[0, -1].legend(title="fixed λ", fontsize=8, loc="best")
    fig.tight_layout()
    caption(fig, f"mean return, bands: 90 % t-interval over {n_text(summary, 'runs')} per (algorithm, λ) (panels marked "
                 "\"median, IQR\": median and inter-quartile band, where a few diverging runs decide the mean); "
                 "\"below the axis\": a λ whose mean a few diverging runs drive far below the rest")
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
    caption(fig, f"final return = mean of the last 3 steps; bands: 90 % t-interval over {n_text(perf, 'runs')}")
    return fig


METHOD_COLORS = {"Meta-KL": "#D55E00", "Fixed-KL (best)": "#0072B2", "Random-KL (dataset)": "#999999",
                 "Meta-KL (TRPO)": "#CC79A7", "schedule (grid's best)": "#009E73", "modal schedule": "#E69F00",
                 "t-only meta-model": "#56B4E9"}

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


# Meta-KL thick and solid, Fixed-KL dashed above it: where the two coincide (Elikoeidis, where
# Meta-KL mostly picks the best fixed λ) the dashes still show on the solid line.
METHOD_STYLES = {"Meta-KL": dict(linewidth=2.6, zorder=3),
                 "Fixed-KL (best)": dict(linestyle="--", linewidth=1.6, zorder=4),
                 "Random-KL (dataset)": dict(linestyle=":", linewidth=1.6, zorder=2),
                 "Meta-KL (TRPO)": dict(linestyle="-.", linewidth=1.6, zorder=3),
                 "schedule (grid's best)": dict(linestyle="-.", linewidth=1.6, zorder=4),
                 "modal schedule": dict(linestyle=(0, (1, 1)), linewidth=1.8, zorder=4),
                 "t-only meta-model": dict(linestyle=(0, (5, 1)), linewidth=1.4, zorder=4)}


def method_curves(curves, lambdas, panels, panel_col: str, title_fmt: str = "{}", level: float = 0.9):
    """Top row: return per step (mean and band) per method; bottom row: the λ chosen per step.

    Methods differ in colour and line style (Meta-KL thick and solid, Fixed-KL dashed on top of
    it, Random-KL dotted), so a line that coincides with another still shows. Random-KL is the
    meta-dataset's own runs: where they end before the test runs, a marker says so.

    Args:
        curves: curve summary by ``[panel_col, method]`` (``mean, lo, hi, n``).
        lambdas: the same for the chosen λ (geometric mean over runs).
        panels: values of ``panel_col``, one column each.
        level: the bands' level, for the caption.
    """
    fig, axes = plt.subplots(2, len(panels), figsize=(4.6 * len(panels), 6.3), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]}, sharex="col")
    for j, panel in enumerate(panels):
        top, bottom = axes[0, j], axes[1, j]
        end = curves[curves[panel_col] == panel].step.max()
        here = curves[curves[panel_col] == panel]
        gone = off_scale({m: g["mean"] for m, g in here.groupby("method")})
        for method, color in METHOD_COLORS.items():
            style = METHOD_STYLES[method]
            part = curves[(curves[panel_col] == panel) & (curves.method == method)]
            if len(part):
                band(top, part, label=method, color=color, **style)
                if method.startswith("Random") and part.step.max() < end:
                    top.annotate(f"meta-dataset runs\nend at t={part.step.max()}", (part.step.max(), part["mean"].iloc[-1]),
                                 xytext=(6, -18), textcoords="offset points", fontsize=7, color=color)
            lam = lambdas[(lambdas[panel_col] == panel) & (lambdas.method == method)]
            if len(lam):
                band(bottom, lam, color=color, **style)
        limit_to(top, {m: np.r_[g["lo"], g["hi"]] for m, g in here.groupby("method")}, gone)
        top.set_title(title_fmt.format(panel) + statistic_note(here))
        top.set_ylabel("return J (mean and band)" if j == 0 else "")
        bottom.set_yscale("log")
        bottom.set_ylabel("λ chosen (geometric mean)" if j == 0 else "")
        bottom.set_xlabel("TRPO step t")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    n = curves.groupby("method", sort=False)["n"].max()
    runs = "; ".join(f"{m}: {n[m]} {'dataset runs' if m.startswith('Random') else 'runs'}" for m in n.index)
    caption(fig, f"mean return, bands: {level:.0%} t-interval over runs ({runs}); panels marked \"median, IQR\": median "
                 "and inter-quartile band (a few diverging runs decide the mean)".replace("%", " %"))
    return fig


def validation_heatmaps(scores, envs, paper_choice: dict, chosen=None):
    """Validation score over (H, ψ) per env (mean over the meta-models), with a colour bar; the
    picks of the meta-models (highest score of each, ``chosen``) are black boxes, labelled with
    how many meta-models chose them, and the paper's pick is a dashed red box."""
    fig, axes = plt.subplots(1, len(envs), figsize=(5.4 * len(envs), 3.6), squeeze=False)
    n_models = scores.meta_seed.nunique() if "meta_seed" in scores else 1
    for j, env in enumerate(envs):
        ax = axes[0, j]
        table = scores[scores.env == env].pivot_table(index="fqi_horizon", columns="min_leaf", values="score",
                                                      aggfunc="mean")
        sns.heatmap(table, annot=True, fmt=".3g", cmap="viridis", ax=ax, cbar=True,
                    cbar_kws={"label": "mean return over validation runs"}, annot_kws={"fontsize": 7})
        ax.set_title(f"{env}: validation score of each (H, ψ)" + (f", mean of {n_models} meta-models" if n_models > 1 else ""))
        ax.set_xlabel("minimum leaf fraction ψ (of the tuples)")
        ax.set_ylabel("FQI horizon H")
        marks = []
        if chosen is not None and env in set(chosen.env):
            picks = chosen[chosen.env == env].groupby(["fqi_horizon", "min_leaf"]).size()
            for k, ((h, psi), count) in enumerate(picks.items()):
                marks.append(((int(h), psi), dict(edgecolor="black", lw=3),
                              "validated picks (k of the meta-models)" if k == 0 else None))
                cols = [i for i, v in enumerate(table.columns) if np.isclose(v, psi)]
                if cols and h in table.index:
                    ax.text(cols[0] + 0.92, list(table.index).index(h) + 0.18, f"{count}/{n_models}",
                            ha="right", va="top", fontsize=6, color="white")
        if env in paper_choice:
            marks.append((paper_choice[env], dict(edgecolor="red", lw=2, linestyle="--"), "paper's pick"))
        for (h, psi), style, label in marks:
            cols = [k for k, v in enumerate(table.columns) if np.isclose(v, psi)]
            if cols and h in table.index:
                ax.add_patch(plt.Rectangle((cols[0], list(table.index).index(h)), 1, 1, fill=False, label=label,
                                           **style))
        if marks:
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.22), fontsize=7, ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def feature_importances(importances):
    """Impurity importance of each input of the chosen meta-model, one panel per env."""
    grid = sns.catplot(importances, x="importance", y="feature", col="env", kind="bar", height=5, aspect=0.7)
    grid.set_titles("{col_name}: chosen model's importances")
    return grid.figure


def environment_panels(tables: dict, seed: int = 0):
    """Notebook 01's figure: Elikoeidis's mean reward, Minigolf's holing windows and returns,
    Cartpole's unforced fall, from the tables of :func:`lib.trust_region_meta.env_tables.overview`."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    for curve, part in tables["elikoeidis_landscape"].groupby("curve", sort=False):
        axes[0].plot(part.x, part.value, label=curve, lw=1.2 if curve == "m(a)" else 2)
    axes[0].set(title="Elikoeidis: mean reward", xlabel="action a  (or policy mean μ)", ylabel="reward per step")
    axes[0].legend(fontsize=8)
    for _, part in tables["minigolf_windows"].groupby("task"):
        label = f"l={part.putter_length.iloc[0]:.2f}, f={part.friction.iloc[0]:.3f}"
        axes[1].fill_between(part.x, part.a_low, part.a_high.clip(upper=5), alpha=0.35, label=label)
    axes[1].axhline(5, color="k", lw=0.8, ls="--")
    axes[1].set(title="Minigolf: actions that hole the ball", xlabel="distance x (m)", ylabel="action a (clip at 5)")
    axes[1].legend(fontsize=7)
    sns.barplot(tables["minigolf_returns"], x="task", y="ret", hue="policy", errorbar=("ci", 90), seed=seed, ax=axes[2])
    axes[2].set(title="Minigolf: return per task (bars: 90 % bootstrap CI)", ylabel="return (strokes, negative)")
    for _, part in tables["cartpole_falls"].groupby("task"):
        label = f"m_c={part.cart_mass.iloc[0]:.2f}, m_p={part.pole_mass.iloc[0]:.2f}, l={part.half_length.iloc[0]:.2f}"
        axes[3].plot(part.t, np.degrees(part.theta), label=label)
    axes[3].axhline(12, color="k", lw=0.8, ls="--")
    axes[3].set(title="Cartpole: pole angle, zero force", xlabel="time (s)", ylabel="θ (degrees)")
    axes[3].legend(fontsize=7)
    fig.tight_layout()
    return fig


def meta_dataset_panels(datasets: dict, seed: int = 0):
    """Notebook 04's figure. Top: meta-reward l_t against log10 λ (λ rounded to 0.1 decades;
    mean and 90 % bootstrap CI over tuples). Bottom: the random-λ learning curves, mean
    return per step for each training architecture, each labelled."""
    envs = list(datasets)
    fig, axes = plt.subplots(2, len(envs), figsize=(4.8 * len(envs), 6.8), squeeze=False)
    for j, env in enumerate(envs):
        d = datasets[env].assign(log10_kl=lambda x: np.log10(x.kl_bound).round(1))
        sns.lineplot(d, x="log10_kl", y="meta_reward", errorbar=("ci", 90), seed=seed, ax=axes[0, j])
        axes[0, j].set(title=f"{env}: meta-reward vs λ (90 % bootstrap CI)", xlabel="log10 λ",
                       ylabel="l_t = J_t+1 − J_t")
        archs = sorted(d.arch.unique(), key=lambda a: (len(a), a))
        palette = dict(zip(archs, sns.color_palette("tab20", len(archs))))
        sns.lineplot(d, x="t", y="ret", hue="arch", hue_order=archs, palette=palette, style="arch",
                     style_order=archs, errorbar=None, ax=axes[1, j])
        axes[1, j].set(title=f"{env}: random-λ learning curves (mean per architecture)", xlabel="TRPO step t",
                       ylabel="return J")
        axes[1, j].legend(title="architecture", fontsize=6, title_fontsize=7, ncol=2)
        axes[1, j].xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def gain_by_horizon(gains, setups):
    """Notebook 09: paired gain J_k - J_0 against the fixed λ (log axis), one line and 90 % band per
    horizon k, one panel per set-up (initial policy)."""
    fig, axes = plt.subplots(1, len(setups), figsize=(4.2 * len(setups), 3.4), squeeze=False, sharey=False)
    ks = sorted(gains.horizon.unique())
    palette = dict(zip(ks, sns.color_palette("crest", len(ks))))
    for j, setup in enumerate(setups):
        ax = axes[0, j]
        for k in ks:
            part = gains[(gains.setup == setup) & (gains.horizon == k)].sort_values("fixed_kl")
            ax.plot(part.fixed_kl, part.gain, marker="o", ms=3, color=palette[k], label=f"k = {k}")
            ax.fill_between(part.fixed_kl, part.lo, part.hi, color=palette[k], alpha=0.2)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(xscale="log", title=setup, xlabel="fixed λ", ylabel="J_k − J_0 (mean, 90 % CI)" if j == 0 else "")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, labels, title="steps k", fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    caption(fig, f"mean paired gain after k xTRPO steps, {n_text(gains, 'runs')} per (set-up, λ); run i of every λ "
                 "shares its task, initial policy and first batch")
    return fig


def interval_forest(rows, title: str = "", xlabel: str = "difference (90 % CI)"):
    """Point estimates with intervals, one line per row, one panel per ``metric``, a line at 0.

    Args:
        rows: ``label, metric, diff, lo, hi`` (and optionally ``group``: colour by group, with a legend).
    """
    metrics = list(dict.fromkeys(rows.metric))
    labels = list(dict.fromkeys(rows.label))
    groups = list(dict.fromkeys(rows["group"])) if "group" in rows.columns else [None]
    colors = dict(zip(groups, sns.color_palette("colorblind", len(groups))))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 0.5 * len(labels) + 1.4), squeeze=False,
                             sharey=True)
    for ax, metric in zip(axes[0], metrics):
        part = rows[rows.metric == metric]
        for r in part.itertuples():
            y = labels.index(r.label)
            g = getattr(r, "group", None)
            ax.errorbar(r.diff, y, xerr=[[r.diff - r.lo], [r.hi - r.diff]], fmt="o", capsize=3, color=colors[g],
                        label=g)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set(title=f"{title}{': ' if title else ''}{metric}")
        ax.set_yticks(range(len(labels)), labels)
    axes[0, 0].set_ylim(len(labels) - 0.5, -0.5)  # first row on top (the axes share y)
    fig.supxlabel(xlabel, fontsize=10)
    if groups != [None]:
        handles, names = axes[0, -1].get_legend_handles_labels()
        unique = dict(zip(names, handles))
        fig.legend(unique.values(), unique.keys(), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
