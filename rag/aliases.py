"""Other names for the same thing, learned from the indexed articles themselves.

Articles introduce their own aliases: "the Popular Mobilization Forces (PMF)", "the Hashd
al-Shaabi, also known as the Popular Mobilization Forces", "the Islamic State, or IS, group".
`Aliases.from_texts` collects these patterns over the chunk texts, then adds the forms the same
texts imply: a shorter name inside a longer one ("Popular Mobilization Units" inside "the Shiite
Popular Mobilization Units, known in Arabic as …"), a name's distinctive first word when the texts
never use it alone for anything else ("Hashd"), and a name's initials when the texts never write
them ("PMU"). Spellings that differ only by a hyphen or a space are one form. `normalise`
rewrites every known form to one canonical form, so that matching (evidence scoring, constraints,
verification) treats "PMF" in a question and "Hashd al-Shaabi" in a sentence as the same name. Normalised text
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
        rf"(?P<name>{_NAME}),?\s+(?:also\s+|better\s+)?(?:known|called)(?:\s+in\s+[A-Z]\w+)?\s+as\s+"
        rf"(?:the\s+)?(?P<alias>{_NAME})"
    ),
)
# Words that start a sentence or a clause, not a name ("The", "In").
_LEADING = frozenset("the a an in on at for and but as of this that these those its his her their".split())


def _trim(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in _LEADING:
        words = words[1:]
    return " ".join(words)


def _key(form: str) -> str:
    """One spelling for forms that differ by a hyphen or a space ("Hashd al Shaabi")."""
    return " ".join(re.split(r"[\s-]+", form.strip()))


def _form_pattern(form: str) -> str:
    return r"[\s-]+".join(re.escape(w) for w in _key(form).split())


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


def _count(form: str, corpus: str, case: bool = True) -> int:
    flags = 0 if case else re.I
    return len(re.findall(r"(?<![\w-])" + _form_pattern(form) + r"(?![\w-])", corpus, flags))


def _standalone_tails(form: str, corpus: str) -> list[str]:
    """The tails of two words or more of `form` that the texts also use after another word than
    the one before them in `form`: "Popular Mobilization Units" of "Shiite Popular Mobilization
    Units" when a text says "some Popular Mobilization Units"."""
    words = _key(form).split()
    out = []
    for i in range(1, len(words) - 1):
        if not words[i][:1].isupper():
            continue
        tail = " ".join(words[i:])
        uses = re.finditer(r"(?<![\w-])" + _form_pattern(tail) + r"(?![\w-])", corpus)
        if any(corpus[max(0, m.start() - 40) : m.start()].split()[-1:] != [words[i - 1]] for m in uses):
            out.append(tail)
    return out


def _implied(group: Sequence[str], groups: Sequence[Sequence[str]], corpus: str) -> list[str]:
    """More forms of `group`: the first words of a longer form when every use of them in the texts
    is inside a form of the group and they never appear in lower case ("Hashd"; "Popular" and
    "Popular Mobilization", so "Popular Mobilization militias" names the group once); the initials of
    a form of three words or more when the texts never write them and no other form has them
    ("PMU")."""
    out: list[str] = []
    known = {_key(f) for g in groups for f in g}
    for f in group:
        words = _key(f).split()
        first = words[0]
        named = len(first) >= 4 and first[:1].isupper() and first.lower() not in _LEADING
        for size in range(1, len(words) if named else 1):
            head = " ".join(words[:size])  # "Popular", then "Popular Mobilization"; its uses in names:
            inside = sum(_count(g, corpus) for g in group if _key(g).startswith(f"{head} "))
            if (
                words[size - 1][:1].isupper()
                and head not in known
                and not _count(head.lower(), corpus)
                and _count(head, corpus) == inside
            ):
                out.append(head)
                known.add(head)
        acronym = _initials(f)
        unique = sum(_initials(g) == acronym for gs in groups for g in gs) == 1
        if len(acronym) >= 3 and acronym not in known and unique and not _count(acronym, corpus):
            out.append(acronym)
            known.add(acronym)
    return out


def _extends(form: str, group: Sequence[str]) -> bool:
    """Whether `form` is another form of `group` with words before it ("Shiite Popular
    Mobilization Units"): a word search for the shorter one finds it."""
    return any(f != form and _key(form).endswith(" " + _key(f)) for f in group)


@dataclass(frozen=True)
class Aliases:
    """Groups of names for the same thing; each group is rewritten to its canonical form."""

    groups: tuple[tuple[str, ...], ...] = ()  # each: canonical form first
    unsearched: frozenset[str] = frozenset()  # implied forms no text writes alone ("Hashd", "PMU")
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _canonical: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> Aliases:
        """Aliases introduced anywhere in `texts` (chunk texts of the index), with the forms the
        texts imply (see the module's docstring)."""
        parent: dict[str, str] = {}
        shown: dict[str, str] = {}  # key -> the first spelling seen

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        def join(a: str, b: str) -> None:
            ka, kb = _key(a), _key(b)
            shown.setdefault(ka, a)
            shown.setdefault(kb, b)
            parent[find(ka)] = find(kb)

        flat = [" ".join(t.split()) for t in texts]
        corpus = "\n".join(flat)
        pairs = [pair for t in flat for pair in _pairs(t)]
        # A name with words before a shorter one the texts also use alone stands for the shorter
        # one ("Shiite Popular Mobilization Units" → "Popular Mobilization Units"): the words
        # before ("Shiite") keep their own meaning.
        short = {f: _standalone_tails(f, corpus)[-1:] for f in {f for pair in pairs for f in pair}}
        for a, b in pairs:
            join(*(short[a] or [a]), *(short[b] or [b]))
        # a word search looks for the names as the patterns found them, as it did before
        tails = {_key(t) for ts in short.values() for t in ts} - {_key(f) for f in short if not short[f]}
        members: dict[str, list[str]] = {}
        for x in parent:
            members.setdefault(find(x), []).append(x)
        groups = [list(ms) for ms in members.values() if len(ms) > 1]
        implied = [_implied(g, groups, corpus) for g in groups]
        for g, more in zip(groups, implied, strict=True):
            g += more
        # Canonical: the shortest form (an acronym when there is one), so it reads as one name.
        return cls.of(
            sorted(
                tuple(sorted((shown.get(k, k) for k in g), key=lambda s: (len(s.split()), len(s), s)))
                for g in groups
            ),
            # a word search looks for the forms the alias patterns found, as it did before
            unsearched=[f for more in implied for f in more] + [shown[t] for t in tails],
        )

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]], unsearched: Iterable[str] = ()) -> Aliases:
        """`groups`, canonical form first; `unsearched` forms are matched but not added to a word
        search (no text writes them alone)."""
        canonical = {_key(form): g[0] for g in groups for form in g[1:]}
        # a canonical acronym is matched too, for its plural ("PMUs")
        canonical |= {_key(g[0]): g[0] for g in groups if re.fullmatch(_ACRONYM, g[0])}
        pattern = None
        if canonical:
            forms = sorted(canonical, key=len, reverse=True)
            # an acronym also in the plural ("PMUs" for the units)
            alternatives = (_form_pattern(f) + ("s?" if re.fullmatch(_ACRONYM, f) else "") for f in forms)
            pattern = re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")
        return cls(tuple(tuple(g) for g in groups), frozenset(unsearched), pattern, canonical)

    def _form(self, written: str) -> str:
        """The known form a match of the pattern writes ("PMUs" → "PMU")."""
        key = _key(written)
        return key if key in self._canonical else key[:-1]

    def normalise(self, text: str) -> str:
        """`text` with every known alias replaced by its group's canonical form."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._canonical[self._form(m.group(0))], text)

    def expand(self, text: str) -> str:
        """`text` followed by the other forms of every name it uses ("Hashd al-Shaabi" → "…
        (PMF, Popular Mobilization Forces)"), so a word search finds articles that use another."""
        if self._pattern is None:
            return text
        matched = {self._form(m.group(0)) for m in self._pattern.finditer(text)}  # forms other than canonical
        canonical = {g[0] for g in self.groups if re.search(rf"(?<![\w-]){re.escape(g[0])}(?![\w-])", text)}
        used = {self._canonical[k] for k in matched} | canonical  # the groups the text names
        said = matched | canonical  # the forms it writes
        more = [
            f
            for g in self.groups
            if g[0] in used
            for f in g
            if _key(f) not in said and f not in self.unsearched and not _extends(f, g)
        ]
        return f"{text} ({', '.join(more)})" if more else text

    def __bool__(self) -> bool:
        return bool(self.groups)
