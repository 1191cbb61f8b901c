"""End to end: the Hydra app on the abstracts and a WMT22 slice with tiny local models."""
from __future__ import annotations

import csv
import json
import os
import subprocess

import pytest

from tests.helpers import MTEVAL, ROOT, known_originals, sacrebleu_field

pytestmark = pytest.mark.slow


def run_mteval(*overrides: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([MTEVAL, *overrides], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def comet_overrides(tiny) -> list[str]:
    return [f"metrics.comet.model={tiny['comet']}", f"metrics.cometkiwi.model={tiny['cometkiwi']}"]


def default_metric_overrides(tiny) -> list[str]:
    """The default metrics (bleu, chrf, comet, metricx_qe) on tiny models."""
    return [f"metrics.comet.model={tiny['comet']}", f"metrics.metricx_qe.model={tiny['metricx']}",
            f"metrics.metricx_qe.tokenizer={tiny['mt5_tokenizer']}"]


def test_default_experiment_on_abstracts(tiny_models, tmp_path):
    """The default config (opus-mt on the abstracts, BLEU/chrF/COMET/MetricX-QE) with tiny models."""
    run_dir = tmp_path / "run"
    board = tmp_path / "leaderboard.csv"
    proc = run_mteval(
        f"system.model={tiny_models['marian']}", "system.num_beams=1", "system.max_new_tokens=8",
        *default_metric_overrides(tiny_models), f"hydra.run.dir={run_dir}", f"leaderboard={board}",
        f"cache={tmp_path / 'cache.sqlite'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    summary = scores["corpus_summary"]
    # The honest facts about the seeds: 43 unique abstracts, 25 EN, 18 ZH, no pair.
    assert (summary["unique"], summary["by_lang"], summary["pairs"]) == (43, {"en": 25, "zh": 18}, 0)
    assert summary["blocks"] == 50 and summary["duplicates"] == 7
    assert "Google Translate" in summary["note"]
    assert scores["n_segments"] == 25
    # No references: only the reference-free MetricX-QE scores; the others are reported as skipped.
    assert set(scores["metrics"]) == {"metricx_qe"}
    assert scores["metrics"]["metricx_qe"]["n_scored"] == 25
    assert scores["metrics"]["metricx_qe"]["higher_is_better"] is False
    assert set(scores["provenance"]["skipped_metrics"]) == {"bleu", "chrf", "comet"}
    rows = [json.loads(line) for line in (run_dir / "segments.jsonl").read_text().splitlines()]
    assert len(rows) == 25 and all(r["metricx_qe"] is not None for r in rows)
    assert len((run_dir / "hypotheses.txt").read_text(encoding="utf-8").split("\n")) == 26
    assert (run_dir / "segments.csv").exists() and (run_dir / "config.yaml").exists()
    assert (run_dir / "corpus_summary.json").exists()
    with open(board, encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["dataset"] == "abstracts" and row["system"] == "opus_mt_en_zh" and row["metricx_qe"]
    assert "pairs found in the pages: 0" in proc.stdout + proc.stderr


def test_user_references_are_scored(tiny_models, tmp_path):
    """A references JSONL keyed by block id turns those abstracts into referenced segments."""
    from mteval.data.seeds import page_paths, read_pages

    blocks = [b for b in read_pages(page_paths(ROOT / "data" / "abstracts")) if b.lang == "en"][:3]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"id": b.id, "ref": "我们提出了一种新方法。"}, ensure_ascii=False) + "\n"
                            for b in blocks), encoding="utf-8")
    run_dir = tmp_path / "run"
    proc = run_mteval(
        f"system.model={tiny_models['marian']}", "system.num_beams=1", "system.max_new_tokens=8",
        *default_metric_overrides(tiny_models), f"dataset.load.references={refs}", f"hydra.run.dir={run_dir}",
        f"leaderboard={tmp_path / 'lb.csv'}", "cache=null",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["corpus_summary"]["sources_with_reference"] == 3
    for name in ("bleu", "chrf", "comet"):
        assert scores["metrics"][name]["n_scored"] == 3
    assert scores["metrics"]["metricx_qe"]["n_scored"] == 25


def test_abstracts_with_cached_arxiv_originals(tiny_models, tmp_path):
    """Offline with a pre-filled arXiv cache: confirmed originals are scored against their Google Chinese
    by every metric, the English-only blocks (and the originals too) by MetricX-QE."""
    from mteval.testing.arxiv_server import fill_cache

    fill_cache(tmp_path / "data" / "arxiv", known_originals())
    run_dir = tmp_path / "run"
    proc = run_mteval(
        f"system.model={tiny_models['marian']}", "system.num_beams=1", "system.max_new_tokens=8",
        *default_metric_overrides(tiny_models), f"hydra.run.dir={run_dir}", f"leaderboard={tmp_path / 'lb.csv'}",
        "cache=null", env_extra={"MTEVAL_DATA": str(tmp_path / "data"), "MTEVAL_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    summary = scores["corpus_summary"]
    n = (scores["n_segments"], summary["sources_with_reference"], summary["sources_without_reference"])
    assert n == (28, 3, 25)
    assert "agreement with Google Translate, not with a human" in summary["note"]
    for name in ("bleu", "chrf", "comet"):
        assert scores["metrics"][name]["n_scored"] == 3
    assert scores["metrics"]["metricx_qe"]["n_scored"] == 28
    rows = [json.loads(line) for line in (run_dir / "segments.jsonl").read_text().splitlines()]
    with_ref = [r for r in rows if r["refs"]]
    assert sorted(r["doc_id"] for r in with_ref) == ["arXiv:2206.04394v1", "arXiv:2206.07682v1", "arXiv:2206.08478v1"]
    assert all(r["bleu"] is not None and r["comet"] is not None for r in with_ref)
    assert all(r["bleu"] is None and r["comet"] is None and r["metricx_qe"] is not None
               for r in rows if not r["refs"])
    assert "arXiv originals: 3 of 18 mapped Chinese blocks confirmed" in proc.stdout + proc.stderr
    # The closing table says what the references are.
    table = proc.stdout[proc.stdout.index("abstracts | opus_mt_en_zh"):]
    assert "scored against the Chinese blocks of the seed pages, which are Google Translate output" in table
    assert "2206.08478v1" in table


@pytest.mark.parametrize(
    ("system", "model_key", "extra"),
    [
        ("opus_mt_en_zh", "marian", ["system.num_beams=2"]),
        ("nllb_600m", "nllb", ["system.num_beams=1"]),
        ("m2m100_418m", "m2m100", ["system.num_beams=1"]),
        ("qwen2_5_1_5b", "chat", []),
    ],
)
def test_every_model_family_on_a_wmt22_slice(wmt22, tiny_models, tmp_path, system, model_key, extra):
    run_dir = tmp_path / "run"
    proc = run_mteval(
        "dataset=wmt22_en_zh", "dataset.load.limit=12", f"system={system}",
        f"system.model={tiny_models[model_key]}", "system.max_new_tokens=8", *extra,
        "metrics=[bleu,chrf,chrfpp,ter,comet,cometkiwi]", *comet_overrides(tiny_models),
        f"hydra.run.dir={run_dir}", f"leaderboard={tmp_path / 'lb.csv'}", "cache=null",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["n_segments"] == 12
    assert set(scores["metrics"]) == {"bleu", "chrf", "chrf++", "ter", "comet", "cometkiwi"}
    assert "tok:zh" in scores["metrics"]["bleu"]["signature"]
    assert scores["metrics"]["ter"]["higher_is_better"] is False
    assert scores["provenance"]["system"]["model"] == str(tiny_models[model_key])
    # Random weights never stop early: every output hits max_new_tokens=8, and the run says so.
    assert scores["provenance"]["outputs_length_capped"] >= 12
    assert "reached max_new_tokens=8" in proc.stderr + proc.stdout
    rows = [json.loads(line) for line in (run_dir / "segments.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows][:2] == ["en_zh-TW_CLIENT-05_2020-12-20-44_doc0:1",
                                           "en_zh-TW_CLIENT-05_2020-12-20-44_doc0:2"]
    assert rows[0]["domain"] == "conversation"
    assert {r["domain"] for r in rows} <= {"conversation", "ecommerce", "news", "social"}


@pytest.mark.parametrize(("direction", "submission", "bleu", "chrf"),
                         [("en-zh", "LanguageX", 54.35, 49.11), ("zh-en", "NiuTrans", 26.22, 55.99)])
def test_submission_through_sacrebleu_equals_sacrebleu_cli(wmt22, tmp_path, direction, submission, bleu, chrf):
    """The issue's commands: a WMT22 submission read through sacrebleu's registry (the test session's
    cache) scores what `sacrebleu -t wmt22 -l <pair>` gives, and the published numbers."""
    run_dir = tmp_path / "r1"
    proc = run_mteval(f"dataset=wmt22_{direction.replace('-', '_')}", "system=wmt22_submission",
                      f"system.submission={submission}", "metrics=[bleu,chrf]", f"hydra.run.dir={run_dir}",
                      f"leaderboard={tmp_path / 'lb.csv'}", "cache=null")
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    cli = subprocess.run([os.path.join(os.path.dirname(MTEVAL), "sacrebleu"), "-t", "wmt22", "-l", direction,
                          "-i", str(sacrebleu_field(direction, submission)),
                          "-m", "bleu", "chrf", "--format", "json", "--width", "4"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    expected = {d["name"]: d["score"] for d in json.loads(cli.stdout)}
    assert scores["metrics"]["bleu"]["score"] == pytest.approx(expected["BLEU"], abs=0.01)
    assert scores["metrics"]["chrf"]["score"] == pytest.approx(expected["chrF2"], abs=0.01)
    assert (round(scores["metrics"]["bleu"]["score"], 2), round(scores["metrics"]["chrf"]["score"], 2)) == (bleu, chrf)
    assert scores["system"] == submission and scores["dataset"] == f"wmt22_{direction.replace('-', '_')}"
    assert scores["provenance"]["data"]["sacrebleu"]["test_set"] == "wmt22"


def test_missing_model_is_one_line_and_exit_2(wmt22, tmp_path):
    proc = run_mteval("dataset=wmt22_en_zh", "dataset.load.limit=3", "system.model=Helsinki-NLP/no-such-model-xyz",
                      "metrics=[bleu]", f"hydra.run.dir={tmp_path / 'r'}", "cache=null",
                      f"leaderboard={tmp_path / 'lb.csv'}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    err_lines = [line for line in proc.stderr.splitlines() if line.startswith("mteval: error:")]
    assert len(err_lines) == 1
    assert "Helsinki-NLP/no-such-model-xyz" in err_lines[0] and "make models" in err_lines[0]


def test_mismatched_hypothesis_file_fails_before_any_model(wmt22, tmp_path):
    hyp = tmp_path / "short.zh"
    hyp.write_text("一\n二\n", encoding="utf-8")
    proc = run_mteval("dataset=wmt22_en_zh", "system=file", f"system.path={hyp}", "metrics=[bleu,comet]",
                      "metrics.comet.model=Unbabel/never-downloaded", f"hydra.run.dir={tmp_path / 'r'}",
                      "cache=null", f"leaderboard={tmp_path / 'lb.csv'}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{hyp}:3: has 2 hypothesis lines but the dataset has 2037 segments" in proc.stderr
