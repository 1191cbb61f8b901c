"""Property tests: loaders, the sentence splitter and the normalisers never lose, duplicate or reorder a segment."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from mteval.data.jsonl import load_jsonl
from mteval.data.plaintext import load_files
from mteval.data.seeds import SEPARATOR, block_id, read_page, read_pages
from mteval.data.textfile import read_lines, read_segments
from mteval.metrics.sacre import BLEU, TER, ChrF
from mteval.text.normalize import fullwidth_share, normalize_punct, to_halfwidth
from mteval.text.sentences import join_sentences, split_en, split_long, split_sentences, split_zh

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that may appear inside one line: anything but line breaks, control characters (tab is
# allowed), U+2028/U+2029 and a byte-order mark, which the reader refuses with file:line.
_CHAR = st.one_of(
    st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufeff"),
    st.sampled_from("\t 。，！？.!?;:、「」“”()（）"),
)
LINE = st.text(_CHAR, max_size=40)
SEGMENT = LINE.filter(lambda s: s.strip() != "")
# Prose-like text for the splitters: words, CJK, sentence marks and spaces, so splits really happen.
_WORD = st.sampled_from(["The", "model", "e.g.", "Fig.", "J.", "et al.", "works", "3.5", "U.S.", "(see", "it)",
                         "模型", "翻译", "很好", "数据集", "Dr.", "\\eg", "\"Yes", "no", "A", "x"])
_MARK = st.sampled_from([".", "!", "?", "。", "！", "？", "…", "", "", "", ",", "”", ")", "」"])
PROSE = st.lists(st.tuples(_WORD, _MARK, st.sampled_from([" ", " ", "  ", "\t", "", "\u3000"])), max_size=30).map(
    lambda parts: "".join(w + m + s for w, m, s in parts))


def nows(text: str) -> str:
    """The text without whitespace: what a splitter must keep, in order."""
    return "".join(text.split())


def write(data: bytes, suffix: str = ".txt") -> Path:
    with tempfile.NamedTemporaryFile(delete=False, suffix=suffix) as f:
        f.write(data)
    return Path(f.name)


@SETTINGS
@given(lines=st.lists(LINE, max_size=12), eols=st.lists(st.sampled_from(["\n", "\r\n"]), min_size=12, max_size=12),
       bom=st.booleans(), final_newline=st.booleans())
def test_read_lines_gives_back_every_line_in_order(lines, eols, bom, final_newline):
    assume(not (lines and lines[0].startswith("\ufeff")))
    text = "".join(line + eols[i] for i, line in enumerate(lines))
    if lines and not final_newline and lines[-1] != "":
        text = text[: -len(eols[len(lines) - 1])]  # no newline after the last line
    path = write((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    assert read_lines(path) == list(enumerate(lines, start=1))


@SETTINGS
@given(lines=st.lists(SEGMENT, min_size=1, max_size=12))
def test_read_segments_keeps_every_segment(lines):
    path = write("".join(line + "\n" for line in lines).encode("utf-8"))
    assert read_segments(path) == lines
    assert read_segments(path, allow_empty_lines=True) == lines


@SETTINGS
@given(hyps=st.lists(LINE, min_size=1, max_size=12))
def test_hypothesis_files_keep_empty_lines_in_place(hyps):
    path = write("".join(h + "\n" for h in hyps).encode("utf-8"))
    assert read_segments(path, allow_empty_lines=True) == hyps


@SETTINGS
@given(pairs=st.lists(st.tuples(SEGMENT, SEGMENT, SEGMENT), min_size=1, max_size=10),
       limit=st.one_of(st.none(), st.integers(1, 12)))
def test_plain_text_corpus_keeps_alignment(pairs, limit):
    src = write("".join(s + "\n" for s, _, _ in pairs).encode("utf-8"))
    ref_a = write("".join(r + "\n" for _, r, _ in pairs).encode("utf-8"))
    ref_b = write("".join(r + "\n" for _, _, r in pairs).encode("utf-8"))
    corpus = load_files(name="p", src=str(src), refs=[str(ref_a), str(ref_b)], direction="en-zh",
                        limit=limit)
    kept = pairs[:limit] if limit else pairs
    assert [(s.src, s.refs[0], s.refs[1]) for s in corpus.segments] == kept
    assert [s.id for s in corpus.segments] == [str(i) for i in range(1, len(kept) + 1)]


ROW = st.fixed_dictionaries({"src": SEGMENT}, optional={"ref": SEGMENT, "note": LINE})


@SETTINGS
@given(rows=st.lists(ROW, min_size=1, max_size=10), blank_after=st.sets(st.integers(0, 9)),
       with_ids=st.booleans(), limit=st.one_of(st.none(), st.integers(1, 12)))
def test_jsonl_corpus_keeps_every_row_in_order(rows, blank_after, with_ids, limit):
    lines = []
    for i, row in enumerate(rows):
        lines.append(json.dumps({**row, **({"id": f"seg-{i}"} if with_ids else {})}, ensure_ascii=bool(i % 2)))
        if i in blank_after:
            lines.append("   ")  # blank lines between records are skipped, not segments
    path = write(("\n".join(lines) + "\n").encode("utf-8"), ".jsonl")
    corpus = load_jsonl(name="j", path=str(path), direction="en-zh", limit=limit)
    kept = rows[:limit] if limit else rows
    assert [s.src for s in corpus.segments] == [r["src"] for r in kept]
    assert [s.refs for s in corpus.segments] == [[r["ref"]] if "ref" in r else [] for r in kept]
    ids = [s.id for s in corpus.segments]
    assert len(set(ids)) == len(ids)
    if with_ids:
        assert ids == [f"seg-{i}" for i in range(len(kept))]


TSV_CELL = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs"), exclude_characters="\ufeff"),
                   min_size=1, max_size=30)


@SETTINGS
@given(rows=st.lists(st.tuples(TSV_CELL, st.lists(TSV_CELL, max_size=2)), min_size=1, max_size=10))
def test_tsv_corpus_keeps_every_row_in_order(rows):
    path = write("".join("\t".join([s, *refs]) + "\n" for s, refs in rows).encode("utf-8"), ".tsv")
    corpus = load_jsonl(name="t", path=str(path), direction="en-zh")
    assert [(s.src, s.refs) for s in corpus.segments] == [(s, refs) for s, refs in rows]


BLOCK_LINE = LINE.filter(lambda s: s.strip() not in ("", SEPARATOR))
# Blocks that recur, some equal only after whitespace normalisation, so dedupe really happens.
REPEATED = st.sampled_from(["Alpha beta.", "模型翻译。", "Alpha  beta.", "Gamma.", "伽马"])


@SETTINGS
@given(blocks=st.lists(st.lists(BLOCK_LINE, min_size=1, max_size=4), max_size=8),
       gap=st.sampled_from(["", "\n", "\n  \n"]), pad=st.sampled_from(["", "  ", "\t"]))
def test_seed_page_blocks_keep_their_text_and_order(blocks, gap, pad):
    sep = f"{gap}{pad}{SEPARATOR}{pad}\n{gap}"
    page = sep.join("".join(line + "\n" for line in block) for block in blocks)
    got = read_page(write(page.encode("utf-8")))
    assert [nows(text) for text, _ in got] == [nows("".join(block)) for block in blocks]
    assert [o.block for _, o in got] == list(range(1, len(blocks) + 1))
    assert all("\n" not in text and text == text.strip() for text, _ in got)


@SETTINGS
@given(pages=st.lists(st.lists(REPEATED | BLOCK_LINE, max_size=6), min_size=1, max_size=3))
def test_seed_pages_dedupe_without_losing_or_reordering(pages):
    paths = [write(f"\n{SEPARATOR}\n".join(page).encode("utf-8")) for page in pages]
    blocks = read_pages(paths)
    texts = [t for p in paths for t, _ in read_page(p)]
    first_seen = list(dict.fromkeys(block_id(t) for t in texts))
    assert [b.id for b in blocks] == first_seen  # every distinct block, in order of first appearance
    assert sum(b.count for b in blocks) == len(texts)  # every occurrence kept as an origin


@SETTINGS
@given(text=PROSE | st.text(max_size=200))
@example(text="See Fig. 3. It works! Really? Yes.")
@example(text="模型很好。数据集！翻译？好")
@example(text='The U.S. Army. Q. Why? A. Because. ” 1. Item. ).')
def test_splitters_keep_every_character_in_order(text):
    for pieces in (split_en(text), split_zh(text), split_sentences(text, "en"), split_sentences(text, "zh")):
        assert nows("".join(pieces)) == nows(text)
        assert all(p and p == p.strip() for p in pieces)


@SETTINGS
@given(text=st.text(_CHAR, max_size=300), max_chars=st.integers(1, 50))
def test_split_long_is_exact_and_bounded(text, max_chars):
    parts = split_long(text, max_chars)
    assert "".join(parts) == text
    assert all(0 < len(p) <= max_chars for p in parts) or text == ""


def test_split_long_handles_a_very_long_unbroken_line():
    text = "模" * 20000  # no clause marks, no spaces: thousands of hard cuts, no recursion limit
    parts = split_long(text, 3)
    assert "".join(parts) == text and max(map(len, parts)) == 3
    with pytest.raises(ValueError, match="max_chars"):
        split_long("abc", 0)


@SETTINGS
@given(sentences=st.lists(SEGMENT, max_size=8), lang=st.sampled_from(["en", "zh", "ja", "de"]))
def test_join_sentences_keeps_every_sentence_in_order(sentences, lang):
    assert nows(join_sentences(sentences, lang)) == "".join(nows(s) for s in sentences)


@SETTINGS
@given(texts=st.lists(LINE, max_size=10))
def test_normalisers_map_one_to_one(texts):
    for mode in ("none", "halfwidth"):
        out = [normalize_punct(t, mode) for t in texts]
        assert len(out) == len(texts)
        assert all(len(a) == len(b) for a, b in zip(out, texts, strict=True))  # character for character
        assert all("\n" not in t and "\r" not in t for t in out)
    for t in texts:
        assert to_halfwidth(to_halfwidth(t)) == to_halfwidth(t)
        assert 0.0 <= fullwidth_share(t) <= 1.0
    for metric in (BLEU(), ChrF(), TER()):
        assert len(metric.prepare(list(texts), "zh")) == len(texts)
        assert metric.prepare(list(texts), "en") == list(texts)  # no normalisation off Chinese targets


def echo_system(*, max_input_tokens: int, batch_size: int, fits: int, split: bool):
    """A SentenceBatchedSystem that 'translates' by echoing, counts a token per character and runs
    out of GPU memory on any batch larger than ``fits`` (as the RuntimeError older torch raises)."""
    from mteval.systems.base import SentenceBatchedSystem

    class Echo(SentenceBatchedSystem):
        def _translate_batch(self, sentences, *, src_lang, tgt_lang):
            if len(sentences) > fits:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return [f"\x01{s}\x02" for s in sentences]

        def count_tokens(self, texts):
            return [len(t) for t in texts]

    return Echo(name="echo", batch_size=batch_size, max_tokens=None, max_input_tokens=max_input_tokens,
                split_sentences=split)


@pytest.fixture
def quiet_splitting(monkeypatch):
    """The long-piece and OOM warnings are expected here, hundreds of times; so are the retries, each of
    which would run a full gc.collect() to free GPU memory there is none of (seconds late in a session)."""
    import logging

    from mteval.systems import base

    monkeypatch.setattr(base, "free_gpu_memory", lambda: None)
    logger = logging.getLogger("mteval.systems.base")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@SETTINGS
@given(sources=st.lists(PROSE | SEGMENT, min_size=1, max_size=8), max_input_tokens=st.integers(3, 40),
       batch_size=st.integers(1, 6), fits=st.integers(1, 6), split=st.booleans())
def test_sentence_batching_returns_every_source_in_order(quiet_splitting, sources, max_input_tokens, batch_size, fits,
                                                        split):
    """Sentence splitting, further splitting of long pieces, length-sorted batches and OOM halving
    together: each output is its own source's pieces, in order, and nothing else."""
    system = echo_system(max_input_tokens=max_input_tokens, batch_size=batch_size, fits=fits, split=split)
    out = system.translate(sources, src_lang="en", tgt_lang="en").hyps
    assert len(out) == len(sources)
    for src, hyp in zip(sources, out, strict=True):
        assert nows(hyp.replace("\x01", "").replace("\x02", "")) == nows(src)
        assert hyp.count("\x01") == hyp.count("\x02")  # whole pieces, none cut or doubled


@pytest.mark.parametrize("limit", [0, -1])
def test_jsonl_limit_below_one_is_an_error_not_a_silent_slice(limit):
    """``segments[:-1]`` would drop the last segment without a word; ``limit=0`` used to mean "all"."""
    from mteval.validate import SettingError

    path = write(jl_rows([{"src": "a"}, {"src": "b"}]), ".jsonl")
    with pytest.raises(SettingError, match=r"limit=-?\d+ is out of range: use an integer >= 1"):
        load_jsonl(name="j", path=str(path), direction="en-zh", limit=limit)


def test_jsonl_null_ids_fall_back_to_line_numbers():
    path = write(jl_rows([{"id": None, "src": "a"}, {"id": None, "src": "b"}]), ".jsonl")
    corpus = load_jsonl(name="j", path=str(path), direction="en-zh")
    assert [s.id for s in corpus.segments] == ["1", "2"]  # not "None" twice (a duplicate-id error)


def jl_rows(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")
