"""Test sets through sacrebleu's registry: loading, references, submissions, the offline rules and prefetch."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from mteval.data.sacrebleu_cache import cache_root, entry, ensure_downloaded, is_cached
from mteval.data.sacrebleu_sets import load_sacrebleu
from mteval.errors import ConfigError, DataUnavailableError
from mteval.systems.submission import wmt_submission
from tests.helpers import MTEVAL, ROOT


def test_wmt22_en_zh_through_the_registry(wmt22):
    corpus = load_sacrebleu(name="w", test_set="wmt22", langpair="en-zh")  # sacrebleu's default reference: A
    assert len(corpus) == 2037 and corpus.summary["documents"] == 181
    assert corpus.summary["references"] == ["A"] and corpus.summary["systems_in_test_set"] == 13
    assert corpus.summary["domains"] == {"conversation": 484, "ecommerce": 530, "news": 511, "social": 512}
    first = corpus.segments[0]
    assert first.id == f"{first.doc_id}:1" and first.meta == {"origlang": "en"}
    assert corpus.provenance["sacrebleu"]["md5"] == ["0840978b9b50b9ac3b2b081e37d620b9"]


@pytest.mark.parametrize(("translators", "expected"), [(None, 1), (["A"], 1), (["B", "A"], 2), ("all", 2)])
def test_references_by_translator(wmt22, translators, expected):
    corpus = load_sacrebleu(name="w", test_set="wmt22", langpair="en-zh", translators=translators, limit=3)
    assert len(corpus) == 3 and {len(s.refs) for s in corpus.segments} == {expected}
    if translators == ["B", "A"]:  # the order asked for is kept: the first reference is the one COMET reads
        b = load_sacrebleu(name="w", test_set="wmt22", langpair="en-zh", translators=["B"], limit=3)
        assert corpus.segments[0].refs[0] == b.segments[0].refs[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"test_set": "wmt99", "langpair": "en-zh"}, "not in sacrebleu .* registry; test sets with en-zh: .*wmt22"),
    ({"test_set": "wmt22", "langpair": "en-xx"}, "no such pair; it has .*en-zh"),
    pytest.param({"test_set": "wmt22", "langpair": "en-zh", "translators": ["C"]},
                 "C not in wmt22 en-zh; its references: 'A', 'B'", marks=pytest.mark.wmt22),  # read from the release
])
def test_bad_names_are_refused_with_the_choices(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        load_sacrebleu(name="w", **kwargs)


def test_submissions_come_from_sacrebleu_fields(wmt22):
    system = wmt_submission(submission="NiuTrans", test_set="wmt22", langpair="zh-en", limit=5)
    assert len(system.translate(["x"] * 5, src_lang="zh", tgt_lang="en").hyps) == 5
    with pytest.raises(ConfigError, match="has these submitted systems: AISP-SJTU, .*NiuTrans"):
        wmt_submission(submission="Nobody", test_set="wmt22", langpair="zh-en")


def test_uncached_offline_stops_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MTEVAL_OFFLINE", "1")
    with pytest.raises(DataUnavailableError) as err:
        load_sacrebleu(name="w", test_set="wmt23", langpair="en-zh", cache_dir=str(tmp_path))
    assert "\n" not in str(err.value)
    assert "mteval-prefetch dataset=sacrebleu dataset.test_set=wmt23 dataset.langpair=en-zh" in str(err.value)


def test_failed_download_leaves_no_partial_tarball(tmp_path, monkeypatch):
    monkeypatch.delenv("MTEVAL_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    ds = entry("wmt23", "en-zh", str(tmp_path))
    tarball = Path(ds._rawdir) / ds._get_tarball_filename(ds.data[0])

    def broken_download():  # as sacrebleu's download_file: a lock file beside the tarball, then half the bytes
        tarball.parent.mkdir(parents=True, exist_ok=True)
        tarball.with_name(tarball.name + ".lock").touch()
        tarball.write_bytes(b"half a tarball")
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(ds, "maybe_download", broken_download)
    with pytest.raises(DataUnavailableError, match="could not be downloaded .*name resolution") as err:
        ensure_downloaded(ds, "en-zh")
    assert not tarball.exists() and not is_cached(ds, "en-zh")
    assert not list(tmp_path.rglob("*.lock")), "a failed download left a lock file"
    # The hint names the cache this run reads (here a $SACREBLEU-style folder), not ~/.sacrebleu.
    assert str(err.value).endswith(f"copy the wmt23 folder of that machine's sacrebleu cache to {tmp_path / 'wmt23'}")
    assert "~/.sacrebleu" not in str(err.value)


def test_cache_root_follows_the_sacrebleu_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("SACREBLEU", str(tmp_path))
    assert cache_root() == tmp_path and cache_root("~/x") == Path("~/x").expanduser()
    monkeypatch.delenv("SACREBLEU")
    assert cache_root() == Path("~/.sacrebleu").expanduser()


def test_limit_cuts_the_submission_like_the_dataset(wmt22, tmp_path):
    proc = subprocess.run([MTEVAL, "dataset=wmt22_en_zh", "dataset.load.limit=7", "system=wmt22_submission",
                           "metrics=[bleu]", f"hydra.run.dir={tmp_path / 'r'}", "cache=null",
                           f"leaderboard={tmp_path / 'lb.csv'}"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "7/7" in proc.stdout


def test_cli_without_the_test_set_offline_is_exit_2_before_any_model(tmp_path):
    env = {**os.environ, "SACREBLEU": str(tmp_path / "empty"), "MTEVAL_OFFLINE": "1"}
    proc = subprocess.run([MTEVAL, "dataset=wmt23_en_zh", "system.model=Helsinki-NLP/never-downloaded",
                           "metrics=[bleu]", f"hydra.run.dir={tmp_path / 'r'}", "cache=null",
                           f"leaderboard={tmp_path / 'lb.csv'}"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mteval: error:")]
    assert len(errors) == 1 and "wmt23 en-zh" in errors[0] and "mteval-prefetch" in errors[0]
    assert "never-downloaded" not in proc.stderr  # stopped before the system's model was looked for


def test_prefetch_fetches_the_test_set_a_config_names(wmt22, tmp_path):
    prefetch = str(Path(sys.executable).parent / "mteval-prefetch")
    dry = subprocess.run([prefetch, "--dry-run", "dataset=wmt22_zh_en", "system=copy", "metrics=[bleu]"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert dry.returncode == 0 and "sacrebleu wmt22 zh-en\ttest set\tdataset wmt22_zh_en" in dry.stdout
    run = subprocess.run([prefetch, "dataset=wmt22_zh_en", "system=copy", "metrics=[bleu]"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "sacrebleu wmt22 zh-en: 1875 segments, 1875 with a reference" in run.stdout
    missing = subprocess.run([prefetch, "dataset=wmt21_zh_en", "system=copy", "metrics=[bleu]"],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert missing.returncode == 2 and "sacrebleu wmt21 zh-en" in missing.stderr and "Traceback" not in missing.stderr
