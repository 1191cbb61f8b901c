"""sacrebleu metrics (BLEU, chrF, chrF++, TER) with the right tokenizer for Chinese and a signature."""
from __future__ import annotations

from typing import Any

from mteval import validate
from mteval.metrics.base import MAX_CHARS, Metric
from mteval.metrics.fasttok import speed_up
from mteval.metrics.sacre_stats import count_words
from mteval.metrics.sacre_stream import corpus_score, extract, sentence_scores
from mteval.signature import Signature
from mteval.text.normalize import MODES, normalize_punct
from mteval.types import MetricResult


def _bleu_tokenizers() -> list[str]:
    """The tokenizer names sacrebleu's BLEU accepts (imported on use: sacrebleu loads in well under a second)."""
    from sacrebleu.metrics import BLEU as SacreBLEU

    return list(SacreBLEU.TOKENIZERS)


class SacreMetric(Metric):
    """Shared work for sacrebleu metrics: normalisation, streams, corpus and sentence scores.

    Args:
        zh_punct: punctuation normalisation for Chinese targets (``halfwidth`` or ``none``);
            written into the signature as ``|zhpunct:halfwidth`` when applied.
        max_chars: the longest text (characters) scored; a longer one is refused before translating.
    """

    def __init__(self, *, zh_punct: str = "halfwidth", max_chars: int = MAX_CHARS):
        self.zh_punct = validate.choice("zh_punct", zh_punct, MODES)
        self.max_chars = validate.integer("max_chars", max_chars, minimum=1)

    def _make(self, tgt_lang: str, *, sentence: bool) -> Any:
        raise NotImplementedError

    def sacrebleu_metric(self, tgt_lang: str, *, sentence: bool = False) -> Any:
        """The configured sacrebleu object (for the corpus score, or sentence scores)."""
        return self._make(tgt_lang, sentence=sentence)

    def prepare(self, texts: list[str], tgt_lang: str) -> list[str]:
        """Apply the target-side normalisation this metric scores with."""
        mode = self.zh_punct if tgt_lang == "zh" else "none"
        return [normalize_punct(t, mode) for t in texts]

    def signature(self, sacre_metric: Any, tgt_lang: str) -> Signature:
        """sacrebleu's own signature, byte for byte, then ``zhpunct:halfwidth`` where punctuation was mapped."""
        mapped = tgt_lang == "zh" and self.zh_punct != "none"
        return Signature.parse(str(sacre_metric.get_signature())) + Signature.of(zh_punct=self.zh_punct if mapped else None)

    def _score(self, hyps, refs, srcs, *, tgt_lang):
        hyps = self.prepare(hyps, tgt_lang)
        refs = [self.prepare(r, tgt_lang) for r in refs]
        corpus_metric = self._make(tgt_lang, sentence=False)
        speed_up(corpus_metric)  # the zh tokenizer's per-character work in str.translate: same tokens
        # One pass over the data: per-segment sufficient statistics give both the corpus score
        # (summed, exactly what corpus_score does) and the sentence scores. Tokenising twice
        # doubled the run time (TER with asian_support: 70 s per pass on WMT22 en-zh). Extracted in
        # chunks: sacrebleu holds every reference's n-grams at once (12 GB at 1M segments, issue 21).
        stats = extract(corpus_metric, hyps, refs)
        corpus = corpus_score(corpus_metric, stats)
        segs = sentence_scores(self._make(tgt_lang, sentence=True), stats)
        return MetricResult(self.name, corpus, str(self.signature(corpus_metric, tgt_lang)), segment_scores=segs)


class BLEU(SacreMetric):
    """sacrebleu BLEU. ``tokenize='auto'`` picks ``zh`` for Chinese targets and ``13a`` otherwise.

    sacrebleu's Python API defaults to 13a even for Chinese, which scores a whole unsegmented
    sentence as a single token; the command line picks ``zh`` from ``-l en-zh``. We follow the CLI.
    Segment scores use ``effective_order=True``, as sacrebleu recommends for sentence BLEU.
    """

    name = "bleu"

    def __init__(self, *, tokenize: str = "auto", lowercase: bool = False, zh_punct: str = "halfwidth",
                 max_chars: int = MAX_CHARS):
        super().__init__(zh_punct=zh_punct, max_chars=max_chars)
        self.tokenize = validate.choice("tokenize", tokenize, ("auto", *_bleu_tokenizers()))
        self.lowercase = validate.boolean("lowercase", lowercase)

    def resolved_tokenize(self, tgt_lang: str) -> str:
        if self.tokenize != "auto":
            return self.tokenize
        return {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}.get(tgt_lang, "13a")

    def _make(self, tgt_lang, *, sentence):
        from sacrebleu.metrics import BLEU as SacreBLEU

        return SacreBLEU(tokenize=self.resolved_tokenize(tgt_lang), lowercase=self.lowercase, effective_order=sentence)


class ChrF(SacreMetric):
    """sacrebleu chrF (``word_order=0``) or chrF++ (``word_order=2``)."""

    def __init__(self, *, word_order: int = 0, char_order: int = 6, beta: int = 2, zh_punct: str = "halfwidth",
                 max_chars: int = MAX_CHARS):
        super().__init__(zh_punct=zh_punct, max_chars=max_chars)
        self.word_order = validate.integer("word_order", word_order, minimum=0)
        self.char_order = validate.integer("char_order", char_order, minimum=1)
        self.beta = validate.integer("beta", beta, minimum=0)
        self.name = "chrf++" if word_order == 2 else ("chrf" if word_order == 0 else f"chrf_w{word_order}")

    def _make(self, tgt_lang, *, sentence):
        from sacrebleu.metrics import CHRF

        return CHRF(char_order=self.char_order, word_order=self.word_order, beta=self.beta)


class TER(SacreMetric):
    """sacrebleu TER (lower is better).

    For Chinese, Japanese and Korean targets ``asian_support`` splits CJK characters; sacrebleu
    applies it only inside its tercom normalisation, so ``normalized=None`` (auto) turns
    normalisation on for those targets. Without both, a whole unsegmented Chinese sentence is one
    word and LanguageX scores TER 97.1 on WMT22 en-zh instead of 36.4.

    TER's shift search costs time and memory that grow faster than the length of a segment
    (sacrebleu 2.x, random Chinese text, one segment: 1,000 words 23 s / 171 MB, 2,000 words
    69 s / 305 MB; 20,000 characters took 6.4 GB and 100,000 were killed at 23 GB), so a
    segment longer than ``max_words`` words as TER counts them (each CJK character is one) is
    refused, naming the segment, before any scoring starts; WMT22's longest reference has
    about 480 Chinese characters.
    """

    name = "ter"
    higher_is_better = False

    def __init__(self, *, normalized: bool | None = None, case_sensitive: bool = False, zh_punct: str = "halfwidth",
                 max_words: int = 2000, max_chars: int = MAX_CHARS):
        super().__init__(zh_punct=zh_punct, max_chars=max_chars)
        self.max_words = validate.integer("max_words", max_words, minimum=1)
        self.normalized = validate.boolean("normalized", normalized, optional=True)
        self.case_sensitive = validate.boolean("case_sensitive", case_sensitive)

    def _make(self, tgt_lang, *, sentence):
        from sacrebleu.metrics import TER as SacreTER

        asian = tgt_lang in {"zh", "ja", "ko"}
        return SacreTER(
            normalized=asian if self.normalized is None else self.normalized,
            case_sensitive=self.case_sensitive,
            asian_support=asian,
        )

    def oversized(self, texts: list[str], tgt_lang: str) -> list[tuple[int, int]]:
        """``(index, words)`` of the texts longer than ``max_words`` words as TER tokenises them."""
        metric = None
        out = []
        for i, text in enumerate(texts):
            if len(text) <= self.max_words:  # never more words than characters: skip tokenising
                continue
            metric = metric or self._make(tgt_lang, sentence=True)
            words = count_words(metric, self.prepare([text], tgt_lang)[0])
            if words > self.max_words:
                out.append((i, words))
        return out
