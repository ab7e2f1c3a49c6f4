"""Text that remembers where every character came from in the original file.

Cleaning rewrites an article (drops junk lines, decodes entities, rejoins split numbers), but a
citation must point into the file as it was read. `MappedText` carries, for each character of the
cleaned text, the half-open span of the raw text it stands for, so any cleaned span maps back to a
raw span with `raw_span`.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class MappedText:
    """Cleaned text plus, per character, the raw span `[starts[i], ends[i])` it came from.

    The offsets are machine-integer arrays (8 bytes a character, not a Python int object each):
    a large file must not take gigabytes to clean.
    """

    text: str
    starts: array[int]
    ends: array[int]

    @classmethod
    def identity(cls, raw: str) -> MappedText:
        """The raw text mapped onto itself."""
        n = len(raw)
        return cls(raw, array("q", range(n)), array("q", range(1, n + 1)))

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The raw span covered by the cleaned span `[start, end)`."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside text of length {len(self.text)}")
        return self.starts[start], self.ends[end - 1]

    def replace_spans(self, edits: Iterable[tuple[int, int, str]]) -> MappedText:
        """Replace each cleaned span `[a, b)` by a string; edits must not overlap.

        Replacement characters map onto the raw span of what they replace. When the replacement
        is a substring of the replaced text (keeping a group, say), those characters keep their
        exact mapping instead.
        """
        text: list[str] = []
        starts: array[int] = array("q")
        ends: array[int] = array("q")
        pos = 0
        for a, b, new in sorted(edits):
            if a < pos or b < a:
                raise ValueError(f"overlapping or inverted edit [{a}, {b})")
            text.append(self.text[pos:a])
            starts.extend(self.starts[pos:a])
            ends.extend(self.ends[pos:a])
            old = self.text[a:b]
            keep = old.find(new) if new else -1
            if keep >= 0:
                text.append(new)
                starts.extend(self.starts[a + keep : a + keep + len(new)])
                ends.extend(self.ends[a + keep : a + keep + len(new)])
            elif new:
                if a == b:
                    raise ValueError("cannot insert text at an empty span")
                text.append(new)
                starts.extend(array("q", [self.starts[a]]) * len(new))
                ends.extend(array("q", [self.ends[b - 1]]) * len(new))
            pos = b
        text.append(self.text[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        return MappedText("".join(text), starts, ends)

    def sub(self, pattern: str | re.Pattern[str], repl: Replacement, flags: int = 0) -> MappedText:
        """`re.sub` that keeps the raw mapping; empty matches are ignored."""
        rx = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        edits = []
        for m in rx.finditer(self.text):
            if m.start() == m.end():
                continue
            new = repl(m) if callable(repl) else m.expand(repl)
            if new != m.group(0):
                edits.append((m.start(), m.end(), new))
        return self.replace_spans(edits) if edits else self

    def strip(self) -> MappedText:
        """Drop leading and trailing white space."""
        if not self.text.strip():
            return MappedText("", array("q"), array("q"))
        lead = len(self.text) - len(self.text.lstrip())
        trail = len(self.text.rstrip())
        edits = [(0, lead, ""), (trail, len(self.text), "")]
        return self.replace_spans([e for e in edits if e[0] < e[1]])
