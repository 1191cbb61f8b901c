"""The CI-job bench's pure parts: forced lengths and their batches, the stage record, targets, the fp32 path,
the table. The measurement itself is `make bench-gate`; its whole run on tiny models is tests/e2e/test_bench_gate.py."""
from __future__ import annotations

import pytest

from mteval.bench import gate_report
from mteval.bench.forced import length_batches, share_length, stand_in, usable_ids
from mteval.bench.gate_job import Stages


@pytest.mark.parametrize("total, weights, expected", [
    (10, [7], [10]),
    (10, [5, 5], [5, 5]),
    (10, [3, 1], [7, 3]),  # 1 each, then 8 shared 6 : 2
    (2, [4, 4, 4], [1, 1, 1]),  # every piece decodes at least one token
    (0, [3], [1]),
    (7, [0, 0], [4, 3]),  # no source tokens counted: shared evenly, the remainder to the first
    (5, [], []),
])
def test_a_reference_length_is_shared_among_a_segments_pieces(total, weights, expected):
    shares = share_length(total, weights)
    assert shares == expected
    assert sum(shares) == (max(total, len(weights)) if weights else 0)


def test_batches_hold_one_forced_length_each_bounded_as_the_systems_batches():
    lengths = [3, 5, 3, 5, 3, 9, 3]
    source_tokens = [10, 20, 30, 40, 50, 60, 70]
    plan = length_batches(lengths, source_tokens, batch_size=2, max_tokens=100)
    assert sorted(i for _, idx in plan for i in idx) == list(range(7))  # every sentence once
    assert all({lengths[i] for i in idx} == {n} for n, idx in plan)  # min = max decoding length fits all
    assert all(len(idx) <= 2 and len(idx) * max(source_tokens[i] for i in idx) <= 100 for _, idx in plan)
    assert [n for n, _ in plan] == sorted((n for n, _ in plan), reverse=True)  # longest first
    assert [idx for n, idx in plan if n == 3] == [[6], [4, 2], [0]]  # 70 alone (2 x 70 > 100), then by length


def test_stages_sum_every_timed_call():
    stages = Stages()
    calls = []
    timed = stages.timing("load", lambda x: calls.append(x) or x * 2)
    assert timed(3) == 6 and timed(4) == 8 and calls == [3, 4]
    stages.add("load", 1.5)
    with stages("write"):
        pass
    assert set(stages.seconds) == {"load", "write"} and 1.5 <= stages.seconds["load"] < 2.0


def job(wall=100.0, forcing=2.0):
    return {"stages": {"build": 1.0, "system_load": 5.0, "comet_load": 20.0, "forcing_overhead": forcing,
                       "write_run": 0.5},
            "pipeline_timings": {"translate_s": 40.0, "bleu_s": 1.0, "chrf_s": 2.0, "comet_s": 50.0},
            "process": {"wall_s": wall, "peak_rss_mb": 3000.0}}


def test_a_runs_stages_take_the_loads_out_and_leave_the_forcing_out():
    row = gate_report.stage_row(job(), {"wall_s": 3.0, "rc": 0})
    assert row == {"startup_s": 6.5, "model_load_s": 25.0, "translate_s": 33.0, "bleu_s": 1.0, "chrf_s": 2.0,
                   "comet_s": 30.0, "write_run_s": 0.5, "gate_s": 3.0, "total_s": 101.0}
    assert row["total_s"] == 100.0 - 2.0 + 3.0  # the run's wall, less the bench's bookkeeping, plus the gate
    cached = {"stages": {"write_run": 0.1}, "pipeline_timings": {"translate_s": 0.01, "bleu_s": 0.01},
              "process": {"wall_s": 4.0}}
    assert gate_report.stage_row(cached, None)["model_load_s"] == 0.0


def test_targets_are_met_or_not_and_say_whether_the_size_was_full():
    rows = {"first": {"total_s": 599.0}, "second": {"total_s": 301.0}, "cached": {"total_s": 12.0}}
    full = gate_report.targets(rows, 2037, "bf16-mixed")
    assert {k: v["met"] for k, v in full.items()} == {"first": True, "second": False, "cached": True}
    assert {k: v["limit_s"] for k, v in full.items()} == {"first": 600.0, "second": 300.0, "cached": 60.0}
    assert full["first"]["at_full_size"] and full["first"]["comet_precision"] == "bf16-mixed"
    assert not gate_report.targets(rows, 100, "32")["cached"]["at_full_size"]


def test_the_fp32_path_replaces_the_comet_stage_scaled_by_segments():
    first = {"total_s": 300.0, "comet_s": 100.0}
    out = gate_report.fp32_path(first, fp32_comet_s=30.0, fp32_load_s=12.0, bf16_load_s=10.0,
                                measured_segments=100, segments=1000)
    assert out["comet_s"] == 300.0 and out["total_s"] == 300.0 - 100.0 + 300.0 + 2.0
    assert out["extrapolated"] and "scaled linearly" in out["method"]
    assert not gate_report.fp32_path(first, 30.0, 0.0, 0.0, 1000, 1000)["extrapolated"]


def test_the_table_names_every_stage_run_and_target():
    stages = dict.fromkeys((*gate_report.STAGES, "total_s"), 1.0)
    result = {"segments": 50, "full_size": False, "system": {"description": "sys"}, "comet": {"description": "comet"},
              "runs": {n: {"stages": stages, "peak_rss_mb": 900.0, "gate_exit": 0} for n in ("first", "second", "cached")},
              "targets": gate_report.targets({n: {"total_s": 1.0} for n in ("first", "second", "cached")}, 50, "32"),
              "fp32_path": gate_report.fp32_path({"total_s": 8.0, "comet_s": 1.0}, 2.0, 0.0, 0.0, 10, 50),
              "precision": {"ct2_compute_type": "int8", "comet_precision": "bf16-mixed"},
              "machine": {"cpu_model": "X", "isa": ["avx2"], "cpu_cores": 2, "load_average_1m": {"start": 1, "end": 2}}}
    table = gate_report.format_table(result)
    assert "REDUCED size" in table and "target second: 1.0 s <= 300 s: met (at reduced size)" in table
    assert all(f"\n{s[:-2]:<16}" in table for s in gate_report.STAGES)
    assert "fp32-only path: 17.0 s (COMET fp32 10.0 s, extrapolated from 10 segments)" in table
    assert "CTranslate2 int8, COMET bf16-mixed" in table


class _PieceTokenizer:
    """The parts of a Marian tokenizer the stand-ins use: specials, target-language tokens, pieces, fillers."""

    tokens = ["</s>", "<unk>", ">>cmn_Hans<<", "▁的", "模型", "▁data", "翻译", "▁<0>", "▁<1>", "<pad>"]
    all_special_ids = [0, 1, 9]

    def __len__(self) -> int:
        return len(self.tokens)

    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(self.tokens[i] for i in ids).replace("▁", " ")


def test_stand_ins_draw_real_pieces_only_and_are_distinct_per_model_and_source():
    tok = _PieceTokenizer()
    usable = usable_ids(tok)
    assert usable == [3, 4, 5, 6]  # no special token, no >>xx<<, no filler
    a = stand_in(tok, usable, 12, "model-a:src 1")
    assert a == stand_in(tok, usable, 12, "model-a:src 1")  # the same model writes the same text every run
    others = {stand_in(tok, usable, 12, f"{m}:src {i}") for m in ("model-a", "model-b") for i in range(20)}
    assert len(others) == 40  # a random model's repeated token would give one text per length
    assert all("<" not in s and "cmn" not in s for s in others)
