"""Example questions drawn from what is indexed: the names the articles mention most, and titles.

Pure: it reads chunk texts and titles, so the examples change whenever the corpus does. A name is a
run of capitalised words (or an acronym) found in at least two articles when there are several;
a person is a name that follows a title ("Col.", "Prime Minister") or comes before "said".
No question text is written down here beyond the four sentence frames below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_WORD = r"(?:[A-Z][a-z]+(?:[-’'][A-Za-z]+)*|al-[A-Z][a-z]+)"
_NAME = re.compile(r"\b" + _WORD + r"(?:[ ](?:of[ ](?:the[ ])?|al-)?" + _WORD + r")+|\b[A-Z]{3,5}\b")
_TITLES = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Col|Gen|Lt|Maj|Capt|Sgt|President|Minister|Prime Minister|Ambassador|Senator|"
    r"Secretary|Commander|Captain|General|Colonel|leader|spokesman|spokeswoman)\.?[ ]+$"
)
_SAID = re.compile(r"^,?[ ]+(?:said|says|told|added|insisted|acknowledged)\b")
# Words that open a sentence or a heading rather than a name.
_OPENERS = frozenset(
    "A An And As At But By For From If In It Its On Or So The Then There These This Those To When While "
    "With After Before During Since Although However Instead Further Finally Last Now Here Like Among "
    "Several Some Most Many Other Others Members Soldiers Officials Experts Previously".split()
)
_NOT_NAMES = frozenset("THE AND FOR BUT NOT ARE WAS HAS HAD".split())
# Words of a title glued to a name ("Prime Minister Haider al-Abadi"): dropped, and mark a person.
_TITLE_WORDS = frozenset(
    "Mr Mrs Ms Dr President Prime Minister Ambassador Senator Secretary Commander Captain General "
    "Colonel Interior Foreign Defence Defense Chief King Queen Prince Sheikh Ayatollah Cleric".split()
)


@dataclass(frozen=True)
class Mention:
    name: str
    documents: int
    mentions: int
    person: bool


def _clean(name: str) -> tuple[str | None, bool]:
    """The name without opening words or a title, and whether a title preceded it."""
    words = name.split(" ")
    while words and words[0] in _OPENERS:
        words = words[1:]
    titled = False
    while len(words) > 1 and (words[0] in _TITLE_WORDS or words[0].islower()):
        words, titled = words[1:], True
    if not words or (len(words) == 1 and not words[0].isupper()) or name in _NOT_NAMES:
        return None, False
    return " ".join(words), titled


def mentions(texts_by_doc: Mapping[str, Sequence[str]]) -> list[Mention]:
    """Names the articles mention, most widely mentioned first (documents, then mentions)."""
    docs: Counter[str] = Counter()
    total: Counter[str] = Counter()
    person: Counter[str] = Counter()
    for texts in texts_by_doc.values():
        seen: set[str] = set()
        for text in texts:
            for m in _NAME.finditer(text):
                name, titled = _clean(m.group(0))
                if name is None:
                    continue
                total[name] += 1
                seen.add(name)
                if (
                    titled
                    or _TITLES.search(text[max(0, m.start() - 20) : m.start()])
                    or _SAID.match(text[m.end() :])
                ):
                    person[name] += 1
        docs.update(seen)
    several = len(texts_by_doc) > 2
    ranked = sorted(total, key=lambda n: (-docs[n], -total[n], n))
    return [
        Mention(n, docs[n], total[n], person[n] > 0)
        for n in ranked
        if not several or docs[n] >= 2 or person[n] > 0
    ]


def example_questions(
    texts_by_doc: Mapping[str, Sequence[str]], titles: Sequence[str], limit: int = 4
) -> list[str]:
    """Up to `limit` questions about what is indexed: the most-mentioned person and names, and
    the first titles (in the order given). None when nothing is indexed."""
    found = mentions(texts_by_doc)
    people = [m.name for m in found if m.person]
    things = [m.name for m in found if not m.person and m.name not in people]
    first = [f"Who is {people[0]}?"] if people else []
    first += [f"What do the articles say about {n}?" for n in things[:1]]
    first += [f"What does the article “{t}” report?" for t in titles[:1]]
    more = [f"What do the articles say about {n}?" for n in things[1:2]]
    more += [f"What did {p} say?" for p in people[1:2]]
    more += [f"What does the article “{t}” report?" for t in titles[1:]]
    return list(dict.fromkeys(first + more))[:limit]
