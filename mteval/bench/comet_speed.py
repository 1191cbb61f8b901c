"""COMET speed: COMET-22-sized segments/s per precision with their score drift; a sweep's gain from kept embeddings."""
from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench.models import build_comet_large, build_bench_models, reference_files, source_file, wmt22_en_zh
from mteval.bench.common import Clock, lines_at, load_inputs, write_result
from mteval.provenance import ROOT
from mteval.errors import ConfigError
from mteval.metrics.precision import resolve_precision
from mteval.metrics.comet import Comet
from mteval.metrics.comet_embed import EmbeddingStore, regression_scores
from mteval.metrics.comet_models import release_all

#: Three WMT22 en-zh submissions scored against the same sources and references, as a sweep would.
SWEEP_SYSTEMS = ("AISP-SJTU", "LanguageX", "Online-A")


def reduced_precisions(device: str) -> list[str]:
    """The reduced precisions ``device`` runs natively (none where it has none)."""

    found = []
    for setting in ("bf16-mixed", "16-mixed", "int8"):
        try:
            found.append(resolve_precision(setting, device))
        except ConfigError:
            pass
    return found


def _metric(model: Path, precision: str, device: str, threads: int, batch_size: int) -> Any:

    return Comet(model=str(model), device=device, precision=precision, batch_size=batch_size,
                 cpu_threads=threads if device == "cpu" else None)


def drift(base: Sequence[float], other: Sequence[float]) -> dict[str, Any]:
    """How far ``other``'s segment scores lie from ``base``'s: the distribution of the per-segment differences
    (median, 95th and 99th percentiles, max), the system-level delta, and the spread of ``base`` (for scale)."""
    diffs = [abs(a - b) for a, b in zip(base, other, strict=True)]
    cuts = statistics.quantiles(diffs, n=100, method="inclusive") if len(diffs) > 1 else diffs * 99
    return {"max_abs": round(max(diffs), 6), "mean_abs": round(statistics.fmean(diffs), 6),
            "p50_abs": round(cuts[49], 6), "p95_abs": round(cuts[94], 6), "p99_abs": round(cuts[98], 6),
            "distinct_scores": len(set(other)),
            "system_delta": round(statistics.fmean(other) - statistics.fmean(base), 6),
            "fp32_segment_std": round(statistics.pstdev(base), 6),
            "pearson": round(statistics.correlation(base, other), 6) if statistics.pstdev(base) > 0 else None}


def embedding_drift(base: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    """Cosine similarity of each text's sentence embedding to its fp32 one (min, 5th percentile, mean): the
    encoder's own drift, which does not depend on how a random-weight estimator spreads the scores."""
    import torch

    texts = [t for t in base if t in other]
    cos = torch.nn.functional.cosine_similarity(torch.stack([base[t].float() for t in texts]),
                                                torch.stack([other[t].float() for t in texts])).tolist()
    cuts = statistics.quantiles(cos, n=100, method="inclusive") if len(cos) > 1 else cos * 99
    return {"texts": len(texts), "min": round(min(cos), 6), "p5": round(cuts[4], 6), "mean": round(statistics.fmean(cos), 6)}


def bench_precisions(model: Path, n: int, device: str, args: argparse.Namespace) -> dict[str, Any]:
    """Segments/s of the mteval COMET path at fp32 and each reduced precision ``device`` supports, and of
    comet's own ``predict`` at fp32 (comet's length batching by source characters, Lightning); the
    same ``n`` segments, timed in rounds taken by every path in turn so background load falls on all alike."""
    idx = load_inputs(n, seed=1)
    srcs, hyps, refs = lines_at(source_file(), idx), lines_at(reference_files()[1], idx), lines_at(reference_files()[0], idx)
    precisions = ["32", *reduced_precisions(device)]
    metrics = {p: _metric(model, p, device, args.threads, args.comet_batch_size) for p in precisions}
    load = {}
    for p, metric in metrics.items():  # load, and warm up on two segments
        start = time.perf_counter()
        metric.score(hyps[:2], [[r] for r in refs[:2]], srcs[:2])
        load[p] = round(time.perf_counter() - start, 2)
    clocks = {**{f"mteval_{p}": Clock() for p in precisions}, "comet_predict_32": Clock()}
    scores: dict[str, list[float]] = {key: [] for key in clocks}
    vectors: dict[str, dict[str, Any]] = {p: {} for p in precisions}
    size = -(-n // args.comet_rounds)
    for start in range(0, n, size):
        part = slice(start, start + size)
        for p, metric in metrics.items():
            metric.load()
            metric._shared.embeddings.clear()  # nothing kept from the warm-up or an earlier round
            out = clocks[f"mteval_{p}"](metric.score, hyps[part], [[r] for r in refs[part]], srcs[part])
            scores[f"mteval_{p}"] += out.segment_scores
            store = metric._shared.embeddings  # this round's source and reference embeddings, for their drift
            vectors[p].update({t: store.get(t) for t in srcs[part] + refs[part] if t in store})
        samples = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs[part], hyps[part], refs[part], strict=True)]
        predict = functools.partial(metrics["32"].load().predict, batch_size=args.comet_batch_size,
                                    gpus=int(device == "cuda"), accelerator=device, num_workers=0, progress_bar=False)
        out = clocks["comet_predict_32"](predict, samples)
        scores["comet_predict_32"] += [float(s) for s in out.scores]
    rows = {key: clock.rate(n, "segments_per_s", args.threads) for key, clock in clocks.items()}
    fp32 = rows["mteval_32"]["segments_per_s"]
    return {
        "segments": n, "batch_size": args.comet_batch_size, "rounds": args.comet_rounds, "device": device,
        "load_and_warm_up_seconds": load, **rows,
        "speedup_vs_mteval_32": {key: round(row["segments_per_s"] / fp32, 2) for key, row in rows.items()},
        "drift_vs_mteval_32": {key: drift(scores["mteval_32"], s) for key, s in scores.items() if key != "mteval_32"},
        "embedding_cosine_vs_mteval_32": {f"mteval_{p}": embedding_drift(vectors["32"], v)
                                          for p, v in vectors.items() if p != "32"},
    }


def bench_sweep(model: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """A sweep of three systems over the same ``n`` sources and references, each run a new metric instance
    as under Hydra's basic launcher: scoring with source and reference embeddings kept from the earlier
    runs vs recomputed for every run (interleaved per system), and the model load a shared instance saves."""

    device = "cpu"
    precision = "auto"
    idx = load_inputs(n, seed=2)
    srcs, refs = lines_at(source_file(), idx), [[r] for r in lines_at(reference_files()[0], idx)]
    systems = {name: lines_at(wmt22_en_zh(name), idx) for name in SWEEP_SYSTEMS}
    release_all()
    start = time.perf_counter()
    first = _metric(model, precision, device, args.threads, args.comet_batch_size)
    first.load()
    load_cold = time.perf_counter() - start
    start = time.perf_counter()
    _metric(model, precision, device, args.threads, args.comet_batch_size).load()
    load_shared = time.perf_counter() - start
    resolved = first.resolved_precision()
    first.score(systems[SWEEP_SYSTEMS[0]][:2], refs[:2], srcs[:2])  # warm up
    first._shared.embeddings.clear()
    kept, fresh = Clock(), Clock()
    worst = 0.0
    for hyps in systems.values():
        samples = [{"src": s, "mt": h, "ref": r[0]} for s, h, r in zip(srcs, hyps, refs, strict=True)]
        # Every run embedding all three fields, as before: a store of its own, empty.
        alone = fresh(functools.partial(regression_scores, first.load(), batch_size=args.comet_batch_size,
                                        device=device, store=EmbeddingStore()), samples)
        metric = _metric(model, precision, device, args.threads, args.comet_batch_size)  # a new run's instance
        shared = kept(metric.score, hyps, refs, srcs).segment_scores
        worst = max(worst, *(abs(a - b) for a, b in zip(alone, shared, strict=True)))
    total = n * len(systems)
    return {
        "systems": list(SWEEP_SYSTEMS), "segments_per_system": n, "precision": resolved,
        "batch_size": args.comet_batch_size,
        "embeddings_recomputed_per_run": fresh.rate(total, "segments_per_s", args.threads),
        "embeddings_kept_across_runs": kept.rate(total, "segments_per_s", args.threads),
        "speedup": round(fresh.wall / kept.wall, 2),
        "max_abs_score_difference": worst,
        "model_load_seconds": {"first_run": round(load_cold, 2), "later_runs_shared": round(load_shared, 4)},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every COMET speed measurement this machine supports (GPU rows only where a GPU is visible)."""
    import torch

    root = Path(args.work_dir)
    large = build_comet_large(root)
    base = build_bench_models(root)["comet_base"]
    out: dict[str, Any] = {
        "model": "COMET-22-sized RegressionMetric: XLM-R large (24 layers, hidden 1024, 16 heads, ffn 4096), random "
                 "weights, the bench tokenizer's vocabulary",
        "threads": args.threads,
        "cpu": bench_precisions(large, args.large_segments, "cpu", args),
        "sweep": {"model": "XLM-R-base-sized COMET (random weights)", **bench_sweep(base, args.sweep_segments, args)},
        "gpu": None,
    }
    if torch.cuda.is_available():
        out["gpu"] = {"device": torch.cuda.get_device_name(0),
                      **bench_precisions(large, args.large_gpu_segments, "cuda", args)}
    return out


def format_table(result: dict[str, Any]) -> str:
    """The COMET speed results as plain text."""
    lines = []
    for where in ("cpu", "gpu"):
        part = result.get(where)
        if not part:
            lines.append("COMET GPU: none visible, GPU rows skipped")
            continue
        lines.append(f"COMET-22-sized (XLM-R large, random weights), {where.upper()}"
                     f"{' ' + part['device'] if where == 'gpu' else ''}: {part['segments']} WMT22 en-zh segments, "
                     f"batch {part['batch_size']}, {result['threads']} threads")
        lines.append(f"  {'path':<30}{'segments/s':>11}{'x fp32':>8}  |drift| p50 / p95 / p99 / max{'':>6}"
                     f"{'system delta':>14}")
        for key, row in part.items():
            if isinstance(row, dict) and "segments_per_s" in row:
                d = part["drift_vs_mteval_32"].get(key) or dict.fromkeys(("p50_abs", "p95_abs", "p99_abs",
                                                                           "max_abs", "system_delta"), 0.0)
                spread = " / ".join(f"{d.get(k, 0.0):.6f}" for k in ("p50_abs", "p95_abs", "p99_abs", "max_abs"))
                lines.append(f"  {key:<30}{row['segments_per_s']:>11.2f}{part['speedup_vs_mteval_32'][key]:>8.2f}"
                             f"  {spread}{d['system_delta']:>14.6f}")
        for key, cos in part.get("embedding_cosine_vs_mteval_32", {}).items():
            lines.append(f"  {key}: source/reference embedding cosine to fp32 min {cos['min']:.6f}, p5 {cos['p5']:.6f}, "
                         f"mean {cos['mean']:.6f} ({cos['texts']} texts)")
    sweep = result["sweep"]
    lines.append(f"COMET sweep ({sweep['model']}, {sweep['precision']}): {len(sweep['systems'])} systems x "
                 f"{sweep['segments_per_system']} segments: embeddings recomputed per run "
                 f"{sweep['embeddings_recomputed_per_run']['segments_per_s']:.2f} segments/s, source and reference "
                 f"embeddings kept {sweep['embeddings_kept_across_runs']['segments_per_s']:.2f} segments/s "
                 f"({sweep['speedup']:.2f}x; max |score difference| {sweep['max_abs_score_difference']:.1e}); "
                 f"model load {sweep['model_load_seconds']['first_run']} s first run, "
                 f"{sweep['model_load_seconds']['later_runs_shared']} s later runs")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this bench, also taken by ``python -m mteval.bench.translate`` (``make bench``)."""
    parser.add_argument("--large-segments", type=int, default=48, help="segments per precision, XLM-R large on CPU")
    parser.add_argument("--large-gpu-segments", type=int, default=1024, help="the same on a GPU")
    parser.add_argument("--sweep-segments", type=int, default=128, help="segments per system in the sweep")
    parser.add_argument("--comet-rounds", type=int, default=3, help="rounds the COMET paths take in turn")
    parser.add_argument("--comet-batch-size", type=int, default=16, help="as conf/metrics/comet.yaml")
    parser.add_argument("--comet-out", default=str(ROOT / "results" / "bench" / "comet.json"))


def write(result: dict[str, Any], out: str | Path, load_start: float) -> None:
    """Add the machine and versions, write ``out`` and print the table."""
    write_result(result, out, load_start, format_table(result))
