"""The Hydra entry layer: instantiate dataset, system and metrics from the config, run, write, print."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mteval.commands.config_check import build, check_config, expand_home, resolve_devices
from mteval.cores import size_thread_pools
from mteval.data.languages import check_direction
from mteval.errors import MtevalError
from mteval.types import Direction
import mteval.commands.resolvers  # noqa: F401 - registers the resolvers conf/ uses
from mteval.cache import EMBEDDINGS_MB, Cache
from mteval.data.summary import format_summary
from mteval.pipeline import evaluate
from mteval.provenance import environment
from mteval.report.table import scores_table
from mteval.results.io import append_leaderboard, write_run

log = logging.getLogger("mteval")

_QUIET = ("transformers", "pytorch_lightning", "pytorch_lightning.utilities.rank_zero", "lightning",
          "lightning.pytorch.utilities.rank_zero", "lightning_fabric", "comet", "huggingface_hub", "sacrebleu",
          "matplotlib")


def quiet_libraries(level: str) -> None:
    """Keep library chatter (Lightning tips, deprecation notes) out of the run log."""
    import warnings

    logging.getLogger().setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in ("pkg_resources is deprecated", ".*LeafSpec.*", "Recommended: pip install sacremoses"):
        warnings.filterwarnings("ignore", message=pattern)


def no_score_line(provenance: dict, run_dir: Path) -> str:
    """Why no metric gave a score (each skipped or unscored metric), as one line (issue 23, item 7: an
    LLM judge whose every answer was unparsable ended with exit 0 and no number)."""
    why = [f"{name}: skipped, no segment has a reference" for name in provenance.get("skipped_metrics") or []]
    why += [f"{name}: no segment could be scored" for name in provenance.get("unscored_metrics") or {}]
    return (f"no metric produced a score ({'; '.join(why)}); the run's files are in {run_dir}. Add a metric that "
            "can score this data (a reference-free one such as metricx_qe where there are no references), "
            "or set allow_no_scores=true to accept a run without scores")


def run(cfg: DictConfig) -> dict:
    """One evaluation run; returns the scores.json dict. The run dir is Hydra's output dir."""
    from hydra.core.hydra_config import HydraConfig


    check_config(cfg)
    expand_home(cfg)
    quiet_libraries(cfg.log_level)
    # Before torch loads: its pools, MKL's and OpenMP's take this run's share of the cores (the
    # CLI counts the run as live: mteval.cores.running).
    log.info("threads: %d (this run's share of the cores)", size_thread_pools())
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    resolve_devices(cfg)  # after the thread pools are sized: it may import torch
    # Settings first (cheap), then the data: a wrong setting is reported before any file is read.
    system = build(cfg.system, "system")
    metrics = [build(node, f"metrics.{key}") for key, node in cfg.metrics.items()]
    corpus = build(cfg.dataset.load, "dataset.load")
    check_direction(corpus, Direction.parse(cfg.dataset.direction, "dataset.direction"))
    log.info("corpus %s (%s, %d segments)\n%s", corpus.name, corpus.direction, len(corpus),
             format_summary(corpus.summary))
    cache = Cache(cfg.cache, embeddings_mb=cfg.get("cache_embeddings_mb", EMBEDDINGS_MB)) if cfg.cache else None
    provenance = {**environment(), "config": OmegaConf.to_container(cfg, resolve=True), "seed": cfg.seed,
                  "run_dir": str(run_dir)}
    try:
        result = evaluate(corpus, system, metrics, cache=cache, provenance=provenance,
                          translate_chunk_size=cfg.get("translate_chunk_size", 64))
    finally:
        if cache is not None:
            cache.close()
    write_run(run_dir, result, config_yaml=OmegaConf.to_yaml(cfg, resolve=True))
    if not result.metrics and not cfg.get("allow_no_scores", False):
        raise MtevalError(no_score_line(result.provenance, run_dir))
    append_leaderboard(cfg.leaderboard, result, run_dir, when=time.strftime("%Y-%m-%dT%H:%M:%S"))
    print(scores_table(result))
    print(f"run dir: {run_dir}")
    return result.scores_dict()
