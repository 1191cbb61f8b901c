"""Test sets through Hugging Face datasets, on tiny local datasets in the real sets' schemas (no network)."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hydra.utils import instantiate

from mteval.data.hf_datasets import load_hf
from mteval.errors import ConfigError, DataUnavailableError, InputError
from tests.helpers import MTEVAL, ROOT

# Rows in google/wmt24pp's schema (config en-zh_CN): one flagged is_bad_source, one blank reference.
WMT24PP_ROWS = [
    {"lp": "en-zh_CN", "domain": "news", "document_id": "d1", "segment_id": 1, "is_bad_source": False,
     "source": "The court ruled on Monday.", "target": "法院周一作出裁决。", "original_target": "法院于周一裁决。"},
    {"lp": "en-zh_CN", "domain": "news", "document_id": "d1", "segment_id": 2, "is_bad_source": True,
     "source": "<broken>", "target": "<坏>", "original_target": ""},
    {"lp": "en-zh_CN", "domain": "social", "document_id": "d2", "segment_id": 3, "is_bad_source": False,
     "source": "Nice photo!", "target": "   ", "original_target": "好照片！"},
    {"lp": "en-zh_CN", "domain": "speech", "document_id": "d3", "segment_id": 4, "is_bad_source": False,
     "source": "Thank you all.", "target": "谢谢大家。", "original_target": "谢谢大家。"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def flores_like(tmp_path) -> Path:
    """A folder laid out like openlanguagedata/flores_plus: per-language Parquet files, configs in the README."""
    import pandas as pd

    root = tmp_path / "flores_plus"
    texts = {"eng_Latn": ["Hello world.", "Cats sleep a lot.", "Rain is coming."],
             "cmn_Hans": ["你好，世界。", "猫睡得很多。", "要下雨了。"]}
    for lang, lines in texts.items():
        (root / "devtest").mkdir(parents=True, exist_ok=True)
        # The Chinese rows come in another order: the join is on id, never on position.
        order = [2, 0, 1] if lang == "cmn_Hans" else [0, 1, 2]
        pd.DataFrame({"id": [i + 1 for i in order], "iso_639_3": lang[:3], "iso_15924": lang[4:],
                      "text": [lines[i] for i in order]}).to_parquet(root / "devtest" / f"{lang}.parquet")
    configs = "".join(f"- config_name: {lang}\n  data_files:\n  - split: devtest\n    path: devtest/{lang}.parquet\n"
                      for lang in texts)
    (root / "README.md").write_text(f"---\nconfigs:\n{configs}---\nA FLORES+-shaped test fixture.\n", encoding="utf-8")
    return root


def test_wmt24pp_schema_from_jsonl_and_parquet(tmp_path, compose):
    import pandas as pd

    jsonl = write_jsonl(tmp_path / "wmt24pp.jsonl", WMT24PP_ROWS)
    parquet = tmp_path / "wmt24pp.parquet"
    pd.DataFrame(WMT24PP_ROWS).to_parquet(parquet)
    for path in (jsonl, parquet):
        cfg = compose("dataset=wmt24pp_en_zh", f"dataset.path={path}")
        corpus = instantiate(cfg.dataset.load, _convert_="all")
        assert [s.src for s in corpus.segments] == ["The court ruled on Monday.", "Nice photo!", "Thank you all."]
        assert corpus.summary["left_out_is_bad_source"] == 1
        # A blank reference is no reference: never scored as text.
        assert [s.refs for s in corpus.segments] == [["法院周一作出裁决。"], [], ["谢谢大家。"]]
        assert [s.doc_id for s in corpus.segments] == ["d1", "d2", "d3"]
        assert corpus.summary["domains"] == {"news": 1, "social": 1, "speech": 1}
        assert corpus.direction == "en-zh" and corpus.provenance["content_sha256"].startswith("sha256:")


def test_flores_plus_config_joins_languages_on_id(flores_like, compose):
    cfg = compose("dataset=flores_plus_en_zh", f"dataset.path={flores_like}")
    corpus = instantiate(cfg.dataset.load, _convert_="all")
    assert [(s.id, s.src, s.refs) for s in corpus.segments] == [
        ("1", "Hello world.", ["你好，世界。"]), ("2", "Cats sleep a lot.", ["猫睡得很多。"]),
        ("3", "Rain is coming.", ["要下雨了。"])]
    back = instantiate(compose("dataset=flores_plus_zh_en", f"dataset.path={flores_like}").dataset.load,
                       _convert_="all")
    assert back.direction == "zh-en"
    assert {s.id: (s.src, s.refs) for s in back.segments}["1"] == ("你好，世界。", ["Hello world."])


def test_per_language_rows_that_do_not_match_are_refused(flores_like):
    import pandas as pd

    pd.DataFrame({"id": [1, 2], "text": ["你好。", "猫。"]}).to_parquet(flores_like / "devtest" / "cmn_Hans.parquet")
    with pytest.raises(InputError, match="1 eng_Latn ids have no cmn_Hans row"):
        load_hf(name="f", path=str(flores_like), direction="en-zh", split="devtest",
                src_config="eng_Latn", tgt_config="cmn_Hans", id_field="id")


def test_save_to_disk_folder_and_content_digest(tmp_path):
    import datasets

    rows = {"source": ["One.", "Two."], "target": ["一。", "二。"]}
    datasets.Dataset.from_dict(rows).save_to_disk(str(tmp_path / "saved"))
    a = load_hf(name="s", path=str(tmp_path / "saved"), direction="en-zh", split="train")
    assert [s.refs for s in a.segments] == [["一。"], ["二。"]]
    write_jsonl(tmp_path / "other.jsonl", [{"source": "One.", "target": "一。"}, {"source": "Two.", "target": "三。"}])
    b = load_hf(name="s", path=str(tmp_path / "other.jsonl"), direction="en-zh", split="train")
    assert a.provenance["content_sha256"] != b.provenance["content_sha256"]  # the digest names the data


def test_missing_field_lists_the_fields(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"src": "Hi.", "ref": "嗨。"}])
    with pytest.raises(ConfigError, match=r"no field 'target'; the rows have src, ref"):
        load_hf(name="t", path=str(path), direction="en-zh", split="train")


def test_empty_source_is_an_error_naming_the_row(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"source": "Hi.", "target": "嗨。"}, {"source": " ", "target": "空"}])
    with pytest.raises(InputError, match=r":2: row '2': empty source text"):
        load_hf(name="t", path=str(path), direction="en-zh", split="train")


def test_uncached_hub_dataset_offline_is_one_line(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as err:
        load_hf(name="w", path="google/wmt24pp-not-cached-here", direction="en-zh", split="train",
                config="en-zh_CN")
    msg = str(err.value)
    assert "\n" not in msg and "google/wmt24pp-not-cached-here" in msg and "mteval-prefetch" in msg


def test_gated_dataset_message_names_hf_token(monkeypatch):
    import datasets

    def gated(*args, **kwargs):
        raise ConnectionError("Dataset 'openlanguagedata/flores_plus' is a gated dataset on the Hub. "
                              "You must be authenticated to access it.")

    monkeypatch.setattr(datasets, "load_dataset", gated)
    with pytest.raises(DataUnavailableError, match="gated.*HF_TOKEN"):
        load_hf(name="f", path="openlanguagedata/flores_plus", direction="en-zh", split="devtest",
                src_config="eng_Latn", tgt_config="cmn_Hans")


@pytest.mark.slow
def test_cli_run_on_a_local_wmt24pp_file(tmp_path):
    path = write_jsonl(tmp_path / "wmt24pp.jsonl", WMT24PP_ROWS)
    run_dir = tmp_path / "run"
    proc = subprocess.run([MTEVAL, "dataset=wmt24pp_en_zh", f"dataset.path={path}", "system=copy", "metrics=[chrf]",
                           f"hydra.run.dir={run_dir}", "cache=null", f"leaderboard={tmp_path / 'lb.csv'}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "HF_DATASETS_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["metrics"]["chrf"]["n_scored"] == 2  # the blank reference is not scored; the bad source is out


def test_duplicated_join_id_is_an_error_naming_both_rows(flores_like):
    """Issue 23, defect 5: a target id twice made the last row win, and a segment was scored against
    the wrong reference with exit 0."""
    import pandas as pd

    pd.DataFrame({"id": [1, 2, 3, 2], "text": ["你好，世界。", "猫睡得很多。", "要下雨了。", "错误的参考。"]}) \
        .to_parquet(flores_like / "devtest" / "cmn_Hans.parquet")
    with pytest.raises(InputError, match=r"cmn_Hans, devtest\):4: id 2 is also on row 2; ids must be unique"):
        load_hf(name="f", path=str(flores_like), direction="en-zh", split="devtest",
                src_config="eng_Latn", tgt_config="cmn_Hans", id_field="id")
    pd.DataFrame({"id": [1, 1, 3], "text": ["Hello.", "Cats.", "Rain."]}) \
        .to_parquet(flores_like / "devtest" / "eng_Latn.parquet")
    with pytest.raises(InputError, match=r"eng_Latn, devtest\):2: id 1 is also on row 1"):
        load_hf(name="f", path=str(flores_like), direction="en-zh", split="devtest",
                src_config="eng_Latn", tgt_config="cmn_Hans")


def test_duplicated_segment_id_names_both_rows(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"k": "a", "source": "Hi.", "target": "嗨。"},
                                              {"k": "b", "source": "Yo.", "target": "哟。"},
                                              {"k": "a", "source": "Hey.", "target": "嘿。"}])
    with pytest.raises(InputError, match=r":3: segment id \(field k\) 'a' is also on row 1"):
        load_hf(name="t", path=str(path), direction="en-zh", split="train", id_field="k")


@pytest.mark.parametrize(("text", "needle"), [
    ("a\x00b", "control character U+0000"), ("a\rb", "contains a line break"), ("a\nb", "contains a line break"),
    ("a\u2028b", "U+2028 LINE SEPARATOR"), ("a\x85b", "U+0085 NEXT LINE"), ("a\ufeffb", "byte-order mark")])
@pytest.mark.parametrize("field", ["source", "target"])
def test_hf_rows_get_the_plain_file_text_checks(tmp_path, text, needle, field):
    """Issue 23, defect 9: the HF loader accepted NUL, CR, U+2028 and newlines the file loaders refuse."""
    rows = [{"source": "Fine.", "target": "好。"}, {"source": "Also fine.", "target": "也好。"}]
    rows[1][field] = text
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(InputError, match=rf"t\.jsonl \(train\):2: field '{field}' .*{re.escape(needle)}"):
        load_hf(name="t", path=str(path), direction="en-zh", split="train")


def test_per_language_text_is_checked_too(flores_like):
    import pandas as pd

    pd.DataFrame({"id": [2, 0, 1], "text": ["要下雨了。", "你好\u2028世界。", "猫。"]}) \
        .to_parquet(flores_like / "devtest" / "cmn_Hans.parquet")
    pd.DataFrame({"id": [0, 1, 2], "text": ["Hello.", "Cats.", "Rain."]}) \
        .to_parquet(flores_like / "devtest" / "eng_Latn.parquet")
    with pytest.raises(InputError, match=r"cmn_Hans, devtest\):2: field 'text' contains U\+2028"):
        load_hf(name="f", path=str(flores_like), direction="en-zh", split="devtest",
                src_config="eng_Latn", tgt_config="cmn_Hans")
