"""``mteval-score``: score your own hypothesis files the way ``sacrebleu``/``comet-score`` do, with mteval's metrics."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from mteval.commands.config_check import build, mteval_cause, options
from mteval.errors import ConfigError, MtevalError
from mteval.commands.prefetch import compose
from mteval.cache import EMBEDDINGS_MB, Cache
from mteval.commands.config_check import check_config
from mteval.commands.run import quiet_libraries
from mteval.commands.score_stream import AUTO_STREAM_MB, print_record, score_streaming, streamable
from mteval.pipeline import evaluate
from mteval.provenance import environment
from mteval.results.io import write_run
from mteval.systems.file import FileSystem
from mteval.report.table import scores_table
from mteval.compare.comparison import compare_runs
from mteval.compare.load import load_runset
from mteval.compare.table import record as comparison_record

_LANGPAIR = re.compile(r"^[a-z]{2,3}-[a-z]{2,3}$")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mteval-score",
        description="Score hypothesis files against references with mteval's metrics (the conf/metrics defaults, "
                    "the same cache). One file: a table of scores with their signatures. Several: each one's 95% "
                    "bootstrap interval and paired p-values against the first (bootstrap and approximate "
                    "randomisation, equal to sacrebleu --paired-bs / --paired-ar). Every file is checked "
                    "before any model loads.",
        epilog="examples:\n  mteval-score -s src.en -r ref.zh -i hyp.zh -l en-zh -m bleu chrf\n"
               "  mteval-score -s src.zh -r ref.en -i a.en b.en -l zh-en -m bleu chrf ter comet\n"
               "  mteval-score -t wmt22 -l en-zh -i hyp.zh -m bleu chrf",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--input", nargs="+", required=True, metavar="HYP",
                   help="hypothesis files, one segment per line; the first is the baseline of the paired tests")
    p.add_argument("-s", "--src", metavar="SRC", help="source file (COMET and MetricX read it)")
    p.add_argument("-r", "--ref", action="append", default=[], metavar="REF",
                   help="reference file; repeat for several references")
    p.add_argument("-t", "--test-set", help="a sacrebleu test set instead of -s/-r (e.g. wmt22); see sacrebleu --list")
    p.add_argument("-l", "--langpair", required=True, help="source-target, e.g. en-zh or zh-en")
    p.add_argument("-m", "--metrics", nargs="+", default=["bleu", "chrf"], metavar="METRIC",
                   help=f"conf/metrics options (default: bleu chrf): {', '.join(options('metrics'))}")
    p.add_argument("--paired-bs-n", type=int, default=1000, help="bootstrap resamples (default: %(default)s)")
    p.add_argument("--paired-ar-n", type=int, default=10000,
                   help="approximate-randomisation trials, 0 to skip (default: %(default)s)")
    p.add_argument("--seed", type=int, default=12345, help="resampling seed (default: %(default)s, as sacrebleu)")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of the table: the run's scores (one file) or the comparison (several)")
    p.add_argument("--out", help="where the run directories go (default: results/score/<time>)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the metric cache")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default: %(default)s)")
    p.add_argument("--stream", action="store_true",
                   help="bleu/chrf/chrf++ in bounded memory for files of millions of lines: read in chunks, scores "
                        "equal to sacrebleu, paired bootstrap on the statistics, scores.json only (automatic "
                        f"when every metric allows it and the source is over {AUTO_STREAM_MB} MB)")
    return p


def configure(args: argparse.Namespace) -> Any:
    """The composed config: conf/config.yaml with the dataset, the metrics and the device the arguments name."""

    if not _LANGPAIR.match(args.langpair):
        raise ConfigError(f"-l {args.langpair}: a language pair looks like en-zh or zh-en")
    known = options("metrics")
    unknown = [m for m in args.metrics if m not in known]
    if unknown:
        raise ConfigError(f"-m {' '.join(unknown)}: no such metric; choose from {', '.join(known)}")
    if args.test_set and (args.src or args.ref):
        raise ConfigError("-t names a test set with its own source and references: leave out -s and -r")
    if not args.test_set and not args.src:
        raise ConfigError("give the source file with -s (and references with -r), or a sacrebleu test set with -t")
    for name, value, low in (("--paired-bs-n", args.paired_bs_n, 1), ("--paired-ar-n", args.paired_ar_n, 0)):
        if value < low:
            raise ConfigError(f"{name} must be at least {low}, got {value}")
    cfg = compose([f"dataset={'sacrebleu' if args.test_set else 'files'}", "system=copy",
                   f"metrics=[{','.join(dict.fromkeys(args.metrics))}]"])
    # Paths and names are set on the composed config, not as overrides, so no character in them is Hydra syntax.
    if args.test_set:
        cfg.dataset.test_set, cfg.dataset.langpair = args.test_set, args.langpair
    else:
        cfg.dataset.direction = args.langpair
        cfg.dataset.load.update(src=args.src, refs=list(args.ref))
    cfg.device = args.device
    if args.no_cache:
        cfg.cache = None
    return cfg


def system_names(paths: list[str]) -> list[str]:
    """File names, or the paths as given where two files share a name."""
    names = [Path(p).name for p in paths]
    return [n if names.count(n) == 1 else p for n, p in zip(names, paths, strict=True)]


def out_dir(args: argparse.Namespace, cfg: Any) -> Path:
    """``--out``, or a new folder under results/score named by the time and the process."""
    return Path(args.out) if args.out else Path(cfg.results_dir) / "score" / f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{os.getpid()}"


def streamed(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``--stream`` record (:mod:`mteval.commands.score_stream`), or None for the ordinary path: no
    ``--stream`` and not a large source file scored only with metrics that stream."""
    cfg = configure(args)
    check_config(cfg)
    metrics = [build(node, f"metrics.{key}") for key, node in cfg.metrics.items()]
    try:
        big = not args.test_set and os.path.getsize(args.src) >= AUTO_STREAM_MB * 1_000_000
    except OSError:  # missing: the ordinary path names it
        big = False
    if not (args.stream or (big and streamable(metrics))):
        return None
    quiet_libraries("WARNING")
    return score_streaming(args, metrics, out_dir(args, cfg))


def score_files(args: argparse.Namespace) -> tuple[list[Path], list[Any]]:
    """Check every file, then score each hypothesis file; returns the run directories and results."""

    cfg = configure(args)
    check_config(cfg)
    quiet_libraries("WARNING")
    corpus = build(cfg.dataset.load, "dataset.load")
    systems = [FileSystem(path=p, name=n) for p, n in zip(args.input, system_names(args.input), strict=True)]
    for system in systems:  # every count checked before a metric is built, let alone a model loaded
        system.preflight(corpus)
    metrics = [build(node, f"metrics.{key}") for key, node in cfg.metrics.items()]
    out = out_dir(args, cfg)
    cache = Cache(cfg.cache, embeddings_mb=cfg.get("cache_embeddings_mb", EMBEDDINGS_MB)) if cfg.cache else None
    dirs, results = [], []
    try:
        for i, system in enumerate(systems):
            result = evaluate(corpus, system, metrics, cache=cache,
                              provenance={**environment(), "command": "mteval-score", "seed": args.seed})
            run_dir = write_run(out / f"{i}_{Path(system.path).name}", result)
            dirs.append(Path(run_dir))
            results.append(result)
    finally:
        if cache is not None:
            cache.close()
    return dirs, results


def paired_table(comp: Any) -> str:
    """One row per file, the baseline first: each metric's score, 95% interval and p-values against it."""
    import pandas as pd

    rows = []
    for i, name in enumerate(comp.names):
        row: dict[str, Any] = {"system": name + (" (baseline)" if i == comp.baseline else "")}
        for m in comp.metrics:
            iv = m.intervals[i]
            row[m.name] = f"{m.scores[i]:.4f} ({iv.mean:.2f} ± {iv.half_width:.2f})"
            tests = [m.p_bs[i], m.p_ar[i]] if comp.n_ar else [m.p_bs[i]]
            row[f"{m.name} p"] = "-" if i == comp.baseline else " / ".join(
                f"{p:.4f}" + ("*" if p < comp.alpha else "") for p in tests)
        rows.append(row)
    head = f"{comp.runset.dataset} | {comp.runset.direction} | {comp.runset.n_segments} segments | baseline " \
           f"{comp.names[comp.baseline]} | {comp.n_bootstrap} resamples, seed {comp.seed}"
    lines = [f"{m.name}: {m.signature}" for m in comp.metrics]
    tests = "paired bootstrap / approximate randomisation" if comp.n_ar else "paired bootstrap"
    note = f"score (bootstrap mean ± 95% half-width); p: {tests} against the baseline, * = below {comp.alpha}"
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        return "\n".join([head, pd.DataFrame(rows).to_string(index=False), *lines, note])


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Score, compare when there are several files, print; returns what ``--json`` prints."""

    record = streamed(args)
    if record is not None:
        print_record(record, args.json)
        return record
    dirs, results = score_files(args)
    if len(results) == 1:
        record = json.loads((dirs[0] / "scores.json").read_text(encoding="utf-8"))
        text = scores_table(results[0])
    else:

        runset = load_runset(dirs)
        names = [m for m in results[0].metrics if all(m in r.metrics for r in results)]
        comp = compare_runs(runset, names, n_bootstrap=args.paired_bs_n, n_ar=args.paired_ar_n, seed=args.seed)
        record, text = comparison_record(comp), paired_table(comp)
    record["run_dirs"] = [str(d) for d in dirs]
    if args.json:
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(text)
        print(f"run dirs: {dirs[0].parent}")
    return record


def main(argv: list[str] | None = None) -> None:
    """Entry point: an error the user can act on is one line and exit status 2."""
    args = parser().parse_args(argv)
    try:
        run(args)
    except Exception as err:  # noqa: BLE001 - Hydra's instantiate wraps a loader's error; anything else is a bug
        cause = err if isinstance(err, MtevalError) else mteval_cause(err)
        if cause is None:
            raise
        print(f"mteval-score: error: {cause}", file=sys.stderr)
        sys.exit(cause.exit_code)


if __name__ == "__main__":
    main()
