"""Loaders: seed pages, plain text, WMT XML, JSONL/TSV, abstracts with user references."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mteval.data.abstracts import load_abstracts
from mteval.data.jsonl import load_jsonl
from mteval.data.plaintext import load_files
from mteval.data.seeds import SEPARATOR, block_id, page_paths, read_pages
from mteval.data.wmt_xml import load_wmt_xml, read_wmt_hypotheses
from mteval.errors import InputError
from tests.helpers import DATA, wmt22_lines, wmt22_xml

ABSTRACTS = DATA / "abstracts"


def test_seed_facts():
    blocks = read_pages(page_paths(ABSTRACTS))
    assert len(blocks) == 43
    assert sum(b.count for b in blocks) == 50
    assert sum(b.lang == "en" for b in blocks) == 25
    assert sum(b.lang == "zh" for b in blocks) == 18
    dups = [b for b in blocks if b.count > 1]
    assert all(b.lang == "en" for b in dups) and sum(b.count - 1 for b in dups) == 7
    assert sum(b.truncated for b in blocks) == 1
    # Provenance: every origin names a page and a block number.
    assert all(o.file.endswith(".txt") and o.block >= 1 for b in blocks for o in b.origins)


def test_abstracts_corpus_has_no_pairs_and_says_so():
    corpus = load_abstracts(name="abstracts", pages=str(ABSTRACTS))
    s = corpus.summary
    assert (s["unique"], s["by_lang"], s["pairs"], s["sources_without_reference"]) == (43, {"en": 25, "zh": 18}, 0, 25)
    assert len(corpus) == 25 and all(not seg.refs for seg in corpus.segments)
    zh = load_abstracts(name="abstracts", pages=str(ABSTRACTS), direction="zh-en")
    assert len(zh) == 18 and zh.src_lang == "zh"


def test_block_ids_are_stable_and_whitespace_insensitive():
    assert block_id("Hello  world") == block_id("Hello world ") == block_id("Hello world")
    assert block_id("Hello world") != block_id("Hello world.")


def test_seed_page_multiline_blocks_and_separator(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text(f"First line\nsecond line\n{SEPARATOR}\n第一行。\n第二行。\n{SEPARATOR}\n\n", encoding="utf-8")
    blocks = read_pages([page])
    assert [b.text for b in blocks] == ["First line second line", "第一行。第二行。"]
    assert [b.lang for b in blocks] == ["en", "zh"]
    assert blocks[1].origins[0].line == 4


def test_user_references_attach_by_id(tmp_path):
    blocks = [b for b in read_pages(page_paths(ABSTRACTS)) if b.lang == "en"]
    refs = tmp_path / "refs.jsonl"
    refs.write_text(json.dumps({"id": blocks[2].id, "refs": ["参考一", "参考二"]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    corpus = load_abstracts(name="a", pages=str(ABSTRACTS), references=str(refs))
    seg = next(s for s in corpus.segments if s.id == blocks[2].id)
    assert seg.refs == ["参考一", "参考二"] and seg.meta["ref_source"] == "user"
    assert corpus.summary["sources_with_reference"] == 1


def test_user_reference_with_unknown_id_names_file_and_line(tmp_path):
    refs = tmp_path / "refs.jsonl"
    refs.write_text('\n{"id": "abs-000000000000", "ref": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"refs.jsonl:2: id 'abs-000000000000' is not one of the pages' en blocks"):
        load_abstracts(name="a", pages=str(ABSTRACTS), references=str(refs))


def test_plain_files_line_counts_must_match(tmp_path):
    src = tmp_path / "src.en"
    ref = tmp_path / "ref.zh"
    src.write_text("a\nb\nc\n", encoding="utf-8")
    ref.write_text("一\n二\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ref.zh:3: has 2 lines but .*src.en has 3"):
        load_files(name="x", src=str(src), refs=[str(ref)], direction="en-zh")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"ok\n\xff\xfe bad\n", r":2: not valid UTF-8 at byte 0"),
        (b"ok\n\nthree\n", r":2: empty segment"),
        (b"", r"file is empty"),
        (b"a\rb\n", r":1: contains a bare carriage return"),
    ],
)
def test_plain_source_errors_name_file_and_line(tmp_path, content, match):
    src = tmp_path / "src.en"
    src.write_bytes(content)
    with pytest.raises(InputError, match=match):
        load_files(name="x", src=str(src), direction="en-zh")


def test_bom_and_crlf_are_read_without_shifting(tmp_path):
    src = tmp_path / "src.en"
    src.write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    corpus = load_files(name="x", src=str(src), direction="en-zh")
    assert [s.src for s in corpus.segments] == ["one", "two"]


def test_unicode_line_separators_are_reported_not_split(tmp_path):
    """U+2028 would split the line in other tools and shift every later line: refuse it, with its place."""
    src = tmp_path / "src.en"
    src.write_text("fine\none\u2028still one\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"src.en:2: contains U\+2028"):
        load_files(name="x", src=str(src), direction="en-zh")


def test_wmt_xml_documents_domains_and_references(wmt22):
    xml = str(wmt22_xml("en-zh"))
    corpus = load_wmt_xml(name="w", path=xml, direction="en-zh", translators=["A", "B"])
    assert len(corpus) == 2037
    assert corpus.summary["documents"] == 181
    assert set(corpus.summary["domains"]) == {"conversation", "ecommerce", "news", "social"}
    assert all(len(s.refs) == 2 for s in corpus.segments)
    # Every segment in document order, read here with ElementTree (sacrebleu's text files collapse runs of spaces).
    docs = list(ET.parse(xml).getroot().iter("doc"))
    assert [s.src for s in corpus.segments] == [seg.text for d in docs for seg in d.find("src").iter("seg")]
    assert read_wmt_hypotheses(xml, "LanguageX") == [
        seg.text for d in docs for h in d.findall("hyp") if h.get("system") == "LanguageX" for seg in h.iter("seg")]
    assert len(read_wmt_hypotheses(xml, "LanguageX")) == len(wmt22_lines("en-zh", "LanguageX")) == 2037


def test_wmt_xml_malformed_names_line(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<dataset>\n<doc id='a'>\n<src><seg id='1'>x</seg></src>\n</dataset>\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.xml:4: not well-formed XML"):
        load_wmt_xml(name="w", path=str(bad), direction="en-zh")


def test_jsonl_and_tsv(tmp_path):
    j = tmp_path / "c.jsonl"
    j.write_text('{"id": "s1", "src": "Hello.", "ref": "你好。"}\n{"id": "s2", "src": "Bye."}\n', encoding="utf-8")
    corpus = load_jsonl(name="j", path=str(j), direction="en-zh")
    assert [(s.id, s.refs) for s in corpus.segments] == [("s1", ["你好。"]), ("s2", [])]
    t = tmp_path / "c.tsv"
    t.write_text("Hello.\t你好。\t您好。\nBye.\t再见。\n", encoding="utf-8")
    corpus = load_jsonl(name="t", path=str(t), direction="en-zh")
    assert [s.refs for s in corpus.segments] == [["你好。", "您好。"], ["再见。"]]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"id": "a", "src": "x\\ny"}', r":1: field 'src' contains a line break"),
        ('{"id": "a"}', r":1: missing field 'src'"),
        ('[1, 2]', r":1: expected a JSON object"),
        ('{"id": "a", "src": ', r":1: not valid JSON"),
    ],
)
def test_jsonl_errors(tmp_path, line, match):
    j = tmp_path / "c.jsonl"
    j.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_jsonl(name="j", path=str(j), direction="en-zh")
