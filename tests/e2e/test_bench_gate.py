"""`make bench-gate` end to end on tiny models: three runs in their own processes, the gate after each, the JSON;
and the forced-length system on the tiny Marian. No timing is asserted: speed is the bench's to report."""
from __future__ import annotations

import json

import pytest

from mteval.bench import gate
from mteval.bench.forced import ForcedLengthCT2
from mteval.bench.gate_report import STAGES


def test_every_output_is_as_long_as_its_reference_in_target_tokens(tiny_models, tmp_path):
    sources = ["Hello world. This is a test of two sentences.", "A short one.",
               "Another sentence, quite a bit longer than the others in this list of three."]
    refs = ["你好世界。这是两个句子的测试。", "短的。", "另一个句子比列表中的其他句子长得多得多得多。"]
    (tmp_path / "refs.json").write_text(json.dumps(dict(zip(sources, refs)), ensure_ascii=False), encoding="utf-8")
    system = ForcedLengthCT2(references=str(tmp_path / "refs.json"), name="forced", model=str(tiny_models["marian"]),
                             target_token=">>cmn_Hans<<", num_beams=4, device="cpu", batch_size=2,
                             converted_dir=str(tmp_path / "ct2"))
    out = system.translate(sources, src_lang="en", tgt_lang="zh")
    assert len(out.hyps) == 3 and out.sentence_pairs[0] is not None  # the first source: two sentences
    wanted = system.target_tokens(refs)
    # Each sentence piece decodes exactly its forced length (the decoder's own token count) ...
    tok = system.tokenizer
    decoded = {piece: len(system._translator.translate_batch(
        [tok.convert_ids_to_tokens(tok(f">>cmn_Hans<< {piece}")["input_ids"])], beam_size=4,
        min_decoding_length=n, max_decoding_length=n)[0].hypotheses[0]) for piece, n in system._forced.items()}
    assert decoded == system._forced
    # ... and a segment's pieces add up to its reference's length.
    assert sum(system._forced[p] for p in ("Hello world.", "This is a test of two sentences.")) == wanted[0]
    assert [system._forced[sources[1]], system._forced[sources[2]]] == wanted[1:]


@pytest.mark.slow
def test_bench_gate_runs_the_ci_job_three_ways_and_writes_its_table(wmt22, tmp_path, capsys):
    out = tmp_path / "gate.json"
    assert gate.main(["--tiny", "--segments", "12", "--fp32-segments", "6", "--work-dir", str(tmp_path / "work"),
                      "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["segments"] == 12 and not result["full_size"] and result["tiny_models"]
    assert set(result["runs"]) == {"first", "second", "cached"}
    for name, run in result["runs"].items():
        assert set(run["stages"]) == {*STAGES, "total_s"} and run["peak_rss_mb"] > 0, name
        assert run["detail"]["segments"] == 12
    assert result["runs"]["first"]["gate_exit"] == 0  # the first run against its own baseline passes
    assert {r["gate_exit"] for r in result["runs"].values()} <= {0, 1}
    # The second run's checkpoint gives other hypotheses; the third answers everything from the cache.
    assert result["hypotheses_changed"]["second_vs_first"] > 0 and result["hypotheses_changed"]["cached_vs_second"] == 0
    cached = result["runs"]["cached"]
    assert cached["stages"]["model_load_s"] == 0.0 and cached["detail"]["cache_rows"]["translation"] == 24
    assert cached["detail"]["scores"] == result["runs"]["second"]["detail"]["scores"]
    assert result["precision"]["ct2_compute_type"] == "int8"
    assert result["precision"]["comet_precision"] in ("32", "bf16-mixed")
    assert result["fp32_path"]["extrapolated"] and result["fp32_path"]["run"]["precision"]["comet_precision"] == "32"
    assert {k: set(v) >= {"limit_s", "measured_s", "met"} for k, v in result["targets"].items()} == \
        dict.fromkeys(("first", "second", "cached"), True)
    assert result["machine"]["cpu_cores"] >= 1 and "cpu_model" in result["machine"]
    table = capsys.readouterr().out
    assert "12 segments (REDUCED size" in table and "target cached:" in table
