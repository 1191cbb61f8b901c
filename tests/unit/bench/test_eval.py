"""`make bench-eval`'s pure parts: the sample, its scaling, the stage record, forced lengths, the table.
The measurement itself is `make bench-eval`; its whole run on tiny models is tests/e2e/test_bench_eval.py."""
from __future__ import annotations

import pytest

from mteval.bench import eval_report
from mteval.bench.forced_hf import batch_length, forced_totals


@pytest.mark.parametrize("total, n", [(2037, 64), (2037, 16), (25, 16), (10, 3), (7, 7), (5, 64)])
def test_the_sample_spreads_evenly_through_the_run_and_covers_a_short_one(total, n):
    idx = eval_report.sample_indices(total, n)
    assert len(idx) == min(total, n) and idx == sorted(set(idx)) and 0 <= idx[0] and idx[-1] < total
    if n < total:  # not the first n: from the first stretch of the run to its last
        assert idx[0] < total / n and idx[-1] >= total - total / n


def test_the_scale_is_source_characters_of_the_run_over_the_samples():
    sources = ["a" * 10, "b" * 30, "c" * 20, "d" * 40]
    s = eval_report.scale(sources, [1, 3])
    assert s["factor"] == round(100 / 70, 4) and s["by_segments"] == 2.0
    assert (s["segments"], s["sample_segments"], s["source_chars"], s["sample_source_chars"]) == (4, 2, 100, 70)
    assert eval_report.scale(sources, [0, 1, 2, 3])["factor"] == 1.0


def job(full=True):
    return {"stages": {"system_load_s": 4.0, "comet_load_s": 10.0, "metricx_load_s": 20.0, "forcing_s": 1.0,
                       "write_run_s": 0.5, "bench_overhead_s": 2.0},
            "sample_timings": {"translate_s": 15.0, "comet_s": 30.0, "metricx_qe_s": 50.0, "bleu_s": 0.1, "chrf_s": 0.1},
            "full_timings": {"translate_s": 0.2, "bleu_s": 1.0, "chrf_s": 2.0} if full else None,
            "process": {"wall_s": 150.0}}


def test_expensive_stages_are_scaled_loads_and_cheap_stages_are_not():
    scaling = {"factor": 10.0, "segments": 100, "sample_segments": 10}
    rows = eval_report.stage_rows(job(), scaling)
    assert rows["measured_s"]["translate_s"] == 10.0  # less the load and the bench's forcing
    # startup: the wall (150) less what was timed inside (95.2 + 3.2), the writing (0.5) and the bench's own (2.0)
    assert rows["stages"] == {"startup_s": 49.1, "system_load_s": 4.0, "comet_load_s": 10.0,
                              "metricx_load_s": 20.0, "translate_s": 100.0, "bleu_s": 1.0, "chrf_s": 2.0,
                              "comet_s": 200.0, "metricx_qe_s": 300.0, "write_run_s": 0.5,
                              "total_s": rows["stages"]["total_s"]}
    assert rows["stages"]["total_s"] == round(sum(v for k, v in rows["stages"].items() if k != "total_s"), 2)
    assert {k for k, v in rows["extrapolated"].items() if v} == set(eval_report.EXPENSIVE)
    assert "scaled linearly by source characters (x10.0)" in rows["method"]["comet_s"]
    assert rows["method"]["bleu_s"] == "measured at full size"


def test_a_sample_that_is_the_whole_run_is_measured_not_extrapolated():
    rows = eval_report.stage_rows(job(full=False), {"factor": 1.0, "segments": 10, "sample_segments": 10})
    assert not any(rows["extrapolated"].values()) and rows["stages"]["bleu_s"] == 0.1
    assert rows["stages"]["comet_s"] == 20.0 and set(rows["method"].values()) == {"measured at full size"}


def test_forced_lengths_are_the_references_else_the_source_times_the_ratio():
    assert forced_totals([12, None, 3, None], [10, 10, 50, 0], 1.46) == [12, 15, 3, 1]  # at least one token
    with pytest.raises(ValueError):
        forced_totals([1], [1, 2], 1.0)


def test_a_batch_decodes_its_longest_sentences_length_capped_at_max_new_tokens():
    forced = {"a": 5, "b": 9, "c": 300}
    assert batch_length(forced, ["a", "b"], 256) == 9
    assert batch_length(forced, ["a", "c"], 256) == 256


def test_the_table_shows_both_runs_their_sum_and_what_was_scaled():
    rows = eval_report.stage_rows(job(), {"factor": 10.0, "segments": 100, "sample_segments": 10})
    run = {**rows, "peak_rss_mb": 9000.0, "segments": 100, "with_references": 0, "skipped_metrics": ["bleu"],
           "scaling": {"sample_segments": 10}}
    result = {"system": {"description": "sys"}, "metrics_description": "m", "runs": {"abstracts": run, "wmt22": run},
              "precision": {"translation": "float32", "comet": "32"},
              "machine": {"cpu_model": "X", "isa": ["avx2"], "cpu_cores": 2, "load_average_1m": {"start": 1, "end": 2}}}
    table = eval_report.format_table(result)
    assert "translate*" in table and "\nbleu " in table and "make eval" in table
    assert f"{rows['stages']['total_s'] * 2:>14.1f}" in table.splitlines()[2 + len(eval_report.STAGES)]
    assert "abstracts: skipped for want of references: bleu" in table and "translation float32, comet 32" in table
