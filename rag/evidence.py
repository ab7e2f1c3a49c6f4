"""What each source says: the best sentences per article, and where articles take opposite sides.

Built without the LLM, so it is always a verbatim, correctly cited account of the sources; on a
contested question it puts every side on the screen before any generated text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

from rag.matching import (
    CLAIM_AXIS,
    DENIAL_REACH,
    GIVING,
    NEGATIONS,
    NO_CLAIM,
    STOPWORDS,
    affirms_denied,
    claim_stance,
    content_stems,
    either_or,
    ended,
    main_question,
    names,
    numbers,
    numbers_with_words,
    question_axes,
    related,
    stance_on,
    states_claim,
    stem,
    still_question,
    words,
    yes_no_claim,
)
from rag.synonyms import (
    causes,
    country_of_capital,
    is_adjective,
    is_gradable,
    is_person,
    is_place,
    is_verb,
    names_place,
    of_possession,
    share_a_sense,
)
from rag.types import Conflict, Evidence, Passage, Quote, Side

# question, sentences -> cosine similarity of each sentence to the question
Similarity = Callable[[str, Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class ScoredQuote:
    quote: Quote
    score: float
    dense: float
    lexical: float
    answers: bool = False  # holds the kind of thing the question asks for (see `asked_kind`)


def passage_quotes(p: Passage) -> list[Quote]:
    """The sentences of a passage, each with its span in the original file."""
    return [Quote(p.n, p.doc_id, rs, re_, p.text[s:e]) for s, e, rs, re_ in p.sentences]


def question_terms(text: str) -> set[str]:
    """What a sentence must contain to answer a question: content stems and numbers."""
    return content_stems(text) | numbers(text)


@dataclass(frozen=True)
class TermWeights:
    """Inverse document frequency of terms over the indexed chunks: "Iraq" is cheap, "Badr" is not.

    A term the corpus never uses gets the highest weight, so a question about something the
    articles do not mention scores low however many common words it shares with them.
    """

    idf: dict[str, float]
    unseen: float

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> TermWeights:
        df: dict[str, int] = {}
        for t in texts:
            for term in question_terms(t):
                df[term] = df.get(term, 0) + 1
        n = len(texts)
        idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        return cls(idf, math.log((n + 1) / 0.5))

    def __call__(self, term: str) -> float:
        return self.idf.get(term, self.unseen)


# What a question term found only as another word of its family ("weaponry" / "weapons") counts.
FAMILY_SHARE = 0.5


def lexical_match(question: str, sentence: str, weights: Callable[[str], float] = lambda _: 1.0) -> float:
    """IDF-weighted share of the question's terms found in the sentence; names count double."""
    q = question_terms(question)
    if not q:
        return 0.0
    important = names(question)
    w = {t: weights(t) * (2.0 if t in important else 1.0) for t in q}
    total = sum(w.values())
    if total <= 0:
        return 0.0
    s = question_terms(sentence)
    # one word family counts as the word ("weaponry" / "weapons", "assist" / "assistance")
    found = sum(w[t] * (1.0 if t in s else FAMILY_SHARE if any(related(t, x) for x in s) else 0.0) for t in q)
    return found / total


# Titles and roles that name a person: "Which US ambassador …?" asks for a person.
_ROLES = (
    r"person|official|leader|commander|spokes\w*|ambassador|minister|president|general|colonel|captain|"
    r"envoy|advis[eo]r|governor|mayor|senator|secretary|cleric|chief|head|analyst|expert|journalist|member"
)
# Roles that stand before a name as its title ("Ambassador Douglas Silliman"); the others
# ("which cabinet member", "which expert") are answered by any named person.
_TITLES = frozenset(
    "ambassador minister president general colonel captain governor mayor senator secretary".split()
)
# One word qualifying what "what" or "which" asks for ("what exact date", "which calendar day"),
# not a determiner of another time ("what last month …").
_ONE_QUALIFIER = r"(?:(?!(?:the|a|an|this|that|last|next)\s)[a-z]+\s+)?"
AnswerKind = Literal[
    "number", "measure", "year", "date", "speaker", "person", "place", "reason", "name", "type"
]

# "What did Ambassador Silliman say", "How did al-Saadi describe …": the named one's own words.
SPEAKER = re.compile(
    r"\b(?:what|how)\s+(?:did|does|do|has|have|had|would)\s+(?P<who>.+?)\s+"
    r"(?:say|tell|describe|respond|reply|react|think|believe|call|argue|claim|explain|warn|mean|answer)\b",
    re.I,
)
_KINDS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = (
    (
        "number",
        re.compile(
            r"\bhow (many|much)\b|\bwhat (number|percentage|share|amount|proportion)\b|"
            r"\bwhat (is|was|are|were) the "
            r"(population|death toll|toll|casualty toll|size|budget|cost|price|number|total)\b",
            re.I,
        ),
    ),
    ("measure", re.compile(r"\bhow (long|far|big|large|old)\b", re.I)),
    ("type", re.compile(r"\bwhat (?:type|kind|sort)s? of\b", re.I)),
    (
        "name",
        re.compile(r"\bwhat (?:is|was|are|were) (?:the names? of|(?:it|they) called)\b", re.I),
    ),
    ("speaker", SPEAKER),
    ("year", re.compile(r"\b(what|which) year\b|\bin what year\b|\bsince what year\b", re.I)),
    (
        "date",
        re.compile(
            r"^\W*when\b|\b(what|which) " + _ONE_QUALIFIER + r"(date|month|day)\b"
            r"|\bsince when\b|\bhow long ago\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            # "Who is Mr X?" asks what he is, not for a person
            # "whose" opening the question, not joining a clause ("the unit whose convoy …");
            # the role heads what "which" asks for, not a name after a verb ("which camp is Captain X")
            r"^\W*(who|whom)\b(?!\s+(?:is|was|are|were)\s+(?-i:[A-Z]))|^\W*whose\b|"
            r"\b(which|what) (?:(?!(?:is|are|was|were|did|does|do|has|have|had)\b)\w+ ){0,2}?"
            r"(" + _ROLES + r")\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"^\W*where\b|\b(which|what|in which|in what) "
            r"(city|town|country|province|region|place|village)\b",
            re.I,
        ),
    ),
    ("reason", re.compile(r"^\W*why\b|\b(for what|what is the|what was the) reason\b", re.I)),
)
# Words that give a reason ("reportedly due to the fact …", "as their presence hampers …").
_REASON = re.compile(
    r"\b(?:because|due to|owing to|in order to|so that|as a result|for fear|the reason|in response to|"
    r"in retaliation|as (?:their|its|his|her|they|it|he|she)\b)",
    re.I,
)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_MONTH_NAMES = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
)
_MONTHS = re.compile(r"\b(?:" + _MONTH_NAMES + r")\b")
_WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday"
_DAYS = re.compile(r"\b(" + _WEEKDAYS + r"|last (week|month|year))\b", re.I)
# "On what date …?", "What exact day …?", "On what calendar date …?": a day is asked for, which a
# year or a month alone, or "last week", does not give.
_DAY_ASKED = re.compile(
    r"\b(?:(?:what|which)\s+" + _ONE_QUALIFIER + r"|exact\s+|precise\s+)(?:date|day)\b", re.I
)
# A day: "Oct. 17", "17 October", "on Saturday", "yesterday", "12/05/2019".
_DAY = re.compile(
    r"\b(?:" + _MONTH_NAMES + r")\.?\s+\d{1,2}\b|\b\d{1,2}\s+(?:" + _MONTH_NAMES + r")\b"
    r"|\b(?i:" + _WEEKDAYS + r")\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)


def asks_day(question: str) -> bool:
    """Whether the question asks on which day something happened ("On what date …?")."""
    return bool(_DAY_ASKED.search(question))


def says_day(sentence: str) -> bool:
    """Whether a sentence gives a day: a month and its day, a weekday, "yesterday", a numeric date."""
    return bool(_DAY.search(sentence))


# Times that answer "when" without a calendar date ("this week", "two years ago", "over the summer").
_RELATIVE_TIME = re.compile(
    r"\b(?:today|tonight|ago|(?:this|last|next|past|earlier this|later this|that) (?:week|weekend|month|year|"
    r"summer|winter|spring|autumn|fall|day|night|morning|evening)|in recent (?:days|weeks|months|years)|"
    r"over the (?:summer|winter|spring|autumn|weekend))\b",
    re.I,
)


def says_when(sentence: str) -> bool:
    """Whether a sentence places something in time at all: a date, a month, a year, a weekday or
    a relative time ("this week", "two years ago")."""
    return _has_date("", sentence) or bool(_RELATIVE_TIME.search(sentence))


# A place named after a preposition ("near Makhmour") or a kind of place ("the town of Bashir").
_PLACE = re.compile(
    r"\b(?:in|at|near|from|outside|inside|into|across|around|to"
    r"|(?:town|city|village|province|district|region|country|capital|camp|base)\s+of)\s+(?:the\s+)?([A-Z][\w'’-]+)"
)
_PERSON_NAME = r"([A-Z][\w'’-]+(?:\s+(?:[A-Z]\.\s+)?(?:(?:al|el|bin|abu)-)?[A-Z][\w'’-]+)*)"
_ABBREVIATED_TITLE = r"(?:(?:Mr|Mrs|Ms|Dr|Gen|Col|Lt|Maj|Capt|Sgt|Sen|Rep)\.\s+)?"
_PERSON = (
    # "Gen. Qassem Soleimani", "spokesman Col. Myles Caggins", "militia leader Hadi al-Amiri"
    re.compile(
        r"\b(?:Mr|Mrs|Ms|Dr|Gen|Col|Lt|Maj|Capt|Sgt|Sen|Rep|Sheikh|Ayatollah|Major|"
        r"(?i:" + _ROLES + r"))"
        r"\.?,?\s+" + _ABBREVIATED_TITLE + _PERSON_NAME
    ),
    # "Hadi al-Amiri said", "said Hadi al-Amiri"
    re.compile(_PERSON_NAME + r",?\s+(?:said|says|told|added|stated|wrote|argued|claimed)\b"),
    # "said Col. Srud Barzanji"; not "told Turkey", who was told
    re.compile(r"\b(?:said|says|added|according to)\s+" + _ABBREVIATED_TITLE + _PERSON_NAME),
)


def people(text: str) -> list[str]:
    """The named people of a text, in order ("said Michael Pregent, a former …" → Michael Pregent)."""
    found = sorted((m.start(1), m.group(1)) for p in _PERSON for m in p.finditer(text))
    return list(dict.fromkeys(name for _, name in found))


# Words that give a quantity without a digit ("hundreds of fighters", "a million people").
_QUANTITIES = ("dozens", "hundreds", "thousands", "millions", "billions", "several")
_SCALES = ("hundred", "thousand", "million", "billion")
_QUANTITY_WORDS = re.compile(
    rf"\b({'|'.join(_QUANTITIES)}|a few|a number of|(a|one) ({'|'.join(_SCALES)}))\b",
    re.I,
)
# Kinds told apart reliably enough that a sentence holding one answers before a closer-worded
# one (a person or a place is any capitalised name after a title or a preposition: too loose).
ANSWERING_KINDS: frozenset[AnswerKind | None] = frozenset(
    {"number", "measure", "year", "date", "speaker", "person", "reason", "type"}
)
# Added to a sentence's score when it has the kind of thing the question asks for.
ANSWER_TYPE_BONUS = 0.1


_NEXT_PART = re.compile(
    r",?\s+and\s+(?:(?:\w+ly|also|then|if so,?)\s+)?"
    r"(?=(?:which|what|who|whom|whose|how|when|where|why|in which|in what|on what)\b)",
    re.I,
)


def question_parts(question: str) -> list[str]:
    """The questions a compound one asks ("When did the PMF join the army, and which leader decided
    it?" → "When did the PMF join the army?", "which leader decided it?"); one part otherwise."""
    parts = [p.strip().rstrip("?") for p in _NEXT_PART.split(question)]
    return [p + "?" for p in parts if p] if len(parts) > 1 else [question]


def asked_kind(question: str) -> AnswerKind | None:
    """What the question asks for: a number for "how many", a year, a date for "when", a person
    for "who", a place for "where", a reason for "why" — or None."""
    return next(
        (
            kind
            for kind, pattern in _KINDS
            if pattern.search(question) and (kind != "speaker" or speaker(question))
        ),
        None,
    )


_WHICH = re.compile(r"\b(?:which|what)\s+((?:[\w'’-]+\s+){0,3})", re.I)


def asks_for_person(question: str) -> bool:
    """Whether "which" or "what" asks for a kind of person, by WordNet, that no role of `_ROLES`
    names: the head of its noun phrase ("Which former Army paratrooper called …?"; not "Which
    guard units …?", where the word for a person qualifies the head, nor "What ethnic group …?",
    an adjective). Capitalised words are names or nationalities ("Iraqi"), not the kind asked
    for. Looser than `asked_kind`'s roles (a "watchdog" may be an organisation), so it only
    tells whom "he" or "she" may mean next (see `rag.answer.answered_person`)."""
    for m in _WHICH.finditer(question):
        toks = m.group(1).split()
        for i, t in enumerate(toks):
            if t.islower() and t in STOPWORDS:
                break
            if not t.islower() or is_adjective(t) or not is_person(t):
                continue
            after = toks[i + 1] if i + 1 < len(toks) else None
            if after is None or after in STOPWORDS or is_verb(after) is not False:
                return True
    return False


_WH = re.compile(r"^\W*(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)


def restates(question: str, sentence: str, disputed: bool = False) -> bool:
    """Whether a sentence (its citations stripped) only restates a question that asks who, what,
    when, where, why or how: every content word and number of it is the question's ("The militia
    was backed by Iran." for "What was the name of the militia backed by Iran?"). It answers
    nothing. A yes/no or either/or question is answered by restating it, so never, unless the
    sources are `disputed` on it: then a restated claim is a verdict ("The leaders wanted US troops
    to stay."), and the sides are for the sources to state in their own words."""
    if not disputed and (not _WH.search(question) or re.search(r"\bor\b", question, re.I)):
        return False
    return not content_stems(sentence) - content_stems(question) and numbers(sentence) <= numbers(question)


_SAYING = frozenset(
    "say said says tell told add added think thinks thought believe believes believed describe described "
    "respond responded reply replied insist insisted acknowledge acknowledged warn warned argue argued "
    "claim claimed explain explained write wrote call called".split()
)


def speaker(question: str) -> set[str]:
    """The names of the one whose words a question asks for ("What did Ambassador Silliman say?"
    → {"ambassador", "silliman"}); empty when it asks for no one's words or a group's."""
    m = SPEAKER.search(question)
    if not m:
        return set()
    # A person's name, not a group's acronym ("What did the PMF militias say?" asks for no one).
    who = [w for w in words(m.group("who")) if not w.isupper()]
    return names("The " + " ".join(who))  # a name may open the phrase


def quotes_speaker(who: set[str], sentence: str) -> bool:
    """Whether the sentence gives the words of `who`: one of the names within six words of a
    verb of saying ("al-Saadi said", "said Col. Dorrian", "Al-Saadi believes")."""
    toks = words(sentence)
    named = [i for i, w in enumerate(toks) if who & {stem(p) for p in [*re.split(r"[-–]", w), w]}]
    saying = [i for i, w in enumerate(toks) if w.lower() in _SAYING]
    return any(abs(i - j) <= 6 for i in named for j in saying)


def counted(question: str) -> str | None:
    """The stem of what "how many" / "how much" counts ("How many US troops are …" → "troop"),
    None when the question names nothing ("How much did it cost?")."""
    m = re.search(r"\bhow (?:many|much)\s+((?:[\w'’.-]+\s+){0,5})", question + " ", re.I)
    if not m:
        return None
    found = []
    for w in m.group(1).split():
        acronym = w.isupper() and len(w) > 1  # "IS" is a name here, not a verb
        if (w.lower() in STOPWORDS and not acronym) or w.lower().endswith("ed"):
            break
        found.append(w)
    # The thing counted: a plural ("senior Islamic State leaders", "people live" → "people"),
    # else the last word ("how much oil").
    plural = [w for w in found if w.islower() and (re.search(r"[^s]s$", w) or w in _PLURALS)]
    head = plural[0] if plural else found[-1] if found else None
    return stem(head) if head else None


_PLURALS = frozenset("people men women children police staff".split())
# Stems of what an amount of money answers ("how much money / funding / aid …").
_MONEY = frozenset(stem(w) for w in "money funding funds budget cost price aid salary salaries pay".split())
_CURRENCY = re.compile(
    r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:million |billion )?(?:dollars|euros|pounds|dinars)\b", re.I
)


def counts(head: str, question: str, sentence: str) -> bool:
    """Whether the sentence gives a count of `head` (a stem), other than the question's own numbers
    and years: for "how many", a number or quantity word at most four words before it ("at least
    40 of the militias", "five leading IS leaders", "31 people from the unit" for its members; not
    "hundreds of fighters belonging to Shiite militias" for militias); for "how much", one at most
    eight words either side ("funding from the government, receiving $1 billion"). A sentence
    that never names the thing may count it under another name: a count next to a word of the
    question, when the sentence shares `COUNT_CONTEXT` of the question's words."""
    toks = words(sentence)
    given = numbers(question)
    much = bool(re.search(r"\bhow much\b", question, re.I))
    said = {stem(w) for w in words(question) if w.islower()} & content_stems(question) - {head, "much"}
    if much and head in _MONEY:
        # "how much money …": an amount ("$1 billion") near a word of what the question says of
        # it ("receive … from the federal budget"), as a count must be near what it counts
        for m in _CURRENCY.finditer(sentence):
            around = words(sentence[max(0, m.start() - 60) : m.end() + 60])
            if any(related(stem(w), t) for w in around for t in said):
                return True

    def count_near(i: int, before: int, after: int) -> bool:
        for near in toks[max(0, i - before) : i + after + 1]:
            new = {n for n in numbers_with_words(near) - given if not _YEAR.fullmatch(n)}
            if new or near.lower() in _QUANTITIES or near.lower() in _SCALES:
                return True
        return False

    heads = [i for i, w in enumerate(toks) if related(head, stem(w))]
    if is_person(head):
        # a kind of person counted as people, said of them as the question says ("How many members
        # of the Turkmen unit …?": "31 people from the predominantly ethnic Turkmen unit")
        asked = content_stems(question) - {head}
        heads += [
            i
            for i, w in enumerate(toks)
            if w.lower() in _PLURALS
            and any(related(stem(t), a) for t in toks[i + 1 : i + 1 + PEOPLE_REACH] for a in asked)
        ]
    if heads:
        return any(count_near(i, 8 if much else 4, 8 if much else 0) for i in heads)
    # The thing under another name ("senior ISIS figures" / "five leading IS leaders"): a count
    # next to the question's own verb, in a sentence that shares COUNT_CONTEXT of its words, each
    # in any of its senses ("captured" for "caught")
    written = {stem(w): w for w in words(question) if w.islower()}

    def same(w: str, t: str) -> bool:
        return related(stem(w), t) or (t in written and share_a_sense(w.lower(), written[t]))

    shared = {t for t in said for w in toks if same(w, t)}
    return len(shared) >= COUNT_CONTEXT and any(
        count_near(i, 2, 2) for i, w in enumerate(toks) if any(same(w, t) for t in shared)
    )


# Words of a "how many" question a sentence must share to count the thing under another name.
COUNT_CONTEXT = 3
# Words after "people" within which a word of the question must say whom it counts.
PEOPLE_REACH = 6


# Words that end the description of what a "what is the name of …" question names.
_NAMED_END = frozenset("that which who whose where when near in of at from by with for to".split())
# A verb's participle that ends the thing named ("the alliance led by …", "the unit based in …").
_PARTICIPLE = re.compile(r"\w+(?:ed|ing)|led|run|held|made|known|set|built|won|given|taken|seen|hit|shot")
# Words before the thing named within which the question's word for it must stand ("IS leaders").
MODIFIER_REACH = 3
# Words either side of the thing named where its name may stand ("the village of Mulla Qarah").
NAME_REACH = 4


def named(question: str) -> str | None:
    """The stem of what a "what is the name of …" question asks to name ("What was the name of
    the Iran-backed militia that he led?" → "militia"); None when it names nothing."""
    found = _named_words(question)
    return stem(found[-1].split("-")[-1]) if found else None


def _named_modifier(question: str) -> set[str]:
    """The stems of the name that qualifies what is to be named ("the five IS leaders" → is,
    "the Iran-backed militia" → iran, back); empty when none does (not a word such as
    "electoral", which may be put otherwise: "election coalition")."""
    found = _named_words(question)[:-1]
    return next((content_stems(w) for w in reversed(found) if w[0].isupper() and content_stems(w)), set())


def _named_words(question: str) -> list[str]:
    m = re.search(
        r"\bnames? of\s+(?:the|a|an|this|that|his|her|their|its)?\s*((?:[\w'’.-]+\s*){1,4})", question, re.I
    )
    if not m:
        return []
    found: list[str] = []
    for w in m.group(1).split():
        if w.lower() in _NAMED_END or (found and _PARTICIPLE.fullmatch(w.lower())):  # "the alliance led by"
            break
        found.append(w)
    return found


def names_thing(head: str | None, question: str, sentence: str) -> bool:
    """Whether the sentence gives a name of `head` (a stem) that the question does not: a
    capitalised word within `NAME_REACH` words of it ("the Badr militia", "a village called Mulla
    Qarah") or given as its name within `CALLED_REACH` words after it ("the alliance of former
    militiamen, known as Fatah"); without a head, any name the question does not hold."""
    toks = words(sentence)
    asked = content_stems(question)
    if head is None:
        return bool(names(sentence) - asked)
    # whose a role is: "the IS leaders" are not any leader (but "the Badr militia" is a militia
    # the question may call "the Iran-backed militia")
    qualified = _named_modifier(question) if re.fullmatch(f"(?:{_ROLES})s?", head, re.I) else set()
    for i, w in enumerate(toks):
        if not related(head, stem(w)):
            continue
        before = {p for t in toks[max(0, i - MODIFIER_REACH) : i] for p in content_stems(t)}
        if qualified and not any(related(q, b) for q in qualified for b in before):
            continue
        near = toks[max(0, i - NAME_REACH) : i + NAME_REACH + 1]
        # a word before them, or `names` would take the first for a sentence's opening word
        if names(" ".join(["x", *near])) - asked - {stem(w)}:
            return True
        # further on, a name given as one: "the alliance of former militiamen, known as Fatah"
        after = " ".join(toks[i + 1 : i + 1 + CALLED_REACH])
        if any(stem(m.group(1)) not in asked for m in _CALLED.finditer(after)):
            return True
    return False


# "known as Fatah", "called Mulla Qarah", "named Bashir": a name given to what comes before.
_CALLED = re.compile(r"\b(?:known as|called|named|dubbed)\s+(?:the\s+)?([A-Z][\w'’-]*)")
# Words after the thing named within which "known as …" may still name it.
CALLED_REACH = 8


def of_type(question: str, sentence: str) -> bool:
    """For "what type of X …": whether the sentence says X with a word of its own before it that
    classifies it ("anti-tank weapons", "military aid"; not "the weapons", "weapons" the question
    qualifies, nor a degree: "heavy weapons", "light weapons", see `is_gradable`)."""
    m = re.search(r"\b(?:type|kind|sort)s? of\s+(?:the\s+)?([\w'’-]+)", question, re.I)
    if not m:
        return False
    head = stem(m.group(1))
    asked = content_stems(question)
    toks = words(sentence)
    return any(
        related(head, stem(w)) and _is_modifier(toks[i - 1], asked) and not is_gradable(toks[i - 1])
        for i, w in enumerate(toks)
        if i > 0
    )


def _is_modifier(word: str, asked: set[str]) -> bool:
    return word.lower() not in STOPWORDS and word[0].islower() and not content_stems(word) & asked


# What happened to what "how many" counts: "How many fighters were killed …?" → "killed"; a
# participle alone before a clause or the end, "… and how many wounded when …?" → "wounded".
_COUNTED_EVENT = re.compile(r"\bhow many\b[^?,]*?\b(?:were|was|had been|have been)\s+(\w+(?:ed|en))\b", re.I)
_COUNTED_BARE = re.compile(
    r"\bhow many\s+(\w+(?:ed|en))"
    r"(?=\s*(?:[?,]|$)|\s+(?:when|in|at|during|on|by|after|before|as|while|near)\b)",
    re.I,
)


def counted_events(question: str) -> set[str]:
    """Stems of what happened to what the question counts and of what that causes ("were
    killed" → kill, die: "Six died" tells how many were killed); none when it names no event."""
    said = [m.group(1).lower() for r in (_COUNTED_EVENT, _COUNTED_BARE) for m in r.finditer(question)]
    return {stem(w) for e in said for w in [e, *causes(e)]}


def _counts_event(question: str, sentence: str) -> bool:
    """Whether a sentence tells what the question's count is of ("were killed": "killed",
    "died"; "wounded": "injured"); True when the question names no such event."""
    events = counted_events(question)
    return not events or any(related(stem(w.lower()), e) for w in words(sentence) for e in events)


def _has_count(question: str, sentence: str) -> bool:
    if not _counts_event(question, sentence):
        return False
    head = counted(question)
    if head:  # not a count of what someone else gives ("How much has Iran given?": "$1 billion from Baghdad")
        return counts(head, question, sentence) and not other_party(question, sentence)
    if asks_money(question):  # "How much did the training cost?": an amount of money, not "500 recruits"
        return any(not numbers(m.group()) <= numbers(question) for m in _CURRENCY.finditer(sentence))
    new = {n for n in numbers_with_words(sentence) - numbers(question) if not _YEAR.fullmatch(n)}
    return bool(new) or bool(_QUANTITY_WORDS.search(sentence))


_HOW_MUCH_DID = re.compile(
    r"\bhow much\s+((?:[\w'’.-]+\s+){0,6}?[\w'’.-]+)\s*(?:\?|$|\b(?:on|for|to|in)\b)", re.I
)


def asks_money(question: str) -> bool:
    """Whether a "how much" question that names nothing counted asks for money: a word after it
    of having or giving ("How much did the coalition spend on …?", "… did it cost?"; see
    `rag.synonyms.of_possession`)."""
    m = _HOW_MUCH_DID.search(question)
    if m is None:
        return False
    return any(of_possession(w) for w in words(m.group(1)) if w.islower() and w not in STOPWORDS)


# A title as news abbreviate it before a name ("Gen. Stephen Townsend", "Col. Srud Barzanji").
_TITLE_SHORT = {"general": "gen", "colonel": "col", "captain": "capt", "governor": "gov", "senator": "sen"}
# Military ranks: news name whoever holds one with the rank, where a president or minister is
# often named alone ("Donald Trump").
RANKS = frozenset("general colonel captain".split())


def asked_title(question: str) -> str | None:
    """For "Which US ambassador …?", the title asked for (a role that stands before a name as
    its title, see `_TITLES`); else None."""
    role = re.search(r"\b(?:which|what) (?:\w+ ){0,2}?(" + _ROLES + r")\b", question, re.I)
    title = role.group(1).lower() if role else None
    return title if title in _TITLES else None


def title_pattern(title: str) -> str:
    """A title written out or abbreviated, as a regular expression: "general" → "general|gen"."""
    return "|".join([title, *([_TITLE_SHORT[title]] if title in _TITLE_SHORT else [])])


# "the Iraqi army captain who …": a title the question describes someone by, not a name.
_DESCRIBED = re.compile(r"\bthe\s+(?:[\w'’-]+\s+){0,4}?(" + "|".join(sorted(_TITLES)) + r")\b", re.I)


def described_person(question: str, text: str) -> tuple[str, str] | None:
    """For a question that describes someone by a title without naming anyone ("Where is the
    army captain who was promised …?"), the title's words in the question and the name the
    title stands before in `text` ("Captain Amir al-Saadi" → "Amir al-Saadi"), when one person
    alone has it there; None otherwise, and for a question asking who has it."""
    m = _DESCRIBED.search(question)
    if m is None or people(question) or asked_kind(question) == "person":
        return None
    pattern = title_pattern(m.group(1).lower())
    titled = re.compile(r"\b(?i:" + pattern + r")\.?\s+" + _PERSON_NAME)
    found: dict[str, str] = {}  # by last name, the longest form ("Srud Barzanji", not "Barzanji")
    for n in titled.finditer(text):
        name, last = n.group(1), n.group(1).split()[-1]
        found[last] = max(found.get(last, ""), name, key=len)
    return (m.group(0), next(iter(found.values()))) if len(found) == 1 else None


def _has_person(question: str, sentence: str) -> bool:
    asked = content_stems(question)
    title = asked_title(question)
    if title:
        # "Which US ambassador …?": a name with that title ("Ambassador Douglas Silliman")
        titled = re.compile(r"\b(?:" + title_pattern(title) + r")\.?,?\s+" + _PERSON_NAME, re.I)
        return any(content_stems(m.group(1)) - asked for m in titled.finditer(sentence))
    return any(content_stems(name) - asked for name in people(sentence))


def _has_date(question: str, sentence: str) -> bool:
    if re.search(r"\b(?:what|which) month\b", question, re.I):  # a year does not say which month
        return bool(_MONTHS.search(sentence))
    if asks_day(question):  # nor a month or "last week" which day
        return says_day(sentence)
    return bool(_YEAR.search(sentence) or _MONTHS.search(sentence) or _DAYS.search(sentence))


def _has_place(question: str, sentence: str) -> bool:
    asked = content_stems(question)
    # after a preposition ("near Makhmour"), a name before a noun of place ("Qarachokh mountain"),
    # or a name WordNet knows as a place's ("told Turkey to withdraw")
    found = [m.group(1) for m in _PLACE.finditer(sentence)]
    found += [m.group(1) for m in _NAMED_PLACE.finditer(sentence) if is_place(m.group(2))]
    found += [w for w in _CAPITALISED.findall(sentence) if names_place(w)]
    return any(stem(w) not in asked and not (_MONTHS.fullmatch(w) or _DAYS.fullmatch(w)) for w in found)


_NAMED_PLACE = re.compile(r"\b([A-Z][\w'’-]+)\s+([a-z]+)\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


# kind -> (question, sentence) -> whether the sentence holds that kind of thing
_HOLDS: dict[AnswerKind, Callable[[str, str], bool]] = {
    "number": lambda q, s: _has_count(q, s),
    "speaker": lambda q, s: quotes_speaker(speaker(q), s),
    "name": lambda q, s: names_thing(named(q), q, s),
    "type": lambda q, s: of_type(q, s),
    "measure": lambda q, s: bool(numbers_with_words(s) - numbers(q)),
    "year": lambda q, s: bool(set(_YEAR.findall(s)) - numbers(q)),
    "reason": lambda _q, s: bool(_REASON.search(s)),
    "date": lambda q, s: _has_date(q, s),
    "person": lambda q, s: _has_person(q, s),
    "place": lambda q, s: _has_place(q, s),
}


def has_kind(kind: AnswerKind, question: str, sentence: str) -> bool:
    """Whether `sentence` holds something of `kind` that the question does not already say; for
    a count, one of the thing counted ("how many troops" is not answered by "$1.6 billion")."""
    return _HOLDS[kind](question, sentence)


# Added to a sentence's score when it holds words the question quotes ("Who called it "a mistake"?").
QUOTED_BONUS = 0.2
_QUOTED = re.compile(r"[\"“”]([^\"“”]{3,80})[\"“”]|(?<![\w])['‘]([^'‘’]{3,80})['’](?![\w])")


def quoted_words(question: str) -> list[list[str]]:
    """The words of each phrase the question quotes, lower-cased ("a mistake" → [a, mistake])."""
    phrases = (m.group(1) or m.group(2) for m in _QUOTED.finditer(question))
    return [[w.lower() for w in words(p)] for p in phrases if words(p)]


def _in_order(phrase: list[str], low: list[str]) -> bool:
    n = len(phrase)
    return any(low[i : i + n] == phrase for i in range(len(low) - n + 1))


# A sentence that refers back ("using them against us") is also matched with the sentences either
# side of it, at this share of that match.
CONTEXT_SHARE = 0.7
# Pronouns of people ("he told …", "their group"), as `antecedent` also reads them.
_PERSONAL = "he|his|him|she|her|they|their|them"
_REFERS = re.compile(r"\b(?:it|its|this|these|those|" + _PERSONAL + r")\b", re.I)
# Quoted speech in the first person ("Finally we've been able to get …"): its speaker is named
# in the sentences around it ("… al-Saadi said.").
_FIRST_PERSON = re.compile(r"\b(?:we|our|ours|(?-i:us|I|me|my))\b", re.I)
_GAP = 4  # characters between two sentences of one paragraph or of two


def _contexts(quotes: Sequence[Quote]) -> dict[tuple[str, int], str]:
    """For each sentence that refers back ("using them against us", "he told …") or speaks in the
    first person ("we've been able to get …"), the text of it with the sentences just before and
    after it in its article (when the passages hold them)."""
    order = sorted(quotes, key=lambda q: (q.doc_id, q.start))

    def adjacent(a: Quote, b: Quote) -> bool:
        return a.doc_id == b.doc_id and 0 <= b.start - a.end <= _GAP

    out = {}
    for i, q in enumerate(order):
        if not (_REFERS.search(q.text) or _FIRST_PERSON.search(q.text)):
            continue
        parts = [q.text]
        if i > 0 and adjacent(order[i - 1], q):
            parts.insert(0, order[i - 1].text)
        if i + 1 < len(order) and adjacent(q, order[i + 1]):
            parts.append(order[i + 1].text)
        out[(q.doc_id, q.start)] = " ".join(parts)
    return out


def score_quotes(
    question: str,
    passages: Sequence[Passage],
    similarity: Similarity,
    weights: Callable[[str], float] = lambda _: 1.0,
    normalise: Callable[[str], str] = str,
    focus: str | None = None,
) -> list[ScoredQuote]:
    """Every distinct sentence of the passages, scored against the question (best first).

    Score = 0.5 x cosine similarity (meaning) + 0.5 x lexical match (the question's own terms,
    weighted by rarity, names double; a sentence that refers back with "it", "them", "this" …
    also matched with its neighbours, at `CONTEXT_SHARE`), plus `ANSWER_TYPE_BONUS` when the
    sentence holds the kind of thing asked for (see `asked_kind`) and `QUOTED_BONUS` when it holds
    words the question quotes. The lexical part compares texts after `normalise` (aliases
    rewritten to one name, see `rag.aliases`). With a `focus` (the follow-up itself, when
    `question` carries the previous one along) the lexical part is the mean of the match to both,
    the similarity is the mean of both when that is higher (the follow-up's own meaning raises a
    sentence the previous question's topic scores low, never lowers one), and the kind asked for
    is the focus's. A sentence shared by overlapping passages is kept
    once, under the lower passage number.
    """
    seen: dict[tuple[str, int, int], Quote] = {}
    for p in sorted(passages, key=lambda p: p.n):
        for q in passage_quotes(p):
            seen.setdefault((q.doc_id, q.start, q.end), q)
    quotes = [q for q in seen.values() if len(words(q.text)) >= 4]  # not headings and fragments
    if not quotes:
        return []
    context = _contexts(list(seen.values()))
    texts = [q.text for q in quotes]
    dense = similarity(question, texts)
    if focus:  # the follow-up's own meaning may raise a sentence, never lower it
        dense = [max(a, 0.5 * (a + b)) for a, b in zip(dense, similarity(focus, texts), strict=True)]
    nq = normalise(question)
    nf = normalise(focus) if focus else None
    # once per question, not per sentence: the kind each part asks for ("When …, and who …?")
    # a follow-up's kind is its own, but what it already says includes the question carried along:
    # "Who does he believe brokered the deal?" after a question on al-Saadi is not answered by him
    asked = [
        (kind, f"{part} {nq}" if nf else part)
        for part in question_parts(nf or nq)
        if (kind := asked_kind(part))
    ]
    cited = quoted_words(nf or nq)

    def match(text: str) -> float:  # to the question, and to the follow-up itself when there is one
        lex = lexical_match(nq, text, weights)
        return 0.5 * (lex + lexical_match(nf, text, weights)) if nf else lex

    scored = []
    for q, d in zip(quotes, dense, strict=True):
        ns = normalise(q.text)
        lex = match(ns)
        around = context.get((q.doc_id, q.start))
        if around is not None:
            lex = max(lex, CONTEXT_SHARE * match(normalise(around)))
        held = [(kind, part) for kind, part in asked if has_kind(kind, part, ns)]
        bonus = ANSWER_TYPE_BONUS if held else 0.0
        if cited:
            low = [w.lower() for w in words(ns)]
            bonus += QUOTED_BONUS if any(_in_order(c, low) for c in cited) else 0.0
        # a name next to the thing named answers too; a headline that asks answers nothing
        answers = not asks(q.text) and any(
            kind in ANSWERING_KINDS or (kind == "name" and named(part)) for kind, part in held
        )
        scored.append(ScoredQuote(q, 0.5 * float(d) + 0.5 * lex + bonus, float(d), lex, answers))
    return sorted(scored, key=lambda s: (-s.score, s.quote.n, s.quote.start))


def side_scores(scored: Sequence[ScoredQuote], other: Sequence[ScoredQuote], axis: str) -> list[ScoredQuote]:
    """`scored` (against the question), where a sentence taking a side of the opposite pair
    `axis` keeps the better of its score and its score in `other` (against the question asked
    of the other side, see `rag.matching.other_pole`): "time for the Americans to go home"
    answers "Do they want US troops to remain?" as much as "… to leave?" (best first)."""
    flipped = {(s.quote.doc_id, s.quote.start): s.score for s in other}
    out = [
        replace(s, score=max(s.score, flipped.get((s.quote.doc_id, s.quote.start), 0.0)))
        if stance_on(s.quote.text, axis)
        else s
        for s in scored
    ]
    return sorted(out, key=lambda s: -s.score)  # stable: ties keep the order of `scored`


def _axis_labels(axis: str) -> tuple[str, str]:
    plus, _, minus = axis.partition(" or ")
    return plus, minus


StanceOf = Callable[[str], int]  # a sentence -> +1 / -1 / 0 on one axis


def asks(sentence: str) -> bool:
    """A question (a headline such as "Are the militias getting friendlier?") takes no side."""
    return sentence.rstrip(" \"'”’").endswith("?")


def states(sentence: str) -> bool:
    """A sentence that asserts something: it ends like a sentence and does not ask (headlines
    such as "In Iraq, US ally with former Iran-backed enemies – INTERNATIONAL" do not)."""
    return sentence.rstrip().endswith((".", "!", '"', "”", "’", "'")) and not asks(sentence)


def _stance_on(axis: str, text: str) -> int:
    return stance_on(text, axis)


# A view the sentence gives as a named someone's: "Col. Barzanji thinks", "said Hadi al-Ameri".
_HOLDER = (
    re.compile(
        _PERSON_NAME + r",?\s+(?:said|says|thinks|thought|believes|believed|argues|argued|told|insisted|"
        r"claimed)\b"
    ),
    re.compile(r"\b(?:said|says|according to)\s+(?:[A-Z][a-z]{1,4}\.\s+)?" + _PERSON_NAME),
)
_NOT_NAMES = frozenset("he she they it we i you this that these those the a an one some many".split())
# Questions about what someone wants, says or thinks: whose view a sentence gives matters.
_ATTITUDE = re.compile(
    r"\b(want|wanted|wish|say|said|think|believe|consider|call|demand|argue|claim|feel|hope|accuse)\w*\b",
    re.I,
)


def someone_else(question: str, sentence: str) -> bool:
    """For a question about what someone wants, says or thinks: whether the sentence gives the
    view of a named someone the question does not name ("Like many of Iraq's Kurds, Col. Barzanji
    thinks the U.S. military should stay" says nothing of what militia leaders want)."""
    if not _ATTITUDE.search(question):
        return False
    asked = content_stems(question)
    for pattern in _HOLDER:
        for m in pattern.finditer(sentence):
            holder = [w for w in m.group(1).split() if w.lower() not in _NOT_NAMES]
            # "said Hadi al-Ameri, a militia leader": the words after the name say who that is
            role = re.match(r",\s+((?:[\w'’-]+\s+){0,6}[\w'’-]+)", sentence[m.end() :])
            who = " ".join(holder) + (" " + role.group(1) if role else "")
            if holder and not content_stems(who) & asked:
                return True
    return False


# Who gives or does what a claim is about: "support from the United States", "trained by Iran".
_PARTY = re.compile(r"\b(from|by)\s+(?:the\s+)?([A-Z][\w'’.-]*(?:\s+(?:of\s+)?[A-Z][\w'’.-]*)*)")


def _mentions(name: str, toks: set[str]) -> bool:
    """Whether words `toks` name `name`: all its words, or its initials ("United States" / "US",
    as `words` writes "U.S."); a national capital names its country's government either way
    ("Washington" / "the U.S.", see `rag.synonyms.country_of_capital`)."""
    if _names(name, toks) or any(_names(country, toks) for country in country_of_capital(name)):
        return True
    return any(_names(name, set(words(country))) for w in toks for country in country_of_capital(w))


def _names(name: str, toks: set[str]) -> bool:
    # "Iraq's" names Iraq; "US-led" names the US
    own = [re.sub(r"['’]s$", "", p) for w in words(name) for p in w.split("-") if p[:1].isupper()]
    bare = {re.sub(r"['’]s$", "", w) for w in toks}
    return bool(own) and (all(w in bare for w in own) or "".join(w[0] for w in own) in bare)


# The named subject of a yes/no question: who does what it asks about ("Has the United States
# supported …?").
_SUBJECT = re.compile(
    r"^\W*(?i:how\s+(?:much|many)(?:\s+[\w'’-]+){0,3}?\s+)?"  # "How much money has Iran given …?"
    r"(?i:has|have|had|did|does|do|is|are|was|were|will|would|can|could)\s+(?:the\s+)?"
    r"([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?:(?:\w+ly|ever|still|already|now|also|yet)\s+)?([a-z][\w-]*)"
)


def about_subject(question: str, sentence: str) -> bool:
    """Whether the sentence names the question's named subject ("the United States" as "U.S." in
    "never been supported by the U.S." for "Has the United States armed them?"); true when the
    question names none. A denial that never names it ("we didn't have heavy enough weaponry")
    says nothing of what the subject did."""
    name = named_subject(question)
    return name is None or _mentions(name, set(words(sentence)))


def named_subject(question: str) -> str | None:
    """The named subject of a yes/no question ("Has the United States supported …?" → United
    States); None when there is none, or the name only qualifies it ("Do Iraq's Shiite militia
    fighters say …?")."""
    subject = _SUBJECT.match(question)
    if subject is None or is_verb(subject.group(2)) is False:
        return None
    # after "has" or "are" a verb is a participle ("Has the US given …?"); a bare form is a noun
    # the name qualifies ("Are the Shiite volunteer militias …?")
    if _PERFECT_OR_BE.match(question) and not _PARTICIPLE_FORM.fullmatch(subject.group(2)):
        return None
    return subject.group(1)


_PERFECT_OR_BE = re.compile(r"^\W*(?i:has|have|had|is|are|was|were)\b")
_PARTICIPLE_FORM = re.compile(
    r"\w+(?:ed|en|ing|wn|ne|t)|made|held|led|set|put|run|hit|got|paid|said|sold|told|won"
)


def other_party(question: str, sentence: str) -> bool:
    """Whether the sentence says what the question asks of one party of someone else: the
    question names who gives or does it ("support from the United States", or its subject: "Has
    the United States supported …?") and the sentence never names it but names another as the
    one giving or doing the question's thing ("support from Iran", "backed by Iran")."""
    asked = [(m.group(1).lower(), m.group(2)) for m in _PARTY.finditer(question)]
    toks = set(words(sentence))
    parties = list(_PARTY.finditer(sentence))
    preps = {m.group(1).lower() for m in parties}
    if any(prep in preps and not _mentions(name, toks) for prep, name in asked):
        return True
    subject = _SUBJECT.match(question)
    if subject is None or _mentions(subject.group(1), toks):
        return False
    word = subject.group(2).lower()  # what the subject does: "supported"
    if stem(word) in GIVING:  # or what it gives: "Has the US given the Hashd any support in …?" → support
        given = _PREPOSITION.split(question[subject.end() :])[0]
        word = counted(question) or next(  # "How much money has Iran given …?" → money
            (w.lower() for w in reversed(words(given)) if w.islower() and content_stems(w)), word
        )
    verb = stem(word)

    def does(w: str) -> bool:  # a word for what the subject does or gives: "funding" for money,
        # or for support in another of their senses ("enjoys funding from the government")
        return (
            related(stem(w), verb)
            or (verb in _MONEY and stem(w) in _MONEY)
            or share_a_sense(w.lower(), word)
            or share_a_sense(w.lower(), verb)
        )

    return bool(_parties_doing(sentence, does))


def _parties_doing(sentence: str, does: Callable[[str], bool]) -> list[str]:
    """The parties a sentence has give or do something: each X of "from X" / "by X" with a word
    `does` accepts just before it ("support from Iran", "backed and supported by Iran")."""
    return [
        m.group(2)
        for m in _PARTY.finditer(sentence)
        if any(does(w) for w in words(sentence[: m.start()])[-_PARTY_REACH:])
    ]


_PREPOSITION = re.compile(r"\b(?:in|to|for|against|during|with|from|by|of|on|at)\b")
# A statement's subject, a name, and the verb after it ("The U.S. has provided …").
_NAMED_SUBJECT = re.compile(r"^\W*(?:[Tt]he\s+)?([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?=[a-z])")


def given_by_another(claim: str, window: str, source: str = "") -> bool:
    """Whether a statement has its named subject give or do what the window has someone else
    give or do, never naming the subject: "The council has provided support to the dockers" from
    "… have received money and material support from the port" (the statement's form of
    `other_party`). A subject `source` names that reports ("The Herald reports …", the outlet)
    gives nothing; a part of the outlet's name that does something is not the outlet
    ("Washington has given …" citing The Washington Times)."""
    subject = _NAMED_SUBJECT.match(claim)
    if subject is None or _mentions(subject.group(1), set(words(window))):
        return False
    verb = words(claim[subject.end() :])[:1]
    if verb and verb[0].lower() in _REPORTING and _mentions(subject.group(1), set(words(source))):
        return False
    # whoever else the statement names besides ("… support from Iran"), the window has another
    # give it and never names the subject
    said = content_stems(claim[subject.end() :])
    return bool(_parties_doing(window, lambda w: any(related(stem(w), s) for s in said)))


# Words of an outlet reporting ("The Herald reports …", "Baghdadpost citing the Los Angeles Times …").
_REPORTING = _SAYING | frozenset(
    "report reports reported writes notes noted states stated citing via quoting".split()
)
# How many words before "from X" / "by X" may say what X gives or does ("support and arms from Iran").
_PARTY_REACH = 4


# A passive verb and who does it: "have been accused by the U.S.-led coalition".
_PASSIVE_BY = re.compile(
    r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?(\w+(?:ed|en))\s+by\s+(?:the\s+)?"
    r"((?:[\w.'’-]+\s+){0,3}[\w.'’-]+)"
)


def reversed_roles(question: str, sentence: str) -> bool:
    """Whether the sentence has the question's verb done the other way round: by the one the
    question has it done to ("The militias have been accused by the U.S.-led coalition" for "Are
    the militias accusing the US?"), or done to the question's doer by no one named ("The Shiite
    units were later accused of destroying homes")."""
    asked = words(question)
    for m in _PASSIVE_BY.finditer(sentence):
        at = _active_at(asked, stem(m.group(1)))
        if at is None:
            continue
        agent = {part for w in words(m.group(2)) for part in w.split("-")}
        done_to = " ".join(asked[at + 1 : at + 1 + _OBJECT_REACH])  # "the United States"
        if _mentions(done_to, agent):
            return True
    for m in _PASSIVE.finditer(sentence):  # no agent: "The Shiite units were later accused of …"
        at = _active_at(asked, stem(m.group(1)))
        if at is None:
            continue
        # its doer: the words just before it ("Are the militias accusing"; in "Are the fighters
        # the Americans are training linked to …?" the Americans, not the fighters they train)
        doer = content_stems(" ".join(asked[max(1, at - _DOER_REACH) : at])) - NO_CLAIM
        # whom it is done to: the words before it in its own clause ("…, but insisted those being
        # trained": those, not "the U.S." of the clause before; an aside between commas is no clause)
        clause = _CLAUSE_START.split(sentence[: m.start()])[-1]
        if doer & content_stems(" ".join(words(clause)[-_SUBJECT_REACH:])):
            return True
    return False


def _active_at(asked: list[str], verb: str) -> int | None:
    """Where the question's words have `verb` (a stem) in the active voice; None when they lack it
    or have it passive, as the sentence does ("Were they accused by the US?", "… been accused",
    "were later accused")."""
    at = next((i for i, w in enumerate(asked) if related(stem(w), verb)), None)
    if at is None:
        return None
    be = any(w.lower() in _BE for w in asked[max(0, at - 3) : at]) or asked[0].lower() in _BE
    return None if be and not asked[at].endswith("ing") else at


# A passive verb with no one said to do it ("were later accused of destroying homes").
_PASSIVE = re.compile(r"\b(?:is|are|was|were|been|being)\s+(?:\w+ly\s+|later\s+)?(\w+(?:ed|en))\b(?!\s+by\b)")
_BE = frozenset("is are was were be been being".split())
# Where the clause of a passive verb starts, looking back from it.
_CLAUSE_START = re.compile(r"[;:]|\b(?:but|although|though|while|whereas|that|saying)\b", re.I)
# How many words before a passive verb may name the one it is done to.
_SUBJECT_REACH = 12
# How many words before the question's verb name its doer ("the Americans are training").
_DOER_REACH = 3


# How many words after the question's verb may name whom it is done to ("accusing the US").
_OBJECT_REACH = 3


@dataclass(frozen=True)
class Axis:
    """What a question turns on: how a sentence is placed on it (+1 / -1 / 0), and for a reader
    the yes/no question that finds each side (none for the opposite pairs of `rag.matching`)."""

    name: str
    stance: StanceOf
    readable: dict[int, str] = field(default_factory=dict)  # sign -> yes/no question

    @property
    def own(self) -> bool:
        """The question's own claim or options, tried only when no opposite pair gives a
        conflict; its sides may come from one article (a report and the official it quotes)."""
        return bool(self.readable)


def axes(question: str, weights: Callable[[str], float] = lambda _: 1.0) -> list[Axis]:
    """The axes a question turns on: the opposite pairs of `rag.matching` it names; the options
    of an either/or question (`rag.matching.either_or`); the claim of a yes/no question
    (`claim_stance` on `rag.matching.yes_no_claim`)."""
    out = [Axis(axis, partial(_stance_on, axis)) for axis in question_axes(question)]
    options = either_or(main_question(question))
    if options is not None:
        out.append(
            Axis(
                options.axis,
                partial(options.stance, weights=weights),
                {1: options.question(options.first), -1: options.question(options.second)},
            )
        )
    claim = yes_no_claim(question)
    if claim is not None:
        # a denial in a word of another sense counts for a side ("no ties to" for "linked to"),
        # not for what answers the question outright (see `answers_claim`)
        side = partial(_claim_side, claim, named_subject(claim), weights=weights)  # parsed once
        still = still_question(claim)  # "no" to "Have they stopped …?" is "yes" to "Are they still …?"
        out.append(Axis(CLAIM_AXIS, side, {1: claim, -1: still} if still else {1: claim}))
    return out


def _claim_side(claim: str, subject: str | None, sentence: str, weights: Callable[[str], float]) -> int:
    """`claim_stance`, a denial in a word of another sense counting ("no ties to" for "linked
    to"); a sentence that states the claim but has its subject denied a part in it says no
    ("… the offensive on the city without the assistance of Washington" to "Does the US have a
    part in the offensive on the city?", see `denies_subject`)."""
    side = claim_stance(claim, sentence, weights=weights, other_senses=True)
    return -1 if side == 1 and subject is not None and denies_subject(subject, sentence) else side


def denies_subject(name: str, sentence: str) -> bool:
    """Whether the sentence denies `name` (a question's named subject, see `named_subject`) a
    part: a plain denial, then within `DENIAL_REACH` words "of", "from" or "by" the name
    ("without the assistance of Washington", "never been supported by the U.S.")."""
    toks, size = words(sentence), len(words(name))
    for i, w in enumerate(toks):
        if w.lower() not in NEGATIONS:
            continue
        for j in range(i + 1, min(i + 1 + DENIAL_REACH, len(toks))):
            if toks[j].lower() in ("of", "from", "by"):
                after = toks[j + 1 : j + 2 + size]  # "by the U.S.", "of the Harbour Board"
                if _mentions(name, set(after)):
                    return True
    return False


def relevant(
    scored: Sequence[ScoredQuote],
    stances: Sequence[StanceOf],
    min_score: float,
    side_min_score: float | None,
) -> list[ScoredQuote]:
    """Sentences scoring at least `min_score`, plus those that answer directly and score at least
    `side_min_score`: a sentence taking a side (by one of `stances`) on what the question turns
    on, or holding the kind of thing it asks for (a count for "how many"). Another sentence may
    repeat the question's words more closely: the other side of a dispute rarely uses them, and
    the sentence giving a number often follows the one that sets the scene."""
    floor = min_score if side_min_score is None else min(min_score, side_min_score)
    return [
        s
        for s in scored
        if s.score >= min_score or (s.score >= floor and (s.answers or any(f(s.quote.text) for f in stances)))
    ]


_PRONOUN = re.compile(r"\b(?:" + _PERSONAL + r")\b", re.I)


def antecedent(best: ScoredQuote, scored: Sequence[ScoredQuote]) -> ScoredQuote | None:
    """The sentence just before `best` in its passage, when `best` does not hold what the question
    asks for but refers back with a pronoun and that sentence does hold it (the name a "his"
    stands for); None otherwise."""
    if best.answers or not _PRONOUN.search(best.quote.text):
        return None
    q = best.quote
    earlier = [s for s in scored if s.quote.n == q.n and s.quote.end <= q.start]
    before = max(earlier, key=lambda s: s.quote.end, default=None)
    return before if before is not None and before.answers else None


# "Which came first: A or B?" asks when each happened.
_WHICH_FIRST = re.compile(
    r"^\W*which (?:\w+ )?(?:came|happened|was|occurred|took place)(?: \w+)? (?:first|earlier|later|last)\b"
    r"[,:]?\s+(?P<a>.+?),?\s+or\s+(?P<b>[^?]+)\?",
    re.I,
)


def asked_parts(question: str) -> list[str]:
    """The questions a compound question asks, each to be answered (see `question_parts`); "Which
    came first: A or B?" asks "When A?" and "When B?"."""
    out = []
    for part in question_parts(question):
        order = _WHICH_FIRST.match(part)
        out += [f"When {order['a']}?", f"When {order['b']}?"] if order else [part]
    return out


def part_answers(
    question: str,
    scored: Sequence[ScoredQuote],
    min_score: float,
    weights: Callable[[str], float] = lambda _: 1.0,
    normalise: Callable[[str], str] = str,
) -> list[tuple[str, ScoredQuote]]:
    """For a question of several parts (see `asked_parts`), each part with its best sentence: its
    score for the whole question plus its lexical match to the part and a bonus when it holds the
    kind of thing the part asks for (see `score_quotes`), among the sentences scoring `min_score`
    at least that hold that kind, when some do. "Which town did they rebuild, and on what date did
    the flood start?" needs the sentence naming the town and the one dating the flood, which the
    whole question's score may rank below a sentence sharing words with both. A part that refers
    to another ("…, and when did they join the army?") asks its own question all the same; one
    that refers to a person ("…, and how is he seen by the fishermen?") is asked, as returned,
    of the person the part before was answered with ("how is Omar Haddad seen …?"), whom the
    question never names: more passages may be read for it. None for a question of one part."""
    parts = asked_parts(question)
    pool = [s for s in scored if s.score >= min_score]
    if len(parts) < 2 or not pool:
        return []
    texts = {id(s): normalise(s.quote.text) for s in pool}
    out: list[tuple[str, ScoredQuote]] = []
    for part in parts:
        if out:  # "…, and how is he seen …?": the one the part before was answered with
            part = _named_for(part, question, out[-1][1].quote.text)
        own = normalise(part)
        kind = asked_kind(own)
        held = {id(s): kind is not None and has_kind(kind, own, texts[id(s)]) for s in pool}  # once each

        def fit(s: ScoredQuote, own: str = own, held: dict[int, bool] = held) -> float:
            return s.score + 0.5 * lexical_match(own, texts[id(s)], weights) + ANSWER_TYPE_BONUS * held[id(s)]

        # a sentence another part took answers this one too only if it holds several numbers
        # ("at least 40 militias with 80,000 to 100,000 members"; not "in late 2016" twice)
        taken = [best for _, best in out]
        free = [s for s in pool if s not in taken or len(numbers_with_words(texts[id(s)]) - numbers(own)) > 1]
        holding = [s for s in free if held[id(s)]]
        out.append((part, max(holding or free or pool, key=fit)))
    return out


# Who a part of a question refers to ("…, and how is he seen?", "…, and where is that mayor from?").
_REFERRED_PERSON = re.compile(
    r"\b(?:he|she|him|her|his|(?:that|this|the same)\s+(?:" + _ROLES + r"))\b", re.I
)


def _named_for(part: str, question: str, answer: str) -> str:
    """`part` with the person it refers to named: the first one `answer` (the sentence the part
    before was answered with) names that the question does not ("Haider al-Abadi" for "he")."""
    asked = content_stems(question)
    name = next((n for n in people(answer) if not content_stems(n) & asked), None)
    if name is None:
        return part
    return _REFERRED_PERSON.sub(lambda m: name + "'s" if m.group(0).lower() == "his" else name, part)


# An article comes first for a sentence naming a person asked for only when that sentence scores
# this share of the best one: "Which NATO member …?" asks for a person by its words, and a
# sentence naming an American colonel is no answer to put before "… told Turkey to withdraw
# their troops", far better on the question.
ANSWERING_SHARE = 0.8


def select_evidence(
    question: str,
    passages: Sequence[Passage],
    scored: Sequence[ScoredQuote],
    *,
    min_score: float,
    side_min_score: float | None = None,
    per_doc: int = 2,
    weights: Callable[[str], float] = lambda _: 1.0,
    parts: Sequence[ScoredQuote] = (),
) -> list[Evidence]:
    """For each article with a relevant sentence (see `relevant`): its best sentences.

    A sentence holding what the question asks for, or answering a yes/no question outright (see
    `answers_claim`), comes first; a second sentence is kept when it scores within 15% of the
    first; then best first. When the first refers back with a pronoun to what is asked for, the
    sentence it refers to comes with it instead (see `antecedent`). `parts`: the sentences that
    answer the parts of a compound question (see `part_answers`), kept before all others.
    Articles holding what is asked for come first, then by their first sentence's score.
    """
    turns_on = axes(question)
    claim = yes_no_claim(question)
    outright = [] if claim is None else [partial(answers_claim, claim, weights=weights)]
    lexical = [ax.stance for ax in turns_on if ax.name != CLAIM_AXIS] + outright
    pairs = [ax.name for ax in turns_on if not ax.own]  # the opposite pairs of `rag.matching`
    by_doc: dict[str, list[ScoredQuote]] = {}
    for s in [*parts, *(s for s in relevant(scored, lexical, min_score, side_min_score) if s not in parts)]:
        by_doc.setdefault(s.quote.doc_id, []).append(s)
    meta = {p.doc_id: p for p in passages}
    out = []
    answering: set[str] = set()
    best = max((s.score for s in scored), default=0.0)
    # what answers is a person, known by any name alone (not a claim answered outright, nor a
    # part's answer): a count or a date near the question's words is firmer
    by_name = not outright and not parts and asked_kind(question) == "person"

    def answers(s: ScoredQuote) -> bool:
        return s.answers or any(f(s.quote.text) for f in outright)

    for doc, found in by_doc.items():
        flags = [answers(s) or s in parts for s in found]  # once each: a claim's sides are read word by word
        items = [s for s, f in zip(found, flags, strict=True) if f]  # what answers first,
        items += [s for s, f in zip(found, flags, strict=True) if not f]  # then best first
        if any(flags) and (not by_name or items[0].score >= ANSWERING_SHARE * best):
            answering.add(doc)
        top = items[0].score
        chosen = [items[0]] + [s for s in items[1:per_doc] if s.score >= 0.85 * top]  # best first
        before = antecedent(items[0], scored)
        if before is not None:  # "As a former commander …, his loyalties are in question"
            answering.add(doc)
            chosen = [before, items[0]]
        own = [s for s in found if s in parts]  # each part's answer, whatever its score
        chosen = own + [s for s in chosen if s not in own][: max(0, per_doc - len(own))]
        stance = 0
        if pairs:
            signs = {stance_on(s.quote.text, pairs[0]) for s in chosen} - {0}
            stance = signs.pop() if len(signs) == 1 else 0
        p = meta[doc]
        out.append(
            Evidence(
                doc_id=doc,
                title=p.title,
                outlet=p.outlet,
                date=p.date,
                citations=tuple(sorted({s.quote.n for s in chosen})),
                quotes=tuple(s.quote for s in chosen),
                score=round(top, 4),
                stance=stance,
            )
        )
    return sorted(out, key=lambda e: (e.doc_id not in answering, -e.score))


def answers_claim(claim: str, sentence: str, weights: Callable[[str], float] = lambda _: 1.0) -> int:
    """+1 / -1 when a sentence answers a yes/no claim outright: it states `AFFIRM_SHARE` of the
    claim's weighted words, none denied, or denies one of them while stating enough of it (see
    `rag.matching.claim_stance`); 0 otherwise."""
    if asks(sentence) or not takes_sides(claim, sentence):
        return 0
    sign = claim_stance(claim, sentence, weights)
    return 0 if sign == 1 and not states_claim(claim, sentence, weights, share=AFFIRM_SHARE) else sign


def takes_sides(question: str, sentence: str) -> bool:
    """Whether a sentence may take a side on what the question asks: not when it gives someone
    else's view, names another party, or has the roles the other way round (see `someone_else`,
    `other_party`, `reversed_roles`)."""
    return not (
        someone_else(question, sentence)
        or other_party(question, sentence)
        or reversed_roles(question, sentence)
    )


# Share of a claim's (weighted) words a sentence states, none denied, to affirm it with no reader
# or check against a denial (see `detect_conflicts`).
AFFIRM_SHARE = 2 / 3
# Most sentences a reader is asked about for the side no words give, per question (each costs
# the local model about 1.5 s on 2 cores).
CONFIRM_MOST = 6


def on_topic_statements(
    question: str,
    scored: Sequence[ScoredQuote],
    stance: StanceOf,
    floor: float | None,
    below: float,
    reader: Callable[[str, str], bool] | None,
) -> list[Quote]:
    """Statements scoring from `floor` up to `below` that take no side by their words but may
    take one, for a `reader` (none without one, or without a floor): the other side rarely uses
    the question's words ("spreading conspiracy theories that the administration is helping the
    group" for "Are they still accusing the US of helping the group?"); best first."""
    if reader is None or floor is None:
        return []
    return [
        s.quote
        for s in scored
        if floor <= s.score < below
        and states(s.quote.text)
        and not stance(s.quote.text)
        and takes_sides(question, s.quote.text)
    ]


def detect_conflicts(
    question: str,
    scored: Sequence[ScoredQuote],
    *,
    min_score: float,
    side_min_score: float | None = None,
    weights: Callable[[str], float] = lambda _: 1.0,
    says_yes: Callable[[str, str], bool] | None = None,
) -> list[Conflict]:
    """Opposite sides taken by the sources on what the question turns on (see `axes`).

    Each relevant sentence (see `relevant`) that takes a side is counted; a conflict on an opposite
    pair needs one article on each side. The question's own options (either/or) or claim (yes/no)
    are tried only when no pair gives a conflict, and their sides may come from one article (a
    report and the official it quotes). A claim's "no" side is always lexical (a denial of the
    claim's own words). Its "yes" side, once there is a denial: a sentence stating
    `AFFIRM_SHARE` of the claim, none of it denied; then with a reader (`says_yes(question,
    sentence)`, such as the model under a grammar), the relevant sentences it accepts — at most
    `CONFIRM_MOST` asked, those stating enough of the claim first, then other statements best
    first; without one, a sentence stating what a denial denies (see
    `rag.matching.affirms_denied`). A sentence naming another party than the question's ("support
    from Iran" for "support from the United States", see `other_party`) takes no side on it.
    When an option's own words give one side only, a reader is asked the other option's yes/no
    question of the other statements. Never taken from the LLM's free-text answer.
    """
    out: list[Conflict] = []
    for ax in axes(question, weights):
        if ax.own and out:
            break
        sides: dict[int, list[Quote]] = {1: [], -1: []}
        unplaced: list[Quote] = []  # on topic, but no side by the words alone
        for s in relevant(scored, [ax.stance], min_score, side_min_score):  # best first
            text = s.quote.text
            if asks(text) or not takes_sides(question, text):
                continue
            sign = ax.stance(text)
            (sides[sign] if sign else unplaced).append(s.quote)
        statements = [q for q in unplaced if states(q.text)]
        # what a reader may read too, after those
        statements += on_topic_statements(question, scored, ax.stance, side_min_score, min_score, says_yes)
        if ax.name == CLAIM_AXIS:  # "no" to "Has the US armed them?" is said of the US
            sides[-1] = [q for q in sides[-1] if about_subject(question, q.text)]
        _other_side(ax, question, sides, statements, weights, says_yes)
        docs = {sign: {q.doc_id for q in quotes} for sign, quotes in sides.items()}
        if not docs[1] or not docs[-1] or (not ax.own and len(docs[1] | docs[-1]) < 2):
            continue
        labels = dict(zip((1, -1), _axis_labels(ax.name), strict=True))
        out.append(
            Conflict(
                axis=ax.name,
                sides=tuple(
                    Side(
                        labels[sign],
                        sign,
                        tuple(sorted(docs[sign])),
                        tuple(sorted({q.n for q in quotes})),
                        tuple(quotes),
                    )
                    for sign, quotes in sides.items()
                ),
            )
        )
    return out


def _other_side(
    ax: Axis,
    question: str,
    sides: dict[int, list[Quote]],
    statements: list[Quote],
    weights: Callable[[str], float],
    says_yes: Callable[[str, str], bool] | None,
) -> None:
    """The side no words gave, into `sides` (see `detect_conflicts`): a claim's "yes" against a
    denial; or, with a reader, an option's other side in other words."""
    if ax.name == CLAIM_AXIS and sides[-1]:  # "yes" counts only against a denial
        claim = ax.readable[1]
        # most of the claim's own words, none denied, affirm it whatever else the sentence says
        sure = [a for a in sides[1] if states_claim(claim, a.text, weights, share=AFFIRM_SHARE)]
        rest = [a for a in sides[1] + statements if a not in sure and not ended(question, a.text)]
        if says_yes is None:
            found = [a for a in rest if any(affirms_denied(claim, a.text, d.text) for d in sides[-1])]
        else:  # the reader may find "yes" in other words ("arming and training" for "support")
            found = [a for a in rest[:CONFIRM_MOST] if says_yes(claim, a.text)]
        sides[1] = sure + found
    elif says_yes is not None and bool(sides[1]) != bool(sides[-1]):
        # one option found by its words: the reader looks for the other in other words; of a
        # claim, only for "no" to "Have they stopped claiming X?", as a yes to whether it goes
        # on ("are said to be spreading X", see `still_question`)
        missing = 1 if not sides[1] else -1
        other = ax.readable.get(missing) if ax.name != CLAIM_AXIS or missing == -1 else None
        if other:  # what ended before ("They had even accused …", "… have not been repeated") is not read
            read = [q for q in statements if ax.name != CLAIM_AXIS or not ended(question, q.text)]
            sides[missing] = [q for q in read[:CONFIRM_MOST] if says_yes(other, q.text)]
