"""Scale bench (issue 21): ``mteval-score --stream`` BLEU and chrF at 100k and 1M segments against the sacrebleu CLI at 100k.

Each measurement is a fresh child process (the CLI as a user runs it: start-up, the check pass
over every file, scoring), so its peak resident memory is its own (``wait4``'s ``ru_maxrss``).
The corpus is synthetic (:mod:`mteval.testing.synthetic_corpus`, English source, Chinese target
scored with ``tok:zh``), written once into the work folder and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mteval.bench.common import cpu_description
from mteval.files import write_json
from mteval.provenance import ROOT, package_versions
from mteval.testing.synthetic_corpus import write_corpus


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` to the end: wall seconds, the process's own peak RSS (MB), exit status, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err,
                                env={**os.environ, "HF_HUB_OFFLINE": "1", "SACREBLEU_SEED": "12345"})
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so its rusage is this child's alone
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall_s": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit": proc.returncode,
                "stdout": out.read().decode("utf-8", "replace"), "stderr_tail": err.read().decode("utf-8", "replace")[-400:]}


def corpus(work: Path, n: int) -> dict[str, Path]:
    """The synthetic en-zh corpus of ``n`` segments (written on first use, then reused)."""
    folder = work / f"en-zh-{n}"
    paths = {"src": folder / "src.en", "ref": folder / "ref.zh", "hyp0": folder / "hyp0.zh"}
    if not (folder / "done").is_file():
        write_corpus(folder, n, rates=(0.3,))
        (folder / "done").write_text("ok\n")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.commands.bench stream", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--sacrebleu-size", type=int, default=100_000, help="0 skips the sacrebleu CLI")
    parser.add_argument("--work-dir", default=str(ROOT / "results" / "cache" / "bench" / "stream"))
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "stream.json"))
    args = parser.parse_args(argv)
    work = Path(args.work_dir)
    load_start = round(os.getloadavg()[0], 2)
    runs: dict[str, Any] = {}
    for n in sorted(set(args.sizes) | ({args.sacrebleu_size} - {0})):
        p = corpus(work, n)
        row: dict[str, Any] = {"segments": n, "input_mb": round(sum(f.stat().st_size for f in p.values()) / 1e6, 1)}
        if n in args.sizes:
            ours = measure([sys.executable, "-m", "mteval.commands.score", "--stream", "--no-cache", "--json",
                            "-s", str(p["src"]), "-r", str(p["ref"]), "-i", str(p["hyp0"]), "-l", "en-zh",
                            "-m", "bleu", "chrf", "--out", str(work / "out" / str(n))])
            if ours["exit"] == 0:
                scores = json.loads(ours.pop("stdout"))["systems"][0]["metrics"]
                ours["scores"] = {m: s["score"] for m, s in scores.items()}
            row["mteval_stream"] = ours
        if n == args.sacrebleu_size:
            theirs = measure([str(Path(sys.executable).parent / "sacrebleu"), str(p["ref"]), "-i", str(p["hyp0"]),
                              "-l", "en-zh", "-m", "bleu", "chrf", "-w", "16", "-f", "json"])
            if theirs["exit"] == 0:
                theirs["scores"] = {("bleu" if r["name"] == "BLEU" else "chrf"): r["score"]
                                    for r in json.loads(theirs.pop("stdout"))}
            row["sacrebleu_cli"] = theirs
            if "scores" in theirs and "scores" in row.get("mteval_stream", {}):
                # sacrebleu's JSON rounds to -w digits: compare at 12, the exact equality is a unit test.
                row["equal_to_sacrebleu_12_digits"] = all(
                    round(row["mteval_stream"]["scores"][m], 12) == round(theirs["scores"][m], 12) for m in theirs["scores"])
        runs[str(n)] = row
        print(f"{n:>9} segments: " + json.dumps({k: v for k, v in row.items() if k != "segments"}), flush=True)
    sizes = sorted(args.sizes)
    if len(sizes) > 1 and all("mteval_stream" in runs[str(n)] for n in sizes):
        small, big = (runs[str(sizes[0])]["mteval_stream"], runs[str(sizes[-1])]["mteval_stream"])
        runs["scaling"] = {"segments_ratio": sizes[-1] / sizes[0], "wall_ratio": round(big["wall_s"] / small["wall_s"], 2),
                           "rss_ratio": round(big["peak_rss_mb"] / small["peak_rss_mb"], 2)}
    result = {"runs": runs, "target": "1M segments, BLEU and chrF, <= 2048 MB peak RSS",
              "machine": {**cpu_description(), "load_average_1m": {"start": load_start,
                                                                    "end": round(os.getloadavg()[0], 2)}},
              "versions": package_versions()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
