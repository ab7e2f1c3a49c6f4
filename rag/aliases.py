"""Other names for the same thing, learned from the indexed articles themselves.

Articles introduce their own aliases: "the Popular Mobilization Forces (PMF)", "the Hashd
al-Shaabi, also known as the Popular Mobilization Forces", "the Islamic State, or IS, group".
`Aliases.from_texts` collects these patterns over the chunk texts; `normalise` rewrites every
known form to one canonical form, so that matching (evidence scoring, constraints, verification)
treats "PMF" in a question and "Hashd al-Shaabi" in a sentence as the same name. Normalised text
is only ever compared, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# A proper name: capitalised words, allowing short lower-case joiners ("of", "al-") inside.
_CAP = r"(?:(?:al|el|ad|an|ar|as|ash|at|az|bin|ibn|abu)-)?[A-Z][\w'’-]*"
_NAME = rf"{_CAP}(?:\s+(?:(?:of|the|and|for|al|el|de)\s+)?{_CAP}){{0,6}}"
_ACRONYM = r"[A-Z][A-Za-z]?[A-Z]{1,5}|[A-Z]{2,6}"
_PATTERNS = (
    # "Popular Mobilization Forces (PMF)"
    re.compile(rf"(?P<name>{_NAME})\s+\((?P<alias>{_ACRONYM})\)"),
    # "the Islamic State, or IS, group"
    re.compile(rf"(?P<name>{_NAME}),?\s+or\s+(?P<alias>{_ACRONYM}),"),
    # "the Hashd al-Shaabi, also known as the Popular Mobilization Forces"
    re.compile(
        rf"(?P<name>{_NAME}),?\s+(?:also\s+|better\s+)?(?:known|called)\s+as\s+(?:the\s+)?(?P<alias>{_NAME})"
    ),
)
# Words that start a sentence or a clause, not a name ("The", "In").
_LEADING = frozenset("the a an in on at for and but as of this that these those its his her their".split())


def _trim(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in _LEADING:
        words = words[1:]
    return " ".join(words)


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w and w[0].isupper())


def _expansion(name: str, acronym: str) -> str | None:
    """The shortest tail of `name` whose capitals spell `acronym` ("Iran Popular Mobilization
    Forces", "PMF" → "Popular Mobilization Forces"); None when none does."""
    words = name.split()
    for i in range(len(words) - 1, -1, -1):
        tail = " ".join(words[i:])
        if _initials(tail).upper() == acronym.upper():
            return tail
    return None


def _pairs(text: str) -> Iterable[tuple[str, str]]:
    flat = " ".join(text.split())
    for i, pattern in enumerate(_PATTERNS):
        for m in pattern.finditer(flat):
            name, alias = _trim(m.group("name")), _trim(m.group("alias"))
            if i < 2:  # an acronym must spell the name it follows
                full = _expansion(name, alias)
                if full:
                    yield full, alias
            elif name and alias and name != alias and len(name.split()) <= 4 and len(alias.split()) <= 4:
                yield name, alias


@dataclass(frozen=True)
class Aliases:
    """Groups of names for the same thing; each group is rewritten to its canonical form."""

    groups: tuple[tuple[str, ...], ...] = ()  # each: canonical form first
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _canonical: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> Aliases:
        """Aliases introduced anywhere in `texts` (chunk texts of the index)."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for t in texts:
            for a, b in _pairs(t):
                parent[find(a)] = find(b)
        members: dict[str, list[str]] = {}
        for x in parent:
            members.setdefault(find(x), []).append(x)
        # Canonical: the shortest form (an acronym when there is one), so it reads as one name.
        groups = tuple(
            tuple(sorted(ms, key=lambda s: (len(s.split()), len(s), s)))
            for ms in members.values()
            if len(ms) > 1
        )
        return cls.of(sorted(groups))

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]]) -> Aliases:
        canonical = {form: g[0] for g in groups for form in g[1:]}
        pattern = None
        if canonical:
            forms = sorted(canonical, key=len, reverse=True)
            pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w-])")
        return cls(tuple(tuple(g) for g in groups), pattern, canonical)

    def normalise(self, text: str) -> str:
        """`text` with every known alias replaced by its group's canonical form."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._canonical[m.group(0)], text)

    def expand(self, text: str) -> str:
        """`text` followed by the other forms of every name it uses ("Hashd al-Shaabi" → "…
        (PMF, Popular Mobilization Forces)"), so a word search finds articles that use another."""
        if self._pattern is None:
            return text
        used = {self._canonical.get(m.group(0), m.group(0)) for m in self._pattern.finditer(text)}
        used |= {g[0] for g in self.groups if re.search(rf"(?<![\w-]){re.escape(g[0])}(?![\w-])", text)}
        more = [f for g in self.groups if g[0] in used for f in g if f not in text]
        return f"{text} ({', '.join(more)})" if more else text

    def __bool__(self) -> bool:
        return bool(self.groups)
