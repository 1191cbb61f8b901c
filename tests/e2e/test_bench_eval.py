"""`make bench-eval` end to end on tiny models: both runs of `make eval` in their own processes, the JSON and the
table; and the HF forced-length system on the tiny Marian. No timing is asserted: speed is the bench's to report."""
from __future__ import annotations

import json

import pytest

from mteval.bench.eval_report import EXPENSIVE, STAGES
from mteval.bench.forced import StandIns
from mteval.bench.forced_hf import ForcedLengthHF
from mteval.commands import bench


@pytest.mark.slow
def test_every_batch_decodes_exactly_its_longest_forced_length(tiny_models, tmp_path):
    sources = ["Hello world. This is a test of two sentences.", "A short one.",
               "Another sentence, quite a bit longer than the others in this list of three."]
    (tmp_path / "lengths.json").write_text(json.dumps(dict(zip(sources, [9, 3, 14]))), encoding="utf-8")
    system = ForcedLengthHF(lengths=str(tmp_path / "lengths.json"), name="forced", model=str(tiny_models["marian"]),
                            target_token=">>cmn_Hans<<", num_beams=2, device="cpu", batch_size=2, parallel_batches=1)
    system.load()
    generated = []
    generate = system._model.generate

    def recording(**kwargs):
        out = generate(**kwargs)
        generated.append((kwargs["input_ids"].shape[0], kwargs["min_new_tokens"], out.shape[1] - 1))
        return out

    system._model.generate = recording
    out = system.translate(sources, src_lang="en", tgt_lang="zh")
    assert len(out.hyps) == 3
    # A segment's total is shared among its sentences; each batch runs to its longest sentence's share.
    assert sum(system._forced[p] for p in ("Hello world.", "This is a test of two sentences.")) == 9
    assert system._forced[sources[1]] == 3 and system._forced[sources[2]] == 14
    assert sum(rows for rows, _, _ in generated) == 4
    assert all(forced == decoded for _, forced, decoded in generated)  # min = max new tokens, every batch
    assert max(n for _, n, _ in generated) == 14
    # The random model's repeated tokens are replaced by distinct stand-ins, the same on every run.
    assert len(set(out.hyps)) == 3
    stand_ins = StandIns(system.tokenizer, [system.model_id, system.revision])
    assert out.hyps[1:] == [stand_ins(3, sources[1]), stand_ins(14, sources[2])]  # each its own forced length
    assert system.translate(sources, src_lang="en", tgt_lang="zh").hyps == out.hyps


@pytest.mark.slow
def test_bench_eval_times_both_runs_of_make_eval_and_writes_its_table(wmt22, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert bench.main(["eval", "--tiny", "--segments", "6", "--work-dir", str(tmp_path / "work"),
                       "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["runs"]) == {"abstracts", "wmt22_en_zh"} and result["tiny_models"]
    for name, run in result["runs"].items():
        assert set(run["stages"]) == {*STAGES, "total_s"} and run["peak_rss_mb"] > 0, name
        assert run["scaling"]["sample_segments"] == 6 and run["detail"]["sample_segments"] == 6
        assert {k for k, v in run["extrapolated"].items() if v} == set(EXPENSIVE)  # 6 of more than 6
        assert run["stages"]["metricx_qe_s"] > 0 and run["stages"]["translate_s"] > 0
    wmt22_run = result["runs"]["wmt22_en_zh"]
    assert wmt22_run["segments"] == wmt22_run["with_references"] == 2037 and not wmt22_run["skipped_metrics"]
    assert wmt22_run["stages"]["comet_s"] > 0 and wmt22_run["stages"]["bleu_s"] > 0
    assert set(wmt22_run["detail"]["scores"]) == {"bleu", "chrf", "comet", "metricx_qe"}
    # Offline with no arXiv originals cached, the abstracts have no reference: forced by the WMT22 ratio.
    abstracts = result["runs"]["abstracts"]
    if abstracts["with_references"] == 0:
        assert set(abstracts["skipped_metrics"]) == {"bleu", "chrf", "comet"}
        assert abstracts["forced_lengths"] == "source tokens x the WMT22 ratio"
    assert 0.3 < result["length_ratio"]["ratio"] < 5
    assert result["make_eval_total_s"] == round(sum(r["stages"]["total_s"] for r in result["runs"].values()), 2)
    assert result["precision"]["translation"] == "float32" and result["precision"]["comet"] == "32"  # as configured
    assert result["precision"]["metricx_qe"] in ("32", "bf16")  # auto: the CPU's
    table = capsys.readouterr().out
    assert "translate*" in table and "make eval" in table and "wmt22_en_zh" in table and "written:" in table
