"""One timed run of the bench's CI job in a fresh process, as CI runs it: the configs' system and metrics
through :func:`mteval.pipeline.evaluate` with the run cache, written as a run directory.

    python -m mteval.bench.gate_job SPEC.json   (written by mteval.bench.gate; prints nothing, writes SPEC's out)
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mteval import cores
from mteval.bench.forced import ForcedLengthCT2
from mteval.cache import Cache
from mteval.files import write_json
from mteval.metrics.comet import Comet
from mteval.pipeline import evaluate
from mteval.provenance import environment
from mteval.results.io import write_run


class Stages:
    """Wall seconds per named stage, summed over every time it runs."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def timing(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn``, with the time of every call added to stage ``name``."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self(name):
                return fn(*args, **kwargs)

        return timed


def build(node: dict[str, Any]) -> Any:
    """A config node (resolved, as the composed YAML gives it) instantiated as the CLI does."""
    from hydra.utils import instantiate

    return instantiate(node, _convert_="all")


def run_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Build, evaluate with the cache, write the run; the stage times, precisions and cache state."""
    stages = Stages()
    with cores.running():  # as the CLI: this run's share of the cores, before torch loads
        cores.size_thread_pools()
        with stages("build"):
            system = build(spec["system"])
            metrics = [build(node) for node in spec["metrics"].values()]
            corpus = build(spec["dataset"])
        comets = [m for m in metrics if isinstance(m, Comet)]
        for metric in comets:  # the model load, apart from the scoring it precedes
            metric.load = stages.timing(f"{metric.name}_load", metric.load)
        cache = Cache(spec["cache"])
        try:
            result = evaluate(corpus, system, metrics, cache=cache, provenance={**environment(), "bench": spec["job"]},
                              translate_chunk_size=spec["translate_chunk_size"])
            rows = cache.count()
        finally:
            cache.close()
        with stages("write_run"):
            write_run(spec["run_dir"], result, config_yaml=json.dumps(spec, indent=2, ensure_ascii=False))
    if isinstance(system, ForcedLengthCT2):
        stages.add("system_load", system.load_seconds)
        stages.add("forcing_overhead", system.forcing_seconds)
    return {
        "stages": {k: round(v, 3) for k, v in stages.seconds.items()},
        "pipeline_timings": result.provenance["timings"],
        "precision": {"ct2_compute_type": system.resolved_compute_type(),
                      **{f"{m.name}_precision": m.resolved_precision() for m in comets}},
        "cache_rows": rows,
        "segments": len(corpus),
        "scores": {name: r.score for name, r in result.metrics.items()},
    }


def convert(spec: dict[str, Any]) -> dict[str, Any]:
    """Convert the system's model for CTranslate2 once (setup, not part of a CI run's time when cached)."""
    start = time.perf_counter()
    build(spec["system"]).convert()
    return {"ct2_conversion_s": round(time.perf_counter() - start, 3)}


def main(argv: list[str] | None = None) -> int:
    spec = json.loads(Path((argv or sys.argv[1:])[0]).read_text(encoding="utf-8"))
    out = convert(spec) if spec["job"] == "convert" else run_job(spec)
    write_json(spec["out"], out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
