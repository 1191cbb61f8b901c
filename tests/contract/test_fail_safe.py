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
from tests.helpers import MTEVAL, ROOT

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


# -- the run directory ----------------------------------------------------------------------------------------------

def _unwritable(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes through permission bits: /sys refuses even root
        return Path("/sys/mteval-test-run")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    return tmp_path / "ro" / "run"


@pytest.mark.parametrize("case", ["parent-is-a-file", "read-only-parent"])
def test_a_run_dir_that_cannot_be_created_is_one_line(tmp_path, case):
    if case == "parent-is-a-file":
        (tmp_path / "afile").write_text("x", encoding="utf-8")
        run_dir = tmp_path / "afile" / "run"
    else:
        run_dir = _unwritable(tmp_path)
    line = one_line(mteval(tmp_path, f"hydra.run.dir={run_dir}"))
    assert line.startswith(f"mteval: error: cannot create the run directory or its log {run_dir}")
    assert "give a writable hydra.run.dir" in line


@pytest.mark.parametrize("name", ["../../x", "../../../../../../../../tmp/x", "a/../../b", "..", "x\\..\\..\\y"])
def test_a_system_name_cannot_lead_outside_results_dir(compose, name):
    cfg = compose("system=copy", f"system.name={name}", "results_dir=/r", "hydra.job.num=0")
    run_dir = os.path.normpath(cfg.hydra.run.dir)
    assert run_dir.startswith("/r/runs/") and run_dir.count("/") == 4, run_dir  # /r/runs/<date>/<one name>
    assert os.path.normpath(cfg.hydra.sweep.dir).startswith("/r/multirun/")
    assert "/" not in cfg.hydra.sweep.subdir


def test_a_hostile_name_runs_inside_results_dir(tmp_path):
    """With names put in the run dir as they were, this run landed in tmp_path/escaped_<pid>."""
    proc = mteval(tmp_path, "system.name=../../../../../escaped", f"results_dir={tmp_path}/results",
                  default_run_dir=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (day,) = (tmp_path / "results" / "runs").iterdir()
    (run,) = day.iterdir()
    assert "_files_.._.._.._.._.._escaped_" in run.name and (run / "scores.json").is_file()
    assert not list(tmp_path.glob("escaped*"))


# -- ~ in path settings ---------------------------------------------------------------------------------------------

def test_tilde_expands_in_every_path_setting(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "data").mkdir()
    (home / "data" / "src.en").write_text(SRC, encoding="utf-8")
    (home / "data" / "ref.zh").write_text(REF, encoding="utf-8")
    proc = mteval(tmp_path, "dataset.load.src=~/data/src.en", 'dataset.load.refs=["~/data/ref.zh"]',
                  "cache=~/cache.sqlite", "leaderboard=~/lb.csv", "hydra.run.dir=~/run", refs=False,
                  env={"HOME": str(home)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (home / "run" / "scores.json").is_file() and (home / "cache.sqlite").is_file()
    assert (home / "lb.csv").is_file()
    assert not (tmp_path / "~").exists()
    proc = mteval(tmp_path, "results_dir=~/results", "hydra.run.dir=${results_dir}/one", "leaderboard=~/lb.csv",
                  env={"HOME": str(home)})
    assert proc.returncode == 0 and (home / "results" / "one" / "scores.json").is_file() and (home / "lb.csv").is_file()
    assert not (tmp_path / "~").exists()


def test_home_in_settings_from_a_config_file_expands():
    from omegaconf import OmegaConf

    from mteval.commands.config_check import expand_home

    cfg = OmegaConf.create({"cache": "~/c.sqlite", "leaderboard": "${results_dir}/lb.csv", "results_dir": "~/r",
                            "dataset": {"load": {"refs": ["~/a.zh", "b.zh"], "name": "~x"}}})
    expand_home(cfg)
    home = os.path.expanduser("~")
    assert cfg.cache == f"{home}/c.sqlite" and cfg.leaderboard == f"{home}/r/lb.csv"
    assert list(cfg.dataset.load.refs) == [f"{home}/a.zh", "b.zh"] and cfg.dataset.load.name == "~x"
    assert OmegaConf.is_interpolation(cfg, "leaderboard")  # interpolations follow the values they name


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
        Comet(model=str(model), device="cpu").load()


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
        Comet(model=str(model), device="cpu").load()
    message = str(err.value)
    assert f"refused to load model '{model}': {ckpt} holds Python objects besides weights (posix.system)" in message
    assert "weights_only" not in message and "\n" not in message
    assert not marker.exists()


# -- a damaged sacrebleu release ------------------------------------------------------------------------------------

def test_a_damaged_sacrebleu_release_is_one_line_naming_the_file(wmt22, tmp_path):
    from mteval.data.sacrebleu_sets import load_sacrebleu
    from mteval.testing.sacrebleu_mirror import copy_release
    from tests.helpers import wmt22_xml

    cache = copy_release([wmt22_xml("en-zh")], tmp_path / "sacrebleu")
    (xml,) = cache.glob("wmt22/raw/*/xml/wmttest2022.en-zh.all.xml")
    data = xml.read_bytes()
    at = data.index(b'<seg id="5">') + 12
    xml.write_bytes(data[:at] + b"\xff\xfe\xc3" + data[at:])
    with pytest.raises(DataUnavailableError) as err:
        load_sacrebleu(name="wmt22", test_set="wmt22", langpair="en-zh", cache_dir=str(cache))
    message = str(err.value)
    assert message.startswith(f"sacrebleu test set wmt22 en-zh: the release file {xml} is damaged (not UTF-8 at byte")
    assert f"delete {cache}/wmt22 and fetch it" in message and len(message) < 800 and "\n" not in message


# -- _target_ overrides ---------------------------------------------------------------------------------------------

def test_a_target_override_outside_mteval_does_not_run(tmp_path):
    """`system._target_=os.makedirs` with the copy system's `name: copy` made ./copy before failing."""
    line = one_line(mteval(tmp_path, "system._target_=os.makedirs", "+system.exist_ok=true"))
    assert "system._target_='os.makedirs': only mteval's own system classes (mteval.systems.*)" in line
    assert not (tmp_path / "copy").exists()


@pytest.mark.parametrize(("where", "target"), [
    ("dataset.load", "mteval.data.userfile.os.makedirs"),  # an mteval name that is os.makedirs
    ("system", "mteval.systems.file.Path"),  # an mteval name that is pathlib.Path
    ("system", "mteval.metrics.sacre.BLEU"),  # mteval's, but not a system
    ("metrics.bleu", "builtins.exec"), ("dataset.load", "shutil.rmtree"), ("system", "subprocess.run")])
def test_targets_are_checked_by_where_they_are_defined(compose, where, target):
    from omegaconf import OmegaConf

    from mteval.commands.config_check import build

    node = OmegaConf.select(compose("system=copy", "metrics=[bleu]"), where)
    node._target_ = target
    with pytest.raises(ConfigError, match=rf"{where}\._target_='{target}': only mteval's own"):
        build(node, where)


def test_a_nested_target_is_checked_too(compose):
    from mteval.commands.config_check import build

    node = compose("system=copy").system
    node.name = {"_target_": "os.getcwd"}
    with pytest.raises(ConfigError, match=r"system\.name\._target_='os\.getcwd'"):
        build(node, "system")


def test_hydra_callback_targets_are_refused_on_the_command_line(tmp_path):
    line = one_line(mteval(tmp_path, "+hydra.callbacks.x._target_=os.getcwd"))
    assert "hydra.callbacks.x._target_='os.getcwd': Hydra's launcher and callbacks may only be" in line


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


# -- a run in which no metric produced a score ----------------------------------------------------------------------

def test_a_run_where_every_metric_was_skipped_exits_2_and_keeps_its_files(tmp_path):
    line = one_line(mteval(tmp_path, "metrics=[bleu,chrf]", refs=False))
    assert line.startswith("mteval: error: no metric produced a score (bleu: skipped, no segment has a reference; "
                           "chrf: skipped, no segment has a reference)")
    assert "allow_no_scores=true" in line and (tmp_path / "run" / "scores.json").is_file()
    accepted = mteval(tmp_path, "metrics=[bleu]", "allow_no_scores=true", refs=False)
    assert accepted.returncode == 0 and "(no metric produced a score)" in accepted.stdout


@pytest.mark.slow
def test_an_llm_judge_whose_every_answer_is_unparsable_exits_2(tiny_models, tmp_path):
    """The tiny random chat model never writes the JSON asked for: every answer is unparsable."""
    line = one_line(mteval(tmp_path, "metrics=[llm_judge]", f"metrics.llm_judge.model={tiny_models['chat']}",
                           "metrics.llm_judge.max_new_tokens=4", "metrics.llm_judge.dtype=float32", "device=cpu"))
    assert "no metric produced a score (llm_judge: no segment could be scored)" in line


def test_settings_of_the_run_are_checked(tmp_path):
    line = one_line(mteval(tmp_path, "allow_no_scores=maybe"))
    assert "allow_no_scores" in line
