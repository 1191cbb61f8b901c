"""MetricX speed: hybrid-large-sized segments/s at fp32 and bf16 with the score drift, and what length sorting saves."""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from mteval.bench.comet_speed import drift
from mteval.bench.common import Clock, lines_at, load_inputs, write_result
from mteval.bench.metricx_model import build_metricx_large
from mteval.bench.models import reference_files, source_file
from mteval.errors import ConfigError
from mteval.metrics.comet_embed import length_batches
from mteval.metrics.metricx import MetricX, input_text
from mteval.provenance import ROOT


def precisions(model: Path, device: str) -> list[str]:
    """``32`` and, where ``device`` multiplies bf16 natively, ``bf16``."""
    found = ["32"]
    try:
        if MetricX(model=str(model), tokenizer=str(model), precision="bf16", device=device).resolved_precision() == "bf16":
            found.append("bf16")
    except ConfigError:
        pass
    return found


def padded_tokens(lengths: list[int], batch_size: int) -> dict[str, int]:
    """Tokens the encoder reads (each batch padded to its longest input): in input order and length-sorted."""
    def cost(batches: list[list[int]]) -> int:
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    in_order = [list(range(i, min(i + batch_size, len(lengths)))) for i in range(0, len(lengths), batch_size)]
    return {"real": sum(lengths), "input_order": cost(in_order),
            "length_sorted": cost(length_batches([-n for n in lengths], batch_size))}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Segments/s of MetricX (reference mode) per precision on ``args.metricx_segments`` WMT22 en-zh segments,
    timed in rounds taken by every precision in turn so background load falls on all alike."""
    model = build_metricx_large(Path(args.work_dir))
    n = args.metricx_segments
    idx = load_inputs(n, seed=1)
    srcs, hyps, refs = lines_at(source_file(), idx), lines_at(reference_files()[1], idx), lines_at(reference_files()[0], idx)
    metrics = {p: MetricX(model=str(model), tokenizer=str(model), precision=p, device="cpu",
                          batch_size=args.metricx_batch_size, cpu_threads=args.threads)
               for p in precisions(model, "cpu")}
    load = {}
    for p, metric in metrics.items():  # load, and warm up on two segments
        start = time.perf_counter()
        metric.score(hyps[:2], [[r] for r in refs[:2]], srcs[:2])
        load[p] = round(time.perf_counter() - start, 2)
    clocks = {p: Clock() for p in metrics}
    scores: dict[str, list[float]] = {p: [] for p in metrics}
    size = -(-n // args.metricx_rounds)
    for start in range(0, n, size):
        part = slice(start, start + size)
        for p, metric in metrics.items():
            scores[p] += clocks[p](metric.score, hyps[part], [[r] for r in refs[part]], srcs[part]).segment_scores
    rows = {f"metricx_{p}": clock.rate(n, "segments_per_s", args.threads) for p, clock in clocks.items()}
    tok = metrics["32"].load_tokenizer()
    lengths = [len(x) - 1 for x in tok([input_text(s, h, r) for s, h, r in zip(srcs, hyps, refs, strict=True)],
                                       max_length=1536, truncation=True)["input_ids"]]
    return {
        "model": "MetricX-24 hybrid-large-sized (mT5-large: 24+24 layers, d_model 1024, d_ff 2816, 16 heads, "
                 "vocabulary 250,112), random weights, the bench tokenizer's pieces",
        "segments": n, "batch_size": args.metricx_batch_size, "rounds": args.metricx_rounds, "threads": args.threads,
        "device": "cpu", "signatures": {p: m.signature(1) for p, m in metrics.items()},
        "load_and_warm_up_seconds": load, **rows,
        "speedup_vs_32": {key: round(row["segments_per_s"] / rows["metricx_32"]["segments_per_s"], 2)
                          for key, row in rows.items()},
        "drift_vs_32": {f"metricx_{p}": drift(scores["32"], s) for p, s in scores.items() if p != "32"},
        "input_tokens": padded_tokens(lengths, args.metricx_batch_size),
    }


def format_table(result: dict[str, Any]) -> str:
    """The MetricX speed results as plain text."""
    lines = [f"{result['model']}: {result['segments']} WMT22 en-zh segments (reference mode), batch "
             f"{result['batch_size']}, {result['threads']} threads",
             f"  {'path':<16}{'segments/s':>11}{'x fp32':>8}  |drift| p50 / p95 / p99 / max{'':>6}{'system delta':>14}"]
    for key, speedup in result["speedup_vs_32"].items():
        d = result["drift_vs_32"].get(key) or dict.fromkeys(("p50_abs", "p95_abs", "p99_abs", "max_abs", "system_delta"), 0.0)
        spread = " / ".join(f"{d[k]:.4f}" for k in ("p50_abs", "p95_abs", "p99_abs", "max_abs"))
        lines.append(f"  {key:<16}{result[key]['segments_per_s']:>11.3f}{speedup:>8.2f}  {spread}{d['system_delta']:>14.4f}")
    t = result["input_tokens"]
    lines.append(f"  encoder tokens with padding: {t['input_order']} in input order, {t['length_sorted']} length-sorted "
                 f"({t['real']} real)")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metricx-segments", type=int, default=16, help="segments per precision (mT5-large: slow)")
    parser.add_argument("--metricx-rounds", type=int, default=2, help="rounds the precisions take in turn")
    parser.add_argument("--metricx-batch-size", type=int, default=8, help="as conf/metrics/metricx.yaml")
    parser.add_argument("--metricx-out", default=str(ROOT / "results" / "bench" / "metricx.json"))


def write(result: dict[str, Any], out: str | Path, load_start: float) -> None:
    """Add the machine and versions, write ``out`` and print the table."""
    write_result(result, out, load_start, format_table(result))
