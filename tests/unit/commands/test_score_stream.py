"""`mteval-score --stream` (issue 21): bad input refused in one line before scoring; scores equal the ordinary path's and sacrebleu's."""
from __future__ import annotations

import json

import pytest

from tests.helpers import mteval_score as score, sacrebleu_json
from mteval.testing.synthetic_corpus import write_corpus


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return {k: str(v) for k, v in write_corpus(tmp_path_factory.mktemp("stream"), 600, seed=4).items()}


def _break(path, tmp_path, line: int, raw: bytes | None) -> str:
    """A copy of ``path`` whose ``line`` (1-based) is replaced by ``raw`` (None: cut the file before it)."""
    lines = open(path, "rb").read().split(b"\n")[:-1]
    lines = lines[: line - 1] if raw is None else [*lines[: line - 1], raw, *lines[line:]]
    out = tmp_path / ("bad-" + path.rsplit("/", 1)[-1])
    out.write_bytes(b"\n".join(lines) + b"\n")
    return str(out)


@pytest.mark.parametrize(("which", "line", "raw", "message"), [
    ("hyp1", 401, None, "{path}:401: has 400 hypothesis lines but the dataset has 600 segments"),
    ("ref", 77, b"\xff\xfe broken", "{path}:77: not valid UTF-8 at byte 0 of the line"),
    ("ref", 12, b"", "{path}:12: empty segment"),
    ("hyp0", 599, "a\u2028b".encode(), "{path}:599: contains U+2028 LINE SEPARATOR"),
])
def test_bad_input_is_one_line_naming_file_and_line_and_exit_2_before_scoring(files, tmp_path, which, line, raw,
                                                                              message):
    bad = _break(files[which], tmp_path, line, raw)
    args = {**files, which: bad}
    proc = score("--stream", "-s", args["src"], "-r", args["ref"], "-i", args["hyp0"], args["hyp1"], "-l", "en-zh",
                 "-m", "bleu", "chrf", "--out", str(tmp_path / "o"), "--no-cache")
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr
    (only,) = proc.stderr.splitlines()
    assert only.startswith("mteval-score: error: ") and message.format(path=bad) in only, only
    assert not (tmp_path / "o").exists()  # refused before anything was scored or written


def test_a_model_metric_cannot_stream(files, tmp_path):
    proc = score("--stream", "-s", files["src"], "-r", files["ref"], "-i", files["hyp0"], "-l", "en-zh",
                 "-m", "bleu", "comet", "--no-cache", "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr == "mteval-score: error: --stream scores bleu, chrf and chrf++ only; leave out comet\n"


def test_streamed_scores_equal_the_ordinary_path_and_sacrebleu(files, tmp_path):
    common = ["-s", files["src"], "-r", files["ref"], "-i", files["hyp0"], files["hyp1"], "-l", "en-zh",
              "-m", "bleu", "chrf", "--no-cache", "--json", "--paired-bs-n", "200", "--paired-ar-n", "0"]
    streamed = score("--stream", *common, "--out", str(tmp_path / "s"))
    ordinary = score(*common, "--out", str(tmp_path / "o"))
    assert streamed.returncode == 0 and ordinary.returncode == 0, streamed.stderr + ordinary.stderr
    ours, theirs = json.loads(streamed.stdout), json.loads(ordinary.stdout)
    assert json.loads((tmp_path / "s" / "scores.json").read_text()) | {"run_dirs": ours["run_dirs"]} == ours
    sacre = sacrebleu_json(files["ref"], [files["hyp1"]], "en-zh", "-w", "16")
    names = [system["name"] for system in theirs["systems"]]
    for name, m in theirs["metrics"].items():
        for i, system in enumerate(ours["systems"]):
            entry, expected = system["metrics"][name], m["systems"][names[i]]
            assert entry["score"] == expected["score"] and entry["signature"] == m["signature"]
            assert entry["bootstrap"] == {"mean": expected["mean"], "half_width": expected["ci"]}
            assert entry.get("p_bs") == expected["p_bs"]
    for name, key in (("bleu", "BLEU"), ("chrf", "chrF2")):
        assert round(ours["systems"][1]["metrics"][name]["score"], 12) == round(sacre[key]["score"], 12)
