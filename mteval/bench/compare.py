"""Benchmark: ``mteval-compare`` against ``sacrebleu --paired-bs`` on the 13 WMT22 en-zh submissions.

Usage: ``python -m mteval.bench.compare [--repeats 3] [--runs DIR] [--out results/bench/compare.json]``.
Both commands run as subprocesses on the same hypothesis and reference files (BLEU and chrF,
1000 resamples, seed 12345), alternating, and the JSON records every timing and the ratio of medians.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mteval.files import write_json
from mteval.provenance import ROOT, package_versions
from mteval.data.sacrebleu_cache import entry, read_fields
from mteval.data.sacrebleu_sets import load_sacrebleu
from mteval.metrics.sacre import BLEU, ChrF, TER
from mteval.pipeline import evaluate
from mteval.results.io import write_run
from mteval.systems.submission import wmt_submission

SUBMISSIONS = ("AISP-SJTU", "DLUT", "GTCOM", "HuaweiTSC", "JDExploreAcademy", "Lan-Bridge", "LanguageX",
               "Manifold", "Online-A", "Online-B", "Online-G", "Online-W", "Online-Y")
ZH_EN_SUBMISSIONS = ("AISP-SJTU", "DLUT", "HuaweiTSC", "JDExploreAcademy", "Lan-Bridge", "LanguageX", "NiuTrans",
                     "Online-A", "Online-B", "Online-G", "Online-W", "Online-Y")
BASELINE = "LanguageX"


def wmt22_field(field: str, langpair: str = "en-zh") -> Path:
    """sacrebleu's text file for one field of WMT22 ``langpair`` (``ref:A``, a submission's name), fetched once."""

    return read_fields(entry("wmt22", langpair), langpair)[field]


def submission_file(name: str) -> Path:
    return wmt22_field(name)


def build_submission_runs(out_dir: str | Path, names: tuple[str, ...] = SUBMISSIONS,
                          metrics: tuple[str, ...] = ("bleu", "chrf"), limit: int | None = None,
                          langpair: str = "en-zh") -> list[Path]:
    """Score WMT22 submissions into run dirs ``out_dir/<i>_<name>`` (as a sweep would),
    through the pipeline and the shipped configs' settings, without Hydra or the cache.

    Args:
        limit: score only the first ``limit`` segments (tests).
        langpair: ``en-zh`` (names: SUBMISSIONS) or ``zh-en`` (names: ZH_EN_SUBMISSIONS).
    """

    # conf/dataset/wmt22_en_zh.yaml and wmt22_zh_en.yaml: reference A, punctuation as published (zh_punct: none).
    corpus = load_sacrebleu(name="wmt22_" + langpair.replace("-", "_"), test_set="wmt22", langpair=langpair,
                            translators=["A"], limit=limit)
    known = {"bleu": lambda: BLEU(zh_punct="none"), "chrf": lambda: ChrF(zh_punct="none"),
             "ter": lambda: TER(zh_punct="none")}
    dirs = []
    for i, name in enumerate(names):
        system = wmt_submission(submission=name, test_set="wmt22", langpair=langpair, limit=limit)
        result = evaluate(corpus, system, [known[m]() for m in metrics])
        dirs.append(write_run(Path(out_dir) / f"{i}_{name}", result))
    return dirs


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "SACREBLEU_SEED": "12345"})
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mteval.bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each command (default 3)")
    parser.add_argument("--runs", help="a sweep dir with the 13 runs (default: build them in a temp dir)")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "compare.json"))
    args = parser.parse_args(argv)
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(args.runs) if args.runs else Path(tmp) / "runs"
        if not args.runs:
            print(f"scoring the {len(SUBMISSIONS)} submissions into {runs} (not timed)", flush=True)
            build_submission_runs(runs)
        hyps = [str(submission_file(BASELINE))] + [str(submission_file(n)) for n in SUBMISSIONS if n != BASELINE]
        ref = str(wmt22_field("ref:A"))
        compare = [sys.executable, "-m", "mteval.commands.compare", str(runs), "--baseline", BASELINE,
                   "--metrics", "bleu,chrf", "--n-bootstrap", "1000", "--seed", "12345"]
        commands = {
            "sacrebleu --paired-bs": [str(bindir / "sacrebleu"), ref, "-i", *hyps, "-l", "en-zh", "-m", "bleu",
                                      "chrf", "--paired-bs", "--paired-bs-n", "1000", "-f", "json"],
            # The whole command: loading, statistics, bootstrap and AR tests, checks, Markdown and HTML report.
            "mteval-compare": [*compare, "--out", str(Path(tmp) / "c")],
            # What sacrebleu --paired-bs computes: no approximate randomisation, no report.
            "mteval-compare --n-ar 0 --no-report": [*compare, "--n-ar", "0", "--no-report",
                                                    "--out", str(Path(tmp) / "c2")],
        }
        times: dict[str, list[float]] = {k: [] for k in commands}
        for r in range(args.repeats):
            for label, cmd in commands.items():
                times[label].append(round(_time(cmd), 3))
                print(f"run {r + 1}/{args.repeats} {label}: {times[label][-1]:.2f} s", flush=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    base = medians["sacrebleu --paired-bs"]
    out = {
        "task": "13 WMT22 en-zh submissions, BLEU + chrF, 1000 bootstrap resamples, baseline LanguageX",
        "seconds": times, "median_s": medians,
        "speedup_vs_sacrebleu": {k: round(base / v, 2) for k, v in medians.items() if k != "sacrebleu --paired-bs"},
        "cpus": len(os.sched_getaffinity(0)), "load_avg_at_end": list(os.getloadavg()),
        "python": platform.python_version(), "versions": package_versions(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, out)
    for label, s in out["speedup_vs_sacrebleu"].items():
        print(f"{label}: {medians[label]:.2f} s median vs sacrebleu {base:.2f} s -> {s:.2f}x")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
