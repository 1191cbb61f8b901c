"""sacrebleu's test-set registry and cache: find an entry, download it once, read its text fields.

sacrebleu keeps every test set under ``$SACREBLEU`` (default ``~/.sacrebleu``): the release
tarball and its extracted files in ``<test_set>/raw/``, and one plain-text file per field
(``src``, ``ref:A``, ``docid``, each submitted system, ...) beside them. This module reads
that layout through sacrebleu's own dataset classes, so the text is exactly what
``sacrebleu -t <test_set> -l <pair> --echo <field>`` prints.
"""
from __future__ import annotations

import copy
import logging
import os
import socket
from pathlib import Path
from typing import Any

from mteval.data.userfile import read_text
from mteval.errors import ConfigError, DataUnavailableError

log = logging.getLogger("mteval")

# Seconds before a download attempt gives up: sacrebleu's urlopen has no timeout of its own.
DOWNLOAD_TIMEOUT_S = 60


def cache_root(cache_dir: str | None = None) -> Path:
    """The sacrebleu cache: ``cache_dir``, else ``$SACREBLEU``, else ``~/.sacrebleu`` (sacrebleu's own rule)."""
    chosen = cache_dir or os.environ.get("SACREBLEU") or "~/.sacrebleu"
    return Path(chosen).expanduser()


def offline() -> bool:
    """No download attempts: ``MTEVAL_OFFLINE=1`` or ``HF_DATASETS_OFFLINE=1``."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("MTEVAL_OFFLINE", "HF_DATASETS_OFFLINE"))


def entry(test_set: str, langpair: str, cache_dir: str | None = None) -> Any:
    """sacrebleu's dataset object for ``test_set``, pointed at ``cache_dir`` (a copy; the registry is untouched).

    Raises:
        ConfigError: a test set or language pair sacrebleu does not know, listing what it does know.
    """
    import sacrebleu
    from sacrebleu.dataset import DATASETS

    if test_set not in DATASETS:
        same_pair = sorted(k for k, d in DATASETS.items() if langpair in d.langpairs)
        raise ConfigError(f"dataset.test_set={test_set!r} is not in sacrebleu {sacrebleu.__version__}'s registry; "
                          f"test sets with {langpair}: {', '.join(same_pair) or 'none'}")
    ds = copy.copy(DATASETS[test_set])
    if langpair not in ds.langpairs:
        raise ConfigError(f"dataset.langpair={langpair!r}: sacrebleu's {test_set} has no such pair; "
                          f"it has {', '.join(sorted(ds.langpairs))}")
    root = cache_root(cache_dir)
    # sacrebleu fixes its cache directory at import; pointing the copy at `root` honours the config
    # (and a SACREBLEU set after import, as the tests do).
    ds._outdir = str(root / ds.name)
    ds._rawdir = str(root / ds.name / "raw")
    return ds


def raw_files(ds: Any, langpair: str) -> list[Path]:
    """The extracted release files a language pair is read from."""
    meta = ds.langpairs[langpair]
    paths = [meta["path"]] if isinstance(meta, dict) else list(meta)
    return [Path(ds._rawdir) / p for p in paths]


def _tarballs(ds: Any) -> list[Path]:
    return [Path(ds._rawdir) / ds._get_tarball_filename(url) for url in ds.data]


def _downloaded(ds: Any) -> bool:
    """Every release tarball is there: sacrebleu then downloads nothing (it checks only that they are non-empty)."""
    return all(t.is_file() and t.stat().st_size > 0 for t in _tarballs(ds))


def _missing_raw(ds: Any, langpair: str) -> Path | None:
    return next((p for p in raw_files(ds, langpair) if not p.is_file()), None)


def is_cached(ds: Any, langpair: str) -> bool:
    """The release is downloaded and extracted (no network needed to read ``langpair``)."""
    return _downloaded(ds) and _missing_raw(ds, langpair) is None


def fetch_hint(ds: Any, langpair: str) -> str:
    """How to get the release: fetch it, or copy it into the cache this run reads (``$SACREBLEU`` when set)."""
    return (f"fetch it where the network is reachable with `mteval-prefetch dataset=sacrebleu "
            f"dataset.test_set={ds.name} dataset.langpair={langpair}` (or `sacrebleu -t {ds.name} -l {langpair} "
            f"--echo src > /dev/null`), or copy the {ds.name} folder of that machine's sacrebleu cache to {ds._outdir}")


def _remove_partial(tarballs: list[Path]) -> None:
    """A failed download's half tarball (sacrebleu would take it as complete next time) and sacrebleu's lock file."""
    for t in tarballs:
        t.unlink(missing_ok=True)
        t.with_name(t.name + ".lock").unlink(missing_ok=True)


def ensure_downloaded(ds: Any, langpair: str) -> None:
    """Download and extract the release unless it is cached; fail in one line when that is impossible.

    Raises:
        DataUnavailableError: offline, no network, or a download sacrebleu refused (bad checksum).
    """
    where = f"sacrebleu test set {ds.name} {langpair}"
    if is_cached(ds, langpair):
        return
    if _downloaded(ds):
        raise DataUnavailableError(f"{where}: the cache at {ds._outdir} has the release but not "
                                   f"{_missing_raw(ds, langpair)}; "
                                   f"delete {ds._outdir} and {fetch_hint(ds, langpair)}")
    if offline():
        raise DataUnavailableError(f"{where} is not in the sacrebleu cache ({ds._outdir}) and MTEVAL_OFFLINE/"
                                   f"HF_DATASETS_OFFLINE forbids downloading: {fetch_hint(ds, langpair)}")
    log.info("%s: downloading %s into %s (once; later runs read the cache)",
                                     where, " ".join(ds.data), ds._rawdir)
    absent = [t for t in _tarballs(ds) if not t.is_file()]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        ds.maybe_download()
    except SystemExit:  # sacrebleu exits on a checksum mismatch or an SSL error, after logging why
        for t in absent:
            t.with_name(t.name + ".lock").unlink(missing_ok=True)
        raise DataUnavailableError(f"{where}: sacrebleu refused the download (see its message above); "
                                   f"delete {ds._rawdir} and retry") from None
    except OSError as err:  # URLError, timeouts, DNS failures, a full disk
        _remove_partial(absent)
        raise DataUnavailableError(f"{where} could not be downloaded ({err}): {fetch_hint(ds, langpair)}") \
            from None
    finally:
        socket.setdefaulttimeout(previous)
    if not is_cached(ds, langpair):
        raise DataUnavailableError(f"{where}: downloaded, but {_missing_raw(ds, langpair)} is missing")


def read_fields(ds: Any, langpair: str) -> dict[str, Path]:
    """Every text field of a pair (``src``, ``ref:A``, ``docid``, systems ...) -> its text file in the cache.

    sacrebleu writes the text files on first use; a lock keeps two runs from reading a half-written one.
    """
    import portalocker  # a sacrebleu dependency

    ensure_downloaded(ds, langpair)
    Path(ds._outdir).mkdir(parents=True, exist_ok=True)
    with portalocker.Lock(str(Path(ds._outdir) / f".mteval-{langpair}.lock"), timeout=600):
        # What sacrebleu's get_files does, with the release parsed once for the field names rather
        # than twice (get_files and fieldnames each parse the whole XML).
        try:
            names = ds.fieldnames(langpair)
            files = {name: Path(ds._get_txt_file_path(langpair, name)) for name in names}
            if not all(f.exists() for f in files.values()):
                ds.process_to_text(langpair)
        except (UnicodeError, SyntaxError) as err:  # XML parse errors subclass SyntaxError
            raise damaged_release(ds, langpair, err) from None
    return files


def damaged_release(ds: Any, langpair: str, err: Exception) -> DataUnavailableError:
    """A release file sacrebleu cannot parse (bytes that are not UTF-8, broken XML), as one line naming it
    (issue 23: this was a raw ``UnicodeDecodeError`` repr of 23,576 characters, naming no file)."""
    if isinstance(err, UnicodeDecodeError):
        detail = f"not UTF-8 at byte {err.start}"
    else:
        detail = " ".join(str(err).split())[:160]
    files = ", ".join(str(p) for p in raw_files(ds, langpair))
    return DataUnavailableError(f"sacrebleu test set {ds.name} {langpair}: the release file {files} is damaged "
                                f"({detail}); delete {ds._outdir} and {fetch_hint(ds, langpair)}")


def read_lines(path: Path) -> list[str]:
    """The lines of a sacrebleu text file (only ``\\n`` separates them; sacrebleu collapsed other whitespace)."""
    text = read_text(path)
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines
