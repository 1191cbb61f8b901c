"""`make bench-gate`: the CI job `make gate` runs, at real sizes, timed stage by stage, three ways.

WMT22 en-zh translated by an opus-mt-en-zh-sized Marian through CTranslate2 (conf/system/opus_mt_en_zh_ct2.yaml,
its beam settings as resolved), every output as long as its reference; BLEU, chrF and a COMET-22-sized COMET
(conf/metrics/, precision auto) through the pipeline with the run cache; `mteval-gate` against a baseline made
from the first run. Runs: ``first`` (empty cache), ``second`` (another checkpoint: new hypotheses, same test
set), ``cached`` (the second run again: every answer from the cache); and fp32 COMET on a subset, for the
first run's time on a CPU without bf16. Each run is a fresh process, as in CI. Random weights: a forward pass
costs the same whatever the weights' values.
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

from mteval.bench import gate_report
from mteval.bench.common import cpu_description, cpu_family
from mteval.bench.gate_setup import (HUB_IDS, ModelBuilder, child_env, config_nodes, ensure_wmt22, hub_repo, measured,
                                     real_size_models, tiny_models)
from mteval.errors import MtevalError
from mteval.files import write_json
from mteval.metrics.precision import CPU_BF16_FLAGS, cpu_flags
from mteval.provenance import ROOT, package_versions

FORCED_SYSTEM = "mteval.bench.forced.ForcedLengthCT2"


class BenchError(MtevalError):
    """A run of the bench failed (its output's end is in the message)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--segments", type=int, default=None, help="the first N segments (default: all 2,037)")
    parser.add_argument("--fp32-segments", type=int, default=100,
                        help="segments of the fp32 COMET run, scaled to --segments (0: skip it)")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny models (for tests: no real sizes)")
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench"), help="built models, runs")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "gate.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")


class Job:
    """The bench's runs: config nodes, one process each, `mteval-gate` after each."""

    def __init__(self, work: Path, models: dict[str, str], references: Path, env: dict[str, str]):
        self.work, self.models, self.references, self.env = work, models, references, env
        self.baseline = work / "baseline.json"

    def spec(self, name: str, system: str, precision: str, segments: int | None, cache: str) -> Path:
        overrides = ["dataset=wmt22_en_zh", "system=opus_mt_en_zh_ct2", "metrics=[bleu,chrf,comet]", "device=cpu",
                     f"dataset.load.limit={segments if segments else 'null'}", f"system.model={self.models[system]}",
                     f"metrics.comet.model={self.models['comet']}", f"metrics.comet.precision={precision}"]
        nodes = config_nodes(overrides)
        nodes["system"].update(_target_=FORCED_SYSTEM, references=str(self.references))
        spec = {**nodes, "job": name, "cache": str(self.work / cache), "run_dir": str(self.work / "runs" / name),
                "out": str(self.work / f"{name}.result.json"),
                # Forced lengths batch sentences of one length together, across the whole test set.
                "translate_chunk_size": segments or gate_report.FULL_SEGMENTS}
        path = self.work / f"{name}.spec.json"
        write_json(path, spec)
        return path

    def process(self, args: Sequence[str], what: str, ok: Sequence[int] = (0,)) -> dict[str, Any]:
        out = measured(args, self.env)
        if out["rc"] not in ok:
            tail = " | ".join(out["output"].strip().splitlines()[-3:])
            raise BenchError(f"bench-gate: {what} ended with exit {out['rc']}: {tail}")
        return out

    def run(self, name: str, system: str, precision: str, segments: int | None, cache: str) -> dict[str, Any]:
        """One run's process; its stages as it measured them, its wall time and peak memory."""
        spec = self.spec(name, system, precision, segments, cache)
        proc = self.process(["mteval.bench.gate_job", str(spec)], f"run {name}")
        result = json.loads((self.work / f"{name}.result.json").read_text(encoding="utf-8"))
        return {**result, "process": {"wall_s": proc["wall_s"], "peak_rss_mb": proc["peak_rss_mb"]}}

    def gate(self, name: str) -> dict[str, Any]:
        run_dir = self.work / "runs" / name
        return self.process(["mteval.commands.gate", "--baseline", str(self.baseline), "--current", str(run_dir),
                             "--summary-md", str(run_dir / "gate.md"), "--junit", str(run_dir / "gate-junit.xml")],
                            f"mteval-gate on run {name}", ok=(0, 1))


def changed_lines(a: Path, b: Path) -> float:
    """The share of lines that differ between two hypothesis files."""
    left, right = (p.read_text(encoding="utf-8").splitlines() for p in (a, b))
    return round(sum(x != y for x, y in zip(left, right, strict=True)) / max(1, len(left)), 4)


def run(args: argparse.Namespace, builder: ModelBuilder | None = None) -> dict[str, Any]:
    """Every run of the bench; the result (written to ``args.out`` by :func:`main`)."""
    load_start = round(os.getloadavg()[0], 2)
    root = Path(args.work_dir)
    work = root / ("gate-tiny" if args.tiny else "gate")
    setup: dict[str, Any] = {"wmt22": ensure_wmt22(root)}
    start = time.perf_counter()
    built = (builder or (tiny_models if args.tiny else real_size_models))(root / ("tiny" if args.tiny else ""))
    setup["build_models_s"] = round(time.perf_counter() - start, 2)
    shutil.rmtree(work, ignore_errors=True)  # the first run starts from an empty cache
    (work / "runs").mkdir(parents=True)
    models = {key: hub_repo(work / "hub", HUB_IDS[key], path) for key, path in built.items()}
    from hydra.utils import instantiate

    corpus = instantiate(config_nodes(["dataset=wmt22_en_zh", f"dataset.load.limit={args.segments or 'null'}"])
                         ["dataset"], _convert_="all")
    references = work / "references.json"
    write_json(references, {s.src: s.refs[0] for s in reversed(corpus.segments)})  # the first of a repeated source
    job = Job(work, models, references, child_env(work / "hub"))
    for system in ("system", "system_changed"):  # converted once, as CI keeps results/cache/ct2 (setup, not timed)
        spec = job.spec("convert", system, "auto", args.segments, "unused.sqlite")
        job.process(["mteval.bench.gate_job", str(spec)], "the CTranslate2 conversion")
        setup[f"ct2_conversion_{system}_s"] = json.loads((work / "convert.result.json").read_text())["ct2_conversion_s"]

    runs: dict[str, Any] = {"first": job.run("first", "system", "auto", args.segments, "cache.sqlite")}
    shutil.copyfile(work / "cache.sqlite", work / "cache-fp32.sqlite")  # its translations; fp32 COMET misses
    write_start = time.perf_counter()
    job.process(["mteval.commands.gate", "--write-baseline", str(work / "runs" / "first"), "--out",
                 str(job.baseline)], "mteval-gate --write-baseline")
    setup["write_baseline_s"] = round(time.perf_counter() - write_start, 2)
    gates = {"first": job.gate("first")}
    runs["second"] = job.run("second", "system_changed", "auto", args.segments, "cache.sqlite")
    gates["second"] = job.gate("second")
    runs["cached"] = job.run("cached", "system_changed", "auto", args.segments, "cache.sqlite")
    gates["cached"] = job.gate("cached")
    for name, r in runs.items():
        r["stages_table"] = gate_report.stage_row(r, gates[name])
        r["gate_exit"], r["gate_peak_rss_mb"] = gates[name]["rc"], gates[name]["peak_rss_mb"]
        r["cache_mb"] = round((work / "cache.sqlite").stat().st_size / 1e6, 2)
    segments = runs["first"]["segments"]
    result: dict[str, Any] = {
        "bench": "gate", "segments": segments, "full_size": segments == gate_report.FULL_SEGMENTS,
        "tiny_models": bool(args.tiny), "setup": setup,
        "system": {"config": "conf/system/opus_mt_en_zh_ct2.yaml", "class": FORCED_SYSTEM,
                   "description": f"{'tiny' if args.tiny else 'opus-mt-en-zh-sized'} Marian, CTranslate2, outputs "
                                  "forced to the reference's length in target tokens (batched by equal length)"},
        "comet": {"config": "conf/metrics/comet.yaml", "precision_setting": "auto",
                  "description": f"{'tiny' if args.tiny else 'COMET-22-sized (XLM-R large)'} COMET, precision auto"},
        "precision": {"ct2_compute_type": runs["first"]["precision"]["ct2_compute_type"],
                      "comet_precision": runs["first"]["precision"]["comet_precision"]},
        "distinct_hypotheses": {n: len(set((work / "runs" / n / "hypotheses.txt").read_text(encoding="utf-8")
                                           .splitlines())) for n in ("first", "second")},
        "hypotheses_changed": {"second_vs_first": changed_lines(*(work / "runs" / n / "hypotheses.txt"
                                                                  for n in ("first", "second"))),
                               "cached_vs_second": changed_lines(*(work / "runs" / n / "hypotheses.txt"
                                                                   for n in ("second", "cached")))},
        "runs": {name: {"stages": r["stages_table"], "peak_rss_mb": max(r["process"]["peak_rss_mb"],
                                                                         r["gate_peak_rss_mb"]),
                        "gate_exit": r["gate_exit"], "detail": r} for name, r in runs.items()},
    }
    if args.fp32_segments:
        n = min(args.fp32_segments, segments)
        fp32 = job.run("first_fp32", "system", "32", n, "cache-fp32.sqlite")
        first = runs["first"]["stages"]
        result["fp32_path"] = {**gate_report.fp32_path(
            result["runs"]["first"]["stages"], gate_report.stage_row(fp32, None)["comet_s"],
            fp32["stages"].get("comet_load", 0.0), first.get("comet_load", 0.0), n, segments), "run": fp32}
    result["targets"] = gate_report.targets({k: v["stages"] for k, v in result["runs"].items()}, segments,
                                            result["precision"]["comet_precision"])
    result["machine"] = {**cpu_description(), **cpu_family(), "bf16_flags": sorted(set(CPU_BF16_FLAGS) & cpu_flags()),
                         "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}
    result["versions"] = package_versions()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.commands.bench gate", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = run(args)
    write_json(args.out, result)
    print(gate_report.format_table(result))
    print(f"written: {args.out}")
    met = all(t["met"] for t in result["targets"].values())
    return 0 if met or not args.check else 1
