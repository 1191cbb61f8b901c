"""XCOMET: error spans from a tiny XCOMETMetric, kept per segment, highlighted in the report, gated like any metric."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from mteval.errors import ConfigError, InputError, ModelUnavailableError
from mteval.metrics.xcomet import XComet
from mteval.metrics.spans import check_spans, clean_spans, merge_units, severity_counts
from mteval.testing.tiny_xcomet import XCOMET_XL_HPARAMS
from tests.conftest import MTEVAL, ROOT

SRCS = ["The model translates abstracts.", "We propose a new method for evaluation.", "Results improve a lot."]
HYPS = ["模型翻译摘要。", "我们提出了一种新的评估方法。", "结果大大改善。"]
REFS = [["模型翻译了摘要。"], ["我们提出一种新的评价方法。"], ["结果改善很多。"]]


def _xcomet(tiny_models, **kw) -> XComet:
    return XComet(model=str(tiny_models["xcomet"]), device="cpu", name="xcomet", **kw)


# -- spans: table-driven, no model -------------------------------------------------------------------

@pytest.mark.parametrize(("hyp", "raw", "want"), [
    # comet's text is detokenised ("<s> 你", ASCII comma); ours is the hypothesis's own characters.
    ("你好世界，这是", [{"text": "<s> 你", "start": 0, "end": 1, "severity": "major", "confidence": 0.51234}],
     [{"text": "你", "start": 0, "end": 1, "severity": "major", "confidence": 0.5123}]),
    ("你好世界，这是", [{"text": "世界,这", "start": 2, "end": 6, "severity": "minor", "confidence": 0.4}],
     [{"text": "世界，这", "start": 2, "end": 6, "severity": "minor", "confidence": 0.4}]),
    ("abc", [{"text": "x", "start": 2, "end": 9, "severity": "critical", "confidence": 1}],  # clipped to the text
     [{"text": "c", "start": 2, "end": 3, "severity": "critical", "confidence": 1.0}]),
])
def test_clean_spans_take_the_hypothesis_characters(hyp, raw, want):
    assert clean_spans(hyp, raw) == want


def test_sentence_unit_spans_move_onto_their_segment():
    seg = "第一句。第二句。"
    units = ["第一句。", "第二句。"]
    unit_spans = [[{"text": "一", "start": 1, "end": 2, "severity": "minor", "confidence": 0.5}],
                  [{"text": "二句", "start": 1, "end": 3, "severity": "major", "confidence": 0.6}]]
    merged = merge_units(unit_spans, units, [0, 0], [seg])
    assert [(s["start"], s["end"], seg[s["start"]:s["end"]]) for s in merged[0]] == [(1, 2, "一"), (5, 7, "二句")]


def test_severity_counts():
    spans = [[{"severity": "minor"}, {"severity": "critical"}], [], None, [{"severity": "minor"}]]
    assert severity_counts(spans) == {"minor": 2, "major": 0, "critical": 1, "segments_with_errors": 2}


@pytest.mark.parametrize("bad", [
    "spans", [{"start": 0, "end": 9, "severity": "minor"}], [{"start": 2, "end": 1, "severity": "minor"}],
    [{"start": 0, "end": 1, "severity": "fatal"}], [{"start": "0", "end": 1, "severity": "minor"}],
])
def test_stored_spans_outside_the_hypothesis_are_refused(bad):
    with pytest.raises(InputError, match="xcomet_error_spans"):
        check_spans(bad, "四个字符", "xcomet_error_spans", "segments.jsonl", 3)


# -- the tiny checkpoint -------------------------------------------------------------------------------

@pytest.mark.slow
def test_tiny_checkpoint_has_the_keys_and_class_of_xcomet_xl(tiny_models):
    hparams = yaml.safe_load((tiny_models["xcomet"] / "hparams.yaml").read_text())
    assert sorted(hparams) == sorted(XCOMET_XL_HPARAMS)
    assert (hparams["class_identifier"], hparams["encoder_model"]) == ("xcomet_metric", "XLM-RoBERTa-XL")
    assert hparams["error_labels"] == ["minor", "major", "critical"]


@pytest.mark.slow
@pytest.mark.parametrize("reference_free", [False, True])
def test_scores_are_comets_and_spans_fit_the_hypotheses(tiny_models, reference_free):
    """The corpus score is the mean of comet's own segment scores; every segment has its spans,
    whose text is the hypothesis between their offsets; scores.json counts them per severity."""
    from mteval.metrics.comet import load_checkpoint

    metric = _xcomet(tiny_models, reference_free=reference_free)
    result = metric.score(HYPS, REFS, SRCS)
    model = load_checkpoint(tiny_models["xcomet"] / "checkpoints" / "model.ckpt", local_files_only=True)
    samples = [{"src": s, "mt": h} | ({} if reference_free else {"ref": r[0]}) for s, h, r in zip(SRCS, HYPS, REFS)]
    direct = model.predict(samples, batch_size=8, gpus=0, accelerator="cpu", num_workers=0, progress_bar=False)
    assert result.segment_scores == pytest.approx([float(x) for x in direct.scores], abs=1e-6)
    spans = result.segment_extra["error_spans"]
    assert [[(s["start"], s["end"], s["severity"]) for s in seg] for seg in spans] == \
        [[(s["start"], s["end"], s["severity"]) for s in seg] for seg in direct.metadata.error_spans]
    assert any(spans), "the tiny model marks no span: the test would prove nothing"
    for hyp, seg in zip(HYPS, spans, strict=True):
        for s in seg:
            assert s["text"] == hyp[s["start"]:s["end"]]
    counts = result.extra["error_spans"]
    assert sum(counts[k] for k in ("minor", "major", "critical")) == sum(len(seg) for seg in spans)
    assert ("qe" in result.signature) == reference_free and "model:" in result.signature
    assert result.higher_is_better is True


@pytest.mark.slow
def test_an_over_long_qe_segment_keeps_its_sentences_spans_in_place(tiny_models):
    """QE scores an over-long segment by its sentence pairs; their spans move onto the joined hypothesis."""
    pairs = [(s, h) for s, h in zip(SRCS * 12, HYPS * 12, strict=True)]
    src, hyp = " ".join(s for s, _ in pairs), "".join(h for _, h in pairs)
    metric = _xcomet(tiny_models, reference_free=True)
    result = metric.score([hyp, HYPS[0]], [[], []], [src, SRCS[0]], pairs=[pairs, None])
    assert result.extra["long_inputs"]["by_sentences"] == 1
    by_sentence = _xcomet(tiny_models, reference_free=True).score(HYPS, [[], [], []], SRCS)
    want = [s["text"] for s in by_sentence.segment_extra["error_spans"][0]]
    spans = result.segment_extra["error_spans"][0]
    assert len(spans) == 12 * sum(len(seg) for seg in by_sentence.segment_extra["error_spans"])
    assert [s["text"] for s in spans][:len(want)] == want
    assert all(s["text"] == hyp[s["start"]:s["end"]] for s in spans)
    assert result.extra["error_spans"]["segments_with_errors"] == sum(1 for seg in result.segment_extra["error_spans"]
                                                                     if seg)


@pytest.mark.slow
def test_spans_survive_the_metric_cache(tiny_models, tmp_path):
    from mteval.cache import Cache
    from mteval.metrics.cached import CachedMetric
    from mteval.pipeline import score
    from mteval.types import Corpus, Segment

    corpus = Corpus("t", "en", "zh", [Segment(str(i), s, r) for i, (s, r) in enumerate(zip(SRCS, REFS))])
    cache = Cache(tmp_path / "cache.sqlite")
    fresh = score(CachedMetric(_xcomet(tiny_models), cache), corpus, HYPS)
    hit = score(CachedMetric(_xcomet(tiny_models), cache), corpus, HYPS)
    assert hit.segment_extra == fresh.segment_extra and hit.extra["error_spans"] == fresh.extra["error_spans"]


@pytest.mark.slow
def test_a_checkpoint_without_spans_is_refused_before_loading(tiny_models):
    with pytest.raises(ConfigError, match=r"metrics.xcomet.model=.*regression_metric.*xcomet_metric"):
        XComet(model=str(tiny_models["comet"]), name="xcomet").preflight()


def test_uncached_xxl_offline_names_the_fix():
    with pytest.raises(ModelUnavailableError, match="Unbabel/XCOMET-XXL.*make models"):
        XComet(model="Unbabel/XCOMET-XXL", name="xcomet").preflight()


def test_gated_model_names_hf_token(monkeypatch):
    import huggingface_hub

    def gated(**_):
        raise huggingface_hub.errors.GatedRepoError("401 Client Error: Cannot access gated repo Unbabel/XCOMET-XL")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", gated)
    with pytest.raises(ModelUnavailableError, match=r"gated.*huggingface.co/Unbabel/XCOMET-XL.*HF_TOKEN"):
        XComet(model="Unbabel/XCOMET-XL", name="xcomet").preflight()


def test_prefetch_knows_xcomet_and_its_encoder(compose, tmp_path):
    from mteval.commands.prefetch import comet_dependencies, models_in_config

    refs = models_in_config(compose("metrics=[xcomet,xcomet_qe]", "system=copy"))
    assert {(r.repo_id, r.role, r.named_by) for r in refs} == {("Unbabel/XCOMET-XL", "comet", "metrics.xcomet"),
                                                               ("Unbabel/XCOMET-XL", "comet", "metrics.xcomet_qe")}
    # The checkpoint's hparams.yaml names the encoder whose config and tokenizer comet loads.
    (tmp_path / "hparams.yaml").write_text("class_identifier: xcomet_metric\npretrained_model: facebook/xlm-roberta-xl\n")
    assert comet_dependencies(tmp_path) == [("facebook/xlm-roberta-xl", "config.json")]


# -- end to end: the issue's command, compare, report and gate -----------------------------------------

def _run(*args: str, cmd: str = MTEVAL) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([cmd, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def xcomet_runs(tiny_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("xcomet")
    runs = {}
    for submission in ("LanguageX", "Online-G"):
        run_dir = root / submission
        proc = _run("dataset=wmt22_en_zh", "dataset.load.limit=20", "system=wmt22_submission",
                    f"system.submission={submission}", "metrics=[bleu,xcomet]",
                    f"metrics.xcomet.model={tiny_models['xcomet']}", f"hydra.run.dir={run_dir}",
                    f"leaderboard={root / 'lb.csv'}", "cache=null")
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[submission] = run_dir
    return runs


@pytest.mark.slow
def test_the_issue_command_writes_spans(xcomet_runs):
    from mteval.results.io import load_run

    run = load_run(xcomet_runs["LanguageX"])  # the schema check passes every stored span
    spans = run.error_spans("xcomet")
    assert len(spans) == 20 and all(isinstance(seg, list) for seg in spans) and any(spans)
    for row, seg in zip(run.segments, spans, strict=True):
        for s in seg:
            assert s["text"] == row["hyp"][s["start"]:s["end"]] and s["severity"] in ("minor", "major", "critical")
            assert 0 <= s["confidence"] <= 1
    entry = run.scores["metrics"]["xcomet"]
    assert entry["error_spans"]["segments_with_errors"] == sum(1 for seg in spans if seg)
    assert entry["metric"]["class"] == "mteval.metrics.xcomet.XComet"
    assert "@sha256:" in entry["signature"] and "|nrefs:1|" in entry["signature"]  # the checkpoint by content
    csv_cell = (xcomet_runs["LanguageX"] / "segments.csv").read_text(encoding="utf-8")
    assert '""severity"": ""' in csv_cell  # JSON in the CSV cell, not Python's repr


@pytest.mark.slow
def test_a_tampered_span_is_refused_when_read_back(xcomet_runs, tmp_path):
    import shutil

    from mteval.results.io import load_run

    run_dir = tmp_path / "run"
    shutil.copytree(xcomet_runs["LanguageX"], run_dir)
    rows = [json.loads(line) for line in (run_dir / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[4]["xcomet_error_spans"] = [{"text": "x", "start": 0, "end": 10_000, "severity": "major", "confidence": 1}]
    (run_dir / "segments.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    with pytest.raises(InputError, match=r"segments.jsonl:5.*xcomet_error_spans"):
        load_run(run_dir)


@pytest.mark.slow
def test_compare_and_report_treat_xcomet_like_any_metric(xcomet_runs, tmp_path):
    out = tmp_path / "cmp"
    proc = _run(str(xcomet_runs["LanguageX"]), str(xcomet_runs["Online-G"]), "--n-bootstrap", "200",
                "--n-ar", "200", "--out", str(out), cmd=str(MTEVAL) + "-compare")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "xcomet" in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table id='error-spans'>" in html and "Error spans by severity" in html
    assert "<mark class='major' title='major, confidence" in html or "<mark class='minor' title=" in html
    from mteval.results.io import load_run

    for name in ("LanguageX", "Online-G"):
        counts = load_run(xcomet_runs[name]).scores["metrics"]["xcomet"]["error_spans"]
        cells = "".join(f"<td class='num'>{counts[s]}</td>" for s in ("minor", "major", "critical"))
        assert f"<tr><td>{name}</td>{cells}" in html
        # report.md (and the printed table) carry the same counts
        row = f"| {name} "
        md_row = next(line for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
                      if line.startswith(row) and line.count("|") == 8)
        assert [c.strip() for c in md_row.split("|")[2:5]] == [str(counts[s]) for s in ("minor", "major", "critical")]


@pytest.mark.slow
def test_gate_treats_xcomet_like_any_metric(xcomet_runs, tmp_path):
    baseline = tmp_path / "base.json"
    proc = _run("--write-baseline", str(xcomet_runs["LanguageX"]), "--out", str(baseline),
                cmd=str(MTEVAL) + "-gate")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(baseline.read_text())
    assert "xcomet" in data["metrics"] and data["segments"][0]["scores"]["xcomet"] is not None
    same = _run("--baseline", str(baseline), "--current", str(xcomet_runs["LanguageX"]), cmd=str(MTEVAL) + "-gate")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "xcomet" in same.stdout
    other = _run("--baseline", str(baseline), "--current", str(xcomet_runs["Online-G"]), cmd=str(MTEVAL) + "-gate")
    assert other.returncode in (0, 1), other.stdout + other.stderr  # a decision, never a refusal
    assert "xcomet" in other.stdout


def test_spans_in_the_report_are_escaped():
    from mteval.report.spans import marked

    text = "<b>a</b> & <script>x</script>"
    html = marked(text, [{"start": 0, "end": 8, "severity": "critical", "confidence": 0.9},
                         {"start": 11, "end": 19, "severity": "bogus", "confidence": 0.1}])
    assert html == ("<mark class='critical' title='critical, confidence 0.90'>&lt;b&gt;a&lt;/b&gt;</mark> &amp; "
                    "<mark class='minor' title='minor, confidence 0.10'>&lt;script&gt;</mark>x&lt;/script&gt;")
