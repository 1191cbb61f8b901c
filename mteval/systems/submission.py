"""The outputs of a test set's submitted systems, read through sacrebleu (WMT21 and later releases carry them)."""
from __future__ import annotations

from mteval.data.sacrebleu_cache import entry, read_fields
from mteval.data.sacrebleu_sets import submissions
from mteval.errors import ConfigError
from mteval.systems.file import FileSystem


def wmt_submission(
    *,
    submission: str,
    test_set: str,
    langpair: str,
    cache_dir: str | None = None,
    limit: int | None = None,
    name: str | None = None,
) -> FileSystem:
    """One submitted system of a sacrebleu test set, as a file system over sacrebleu's text for it.

    Args:
        submission: the system's name in the release (``LanguageX``).
        test_set, langpair: as for ``dataset=sacrebleu`` (the configs take them from the dataset).
        cache_dir: the sacrebleu cache (None: ``$SACREBLEU`` or ``~/.sacrebleu``).
        limit: keep the first ``limit`` outputs, as ``dataset.load.limit`` keeps the first segments.
        name: the system name in results (default: ``submission``).

    Raises:
        ConfigError: the release has no such system (the message lists those it has).
    """
    ds = entry(test_set, langpair, cache_dir)
    files = read_fields(ds, langpair)
    available = submissions(list(files))
    if submission not in files or submission not in available:
        raise ConfigError(f"system.submission={submission!r}: sacrebleu's {test_set} {langpair} has "
                          + (f"these submitted systems: {', '.join(available)}" if available
                             else "no submitted systems (only releases from WMT21 on carry them)"))
    return FileSystem(path=str(files[submission]), name=name or submission, limit=limit)
