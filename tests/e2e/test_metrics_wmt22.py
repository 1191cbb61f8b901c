"""BLEU and chrF on WMT22 equal the sacrebleu command line on its own test-set text, and the published numbers."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mteval.metrics.sacre import BLEU, ChrF
from tests.helpers import sacrebleu_field

# Full WMT22-sized scoring, through the registry of the session's sacrebleu cache.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("wmt22")]


@pytest.mark.parametrize(("direction", "tgt"), [("en-zh", "zh"), ("zh-en", "en")])
@pytest.mark.parametrize("system", ["LanguageX", "Online-G"])
def test_corpus_scores_equal_sacrebleu_cli(direction, tgt, system):
    """Our BLEU/chrF on sacrebleu's own test-set text equal `sacrebleu -t wmt22 -l <pair>` (registry, test cache)."""
    ref = sacrebleu_field(direction, "ref:A")
    hyp = sacrebleu_field(direction, system)
    cli = subprocess.run(
        [sys.executable, "-m", "sacrebleu", "-t", "wmt22", "-l", direction, "-i", str(hyp), "-m", "bleu", "chrf",
         "--width", "4", "--format", "json"],
        capture_output=True, text=True, check=True,
    )
    expected = {d["name"]: d["score"] for d in json.loads(cli.stdout)}
    hyps = hyp.read_text(encoding="utf-8").split("\n")[:-1]
    refs = [[r] for r in ref.read_text(encoding="utf-8").split("\n")[:-1]]
    assert BLEU(zh_punct="none").score(hyps, refs, tgt_lang=tgt).score == pytest.approx(expected["BLEU"], abs=0.01)
    assert ChrF(zh_punct="none").score(hyps, refs, tgt_lang=tgt).score == pytest.approx(expected["chrF2"], abs=0.01)


def test_published_languagex_numbers():
    hyps = sacrebleu_field("en-zh", "LanguageX").read_text().split("\n")[:-1]
    refs = [[r] for r in sacrebleu_field("en-zh", "ref:A").read_text().split("\n")[:-1]]
    assert round(BLEU(zh_punct="none").score(hyps, refs, tgt_lang="zh").score, 2) == 54.35
    assert round(ChrF(zh_punct="none").score(hyps, refs, tgt_lang="zh").score, 2) == 49.11
