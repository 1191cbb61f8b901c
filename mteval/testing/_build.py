"""Plumbing for the tiny-model builders: cached atomic builds, quiet loading, slow-to-fast tokenizers."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from mteval.metrics.mt5_tokenizer import sentencepiece_schema

SEED = 0
MARKER = ".tiny-model-complete"


def is_built(model_dir: Path) -> bool:
    """Return whether `model_dir` holds a finished build (its completion marker exists)."""
    return (Path(model_dir) / MARKER).is_file()


def cached_build(out_dir: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Run `build` into a scratch sibling of `out_dir`, then move it into place.

    A finished build is marked, so a second call returns at once; a half-written
    directory left by a crash is replaced. Building beside the target and renaming
    means a reader never sees a partial model, even with parallel test workers.

    Args:
        out_dir: Where the model should end up.
        name: Builder name, written into the marker for humans.
        build: Writes the model files into the directory it is given.

    Returns:
        `out_dir`.
    """
    out_dir = Path(out_dir)
    if is_built(out_dir):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with quiet():
            build(scratch)
        (scratch / MARKER).write_text(f"{name}\n", encoding="utf-8")
        scratch.chmod(0o755)  # mkdtemp makes it private
        if is_built(out_dir):  # another worker finished first
            return out_dir
        if out_dir.exists():
            shutil.rmtree(out_dir)
        scratch.rename(out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out_dir


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence transformers/Lightning logging and Python warnings, restoring them afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    names = ("comet", "pytorch_lightning", "lightning.pytorch", "lightning_fabric")
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    hf_logging.set_verbosity_error()
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def save_fast_tokenizer(slow_tokenizer, fast_cls, out_dir: Path) -> None:
    """Convert a SentencePiece-based slow tokenizer to `fast_cls` and save both to `out_dir`.

    The conversion runs under :func:`mteval.metrics.mt5_tokenizer.sentencepiece_schema` (protobuf 4,
    which unbabel-comet pins). The saved `tokenizer.json` then loads without any conversion, as it
    does for the real Hub models.
    """

    with tempfile.TemporaryDirectory() as slow_dir:
        slow_tokenizer.save_pretrained(slow_dir)
        with sentencepiece_schema():
            fast = fast_cls.from_pretrained(slow_dir)
        fast.save_pretrained(out_dir)  # while the .model file it also copies still exists
