"""The HTML report's weight and speed: its size, and its load and filter times in headless Chromium on 2 cores.

``python -m mteval.commands.bench report [--runs SWEEP_DIR]``: compares the 13 WMT22 en-zh submissions as
`make demo` does (BLEU and chrF, 1000 resamples, 10000 AR trials), then opens report.html in a fresh
headless Chromium pinned to two CPUs, several times, and records the time from navigation to the end
of the load event, to the segment browser's first page, and for a filter/sort/search round.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mteval.bench.compare import BASELINE, SUBMISSIONS, build_submission_runs
from mteval.files import write_json
from mteval.provenance import ROOT
from mteval.testing.chromium import MISSING, Chromium, find_chromium

TARGET_S = 2.0  # issue 22: `make demo`'s report opens in under 2 s in headless Chromium on 2 cores
_ROUND = """(() => {
  const t0 = performance.now();
  const set = (id, v) => { const s = document.getElementById(id); s.value = v;
                           s.dispatchEvent(new Event('change', {bubbles: true})); };
  const dom = Array.from(document.querySelectorAll('#seg-dom option')).find(o => o.textContent.startsWith('news'));
  if (dom) set('seg-dom', dom.value);
  set('seg-sort', 'd0'); set('seg-dir', 'desc');
  const q = document.getElementById('seg-q'); q.value = 'the'; q.dispatchEvent(new Event('input'));
  document.querySelector('#seg-table button.open').click();
  return performance.now() - t0;
})()"""


def measure(report: Path, repeats: int, cpus: str) -> dict[str, Any]:
    """Load ``report`` ``repeats`` times, each in a fresh browser; times in seconds (medians and all)."""
    loads, ready, rounds = [], [], []
    for _ in range(repeats):
        with Chromium(cpus=cpus) as page:
            loads.append(page.open(report.as_uri(), 1280, 900))
            ready.append(page.eval("performance.getEntriesByName('segments-ready')[0].startTime") / 1000)
            rounds.append(page.eval(_ROUND) / 1000)
    html = report.read_text(encoding="utf-8")
    data = re.search(r"<script type='application/json' id='seg-data'>(.*?)</script>", html, re.S)
    return {"report_bytes": report.stat().st_size, "segment_data_bytes": len(data.group(1).encode()) if data else 0,
            "load_s": round(statistics.median(loads), 3), "load_s_all": [round(x, 3) for x in loads],
            "first_page_s": round(statistics.median(ready), 3),
            "filter_sort_search_open_s": round(statistics.median(rounds), 3), "cpus": cpus, "repeats": repeats,
            "target_load_s": TARGET_S, "met": statistics.median(loads) < TARGET_S}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mteval.commands.bench report", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", help="a sweep dir with the 13 runs (default: score them into a temp dir)")
    parser.add_argument("--report", help="an existing report.html to measure (skips scoring and comparing)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpus", default="0,1", help="CPUs Chromium may use (taskset; default: two)")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "report.json"))
    args = parser.parse_args(argv)
    if find_chromium() is None:
        print(f"bench report: {MISSING}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(args.report) if args.report else None
        if report is None:
            runs = Path(args.runs) if args.runs else Path(tmp) / "runs"
            if not args.runs:
                print(f"scoring the {len(SUBMISSIONS)} submissions into {runs}", flush=True)
                build_submission_runs(runs)
            subprocess.run([sys.executable, "-m", "mteval.commands.compare", str(runs), "--baseline", BASELINE,
                            "--out", str(Path(tmp) / "compare")], check=True, stdout=subprocess.DEVNULL)
            report = Path(tmp) / "compare" / "report.html"
        result = measure(report, args.repeats, args.cpus)
    write_json(args.out, result)
    print(f"report.html {result['report_bytes'] / 1e6:.2f} MB (segment data {result['segment_data_bytes'] / 1e6:.2f} MB): "
          f"load {result['load_s']:.3f} s (median of {args.repeats}, CPUs {args.cpus}; target < {TARGET_S} s), first "
          f"page {result['first_page_s']:.3f} s, filter+sort+search+open {result['filter_sort_search_open_s']:.3f} s")
    print(f"written: {args.out}")
    return 0 if result["met"] else 1
