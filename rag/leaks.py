"""What no verified sentence may carry, whatever its citations: a link or image to a host that no
cited passage contains, or a run of the prompt's own words.

An article that carries instructions can make a model write a tracking image, a phishing link or
its system prompt back; such a sentence is refused by verification, so it reaches no surface (the
streamed sentences and the final answer are the same verified text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.prompts import ANSWER_INSTRUCTION, SYSTEM_PROMPT

_URL_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)([^\s/?#)\]>\"'<]+)", re.IGNORECASE)
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]*)")
_WORD = re.compile(r"\w+")
# Words in a row shared with the prompt that count as repeating it (its own sentences are longer).
_RUN = 7


def _runs(text: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i : i + _RUN]) for i in range(len(words) - _RUN + 1)}


_PROMPT_RUNS = _runs(SYSTEM_PROMPT + "\n" + ANSWER_INSTRUCTION)


def leak(sentence: str, sources: Iterable[str]) -> str | None:
    """Why `sentence` must not be shown (in words), or None: a link or image to a host that none
    of `sources` (the cited passages' texts) contains, an image from a relative or data: address,
    or seven words in a row of the prompt."""
    known = {h.lower() for text in sources for h in _URL_HOST.findall(text)}
    foreign = sorted({h.lower() for h in _URL_HOST.findall(sentence)} - known)
    if foreign:
        return f"links to {foreign[0]}, which no cited passage contains"
    if any(not _URL_HOST.match(src) for src in _IMAGE.findall(sentence)):
        return "shows an image from an address no cited passage gives"
    if _runs(sentence) & _PROMPT_RUNS:
        return "repeats the instructions given to the model"
    return None
