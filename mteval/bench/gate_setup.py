"""What the CI-job bench sets up before it times anything: WMT22, the models (as Hub repositories in a cache of
its own, as CI restores them), the run's config nodes, and a child process measured for wall time and memory."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mteval.bench.models import build_bench_spm, build_comet_large, build_opus_mt_sized
from mteval.data.sacrebleu_cache import cache_root, entry, is_cached
from mteval.errors import DataUnavailableError
from mteval.locations import conf_dir
from mteval.provenance import ROOT
from mteval.testing.tiny_comet import build_comet, build_xlmr_encoder
from mteval.testing.tiny_models import build_marian
from mteval.testing.tiny_spm import build_sentencepiece
from mteval.testing.wmt22 import NEEDS, provide

#: Builds the models under a directory: ``system`` (the first run's), ``system_changed`` (a second
#: checkpoint of the same architecture, so the second run's hypotheses differ) and ``comet``.
ModelBuilder = Callable[[Path], dict[str, Path]]
#: The Hub ids the bench's own Hub cache gives its models (the configs' ids would pass for the real models).
HUB_IDS = {"system": "mteval-bench/opus-mt-en-zh-sized", "system_changed": "mteval-bench/opus-mt-en-zh-sized-2",
           "comet": "mteval-bench/wmt22-comet-da-sized"}


def real_size_models(root: Path) -> dict[str, Path]:
    """opus-mt-en-zh's Marian (two seeds) and a COMET-22-sized (XLM-R large) checkpoint, random weights."""
    spm = build_bench_spm(root / "spm")
    return {"system": build_opus_mt_sized(root / "opus-mt-en-zh-sized", spm),
            "system_changed": build_opus_mt_sized(root / "opus-mt-en-zh-sized-seed1", spm, seed=1),
            "comet": build_comet_large(root)}


def tiny_models(root: Path) -> dict[str, Path]:
    """The tests' tiny Marian (two seeds) and COMET: the same code paths in seconds (for tests)."""
    spm = build_sentencepiece(root / "spm")
    return {"system": build_marian(root / "marian", spm_dir=spm),
            "system_changed": build_marian(root / "marian-seed1", spm_dir=spm, seed=1),
            "comet": build_comet(root / "comet", build_xlmr_encoder(root / "xlmr", spm_dir=spm))}


def hub_repo(hub: Path, repo_id: str, model_dir: Path) -> str:
    """Lay ``model_dir`` out as Hub repository ``repo_id`` in the Hub cache ``hub``; returns ``repo_id``.

    Runs then name the model by Hub id and identify it by commit, as CI does with the real models
    (a local path would be hashed whole in every run: 2.2 GB for the COMET checkpoint). The commit
    stands for the files' names, sizes and times, so a rebuilt model gets a new one.
    """
    model_dir = model_dir.resolve()
    listing = sorted((str(p.relative_to(model_dir)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in model_dir.rglob("*") if p.is_file())
    commit = hashlib.sha1(json.dumps([repo_id, listing]).encode()).hexdigest()
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    if not snapshot.exists():
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.symlink_to(model_dir, target_is_directory=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    return repo_id


def ensure_wmt22(work: Path) -> str:
    """WMT22 en-zh readable through sacrebleu: its cache, else a local mirror or a download laid out under
    ``work`` (``$SACREBLEU`` then points there, for this process and its children); where it came from."""
    if is_cached(entry("wmt22", "en-zh"), "en-zh"):
        return f"sacrebleu's cache {cache_root()}"
    mirror = Path(os.environ.get("MTEVAL_SHARED", ROOT.parent / "shared")) / "data" / "wmt22"
    source = provide(work / "sacrebleu", mirror=mirror, user_cache=cache_root())
    if source is None:
        raise DataUnavailableError(f"make bench-gate {NEEDS}")
    os.environ["SACREBLEU"] = str(work / "sacrebleu")
    return source


def config_nodes(overrides: Sequence[str]) -> dict[str, Any]:
    """The resolved ``system``, ``metrics`` and ``dataset.load`` nodes of conf/config.yaml with ``overrides``."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return {"system": OmegaConf.to_container(cfg.system, resolve=True),
            "metrics": {k: OmegaConf.to_container(v, resolve=True) for k, v in cfg.metrics.items()},
            "dataset": OmegaConf.to_container(cfg.dataset.load, resolve=True)}


def child_env(hub: Path) -> dict[str, str]:
    """A run's environment: offline, the bench's Hub cache, this checkout first on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "MTEVAL_OFFLINE": "1", "PYTHONPATH": path}


def measured(args: Sequence[str], env: dict[str, str], *, cwd: Path = ROOT) -> dict[str, Any]:
    """Run ``python -m ARGS`` to its end: exit status, wall seconds, the process's peak RSS (MB) and its output."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS alone
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stdout:
        proc.stdout.close()
    return {"rc": proc.returncode, "wall_s": round(time.perf_counter() - start, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "output": output}
