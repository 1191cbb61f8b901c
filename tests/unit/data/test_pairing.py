"""Pairing EN/ZH versions of one abstract: seed pages, evaluations built from WMT22 documents, the CLI."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from mteval.data.dictionary import english_stems, load_lexicon, parse_cedict, stem
from mteval.data.pairing import Pair, find_pairs
from mteval.data.pairing_signals import extract
from mteval.data.seeds import SEPARATOR, block_id, page_paths, read_pages
from mteval.types import Block
from tests.helpers import ORIGINALS, ROOT, wmt22_xml

SEEDS = ROOT / "data" / "abstracts"


# ---------------------------------------------------------------- evaluations built from WMT22 documents


@pytest.fixture(scope="module")
def wmt_docs(wmt22) -> list[dict]:
    """Every non-conversation WMT22 en-zh document: source, reference A and two systems' outputs.

    Chat transcripts are left out: different conversations there repeat the same support
    templates almost word for word, which different abstracts never do.
    """
    docs = []
    for doc in ET.parse(wmt22_xml("en-zh")).getroot().iter("doc"):
        if doc.get("domain") == "conversation":
            continue
        sides = {"src": doc.find("src")}
        sides["ref"] = next(r for r in doc.findall("ref") if r.get("translator") == "A")
        for system in ("Online-B", "Online-G"):
            sides[system] = next(h for h in doc.findall("hyp") if h.get("system") == system)
        docs.append({"id": doc.get("id"), **{k: [s.text or "" for s in v.iter("seg")] for k, v in sides.items()}})
    return docs


def _units(docs: list[dict], rng: random.Random, *, zh_side: str, min_en_chars: int) -> list[dict]:
    """Parallel "abstracts": a whole short document, or runs of 3-8 consecutive lines of a long one.

    Units holding a line that occurs elsewhere in the test set (boilerplate) are dropped, so two
    units never share a sentence.
    """
    seen = Counter(s.strip().lower() for d in docs for s in d["src"])
    units = []
    for d in docs:
        n = len(d["src"])
        spans = [(0, n)] if n < 12 else []
        start = 0
        while n >= 12 and start + 3 <= n:
            size = rng.randint(3, 8)
            spans.append((start, min(start + size, n)))
            start += size
        for a, b in spans:
            if any(seen[s.strip().lower()] > 1 and len(s) > 30 for s in d["src"][a:b]):
                continue
            en = " ".join(s.strip() for s in d["src"][a:b])
            if len(en) >= min_en_chars:
                units.append({"doc": d["id"], "en": en, "zh": "".join(s.strip() for s in d[zh_side][a:b]),
                              "mt": "".join(s.strip() for s in d["Online-B"][a:b])})
    return units


def build_pages(tmp: Path, docs: list[dict], *, seed: int, n_true: int, n_en_only: int, n_zh_only: int,
                min_en_chars: int, one_per_doc: bool, zh_side: str = "ref", n_pages: int = 5,
                n_repeats: int = 10) -> tuple[list[Path], set[tuple[str, str]], dict[str, str]]:
    """Write seed-format pages: both sides of ``n_true`` pairs among one-sided distractors.

    Returns the pages, the true (en, zh) text pairs, and an MT lookup (English text -> Online-B).
    """
    rng = random.Random(seed)
    units = _units(docs, rng, zh_side=zh_side, min_en_chars=min_en_chars)
    rng.shuffle(units)
    if one_per_doc:
        units = list({u["doc"]: u for u in reversed(units)}.values())
    true = units[:n_true]
    en_only = units[n_true : n_true + n_en_only]
    zh_only = units[n_true + n_en_only : n_true + n_en_only + n_zh_only]
    assert len(zh_only) == n_zh_only, "not enough units for this evaluation"
    texts = [u["en"] for u in true + en_only] + [u["zh"] for u in true + zh_only]
    rng.shuffle(texts)
    pages = [texts[k::n_pages] for k in range(n_pages)]
    for text in rng.sample(texts, n_repeats):  # the same abstract on several pages
        rng.choice(pages).append(text)
    paths = []
    for k, page in enumerate(pages):
        path = tmp / f"page_{k:02d}.txt"
        path.write_text(f"\n{SEPARATOR}\n".join(page) + "\n", encoding="utf-8")
        paths.append(path)
    return paths, {(u["en"], u["zh"]) for u in true}, {u["en"]: u["mt"] for u in units}


def precision_recall(pairs: list[Pair], truth: set[tuple[str, str]]) -> tuple[float, float]:
    got = {(p.en.text, p.zh.text) for p in pairs}
    correct = len(got & truth)
    return correct / max(len(got), 1), correct / max(len(truth), 1)


BASE = dict(n_true=50, n_en_only=15, n_zh_only=15, min_en_chars=300, one_per_doc=True)
# More distractors, sibling runs of one document (shared names and numbers), blocks from 100 chars.
HARD = dict(n_true=60, n_en_only=70, n_zh_only=70, min_en_chars=100, one_per_doc=False)


@pytest.mark.parametrize("seed", [0, 1])
def test_wmt_evaluation_precision_and_recall(tmp_path, wmt_docs, seed):
    paths, truth, _ = build_pages(tmp_path, wmt_docs, seed=seed, **BASE)
    blocks = read_pages(paths)
    assert sum(b.count - 1 for b in blocks) > 0 and len(blocks) == 50 * 2 + 15 + 15
    precision, recall = precision_recall(find_pairs(blocks), truth)
    print(f"base seed {seed}: 50 pairs, 15+15 distractors: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.98
    assert recall >= 0.90


def test_wmt_harder_evaluation(tmp_path, wmt_docs):
    paths, truth, _ = build_pages(tmp_path, wmt_docs, seed=0, **HARD)
    precision, recall = precision_recall(find_pairs(read_pages(paths)), truth)
    print(f"hard: 60 pairs, 70+70 distractors, sibling runs, short blocks: P {precision:.3f} R {recall:.3f}")
    assert precision >= 0.95
    assert recall >= 0.85


def test_wmt_with_machine_translated_chinese(tmp_path, wmt_docs):
    """Chinese from an online MT system (Online-G) is closest to the Google-Translate seed blocks."""
    paths, truth, _ = build_pages(tmp_path, wmt_docs, seed=0, zh_side="Online-G", **HARD)
    precision, recall = precision_recall(find_pairs(read_pages(paths)), truth)
    print(f"hard, MT Chinese: P {precision:.3f} R {recall:.3f}")
    assert precision >= 0.98
    assert recall >= 0.95


def test_distractors_alone_give_no_pairs(tmp_path, wmt_docs):
    paths, _, _ = build_pages(tmp_path, wmt_docs, seed=3, n_true=0, n_en_only=100, n_zh_only=100,
                              min_en_chars=100, one_per_doc=False)
    assert find_pairs(read_pages(paths)) == []


def test_translate_confirms_candidates_with_chrf(tmp_path, wmt_docs):
    paths, truth, mt = build_pages(tmp_path, wmt_docs, seed=1, **HARD)
    calls = []

    def translate(texts: list[str]) -> list[str]:
        calls.append(len(texts))
        return [mt[t] for t in texts]

    pairs = find_pairs(read_pages(paths), translate=translate)
    precision, recall = precision_recall(pairs, truth)
    print(f"hard, with MT confirmation: P {precision:.3f} R {recall:.3f}")
    assert len(calls) == 1 and precision >= 0.98 and recall >= 0.90
    assert all("chrf" in p.evidence and p.evidence["log_odds"]["chrf"] > 0 for p in pairs)


# ---------------------------------------------------------------- seed pages and the real target


@pytest.fixture(scope="module")
def seed_blocks() -> list[Block]:
    return read_pages(page_paths(SEEDS))


def test_seed_pages_have_no_pairs(seed_blocks):
    assert [b.lang for b in seed_blocks].count("en") == 25 and len(seed_blocks) == 43
    assert find_pairs(seed_blocks) == []
    assert find_pairs(seed_blocks, min_score=0.5) == []  # no near miss either


def test_without_dictionary_anchors_alone_pair_nothing(seed_blocks, monkeypatch):
    import mteval.data.pairing as pairing

    monkeypatch.setattr(pairing, "load_lexicon", lambda: None)
    extra = [Block(id=block_id(t), lang="en", text=t) for t in ORIGINALS.values()]
    assert find_pairs([*seed_blocks, *extra]) == []


def test_english_originals_of_seed_blocks_are_found(seed_blocks):
    extra = [Block(id=block_id(t), lang="en", text=t) for t in ORIGINALS.values()]
    pairs = find_pairs([*seed_blocks, *extra])
    assert {(p.en.text, p.zh.id) for p in pairs} == {(t, zh_id) for zh_id, t in ORIGINALS.items()}
    xplique = next(p for p in pairs if "Xplique" in p.en.text)
    assert "tok:xplique" in xplique.evidence["anchors"]["shared"]
    assert "url:github.com/deel-ai/xplique" in xplique.evidence["anchors"]["shared"]
    assert {"dictionary", "anchors"} <= set(xplique.evidence["signals"])


def test_truncated_chinese_still_pairs(seed_blocks):
    zh = next(b for b in seed_blocks if b.id == "abs-3ca486809ab7")
    cut = zh.text[: len(zh.text) // 2] + "..."
    blocks = [b for b in seed_blocks if b.id != zh.id]
    blocks.append(Block(id=block_id(cut), lang="zh", text=cut, truncated=True))
    blocks.append(Block(id="en-orig", lang="en", text=ORIGINALS[zh.id]))
    assert [(p.en.id, p.zh.text) for p in find_pairs(blocks)] == [("en-orig", cut)]


def test_pair_json_and_arguments(seed_blocks):
    en = Block(id="en-1", lang="en", text=ORIGINALS["abs-7c9c7e4d94d9"])
    zh = next(b for b in seed_blocks if b.id == "abs-7c9c7e4d94d9")
    (pair,) = find_pairs([en, zh])
    record = json.loads(json.dumps(pair.to_json(), ensure_ascii=False))
    assert {"en", "zh", "en_id", "zh_id", "score", "evidence"} <= set(record)
    assert record["en_id"] == "en-1" and record["zh_id"] == zh.id and 0.9 <= record["score"] <= 1.0
    assert find_pairs([en]) == [] and find_pairs([]) == []
    with pytest.raises(ValueError):
        find_pairs([en, zh], min_score=1.0)
    with pytest.raises(ValueError):
        find_pairs([en, zh], translate=lambda texts: [])


# ---------------------------------------------------------------- signals: tables of small inputs


@pytest.mark.parametrize(
    "word, expected",
    [("models", "model"), ("modeling", "model"), ("trained", "train"), ("studies", "study"),
     ("translation", "transl"), ("translated", "transl"), ("processes", "proces"), ("focus", "focus")],
)
def test_stem(word, expected):
    assert stem(word) == expected


def test_cedict_parsing_and_segmentation():
    lex = parse_cedict(
        "# comment\n模型 模型 [mo2 xing2] /model/mold/\n訓練 训练 [xun4 lian4] /to train/training/CL:個|个[ge4]/\n"
        "語言 语言 [yu3 yan2] /language/\n語言模型 语言模型 [yu3 yan2 mo2 xing2] /language model/\n".encode()
    )
    assert lex.stems("训练") == {"train"} and lex.stems("訓練") == {"train"}
    assert list(lex.segment("训练语言模型的")) == ["训练", "语言模型"]
    assert {"model", "train", stem("language")} <= lex.en_vocab and "xing" not in lex.en_vocab
    assert english_stems("We trained the models") == ["train", "model"]


def test_anchors():
    lexicon = load_lexicon()
    en = extract("LLMs such as GPT-3 (1,000 runs) FREE at https://github.com/a/b. The Model",
                 lang="en", truncated=False, lexicon=lexicon)
    assert {"tok:llm", "tok:gpt-3", "num:1000", "url:github.com/a/b"} <= set(en.anchors)
    assert "tok:free" not in en.anchors and "tok:model" not in en.anchors  # shouting, an ordinary word
    zh = extract("我们在Joint Aid for Dogs和LLM上测试了1,000次", lang="zh", truncated=False, lexicon=lexicon)
    assert {"tok:joint aid for dogs", "tok:llm", "num:1000"} <= set(zh.anchors)
    assert "tok:llm" in en.matchable and "tok:joint aid for dogs" not in en.matchable


# ---------------------------------------------------------------- the command line


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mteval.commands.corpus", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_cli_on_seed_pages(tmp_path):
    out, summary = tmp_path / "pairs.jsonl", tmp_path / "summary.json"
    proc = _cli(str(SEEDS), "--pairs-out", str(out), "--summary-json", str(summary))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == ""
    assert "5 pages, 50 blocks, 43 unique (7 duplicates), 25 en, 18 zh" in proc.stdout
    assert "pairs found in the pages: 0" in proc.stdout
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["pairs"] == 0 and data["unpaired"] == {"en": 25, "zh": 18} and data["duplicates"] == 7


def test_cli_writes_pairs(tmp_path):
    page = tmp_path / "originals.txt"
    page.write_text(f"\n{SEPARATOR}\n".join(ORIGINALS.values()) + "\n", encoding="utf-8")
    out = tmp_path / "pairs.jsonl"
    proc = _cli(str(SEEDS), str(page), "--pairs-out", str(out), "--min-score", "0.95")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    assert sorted(r["zh_id"] for r in records) == sorted(ORIGINALS)
    assert all(r["score"] >= 0.95 and r["evidence"]["signals"] for r in records)
    assert "我们" in text or "模型" in text  # written as UTF-8, not \\u escapes
    assert "6 pages" in proc.stdout and "pairs found in the pages: 3" in proc.stdout


def test_cli_bad_utf8_exits_2_with_file_and_line(tmp_path):
    page = tmp_path / "bad.txt"
    page.write_bytes(b"An abstract.\n" + SEPARATOR.encode() + b"\n\xff\xfe broken\n")
    proc = _cli(str(page), "--pairs-out", str(tmp_path / "pairs.jsonl"))
    assert proc.returncode == 2
    assert f"{page}:3:" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_lists_block_ids_without_pairs_out(tmp_path):
    """`mteval-corpus data/abstracts` (the README's way to list ids) needs no output file."""
    proc = _cli(str(SEEDS))
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.startswith("abs-")]
    assert len(rows) == 43 and {r[1] for r in rows} == {"en", "zh"}
    assert "write them with --pairs-out FILE" in proc.stdout and not list(tmp_path.iterdir())
