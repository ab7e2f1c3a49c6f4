"""Deterministic text matching shared by evidence selection, verification and conflict detection.

Nothing here asks a model for a judgement: content words with light stemming and WordNet's
synonyms of a word's most common sense, numbers, names, and a small lexicon of opposite predicates
("stay" / "go home") with negation, so that a claim that says
the opposite of its source is caught even when the words overlap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.synonyms import first_sense_synonyms, is_relation, is_verb, share_a_sense

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*\d|\d")
STOPWORDS = frozenset(
    (
        "a about above after again against all also am an and any are as at be because been before being "
        "below between both but by can could did do does doing down during each either few for from further "
        "had has have having he her here hers herself him himself his how i if in into is it its itself just "
        "me more most my myself no nor not now of off on once only or other our ours ourselves out over own "
        "same she should so some such than that the their theirs them themselves then there these they this "
        "those through to too under until up very was we were what when where which while who whom why will "
        "with would you your yours yourself yourselves yes according said says say told tell "
        "article articles "
        "source sources report reported reports passage passages one also however still even many much"
    ).split()
)
NEGATIONS = frozenset("not no never n't nor neither without refused refuse refuses rejected".split())


def stem(word: str) -> str:
    """A crude suffix stripper: enough to match troops/troop, wanted/want, militias/militia."""
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s$", "", w)
    if re.search(r"(ss|us|is)$", w):  # "Abbas", "bus", "ISIS" are not plurals
        return w
    if re.search(r"(ch|sh|x|z|ss)es$", w):
        return w[:-2]
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + keep
    return w


def words(text: str) -> list[str]:
    # "U.S." and "U.N." are one word, not two letters.
    return _WORD.findall(re.sub(r"\b([A-Z])\.([A-Z])\.", r"\1\2", text))


def _is_content(w: str) -> bool:
    # An acronym ("US", "IS") is a name even when its lower case is a stopword.
    return not w[0].isdigit() and ((w.isupper() and len(w) > 1) or w.lower() not in STOPWORDS)


def _with_parts(w: str) -> list[str]:
    # "al-Araji" should match "Araji"; "Iran-backed" should match "Iran".
    return [w, *(p for p in re.split(r"[-–]", w) if len(p) >= 3)] if "-" in w else [w]


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stopwords, no bare punctuation), with the parts
    of hyphenated words."""
    return {stem(p) for w in words(text) if _is_content(w) for p in _with_parts(w) if _is_content(p)}


def numbers(text: str) -> set[str]:
    """Numbers as written, normalised: "80,000" → "80000", "$1.6" → "1.6", "2014." → "2014"."""
    return {w.replace(",", "").rstrip(".") for w in words(text) if w[0].isdigit()}


_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "hundred": "100",
}


def numbers_with_words(text: str) -> set[str]:
    """`numbers`, plus small numbers spelled out ("Six died" → "6")."""
    return numbers(text) | {_NUMBER_WORDS[w.lower()] for w in words(text) if w.lower() in _NUMBER_WORDS}


def names(text: str) -> set[str]:
    """Capitalised words and acronyms that are not at the start of a sentence: PMF, Ameri, Mosul;
    of a hyphenated word, its capitalised parts ("Anbar" of "Anbar-based", not "Anbar-based")."""
    out = set()
    toks = words(text)
    for i, w in enumerate(toks):
        parts = _with_parts(w)
        if any(p[0].isupper() for p in parts[1:]):
            parts = parts[1:]
        for part in parts:
            if not part[0].isupper() or len(part) < 2:
                continue
            if part.isupper() or (i > 0 and part.lower() not in STOPWORDS):
                out.add(stem(part))
    return out


def coverage(claim: Iterable[str], support: set[str]) -> float:
    """Share of the claim's stems found in the support (1.0 for an empty claim)."""
    c = set(claim)
    return len(c & support) / len(c) if c else 1.0


# Opposite predicates that news questions turn on. Each entry: (name, pole +1 phrases, pole -1 phrases).
_POLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "stay or leave",
        ("stay", "remain", "continued presence", "continued military presence", "keep troops", "to continue"),
        (
            "leave",
            "go home",
            "withdraw",
            "withdrawal",
            "pull out",
            "expel",
            "drive out",
            "drive u.s. forces",
            "drive us forces",
            "get out",
            "exit",
            "depart",
            "oust",
        ),
    ),
    (
        "support or oppose",
        ("support", "welcome", "favor", "favour", "ally", "allied", "friendlier"),
        ("oppose", "reject", "criticize", "criticise", "condemn", "hostile", "enemy", "enemies"),
    ),
    ("more or less", ("increase", "rise", "grow", "expand"), ("decrease", "fall", "cut", "reduce", "shrink")),
    (
        "allow or ban",
        ("allow", "permit", "approve", "legalize", "legalise"),
        ("ban", "forbid", "prohibit", "block"),
    ),
    ("win or lose", ("win", "won", "winner", "victory"), ("lose", "lost", "loser", "defeat")),
)


@dataclass(frozen=True)
class Stance:
    """Which side of an opposite pair a text takes: +1, -1, or 0 when it does not say."""

    axis: str
    sign: int


def _phrase_hits(text: str, phrases: tuple[str, ...]) -> list[int]:
    low = text.lower().replace("’", "'")
    hits = []
    for p in phrases:
        for m in _pole_matches(low, p):
            hits.append(m.start())
    return hits


def _negated(text: str, pos: int) -> bool:
    before = words(text.lower()[max(0, pos - 60) : pos])[-6:]
    return any(w in NEGATIONS or w.endswith("n't") for w in before)


def stances(text: str) -> list[Stance]:
    """Every axis the text takes a side on. A negated pole counts as the other side."""
    out = []
    for axis, plus, minus in _POLES:
        signs = set()
        for sign, phrases in ((1, plus), (-1, minus)):
            for pos in _phrase_hits(text, phrases):
                signs.add(-sign if _negated(text, pos) else sign)
        if len(signs) == 1:
            out.append(Stance(axis, signs.pop()))
    return out


def stance_on(text: str, axis: str) -> int:
    return next((s.sign for s in stances(text) if s.axis == axis), 0)


def question_axes(question: str) -> list[str]:
    """The opposite pairs a question turns on ("did they want troops to stay?" → stay or leave)."""
    low = question.lower()
    return [axis for axis, plus, minus in _POLES if _phrase_hits(low, plus) or _phrase_hits(low, minus)]


def other_pole(question: str) -> tuple[str, str] | None:
    """The question asked of the other side of the first opposite pair it turns on, and that
    pair: "Do they want US troops to remain?" → ("Do they want US troops to leave?", "stay or
    leave"). The other side rarely shares the question's words; None when it turns on no pair."""
    low = question.lower().replace("’", "'")
    for axis, plus, minus in _POLES:
        found = [
            sorted((m.start(), m.end()) for p in pole for m in _pole_matches(low, p))
            for pole in (plus, minus)
        ]
        if found[0] and found[1]:
            return None  # "friendlier or more hostile?" asks both already
        for hits, other in zip(found, (minus, plus), strict=True):
            if hits:
                start, end = hits[0]
                return question[:start] + other[0] + question[end:], axis
    return None


def _pole_matches(low: str, phrase: str) -> Iterator[re.Match[str]]:
    return re.finditer(r"\b" + re.escape(phrase) + r"(?:s|ed|ing)?\b", low)


# The axis of a yes/no question that no opposite pair above covers: does a sentence affirm the
# question's own predicate, or deny it?
CLAIM_AXIS = "yes or no"
_YES_NO = re.compile(
    r"^\W*(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|should|may|might|must|whether)\b",
    re.I,
)
# Words that deny what a sentence says ("have not been repeated", "never supported", "stopped
# criticising", "without the assistance", "no ties").
_DENIALS = NEGATIONS | frozenset("stopped ceased denied denies deny dropped abandoned halted".split())


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no ("Did …?", "Are …?"), not one that offers options ("A or B?")."""
    return bool(_YES_NO.search(question)) and not re.search(r"\bor\b", question, re.I)


@lru_cache(maxsize=262144)
def related(a: str, b: str) -> bool:
    """Two stems of one word family: equal, or one starting the other ("assist" / "assistance",
    "fight" / "fighter", "official" / "officially"; not "state" / "statement": a stem of five
    letters or fewer must be most of the longer one); or synonyms in one's most common sense
    (see `synonyms`: "connect" / "tie", "assist" / "aid", "wound" / "injure")."""
    if a in STOPWORDS or b in STOPWORDS:  # "he" starts "help", "for" "force": no family
        return a == b
    short, long = sorted((a, b), key=len)
    if long == short + "y" and len(short) <= 5:  # "part" / "party", "arm" / "army", "count" / "county"
        return False
    if a == b or (long.startswith(short) and (len(short) >= 6 or len(long) - len(short) <= 3)):
        return True
    return b in synonyms(a) or a in synonyms(b)


@lru_cache(maxsize=65536)
def synonyms(stem_: str) -> frozenset[str]:
    """Stems of the words of a stem's most common WordNet sense (see `rag.synonyms`); none for
    a stem of three letters or fewer ("bas" would find "barium")."""
    return frozenset(stem(w) for w in first_sense_synonyms(stem_)) - {stem_}


def predicate_terms(question: str) -> set[str]:
    """What a yes/no question claims, less who it names: stems of its lower-case content words
    after the opening verb ("Has the board received support?" → board, receiv, support); of a
    claim reported as someone's view, those of the view ("Do the fighters say they need help?"
    → need, help: whose view it is, `someone_else` checks)."""
    reported = _REPORTED.match(question)
    toks = words(question[reported.end() :]) if reported else words(question)[1:]
    return {stem(w) for w in toks if w.islower() and _is_content(w)} - NO_CLAIM


# "Do the militia fighters say (that) …", "Does Ameri believe …": a view and whose it is.
_REPORTED = re.compile(
    r"^\W*\w+\s+(?:[\w'’.-]+\s+){1,6}?(?:say|claim|believe|think|argue|insist|maintain|feel)\s+(?:that\s+)?",
    re.I,
)


# Verbs that say little beyond what they give ("given support", "provided training").
GIVING = frozenset(stem(w) for w in "give gave given provide provided offer offered lent extended".split())
# Words that carry no claim of their own: adverbs of time and degree ("Has it ever …", "still"),
# and "given" of "has given support".
NO_CLAIM = frozenset(stem(w) for w in "still ever already yet really actually given".split())


def claim_stance(
    question: str, sentence: str, weights: Callable[[str], float] = lambda _: 1.0, other_senses: bool = False
) -> int:
    """Which answer a sentence gives to a yes/no question: +1 when it states at least
    `CLAIM_SHARE` of the question's predicate (see `predicate_terms`; terms weighted by `weights`,
    so "militia" in a corpus about militias counts little), -1 when it also denies one of those
    terms (see `denied_terms`), 0 otherwise. On whether something still goes on, a sentence that
    tells only of what ended takes no side (see `ended`). A question that denies its own terms ("Is Iraq
    going in without American assistance?", "Have they stopped claiming …?") is answered "yes"
    by a sentence denying them too, "no" by one stating them. Deterministic and crude: it places
    sentences on sides, never verifies anything. A claim a sentence reports as false ("conspiracy
    theories that …", see `discredits`) is denied by it."""
    # a term denied in a word of another sense is stated too; without those, the denials are
    # looked for only in a sentence that states enough of the claim
    denied = denied_terms(question, sentence, other_senses=True) if other_senses else set()
    if (
        not states_claim(question, sentence, weights, also=denied)
        or helps_otherwise(question, sentence)
        or aspect_only(question, sentence)
    ):
        return 0
    denied = denied if other_senses else denied_terms(question, sentence)
    sign = -1 if denied or discredits(question, sentence, weights) else 0 if ended(question, sentence) else 1
    negated = polarity(question)[1]
    if not negated & predicate_terms(question):
        return sign
    # "no" to "without American assistance" states American assistance, not anyone's help
    stated = content_stems(sentence)
    return -sign if sign == -1 or all(any(related(n, s) for s in stated) for n in negated) else 0


# A frame that reports what follows as false: "spreading conspiracy theories that …", "falsely
# claimed that …", "baseless allegations that …".
_DISCREDITING = re.compile(
    r"\b(?:conspiracy theor(?:y|ies)|false(?:ly)?|baseless|unfounded|groundless|debunked|bogus|untrue)"
    r"(?:\s+[\w'’-]+){0,2}?\s+that\b",
    re.I,
)
# Words of making a claim: a question with one asks whether the claim is made, not whether it holds.
_CLAIMING = frozenset(
    stem(w) for w in "accuse accusation allege allegation claim charge rumour rumor spread say theory".split()
)


def discredits(question: str, sentence: str, weights: Callable[[str], float] = lambda _: 1.0) -> bool:
    """Whether the sentence reports a yes/no question's claim as false: enough of it (see
    `states_claim`) follows, in the same clause, a frame that discredits it ("are spreading
    conspiracy theories that the administration is helping the group" says no to "Is the
    administration helping the group?"). Not when the question asks whether the claim is made
    ("Are they accusing the administration of …?") or what someone says ("Do they say …?"): the
    frame states that it is."""
    # called for every sentence a side is looked for in: the rare frame first, the question after
    frames = list(_DISCREDITING.finditer(sentence))
    if not frames or _REPORTED.match(question):
        return False
    if any(related(t, c) for t in predicate_terms(question) for c in _CLAIMING):
        return False
    clauses = (re.split(r"[;:]|\bbut\b", sentence[m.end() :])[0] for m in frames)
    return any(states_claim(question, clause, weights) for clause in clauses)


def aspect_only(question: str, sentence: str) -> bool:
    """For a question whether something goes on or stopped, whether the sentence states nothing
    of it but the word for going on or stopping ("we haven't been able to stop the trucks" says
    nothing of "Have they stopped claiming X?")."""
    if not _ONGOING.search(question):
        return False
    rest = {t for t in predicate_terms(question) if not _ONGOING.fullmatch(t)}
    said = content_stems(sentence)
    return not any(related(s, t) for s in said for t in rest)


_HELP = stem("help")
_ARTICLES = frozenset({"the", "a", "an", "to"})


def helps_otherwise(question: str, sentence: str) -> bool:
    """Whether the sentence helps someone do something to the one the question has helped: "help
    fight the Islamic State" (or "to Help Fight Against ISIS") says nothing of "helping the
    Islamic State"."""
    asked = words(question)
    if not any(related(stem(w), _HELP) for w in asked if w.islower()):
        return False
    toks = words(sentence)
    for i, w in enumerate(toks):
        if not related(stem(w.lower()), _HELP):
            continue
        after = [t for t in toks[i + 1 : i + 3] if t.lower() not in _ARTICLES][:1]
        if not after or not _is_content(after[0]):
            continue
        nxt = after[0]
        # a verb of its own after "help", not a word of the question: "help fight", "help rebuild"
        # (lower case, or capitalised as "Help" is in a headline)
        cased = nxt.islower() or (w[0].isupper() and i > 0)
        own = not any(related(stem(nxt.lower()), stem(a.lower())) for a in asked)
        if cased and own and is_verb(nxt.lower()):
            return True
    return False


def ended(question: str, sentence: str) -> bool:
    """For a question about whether something still goes on: whether the sentence tells only of
    a time before it (the past perfect: "They had even accused the US …"), or that it stopped
    ("have stopped criticising", "have not been repeated")."""
    if not _ONGOING.search(question):
        return False
    return bool(_PAST_PERFECT.search(sentence)) or _stopped(sentence, polarity(sentence)[1])


def states_claim(
    question: str,
    sentence: str,
    weights: Callable[[str], float] = lambda _: 1.0,
    share: float | None = None,
    also: Collection[str] = (),
) -> bool:
    """Whether the sentence states at least `share` (default `CLAIM_SHARE`) of the (weighted)
    predicate terms of a yes/no question (see `predicate_terms`), affirmed or denied (`also`:
    terms it is known to deny in other words, see `denied_terms`)."""
    claim = predicate_terms(question)
    found = {c for c in claim for w in words(sentence) if related(stem(w), c)} | (claim & set(also))
    # a verb of giving counts when stated, but is not needed ("never been supported" states
    # "Has the US provided support?": what is given is the claim)
    total = sum(weights(c) for c in claim - GIVING)
    return total > 0 and sum(weights(c) for c in found) >= (CLAIM_SHARE if share is None else share) * total


def polarity(text: str, strict: bool = False) -> tuple[set[str], set[str]]:
    """Stems of the content words a text states, and of those it denies: a denial ("not",
    "never", "stopped", "without"; only plain negations when `strict`: "dropped" also drops
    supplies) at most `DENIAL_REACH` words before them ("has never been supported"). A word
    stated once and denied once is in both."""
    stated: set[str] = set()
    denied: set[str] = set()
    for _, stems, negated in said_where(text, strict):
        (denied if negated else stated).update(stems)
    return stated, denied


def said_where(text: str, strict: bool = False) -> list[tuple[int, list[str], bool]]:
    """Each content word of a text (see `polarity`): its position among `words(text)`, its
    stems, and whether a denial applies to it."""
    toks = words(text)
    low = [w.lower().replace("’", "'") for w in toks]
    deny = NEGATIONS if strict else _DENIALS
    denials = _denials(low, deny)
    return [
        (i, [stem(part) for part in _with_parts(w)], any(0 < i - d <= DENIAL_REACH for d in denials))
        for i, w in enumerate(toks)
        if _is_content(w) and low[i] not in deny
    ]


def _denials(low: list[str], deny: frozenset[str] = _DENIALS) -> list[int]:
    """Where the (lower-case) words have a denial: a word of `deny`, or one ending in "n't"."""
    return [i for i, w in enumerate(low) if w in deny or w.endswith("n't")]


def denied_heads(text: str) -> set[str]:
    """The stem of the first content word after each denial, whole: what the denial is of ("no
    ties to the Iran-backed groups" → tie; "has never been supported" → support)."""
    toks = words(text)
    low = [w.lower().replace("’", "'") for w in toks]
    out = set()
    for d in _denials(low):
        head = _head_after(toks, d)
        if head is not None and low[head] not in _DENIALS:
            out.add(stem(toks[head]))
    return out


def _head_after(toks: Sequence[str], denial: int) -> int | None:
    """Where the first content word after a denial is, within `DENIAL_REACH`: what it denies."""
    reach = range(denial + 1, min(denial + 1 + DENIAL_REACH, len(toks)))
    return next((i for i in reach if _is_content(toks[i])), None)


# "had accused", "had long been critical": a time before the one the article tells of.
_PAST_PERFECT = re.compile(
    r"\bhad\s+(?:(?:even|already|also|long|\w+ly)\s+)?(?:been\s+)?\w+(?:ed|en|t)\b", re.I
)
# A question about whether something goes on or has stopped ("Are they still accusing …?",
# "Have they stopped claiming …?") ...
_ONGOING = re.compile(
    r"\b(?:still|anymore|any longer|no longer|continu\w*|keeps?|kept|stop\w*|ceased?|dropped|abandoned"
    r"|given up)\b",
    re.I,
)
# ... is answered "no" by a denial that it recurs, whatever comes before it ("Rumours spread by
# the leaders, where they accused …, have not been repeated").
_RECURS = frozenset(stem(w) for w in "repeated recurred continued resumed persisted".split())
# ... or by one that it has stopped ("The militias have stopped criticising the US").
_CEASED = re.compile(r"\b(?:stopped|ceased|halted|abandoned|no longer)\b", re.I)


def _stopped(sentence: str, denied: set[str]) -> bool:
    """Whether a sentence says that something stopped, or (`denied`: the words it denies, see
    `polarity`) that it did not recur."""
    return bool(_CEASED.search(sentence) or _RECURS & denied)


def denied_terms(question: str, sentence: str, other_senses: bool = False) -> set[str]:
    """Terms of the question's predicate that the sentence denies (see `polarity`); for a
    question about whether something goes on, every term it states when it says that it stopped
    or denies that it recurs. With `other_senses`, also a term sharing any WordNet sense with
    the word a denial is of (see `denied_heads`, `rag.synonyms.share_a_sense`)."""
    stated, denied = polarity(sentence)
    if _ONGOING.search(question) and _stopped(sentence, denied):
        denied |= stated
    # what a denial is of, in a word of another sense: "no ties to" denies "linked to", "never
    # been supported" denies "given any backing"
    heads = denied_heads(sentence) if other_senses else set()
    terms = predicate_terms(question)
    out = {c for c in terms if any(related(d, c) for d in denied) or any(share_a_sense(h, c) for h in heads)}
    if other_senses and not out:
        out = denied_tie(question, terms, sentence)
    return out


# Prepositions between a noun of relation and what it relates to ("no ties to", "links with").
_TIED = frozenset("to with between from of in".split())
# Where the words of what a tie is to end ("no ties to those groups, he said").
_PHRASE_END = re.compile(r"[,;:()]|\s[-–—]\s|\b(?:but|although|though|while|whereas)\b", re.I)


def _last_content(text: str) -> str:
    return next((w for w in reversed(words(text)) if _is_content(w)), "")


def denied_tie(question: str, terms: set[str], sentence: str) -> set[str]:
    """Terms of a yes/no question's claim (`terms`, see `predicate_terms`) a denied tie denies:
    "no ties to groups that have American blood on their hands" says no to "involved in killing
    Americans" whatever the claim's verb, when what the tie is to holds the question's last word,
    what its claim is of (the claim's terms the sentence does not state are the ones denied: its
    own word for the tie). A tie is a noun of relation (WordNet, see `rag.synonyms.is_relation`:
    ties, links, involvement)."""
    out: set[str] = set()
    for clause in _PHRASE_END.split(sentence):
        toks = words(clause)
        low = [w.lower().replace("’", "'") for w in toks]
        for d in _denials(low):
            head = _head_after(toks, d)
            if head is None or head + 1 == len(toks) or low[head + 1] not in _TIED:
                continue
            if not is_relation(low[head]):  # "no ties to", "no links with"
                continue
            to = {p for w in toks[head + 2 :] for p in content_stems(w)}
            # what the claim's last word names (its object: "… killing Americans?"), in the same
            # word: a synonym ("target", "mark") is too loose
            if to & content_stems(_last_content(question)):
                stated = content_stems(sentence)
                out |= {c for c in terms if not any(related(c, s) for s in stated)}
    return out


def affirms_denied(question: str, affirming: str, denying: str) -> bool:
    """Whether `affirming` states what `denying` denies: it holds a term `denying` denies ("the
    town needs its help" against "we do not need the council's support"; "the leaders met in the
    capital" does not answer "the meeting ended without a joint statement")."""
    have = content_stems(affirming)
    _, denied = polarity(denying)  # the words denied, not a whole clause said not to recur
    terms = predicate_terms(question)
    if not any(related(d, c) for d in denied for c in terms):  # "no ties to …" denies the claim's "involved"
        denied |= denied_tie(question, terms, denying)
    return any(related(d, c) and related(c, s) for c in terms for d in denied for s in have)


# Share of a claim's (weighted) terms a sentence must state to take a side on it.
CLAIM_SHARE = 1 / 3
# How far before a term of the claim a denial still applies to it ("do not need", "has never
# been supported", "without the assistance of").
DENIAL_REACH = 4


@dataclass(frozen=True)
class EitherOr:
    """An either/or question ("Is Iraq relying on the US or on Iran?") as what its two options
    share (`shared`, a question: "Is Iraq relying?") and the options ("on the US", "on Iran")."""

    shared: str
    first: str
    second: str
    tail: str = ""  # what follows both options ("… or on Iran to fight the Islamic State")

    @property
    def axis(self) -> str:
        return f"{self.first} or {self.second}"

    def question(self, option: str) -> str:
        """The yes/no question on one option ("Is Iraq relying on Iran to fight IS?")."""
        return " ".join(x for x in (self.shared.rstrip("?"), option, self.tail) if x) + "?"

    def stance(self, text: str, weights: Callable[[str], float] = lambda _: 1.0) -> int:
        """+1 when the text takes the first option, -1 the second, 0 neither or both. It must
        state what the options share (`states_claim` on `shared`), and
        words of one option only: affirmed, or denied when that option is itself a denial
        ("without Washington's help"); an option denied counts for the other one."""
        if not states_claim(self.shared, text, weights):
            return 0
        rest = f"{self.shared} {self.tail}"  # "the Islamic State" of the tail is no option's
        a = _option_terms(self.first, f"{self.second} {rest}")
        b = _option_terms(self.second, f"{self.first} {rest}")
        said = polarity(text)
        votes = set()
        for sign, (terms, negative) in ((1, a), (-1, b)):
            for held, denied in _held(terms, *said):
                if held:
                    votes.add(sign if denied == negative else -sign)
        return votes.pop() if len(votes) == 1 else 0


def _option_terms(option: str, other: str) -> tuple[set[str], bool]:
    """The stems `option` has and `other` has not, and whether it is itself a denial ("without …")."""
    own = {w.lower() for w in words(option)}
    negative = bool(own & NEGATIONS)
    return content_stems(option) - content_stems(other) - NEGATIONS, negative


def _held(terms: set[str], stated: set[str], denied: set[str]) -> list[tuple[bool, bool]]:
    """For each term: whether a text holds it, and whether it only denies it (`stated` and
    `denied`: the text's `polarity`)."""
    out = []
    for t in terms:
        said = any(related(s, t) for s in stated)
        out.append((said or any(related(d, t) for d in denied), not said))
    return out


_AUXILIARY = re.compile(r"^(?:do|does|did|is|are|was|were|has|have|had|will|would|can|could|should)\b", re.I)


def either_or(question: str) -> EitherOr | None:
    """The options of an either/or question, or None for any other question. The second option
    starts with a word the first one starts with ("relying on the US or on Iran", "to remain or
    to go home", "with US help or without it") or is a comparative against one ("friendlier
    towards the US or more hostile"). A second whole clause ("…, or are they still making
    them?") is no option: such a question is a yes/no question on its first clause (see
    `yes_no_claim`)."""
    q = question.strip().rstrip("?").strip()
    parts = re.split(r",?\s+or\s+", q, flags=re.I)
    if len(parts) != 2 or not _YES_NO.search(q) or _AUXILIARY.match(parts[1]):
        return None
    left, right = parts[0].split(), parts[1].split()
    if not right or right[0].lower() in ("not", "no"):
        return None
    first = right[0].lower()
    starts = {first, first.removesuffix("out")}  # "without" is the other side of "with"
    at = [j for j in range(1, len(left)) if left[j].lower() in starts]
    if not at and first in ("more", "less"):
        at = [j for j in range(1, len(left)) if re.search(r"[a-z]{3}(?:ier|er)$", left[j].lower())]
    if not at:
        return None
    j = at[-1]
    # What follows the second option belongs to both ("on Iran to fight the Islamic State").
    cut = next((k for k in range(1, len(right)) if right[k].lower() in _TAIL_STARTS), len(right))
    return EitherOr(
        " ".join(left[:j]) + "?", " ".join(left[j:]), " ".join(right[:cut]), " ".join(right[cut:])
    )


_TAIL_STARTS = frozenset("to for against in during after before since while".split())


# A clause that sets the scene before the question proper ("When the units came under attack, did …?").
_LEADING_CLAUSE = re.compile(
    r"^\s*(?:when|after|before|if|while|since|once|as|although|though|because|during)\b[^,?]*,\s*(?=\w)", re.I
)


# A question asking whether a claim holds, put as a frame around it: "Is it true that X?", "Do
# the articles agree on whether X?", "Is there evidence that X?".
_CLAIM_FRAME = re.compile(
    r"^\W*(?:(?:is|was) it (?:really )?(?:true|the case|correct|right)|(?:is|was) there (?:any )?evidence"
    r"|(?:do|does|did) (?:the |both |all )?(?:articles?|sources?|reports?|outlets?|accounts?|papers?)"
    r" (?:\w+ )?(?:agree|differ|disagree|say|report|show)(?: on| about| over)?)"
    r"\s+(?:whether|if|that)\s+(?=\w)",
    re.I,
)


def main_question(question: str) -> str:
    """The question less a leading clause that sets the scene, when what follows is a question
    of its own ("When PMF units came under attack, did air power come to their aid?" → "Did air
    power come to their aid?"); the claim a frame asks about, as "Whether …?" ("Is it true that
    the militias were paid?", "Do the articles agree on whether the militias were paid?" →
    "Whether the militias were paid?"); else the question as it is."""
    framed = _CLAIM_FRAME.match(question)
    if framed:
        return "Whether " + question[framed.end() :]
    m = _LEADING_CLAUSE.match(question)
    rest = question[m.end() :] if m else ""
    return rest[:1].upper() + rest[1:] if rest and _YES_NO.search(rest) else question


def as_asked(claim: str) -> str:
    """A claim of `yes_no_claim` as a reader is asked it: "Whether X?" → "Is it true that X?"."""
    return re.sub(r"^\W*whether\b", "Is it true that", claim, count=1, flags=re.I)


def yes_no_claim(question: str) -> str | None:
    """The yes/no question whose claim a question turns on: itself when it is one (less a
    leading clause, see `main_question`); the first clause of "Have they dropped X, or are they
    still making them?"; the whole question when its "or" joins words and offers no options
    ("the fighters the US works with or trains"); else None."""
    question = main_question(question.strip())
    if is_yes_no(question):
        return question
    bare = re.sub(r",?\s+or\s+not\b", "", question, flags=re.I)  # "Did they stay or not?"
    if bare != question and is_yes_no(bare):
        return bare
    parts = re.split(r",?\s+or\s+", question, flags=re.I)
    if len(parts) != 2 or not _YES_NO.search(parts[0]):
        return None
    if _AUXILIARY.match(parts[1]):
        return parts[0].rstrip(",") + "?"
    if either_or(question) is None and not re.search(r",\s+or\s", question, re.I):
        return question
    return None


# "Have they stopped claiming …?", "Did the group cease sending …?": a question whether something
# stopped, and what it asks whether it goes on.
_STOPPED_ASKED = re.compile(
    r"^\W*(?P<aux>have|has|did)\s+(?P<who>.+?)\s+(?:stopped|ceased|quit|stop|cease)\s+(?P<doing>\w+ing\b.*)$",
    re.I,
)


def still_question(question: str) -> str | None:
    """For a question whether something stopped ("Have the militias stopped claiming X?"), the
    question whether it still goes on ("Are the militias still claiming X?"); else None."""
    m = _STOPPED_ASKED.match(question.strip())
    if m is None:
        return None
    aux = "Is" if m["aux"].lower() == "has" else "Are"
    return f"{aux} {m['who']} still {m['doing']}"
