"""MetricX-24: the input format, settings refused at construction, what prefetch fetches (the model itself:
tests/contract/test_metricx_model.py)."""
from __future__ import annotations

import pytest

from mteval.errors import ConfigError
from mteval.metrics.metricx import MetricX, input_text


@pytest.mark.parametrize("ref, expected", [
    (None, "source: a b candidate: c"),
    ("d", "source: a b candidate: c reference: d"),
    ("", "source: a b candidate: c reference: "),
])
def test_input_text_is_the_metricx24_format(ref, expected):
    assert input_text("a b", "c", ref) == expected


@pytest.mark.parametrize("kw, setting", [({"precision": "16"}, "precision"), ({"precision": "int8"}, "precision"), ({"batch_size": 0}, "batch_size"),
                                         ({"max_input_tokens": 1}, "max_input_tokens"), ({"device": "gpu"}, "device")])
def test_bad_settings_are_refused_at_construction(kw, setting):
    with pytest.raises(ConfigError, match=setting):
        MetricX(**kw)


def test_prefetch_fetches_the_model_and_only_the_tokenizer_files(compose):
    from mteval.commands.prefetch import TOKENIZER_FILES, models_in_config, prefetch

    cfg = compose("metrics=[metricx,metricx_qe]")
    refs = models_in_config(cfg)
    roles = {(r.repo_id, r.role) for r in refs}
    assert ("google/metricx-24-hybrid-large-v2p6", "metricx") in roles
    assert ("google/mt5-xl", "tokenizer") in roles
    calls = []
    fetched, failed = prefetch(refs, snapshot_download=lambda **kw: calls.append(kw) or "/nonexistent",
                               list_files=lambda *a, **k: [], log=lambda _: None)
    assert not failed
    tok_call = next(c for c in calls if c["repo_id"] == "google/mt5-xl")
    assert tok_call["allow_patterns"] == TOKENIZER_FILES  # never the 3.7 GB mT5-XL weights
    assert sum(c["repo_id"] == "google/metricx-24-hybrid-large-v2p6" for c in calls) == 1  # once for both configs
