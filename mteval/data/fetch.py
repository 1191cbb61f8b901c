"""Download the test sets a config names (sacrebleu's registry, Hugging Face datasets) so later runs work offline."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mteval.errors import MtevalError
from mteval.locations import conf_dir

# Loaders whose data come from a download cache; every other loader reads local files.
DOWNLOADING = ("mteval.data.sacrebleu_sets.load_sacrebleu", "mteval.data.hf_datasets.load_hf")
# The abstracts download the arXiv originals of their Chinese blocks when an id map is set (issue 15).
ABSTRACTS = "mteval.data.abstracts.load_abstracts"


@dataclass(frozen=True)
class TestSetRef:
    """One test set to fetch: its dataset name and the loader settings that name it."""

    name: str
    target: str
    label: str
    load: tuple[tuple[str, Any], ...]


def testsets_in_config(cfg: Any) -> list[TestSetRef]:
    """The downloadable test set a composed config names (none for local files; the abstracts' arXiv originals)."""
    from omegaconf import OmegaConf

    dataset = cfg.get("dataset") or {}
    load = dataset.get("load") or {}
    target = str(load.get("_target_", ""))
    if target == ABSTRACTS and load.get("arxiv_ids") and load.get("fetch_originals", True):
        settings = {**OmegaConf.to_container(load, resolve=True), "limit": None, "require_originals": True}
        frozen = tuple(sorted((k, _freeze(v)) for k, v in settings.items()))
        return [TestSetRef(str(dataset.get("name")), target, f"arXiv originals of {settings['arxiv_ids']}", frozen)]
    if target not in DOWNLOADING:
        return []
    settings = OmegaConf.to_container(load, resolve=True)
    settings.pop("limit", None)  # fetch the whole test set, whatever slice a run takes
    if target.endswith("load_sacrebleu"):
        label = f"sacrebleu {settings['test_set']} {settings['langpair']}"
    else:
        label = f"datasets {settings['path']}" + "".join(f" {settings[k]}" for k in ("config", "src_config", "tgt_config")
                                                       if settings.get(k))
    frozen = tuple(sorted((k, _freeze(v)) for k, v in settings.items()))
    return [TestSetRef(str(dataset.get("name")), target, label, frozen)]


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def dataset_configs(compose) -> list[Any]:  # noqa: ANN001 - mteval.commands.prefetch.compose
    """One composed config per dataset option that downloads (options needing a path are skipped)."""
    from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue


    out = []
    for option in sorted(p.stem for p in (conf_dir() / "dataset").glob("*.yaml")):
        cfg = compose([f"dataset={option}"])
        try:
            if testsets_in_config(cfg):
                out.append(cfg)
        except (MissingMandatoryValue, InterpolationToMissingValueError):
            continue  # a generic option (sacrebleu, hf) names no test set until the user does
    return out


def fetch(ref: TestSetRef) -> str:
    """Download (or find cached) and read the test set once; returns a one-line description."""
    from hydra.utils import instantiate

    load = {k: list(v) if isinstance(v, tuple) else v for k, v in ref.load}
    corpus = instantiate({**load, "_target_": ref.target}, _convert_="all")
    return f"{ref.label}: {len(corpus)} segments, {corpus.summary.get('with_reference', 0)} with a reference"


def fetch_all(refs: list[TestSetRef], log=print) -> tuple[list[TestSetRef], list[tuple[TestSetRef, str]]]:  # noqa: ANN001
    """Fetch each test set; a failure is reported and the others still download."""
    done: list[TestSetRef] = []
    failed: list[tuple[TestSetRef, str]] = []
    for ref in dict.fromkeys(refs):
        try:
            log(f"mteval-prefetch: {fetch(ref)}")
            done.append(ref)
        except Exception as err:  # noqa: BLE001 - one line per test set that could not be fetched
            cause = err
            while not isinstance(cause, MtevalError) and (cause.__cause__ or cause.__context__) is not None:
                cause = cause.__cause__ or cause.__context__
            failed.append((ref, f"{ref.label}: {cause}"))
    return done, failed
