"""Every bad input we know of, run through the real CLI: exit 2 and one line naming file:line, never a traceback.

Inputs that are repaired (a BOM at the start, CRLF endings) or legitimate (an empty hypothesis,
a segment longer than a model reads) run to the end with a warning that names the file and line.
The table "Bad inputs and what you see" in docs/errors.md is this list.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import MTEVAL, ROOT

SRC = "Hello world.\nThe model translates abstracts.\nThird sentence here.\n"
REF = "你好，世界。\n模型翻译摘要。\n这是第三句。\n"
HYP = "你好世界。\n模型翻译了摘要。\n第三句。\n"


@dataclass
class Case:
    """One bad input: files to write, mteval overrides (``{d}`` is the case directory), what must happen."""

    id: str
    what: str
    files: dict[str, bytes]
    overrides: list[str]
    expect: str  # a regex the one stderr line (exit 2) or a warning in the log (exit 0) must match
    code: int = 2
    tiny: bool = False
    extra: list[str] = field(default_factory=list)


def files_dataset(src: str = "src.en", ref: str = "ref.zh") -> list[str]:
    return ["dataset=files", f"dataset.load.src={{d}}/{src}", f"dataset.load.refs=[{{d}}/{ref}]"]


def jsonl_dataset(name: str = "data.jsonl") -> list[str]:
    return ["dataset=jsonl", f"dataset.load.path={{d}}/{name}"]


HYP_FILE = ["system=file", "system.path={d}/hyp.zh"]
U8 = str.encode


def jl(*rows: object, ascii_only: bool = False) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in rows).encode()


CASES = [
    Case("unequal-lines", "reference file with fewer lines than the source",
         {"src.en": U8(SRC), "ref.zh": U8("你好，世界。\n模型翻译摘要。\n")}, files_dataset(),
         r"ref\.zh:3: has 2 lines but .*src\.en has 3; the files must be line-aligned"),
    Case("hyp-short", "hypothesis file with fewer lines than the dataset",
         {"src.en": U8(SRC), "ref.zh": U8(REF), "hyp.zh": U8("你好世界。\n第三句。\n")}, files_dataset() + HYP_FILE,
         r"hyp\.zh:3: has 2 hypothesis lines but the dataset has 3 segments"),
    Case("hyp-long", "hypothesis file with more lines than the dataset",
         {"src.en": U8(SRC), "ref.zh": U8(REF), "hyp.zh": U8(HYP + "多余的一行。\n")}, files_dataset() + HYP_FILE,
         r"hyp\.zh:4: has 4 hypothesis lines but the dataset has 3 segments"),
    Case("latin1", "undecodable bytes (Latin-1 é) in the source",
         {"src.en": b"Hello world.\nCaf\xe9 au lait.\nThird.\n", "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:2: not valid UTF-8 at byte 3 of the line"),
    Case("latin1-hyp", "undecodable bytes in a hypothesis file",
         {"src.en": U8(SRC), "ref.zh": U8(REF), "hyp.zh": U8("你好世界。\n") + b"\xff\xfe\n" + U8("第三句。\n")},
         files_dataset() + HYP_FILE, r"hyp\.zh:2: not valid UTF-8 at byte 0 of the line"),
    Case("utf16", "source saved as UTF-16", {"src.en": SRC.encode("utf-16"), "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:1: is UTF-16 \(byte-order mark ff fe\); save it as UTF-8"),
    Case("bare-cr", "a bare carriage return (old Mac line break) inside a reference line",
         {"src.en": U8(SRC), "ref.zh": U8("你好，世界。\n模型\r翻译摘要。\n这是第三句。\n")}, files_dataset(),
         r"ref\.zh:2: contains a bare carriage return \(\\r\) at column 3"),
    Case("u2028", "U+2028 LINE SEPARATOR inside a source line",
         {"src.en": U8("Hello world.\nThe model\u2028translates.\nThird.\n"), "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:2: contains U\+2028 LINE SEPARATOR at column 10, which other tools read as a line break"),
    Case("nel", "U+0085 NEXT LINE inside a reference line",
         {"src.en": U8(SRC), "ref.zh": U8("你好，世界。\n模型\u0085翻译摘要。\n这是第三句。\n")}, files_dataset(),
         r"ref\.zh:2: contains U\+0085 NEXT LINE \(NEL\) at column 3"),
    Case("formfeed", "a form feed inside a source line",
         {"src.en": U8("Hello world.\nPage one\x0cpage two.\nThird.\n"), "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:2: contains U\+000C FORM FEED at column 9"),
    Case("nul", "a NUL byte (a binary file)",
         {"src.en": b"Hello world.\nThe\x00 model.\nThird.\n", "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:2: contains the control character U\+0000 at column 4 \(is this a binary file\?\)"),
    Case("mid-bom", "a byte-order mark in the middle of the file (files joined with cat)",
         {"src.en": U8("Hello world.\nThe model translates abstracts.\n\ufeffThird sentence.\n"), "ref.zh": U8(REF)},
         files_dataset(),
         r"src\.en:3: contains a byte-order mark \(U\+FEFF\) at column 1, after the start of the file"),
    Case("empty-src-line", "an empty line in the source",
         {"src.en": U8("Hello world.\n\nThird sentence here.\n"), "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:2: empty segment \(every source and reference line needs text\)"),
    Case("blank-ref-line", "a reference line of spaces only",
         {"src.en": U8(SRC), "ref.zh": U8("你好，世界。\n   \n这是第三句。\n")}, files_dataset(),
         r"ref\.zh:2: empty segment"),
    Case("empty-file", "an empty source file", {"src.en": b"", "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en: file is empty"),
    Case("missing-file", "a reference file that does not exist", {"src.en": U8(SRC)}, files_dataset(ref="nope.zh"),
         r"nope\.zh: file not found"),
    Case("jsonl-syntax", "a JSONL line that is not JSON",
         {"data.jsonl": jl({"id": "a", "src": "Hello.", "ref": "你好。"}) + b'{"id": "b", "src": "Hi.",\n'},
         jsonl_dataset(), r"data\.jsonl:2: not valid JSON \(Expecting property name enclosed in double quotes"),
    Case("jsonl-newline", "a JSONL source with an embedded newline (\\n)",
         {"data.jsonl": jl({"id": "a", "src": "Hello.", "ref": "你好。"}, {"id": "b", "src": "Two\nlines.", "ref": "两行。"})},
         jsonl_dataset(), r"data\.jsonl:2: field 'src' contains a line break; one segment must be one line"),
    Case("jsonl-u2028", "a JSONL reference with U+2028 written as the escape \\u2028",
         {"data.jsonl": jl({"id": "a", "src": "Hello.", "ref": "你\u2028好。"}, ascii_only=True)}, jsonl_dataset(),
         r"data\.jsonl:1: field 'ref' contains U\+2028 LINE SEPARATOR at column 2"),
    Case("jsonl-missing-src", "a JSONL line without the source field",
         {"data.jsonl": jl({"id": "a", "src": "Hello."}, {"id": "b", "text": "Hi."})}, jsonl_dataset(),
         r"data\.jsonl:2: missing field 'src'"),
    Case("jsonl-dup-id", "two JSONL lines with the same id",
         {"data.jsonl": jl({"id": "a", "src": "Hello."}, {"id": "a", "src": "Hi."})}, jsonl_dataset(),
         r"data\.jsonl:2: duplicate segment id 'a'"),
    Case("jsonl-not-string", "a JSONL source that is a number",
         {"data.jsonl": jl({"id": "a", "src": 42})}, jsonl_dataset(),
         r"data\.jsonl:1: field 'src' must be a string, got int"),
    Case("jsonl-empty-src", "a JSONL source of spaces only",
         {"data.jsonl": jl({"id": "a", "src": "Hi."}, {"id": "b", "src": "  "})}, jsonl_dataset(),
         r"data\.jsonl:2: field 'src' is empty"),
    Case("tsv-empty-src", "a TSV line with an empty source column",
         {"data.tsv": U8("Hello.\t你好。\n\t空的。\n")}, jsonl_dataset("data.tsv"), r"data\.tsv:2: empty source column"),
    Case("page-latin1", "a seed page with undecodable bytes",
         {"pages/p.txt": U8("An abstract about models.\ntranslated by 谷歌翻译\n") + b"Caf\xe9.\n"},
         ["dataset=abstracts", "dataset.load.pages={d}/pages"], r"p\.txt:3: not valid UTF-8 at byte 3"),
    Case("refs-unknown-id", "a references file naming a block that is not in the pages",
         {"pages/p.txt": U8("An abstract about models.\n"), "refs.jsonl": jl({"id": "abs-000000000000", "ref": "摘要。"})},
         ["dataset=abstracts", "dataset.load.pages={d}/pages", "dataset.load.references={d}/refs.jsonl"],
         r"refs\.jsonl:1: id 'abs-000000000000' is not one of the pages' en blocks"),
    # Repaired or legitimate: the run finishes and the log names the place.
    Case("bom", "a UTF-8 byte-order mark at the start (repaired)",
         {"src.en": b"\xef\xbb\xbf" + U8(SRC), "ref.zh": U8(REF)}, files_dataset(), r"src\.en:1: dropped a UTF-8 byte-order mark at the start of the file", code=0),
    Case("crlf", "Windows CRLF line endings (repaired)",
         {"src.en": U8(SRC.replace("\n", "\r\n")), "ref.zh": U8(REF)}, files_dataset(),
         r"src\.en:1: 3 line\(s\) had Windows CRLF endings \(the first here\); read as LF", code=0),
    Case("empty-hyp", "an empty hypothesis line (scored as empty, rows stay aligned)",
         {"src.en": U8(SRC), "ref.zh": U8(REF), "hyp.zh": U8("你好世界。\n\n第三句。\n")}, files_dataset() + HYP_FILE,
         r"bleu .* 3/3", code=0),
    Case("long-for-model", "a source sentence longer than the model's input limit (split, warned)",
         {"src.en": U8("Hello world.\n" + " ".join(["models translate long abstracts"] * 12) + "\nThird.\n"),
          "ref.zh": U8(REF)},
         files_dataset() + ["system=opus_mt_en_zh", "system.num_beams=1", "system.max_new_tokens=4",
                            "system.max_input_tokens=24"],
         r"src\.en:2: a sentence of \d+ tokens is longer than opus_mt_en_zh's max_input_tokens=24", code=0, tiny=True),
    Case("long-for-comet", "a hypothesis longer than COMET's encoder reads (warned)",
         {"src.en": U8(SRC), "ref.zh": U8(REF), "hyp.zh": U8("你好世界。\n" + "模型翻译了摘要。" * 120 + "\n第三句。\n")},
         files_dataset() + HYP_FILE + ["metrics=[comet]"],
         r"src\.en:2: the comet input is longer than the 510 tokens it reads; the rest is not scored",
         code=0, tiny=True),
]


def run_case(case: Case, root: Path, tiny_models: dict | None = None) -> subprocess.CompletedProcess:
    """Write the case's files under ``root`` and run the real ``mteval`` on them."""
    for name, data in case.files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    overrides = [o.format(d=root) for o in case.overrides]
    if not any(o.startswith("system=") for o in overrides):
        overrides.append("system=copy")
    if not any(o.startswith("metrics=") for o in overrides):
        overrides.append("metrics=[bleu]")
    if tiny_models is not None:
        if "system=opus_mt_en_zh" in overrides:
            overrides.append(f"system.model={tiny_models['marian']}")
        if "metrics=[comet]" in overrides:
            overrides.append(f"metrics.comet.model={tiny_models['comet']}")
    overrides += ["cache=null", f"hydra.run.dir={root / 'run'}", f"leaderboard={root / 'leaderboard.csv'}"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([MTEVAL, *overrides], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_through_the_cli(case, tmp_path, request):
    tiny = request.getfixturevalue("tiny_models") if case.tiny else None
    proc = run_case(case, tmp_path, tiny)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output[-3000:]
    assert proc.returncode == case.code, output[-3000:]
    if case.code == 2:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("mteval: error: ")
        assert re.search(case.expect, lines[0]), lines[0]
        assert str(tmp_path) in lines[0]  # the full path of the file, not just its name
    else:
        assert re.search(case.expect, output), output[-3000:]


def test_every_case_has_a_unique_id_and_description():
    assert len({c.id for c in CASES}) == len(CASES) and all(c.what for c in CASES)


def test_empty_hypothesis_lines_are_scored_in_place(tmp_path):
    """An empty hypothesis in the middle is scored as empty: no row is dropped or shifted."""
    from mteval.data.plaintext import load_files
    from mteval.metrics.sacre import BLEU, ChrF
    from mteval.pipeline import evaluate
    from mteval.results.io import load_run, write_run
    from mteval.systems.file import FileSystem

    (tmp_path / "src.en").write_text(SRC, encoding="utf-8")
    (tmp_path / "ref.zh").write_text(REF, encoding="utf-8")
    (tmp_path / "hyp.zh").write_text("你好，世界。\n\n这是第三句。\n", encoding="utf-8")
    corpus = load_files(name="t", src=str(tmp_path / "src.en"), refs=[str(tmp_path / "ref.zh")],
                        direction="en-zh")
    result = evaluate(corpus, FileSystem(path=str(tmp_path / "hyp.zh")), [BLEU(), ChrF()])
    rows = load_run(write_run(tmp_path / "run", result)).segments
    assert [r["hyp"] for r in rows] == ["你好，世界。", "", "这是第三句。"]
    assert [r["src"] for r in rows] == SRC.splitlines()
    assert rows[1]["bleu"] == 0.0 and rows[1]["chrf"] == 0.0  # scored, as empty
    # The neighbours keep their own hypotheses.
    assert rows[0]["bleu"] == pytest.approx(100) and rows[2]["bleu"] == pytest.approx(100)
    assert result.metrics["bleu"].n_scored == 3
    assert (tmp_path / "run" / "hypotheses.txt").read_text(encoding="utf-8").split("\n") == ["你好，世界。", "", "这是第三句。", ""]
