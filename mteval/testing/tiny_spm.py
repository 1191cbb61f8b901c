"""A tiny SentencePiece model trained on the shipped seed abstracts, shared by the tiny translation models."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import mteval
from mteval.testing._build import cached_build

ABSTRACTS_DIR = Path(mteval.__file__).parents[1] / "data" / "abstracts"
SEED_PAGE_SEPARATOR = "translated by 谷歌翻译"
SPM_MODEL = "spm.model"


def seed_text(text_files: Iterable[Path] | None = None) -> list[str]:
    """Return the non-empty lines of the seed abstracts (English and Chinese), separators dropped.

    Args:
        text_files: Plain-text files to read; defaults to the repo's `data/abstracts/*.txt`.
    """
    files = sorted(ABSTRACTS_DIR.glob("*.txt")) if text_files is None else list(text_files)
    lines = []
    for path in files:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and line != SEED_PAGE_SEPARATOR:
                lines.append(line)
    if not lines:
        raise ValueError(f"no seed text in {files}")
    return lines


def build_sentencepiece(
    out_dir: Path, *, vocab_size: int = 1000, text_files: Iterable[Path] | None = None
) -> Path:
    """Train a unigram SentencePiece model on the seed text; returns the dir holding `spm.model`.

    `character_coverage=1.0` keeps every Chinese character (the seed text has ~700
    distinct ones); one thread, no input shuffling and no output path inside the
    model make it byte-identical across runs and directories.
    """
    files = None if text_files is None else list(text_files)

    def build(tmp: Path) -> None:
        import io

        import sentencepiece as spm

        model = io.BytesIO()  # not model_prefix, which would embed the scratch path in the model
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(seed_text(files)),
            model_writer=model,
            vocab_size=vocab_size,
            model_type="unigram",
            character_coverage=1.0,
            max_sentence_length=1 << 15,  # abstracts are single long lines
            shuffle_input_sentence=False,
            num_threads=1,
            minloglevel=2,
        )
        (tmp / SPM_MODEL).write_bytes(model.getvalue())

    return cached_build(out_dir, "sentencepiece", build)


def sentencepiece_file(spm_dir: Path | None, scratch: Path) -> Path:
    """Return the model file in `spm_dir`, training a default model under `scratch` if it is None."""
    return build_sentencepiece(spm_dir or scratch / "spm") / SPM_MODEL


def spm_pieces(model_file: Path) -> list[str]:
    """Return the model's pieces in id order, without SentencePiece's <unk>, <s> and </s>."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_control(i) or sp.is_unknown(i))]
