"""COMET embeddings in the run cache, timed: a first run, a run with new hypotheses, an unchanged rerun.

    python -m mteval.bench.comet_cache --segments 64     # COMET-22-sized (XLM-R large), WMT22 en-zh

Each run goes through the pipeline with a new connection to one cache file and nothing kept in memory, as
a new CI process would; the model stays loaded (its load is timed once, apart: the cache does not change it).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench.common import bench_process_setup, cpu_description, lines_at, load_inputs
from mteval.bench.models import build_comet_large, reference_files, source_file, wmt22_en_zh
from mteval.cache import Cache
from mteval.files import write_json
from mteval.metrics.comet import Comet
from mteval.metrics.comet_models import release_all
from mteval.pipeline import evaluate
from mteval.provenance import ROOT, package_versions
from mteval.systems.batching import available_cores
from mteval.systems.file import FileSystem
from mteval.testing._build import quiet
from mteval.types import Corpus, Segment

#: Two WMT22 en-zh submissions: the system before and after a change, on the same test set.
SYSTEMS = ("LanguageX", "Online-G")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    model = build_comet_large(Path(args.work_dir))
    idx = load_inputs(args.segments, seed=3)
    srcs, refs = lines_at(source_file(), idx), lines_at(reference_files()[0], idx)
    corpus = Corpus(name="wmt22-en-zh-slice", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id=str(i), src=s, refs=[r]) for i, s, r in zip(idx, srcs, refs, strict=True)])

    def metric() -> Comet:
        return Comet(model=str(model), device="cpu", precision=args.precision, batch_size=args.batch_size,
                     cpu_threads=args.threads)

    release_all()
    start = time.perf_counter()
    loaded = metric()
    loaded.load()
    load_s = time.perf_counter() - start
    loaded.score(srcs[:2], [[r] for r in refs[:2]], srcs[:2])  # warm-up
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name in SYSTEMS:
            files[name] = Path(tmp) / f"{name}.zh"
            files[name].write_text("\n".join(lines_at(wmt22_en_zh(name), idx)) + "\n", encoding="utf-8")
        plan = (("first_run", SYSTEMS[0], True), ("new_hypotheses", SYSTEMS[1], True),
                ("unchanged", SYSTEMS[1], True), ("no_cache_recompute", SYSTEMS[1], False))
        for label, name, cached in plan:
            loaded._shared.embeddings.clear()  # a new process: nothing in memory
            with Cache(Path(tmp) / "cache.sqlite") as cache:
                start = time.perf_counter()
                result = evaluate(corpus, FileSystem(path=str(files[name]), name=name), [metric()],
                                  cache=cache if cached else None)
                wall = time.perf_counter() - start
            runs[label] = {"system": name, "seconds": round(wall, 2),
                           "segments_per_s": round(len(corpus) / wall, 2),
                           "segment_scores": result.metrics["comet"].segment_scores}
            if cached:
                runs[label]["embedding_cache"] = result.provenance["embedding_cache"]
    same = runs["new_hypotheses"]["segment_scores"] == runs["no_cache_recompute"]["segment_scores"]
    for row in runs.values():
        del row["segment_scores"]
    first = runs["first_run"]["seconds"]
    return {"segments": len(corpus), "precision": loaded.resolved_precision(), "batch_size": args.batch_size,
            "threads": args.threads, "model_load_seconds": round(load_s, 2), "runs": runs,
            "speedup_vs_first": {k: round(first / r["seconds"], 2) for k, r in runs.items()},
            "cached_scores_identical_to_recomputing": same,
            "machine": cpu_description(), "versions": package_versions(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.bench.comet_cache", description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=64, help="WMT22 en-zh segments (default: %(default)s)")
    parser.add_argument("--precision", default="auto", help="COMET precision (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench"), help="built models")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "comet_cache.json"))
    args = parser.parse_args(argv)
    bench_process_setup()
    with quiet():
        out = bench(args)
    write_json(args.out, out)
    for label, row in out["runs"].items():
        found = row.get("embedding_cache", {})
        print(f"{label:>20}: {row['seconds']:7.2f} s  {row['segments_per_s']:6.2f} seg/s  "
              f"embeddings found {found.get('hits', '-')}, embedded {found.get('misses', '-')}")
    print(f"{out['segments']} segments, precision {out['precision']}, identical scores: "
          f"{out['cached_scores_identical_to_recomputing']}; written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
