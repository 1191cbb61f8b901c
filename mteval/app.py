"""The Hydra entry layer: instantiate dataset, system and metrics from the config, run, write, print."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mteval.provenance import ROOT

log = logging.getLogger("mteval")

OmegaConf.register_new_resolver("mteval_root", lambda: str(ROOT), replace=True)

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


def run(cfg: DictConfig) -> dict:
    """One evaluation run; returns the scores.json dict. The run dir is Hydra's output dir."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import instantiate

    from mteval.cache import Cache
    from mteval.data.summary import format_summary
    from mteval.pipeline import evaluate
    from mteval.provenance import environment
    from mteval.report.table import scores_table
    from mteval.runio import append_leaderboard, write_run

    quiet_libraries(cfg.log_level)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    corpus = instantiate(cfg.dataset.load, _convert_="all")
    system = instantiate(cfg.system, _convert_="all")
    metrics = [instantiate(m, _convert_="all") for m in cfg.metrics.values()]
    log.info("corpus %s (%s, %d segments)\n%s", corpus.name, corpus.direction, len(corpus),
             format_summary(corpus.summary))
    cache = Cache(cfg.cache) if cfg.cache else None
    provenance = {**environment(), "config": OmegaConf.to_container(cfg, resolve=True), "seed": cfg.seed,
                  "run_dir": str(run_dir)}
    try:
        result = evaluate(corpus, system, metrics, cache=cache, provenance=provenance,
                          translate_chunk_size=cfg.get("translate_chunk_size", 64))
    finally:
        if cache is not None:
            cache.close()
    write_run(run_dir, result, config_yaml=OmegaConf.to_yaml(cfg, resolve=True))
    append_leaderboard(cfg.leaderboard, result, run_dir, when=time.strftime("%Y-%m-%dT%H:%M:%S"))
    print(scores_table(result))
    print(f"run dir: {run_dir}")
    return result.scores_dict()
