"""Beam termination (issue 20): one resolved setting, given to transformers as ``early_stopping`` and to
CTranslate2 as its stopping rule; identical outputs wherever CTranslate2 can stop alike, a signature
that says so where it cannot. Checked on tiny models that end their sentences at different steps."""
from __future__ import annotations

import pytest

from mteval.signature import Signature

from mteval.errors import ConfigError
from mteval.systems.ctranslate2 import CT2Seq2Seq
from mteval.systems.decoding import resolve_decoding
from mteval.systems.hf_seq2seq import HFSeq2Seq
from tests.helpers import wmt22_lines

pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

# tiny layout -> (lang_codes, target_token, the real model's own early_stopping)
LAYOUTS = {
    "marian": (None, ">>cmn_Hans<<", False),  # opus-mt: no early_stopping in its files, transformers' False
    "nllb": ({"en": "eng_Latn", "zh": "zho_Hans"}, None, False),  # nllb-200-distilled-600M: none either
    "m2m100": ({"en": "en", "zh": "zh"}, None, True),  # m2m100_418M's config.json: true
}
# (early_stopping, length_penalty) -> the rule both engines apply
EXPRESSIBLE = {(True, 1.0): "n-finished", (True, 2.0): "n-finished", (False, 0.0): "best-finished",
               ("never", 0.0): "best-finished"}


@pytest.mark.parametrize(
    ("own", "configured", "lp", "beams", "hf", "ct2"),
    [
        (True, None, 1.0, 4, "n-finished", "n-finished"),  # m2m100_418M's own
        (None, None, 1.0, 4, "hf-heuristic", "n-finished(asked:hf-heuristic)"),  # transformers' default False
        (True, False, 1.0, 4, "hf-heuristic", "n-finished(asked:hf-heuristic)"),  # the config wins
        (False, "never", 0.6, 4, "hf-never", "n-finished(asked:hf-never)"),
        (False, None, 0.0, 4, "best-finished", "best-finished"),  # no length penalty: scores only fall
        (True, None, 0.0, 4, "n-finished", "best-finished(asked:n-finished)"),  # CT2 ignores patience there
        (True, None, 1.0, 1, "greedy", "greedy"),
    ],
)
def test_the_rule_is_resolved_once_and_named_per_engine(own, configured, lp, beams, hf, ct2):
    model = {} if own is None else {"early_stopping": own}
    decoding = resolve_decoding(model, max_new_tokens=8, num_beams=beams, length_penalty=lp,
                                early_stopping=configured)
    assert decoding.beam_stop() == hf and decoding.ct2_beam_stop() == ct2
    assert decoding.hf_kwargs()["early_stopping"] == (decoding.early_stopping if beams > 1 else False)
    assert decoding.ct2_kwargs()["patience"] == 1.0
    assert decoding.describe(ct2)["beam_stop"] == ct2
    assert (f"|stop:{ct2}|" in str(Signature.of(**decoding.signature_fields(ct2)))) == (beams > 1)


def _decoding_keys(system) -> list[tuple[str, str]]:
    """The decoding part of a system's signature: search, lp, stop, rp, nrng, max."""
    return [(k, v) for k, v in Signature.parse(system.fingerprint()["signature"])
            if k in {"search", "lp", "stop", "rp", "nrng", "max"}]


def test_a_value_transformers_refuses_is_refused_naming_its_source():
    with pytest.raises(ConfigError, match="from the model's generation config"):
        resolve_decoding({"early_stopping": "sometimes"}, max_new_tokens=8)
    with pytest.raises(ConfigError, match="early_stopping"):
        HFSeq2Seq(name="t", model="m", early_stopping="always")


@pytest.fixture(scope="module")
def eos_models(tiny_models, tmp_path_factory):
    from mteval.testing.tiny_eos import build_eos_emitting

    root = tmp_path_factory.mktemp("eos_models")
    return {name: build_eos_emitting(root / name, tiny_models[name], layout=name, early_stopping=own)
            for name, (_, _, own) in LAYOUTS.items()}


@pytest.fixture(scope="module")
def wmt22_sources(wmt22):
    lines = wmt22_lines("en-zh", "src")
    return [line for line in lines if line.strip()][:30]


def _pair(eos_models, tmp_path_factory, layout: str, **decoding):
    codes, token, _ = LAYOUTS[layout]
    kw = dict(name=layout, model=str(eos_models[layout]), lang_codes=codes, target_token=token, num_beams=6,
              max_new_tokens=48, batch_size=8, max_tokens=None, max_input_tokens=512, split_sentences=False,
              device="cpu", **decoding)
    converted = tmp_path_factory.getbasetemp() / "ct2-eos" / layout  # converted once per layout
    return (HFSeq2Seq(**kw, dtype="float32", parallel_batches=1),
            CT2Seq2Seq(**kw, compute_type="float32", inter_threads=1, converted_dir=str(converted)))


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_both_backends_give_the_same_hypotheses_where_ct2_can_stop_alike(eos_models, tmp_path_factory,
                                                                          wmt22_sources, layout):
    outputs = {}
    for (early_stopping, lp), rule in EXPRESSIBLE.items():
        hf, ct2 = _pair(eos_models, tmp_path_factory, layout, early_stopping=early_stopping, length_penalty=lp)
        made = hf.translate(wmt22_sources, src_lang="en", tgt_lang="zh")
        expected = made.hyps
        got = ct2.translate(wmt22_sources, src_lang="en", tgt_lang="zh").hyps
        agree = sum(a == b for a, b in zip(expected, got, strict=True))
        assert agree == len(wmt22_sources), f"early_stopping={early_stopping}, lp={lp}: {agree}/30 agree"
        # the same decoding, named alike (the engines' own device, dtype and version keys aside)
        assert _decoding_keys(hf) == _decoding_keys(ct2)
        assert f"|stop:{rule}|" in ct2.fingerprint()["signature"]
        outputs[early_stopping, lp] = expected
    # The models end sentences at varied steps with varied text, or the test could not tell rules apart.
    assert len(set(outputs[True, 1.0])) >= 10
    assert not made.counters.get("outputs_length_capped")  # every output ended with end-of-sentence


@pytest.mark.slow
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_where_ct2_cannot_stop_alike_the_signature_says_so_and_outputs_differ(eos_models, tmp_path_factory,
                                                                               wmt22_sources, layout):
    hf, ct2 = _pair(eos_models, tmp_path_factory, layout, early_stopping=False, length_penalty=1.0)
    assert "|stop:hf-heuristic|" in hf.fingerprint()["signature"]
    assert "|stop:n-finished(asked:hf-heuristic)|" in ct2.fingerprint()["signature"]
    assert ct2.fingerprint()["decoding"]["early_stopping"] is False
    heuristic = hf.translate(wmt22_sources, src_lang="en", tgt_lang="zh").hyps
    got = ct2.translate(wmt22_sources, src_lang="en", tgt_lang="zh").hyps
    # The difference the signature names is real on these models: without it this suite could not fail.
    assert sum(a != b for a, b in zip(heuristic, got, strict=True)) >= 3
