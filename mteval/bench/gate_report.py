"""The CI-job bench's numbers: a run's stages from what its process measured, the targets, the fp32 path, the table."""
from __future__ import annotations

from typing import Any

#: Issue 21's targets, in seconds, on 2 cores of the bench CPU at WMT22 en-zh's full size (2,037 segments).
TARGETS_S = {"first": 600.0, "second": 300.0, "cached": 60.0}
FULL_SEGMENTS = 2037
#: The stages of a run, in the order the job meets them (the table's rows).
STAGES = ("startup_s", "model_load_s", "translate_s", "bleu_s", "chrf_s", "comet_s", "write_run_s", "gate_s")


def stage_row(job: dict[str, Any], gate: dict[str, Any] | None) -> dict[str, float]:
    """Wall seconds per stage of one run (its process, then ``mteval-gate``'s).

    ``startup_s`` is the rest of the run process's wall time: interpreter and imports, building the
    system and metrics, opening the cache, the preflight. Model loads are taken out of the stage that
    triggered them; the bench's own forced-length bookkeeping (no part of a real run) is left out of
    every stage and of the total.
    """
    inner, timings = job["stages"], job["pipeline_timings"]
    system_load = inner.get("system_load", 0.0)
    comet_load = inner.get("comet_load", 0.0)
    forcing = inner.get("forcing_overhead", 0.0)
    row = {
        "model_load_s": system_load + comet_load,
        "translate_s": max(0.0, timings.get("translate_s", 0.0) - system_load - forcing),
        "bleu_s": timings.get("bleu_s", 0.0),
        "chrf_s": timings.get("chrf_s", 0.0),
        "comet_s": max(0.0, timings.get("comet_s", 0.0) - comet_load),
        "write_run_s": inner.get("write_run", 0.0),
        "gate_s": gate["wall_s"] if gate else 0.0,
    }
    row["startup_s"] = max(0.0, job["process"]["wall_s"] - sum(timings.values()) - row["write_run_s"])
    row = {key: round(row[key], 2) for key in STAGES}
    row["total_s"] = round(sum(row.values()), 2)
    return row


def fp32_path(first: dict[str, float], fp32_comet_s: float, fp32_load_s: float, bf16_load_s: float,
              measured_segments: int, segments: int) -> dict[str, Any]:
    """The first run on a CPU without bf16: the measured first run with its COMET stage replaced by the fp32
    one, measured on ``measured_segments`` and scaled linearly (by segments) to ``segments``."""
    comet = fp32_comet_s * segments / measured_segments
    total = first["total_s"] - first["comet_s"] + comet - bf16_load_s + fp32_load_s
    return {"total_s": round(total, 2), "comet_s": round(comet, 2), "comet_measured_s": round(fp32_comet_s, 2),
            "measured_segments": measured_segments, "segments": segments,
            "extrapolated": measured_segments != segments,
            "method": "the first run's total with its COMET stage replaced by fp32 COMET measured on the first "
                      f"{measured_segments} segments (empty cache), scaled linearly by segments to {segments}; "
                      "every other stage is the same job's"}


def targets(rows: dict[str, dict[str, float]], segments: int, comet_precision: str) -> dict[str, Any]:
    """Each target with the measured total and whether it is met (at full size only the target's own terms)."""
    out = {}
    for run, limit in TARGETS_S.items():
        seconds = rows[run]["total_s"]
        out[run] = {"limit_s": limit, "measured_s": seconds, "met": seconds <= limit,
                    "at_full_size": segments == FULL_SEGMENTS}
    out["first"]["comet_precision"] = comet_precision
    return out


def format_table(result: dict[str, Any]) -> str:
    """The bench as plain text: stages by run, the targets, memory, precision and the CPU."""
    runs = result["runs"]
    names = list(runs)
    lines = [f"CI job (make gate): WMT22 en-zh, {result['segments']} segments"
             f"{'' if result['full_size'] else ' (REDUCED size: the targets apply at 2,037)'}; "
             f"{result['system']['description']}; {result['comet']['description']}",
             f"{'stage (wall s)':<16}" + "".join(f"{n:>12}" for n in names)]
    for stage in (*STAGES, "total_s"):
        lines.append(f"{stage[:-2]:<16}" + "".join(f"{runs[n]['stages'][stage]:>12.2f}" for n in names))
    lines.append(f"{'peak RSS MB':<16}" + "".join(f"{runs[n]['peak_rss_mb']:>12.0f}" for n in names))
    lines.append(f"{'gate exit':<16}" + "".join(f"{runs[n]['gate_exit']:>12}" for n in names))
    for run, target in result["targets"].items():
        state = "met" if target["met"] else "NOT MET"
        lines.append(f"target {run}: {target['measured_s']:.1f} s <= {target['limit_s']:.0f} s: {state}"
                     f"{'' if target['at_full_size'] else ' (at reduced size)'}")
    fp32 = result.get("fp32_path")
    if fp32:
        how = f"extrapolated from {fp32['measured_segments']} segments" if fp32["extrapolated"] else "measured"
        lines.append(f"first run on the fp32-only path: {fp32['total_s']:.1f} s (COMET fp32 {fp32['comet_s']:.1f} s, "
                     f"{how})")
    lines.append(f"precision: CTranslate2 {result['precision']['ct2_compute_type']}, COMET "
                 f"{result['precision']['comet_precision']}")
    m = result["machine"]
    lines.append(f"CPU: {m.get('cpu_model')} ({', '.join(m.get('isa', []))}), {m['cpu_cores']} cores; 1-min load "
                 f"{m['load_average_1m']['start']} at start, {m['load_average_1m']['end']} at end")
    return "\n".join(lines)
