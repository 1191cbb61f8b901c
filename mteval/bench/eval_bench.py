"""`make bench-eval`: both runs of `make eval` (the abstracts, then WMT22 en-zh) timed stage by stage.

The default config's system (conf/system/opus_mt_en_zh.yaml, the HF backend) and metrics (BLEU, chrF,
COMET-22, MetricX-24-QE) at their real architectures with random weights (a forward pass costs the
same whatever the weights' values), each run a fresh process with an empty cache, as `make eval`'s first
run. Outputs are forced to a real length: the reference's in target tokens, or, for a segment without one,
its source's tokens times the target/source token ratio measured on WMT22 en-zh. Translation, COMET and
MetricX are measured on a sample of each run and scaled to the whole (2 CPU cores take hours at full size);
the rest is measured on every segment.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench import eval_report
from mteval.bench.common import cpu_description, cpu_family
from mteval.bench.eval_models import HUB_IDS, real_size_models, tiny_models
from mteval.bench.forced_hf import forced_totals
from mteval.bench.gate import BenchError
from mteval.bench.gate_setup import child_env, config_nodes, ensure_wmt22, hub_repo, measured
from mteval.files import write_json
from mteval.locations import conf_dir
from mteval.metrics.precision import CPU_BF16_FLAGS, cpu_flags
from mteval.provenance import ROOT, package_versions

FORCED_SYSTEM = "mteval.bench.forced_hf.ForcedLengthHF"
#: `make eval`'s two runs: the overrides each adds to conf/config.yaml's defaults (offline: the abstracts
#: take the arXiv originals the cache holds, and are scored reference-free where it holds none).
RUNS = {"abstracts": ["dataset.load.fetch_originals=false"], "wmt22_en_zh": ["dataset=wmt22_en_zh"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--segments", type=int, default=64,
                        help="segments of each run to translate and score with COMET and MetricX, scaled to the whole")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny models (for tests: no real sizes)")
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench"), help="built models, runs")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "eval.json"))


def token_counts(model_dir: Path, texts: list[str], *, target: bool) -> list[int]:
    """Tokens of each text as the system's tokenizer splits it (source or target side), its end token not counted."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    ids = tok(text_target=texts)["input_ids"] if target else tok(texts)["input_ids"]
    return [len(i) - 1 for i in ids]


def length_ratio(model_dir: Path, wmt22: Any) -> dict[str, Any]:
    """Target tokens per source token over WMT22 en-zh (reference A against its source), by the system's tokenizer."""
    src = sum(token_counts(model_dir, [s.src for s in wmt22.segments], target=False))
    tgt = sum(token_counts(model_dir, [s.refs[0] for s in wmt22.segments], target=True))
    return {"ratio": round(tgt / src, 4), "source_tokens": src, "reference_tokens": tgt,
            "measured_on": f"WMT22 en-zh, {len(wmt22)} segments, reference A"}


def write_lengths(path: Path, model_dir: Path, corpus: Any, ratio: float) -> None:
    """Each source's forced length (the first of a repeated source's), as :class:`ForcedLengthHF` reads them."""
    segs = corpus.segments
    with_ref = [s.refs[0] for s in segs if s.refs]
    ref_tokens = iter(token_counts(model_dir, with_ref, target=True) if with_ref else [])
    refs = [next(ref_tokens) if s.refs else None for s in segs]
    totals = forced_totals(refs, token_counts(model_dir, [s.src for s in segs], target=False), ratio)
    write_json(path, {s.src: n for s, n in reversed(list(zip(segs, totals, strict=True)))})


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both runs; the result (written to ``args.out`` by :func:`main`)."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    load_start = round(os.getloadavg()[0], 2)
    root = Path(args.work_dir)
    work = root / ("eval-tiny" if args.tiny else "eval")
    setup: dict[str, Any] = {"wmt22": ensure_wmt22(root)}
    start = time.perf_counter()
    built = (tiny_models if args.tiny else real_size_models)(root / ("tiny" if args.tiny else ""))
    setup["build_models_s"] = round(time.perf_counter() - start, 2)
    shutil.rmtree(work, ignore_errors=True)
    (work / "runs").mkdir(parents=True)
    models = {key: hub_repo(work / "hub", HUB_IDS[key], path) if key in HUB_IDS else str(path.resolve())
              for key, path in built.items()}
    env = child_env(work / "hub")
    chunk = OmegaConf.load(conf_dir() / "config.yaml").translate_chunk_size
    model_overrides = ["device=cpu", f"system.model={models['system']}", f"metrics.comet.model={models['comet']}",
                       f"metrics.metricx_qe.model={models['metricx']}",
                       f"metrics.metricx_qe.tokenizer={models['metricx_tokenizer']}"]
    ratio: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    for name, overrides in RUNS.items():
        nodes = config_nodes([*overrides, *model_overrides])
        corpus = instantiate(nodes["dataset"], _convert_="all")
        if not ratio:
            ratio = length_ratio(built["system"], instantiate(config_nodes(RUNS["wmt22_en_zh"])["dataset"],
                                                              _convert_="all"))
        lengths = work / f"{name}.lengths.json"
        write_lengths(lengths, built["system"], corpus, ratio["ratio"])
        nodes["system"].update(_target_=FORCED_SYSTEM, lengths=str(lengths))
        sample = eval_report.sample_indices(len(corpus), args.segments)
        spec = {**nodes, "job": name, "sample": sample, "cache": str(work / f"{name}.cache.sqlite"),
                "run_dir": str(work / "runs" / name), "out": str(work / f"{name}.result.json"),
                "translate_chunk_size": chunk}
        write_json(work / f"{name}.spec.json", spec)
        proc = measured(["mteval.bench.eval_job", str(work / f"{name}.spec.json")], env)
        if proc["rc"] != 0:
            tail = " | ".join(proc["output"].strip().splitlines()[-3:])
            raise BenchError(f"bench-eval: run {name} ended with exit {proc['rc']}: {tail}")
        job = {**json.loads(Path(spec["out"]).read_text(encoding="utf-8")),
               "process": {"wall_s": proc["wall_s"], "peak_rss_mb": proc["peak_rss_mb"]}}
        scaling = eval_report.scale([s.src for s in corpus.segments], sample)
        runs[name] = {**eval_report.stage_rows(job, scaling), "scaling": scaling, "segments": job["segments"],
                      "with_references": job["with_references"], "skipped_metrics": job["skipped_metrics"],
                      "peak_rss_mb": proc["peak_rss_mb"], "precision": job["precision"],
                      "forced_lengths": ("the reference's length in target tokens" if job["with_references"] else "")
                      + ("; " if 0 < job["with_references"] < job["segments"] else "")
                      + ("source tokens x the WMT22 ratio" if job["with_references"] < job["segments"] else ""),
                      "detail": job}
    wmt22 = runs["wmt22_en_zh"]["precision"]
    return {
        "bench": "eval", "tiny_models": bool(args.tiny), "setup": setup, "sample_segments": args.segments,
        "system": {"config": "conf/system/opus_mt_en_zh.yaml", "class": FORCED_SYSTEM,
                   "description": f"{'tiny' if args.tiny else 'opus-mt-en-zh-sized'} Marian, HF backend, outputs "
                                  "forced to real lengths (each batch to its longest sentence's)"},
        "metrics_description": f"{'tiny' if args.tiny else 'COMET-22-sized, MetricX-24-large-sized'} models",
        "length_ratio": ratio,
        "precision": {"translation": wmt22["system_dtype"], "comet": wmt22.get("comet_precision"),
                      "metricx_qe": wmt22.get("metricx_qe_precision")},
        "runs": runs,
        "make_eval_total_s": round(sum(r["stages"]["total_s"] for r in runs.values()), 2),
        "machine": {**cpu_description(), **cpu_family(), "bf16_flags": sorted(set(CPU_BF16_FLAGS) & cpu_flags()),
                    "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)}},
        "versions": package_versions(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.commands.bench eval", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.segments < 1:
        parser.error("--segments must be at least 1")
    result = run(args)
    write_json(args.out, result)
    print(eval_report.format_table(result))
    print(f"written: {args.out}")
    return 0
