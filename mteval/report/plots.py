"""Report figures as PNG bytes (matplotlib, Agg): scores with CI whiskers, segment distributions, domains."""
from __future__ import annotations

import io

import numpy as np

from mteval.compare.comparison import Comparison
from mteval.compare.table import system_order
from mteval.escape import mathtext_safe
from mteval.report.markdown import digits, metric_label


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _horizontal() -> dict:
    """Horizontal boxes: ``orientation`` since matplotlib 3.10, ``vert`` (deprecated in 3.11) before."""
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _names(comp: Comparison, order: list[int]) -> list[str]:
    """System names as tick labels, shown literally (a "$" in a name would start mathtext)."""
    return [mathtext_safe(comp.names[i]) for i in order]


def _label(name: str) -> str:
    return mathtext_safe(metric_label(name))


def _height(n_systems: int) -> float:
    return max(2.5, 0.32 * n_systems + 1.2)


def scores_with_ci(comp: Comparison) -> bytes:
    """One panel per metric: each system's score with its 95% bootstrap interval, best on top,
    coloured by rank cluster; the baseline's name in bold."""
    plt = _pyplot()
    order = system_order(comp)
    n = len(comp.metrics)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, _height(len(order))), squeeze=False, sharey=True)
    cmap = plt.get_cmap("tab10")
    ypos = np.arange(len(order))[::-1]
    for ax, m in zip(axes[0], comp.metrics, strict=True):
        clusters = {r: k for k, r in enumerate(sorted(set(m.ranks.tolist())))}
        for y, i in zip(ypos, order, strict=True):
            iv = m.intervals[i]
            color = cmap(clusters[int(m.ranks[i])] % 10)
            ax.errorbar(m.scores[i], y, xerr=[[m.scores[i] - iv.lower], [iv.upper - m.scores[i]]], fmt="o",
                        color=color, capsize=3, markersize=5)
        ax.set_title(_label(m.name) + ("" if m.higher_is_better else " (lower is better)"))
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(ypos, _names(comp, order))
    for label, i in zip(axes[0][0].get_yticklabels(), order, strict=True):
        if i == comp.baseline:
            label.set_fontweight("bold")
    fig.suptitle("Scores with 95% bootstrap intervals (colour = rank cluster)", fontsize=10)
    return _png(fig)


def segment_distributions(comp: Comparison) -> bytes:
    """One panel per metric: box plots of each system's stored segment scores (sentence BLEU,
    sentence chrF, COMET segment scores), same order as the table."""
    plt = _pyplot()
    order = system_order(comp)
    n = len(comp.metrics)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, _height(len(order))), squeeze=False, sharey=True)
    for ax, m in zip(axes[0], comp.metrics, strict=True):
        data = []
        for i in order:
            vals = [row.get(m.name) for row in comp.runset.runs[i].segments]
            data.append([v for v in vals if v is not None])
        ax.boxplot(data, positions=np.arange(len(order))[::-1], widths=0.6, showfliers=False, showmeans=True,
                   meanprops={"markersize": 4}, **_horizontal())
        ax.set_title(f"{_label(m.name)} per segment")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(np.arange(len(order))[::-1], _names(comp, order))
    fig.suptitle("Segment score distributions (box = quartiles, triangle = mean, outliers hidden)", fontsize=10)
    return _png(fig)


def domain_scores(comp: Comparison) -> bytes | None:
    """One heatmap per metric: corpus score of each system (rows) on each domain (columns).
    None when the data has no domains."""
    metrics = [m for m in comp.metrics if m.domains]
    if not metrics:
        return None
    plt = _pyplot()
    order = system_order(comp)
    n = len(metrics)
    n_dom = max(len(m.domains) for m in metrics)
    fig, axes = plt.subplots(1, n, figsize=((1.1 * n_dom + 2.2) * n, _height(len(order))), squeeze=False)
    for ax, m in zip(axes[0], metrics, strict=True):
        names = list(m.domains)
        grid = np.array([[m.domains[d][i] for d in names] for i in order])
        shown = grid if m.higher_is_better else -grid  # brighter = better in every panel
        places = 1 if digits(m) == 2 else 3
        ax.imshow(shown, aspect="auto", cmap="viridis")
        for r in range(grid.shape[0]):
            for c in range(grid.shape[1]):
                z = (shown[r, c] - shown.min()) / (np.ptp(shown) or 1)
                ax.text(c, r, f"{grid[r, c]:.{places}f}",
                        ha="center", va="center", fontsize=7, color="black" if z > 0.5 else "white")
        ax.set_xticks(range(len(names)), [mathtext_safe(d) for d in names], rotation=30, ha="right")
        ax.set_yticks(range(len(order)), _names(comp, order))
        ax.set_title(f"{_label(m.name)} by domain")
    fig.tight_layout()
    return _png(fig)
