"""The config checked at the edge, before any work: missing values, empty lists, top-level settings,
constructor errors named by their config path, and Hydra's own errors as one line."""
from __future__ import annotations

import inspect
import os
import re
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from mteval import validate
from mteval.cache import EMBEDDINGS_MB
from mteval.errors import ConfigError, MtevalError
from mteval.hub.device import resolve_device
from mteval.locations import conf_dir
from mteval.types import Direction


def options(group: str) -> list[str]:
    """The options of a config group (``conf/<group>/*.yaml``)."""
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def check_config(cfg: DictConfig) -> None:
    """Refuse missing mandatory values, an empty metric list and bad top-level settings.

    Raises:
        ConfigError: one line naming the setting(s) and how to set them.
    """
    missing = sorted(k for k in OmegaConf.missing_keys(cfg) if not k.startswith("hydra."))
    if missing:
        example = " ".join(f"{k}=..." for k in missing)
        raise ConfigError(f"{', '.join(missing)}: required but not set (???); give "
                          f"{'it' if len(missing) == 1 else 'them'} on the command line, e.g. {example}")
    if not cfg.get("metrics"):
        raise ConfigError(f"metrics: the list is empty; choose one or more of {', '.join(options('metrics'))}, "
                          "e.g. 'metrics=[bleu,chrf]'")
    validate.integer("translate_chunk_size", cfg.get("translate_chunk_size", 64), minimum=1)
    validate.integer("seed", cfg.get("seed"))
    validate.device("device", cfg.get("device"))
    Direction.parse(cfg.dataset.get("direction"), "dataset.direction")
    validate.choice("log_level", cfg.get("log_level"), ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
    validate.text("cache", cfg.get("cache"), optional=True)
    validate.number("cache_embeddings_mb", cfg.get("cache_embeddings_mb", EMBEDDINGS_MB), minimum=0)
    validate.boolean("allow_no_scores", cfg.get("allow_no_scores", False))


def resolve_devices(cfg: DictConfig) -> None:
    """Resolve ``device`` once, before anything is built: the top-level setting, then each system or
    metric node that takes one (``${device}``, or its own override), becomes ``cpu``, ``cuda``,
    ``cuda:N`` or ``mps`` through :func:`mteval.hub.device.resolve_device`, and the config (so
    config.yaml and every fingerprint) holds the device really used. A device this machine lacks is
    refused here, in one line. A run whose system and metrics take no device (a file, BLEU) resolves
    nothing and never imports torch.

    Raises:
        SettingError: a device that is not there (``device=cuda`` without a GPU).
    """
    nodes = {"system": cfg.system, **{f"metrics.{key}": node for key, node in cfg.metrics.items()}}
    takers = {where: node for where, node in nodes.items() if isinstance(node, DictConfig) and "device" in node}
    if not takers:
        return
    cfg.device = resolve_device(cfg.device)
    for where, node in takers.items():
        node.device = resolve_device(node.device, setting=f"{where}.device")


def build(node: DictConfig, where: str) -> Any:
    """``instantiate(node)``; a constructor's error names the full config path (``system.batch_size``).

    Raises:
        ConfigError: a bad value, a setting the target does not take, or one it needs and lacks.
    """
    from hydra.utils import instantiate

    check_targets(node, where)
    try:
        return instantiate(node, _convert_="all")
    except Exception as err:  # noqa: BLE001 - re-raised unless it is one of the cases named below
        cause = mteval_cause(err)
        if isinstance(cause, validate.SettingError):
            raw = OmegaConf.to_container(node, resolve=False).get(cause.setting)
            note = f" (set through {raw})" if isinstance(raw, str) and "${" in raw else ""
            raise cause.under(where, note) from None
        if cause is not None:
            raise
        problem = _signature_problem(err, node, where)
        if problem is None:
            raise
        raise ConfigError(problem) from None


#: What each config group may instantiate: the project's own classes for it. A ``_target_`` override
#: is code to run (``system._target_=os.makedirs`` made a directory before failing, issue 23), so it is
#: checked before ``instantiate``, by where the object is defined and not only by its dotted name
#: (``mteval.data.userfile.os.makedirs`` is ``os.makedirs``).
TARGETS = {"system": "mteval.systems.", "metrics": "mteval.metrics.", "dataset": "mteval.data."}


def check_targets(node: Any, where: str) -> None:
    """Refuse any ``_target_`` in ``node`` (nested ones included) outside the group's own mteval package.

    Raises:
        ConfigError: naming the setting, the target and what is allowed.
    """
    from hydra.utils import get_object

    prefix = TARGETS.get(where.split(".")[0], "mteval.")
    for path, target in _targets(node, where):
        if isinstance(target, str) and target in declared_targets(where.split(".")[0]):
            continue  # written in a YAML of the config tree: a class the user added (docs/adding.md)
        allowed = isinstance(target, str) and target.startswith(prefix)
        if allowed:
            try:
                found = get_object(target)
            except Exception:  # noqa: BLE001 - a target that does not import: instantiate says why, in one line
                continue
            allowed = str(getattr(found, "__module__", "")).startswith(prefix)
        if not allowed:
            group = where.split(".")[0]
            raise ConfigError(f"{path}._target_={target!r}: only mteval's own {group} classes ({prefix}*) can be "
                              f"instantiated here; choose an option with {group}=<name> "
                              f"({', '.join(options(group))})")


_TARGET_LINE = re.compile(r"^\s*_target_\s*:\s*['\"]?([\w.]+)['\"]?\s*(?:#.*)?$", re.MULTILINE)


def declared_targets(group: str) -> set[str]:
    """Every ``_target_`` written in a YAML file of one config group in this run's config tree (``conf/``,
    or the directory ``--config-path`` names): the registry, a user's own classes included. Only a
    target given on the command line alone must be one of the group's mteval classes."""
    from hydra.core.hydra_config import HydraConfig

    roots = [conf_dir()]
    try:
        roots += [Path(s.path) for s in HydraConfig.get().runtime.config_sources
                  if s.schema == "file" and s.path]
    except ValueError:  # composed outside a Hydra run (mteval-score, tests): the package's own conf/
        pass
    found: set[str] = set()
    for root in dict.fromkeys(roots):
        for path in (root / group).rglob("*.yaml"):
            try:
                found.update(_TARGET_LINE.findall(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return found


def _targets(node: Any, where: str) -> list[tuple[str, Any]]:
    """Every (config path, ``_target_``) in a config node and its children."""
    if isinstance(node, DictConfig):
        found = [(where, node.get("_target_"))] if "_target_" in node else []
        for key in node:
            if key != "_target_" and isinstance(node._get_node(key), (DictConfig, ListConfig)):
                found += _targets(node._get_node(key), f"{where}.{key}")
        return found
    if isinstance(node, ListConfig):
        return [t for i in range(len(node)) for t in _targets(node._get_node(i), f"{where}[{i}]")]
    return []


def expand_home(node: Any) -> None:
    """Expand a leading ``~/`` in every literal string setting, in place (``cache=~/c.sqlite``, dataset files,
    ``system.path``): no setting names a literal ``./~`` directory (issue 23). Interpolations follow the
    values they point at."""
    keys = list(node) if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        child = node._get_node(key)
        if isinstance(child, (DictConfig, ListConfig)):
            expand_home(child)
        elif not OmegaConf.is_interpolation(node, key):
            value = child._value()
            if isinstance(value, str) and (value == "~" or value.startswith("~/")):
                node[key] = os.path.expanduser(value)


def expand_home_overrides(argv: list[str]) -> list[str]:
    """Command-line overrides with a ``~/`` value expanded, before Hydra reads them: Hydra creates the run
    directory (``hydra.run.dir=~/runs/x``, ``results_dir=~/r``) before any mteval code sees the config."""
    out = []
    for arg in argv:
        key, eq, value = arg.partition("=")
        if eq and not arg.startswith("-") and (value == "~" or value.startswith("~/")):
            arg = f"{key}={os.path.expanduser(value)}"
        out.append(arg)
    return out


def check_override_targets(argv: list[str]) -> None:
    """Refuse a command-line ``hydra...._target_`` override outside Hydra, its plugins and mteval: Hydra
    instantiates its callbacks and launcher itself, before :func:`build` could check them.

    Raises:
        ConfigError: naming the override.
    """
    for arg in argv:
        key, eq, value = arg.lstrip("+").partition("=")
        if eq and key.startswith("hydra.") and key.endswith("_target_") \
                and not value.startswith(("hydra.", "hydra_plugins.", "mteval.")):
            raise ConfigError(f"{key}={value!r}: Hydra's launcher and callbacks may only be Hydra's, its plugins' "
                              "or mteval's own classes")


def _signature_problem(err: BaseException, node: DictConfig, where: str) -> str | None:
    """A keyword the target does not take, or a required one missing, as one line; else None."""
    text = str(err.__cause__ or err)
    target = node.get("_target_", "?")
    unknown = re.search(r"unexpected keyword argument '(\w+)'", text)
    missing = re.search(r"missing \d+ required (?:keyword-only )?arguments?: (.+?)\"?\)?$", text)
    if unknown is None and missing is None:
        return None
    try:
        from hydra.utils import get_method

        params = [p for p in inspect.signature(get_method(target)).parameters if p != "self"]
    except Exception:  # noqa: BLE001 - the list of settings is a hint only
        params = []
    valid = f"; its settings are {', '.join(params)}" if params else ""
    if unknown is not None:
        return f"{where}.{unknown.group(1)}: not a setting of {target}{valid}"
    names = [n.strip(" '\"") for n in re.split(r",| and ", missing.group(1)) if n.strip(" '\"")]
    return f"{', '.join(f'{where}.{n}' for n in names)}: required by {target} but not set"


def mteval_cause(err: BaseException) -> MtevalError | None:
    """The MtevalError that ``err`` is or was raised from (following ``__cause__``/``__context__``)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, MtevalError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def hydra_error_line(err: BaseException) -> str | None:
    """Hydra's and OmegaConf's config errors (unknown option, bad override, missing value) as one
    line with the valid choices; None for anything else."""
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(err, (HydraException, OmegaConfBaseException)):
        return None
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, option = err.missing_cfg_file.rpartition("/")
        # Hydra lists the options for `group=x` but not for an entry of a list (`metrics=[bleu,x]`).
        valid = err.options if err.options is not None else options(group) if group else []
        if valid:
            return f"{group}={option}: no such option in {group}; valid choices: {', '.join(valid)}"
    parts = [_one_line(err)]
    if err.__cause__ is not None and isinstance(err.__cause__, (HydraException, OmegaConfBaseException)):
        parts.append(_one_line(err.__cause__))
    return "; ".join(p for p in parts if p)


def _one_line(err: BaseException) -> str:
    """An exception's message without OmegaConf's ``full_key:``/``object_type=`` detail lines."""
    lines = [line.strip() for line in str(err).splitlines()]
    keep = [line for line in lines if line and not line.startswith(("full_key:", "object_type=", "reference_type="))]
    return " ".join(keep)

