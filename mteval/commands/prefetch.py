"""``mteval-prefetch``: download every model and test set a config names, so later runs work offline."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mteval.commands.pipes import quiet_on_closed_stdout
from mteval.hub.availability import ModelRef, hub_offline, is_hub_id
from mteval.metrics.comet_files import comet_dependencies
from mteval.errors import ConfigError, ModelUnavailableError, MtevalError
from mteval.locations import conf_dir
import mteval.commands.resolvers  # noqa: F401 - registers the resolvers conf/ uses
from mteval.commands.config_check import hydra_error_line
from mteval.hub.loading import model_error
from mteval.data.fetch import dataset_configs, fetch_all, testsets_in_config
from mteval.hub import probe as hub

# Weight formats the harness never loads (TensorFlow, Flax, Rust, ONNX, Core ML, OpenVINO, GGUF):
# skipping them can halve a download (opus-mt ships tf_model.h5 and rust_model.ot beside PyTorch).
NOT_LOADED = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "onnx/*", "*.tflite", "*.mlmodel",
              "coreml/*", "openvino/*", "*.gguf"]
# COMET loads its encoder's architecture and tokenizer, never the encoder's pretrained weights
# (load_from_checkpoint passes load_pretrained_weights=False), so these files are enough.
ENCODER_FILES = ["*.json", "*.model", "*.txt"]
# MetricX loads google/mt5-xl's tokenizer only (spiece.model and its JSON configs), never its 3.7 GB weights.
TOKENIZER_FILES = ["*.json", "spiece.model"]


def models_in_config(cfg: Any) -> list[ModelRef]:
    """The Hub models a composed config names: its system's ``model``, each COMET metric's and LLM judge's ``model``.

    Encoders are found later, from each downloaded checkpoint's ``hparams.yaml``.
    """
    out: list[ModelRef] = []
    system = cfg.get("system") or {}
    model = system.get("model")
    if isinstance(model, str) and is_hub_id(model):
        out.append(ModelRef(model, system.get("revision"), "system", f"system {system.get('name')}"))
    for name, metric in (cfg.get("metrics") or {}).items():
        target = str(metric.get("_target_", ""))
        model = metric.get("model")
        if target.endswith((".Comet", ".XComet")) and isinstance(model, str) and is_hub_id(model):
            out.append(ModelRef(model, metric.get("revision"), "comet", f"metrics.{name}"))
        if target.endswith(".LLMJudge") and isinstance(model, str) and is_hub_id(model):  # a chat model, as a system
            out.append(ModelRef(model, metric.get("revision"), "system", f"metrics.{name}"))
        if target.endswith(".MetricX"):
            tokenizer = metric.get("tokenizer")
            if isinstance(model, str) and is_hub_id(model):
                out.append(ModelRef(model, metric.get("revision"), "metricx", f"metrics.{name}"))
            if isinstance(tokenizer, str) and is_hub_id(tokenizer):
                out.append(ModelRef(tokenizer, metric.get("tokenizer_revision"), "tokenizer", f"metrics.{name}"))
    return out


def compose(overrides: Iterable[str]) -> Any:
    """Compose ``conf/config.yaml`` with command-line overrides, as ``mteval`` would."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir



    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        try:
            return hydra_compose(config_name="config", overrides=list(overrides))
        except Exception as err:  # noqa: BLE001 - Hydra's config errors become one line; others re-raise
            line = hydra_error_line(err)
            if line is None:
                raise
            raise ConfigError(line) from None


def all_configs() -> list[Any]:
    """One composed config per system option, each with every metric option."""
    systems = sorted(p.stem for p in (conf_dir() / "system").glob("*.yaml"))
    metrics = sorted(p.stem for p in (conf_dir() / "metrics").glob("*.yaml"))
    out = []
    for system in systems:
        try:
            out.append(compose([f"system={system}", f"metrics=[{','.join(metrics)}]"]))
        except Exception as err:  # noqa: BLE001 - a system needing a path (system=file) names no model
            if "MissingMandatoryValue" not in type(err).__name__ and "???" not in str(err):
                raise
    return out


def system_ignore_patterns(repo_id: str, revision: str | None, list_files: Callable[..., list[str]]) -> list[str]:
    """Files to skip for a system model: formats never loaded, and ``*.bin`` when safetensors exist."""
    files = list_files(repo_id, revision=revision)
    return NOT_LOADED + (["*.bin"] if any(f.endswith(".safetensors") for f in files) else [])


def prefetch(
    refs: Iterable[ModelRef],
    *,
    snapshot_download: Callable[..., str] | None = None,
    list_files: Callable[..., list[str]] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[ModelRef], list[tuple[ModelRef, str]]]:
    """Download each model (and each COMET checkpoint's encoder); return (fetched, failed with reason).

    Args:
        refs: the models to fetch (duplicates are fetched once).
        snapshot_download, list_files: the Hub functions (injected by tests).
    """

    if snapshot_download is None:
        from huggingface_hub import snapshot_download
    if list_files is None:
        from huggingface_hub import HfApi

        list_files = HfApi().list_repo_files
    queue = list(dict.fromkeys(refs))
    seen: set[tuple[str, str | None]] = set()
    fetched: list[ModelRef] = []
    failed: list[tuple[ModelRef, str]] = []
    while queue:
        ref = queue.pop(0)
        if (ref.repo_id, ref.revision) in seen:
            continue
        seen.add((ref.repo_id, ref.revision))
        kwargs: dict[str, Any] = {"repo_id": ref.repo_id, "revision": ref.revision}
        try:
            if ref.role == "system":
                kwargs["ignore_patterns"] = system_ignore_patterns(ref.repo_id, ref.revision, list_files)
            elif ref.role == "encoder":
                kwargs["allow_patterns"] = ENCODER_FILES
            elif ref.role == "tokenizer":
                kwargs["allow_patterns"] = TOKENIZER_FILES
            elif ref.role == "metricx":
                kwargs["ignore_patterns"] = NOT_LOADED
            log(f"mteval-prefetch: {ref.repo_id} ({ref.role}, named by {ref.named_by}) ...")
            path = Path(snapshot_download(**kwargs))
        except Exception as err:  # noqa: BLE001 - each failure is reported, the others still download
            failed.append((ref, str(model_error(ref.repo_id, err))))
            continue
        fetched.append(ref)
        if ref.role == "comet":  # its encoder, and any tokenizer COMET loads by a fixed name
            for repo, _ in comet_dependencies(path):
                queue.append(ModelRef(repo, None, "encoder", f"{ref.repo_id}/hparams.yaml"))
    return fetched, failed


@quiet_on_closed_stdout("mteval-prefetch")
def main(argv: list[str] | None = None) -> None:
    """Entry point: ``mteval-prefetch [--all] [--dry-run] [hydra overrides...]``."""
    parser = argparse.ArgumentParser(
        prog="mteval-prefetch",
        description="Download the models a config names (its system, COMET checkpoints and their encoders) into "
                    "the Hugging Face cache, and its test set (sacrebleu's registry or Hugging Face datasets) into "
                    "theirs, so that runs with HF_HUB_OFFLINE=1 work. Takes the same overrides "
                    "as mteval, e.g. `mteval-prefetch system=nllb_600m 'metrics=[bleu,comet]'`.",
    )
    parser.add_argument("--all", action="store_true", help="every system and metric option in conf/")
    parser.add_argument("--dry-run", action="store_true", help="list the models without downloading")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for mteval")
    args = parser.parse_args(argv)
    if hub_offline() and not args.dry_run:
        print("mteval-prefetch: warning: HF_HUB_OFFLINE is set, so only models already cached can be found",
              file=sys.stderr)
    try:

        configs = all_configs() if args.all else [compose(args.overrides)]
        refs = list(dict.fromkeys(r for cfg in configs for r in models_in_config(cfg)))
        test_sets = list(dict.fromkeys(t for cfg in configs + (dataset_configs(compose) if args.all else [])
                                       for t in testsets_in_config(cfg)))
        if args.dry_run:
            for r in refs:
                print(f"{r.repo_id}\t{r.revision or 'main'}\t{r.role}\t{r.named_by}")
            for t in test_sets:
                print(f"{t.label}\ttest set\tdataset {t.name}")
            print("(COMET encoders are read from each checkpoint's hparams.yaml once it is downloaded)")
            return
        if refs and not hub_offline():

            ok, reason = hub.reachable()
            if not ok:  # one line now, instead of minutes of retries for every model
                raise ModelUnavailableError(f"cannot download {len(refs)} model(s) ({', '.join(r.repo_id for r in refs)}): "
                                            + hub.unreachable_fix(reason))
        fetched, failed = prefetch(refs)
        sets_done, sets_failed = fetch_all(test_sets)
    except MtevalError as err:
        print(f"mteval-prefetch: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    print(f"mteval-prefetch: {len(fetched)} model(s) in the local cache" +
          (f": {', '.join(r.repo_id for r in fetched)}" if fetched else ""))
    if test_sets:
        print(f"mteval-prefetch: {len(sets_done)} of {len(test_sets)} test set(s) in the local cache")
    for _, reason in failed + sets_failed:
        print(f"mteval-prefetch: error: {reason}", file=sys.stderr)
    sys.exit(2 if failed or sets_failed else 0)


if __name__ == "__main__":
    main()
