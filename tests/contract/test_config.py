"""Contract tests over every config option: each composes, instantiates and matches its class."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from hydra.errors import InstantiationException
from hydra.utils import get_class, get_method, instantiate

from mteval.data.sacrebleu_cache import entry, is_cached
from mteval.errors import DataUnavailableError
from mteval.metrics.base import Metric
from mteval.systems.base import System
from mteval.types import Corpus
from tests.helpers import ROOT

CONF = ROOT / "conf"


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def reads_wmt22(group: str, option: str) -> bool:
    """Instantiating the option reads WMT22 text: a submitted system (the tests pair systems with a WMT22
    dataset), a WMT22 dataset, or dataset=sacrebleu (which required_overrides points at wmt22)."""
    text = (CONF / group / f"{option}.yaml").read_text(encoding="utf-8")
    if group == "system":
        return "wmt_submission" in text
    return option == "sacrebleu" or re.search(r"^test_set: wmt22\b", text, re.M) is not None


def params(group: str) -> list:
    """Every option of a group; those that read WMT22 carry the ``wmt22`` marker (skipped without the text)."""
    return [pytest.param(o, marks=pytest.mark.wmt22) if reads_wmt22(group, o) else o for o in options(group)]


def required_overrides(group: str, option: str, tmp_path: Path) -> list[str]:
    """Values a user must give for options with ``???`` fields."""
    if (group, option) == ("system", "file"):
        hyp = tmp_path / "hyp.zh"
        hyp.write_text("你好。\n早上好。\n", encoding="utf-8")
        return [f"system.path={hyp}"]
    if (group, option) == ("dataset", "files"):
        src, ref = tmp_path / "src.en", tmp_path / "ref.zh"
        src.write_text("Hello.\nGood morning.\n", encoding="utf-8")
        ref.write_text("你好。\n早上好。\n", encoding="utf-8")
        return [f"dataset.load.src={src}", f"dataset.load.refs=[{ref}]"]
    if (group, option) == ("system", "wmt_submission"):
        return ["system.submission=LanguageX"]
    if (group, option) == ("dataset", "sacrebleu"):
        return ["dataset.test_set=wmt22", "dataset.langpair=en-zh"]
    if (group, option) == ("dataset", "hf"):
        path = tmp_path / "h.jsonl"
        path.write_text('{"source": "Hello.", "target": "你好。"}\n', encoding="utf-8")
        return [f"dataset.path={path}"]
    if (group, option) == ("dataset", "jsonl"):
        path = tmp_path / "c.jsonl"
        path.write_text('{"id": "a", "src": "Hello.", "ref": "你好。"}\n', encoding="utf-8")
        return [f"dataset.load.path={path}"]
    return []


@pytest.mark.parametrize("option", params("system"))
def test_every_system_instantiates_without_loading_a_model(compose, option, tmp_path):
    pairs = compose(f"system={option}").system.get("language_pairs") or ["en-zh"]
    dataset = "wmt22_" + pairs[0].replace("-", "_")
    cfg = compose(f"system={option}", f"dataset={dataset}", *required_overrides("system", option, tmp_path))
    system = instantiate(cfg.system, _convert_="all")
    assert isinstance(system, System)
    assert system.name
    assert getattr(system, "_model", None) is None  # heavy loading waits for the first translate


@pytest.mark.parametrize("option", options("system"))
def test_system_yaml_keys_match_constructor(option):
    """Every YAML key is an explicit keyword of the target, so a typo fails at instantiation."""
    from omegaconf import OmegaConf

    raw = OmegaConf.load(CONF / "system" / f"{option}.yaml")
    if "_target_" not in raw:
        return  # extends another option through its defaults list
    target = raw["_target_"]
    try:
        fn = get_class(target)
    except (ValueError, ImportError):
        fn = get_method(target)
    params = inspect.signature(fn).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), f"{target} takes **kwargs"
    unknown = set(raw.keys()) - {"_target_", "defaults"} - set(params)
    assert not unknown, f"{option}.yaml keys not accepted by {target}: {unknown}"


@pytest.mark.parametrize("option", options("metrics"))
def test_every_metric_instantiates_and_declares_its_contract(compose, option):
    cfg = compose(f"metrics=[{option}]", "dataset=wmt22_en_zh")
    (node,) = cfg.metrics.values()
    metric = instantiate(node, _convert_="all")
    assert isinstance(metric, Metric)
    assert metric.name in {"bleu", "chrf", "chrf++", "ter", "comet", "cometkiwi", "metricx", "metricx_qe", "llm_judge"} \
        or metric.name.startswith(("comet", "xcomet"))
    assert isinstance(metric.higher_is_better, bool)
    assert isinstance(metric.needs_ref, bool) and isinstance(metric.needs_src, bool)


@pytest.mark.parametrize("option", params("dataset"))
def test_every_dataset_loads(compose, option, tmp_path):
    """Every dataset option loads; a sacrebleu test set the offline test cache lacks (only WMT22 is in
    it) names a real registry entry and stops with the one-line fetch hint instead of downloading."""
    cfg = compose(f"dataset={option}", "dataset.load.limit=5", *required_overrides("dataset", option, tmp_path))
    if cfg.dataset.load._target_.endswith("load_sacrebleu") and cfg.dataset.test_set != "wmt22":
        ds = entry(cfg.dataset.test_set, cfg.dataset.langpair)  # raises ConfigError for an unknown set or pair
        assert cfg.dataset.direction == cfg.dataset.langpair and not is_cached(ds, cfg.dataset.langpair)
        with pytest.raises(InstantiationException) as err:
            instantiate(cfg.dataset.load, _convert_="all")
        cause = err.value.__cause__
        assert isinstance(cause, DataUnavailableError) and "mteval-prefetch dataset=sacrebleu" in str(cause)
        return
    if cfg.dataset.load._target_.endswith("load_hf") and option != "hf":  # a Hub dataset, not cached here
        with pytest.raises(InstantiationException) as err:
            instantiate(cfg.dataset.load, _convert_="all")
        assert isinstance(err.value.__cause__, DataUnavailableError) and cfg.dataset.path in str(err.value.__cause__)
        return
    corpus = instantiate(cfg.dataset.load, _convert_="all")
    assert isinstance(corpus, Corpus)
    assert 0 < len(corpus) <= 5
    assert corpus.direction == cfg.dataset.direction
    assert cfg.dataset.zh_punct in {"none", "halfwidth"}


def test_metric_normalisation_follows_the_dataset(compose):
    wmt = compose("dataset=wmt22_en_zh", "metrics=[bleu]")
    abstracts = compose("dataset=abstracts", "metrics=[bleu]")
    assert instantiate(wmt.metrics.bleu).zh_punct == "none"
    assert instantiate(abstracts.metrics.bleu).zh_punct == "halfwidth"


def test_default_experiment_is_opus_mt_on_abstracts_with_bleu_chrf_comet_kiwi(compose):
    cfg = compose()
    assert cfg.system.model == "Helsinki-NLP/opus-mt-en-zh"
    assert cfg.dataset.name == "abstracts"
    assert set(cfg.metrics) == {"bleu", "chrf", "comet", "metricx_qe"}
    assert cfg.metrics.comet.model == "Unbabel/wmt22-comet-da"
    assert cfg.metrics.metricx_qe.model == "google/metricx-24-hybrid-large-v2p6"


def test_real_model_ids_are_configured(compose):
    ids = {opt: compose(f"system={opt}").system.get("model") for opt in options("system")}
    assert ids["nllb_600m"] == "facebook/nllb-200-distilled-600M"
    assert ids["m2m100_418m"] == "facebook/m2m100_418M"
    assert ids["qwen2_5_1_5b"] == "Qwen/Qwen2.5-1.5B-Instruct"
    nllb = compose("system=nllb_600m").system
    assert dict(nllb.lang_codes) == {"en": "eng_Latn", "zh": "zho_Hans"}


def test_typo_in_override_fails_at_instantiation(compose):
    cfg = compose("system=opus_mt_en_zh", "+system.num_beam=3")
    with pytest.raises(Exception, match="num_beam"):
        instantiate(cfg.system)
