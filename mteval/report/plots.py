"""Report figures as PNG bytes (matplotlib, Agg): scores with CI whiskers, wins against the baseline, human scores."""
from __future__ import annotations

import io

import numpy as np

from mteval.compare.comparison import Comparison, MetricComparison
from mteval.compare.table import system_order
from mteval.text.escape import mathtext_safe
from mteval.report.fonts import fonts_for
from mteval.report.labels import metric_label
from mteval.report.worst import score_matrix

# Segment scores this close count as the same (identical outputs score identically).
_TIE = 1e-9
_NAME_CHARS = 32


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _short(name: str) -> str:
    """A system name cut to _NAME_CHARS (a sweep's ``system@run_dir`` names get long), shown literally
    (a "$" in a name would start mathtext)."""
    return mathtext_safe(name if len(name) <= _NAME_CHARS else name[: _NAME_CHARS - 1] + "…")


def _names(comp: Comparison, order: list[int]) -> list[str]:
    return [_short(comp.names[i]) for i in order]


def _panel_width(comp: Comparison) -> float:
    """Inches per panel: the plot and its own tick labels (each panel names the systems)."""
    return 3.2 + 0.08 * max(len(_short(n)) for n in comp.names)


def _label(name: str) -> str:
    return mathtext_safe(metric_label(name))


def _height(n_systems: int) -> float:
    return max(2.5, 0.32 * n_systems + 1.2)



def _order_by(m: MetricComparison) -> list[int]:
    """Systems best first by metric ``m`` (ties keep run order)."""
    return [int(i) for i in np.argsort(-m.scores if m.higher_is_better else m.scores, kind="stable")]


def _bold_baseline(ax, comp: Comparison, order: list[int]) -> None:
    for label, i in zip(ax.get_yticklabels(), order, strict=True):
        if i == comp.baseline:
            label.set_fontweight("bold")


def scores_with_ci(comp: Comparison) -> bytes:
    """One panel per metric: each system's score with its 95% bootstrap interval, coloured by rank
    cluster. Each panel is sorted by its own metric, best on top (metrics can disagree on the order,
    and a shared order would make the later panels zigzag); the baseline's name in bold."""
    plt = _pyplot()
    n = len(comp.metrics)
    ypos = np.arange(len(comp.names))[::-1]
    with fonts_for(comp.names):
        fig, axes = plt.subplots(1, n, figsize=(_panel_width(comp) * n, _height(len(comp.names))),
                                 squeeze=False)
        cmap = plt.get_cmap("tab10")
        for ax, m in zip(axes[0], comp.metrics, strict=True):
            order = _order_by(m)
            clusters = {r: k for k, r in enumerate(sorted(set(m.ranks.tolist())))}
            for y, i in zip(ypos, order, strict=True):
                iv = m.intervals[i]
                ax.errorbar(m.scores[i], y, xerr=[[m.scores[i] - iv.lower], [iv.upper - m.scores[i]]], fmt="o",
                            color=cmap(clusters[int(m.ranks[i])] % 10), capsize=3, markersize=5)
            ax.set_yticks(ypos, _names(comp, order))
            _bold_baseline(ax, comp, order)
            ax.set_title(_label(m.name) + ("" if m.higher_is_better else " (lower is better)"))
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle("Scores with 95% bootstrap intervals, each panel sorted by its own metric, best on top "
                     "(colour = rank cluster)", fontsize=10)
        fig.tight_layout()
        return _png(fig)


def paired_counts(comp: Comparison, m: MetricComparison) -> dict[int, dict[str, int]]:
    """Per system other than the baseline: on how many segments (scored for both) its segment score
    is better than the baseline's, the same, or worse."""
    good = score_matrix(comp, m)
    base = comp.baseline
    out = {}
    for i in range(len(comp.names)):
        if i == base:
            continue
        both = ~np.isnan(good[i]) & ~np.isnan(good[base])
        diff = good[i, both] - good[base, both]
        out[i] = {"better": int((diff > _TIE).sum()), "same": int((np.abs(diff) <= _TIE).sum()),
                  "worse": int((diff < -_TIE).sum())}
    return out


def win_tie_loss(comp: Comparison) -> bytes:
    """One panel per metric: the share of segments on which each system scores better than the
    baseline, the same, or worse (paired, so it separates systems whose score distributions look
    alike); systems in table order, the counts written on the bars."""
    plt = _pyplot()
    base = comp.baseline
    others = [i for i in system_order(comp) if i != base]
    ypos = np.arange(len(others))[::-1]
    colours = {"better": "#4c9a2a", "same": "#c8c8c8", "worse": "#c0392b"}
    with fonts_for(comp.names):
        n = len(comp.metrics)
        fig, axes = plt.subplots(1, n, figsize=(_panel_width(comp) * n, _height(len(others)) + 0.4),
                                 squeeze=False)
        for ax, m in zip(axes[0], comp.metrics, strict=True):
            counts = paired_counts(comp, m)
            for y, i in zip(ypos, others, strict=True):
                left, total = 0.0, max(1, sum(counts[i].values()))
                for key, count in counts[i].items():
                    width = 100.0 * count / total
                    ax.barh(y, width, left=left, color=colours[key], height=0.7,
                            label=key if y == ypos[0] else None)
                    if width >= 7:
                        ax.text(left + width / 2, y, str(count), ha="center", va="center", fontsize=7,
                                color="black" if key == "same" else "white")
                    left += width
            ax.set_yticks(ypos, _names(comp, others))
            ax.set_xlim(0, 100)
            ax.axvline(50, color="black", lw=0.6, alpha=0.5)
            ax.set_xlabel("% of segments")
            ax.set_title(f"{_label(m.name)} per segment vs {_short(comp.names[base])}", fontsize=10)
        axes[0][0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=3, fontsize=8, frameon=False)
        fig.tight_layout()
        return _png(fig)


def metric_vs_human(comp: Comparison) -> bytes | None:
    """One scatter panel per metric: each matched system's metric score (x) against its human score
    (y), named, with the system-level Pearson r and Kendall tau in the title; a lower-is-better
    metric's axis is reversed so agreement always runs up and to the right. None without human scores."""
    ag = comp.agreement
    if ag is None:
        return None
    plt = _pyplot()
    names = [_short(n) for n in ag.human.names]
    with fonts_for(ag.human.names):
        fig, axes = plt.subplots(1, len(ag.metrics), figsize=(4.6 * len(ag.metrics), 4.2), squeeze=False)
        for ax, m in zip(axes[0], ag.metrics, strict=True):
            ax.scatter(m.scores, ag.human.system, color="#1f77b4", s=22)
            for x, y, name in zip(m.scores, ag.human.system, names, strict=True):
                ax.annotate(name, (x, y), fontsize=7, xytext=(3, 2), textcoords="offset points")
            if not m.higher_is_better:
                ax.invert_xaxis()
            r, tau = m.stats["pearson"].value, m.stats["kendall"].value
            ax.set_title(f"{_label(m.name)}: r = {r:.3f}, tau = {tau:.3f}", fontsize=10)
            ax.set_xlabel(_label(m.name) + ("" if m.higher_is_better else " (lower is better, reversed)"))
            ax.set_ylabel("human score")
            ax.grid(alpha=0.3)
        fig.suptitle("Metric against human scores, one point per system", fontsize=10)
        fig.tight_layout()
        return _png(fig)
