"""The one place a ``device`` setting (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``) becomes a real device."""
from __future__ import annotations

from collections.abc import Callable

from mteval import validate


def torch_gpus() -> int:
    """GPUs torch can use: 0 unless ``torch.cuda.is_available()`` (imports torch, so never asked for ``cpu``)."""
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 0


def _mps_available() -> bool:
    import torch

    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(value: str, *, setting: str = "device", gpus: Callable[[], int] = torch_gpus,
                   kinds: tuple[str, ...] = ("cpu", "cuda", "mps")) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; ``cpu`` as given (torch is not imported);
    ``cuda``, ``cuda:N`` and ``mps`` as given where the machine has them.

    Every system and neural metric resolves its device here, so ``device=cpu`` means the CPU for all
    of them and ``auto`` is decided by one rule. ``gpus`` counts the GPUs the backend sees
    (CTranslate2 asks its own library); torch's count by default. ``kinds``: the device kinds the
    backend runs on (COMET and CTranslate2: no ``mps``).

    Raises:
        SettingError: not a device name, or a device this machine lacks (one line naming ``setting``).
    """
    validate.device(setting, value)
    if value.partition(":")[0] not in (*kinds, "auto"):
        raise validate.SettingError(setting, value, f"is not a device this backend runs on: use auto, "
                                                    f"{', '.join(k + ('[:N]' if k == 'cuda' else '') for k in kinds)}")
    if value == "cpu":
        return value
    if value == "mps":
        if not _mps_available():
            raise validate.SettingError(setting, value, "but this machine has no Apple GPU (MPS): use device=cpu "
                                                        "or auto")
        return value
    visible = gpus()
    if value == "auto":
        return "cuda" if visible else "cpu"
    if not visible:
        raise validate.SettingError(setting, value, "but no CUDA GPU is visible on this machine: use device=cpu, "
                                                    "or device=auto (a GPU when there is one)")
    index = int(value.partition(":")[2] or 0)
    if index >= visible:
        raise validate.SettingError(setting, value, f"but only {visible} GPU(s) are visible: use cuda:0 to "
                                                    f"cuda:{visible - 1}")
    return value
