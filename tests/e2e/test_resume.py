"""Kill a run with SIGKILL in the middle of translating; the restart translates only what is missing."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("wmt22")]  # runs on WMT22 segments

CHUNK = 4
LIMIT = 36

# The mteval Hydra app, run in a subprocess exactly as the `mteval` entry point runs it, with two
# test hooks set by environment variables: MTEVAL_TEST_COUNT appends the number of sources each
# call of the system's translate() receives (the model work done), and MTEVAL_TEST_KILL makes the
# process SIGKILL itself at a chosen point. Killing from inside is deterministic, where a kill
# from outside would race the tiny model (it translates a chunk in milliseconds).
#   sentence:N - during the Nth sentence batch sent to the model (mid-chunk)
#   commit:N   - inside the Nth cache write, after the rows are inserted, before COMMIT
RUNNER = textwrap.dedent("""
    import os, signal, sys
    from mteval.cache import Cache, digest
    from mteval.systems.base import SentenceBatchedSystem
    from mteval.systems.hf_seq2seq import HFSeq2Seq

    mode, _, at = os.environ.get("MTEVAL_TEST_KILL", "").partition(":")
    calls = {"sentence": 0, "commit": 0}
    translate, batch, put = SentenceBatchedSystem.translate, HFSeq2Seq._translate_batch, Cache.put_translations

    def counting_translate(self, sources, **kw):
        with open(os.environ["MTEVAL_TEST_COUNT"], "a") as f:
            f.write(f"{len(sources)}\\n")
        return translate(self, sources, **kw)

    def killing_batch(self, sentences, **kw):
        calls["sentence"] += 1
        if mode == "sentence" and calls["sentence"] == int(at):
            os.kill(os.getpid(), signal.SIGKILL)
        return batch(self, sentences, **kw)

    def killing_put(self, system, pairs):
        calls["commit"] += 1
        if mode == "commit" and calls["commit"] == int(at):
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO translation VALUES (?,?,?,?)",
                                 [(system, digest(s), h, 0.0) for s, h in pairs])
            os.kill(os.getpid(), signal.SIGKILL)
        return put(self, system, pairs)

    SentenceBatchedSystem.translate = counting_translate
    HFSeq2Seq._translate_batch = killing_batch
    Cache.put_translations = killing_put
    from mteval.commands.main import main
    sys.argv = ["mteval", *sys.argv[1:]]
    main()
""")


def run_app(tiny_models, tmp: Path, name: str, cache: Path, kill: str = "") -> tuple[subprocess.CompletedProcess, int]:
    """Run the app on the first LIMIT WMT22 segments with the tiny Marian model, one sentence per batch
    (so a sentence's translation does not depend on what else is in its batch)."""
    count = tmp / f"{name}.count"
    overrides = [
        "dataset=wmt22_en_zh", f"dataset.load.limit={LIMIT}", "system=opus_mt_en_zh",
        f"system.model={tiny_models['marian']}", "system.num_beams=1", "system.max_new_tokens=8",
        "system.batch_size=1", "metrics=[bleu]", f"cache={cache}", f"translate_chunk_size={CHUNK}",
        f"hydra.run.dir={tmp / name}", f"leaderboard={tmp / 'leaderboard.csv'}",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MTEVAL_TEST_KILL": kill,
           "MTEVAL_TEST_COUNT": str(count)}
    proc = subprocess.run([sys.executable, "-c", RUNNER, *overrides], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    translated = sum(int(n) for n in count.read_text().split()) if count.exists() else 0
    return proc, translated


def cached_rows(cache: Path) -> int:
    with sqlite3.connect(cache) as db:
        return db.execute("SELECT COUNT(*) FROM translation").fetchone()[0]


@pytest.fixture(scope="module")
def uninterrupted(tiny_models, tmp_path_factory) -> tuple[str, int, Path]:
    """A run that was never killed: its hypotheses, how many unique sources it translated, its cache."""
    tmp = tmp_path_factory.mktemp("uninterrupted")
    proc, translated = run_app(tiny_models, tmp, "run", tmp / "c.sqlite")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return (tmp / "run" / "hypotheses.txt").read_text(encoding="utf-8"), translated, tmp / "c.sqlite"


@pytest.mark.parametrize("kill", ["sentence:17", "commit:4"])
def test_killed_run_resumes_with_only_the_missing_sources(tiny_models, tmp_path, uninterrupted, kill):
    expected_hyps, n_unique, _ = uninterrupted
    cache = tmp_path / "c.sqlite"
    killed, translated_before = run_app(tiny_models, tmp_path, "killed", cache, kill=kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (tmp_path / "killed" / "scores.json").exists()
    done = cached_rows(cache)
    assert 0 < done < n_unique and done % CHUNK == 0  # whole chunks only: a chunk is one transaction
    if kill.startswith("commit"):
        assert done == 3 * CHUNK  # the 4th chunk's rows were inserted but never committed

    resumed, translated_after = run_app(tiny_models, tmp_path, "resumed", cache)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert f"{done} of {n_unique} unique sources cached, {n_unique - done} to translate" in log
    assert translated_after == n_unique - done  # the model saw only what was missing
    assert cached_rows(cache) == n_unique
    assert (tmp_path / "resumed" / "hypotheses.txt").read_text(encoding="utf-8") == expected_hyps


def test_unchanged_rerun_does_no_model_work(tiny_models, tmp_path, uninterrupted):
    expected_hyps, n_unique, cache = uninterrupted
    again, translated_again = run_app(tiny_models, tmp_path, "again", cache)
    assert again.returncode == 0, again.stderr[-3000:]
    assert translated_again == 0  # translate() of the system was never called
    assert f"{n_unique} of {n_unique} unique sources cached, 0 to translate" in again.stdout + again.stderr
    assert "bleu: cached result" in again.stdout + again.stderr
    assert (tmp_path / "again" / "hypotheses.txt").read_text(encoding="utf-8") == expected_hyps
