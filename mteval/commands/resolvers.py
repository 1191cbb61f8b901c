"""The OmegaConf resolvers conf/ uses, registered on import (by the CLI, prefetch and the tests)."""
from __future__ import annotations

import os
import re
import secrets

from omegaconf import OmegaConf

from mteval.locations import project_dir

OmegaConf.register_new_resolver("mteval_root", lambda: str(project_dir()), replace=True)
# A suffix that makes run and sweep directories unique: two runs started in the same second once
# shared one (one run's scores.json next to the other's segments.jsonl). The process id tells apart
# runs on one machine, the random part runs on machines sharing a disk. Cached per config, so every
# resolution within a run (and in each job of a sweep, which copies the cache) gives one value.
OmegaConf.register_new_resolver("mteval_unique", lambda: f"{os.getpid()}-{secrets.token_hex(2)}",
                                use_cache=True, replace=True)


def path_part(name: object, limit: int = 80) -> str:
    """A name as one safe path component: separators and control characters become ``_`` and it is cut to
    ``limit`` characters (``system.name=../../x`` once put the run dir outside results_dir, issue 23)."""
    text = re.sub(r"[/\\\x00-\x1f\x7f]", "_", str(name))[:limit]
    return "_" if text in ("", ".", "..") else text


# In conf/config.yaml's run and sweep directories: names become single path components, and a
# results_dir from a config file may start with ~ (an override is expanded before Hydra reads it).
OmegaConf.register_new_resolver("mteval_path_part", path_part, replace=True)
OmegaConf.register_new_resolver("mteval_home", lambda path: os.path.expanduser(str(path)), replace=True)
