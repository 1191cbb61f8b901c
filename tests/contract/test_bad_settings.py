"""Every bad setting we know of, through the real ``mteval`` entry point: exit 2 and one line naming
the setting, before any model loads (the model paths here do not exist, so a model that loaded
first would fail with a different message). The table "Settings, checked before any work" in docs/errors.md is this list."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import pytest

from mteval.validate import SettingError

SRC = "Hello world.\nThe model translates abstracts.\n"
REF = "你好，世界。\n模型翻译摘要。\n"
NO_MODEL = "/nonexistent/model"


@dataclass
class Case:
    id: str
    overrides: list[str]
    expect: str  # a regex the one stderr line must match


FILES = ["dataset=files", "dataset.load.src={d}/src.en", "dataset.load.refs=[{d}/ref.zh]"]
COPY = [*FILES, "system=copy"]
OPUS = [*FILES, "system=opus_mt_en_zh", f"system.model={NO_MODEL}", "metrics=[bleu]"]
CT2 = [*FILES, "system=opus_mt_en_zh_ct2", f"system.model={NO_MODEL}", "metrics=[bleu]"]
CHAT = [*FILES, "system=qwen2_5_1_5b", f"system.model={NO_MODEL}", "metrics=[bleu]"]
VLLM = [*FILES, "system=qwen2_5_1_5b_vllm", f"system.model={NO_MODEL}", "metrics=[bleu]"]
COMET = [*COPY, "metrics=[comet]", f"metrics.comet.model={NO_MODEL}"]

CASES = [
    # Hydra's own failures: one line with the valid choices.
    Case("unknown-system", [*FILES, "system=nope"],
         r"system=nope: no such option in system; valid choices: copy, file, .*opus_mt_en_zh"),
    Case("unknown-metric-in-list", [*COPY, "metrics=[bleu,nope]"],
         r"metrics=nope: no such option in metrics; valid choices: bleu, chrf, .*ter"),
    Case("unknown-dataset", ["dataset=nope"], r"dataset=nope: no such option in dataset; valid choices: .*files"),
    Case("unknown-launcher", [*COPY, "hydra/launcher=nope"], r"hydra/launcher=nope: .*valid choices: .*local_joblib"),
    Case("missing-mandatory", ["dataset=files", "system=copy", "metrics=[bleu]"],
         r"dataset\.load\.src: required but not set \(\?\?\?\); give it on the command line"),
    Case("unknown-key", [*COPY, "metrics=[bleu]", "batchsize=3"],
         r"Could not override 'batchsize'\. To append to your config use \+batchsize=3"),
    Case("bad-override-syntax", [*COPY, "metrics=[bleu"], r"metrics=\[bleu|mismatched input|no viable alternative"),
    Case("unknown-setting", [*COPY, "metrics=[bleu]", "+metrics.bleu.smooth=exp"],
         r"metrics\.bleu\.smooth: not a setting of mteval\.metrics\.sacre\.BLEU; its settings are tokenize, lowercase"),
    Case("removed-required-setting", [*COPY, "metrics=[bleu]", "~dataset.load.direction"],
         r"dataset\.load\.direction: required by mteval\.data\.plaintext\.load_files but not set"),
    Case("direction-one-language", [*COPY, "metrics=[bleu]", "dataset.direction=zh"],
         r"dataset\.direction='zh' is not a direction: use two language codes, e\.g\. en-zh"),
    Case("empty-metrics", [*COPY, "metrics=[]"], r"metrics: the list is empty; choose one or more of bleu, .*'metrics=\[bleu,chrf\]'"),
    # Top-level settings.
    Case("chunk-size-0", [*COPY, "metrics=[bleu]", "translate_chunk_size=0"], r"translate_chunk_size=0 is out of range"),
    Case("embeddings-cap-negative", [*COPY, "metrics=[bleu]", "cache_embeddings_mb=-1"],
         r"cache_embeddings_mb=-1 is out of range: use a number >= 0"),
    Case("device-gpu", [*COPY, "metrics=[bleu]", "device=gpu"], r"device='gpu' is not a device: use auto, cpu, cuda"),
    Case("seed-text", [*COPY, "metrics=[bleu]", "seed=abc"], r"seed='abc' is not a whole number"),
    Case("log-level", [*COPY, "metrics=[bleu]", "log_level=LOUD"], r"log_level='LOUD' is not a valid choice: use one of DEBUG"),
    # Dataset settings.
    Case("limit-text", [*COPY, "metrics=[bleu]", "dataset.load.limit=abc"],
         r"dataset\.load\.limit='abc' is not a whole number: use an integer >= 1, or null"),
    Case("limit-0", [*COPY, "metrics=[bleu]", "dataset.load.limit=0"], r"dataset\.load\.limit=0 is out of range"),
    Case("limit-float", [*COPY, "metrics=[bleu]", "dataset.load.limit=2.5"], r"dataset\.load\.limit=2\.5 is not a whole"),
    Case("refs-not-a-list", ["dataset=files", "dataset.load.src={d}/src.en", "dataset.load.refs={d}/ref.zh", "system=copy",
                             "metrics=[bleu]"],
         r"dataset\.load\.refs='.*ref\.zh' must be a list of files, e\.g\. 'dataset\.load\.refs=\[ref\.zh\]'"),
    Case("abstracts-min-pair-score", ["dataset=abstracts", "system=copy", "metrics=[bleu]", "dataset.load.min_pair_score=1.5"],
         r"dataset\.load\.min_pair_score=1\.5 is out of range: use a number above 0 and below 1"),
    Case("abstracts-find-pairs", ["dataset=abstracts", "system=copy", "metrics=[bleu]", "dataset.load.find_pairs=sometimes"],
         r"dataset\.load\.find_pairs='sometimes' is not a boolean"),
    # System settings (HF seq2seq, CTranslate2, chat, vLLM).
    Case("batch-size-0", [*OPUS, "system.batch_size=0"], r"system\.batch_size=0 is out of range: use an integer >= 1"),
    Case("batch-size-text", [*OPUS, "system.batch_size=big"], r"system\.batch_size='big' is not a whole number"),
    Case("batch-size-bool", [*OPUS, "system.batch_size=true"], r"system\.batch_size=True is not a whole number"),
    Case("num-beams-0", [*OPUS, "system.num_beams=0"], r"system\.num_beams=0 is out of range"),
    Case("max-new-tokens-neg", [*OPUS, "system.max_new_tokens=-5"], r"system\.max_new_tokens=-5 is out of range"),
    Case("max-tokens-0", [*OPUS, "system.max_tokens=0"], r"system\.max_tokens=0 is out of range: use an integer >= 1, or null"),
    Case("max-input-tokens-0", [*OPUS, "system.max_input_tokens=0"], r"system\.max_input_tokens=0 is out of range"),
    Case("split-sentences-text", [*OPUS, "system.split_sentences=maybe"], r"system\.split_sentences='maybe' is not a boolean"),
    Case("dtype", [*OPUS, "system.dtype=fp8"], r"system\.dtype='fp8' is not a valid choice: use one of auto, float32"),
    Case("device", [*OPUS, "system.device=tpu"], r"system\.device='tpu' is not a device"),
    Case("device-from-top", [*OPUS, "device=cuda0"], r"device='cuda0' is not a device"),
    Case("parallel-batches-neg", [*OPUS, "system.parallel_batches=-1"], r"system\.parallel_batches=-1 is out of range"),
    Case("ct2-compute-type", [*CT2, "system.compute_type=int4"],
         r"system\.compute_type='int4' is not a valid choice: use one of auto, default, int8"),
    Case("ct2-intra-threads", [*CT2, "system.intra_threads=-2"], r"system\.intra_threads=-2 is out of range"),
    Case("chat-max-new-tokens", [*CHAT, "system.max_new_tokens=0"], r"system\.max_new_tokens=0 is out of range"),
    Case("vllm-gpu-memory", [*VLLM, "system.gpu_memory_utilization=1.5"],
         r"system\.gpu_memory_utilization=1\.5 is out of range: use a number above 0 and at most 1"),
    Case("vllm-tp-0", [*VLLM, "system.tensor_parallel_size=0"], r"system\.tensor_parallel_size=0 is out of range"),
    # Metric settings.
    Case("bleu-tokenize", [*COPY, "metrics=[bleu]", "metrics.bleu.tokenize=zh2"],
         r"metrics\.bleu\.tokenize='zh2' is not a valid choice: use one of auto, none, zh, 13a"),
    Case("zh-punct", [*COPY, "metrics=[bleu]", "dataset.zh_punct=fullwidth"],
         r"metrics\.bleu\.zh_punct='fullwidth' is not a valid choice: use one of none, halfwidth "
         r"\(set through \$\{dataset\.zh_punct\}\)"),
    Case("bleu-lowercase", [*COPY, "metrics=[bleu]", "metrics.bleu.lowercase=yes"],
         r"metrics\.bleu\.lowercase='yes' is not a boolean"),
    Case("chrf-char-order", [*COPY, "metrics=[chrf]", "metrics.chrf.char_order=0"],
         r"metrics\.chrf\.char_order=0 is out of range"),
    Case("ter-max-words", [*COPY, "metrics=[ter]", "metrics.ter.max_words=0"], r"metrics\.ter\.max_words=0 is out of range"),
    Case("comet-batch-size", [*COMET, "metrics.comet.batch_size=0"], r"metrics\.comet\.batch_size=0 is out of range"),
    Case("comet-device", [*COMET, "metrics.comet.device=gpu"], r"metrics\.comet\.device='gpu' is not a device"),
    Case("comet-multi-ref", [*COMET, "metrics.comet.multi_ref=max"], r"metrics\.comet\.multi_ref='max' is not a valid choice"),
    Case("comet-max-segments", [*COMET, "metrics.comet.max_segments=1"], r"metrics\.comet\.max_segments=1 is out of range"),
    Case("comet-cpu-threads", [*COMET, "metrics.comet.cpu_threads=0"], r"metrics\.comet\.cpu_threads=0 is out of range"),
    Case("comet-fp16-on-cpu", [*COMET, "metrics.comet.device=cpu", "metrics.comet.precision=16"],
         r"metrics\.comet\.precision=16-mixed needs a GPU; on CPU use bf16"),
]


def run_main(overrides: list[str], tmp_path, monkeypatch, capsys) -> tuple[int, str]:
    """Run ``mteval`` in this process (as the console script would) and return (exit status, stderr)."""
    from mteval.commands.main import main

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    args = [o.format(d=tmp_path) for o in overrides]
    args += ["cache=null", f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"]
    monkeypatch.setattr(sys, "argv", ["mteval", *args])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")  # main sets it; keep it from leaking into other tests
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_setting_is_one_line_and_exit_2(case, tmp_path, monkeypatch, capsys):
    code, err = run_main(case.overrides, tmp_path, monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("mteval: error: "), err
    assert re.search(case.expect, lines[0]), lines[0]
    assert NO_MODEL not in lines[0]  # refused on the setting, not after trying to load the model


def test_every_case_has_a_unique_id():
    assert len({c.id for c in CASES}) == len(CASES)


def test_good_settings_still_run(tmp_path, monkeypatch, capsys):
    """The checks refuse only what is wrong: the shipped defaults (with copy) run to the end."""
    from mteval.commands.main import main

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["mteval", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
                                      f"dataset.load.refs=[{tmp_path / 'ref.zh'}]", "system=copy",
                                      "metrics=[bleu,chrf,ter]", "cache=null", f"hydra.run.dir={tmp_path / 'run'}",
                                      f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    main()
    assert (tmp_path / "run" / "scores.json").is_file()


@pytest.mark.parametrize(("value", "kw", "message"), [
    (True, {"minimum": 1}, "not a whole number"),
    (1.0, {"minimum": 1}, "not a whole number"),
    (0, {"minimum": 1}, "out of range: use an integer >= 1"),
    (11, {"minimum": 1, "maximum": 10}, "out of range: use an integer from 1 to 10"),
])
def test_integer_refuses_bools_floats_and_out_of_range(value, kw, message):
    from mteval import validate

    with pytest.raises(SettingError, match=message):
        validate.integer("n", value, **kw)


def test_number_refuses_nan_and_choice_refuses_true_for_1():
    from mteval import validate

    with pytest.raises(SettingError, match="not a finite number"):
        validate.number("x", float("nan"), minimum=0)
    with pytest.raises(SettingError, match="not a valid choice"):
        validate.choice("gpus", True, ("auto", 0, 1))
    assert validate.choice("gpus", 1, ("auto", 0, 1)) == 1


def test_sweep_with_a_bad_job_runs_the_others_and_exits_2(tmp_path, monkeypatch, capsys):
    """Job 1 (limit=0) fails; jobs 0 and 2 finish; the failure is listed at the end with exit 2."""
    from mteval.commands.main import main

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    sweep = tmp_path / "sweep"
    monkeypatch.setattr(sys, "argv", ["mteval", "-m", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
                                      f"dataset.load.refs=[{tmp_path / 'ref.zh'}]", "system=copy", "metrics=[bleu]",
                                      "dataset.load.limit=1,0,2", "cache=null", f"hydra.sweep.dir={sweep}",
                                      f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert sorted(p.parent.name for p in sweep.glob("*/scores.json")) == ["0_copy", "2_copy"]
    failed = [line for line in err.splitlines() if line.startswith("mteval: error: ")]
    assert len(failed) == 1, err
    assert re.fullmatch(r"mteval: error: 1 of 3 sweep jobs failed: dataset\.load\.limit=0 is out of range.*; "
                        r"job #1 dataset\.load\.limit=0 \(.*1_copy\)", failed[0]), failed[0]


def test_a_sweep_whose_jobs_all_fail_alike_says_so_once(tmp_path, monkeypatch, capsys):
    """Three jobs, one cause: one closing line with the count, and the cause logged in full once, not per job."""
    from mteval.commands.main import main

    monkeypatch.setattr(sys, "argv", ["mteval", "-m", "dataset=files", f"dataset.load.src={tmp_path / 'missing.en'}",
                                      "system=copy", "metrics=[bleu]", "dataset.load.limit=1,2,3", "cache=null",
                                      f"hydra.sweep.dir={tmp_path / 'sweep'}", f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    closing = [line for line in err.splitlines() if line.startswith("mteval: error: ")]
    assert closing == [f"mteval: error: 3 of 3 sweep jobs failed: {tmp_path / 'missing.en'}: file not found; "
                       f"jobs #0, #1, #2 (each left mteval-error.json in its directory)"], err
    # The cause in full twice: the first job's log line and the closing line; the other jobs point at job 0.
    assert (out + err).count("file not found") == 2, out + err
    assert (out + err).count("the same cause as job 0") == 2, out + err


def test_sweep_rerun_in_the_same_dir_forgets_old_failures(tmp_path, monkeypatch, capsys):
    """A job that failed in an earlier sweep and now works is not reported again."""
    from mteval.commands.main import main

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    base = ["mteval", "-m", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
            f"dataset.load.refs=[{tmp_path / 'ref.zh'}]", "system=copy",
            "metrics=[bleu]", "cache=null", f"hydra.sweep.dir={tmp_path / 'sweep'}", f"leaderboard={tmp_path / 'lb.csv'}"]
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    monkeypatch.setattr(sys, "argv", [*base, "dataset.load.limit=0"])
    with pytest.raises(SystemExit):
        main()
    assert "1 of 1 sweep jobs failed" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", [*base, "dataset.load.limit=1"])
    main()  # no SystemExit: the sweep passed
    assert "failed" not in capsys.readouterr().err


def test_run_dirs_are_unique_per_run_and_stable_within_one(compose):
    """Two runs composed in the same second get different run and sweep dirs; one run resolves its own
    dir to the same value every time (Hydra resolves it more than once)."""
    first, second = compose("system=copy"), compose("system=copy")
    assert first.hydra.run.dir == first.hydra.run.dir
    assert first.hydra.run.dir != second.hydra.run.dir
    assert first.hydra.sweep.dir != second.hydra.sweep.dir


@pytest.mark.slow
def test_two_runs_started_together_write_separate_dirs(tmp_path):
    """Two real runs started at the same moment each get their own directory with their own files."""
    import json
    import subprocess

    from tests.helpers import MTEVAL, ROOT

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    procs = [subprocess.Popen([MTEVAL, "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
                               f"dataset.load.refs=[{tmp_path / 'ref.zh'}]", "system=copy", f"system.name=copy{i}",
                               "metrics=[bleu]", "cache=null", f"results_dir={tmp_path / 'results'}"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in (0, 0)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    runs = sorted((tmp_path / "results" / "runs").glob("*/*"))
    assert len(runs) == 2
    for run in runs:
        assert json.loads((run / "scores.json").read_text())["system"] == "copy0"
        assert len((run / "hypotheses.txt").read_text().splitlines()) == 2


JSONL_CASES = [
    ("jsonl-blank-ref", {"data.jsonl": '{"id": "a", "src": "Hello.", "ref": "你好。"}\n{"id": "b", "src": "Bye.", "ref": "  "}\n'},
     [], r"data\.jsonl:2: field 'ref' is empty; give the reference, or leave the field out \(or null\)"),
    ("jsonl-empty-ref", {"data.jsonl": '{"id": "a", "src": "Hello.", "ref": ""}\n'}, [], r"data\.jsonl:1: field 'ref' is empty"),
    ("jsonl-blank-second-ref", {"data.jsonl": '{"src": "Hello.", "r1": "你好。", "r2": "\\t"}\n'},
     ["dataset.load.ref_fields=[r1,r2]"], r"data\.jsonl:1: field 'r2' is empty"),
    ("jsonl-ref-fields-typo", {"data.jsonl": '{"id": "a", "src": "Hello.", "ref": "你好。"}\n'},
     ["dataset.load.ref_fields=[reference]"],
     r"dataset\.load\.ref_fields=\['reference'\] names 'reference', which no row of .*data\.jsonl has "
     r"\(its fields: id, ref, src\)"),
    ("jsonl-ref-fields-not-list", {"data.jsonl": '{"id": "a", "src": "Hello.", "ref": "你好。"}\n'},
     ["dataset.load.ref_fields=ref"], r"dataset\.load\.ref_fields='ref' must be a list of field names"),
    ("tsv-blank-ref", {"data.tsv": "Hello.\t你好。\nBye.\t \n"}, [], r"data\.tsv:2: reference column 2 is empty"),
]


@pytest.mark.parametrize(("files", "extra", "expect"), [c[1:] for c in JSONL_CASES], ids=[c[0] for c in JSONL_CASES])
def test_bad_jsonl_reference_is_refused(files, extra, expect, tmp_path, monkeypatch, capsys):
    """A blank JSONL/TSV reference is an error (it once scored as text: BLEU 38.91 -> 25.94)."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, err = run_main(["dataset=jsonl", f"dataset.load.path={{d}}/{next(iter(files))}", "system=copy",
                          "metrics=[bleu]", *extra], tmp_path, monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert re.search(expect, lines[0]), lines[0]


def test_jsonl_missing_or_null_reference_is_no_reference(tmp_path):
    from mteval.data.jsonl import load_jsonl

    path = tmp_path / "d.jsonl"
    path.write_text('{"src": "a", "ref": "甲"}\n{"src": "b", "ref": null}\n{"src": "c"}\n', encoding="utf-8")
    corpus = load_jsonl(name="j", path=str(path), direction="en-zh")
    assert [s.refs for s in corpus.segments] == [["甲"], [], []]


def test_ter_refuses_an_over_long_reference_before_translating(tmp_path, monkeypatch, capsys):
    """TER's cost grows faster than the segment: a reference over max_words is refused, naming file:line."""
    (tmp_path / "long.zh").write_text("你好，世界。\n" + "模型翻译摘要。" * 5 + "\n", encoding="utf-8")
    code, err = run_main(["dataset=files", "dataset.load.src={d}/src.en", "dataset.load.refs=[{d}/long.zh]",
                          "system=copy", "metrics=[bleu,ter]", "metrics.ter.max_words=20"], tmp_path, monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert re.search(r"src\.en:2: the reference has 35 words as ter counts them \(each CJK character is one\), "
                     r"more than metrics\.ter\.max_words=20", lines[0]), lines[0]


def test_ter_scores_texts_within_max_words():
    from mteval.metrics.sacre import TER

    ter = TER(max_words=7)
    assert ter.oversized(["模型翻译摘要。", "a b c d e f g"], "zh") == []
    assert ter.oversized(["模型翻译了摘要。"], "zh") == [(0, 8)]
    assert ter.score(["模型翻译摘要。"], [["模型翻译摘要。"]], tgt_lang="zh").score == 0.0


def test_limit_cuts_a_hypothesis_file_the_same_way(tmp_path, monkeypatch, capsys):
    """dataset.load.limit=1 with system=file scores the file's first line against the first segment."""
    import json

    (tmp_path / "hyp.zh").write_text("你好，世界。\n模型翻译摘要。\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["mteval", "dataset=files", f"dataset.load.src={tmp_path / 'src.en'}",
                                      f"dataset.load.refs=[{tmp_path / 'ref.zh'}]", "dataset.load.limit=1",
                                      "system=file", f"system.path={tmp_path / 'hyp.zh'}", "metrics=[bleu]",
                                      "cache=null", f"hydra.run.dir={tmp_path / 'run'}", f"leaderboard={tmp_path / 'lb.csv'}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    from mteval.commands.main import main

    main()
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["metrics"]["bleu"]["score"] == pytest.approx(100)
    assert (tmp_path / "run" / "hypotheses.txt").read_text(encoding="utf-8") == "你好，世界。\n"


def test_sweep_whose_job_config_cannot_compose_is_refused_before_any_job(tmp_path, monkeypatch, capsys):
    code, err = run_main(["-m", *FILES, "metrics=[bleu]", "system=copy,nope"], tmp_path, monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("mteval: error: system=nope: no such option in system; valid choices: copy")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_joblib_sweep_with_a_bad_job_runs_the_others(tmp_path):
    """The same through hydra-joblib-launcher: the jobs run in worker processes, the parent reports."""
    import subprocess

    from tests.helpers import MTEVAL, ROOT

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    sweep = tmp_path / "sweep"
    proc = subprocess.run([MTEVAL, "-m", "hydra/launcher=local_joblib", "dataset=files",
                           f"dataset.load.src={tmp_path / 'src.en'}", f"dataset.load.refs=[{tmp_path / 'ref.zh'}]",
                           "system=copy", "metrics=[bleu]", "dataset.load.limit=1,0,2", "cache=null",
                           f"hydra.sweep.dir={sweep}", f"leaderboard={tmp_path / 'lb.csv'}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert sorted(p.parent.name for p in sweep.glob("*/scores.json")) == ["0_copy", "2_copy"]
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("mteval: error: 1 of 3 sweep jobs failed: dataset.load.limit=0 is out of range"), last
    assert "; job #1 dataset.load.limit=0 (" in last


def test_a_bug_is_a_traceback_and_exit_2_never_1(tmp_path, monkeypatch, capsys):
    """Exit 1 belongs to the gate's "measured worse"; a crash inside a run is 2, with the traceback kept."""
    import mteval.commands.run

    def crash(cfg):  # noqa: ARG001 - the app's signature
        raise RuntimeError("boom")

    monkeypatch.setattr(mteval.commands.run, "run", crash)
    code, err = run_main([*COPY, "metrics=[bleu]"], tmp_path, monkeypatch, capsys)
    assert code == 2
    assert "Traceback" in err and 'raise RuntimeError("boom")' in err
    assert err.strip().splitlines()[-1].startswith("mteval: error: internal error (RuntimeError: boom); this is a bug")


def test_prefetch_reports_an_unknown_option_in_one_line(capsys):
    from mteval.commands.prefetch import main as prefetch_main

    with pytest.raises(SystemExit) as exit_info:
        prefetch_main(["--dry-run", "system=nope"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert err.startswith("mteval-prefetch: error: system=nope: no such option in system; valid choices: copy")
    assert len(err.splitlines()) == 1
