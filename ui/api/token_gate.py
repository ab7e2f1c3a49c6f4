"""What the raw token stream of `/v1/answer` may carry before the verified answer replaces it.

Tokens are the model's words as written, shown while it writes; an article that carries
instructions can make a model write a link or image to an outside host (a tracking pixel, a
phishing link) or repeat its system prompt. The gate passes the stream through a sentence at a
time and holds back any sentence with a link or image to a host that no retrieved passage
contains, or with a run of the prompt's own words. The final answer is verified separately.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.prompts import ANSWER_INSTRUCTION, SYSTEM_PROMPT

_URL_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)([^\s/?#)\]>\"'<]+)", re.IGNORECASE)
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]*)")
_SENTENCE_END = re.compile(r"((?<=[.!?:])\s+|\n)")
_WORD = re.compile(r"\w+")
# Words in a row shared with the prompt that count as repeating it (its own sentences are longer).
_RUN = 7


def _runs(text: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i : i + _RUN]) for i in range(len(words) - _RUN + 1)}


_PROMPT_RUNS = _runs(SYSTEM_PROMPT + "\n" + ANSWER_INSTRUCTION)


class TokenGate:
    """Feed tokens in, get back the text that may be streamed (whole sentences that pass)."""

    def __init__(self, passages: Iterable[str]) -> None:
        self.hosts = {h.lower() for text in passages for h in _URL_HOST.findall(text)}
        self._pending = ""

    def allowed(self, sentence: str) -> bool:
        hosts = {h.lower() for h in _URL_HOST.findall(sentence)}
        if not hosts <= self.hosts:
            return False
        if any(not _URL_HOST.match(src) for src in _IMAGE.findall(sentence)):
            return False  # an image from a relative or data: address
        return not (_runs(sentence) & _PROMPT_RUNS)

    def feed(self, token: str) -> str:
        self._pending += token
        parts = _SENTENCE_END.split(self._pending)  # sentence, separator, sentence, …, the rest
        self._pending = parts[-1]
        pairs = zip(parts[:-1:2], parts[1::2], strict=True)
        return "".join(text + sep for text, sep in pairs if not text or self.allowed(text))

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest if rest and self.allowed(rest) else ""
