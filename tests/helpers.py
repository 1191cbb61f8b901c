"""Helpers shared by test files: the checkout's paths, WMT22 text through sacrebleu, the arXiv stand-in's papers.

WMT22 helpers read the test session's private sacrebleu cache: a test that calls them requests the
``wmt22`` fixture (or carries the ``wmt22`` marker), which fills that cache or skips the test.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mteval.data.arxiv import ArxivClient
from mteval.data.sacrebleu_cache import entry, raw_files, read_fields
from mteval.data.seeds import SEPARATOR, block_id
from mteval.systems.ctranslate2 import CT2Seq2Seq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MTEVAL = str(Path(sys.executable).parent / "mteval")
# A local mirror of WMT22 (../shared beside the checkout, or MTEVAL_SHARED): other people's files, never committed.
SHARED = Path(os.environ.get("MTEVAL_SHARED", ROOT.parent / "shared"))
WMT22_MIRROR = SHARED / "data" / "wmt22"


# ---------------------------------------------------------------- WMT22 (needs the wmt22 fixture)


def sacrebleu_field(langpair: str, field: str) -> Path:
    """sacrebleu's text file for one field of WMT22 (``src``, ``ref:A``, a system name) in the test cache."""
    return read_fields(entry("wmt22", langpair), langpair)[field]


def wmt22_lines(langpair: str, field: str) -> list[str]:
    return sacrebleu_field(langpair, field).read_text(encoding="utf-8").split("\n")[:-1]


def wmt22_xml(langpair: str) -> Path:
    """The release's WMT XML file of one pair (``wmttest2022.<pair>.all.xml``) in the test cache."""
    return raw_files(entry("wmt22", langpair), langpair)[0]


# ---------------------------------------------------------------- command lines


def mteval_score(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``mteval-score`` with ``args``, offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "mteval.commands.score", *args], capture_output=True, text=True,
                          timeout=900, env=env, cwd=cwd)


def sacrebleu_json(ref: str, hyps: list[str], langpair: str, *extra: str) -> dict:
    """The sacrebleu CLI's BLEU, chrF and TER (JSON, 4 digits, seed 12345): by metric name, or its paired rows."""
    sacrebleu = str(Path(sys.executable).parent / "sacrebleu")
    out = subprocess.run([sacrebleu, ref, "-i", *hyps, "-l", langpair, "-m", "bleu", "chrf", "ter", "-w", "4",
                          "-f", "json", *extra], capture_output=True, text=True, check=True, timeout=900,
                         env={**os.environ, "SACREBLEU_SEED": "12345"}).stdout
    rows = json.loads(out)
    return {row["name"]: row for row in rows} if isinstance(rows[0], dict) and "name" in rows[0] else rows


# ---------------------------------------------------------------- systems


def ct2_system(model: str, **kw) -> CT2Seq2Seq:
    """A CTranslate2 system on CPU with small test settings; ``kw`` overrides any of them (nothing loads yet)."""
    args = dict(name="t", model=model, num_beams=1, max_new_tokens=12, batch_size=2, max_tokens=None,
                max_input_tokens=512, split_sentences=True, device="cpu")
    return CT2Seq2Seq(**{**args, **kw})


# ---------------------------------------------------------------- the arXiv stand-in


# The English originals of three Chinese seed blocks (public arXiv abstracts; the seed blocks are
# Google Translate output of them): in-domain true pairs for the real target.
ORIGINALS = {
    "abs-7c9c7e4d94d9": (
        "Scaling up language models has been shown to predictably improve performance and sample efficiency "
        "on a wide range of downstream tasks. This paper instead discusses an unpredictable phenomenon that we "
        "refer to as emergent abilities of large language models. We consider an ability to be emergent if it "
        "is not present in smaller models but is present in larger models. Thus, emergent abilities cannot be "
        "predicted simply by extrapolating the performance of smaller models. The existence of such emergence "
        "implies that additional scaling could further expand the range of capabilities of language models."
    ),
    "abs-f16c449b93cb": (
        "Today's most advanced machine-learning models are hardly scrutable. The key challenge for "
        "explainability methods is to help assisting researchers in opening up these black boxes, by revealing "
        "the strategy that led to a given decision, by characterizing their internal states or by studying the "
        "underlying data representation. To address this challenge, we have developed Xplique: a software "
        "library for explainability which includes representative explainability methods as well as "
        "associated evaluation metrics. It interfaces with one of the most popular learning libraries: "
        "Tensorflow as well as other libraries including PyTorch, scikit-learn and Theano. The code is licensed "
        "under the MIT license and is freely available at github.com/deel-ai/xplique."
    ),
    "abs-3ca486809ab7": (
        "Classifying samples in incomplete datasets is a common aim for machine learning practitioners, but is "
        "non-trivial. Missing data is found in most real-world datasets and these missing values are typically "
        "imputed using established methods, followed by classification of the now complete, imputed, samples. "
        "The focus of the machine learning researcher is then to optimise the downstream classification "
        "performance. In this study, we highlight that it is imperative to consider the quality of the "
        "imputation. We demonstrate how the commonly used measures for assessing quality are flawed and propose "
        "a new class of discrepancy scores which focus on how well the method recreates the overall "
        "distribution of the data. To conclude, we highlight the compromised interpretability of classifier "
        "models trained using poorly imputed data."
    ),
}


HEADER = "block_id\tarxiv_id\tseed_page\ttitle\tnote\n"


def known_originals() -> dict[str, dict[int, str]]:
    """Three public arXiv abstracts whose Google Chinese is on the seed pages (ORIGINALS);
    2206.08478 is given an unrelated v2, as a revised abstract the Chinese does not translate."""
    revised = ("We revisit the problem entirely and present a benchmark of forty imputation methods on clinical "
               "records, with a public leaderboard and code.")
    return {"2206.07682": {1: ORIGINALS["abs-7c9c7e4d94d9"]}, "2206.04394": {1: ORIGINALS["abs-f16c449b93cb"]},
            "2206.08478": {1: ORIGINALS["abs-3ca486809ab7"], 2: revised}}


def client(url: str, **kw) -> ArxivClient:
    """A client for a loopback stand-in: no politeness delay, short backoff and timeout."""
    return ArxivClient(api=url, **{"min_interval_s": 0.0, "backoff_s": 0.01, "timeout_s": 5.0, **kw})


def corpus(tmp: Path, units, *, papers: dict[str, int]) -> tuple[Path, Path]:
    """Seed-format pages holding the Chinese of the mapped papers among one-language distractors, and the id map.

    ``units``: (English, Chinese) pairs (the ``units`` fixture). ``papers``: arXiv id -> the unit whose
    Chinese block it is mapped to. Units 20-24 are the distractors (three English, two Chinese blocks
    nobody maps).
    """
    texts = [units[i][1] for i in papers.values()] + [units[i][0] for i in (20, 21, 22)] + \
            [units[i][1] for i in (23, 24)]
    pages = tmp / "pages"
    pages.mkdir()
    for k in range(2):
        (pages / f"{k:03d}.txt").write_text(f"\n{SEPARATOR}\n".join(texts[k::2]) + f"\n{SEPARATOR}\n",
                                            encoding="utf-8")
    id_map = tmp / "ids.tsv"
    id_map.write_text(HEADER + "".join(f"{block_id(units[i][1])}\t{a}\t000\tt\t\n" for a, i in papers.items()),
                      encoding="utf-8")
    return pages, id_map


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run that talks to the loopback stand-in: downloads allowed, no proxy for it."""
    env = {k: v for k, v in os.environ.items() if k not in ("MTEVAL_OFFLINE", "HF_DATASETS_OFFLINE")}
    return {**env, "NO_PROXY": "127.0.0.1,localhost", **extra}
