"""Benchmarks (`make bench`, `make bench-compare`): translation tokens/s, COMET segments/s, compare vs sacrebleu."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench import comet_speed
from mteval.bench import compare as bench_compare
from mteval.bench import eval_bench
import mteval.commands.resolvers  # noqa: F401 - registers the resolvers conf/ uses (bench eval composes the defaults)
from mteval.bench import gate as bench_gate
from mteval.bench import metricx_speed
from mteval.bench import report as bench_report
from mteval.bench import stream as bench_stream
from mteval.bench.common import bench_process_setup, cpu_description
from mteval.bench.models import build_bench_models
from mteval.bench.translate import bench_comet, bench_translation, format_table
from mteval.errors import MtevalError
from mteval.provenance import ROOT, package_versions
from mteval.systems.batching import available_cores
from mteval.testing._build import quiet
from mteval.files import write_json


def translate_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.commands.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=128, help="sentences for the batched backends")
    parser.add_argument("--rounds", type=int, default=2, help="chunks taken by the three paths in turn")
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens generated per sentence (fixed)")
    parser.add_argument("--batch-size", type=int, default=32, help="as conf/system/opus_mt_en_zh*.yaml")
    parser.add_argument("--max-tokens", type=int, default=8192, help="as conf/system/opus_mt_en_zh*.yaml")
    parser.add_argument("--threads", type=int, default=available_cores(), help="CPU threads (default: all cores)")
    parser.add_argument("--gpu-sentences", type=int, default=2048)
    parser.add_argument("--gpu-batch-size", type=int, default=128)
    parser.add_argument("--comet-tiny-segments", type=int, default=512)
    parser.add_argument("--comet-base-segments", type=int, default=64)
    parser.add_argument("--comet-gpu-segments", type=int, default=1024)
    parser.add_argument("--skip-comet", action="store_true")
    comet_speed.add_arguments(parser)  # COMET-22-sized precisions and the sweep -> --comet-out
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench"), help="built models")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "translate.json"))
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args(argv)
    bench_process_setup()  # COMET runs here; each translation path runs it in its own process
    load_start = round(os.getloadavg()[0], 2)
    with quiet():
        models = build_bench_models(Path(args.work_dir))
        result: dict[str, Any] = {"translate": bench_translation(models, args)}
        if not args.skip_comet:
            result["comet"] = bench_comet(models, args)
            speed = comet_speed.run(args)
    result["machine"] = {**cpu_description(), "MKL_CBWR": os.environ.get("MKL_CBWR"),
                         "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)}}
    result["versions"] = package_versions()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(format_table(result))
    print(f"written: {args.out}")
    if not args.skip_comet:
        comet_speed.write(speed, args.comet_out, load_start)
    met = all(t["met"] for t in result["translate"]["targets"].values())
    return 0 if met or not args.check else 1




def comet_main(argv: Sequence[str] | None = None, bench: Any = comet_speed, name: str = "comet") -> int:
    """One bench module on its own (``comet``, ``metricx``): its options, run, write ``--<name>-out``."""
    parser = argparse.ArgumentParser(prog=f"python -m mteval.commands.bench {name}", description=bench.__doc__)
    bench.add_arguments(parser)
    parser.add_argument("--threads", type=int, default=available_cores(), help="CPU threads (default: all cores)")
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench"), help="built models")
    args = parser.parse_args(argv)
    bench_process_setup()
    load_start = round(os.getloadavg()[0], 2)
    with quiet():
        result = bench.run(args)
    bench.write(result, vars(args)[f"{name}_out"], load_start)
    return 0


def _compare_main(argv: Sequence[str]) -> int:
    bench_compare.main(argv)
    return 0


#: ``python -m mteval.commands.bench <name> [options]``: one benchmark; no name runs translation and COMET.
SUBCOMMANDS = {
    "comet": comet_main,
    "compare": _compare_main,
    "eval": eval_bench.main,  # `make bench-eval`: make eval's two runs by stage -> results/bench/eval.json
    "gate": bench_gate.main,  # `make bench-gate`: the CI job at real sizes -> results/bench/gate.json
    "metricx": lambda argv: comet_main(argv, metricx_speed, "metricx"),  # hybrid-large-sized fp32/bf16 (issue 21)
    "report": bench_report.main,
    "stream": bench_stream.main,  # BLEU/chrF at 100k and 1M segments vs sacrebleu -> results/bench/stream.json  # the comparison report's size and load time in headless Chromium
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mteval.commands.bench [comet|compare|eval|gate|metricx|report|stream] [options]``: every benchmark, or one."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] and argv[0] in SUBCOMMANDS:
            return SUBCOMMANDS[argv[0]](argv[1:])
        return translate_main(argv)
    except MtevalError as err:  # a run of the bench failed, or a setting is wrong: one line, no traceback
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
