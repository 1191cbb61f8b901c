"""The gate's decision: refuse what cannot be compared, then per metric an effect test AND a paired test."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mteval.errors import ConfigError, IncomparableError
from mteval.gate.baseline import RunView
from mteval.gate.config import GateConfig
from mteval.results.rebuild import check_rebuilt, rebuild_metric
from mteval.stats.paired import paired_bootstrap
from mteval.stats.resampling import mean_stats
from mteval.stats.scorers import MeanScorer, scorer_for


@dataclass
class MetricVerdict:
    """One metric's outcome. ``effect`` is current minus baseline signed so that negative is worse."""

    name: str
    higher_is_better: bool
    baseline: float
    current: float
    effect: float
    min_effect: float
    p_value: float
    ci_low: float
    ci_high: float
    n_segments: int
    failed: bool
    reason: str


@dataclass
class GateReport:
    """Everything the summary and the JUnit file show."""

    baseline: RunView
    current: RunView | None
    config: GateConfig
    verdicts: list[MetricVerdict] = field(default_factory=list)
    ungated: list[str] = field(default_factory=list)
    refused: str | None = None

    @property
    def exit_code(self) -> int:
        """0 pass, 1 regression, 2 cannot compare."""
        if self.refused is not None:
            return 2
        return 1 if any(v.failed for v in self.verdicts) else 0


def check_comparable(base: RunView, cur: RunView, metrics: list[str]) -> None:
    """Raise IncomparableError naming the first difference that makes the two runs incomparable."""
    for what in ("dataset", "direction"):
        a, b = getattr(base, what), getattr(cur, what)
        if a != b:
            raise IncomparableError(f"{what} differs: baseline {a!r}, current {b!r}")
    if len(base.ids) != len(cur.ids):
        raise IncomparableError(f"segment count differs: baseline {len(base.ids)}, current {len(cur.ids)} "
                                "(was the current run made with dataset.load.limit?)")
    for i, (a, b) in enumerate(zip(base.ids, cur.ids, strict=True)):
        if a != b:
            raise IncomparableError(f"segment ids differ at position {i + 1}: baseline {a!r}, current {b!r}")
    for what, label in (("src_sha", "source"), ("refs_sha", "references")):
        for i, (a, b) in enumerate(zip(getattr(base, what), getattr(cur, what), strict=True)):
            if a != b:
                raise IncomparableError(f"segment {base.ids[i]!r}: the {label} differ between baseline and current")
    for name in metrics:
        if name not in cur.metrics:
            raise IncomparableError(f"the current run has no {name!r} score (it has: {', '.join(cur.metrics)})")
        a, b = base.metrics[name]["signature"], cur.metrics[name]["signature"]
        if a != b:
            raise IncomparableError(f"{name} signatures differ: baseline {a}, current {b}")
        directions = {bool(run.metrics[name].get("higher_is_better", True)) for run in (base, cur)}
        if len(directions) > 1:
            raise IncomparableError(f"{name}: the runs disagree on whether higher is better")


def _paired_inputs(name: str, base: RunView, cur: RunView) -> tuple[np.ndarray, np.ndarray, Any, int]:
    """Sufficient statistics of both runs over the segments both scored, and the score function."""
    base_sacre, cur_sacre = base.stats_for(name), cur.stats_for(name)
    if (base_sacre is None) != (cur_sacre is None):
        raise IncomparableError(f"{name}: one run has sufficient statistics and the other does not")
    if base_sacre is not None and cur_sacre is not None:
        pairs = [(a, b) for a, b in zip(base_sacre, cur_sacre, strict=True) if a is not None and b is not None]
        score = scorer_for(rebuild_metric(name, cur.metrics[name], cur.label).sacrebleu_metric(cur.tgt_lang)).scores

        base_stats = np.array([a for a, _ in pairs], dtype=np.float64)
        cur_stats = np.array([b for _, b in pairs], dtype=np.float64)
    else:
        a_scores, b_scores = base.segment_scores.get(name), cur.segment_scores.get(name)
        if a_scores is None or b_scores is None or all(s is None for s in a_scores):
            raise IncomparableError(f"{name}: no per-segment scores, so no paired test is possible")
        a_kept, b_kept = [s is not None for s in a_scores], [s is not None for s in b_scores]
        if a_kept != b_kept:  # an LLM judge's unparsable answers differ from run to run
            raise IncomparableError(f"{name}: the baseline scored {sum(a_kept)} segments and the current run "
                                    f"{sum(b_kept)}, not the same ones, so their scores are means over different "
                                    f"segments; leave {name} out of the gate's metrics")
        pairs = [(a, b) for a, b in zip(a_scores, b_scores, strict=True) if a is not None and b is not None]
        base_stats = mean_stats([a for a, _ in pairs])
        cur_stats = mean_stats([b for _, b in pairs])
        score = MeanScorer().scores
    if not pairs:
        raise IncomparableError(f"{name}: no segment was scored in both runs")
    if base_stats.shape[1:] != cur_stats.shape[1:]:
        raise IncomparableError(f"{name}: the baseline has {base_stats.shape[1:]} statistics per segment, the "
                                f"current run {cur_stats.shape[1:]}")
    for view, stats in ((base, base_stats), (cur, cur_stats)):
        check_rebuilt(view.label, name, float(score(stats.sum(axis=0, keepdims=True))[0]),
                      float(view.metrics[name]["score"]), model_based=base_sacre is None,
                      fix=f"; leave {name} out of the gate's metrics")
    return base_stats, cur_stats, score, len(pairs)


def _check_reachable(name: str, base: RunView, config: GateConfig) -> None:
    """Refuse a min_effect no drop can reach: BLEU and chrF (sacrebleu, higher is better) lie in [0, 100],
    so a minimum drop above 100 would switch the gate off for that metric."""
    spec = base.metrics[name].get("metric")
    sacre = isinstance(spec, dict) and str(spec.get("class", "")).startswith("mteval.metrics.sacre.")
    if sacre and base.metrics[name].get("higher_is_better", True) and config.min_effect[name] > 100:
        raise ConfigError(f"min_effect.{name}={config.min_effect[name]:g}: {name} lies between 0 and 100, so no "
                          f"drop can reach it and the gate could never fail on {name}; use a smaller minimum drop")


def _with_declared_effects(config: GateConfig, base: RunView, names: list[str]) -> GateConfig:
    """The gate config with, for each gated metric it names no min_effect for, the one the metric declared
    with its score (``metric.min_effect`` in scores.json): a new metric needs no edit of the gate config."""
    declared = {}
    for name in names:
        spec = base.metrics.get(name, {}).get("metric")
        value = spec.get("min_effect") if isinstance(spec, dict) else None
        if name not in config.min_effect and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and value >= 0:
            declared[name] = float(value)
    return dataclasses.replace(config, min_effect={**config.min_effect, **declared}) if declared else config


def decide(base: RunView, cur: RunView, config: GateConfig) -> GateReport:
    """Compare ``cur`` with ``base``; a refusal is recorded in the report (exit 2), not raised."""
    names = list(config.metrics) if config.metrics is not None else list(base.metrics)
    report = GateReport(baseline=base, current=cur, config=config,
                        ungated=[m for m in cur.metrics if m not in names])
    config = _with_declared_effects(config, base, names)
    missing_effect = [m for m in names if m not in config.min_effect]
    if missing_effect:
        raise ConfigError(f"no min_effect for {', '.join(missing_effect)}: add it under min_effect, or leave the "
                          "metric out of 'metrics'")
    try:
        unknown = [m for m in names if m not in base.metrics]
        if unknown:
            raise IncomparableError(f"the baseline has no {', '.join(unknown)} score "
                                    f"(it has: {', '.join(base.metrics)})")
        for name in names:
            _check_reachable(name, base, config)
        check_comparable(base, cur, names)
        for name in names:
            report.verdicts.append(_verdict(name, base, cur, config))
    except IncomparableError as err:
        report.refused = str(err)
        report.verdicts = []
    return report


def _verdict(name: str, base: RunView, cur: RunView, config: GateConfig) -> MetricVerdict:
    hib = bool(base.metrics[name].get("higher_is_better", True))
    base_stats, cur_stats, score, n = _paired_inputs(name, base, cur)
    res = paired_bootstrap(base_stats, cur_stats, score, higher_is_better=hib,
                           n_resamples=config.n_resamples, seed=config.seed)
    min_effect = config.min_effect[name]
    worse_enough = res.effect <= -min_effect
    significant = res.p_value < config.alpha
    failed = worse_enough and significant
    if failed:
        reason = (f"worse by {-res.effect:.4g} (>= {min_effect:g}) and significant "
                  f"(p = {res.p_value:.3g} < {config.alpha:g})")
    elif worse_enough:
        reason = f"worse by {-res.effect:.4g} but not significant (p = {res.p_value:.3g} >= {config.alpha:g})"
    elif res.effect < 0:
        reason = f"worse by {-res.effect:.4g}, below the minimum effect {min_effect:g}"
    else:
        reason = "not worse" if res.effect == 0 else f"better by {res.effect:.4g}"
    return MetricVerdict(
        name=name, higher_is_better=hib, baseline=float(base.metrics[name]["score"]),
        current=float(cur.metrics[name]["score"]), effect=res.effect, min_effect=min_effect,
        p_value=res.p_value, ci_low=res.ci_low, ci_high=res.ci_high, n_segments=n, failed=failed, reason=reason,
    )
