"""One timed run of `make eval` in a fresh process: the config's system and metrics through
:func:`mteval.pipeline.evaluate` with the run cache, on a sample of the segments, then the cheap stages
(BLEU, chrF, writing the run) on every segment.

    python -m mteval.bench.eval_job SPEC.json   (written by mteval.bench.eval_bench; writes SPEC's out)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mteval import cores
from mteval.bench.forced import stand_in, usable_ids
from mteval.bench.forced_hf import ForcedLengthHF
from mteval.bench.gate_job import Stages, build
from mteval.cache import Cache
from mteval.files import write_json
from mteval.metrics.comet import Comet
from mteval.metrics.metricx import MetricX
from mteval.pipeline import evaluate
from mteval.provenance import environment
from mteval.results.io import write_run
from mteval.systems.file import FileSystem
from mteval.types import Corpus


def stand_ins(system: ForcedLengthHF, sources: list[str], seed: int = 0) -> list[str]:
    """What the random-weight model would write for each source: random pieces of the real vocabulary, as
    many as its forced length (:func:`~mteval.bench.forced.stand_in`; the hypotheses BLEU and chrF score
    outside the sample)."""
    tok, totals = system.tokenizer, system._length_map()
    usable = usable_ids(tok)
    return [stand_in(tok, usable, totals.get(s, 1), f"{seed}:{s}") for s in sources]


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Build, evaluate the sample with the cache, then BLEU/chrF/writing on every segment."""
    stages = Stages()
    with cores.running():  # as the CLI: this run's share of the cores, before torch loads
        cores.size_thread_pools()
        system = build(spec["system"])
        metrics = [build(node) for node in spec["metrics"].values()]
        corpus = build(spec["dataset"])
        for metric in metrics:  # the model loads, apart from the scoring they precede
            kind = "comet" if isinstance(metric, Comet) else "metricx" if isinstance(metric, MetricX) else None
            if kind:
                metric.load = stages.timing(f"{kind}_load_s", metric.load)
        sample = Corpus(corpus.name, corpus.src_lang, corpus.tgt_lang, [corpus.segments[i] for i in spec["sample"]],
                        corpus.summary, corpus.provenance)
        cache = Cache(spec["cache"])
        full_timings = None
        try:
            provenance = {**environment(), "bench": spec["job"]}
            result = evaluate(sample, system, metrics, cache=cache, provenance=provenance,
                              translate_chunk_size=spec["translate_chunk_size"])
            sample_timings = dict(result.provenance["timings"])
            skipped, scores = set(result.provenance["skipped_metrics"]), {n: r.score for n, r in result.metrics.items()}
            if len(sample) < len(corpus):
                with stages("bench_overhead_s"):  # the bench's own work, no part of a real run
                    hyps = stand_ins(system, [s.src for s in corpus.segments])
                    for i, hyp in zip(spec["sample"], result.hypotheses, strict=True):
                        hyps[i] = hyp
                    path = Path(spec["run_dir"]).with_suffix(".hyps.txt")
                    path.write_text("".join(h.replace("\n", " ") + "\n" for h in hyps), encoding="utf-8")
                cheap = [m for m in metrics if not isinstance(m, (Comet, MetricX))]
                result = evaluate(corpus, FileSystem(path=str(path), name=system.name), cheap, cache=cache,
                                  provenance=provenance)
                full_timings = result.provenance["timings"]
                skipped |= set(result.provenance["skipped_metrics"])
                scores.update({n: r.score for n, r in result.metrics.items()})
        finally:
            cache.close()
        with stages("write_run_s"):
            write_run(spec["run_dir"], result, config_yaml=json.dumps(spec, indent=2, ensure_ascii=False))
    stages.add("system_load_s", system.load_seconds)
    stages.add("forcing_s", system.forcing_seconds)
    comets = [m for m in metrics if isinstance(m, Comet)]
    metricxs = [m for m in metrics if isinstance(m, MetricX)]
    return {
        "stages": {k: round(v, 3) for k, v in stages.seconds.items()},
        "sample_timings": sample_timings, "full_timings": full_timings,
        "precision": {"system_dtype": system.run_settings()["dtype"],
                      **{f"{m.name}_precision": m.resolved_precision() for m in [*comets, *metricxs]}},
        "segments": len(corpus), "with_references": sum(bool(s.refs) for s in corpus.segments),
        "sample_segments": len(sample), "skipped_metrics": sorted(skipped),
        "scores": scores,  # BLEU and chrF of the stand-in hypotheses outside the sample: timing only
    }


def main(argv: list[str] | None = None) -> int:
    spec = json.loads(Path((argv or sys.argv[1:])[0]).read_text(encoding="utf-8"))
    write_json(spec["out"], run_job(spec))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
