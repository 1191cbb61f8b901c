"""COMET's fast paths on the tiny checkpoints: embeddings score as comet's own predict, one loaded model per
content, precision and device shared by a sweep's runs, the encoder held in bf16."""
from __future__ import annotations

import pytest

from mteval.errors import ConfigError
from mteval.metrics import comet_embed, precision
from mteval.metrics.comet import Comet
from mteval.metrics.comet_models import release_all

pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec")

SRCS = [f"Sentence {i} says {'much more about models ' * (i % 6)}and data." for i in range(14)]
REFS = [f"第{i}句{'关于模型的更多内容' * (i % 4)}和数据。" for i in range(14)]
SYSTEMS = {  # three systems' outputs for the same sources and references (one repeats a line)
    "a": [f"第{i}句{'模型' * (i % 5)}。" for i in range(14)],
    "b": [f"这是第{i}句，{'数据' * (i % 3)}。" for i in range(14)],
    "c": [f"第{i}句{'模型' * (i % 5)}。" for i in range(13)] + ["第0句。"],
}


@pytest.fixture(autouse=True)
def _fresh_shared_models():
    """Each test loads its own models: none is left shared from an earlier test."""
    release_all()
    yield
    release_all()


def _comet_predict(model_dir, hyps) -> list[float]:
    """comet's own path (Lightning predict, its own length batching) on a separately loaded model."""
    from mteval.metrics.comet import load_checkpoint

    model = load_checkpoint(model_dir / "checkpoints" / "model.ckpt", local_files_only=True)
    samples = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(SRCS, hyps, REFS, strict=True)]
    return [float(x) for x in model.predict(samples, batch_size=4, gpus=0, accelerator="cpu", num_workers=0,
                                            progress_bar=False).scores]


@pytest.mark.slow
def test_embedding_path_scores_as_comets_predict_and_embeds_sources_and_references_once(tiny_models, monkeypatch):
    embedded: list[str] = []
    real_embed = comet_embed.embed

    def spy(model, texts, **kw):
        embedded.extend(texts)
        return real_embed(model, texts, **kw)

    monkeypatch.setattr(comet_embed, "embed", spy)
    for name, hyps in SYSTEMS.items():
        metric = Comet(model=str(tiny_models["comet"]), device="cpu", batch_size=4)  # a new instance per run, as a sweep
        got = metric.score(hyps, [[r] for r in REFS], SRCS).segment_scores
        assert got == pytest.approx(_comet_predict(tiny_models["comet"], hyps), abs=1e-5), name
    kept = set(SRCS) | set(REFS)
    assert sorted(t for t in embedded if t in kept) == sorted(kept), "a source or reference embedded twice"
    assert len(embedded) == len(kept) + sum(len(set(h) - kept) for h in SYSTEMS.values())


@pytest.mark.slow
def test_runs_share_one_loaded_model_per_content_precision_and_device(tiny_models, monkeypatch):
    import mteval.metrics.comet as comet_module

    loads = []
    real_load = comet_module.load_checkpoint
    monkeypatch.setattr(comet_module, "load_checkpoint", lambda *a, **kw: loads.append(a) or real_load(*a, **kw))
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    first, second = (Comet(model=str(tiny_models["comet"]), device="cpu") for _ in range(2))
    bf16 = Comet(model=str(tiny_models["comet"]), device="cpu", precision="auto")
    assert first.load() is second.load()
    assert first._shared is second._shared
    assert len(loads) == 1
    import torch

    assert bf16.load() is not first.load(), "bf16 weights or embeddings must not serve an fp32 run"
    assert {p.dtype for p in bf16.load().encoder.parameters()} == {torch.bfloat16}  # cast once, held so
    assert {p.dtype for p in first.load().encoder.parameters()} == {torch.float32}
    Comet(model=str(tiny_models["cometkiwi"]), device="cpu", reference_free=True).load()
    assert len(loads) == 3


def test_signature_names_the_resolved_precision_and_preflight_refuses_before_loading(tiny_models, monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    metric = Comet(model=str(tiny_models["comet"]), device="cpu", precision="auto")
    assert metric.precision == "auto"
    assert "|precision:bf16-mixed|" in metric.signature(1)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    assert "|precision:32|" in metric.signature(1)
    refused = Comet(model=str(tiny_models["comet"]), device="cpu", precision="bf16")
    with pytest.raises(ConfigError, match="precision=bf16: this CPU has no bfloat16"):
        refused.preflight()
    assert refused._model is None


@pytest.mark.parametrize("kind", ["cometkiwi", "xcomet"])
def test_unified_models_run_with_the_encoder_held_in_bf16(tiny_models, monkeypatch, kind):
    """CometKiwi and XCOMET go through comet's own predict; their bf16-held encoder must work there too."""
    from mteval.metrics.xcomet import XComet

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    cls = XComet if kind == "xcomet" else Comet
    fp32, bf16 = (cls(model=str(tiny_models[kind]), device="cpu", reference_free=True, precision=p).score(
        SYSTEMS["a"], [[]] * len(SRCS), SRCS) for p in ("32", "auto"))
    drift = [abs(a - b) for a, b in zip(fp32.segment_scores, bf16.segment_scores, strict=True)]
    assert 0 < max(drift) < 0.02
    assert "|precision:bf16-mixed|" in bf16.signature


@pytest.mark.slow
def test_a_basic_launcher_sweep_loads_comet_once_and_embeds_each_source_and_reference_once(
        wmt22, tiny_models, tmp_path, monkeypatch):
    """Two WMT22 submissions swept in this process (Hydra's basic launcher), as `mteval -m` runs them."""
    import sys

    import mteval.metrics.comet as comet_module
    from mteval.commands import main as cli

    loads, embedded = [], []
    real_load, real_embed = comet_module.load_checkpoint, comet_embed.embed
    monkeypatch.setattr(comet_module, "load_checkpoint", lambda *a, **kw: loads.append(a) or real_load(*a, **kw))
    monkeypatch.setattr(comet_embed, "embed", lambda model, texts, **kw: embedded.extend(texts) or
                        real_embed(model, texts, **kw))
    sweep = tmp_path / "sweep"
    monkeypatch.setattr(sys, "argv", [
        "mteval", "-m", "dataset=wmt22_en_zh", "system=wmt22_submission", "system.submission=LanguageX,Online-G",
        "metrics=[comet]", f"metrics.comet.model={tiny_models['comet']}", "metrics.comet.device=cpu",
        f"hydra.sweep.dir={sweep}", "cache=null", f"leaderboard={tmp_path / 'leaderboard.csv'}"])
    try:
        cli.main()
    except SystemExit as done:  # a failed sweep exits 2
        assert done.code in (0, None)
    assert sorted(p.name for p in sweep.iterdir() if (p / "scores.json").is_file()) == ["0_LanguageX", "1_Online-G"]
    assert len(loads) == 1
    from collections import Counter

    from mteval.data.sacrebleu_cache import entry, read_fields, read_lines

    fields = read_fields(entry("wmt22", "en-zh"), "en-zh")
    kept = set(read_lines(fields["src"])) | set(read_lines(fields["ref:A"]))
    counts = Counter(t for t in embedded if t in kept)
    assert set(counts) == kept and max(counts.values()) == 1
