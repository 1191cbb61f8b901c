"""The OmegaConf resolvers conf/ uses, registered on import (by the CLI, prefetch and the tests)."""
from __future__ import annotations

import os
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
