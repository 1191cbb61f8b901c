"""`make bench-eval`'s numbers: the measured sample, its stages scaled to the full run, the record and the table."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The stages of a run in the order `mteval` meets them (the table's rows); model loads apart, once each.
STAGES = ("startup_s", "system_load_s", "comet_load_s", "metricx_load_s", "translate_s", "bleu_s", "chrf_s",
          "comet_s", "metricx_qe_s", "write_run_s")
#: The stages measured on a sample and scaled; the rest are measured on the full run.
EXPENSIVE = ("translate_s", "comet_s", "metricx_qe_s")


def sample_indices(total: int, n: int) -> list[int]:
    """``n`` segment positions spread evenly through ``total`` (every one when ``n >= total``): documents,
    domains and lengths as the whole test set has them, not its first ``n`` segments."""
    if n >= total:
        return list(range(total))
    return sorted({(2 * i + 1) * total // (2 * n) for i in range(n)})


def scale(sources: Sequence[str], sample: Sequence[int]) -> dict[str, Any]:
    """The factor from the sample to the whole run: source characters, all over the sample's (the work of
    translating and scoring a segment grows with its length; segments of the sample are not all alike)."""
    whole = sum(len(s) for s in sources)
    part = sum(len(sources[i]) for i in sample)
    return {"factor": round(whole / part, 4) if part else 1.0, "source_chars": whole, "sample_source_chars": part,
            "segments": len(sources), "sample_segments": len(sample),
            "by_segments": round(len(sources) / len(sample), 4) if sample else 1.0}


def stage_rows(job: dict[str, Any], scaling: dict[str, Any]) -> dict[str, Any]:
    """One run's stages: measured (the sample's expensive stages and every stage of the process), and the
    full run's (the expensive stages times the factor), with the method of each.

    ``startup_s`` is the run process's wall time less every stage timed inside it and less the bench's
    own work (forcing lengths, the stand-in hypotheses, the sample's second pass): the interpreter,
    imports, building the system, metrics and corpus, the preflight. Model loads are taken out of the
    stage that triggered them.
    """
    sample, full, inner = job["sample_timings"], job.get("full_timings") or job["sample_timings"], job["stages"]
    loads = {key: inner.get(key, 0.0) for key in ("system_load_s", "comet_load_s", "metricx_load_s")}
    measured = {
        **loads,
        "translate_s": max(0.0, sample.get("translate_s", 0.0) - loads["system_load_s"] - inner.get("forcing_s", 0.0)),
        "comet_s": max(0.0, sample.get("comet_s", 0.0) - loads["comet_load_s"]),
        "metricx_qe_s": max(0.0, sample.get("metricx_qe_s", 0.0) - loads["metricx_load_s"]),
        "bleu_s": full.get("bleu_s", 0.0), "chrf_s": full.get("chrf_s", 0.0), "write_run_s": inner.get("write_run_s", 0.0),
    }
    timed_inside = sum(sample.values()) + inner.get("write_run_s", 0.0) + inner.get("bench_overhead_s", 0.0)
    if job.get("full_timings"):
        timed_inside += sum(job["full_timings"].values())
    measured["startup_s"] = max(0.0, job["process"]["wall_s"] - timed_inside)
    factor = scaling["factor"]
    extrapolated = scaling["sample_segments"] < scaling["segments"]
    row = {k: round(measured[k] * (factor if k in EXPENSIVE else 1.0), 2) for k in STAGES}
    row["total_s"] = round(sum(row.values()), 2)
    sampled = (f"measured on {scaling['sample_segments']} of {scaling['segments']} segments (spread evenly), "
               f"scaled linearly by source characters (x{factor})")
    method = {k: (sampled if k in EXPENSIVE and extrapolated else "measured at full size") for k in STAGES}
    return {"stages": row, "measured_s": {k: round(measured[k], 2) for k in STAGES},
            "extrapolated": {k: k in EXPENSIVE and extrapolated for k in STAGES}, "method": method}


def format_table(result: dict[str, Any]) -> str:
    """The bench as plain text: stages by run, both runs' sum, memory, precisions and the CPU."""
    runs = result["runs"]
    names = list(runs)
    lines = [f"make eval: {result['system']['description']}; {result['metrics_description']}",
             f"{'stage (wall s)':<16}" + "".join(f"{n:>14}" for n in names) + f"{'make eval':>14}"]
    for stage in (*STAGES, "total_s"):
        values = [runs[n]["stages"][stage] for n in names]
        mark = "*" if any(runs[n]["extrapolated"].get(stage) for n in names) else ""
        lines.append(f"{stage[:-2] + mark:<16}" + "".join(f"{v:>14.1f}" for v in values) + f"{sum(values):>14.1f}")
    lines.append(f"{'peak RSS MB':<16}" + "".join(f"{runs[n]['peak_rss_mb']:>14.0f}" for n in names))
    lines.append(f"{'segments':<16}" + "".join(f"{runs[n]['segments']:>14}" for n in names))
    lines.append(f"{'with references':<16}" + "".join(f"{runs[n]['with_references']:>14}" for n in names))
    lines.append(f"{'sample':<16}" + "".join(f"{runs[n]['scaling']['sample_segments']:>14}" for n in names))
    lines.append("* measured on the sample, scaled linearly by source characters to the whole run "
                 "(results/bench/eval.json: method per stage)")
    for name in names:
        if runs[name]["skipped_metrics"]:
            lines.append(f"{name}: skipped for want of references: {', '.join(runs[name]['skipped_metrics'])}")
    lines.append("precision: " + ", ".join(f"{k} {v}" for k, v in result["precision"].items()))
    m = result["machine"]
    lines.append(f"CPU: {m.get('cpu_model')} ({', '.join(m.get('isa', []))}), {m['cpu_cores']} cores; 1-min load "
                 f"{m['load_average_1m']['start']} at start, {m['load_average_1m']['end']} at end")
    return "\n".join(lines)
