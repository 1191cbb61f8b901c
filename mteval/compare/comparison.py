"""compare_runs(): scores, bootstrap intervals, paired tests, rank clusters, domains and documents, and checks."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from mteval.compare.load import RunSet
from mteval.compare.meta import Agreement
from mteval.compare.disagreement import Disagreement, disagreement
from mteval.compare.partitions import Partition, partition
from mteval.compare.segstats import MetricStats, metric_stats, segment_grid
from mteval.stats.clusters import rank_clusters
from mteval.stats.intervals import Interval, estimate_ci
from mteval.stats.pairs import PairTable, pair_table, pairwise_ar_p
from mteval.stats.resampling import bootstrap_counts, bootstrap_scores, swap_mask
from mteval.text.checks import CHECKS, check_run, expected_lengths

log = logging.getLogger(__name__)

# Per document (WMT22 en-zh: 181 of them) the cost of 1000 resamples and 10000 trials would
# dominate the comparison; these keep it to a second or two there (docs/compare-and-gate.md).
DOC_BOOTSTRAP = 200
DOC_AR = 200


@dataclass
class MetricComparison:
    """One metric across every system (arrays in run order).

    Attributes:
        p_bs / p_ar: paired bootstrap / approximate-randomisation p-value against the baseline
            (None for the baseline itself).
        pairwise_p: paired bootstrap p-values between every two systems, uncorrected (``pairs.p_bs``).
        ranks: rank clusters (1 = best cluster; members share their head's position), drawn from
            the Holm-adjusted pairwise p-values of ``pairs.cluster_test`` (until issue 22: the
            uncorrected bootstrap ones).
        pairs: every pair's difference, p-values (uncorrected and Holm-adjusted) and segment wins.
        partitions: by ``domain`` and by ``document`` (where the data has two or more), each system's score,
            interval and paired tests against the baseline on each part.
        model_based: the scores are a model's segment scores (COMET, MetricX), not sacrebleu statistics.
        boot: resampled corpus scores ``(n_systems, n_bootstrap)``, drawn by ``counts``
            (``(n_bootstrap, len(segments))``, shared by the metrics) over the corpus positions ``segments``.
    """

    name: str
    higher_is_better: bool
    signature: str
    n_scored: int
    scores: np.ndarray
    intervals: list[Interval]
    p_bs: list[float | None]
    p_ar: list[float | None]
    pairwise_p: np.ndarray
    ranks: np.ndarray
    partitions: dict[str, Partition] = field(default_factory=dict)
    model_based: bool = False
    boot: np.ndarray | None = field(default=None, repr=False)
    counts: np.ndarray | None = field(default=None, repr=False)
    segments: np.ndarray | None = field(default=None, repr=False)
    pairs: PairTable | None = field(default=None, repr=False)

    @property
    def domains(self) -> dict[str, np.ndarray]:
        """Each domain's corpus score of each system ({} without domains)."""
        part = self.partitions.get("domain")
        return {} if part is None else {p.label: p.scores for p in part.parts}

    @property
    def signed_scores(self) -> np.ndarray:
        """The corpus scores signed so that higher is better."""
        return self.scores if self.higher_is_better else -self.scores


@dataclass
class Comparison:
    """Everything ``mteval-compare`` prints and writes."""

    runset: RunSet
    baseline: int
    metrics: list[MetricComparison]
    checks: list[list[dict[str, str]]]
    n_bootstrap: int
    n_ar: int
    seed: int | None
    alpha: float
    agreement: Agreement | None = None  # with human scores (mteval-compare --human)
    disagreement: Disagreement | None = None  # between the metrics' rankings (None with one metric)

    @property
    def names(self) -> list[str]:
        return self.runset.names

    def check_counts(self) -> list[dict[str, int]]:
        """Per system, how many segments fail each check."""
        return [{c: sum(1 for flags in per_seg if c in flags) for c in CHECKS} for per_seg in self.checks]


def _partitions(ms: MetricStats, baseline: int, labels: dict[str, list[str | None]],
                draws: dict[str, tuple[int, int]], seed: int | None) -> dict[str, Partition]:
    """Each kind of partition in ``labels`` (a label per corpus position), with its (resamples, trials)."""
    out = {}
    for kind, per_pos in labels.items():
        n_bootstrap, n_ar = draws[kind]
        part = partition(ms, per_pos, kind=kind, baseline=baseline, n_bootstrap=n_bootstrap, n_ar=n_ar, seed=seed)
        if part is not None:
            out[kind] = part
    return out


def compare_metric(ms: MetricStats, *, baseline: int, counts: np.ndarray, swap: np.ndarray | None,
                   alpha: float, good: np.ndarray) -> MetricComparison:
    """Bootstrap intervals, paired tests between every two systems, and rank clusters for one metric.

    ``counts`` and ``swap`` are drawn over the corpus; only this metric's scored segments are used.
    ``good`` holds the signed segment scores (:func:`mteval.compare.segstats.segment_grid`).
    """
    n_seg = len(ms.segments)
    boot = bootstrap_scores(ms.scorer, ms.stats, counts, sacrebleu=ms.sacrebleu)
    scores = ms.scores
    intervals = [estimate_ci(b) for b in boot]
    ar = pairwise_ar_p(ms.scorer, ms.stats, swap, scores) if swap is not None else None
    pairs = pair_table(scores, boot, ar, good, n_ar=0 if swap is None else len(swap))
    # Against the baseline: the baseline's row of each matrix (uncorrected, as sacrebleu prints them).
    p_bs: list[float | None] = [None if i == baseline else float(pairs.p_bs[baseline, i]) for i in range(len(scores))]
    p_ar: list[float | None] = [None if i == baseline or ar is None else float(ar[baseline, i])
                                for i in range(len(scores))]
    ranks = rank_clusters(scores, pairs.cluster_p, higher_is_better=ms.higher_is_better, alpha=alpha)
    return MetricComparison(name=ms.name, higher_is_better=ms.higher_is_better, signature=ms.signature,
                            n_scored=n_seg, scores=scores, intervals=intervals, p_bs=p_bs, p_ar=p_ar,
                            pairwise_p=pairs.p_bs, ranks=ranks,
                            model_based=not ms.sacrebleu, boot=boot, counts=counts, segments=ms.segments,
                            pairs=pairs)


def compare_runs(runset: RunSet, metrics: list[str], *, baseline: str | None = None, n_bootstrap: int = 1000,
                 n_ar: int = 10000, seed: int | None = 12345, alpha: float = 0.05, jobs: int = 1,
                 doc_bootstrap: int = DOC_BOOTSTRAP, doc_ar: int = DOC_AR) -> Comparison:
    """Compare the runs on every metric.

    Args:
        baseline: the system the paired tests compare against (default: the first run).
        n_bootstrap: bootstrap resamples (sacrebleu ``--paired-bs-n``).
        n_ar: approximate-randomisation trials (sacrebleu ``--paired-ar-n``); 0 skips the test.
        seed: seeds both tests as ``SACREBLEU_SEED`` does (sacrebleu's default is 12345).
        alpha: significance level for the rank clusters (after Holm's correction over each metric's pairs).
        jobs: worker processes for extracting sacrebleu statistics.
        doc_bootstrap / doc_ar: resamples and trials per document (domains use n_bootstrap and n_ar);
            doc_bootstrap 0 leaves the documents out.
    """
    base = runset.index(baseline) if baseline else 0
    # sacrebleu draws the matrices over the segments the metric scores; with references on every
    # segment (the only case sacrebleu handles) that is the corpus.
    results = []
    draws: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
    for name in metrics:
        ms = metric_stats(runset, name, jobs=jobs)
        n_seg = len(ms.segments)
        if n_seg not in draws:
            counts = bootstrap_counts(n_seg, n_bootstrap, seed)
            draws[n_seg] = (counts, swap_mask(n_seg, n_ar, seed) if n_ar > 0 else None)
        counts, swap = draws[n_seg]
        log.info("%s: %d systems, %d segments, %d resamples", name, len(runset.runs), n_seg, n_bootstrap)
        good = segment_grid(runset, name, higher_is_better=ms.higher_is_better)
        result = compare_metric(ms, baseline=base, counts=counts, swap=swap, alpha=alpha, good=good)
        # Each domain and document tested on its own segments, as the corpus is (compare/partitions.py).
        result.partitions = _partitions(ms, base, {"domain": runset.domains, "document": runset.documents},
                                        {"domain": (n_bootstrap, n_ar), "document": (doc_bootstrap, min(doc_ar, n_ar))},
                                        seed)
        results.append(result)
    srcs, refs = runset.srcs, runset.refs
    expected = expected_lengths(srcs, refs)
    checks = [check_run(srcs, runset.hyps(i), refs, tgt_lang=runset.tgt_lang, expected=expected)
              for i in range(len(runset.runs))]
    return Comparison(runset=runset, baseline=base, metrics=results, checks=checks, n_bootstrap=n_bootstrap,
                      n_ar=n_ar, seed=seed, alpha=alpha,
                      disagreement=disagreement([m.name for m in results], [m.signed_scores for m in results]))
