"""A scripted chat backend for the LLM judge's tests: known answers per translation, first try and retry."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from mteval.systems.decoding import Decoding, resolve_decoding

#: Where the judge's prompt (conf/metrics/llm_judge.yaml) puts the translation it asks about.
_TRANSLATION = re.compile(r"Translation to annotate:\n(.*?)\n\nStep 1", re.DOTALL)


class ScriptedChat:
    """Answers each prompt from ``script``: translation -> (first answer, answer to the retry).

    A prompt is a retry when it carries ``retry_marker`` (the start of the config's retry reminder).
    Every call is recorded in ``calls`` so tests can check what the judge asked.
    """

    def __init__(self, script: Mapping[str, tuple[str, str]], *, retry_marker: str = "Your previous answer",
                 max_new_tokens: int = 512):
        self.script = dict(script)
        self.retry_marker = retry_marker
        self.max_new_tokens = max_new_tokens
        self.calls: list[list[str]] = []
        #: as a chat system's counters (the judge reads ``outputs_length_capped``): nothing is ever cut off here.
        self.counters: Counter[str] = Counter()

    def chat(self, messages: list[str]) -> list[str]:
        self.calls.append(list(messages))
        out = []
        for message in messages:
            found = _TRANSLATION.search(message)
            assert found, f"no translation in the prompt: {message[:200]!r}"
            first, retry = self.script[found.group(1)]
            out.append(retry if self.retry_marker in message else first)
        return out

    def decoding(self) -> Decoding:
        return resolve_decoding({}, max_new_tokens=self.max_new_tokens, num_beams=1)

    def run_settings(self) -> dict[str, str]:
        """Where the answers come from, as HFChat reports it: here, a table on the CPU."""
        return {"device": "cpu"}
