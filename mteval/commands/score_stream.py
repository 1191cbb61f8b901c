"""``mteval-score --stream``: BLEU, chrF and chrF++ of files of millions of lines in bounded memory, paired bootstrap on the statistics.

The files are read twice, line by line: once to check every line (UTF-8, control characters,
empty source and reference lines) and every line count, so bad input is refused before any
scoring, and once in chunks of segments whose per-segment statistics go into int32 arrays
(:mod:`mteval.metrics.sacre_stream`). Scores equal sacrebleu's; the bootstrap resamples the
arrays, with sacrebleu's draws (:func:`mteval.stats.resampling.streamed_bootstrap_scores`).
Nothing per segment is written: a run directory of a million segments would copy the corpus.
"""
from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mteval.errors import ConfigError, InputError
from mteval.files import write_json
from mteval.metrics.base import Metric
from mteval.metrics.fasttok import speed_up
from mteval.metrics.sacre import BLEU, ChrF
from mteval.metrics.sacre_stream import CHUNK_SEGMENTS, StatsStream, corpus_score
from mteval.data.textfile import count_segments, iter_lines
from mteval.stats.intervals import estimate_ci
from mteval.stats.paired import paired_bootstrap_p
from mteval.stats.resampling import streamed_bootstrap_scores
from mteval.stats.scorers import scorer_for

log = logging.getLogger(__name__)

#: Above this size (MB, the source file) mteval-score streams by itself when every metric can be
#: streamed: about 230,000 WMT-sized lines, where the per-segment tables pass a few GB.
AUTO_STREAM_MB = 64


def streamable(metrics: Sequence[Metric]) -> bool:
    """Every metric is a sum of sacrebleu statistics with integer counts (BLEU, chrF, chrF++)."""
    return all(isinstance(m, (BLEU, ChrF)) for m in metrics)


def check_files(src: str, refs: Sequence[str], hyps: Sequence[str]) -> int:
    """Read every file once and compare the line counts; returns the number of segments.

    Raises:
        InputError: the first bad line (naming file and line) or the first file whose count differs.
    """
    n = count_segments(src)
    for ref in refs:
        m = count_segments(ref)
        if m != n:
            raise InputError(ref, min(m, n) + 1, f"has {m} lines but {src} has {n}; the files must be line-aligned")
    for hyp in hyps:
        m = count_segments(hyp, allow_empty_lines=True)
        if m != n:
            raise InputError(hyp, min(m, n) + 1, f"has {m} hypothesis lines but the dataset has {n} segments")
    return n


def chunks(paths: Sequence[str], size: int) -> Iterator[list[tuple[str, ...]]]:
    """Lines of several line-aligned files, ``size`` segments at a time: one tuple of texts per segment."""
    readers = [(text for _, text in iter_lines(p)) for p in paths]
    rows = zip(*readers)  # counts were checked: every file ends together
    while batch := list(itertools.islice(rows, size)):
        yield batch


def stream_statistics(metrics: Sequence[Metric], tgt_lang: str, refs: Sequence[str], hyps: Sequence[str], *,
                      chunk: int = CHUNK_SEGMENTS) -> list[tuple[Any, list[Any]]]:
    """Per metric, its sacrebleu object and each hypothesis file's ``(n_segments, n_stats)`` statistics."""
    sacres = [m.sacrebleu_metric(tgt_lang) for m in metrics]
    for sacre in sacres:
        speed_up(sacre)  # zh tokenisation through str.translate: the same tokens (metrics/fasttok.py)
    streams = [StatsStream(s, len(hyps)) for s in sacres]
    n_refs = len(refs)
    for batch in chunks([*refs, *hyps], chunk):
        seg_refs = [row[:n_refs] for row in batch]
        for metric, stream in zip(metrics, streams, strict=True):
            prepared = [metric.prepare(list(r), tgt_lang) for r in seg_refs]
            systems = [metric.prepare([row[n_refs + s] for row in batch], tgt_lang) for s in range(len(hyps))]
            stream.add(systems, prepared)
    return [(stream.sacre, stream.arrays()) for stream in streams]


def score_streaming(args: Any, metrics: Sequence[Metric], out: Path) -> dict[str, Any]:
    """Check the files, score them chunk by chunk, resample the statistics; write and return the record."""
    if args.test_set:
        raise ConfigError("--stream reads your own files: give -s and -r instead of -t")
    if not streamable(metrics):
        names = ", ".join(m.name for m in metrics if not isinstance(m, (BLEU, ChrF)))
        raise ConfigError(f"--stream scores bleu, chrf and chrf++ only; leave out {names}")
    n = check_files(args.src, args.ref, args.input)
    tgt = args.langpair.split("-")[1]
    record: dict[str, Any] = {"direction": args.langpair, "n_segments": n, "stream": True,
                              "systems": [{"file": p, "metrics": {}} for p in args.input]}
    for metric, (sacre, stats) in zip(metrics, stream_statistics(metrics, tgt, args.ref, args.input), strict=True):
        scores = [corpus_score(sacre, s) for s in stats]
        signature = str(metric.signature(sacre, tgt))
        entries = [{"score": score, "signature": signature, "higher_is_better": True} for score in scores]
        if len(stats) > 1:
            boot = streamed_bootstrap_scores(scorer_for(sacre), stats, args.paired_bs_n, args.seed, sacrebleu=True)
            for i, entry in enumerate(entries):
                iv = estimate_ci(boot[i])
                entry["bootstrap"] = {"mean": iv.mean, "half_width": iv.half_width}
                if i:
                    entry["p_bs"] = paired_bootstrap_p(boot[0], boot[i], scores[0], scores[i])
        for system, entry in zip(record["systems"], entries, strict=True):
            system["metrics"][metric.name] = entry
    record["seed"], record["n_bootstrap"] = args.seed, args.paired_bs_n if len(args.input) > 1 else 0
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "scores.json", record)
    record["run_dirs"] = [str(out)]
    return record


def stream_table(record: dict[str, Any]) -> str:
    """One row per file: each metric's score (and with several files, bootstrap mean ± half-width and p)."""
    names = list(record["systems"][0]["metrics"])
    lines = [f"{record['direction']} | {record['n_segments']} segments | streamed"
             + (f" | {record['n_bootstrap']} resamples, seed {record['seed']}" if record["n_bootstrap"] else "")]
    for i, system in enumerate(record["systems"]):
        cells = []
        for name in names:
            m = system["metrics"][name]
            cell = f"{name} {m['score']:.4f}"
            if "bootstrap" in m:
                cell += f" ({m['bootstrap']['mean']:.2f} ± {m['bootstrap']['half_width']:.2f})"
                cell += f" p={m['p_bs']:.4f}" if "p_bs" in m else " (baseline)"
            cells.append(cell)
        lines.append(f"{system['file']}: " + " | ".join(cells))
    lines += [f"{name}: {record['systems'][0]['metrics'][name]['signature']}" for name in names]
    if record["n_bootstrap"]:
        lines.append("p: paired bootstrap against the first file (approximate randomisation is not run when streaming)")
    return "\n".join(lines)


def print_record(record: dict[str, Any], as_json: bool) -> None:
    print(json.dumps(record, ensure_ascii=False, indent=2) if as_json else stream_table(record))
