"""Paper 2's figures (notebooks 10-13), in the house style of :mod:`lib.plotting`: the exact
Frozen Lake panels, the locomotion trends and intervals, and the authors' numbers beside ours.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from lib.bomrl.methods import BASELINES
from lib.plotting import band, caption, limit_to, n_text, off_scale


BOMRL_COLORS = {"Alg(1) KL": "#0072B2", "Alg(2) reverse KL": "#56B4E9", "Alg(3) Euclidean": "#009E73",
                "KL-constrained (ours)": "#CC79A7",
                "MAML": "#D55E00", "Uniform init + Alg(1)": "#999999"}


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
        bottom.set_xticklabels([textwrap.fill(m, 12, break_on_hyphens=False, break_long_words=False) for m in order],
                               fontsize=7)
        bottom.set_ylabel("optimality gap (90% CI)" if j == 0 else "")
        bottom.legend(fontsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    caption(fig, f"bands and bars: 90 % t-interval over {n_text(curves, 'seeds')} (each seed: the mean over its "
                 "test tasks)")
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
    caption(fig, f"points: one (distribution, seed) each; right: 90 % t-interval over {n_text(gap_k, 'seeds')}")
    return fig


LOCOMOTION_COLORS = {"Alg(1)": "#0072B2", "Alg(2)": "#56B4E9", "Alg(3)": "#009E73",
                     "KL-constrained (ours)": "#CC79A7", "MAML-TRPO": "#D55E00",
                     "ProMP": "#E69F00", "E-MAML-TRPO": "#999999",
                     "MAML-TRPO (authors)": "#A0522D"}  # every label of lib.bomrl.methods (both protocols)
GRADIENT_BASELINES = BASELINES  # dashed in the locomotion plots; BO-MRL solid
FAMILY_TITLES = {"halfcheetah-vel": "Half-cheetah, goal velocity", "halfcheetah-dir": "Half-cheetah, moving direction",
                 "ant-vel": "Ant, goal velocity", "ant-dir": "Ant, moving direction"}


def locomotion_trend(summary, families, x: str = "iter",
                     xlabel: str = "meta-iterations (return after 1 adaptation step)"):
    """Return (mean over seeds x test tasks) against ``x``, one panel per family, one line per
    method; no bands (six overlapping bands cannot be read; the intervals are in
    :func:`locomotion_intervals`).

    Args:
        summary: :func:`lib.stats.curve_summary` of the return by ``[family, method]`` over ``x``.
        families: panel order.
    """
    fig, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.6), squeeze=False)
    for ax, fam in zip(axes[0], families):
        for method, color in LOCOMOTION_COLORS.items():
            part = summary[(summary.family == fam) & (summary.method == method)]
            if len(part):
                ax.plot(part[x], part["mean"], marker="o", markersize=3, color=color, label=method,
                        linestyle="--" if method in GRADIENT_BASELINES else "-")
        ax.set_title(FAMILY_TITLES.get(fam, fam))
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("average return (mean, no band)")
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def locomotion_intervals(intervals, seed_means, families, level: float = 0.9):
    """Paper 2's locomotion result as interval estimates (rliable style): a row per task
    family, a column per number of adaptation steps, a line per method.

    Args:
        intervals: ``family, method, step, mean, lo, hi, n_tasks, n_seeds``
            (:func:`lib.bomrl.locomotion_report.return_intervals`).
        seed_means: ``family, method, step, seed, ret``: each seed's mean, drawn as open circles.
        families: row order.
    """
    steps = sorted(intervals.step.unique())
    methods = [m for m in LOCOMOTION_COLORS if m in set(intervals.method)]
    fig, axes = plt.subplots(len(families), len(steps), figsize=(2.9 * len(steps), 0.42 * len(methods) * len(families) + 1),
                             squeeze=False, sharey=True)
    for i, fam in enumerate(families):
        for j, step in enumerate(steps):
            ax = axes[i, j]
            for y, method in enumerate(methods):
                r = intervals[(intervals.family == fam) & (intervals.method == method) & (intervals.step == step)]
                if not len(r):
                    continue
                r = r.iloc[0]
                color = LOCOMOTION_COLORS[method]
                ax.plot([r.lo, r.hi], [y, y], color=color, linewidth=4, alpha=0.45, solid_capstyle="butt")
                ax.plot(r["mean"], y, "|", color=color, markersize=12, markeredgewidth=2)
                s = seed_means[(seed_means.family == fam) & (seed_means.method == method) & (seed_means.step == step)]
                ax.plot(s.ret, [y] * len(s), "o", mfc="none", color=color, markersize=4)
            ax.set_yticks(range(len(methods)))
            ax.tick_params(axis="y", labelleft=j == 0, labelsize=8)
            ax.set_title(f"{FAMILY_TITLES.get(fam, fam)}, {step} step{'s' if step != 1 else ''}", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            if i == len(families) - 1:
                ax.set_xlabel("average return", fontsize=8)
    axes[0, 0].set_yticklabels(methods, fontsize=8)  # shared y axis: one set of labels serves every row
    axes[0, 0].invert_yaxis()  # shared: methods top to bottom in legend order
    n_tasks, n_seeds = int(intervals.n_tasks.max()), int(intervals.n_seeds.max())
    fig.tight_layout()
    seeds = f"{n_seeds} seed{'s' if n_seeds > 1 else ''}"
    caption(fig, f"bar: {level:.0%} t-interval of the mean over {n_tasks} test tasks ({seeds} pooled; covers task "
                 f"variation only); tick: mean; circles: each seed's mean".replace("%", " %"))
    return fig


def authors_gap_panels(summary, reported: dict, kinds, test_sets, methods):
    """Notebook 12: optimality gap against adaptation steps, a row per task kind and a column per
    test set, one line per method (mean, 90 % band over seeds), and the authors' reported one-step
    gaps as black markers on their own maps.

    Args:
        summary: :func:`lib.stats.curve_summary` of ``gap`` by ``[kind, test_set, method]`` over ``step``.
        reported: ``{(kind, bar): gap}``. kinds, test_sets, methods: what to draw, in order.
    """
    colors = dict(zip(methods, sns.color_palette("tab20", len(methods))))
    styles = {"authors": "-", "authors'": "-", "paper's": (0, (5, 1)), "random": ":", "exact": "--", "MAML-trained": "-."}
    fig, axes = plt.subplots(len(kinds), len(test_sets), figsize=(5.6 * len(test_sets), 3.9 * len(kinds)),
                             squeeze=False, sharey="row")
    for i, kind in enumerate(kinds):
        for j, test_set in enumerate(test_sets):
            ax = axes[i, j]
            for method in methods:
                part = summary[(summary.kind == kind) & (summary.test_set == test_set) & (summary.method == method)]
                part = part.assign(lo=part.lo.clip(lower=1e-4), mean=part["mean"].clip(lower=1e-4))  # log axis
                if len(part):
                    band(ax, part, label=method, color=colors[method], marker="o", markersize=3,
                         linestyle=styles.get(method.split()[0].rstrip(":"), "-"))
            if test_set == "their maps":
                for k, ((kk, bar), value) in enumerate((x for x in reported.items() if x[0][0] == kind)):
                    ax.plot(1, value, marker="*^s"[k % 3], color="black", markersize=9, linestyle="none",
                            label=f"authors' reported gap: {bar}")
            ax.set_yscale("log")
            ax.set_ylim(bottom=1e-3)
            ax.set_title(f"{kind} maps ({'high' if kind == 'hole' else 'low'} task variance), tested on {test_set}",
                         fontsize=9)
            ax.set_xlabel("number of policy adaptation steps")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("optimality gap J* − J (90% CI)" if j == 0 else "")
    fig.tight_layout()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    caption(fig, f"bands: 90 % t-interval over {n_text(summary, 'seeds')} (each seed: the mean over the test maps); "
                 "returns evaluated exactly; gaps below 1e-4 drawn at 1e-4")
    return fig


def authors_training_curves(ours, theirs, families, plotted=None, rerun=None, ours_text: str = "training tasks",
                            block: int = 5):
    """Notebook 13: return after one adaptation step against the meta-iteration, ours (solid, the
    range over seeds shaded) beside the authors' raw logs (dotted, unscaled), one panel per family;
    with ``plotted``, a second row: their raw logs (dotted) against the curves their figure draws
    (solid), the offsets and factors of their plotting script made visible.

    Args:
        ours: ``family, method, iter, mean, lo, hi, n`` (block means; lo/hi: range over seeds).
        theirs: ``family, method, iter, ret`` (block means of their ``training_log_*.csv``).
        plotted: ``family, method, iter, ret`` as their ``graph1.py`` draws it, or None.
        rerun: ``family, method, iter, ret``: their script run unmodified here (dash-dot), or None.
        ours_text: what our curve measures (caption). block: iterations per block mean (caption).
    """
    rows = 1 if plotted is None else 2
    fig, axes = plt.subplots(rows, len(families), figsize=(5.2 * len(families), 3.8 * rows), squeeze=False)
    if plotted is not None:
        for ax, fam in zip(axes[1], families):
            for method, color in LOCOMOTION_COLORS.items():
                for table, style, what in ((theirs, ":", "log"), (plotted, "-", "as plotted")):
                    part = table[(table.family == fam) & (table.method == method)]
                    if len(part):
                        ax.plot(part["iter"], part["ret"], linestyle=style, color=color, linewidth=1.2,
                                label=f"{method} ({what})")
            ax.set_title(f"{FAMILY_TITLES.get(fam, fam)}: the authors' logs vs their figure", fontsize=9)
            ax.set_xlabel("meta-iteration")
            ax.legend(fontsize=6, loc="best")
        axes[1, 0].set_ylabel("return after 1 adaptation step")
    for ax, fam in zip(axes[0], families):
        for method, color in LOCOMOTION_COLORS.items():
            part = ours[(ours.family == fam) & (ours.method == method)]
            if len(part):
                band(ax, part, x="iter", label=f"{method} (ours)", color=color)
            log = theirs[(theirs.family == fam) & (theirs.method == method)]
            if len(log):
                ax.plot(log["iter"], log["ret"], linestyle=":", color=color, linewidth=1.2,
                        label=f"{method} (authors' log)")
            again = rerun[(rerun.family == fam) & (rerun.method == method)] if rerun is not None else []
            if len(again):
                ax.plot(again["iter"], again["ret"], linestyle="-.", color=color, linewidth=1.2,
                        label=f"{method} (authors' code, run here)")
        ax.set_title(FAMILY_TITLES.get(fam, fam))
        ax.set_xlabel("meta-iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel("return after 1 adaptation step")
    legend = {}  # every top panel's entries once, in drawing order
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.tight_layout()
    fig.legend(list(legend.values()), list(legend), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    rerun_text = ("; dash-dot: their velocity script run unmodified here (same goals)"
                  if rerun is not None and len(rerun) else "")
    caption(fig, f"ours: {ours_text}, mean of {n_text(ours, 'seeds')}, shaded: range over seeds; dotted: the "
                 "authors' logs (their fixed goals, one seed), before graph1.py's offsets and factors"
                 f"{rerun_text}; all in blocks of {block} iterations")
    return fig


def authors_meta_test(beside, families, level: float = 0.9):
    """Notebook 13: meta-test return against adaptation steps at the last checkpoint, ours (solid,
    band) and the paper's plotted values (dotted, crosses), one panel per family.

    Args:
        beside: ``family, method, step, ours, lo, hi, paper``
            (:func:`lib.bomrl.authors_locomotion_report.beside_paper`).
    """
    fig, axes = plt.subplots(1, len(families), figsize=(5.2 * len(families), 3.8), squeeze=False)
    for ax, fam in zip(axes[0], families):
        here = beside[beside.family == fam]
        gone = off_scale({m: g["ours"] for m, g in here.groupby("method")})
        for method, color in LOCOMOTION_COLORS.items():
            part = beside[(beside.family == fam) & (beside.method == method)].sort_values("step")
            if not len(part):
                continue
            band(ax, part.rename(columns={"ours": "mean"}), label=f"{method} (ours)", color=color, marker="o",
                 markersize=3)
            paper = part.dropna(subset=["paper"])
            if len(paper):
                ax.plot(paper.step, paper.paper, linestyle=":", marker="x", color=color, label=f"{method} (paper)")
        limit_to(ax, {m: np.r_[g["lo"], g["hi"], g["paper"].dropna()] for m, g in here.groupby("method")}, gone)
        ax.set_title(FAMILY_TITLES.get(fam, fam))
        ax.set_xlabel("number of policy adaptation steps")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].set_ylabel(f"average return (mean, {level:.0%} CI)".replace("%", " %"))
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, labels, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    caption(fig, f"mean return, bands: {level:.0%} t-interval over the fixed test goals of all seeds pooled (goal "
                 "variation only); crosses: the values the paper's graph.py plots; \"below the axis\": a method that "
                 "diverges".replace("%", " %"))
    return fig
