"""A question as typed → the question the core uses, or a `BadRequest` saying what is wrong with it.

Every edge (CLI, HTTP API, chat) calls `clean_question` once, so all of them accept and refuse the
same questions with the same words.
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import BadRequest

# Terminal escape sequences (CSI colour codes, OSC titles, a lone ESC and the character after it),
# then every other control or format character except the joiners some scripts need. Left in,
# "\x1b[31m" reached retrieval and the prompt as "[31m" (and came back as "never mention 31").
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?", re.S)
_JOINERS = frozenset("\u200c\u200d")


def _visible(c: str) -> bool:
    return unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") or c in _JOINERS


def clean_question(text: str | None, max_chars: int) -> str:
    """The question without escape sequences, control and format characters (NUL included), in NFC,
    white space collapsed to single spaces.

    `BadRequest` when nothing is left, when no letter or digit is (punctuation or symbols only),
    or when more than `max_chars` characters are.
    """
    text = _ESCAPES.sub("", text or "")
    text = "".join(c if _visible(c) else " " if c.isspace() else "" for c in text)
    q = " ".join(unicodedata.normalize("NFC", text).split())
    if not q:
        raise BadRequest("the question is empty. Please type a question about the articles")
    if len(q) > max_chars:
        raise BadRequest(f"the question is too long ({len(q)} characters; the limit is {max_chars})")
    if not any(c.isalnum() for c in q):
        raise BadRequest(f"the question {q[:40]!r} has no words to search for (letters or digits)")
    return q
