"""Foreseeable failures are one line naming the file or setting and the fix (issue 23, defect 9 and item 7):
an uncreatable run dir, damaged or refused weights, names that leave results_dir, a damaged sacrebleu
release, ``~`` in path settings, ``_target_`` overrides, a metric given an enormous field, and a run in
which no metric produced a score."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mteval.errors import ConfigError, DataUnavailableError, InputError, ModelUnavailableError
from mteval.systems.copy import CopySystem
from tests.conftest import MTEVAL, ROOT

SRC = "Hello world.\nCats sleep.\n"
REF = "你好，世界。\n猫睡觉。\n"


def mteval(tmp_path: Path, *overrides: str, env: dict | None = None, refs: bool = True,
           default_run_dir: bool = False) -> subprocess.CompletedProcess:
    """The real CLI on a two-line files dataset, copy system and BLEU unless the overrides say otherwise."""
    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    args = ["dataset=files", f"dataset.load.src={tmp_path}/src.en", "cache=null"]
    if refs:
        args.append(f"dataset.load.refs=[{tmp_path}/ref.zh]")
    for key, value in (("system", "system=copy"), ("metrics", "metrics=[bleu]"), ("hydra.run.dir", None),
                       ("leaderboard", f"leaderboard={tmp_path}/lb.csv")):
        if not any(o.startswith(key + "=") for o in overrides) and not (value is None and default_run_dir):
            args.append(value or f"hydra.run.dir={tmp_path}/run")
    run_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    return subprocess.run([MTEVAL, *args, *overrides], capture_output=True, text=True, env=run_env, cwd=tmp_path,
                          timeout=180)


def one_line(proc: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused run (exit 2, no traceback)."""
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


# -- damaged and refused weights ------------------------------------------------------------------------------------

def _copy_model(tiny_models: dict, kind: str, dst: Path) -> Path:
    shutil.copytree(tiny_models[kind], dst)
    return dst


def _truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.slow
def test_a_truncated_safetensors_is_one_line_naming_it(tiny_models, tmp_path):
    model = _copy_model(tiny_models, "marian", tmp_path / "marian")
    _truncate(model / "model.safetensors")
    line = one_line(mteval(tmp_path, "system=opus_mt_en_zh", f"system.model={model}", "system.max_new_tokens=2",
                           "device=cpu"))
    assert f"cannot load model '{model}': {model}/model.safetensors is damaged (truncated or corrupt" in line
    assert "download it again with `make models`" in line


@pytest.mark.slow
def test_a_truncated_comet_checkpoint_is_one_line_naming_it(tiny_models, tmp_path, monkeypatch):
    from mteval.metrics.comet import Comet

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = _copy_model(tiny_models, "comet", tmp_path / "comet")
    _truncate(model / "checkpoints" / "model.ckpt")
    with pytest.raises(ModelUnavailableError, match=rf"{model}/checkpoints/model.ckpt is damaged \(truncated or "
                                                    r"corrupt: .*\); delete it and download it again"):
        Comet(model=str(model), gpus=0).load()


@pytest.mark.slow
def test_a_checkpoint_with_code_in_its_pickle_is_refused_as_such(tiny_models, tmp_path, monkeypatch):
    """torch's weights-only loader refuses it; the line says why and never suggests weights_only=False."""
    import torch

    from mteval.metrics.comet import Comet

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = _copy_model(tiny_models, "comet", tmp_path / "comet")
    ckpt = model / "checkpoints" / "model.ckpt"
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    state = torch.load(ckpt, weights_only=True)
    state["payload"] = Payload()
    torch.save(state, ckpt)
    with pytest.raises(ModelUnavailableError) as err:
        Comet(model=str(model), gpus=0).load()
    message = str(err.value)
    assert f"refused to load model '{model}': {ckpt} holds Python objects besides weights (posix.system)" in message
    assert "weights_only" not in message and "\n" not in message
    assert not marker.exists()


# -- a damaged sacrebleu release ------------------------------------------------------------------------------------

def test_a_damaged_sacrebleu_release_is_one_line_naming_the_file(tmp_path):
    from mteval.data.sacrebleu_sets import load_sacrebleu
    from mteval.testing.sacrebleu_mirror import lay_out
    from tests.conftest import WMT22_MIRROR

    cache = lay_out(WMT22_MIRROR, tmp_path / "sacrebleu")
    (xml,) = cache.glob("wmt22/raw/*/xml/wmttest2022.en-zh.all.xml")
    data = xml.read_bytes()
    at = data.index(b'<seg id="5">') + 12
    xml.write_bytes(data[:at] + b"\xff\xfe\xc3" + data[at:])
    with pytest.raises(DataUnavailableError) as err:
        load_sacrebleu(name="wmt22", test_set="wmt22", langpair="en-zh", cache_dir=str(cache))
    message = str(err.value)
    assert message.startswith(f"sacrebleu test set wmt22 en-zh: the release file {xml} is damaged (not UTF-8 at byte")
    assert f"delete {cache}/wmt22 and fetch it" in message and len(message) < 600 and "\n" not in message


# -- per-field bounds of every metric -------------------------------------------------------------------------------

def test_every_metric_option_states_its_field_bound(compose):
    from mteval.commands.config_check import options

    for option in options("metrics"):
        node = compose(f"metrics=[{option}]").metrics[option]
        assert node.max_chars == 100_000, option  # in the YAML, so a typo or a removal fails here


class Recording(CopySystem):
    """The copy system, recording whether it translated (a bound must refuse before that)."""

    def __init__(self):
        super().__init__(name="recording")
        self.translated = False

    def translate(self, sources, *, src_lang, tgt_lang):
        self.translated = True
        return super().translate(sources, src_lang=src_lang, tgt_lang=tgt_lang)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("field", ["reference", "source"])
def test_a_20m_character_field_is_refused_before_translating(field):
    """A 20M-character field ran BLEU out of memory; it is refused in one line naming segment and setting."""
    from mteval.metrics.comet import Comet
    from mteval.metrics.sacre import BLEU
    from mteval.pipeline import evaluate
    from mteval.types import Corpus, Segment

    huge = "模" * 20_000_000
    segs = [Segment(id="1", src="Hi.", refs=["嗨。"], origin="src.en:1"),
            Segment(id="2", src=huge if field == "source" else "Long.", refs=[huge if field == "reference" else "长。"],
                    origin="src.en:2")]
    system = Recording()
    metric = Comet(model="never/loaded", reference_free=True) if field == "source" else BLEU()
    with pytest.raises(InputError, match=rf"src\.en:2: the {field} has 20,000,000 characters, more than "
                                         rf"metrics\.{metric.name}\.max_chars=100000"):
        evaluate(Corpus(name="t", src_lang="en", tgt_lang="zh", segments=segs), system, [metric])
    assert not system.translated


def test_a_hypothesis_over_the_bound_is_refused_before_scoring(monkeypatch):
    from mteval.metrics.sacre import ChrF
    from mteval.pipeline import evaluate
    from mteval.types import Corpus, Segment

    metric = ChrF(max_chars=10)
    monkeypatch.setattr(metric, "_score", lambda *a, **k: pytest.fail("scored"))
    corpus = Corpus(name="t", src_lang="en", tgt_lang="zh",
                    segments=[Segment(id="1", src="Much too long a line.", refs=["好。"], origin="h.en:1")])
    with pytest.raises(InputError, match=r"h\.en:1: the hypothesis has 21 characters, more than "
                                         r"metrics\.chrf\.max_chars=10"):
        evaluate(corpus, Recording(), [metric])
