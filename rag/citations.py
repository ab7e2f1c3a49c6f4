"""Parse `[n]` citations out of generated text and check each sentence against what it cites.

A sentence counts as supported only when a passage it cites (or the cited passages together) backs
it: most of its content words are in the cited sentence(s), every number and name in it appears in
the cited passage, no name stands where the cited sentence has another ("Human Rights Watch
documented …" from "Amnesty International documented …"), its named subject does not give what
the cited sentence has another party give, it does not rest on more than two of the question's
words the cited sentence lacks, and it does not take the opposite side from the cited sentence
("stay" is not "go home"). A sentence without a citation is unsupported.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from rag.evidence import given_by_another, passage_quotes, reversed_roles
from rag.grammar import ABBREVIATIONS
from rag.leaks import leak
from rag.matching import (
    STOPWORDS,
    content_stems,
    coverage,
    helps_otherwise,
    names,
    numbers,
    numbers_with_words,
    polarity,
    said_where,
    stances,
    words,
)
from rag.types import Claim, Passage, Quote

_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_CITES_AFTER_END = re.compile(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)")
_ONLY_CITES = re.compile(r"(?:\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]\s*)+[.!?]*")
_ABBREV = re.compile(r"\b(?:[A-Z]|U\.S|U\.N|U\.K|" + "|".join(ABBREVIATIONS) + r")\.$")
# How much of a sentence's content must appear in the cited sentence(s). Chosen so that a faithful
# paraphrase passes and an invented sentence sharing a few topic words does not (tests/test_citations.py).
MIN_COVERAGE = 0.6
_DONT_KNOW = re.compile(
    r"\b(i (do not|don't|cannot|can't) (know|tell|say|answer)|(do|does) not (say|mention|contain|state)|"
    r"no information|not (mentioned|stated|specified) in)\b",
    re.I,
)


def says_dont_know(text: str) -> bool:
    """The model declined: "I don't know", "the passages do not say", …"""
    return bool(_DONT_KNOW.search(text))


def parse_numbers(marker: str) -> list[int]:
    return [int(x) for x in re.split(r"[,;]", marker) if x.strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences of generated text; citations written after the full stop stay with their sentence."""
    text = _CITES_AFTER_END.sub(lambda m: f"{m.group(2)}{m.group(1)}", text.strip())
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?]+[\"'”’)]*(?=\s+|$)", text):
        if _ABBREV.search(text[start : m.start() + 1]):
            continue
        before = text[start : m.end()]
        if before.count("“") > before.count("”"):  # inside a quotation
            continue
        piece = text[start : m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    # Citations left alone after a quotation that ends in "?”" belong to the sentence before them.
    merged: list[str] = []
    for piece in out:
        if merged and _ONLY_CITES.fullmatch(piece):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    out = merged
    # Line breaks (lists, paragraphs) also end sentences.
    return [s.strip(" -*•\t") for part in out for s in part.split("\n") if s.strip(" -*•\t")]


def strip_citations(sentence: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _CITE.sub("", sentence)).strip()


def recite(sentence: str, n: int) -> str:
    """The sentence citing passage `n` instead of what it cites ("… camp [1]." → "… camp [2].")."""
    text = strip_citations(sentence)
    end = len(text) - len(text.rstrip(".!?"))
    return f"{text[: len(text) - end]} [{n}]{text[len(text) - end :]}"


@dataclass(frozen=True)
class Support:
    """How one cited passage bears on one sentence."""

    n: int
    supported: bool
    quote: Quote | None  # the sentence(s) of the passage that best match the claim
    problems: tuple[str, ...]


def _windows(p: Passage) -> list[Quote]:
    """Single sentences of a passage and pairs of neighbours (a claim may join two)."""
    qs = passage_quotes(p)
    pairs = [Quote(p.n, p.doc_id, a.start, b.end, f"{a.text} {b.text}") for a, b in itertools.pairwise(qs)]
    return qs + pairs


def _best_window(claim_stems: set[str], p: Passage, normalise: Callable[[str], str] = str) -> Quote | None:
    best: tuple[float, int, Quote] | None = None
    for q in _windows(p):
        cov = coverage(claim_stems, content_stems(normalise(q.text)))
        key = (cov, -(q.end - q.start), q)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def check(
    claim: str, texts: Iterable[str], window: str, heading: str = "", normalise: Callable[[str], str] = str
) -> list[str]:
    """What is wrong with `claim` given the cited passage texts and the best-matching window.

    `heading` (outlet and date) may be named by the claim; those words count neither for nor
    against it: the rest of the claim must be in the cited words. Names are compared after
    `normalise` (aliases rewritten to one name, see `rag.aliases`).
    """
    claim, window = normalise(claim), normalise(window)
    texts = [normalise(t) for t in texts]
    problems = []
    passage_text = " ".join(texts)
    claim_stems = content_stems(claim) - content_stems(heading)
    if not claim_stems:
        return ["it states nothing beyond naming the source"]
    cov = coverage(claim_stems, content_stems(window))
    if cov < MIN_COVERAGE:
        problems.append(f"only {cov:.0%} of its words are in the cited text")
    # spelled-out numbers too ("six hundred died" against "six died"), but not "one", also a pronoun
    stated = numbers(claim) | (numbers_with_words(claim) - {"1"})
    missing_numbers = sorted(stated - numbers_with_words(passage_text))
    if missing_numbers:
        problems.append("number " + ", ".join(missing_numbers) + " is not in the cited text")
    missing_names = sorted(names(claim) - content_stems(passage_text))
    if missing_names:
        problems.append("name " + ", ".join(missing_names) + " is not in the cited text")
    problems += [
        f"it states {n} without “{bound}”, as the cited text bounds it"
        for n, bound in unbounded(claim, window)
    ]
    problems += [f"it names {n} where the cited text names {o}" for n, o in swapped_names(claim, window)]
    said, denied = polarity(claim, strict=True)
    source_said, source_denied = polarity(window, strict=True)
    flipped = _denied_of(claim, said, window) | (denied & source_said - source_denied)
    if flipped:
        problems.append("it turns what the cited text says around (" + ", ".join(sorted(flipped)) + ")")
    if given_by_another(claim, window, heading):  # "The U.S. has provided support" from "support from Iran"
        problems.append("it has its subject give or do what the cited text has someone else give or do")
    return problems + _turned(claim, window)


def _tokens(text: str) -> list[str]:
    """The words of a text, each clause ended by an empty string ("In October, Amnesty …" →
    "In", "October", "", "Amnesty", …): a name does not run across punctuation."""
    return [t for part in _CLAUSE_BREAK.split(text) for t in (*words(part), "")]


_CLAUSE_BREAK = re.compile(r"[,;:()\[\]“”\"—–]|\s-\s")


def _name_runs(toks: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) of each run of capitalised words that names something ("Human Rights Watch",
    "Amnesty International"); a capitalised stopword opening the sentence ("The") is no name."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, t in enumerate([*toks, ""]):
        first = i == 0 or not toks[i - 1]  # a clause's opening "The" is no name
        capital = bool(t) and t[0].isupper() and not (first and t.lower() in STOPWORDS)
        if capital and start is None:
            start = i
        elif not capital and start is not None:
            runs.append((start, i))
            start = None
    return runs


def swapped_names(claim: str, window: str) -> list[tuple[str, str]]:
    """Names the claim puts where the cited window has another: the word right after a name of
    the claim follows, in the window, a name the claim lacks, and never that name ("Human Rights
    Watch documented allegations …" from "Amnesty International documented allegations …; Human
    Rights Watch reported …"). A 1.5B model copies a sentence and takes the name from a
    neighbouring one. Pairs (claim's name, window's name)."""
    c, w = _tokens(claim), _tokens(window)
    c_stems = content_stems(claim)
    w_runs = [(_compact(w[x:y]), " ".join(w[x:y]), w[y].lower()) for x, y in _name_runs(w)]
    in_window = {(n, f) for n, _, f in w_runs}
    out = []
    for a, b in _name_runs(c):
        name, after = _compact(c[a:b]), c[b].lower()
        if not after or after in STOPWORDS or (name, after) in in_window:
            continue
        out += [
            (" ".join(c[a:b]), shown)
            for other, shown, follows in w_runs
            if follows == after and other != name and not content_stems(shown) & c_stems
        ]
    return out


def _compact(toks: Sequence[str]) -> str:
    return "".join(toks).replace(".", "").casefold()  # "U. S." is "US"


# Words that bound a figure ("up to 900 fighters", "at least 40 militias"): a sentence that drops
# them states more than its source does.
_BOUNDS = (
    "up to|at least|at most|more than|less than|fewer than|as many as|as much as|nearly|almost|"
    "about|around|roughly|approximately|an estimated|some|over|under"
)
_BOUNDED = re.compile(rf"\b({_BOUNDS})\s+\$?(\d[\d,]*(?:\.\d+)?)", re.I)
_YEARISH = re.compile(r"(?:19|20)\d\d")


def unbounded(claim: str, window: str) -> list[tuple[str, str]]:
    """(number, bound) for each number the window gives only with a bound ("up to 900") and the
    claim gives with none ("900 new fighters")."""
    bounds: dict[str, str] = {}
    for m in _BOUNDED.finditer(window):
        figure = _figure(m)
        if not _YEARISH.fullmatch(figure):  # "some 2016 reports" bounds no figure
            bounds.setdefault(figure, m.group(1).lower())
    bare = numbers(_BOUNDED.sub(" ", window))  # also stated without a bound somewhere
    kept = {_figure(m) for m in _BOUNDED.finditer(claim)}
    return [(n, bounds[n]) for n in sorted(numbers(claim)) if n in bounds and n not in bare and n not in kept]


def _figure(m: re.Match[str]) -> str:
    """The number of a `_BOUNDED` match, written as `rag.matching.numbers` writes it ("80000")."""
    return m.group(2).replace(",", "").rstrip(".")


def _denied_of(claim: str, said: set[str], window: str) -> set[str]:
    """What the claim states (`said`: its stems, see `polarity`) that the window denies wherever
    it says it of what the claim names (the names within `NAME_REACH` words): "The U.S. has
    provided support" against "… has never been supported by the U.S. Since the beginning, there
    was direct support from Baghdad and Iran", whose support is Baghdad's. Where no occurrence is
    near a name of the claim, every occurrence counts."""
    toks = words(window)
    claimed = names(claim)
    where = said_where(window, strict=True)
    out = set()
    for w in said:
        hits = [(i, negated) for i, stems, negated in where if w in stems]
        near = [
            n for i, n in hits if names(" ".join(toks[max(0, i - NAME_REACH) : i + NAME_REACH + 1])) & claimed
        ]
        if hits and all(near or [n for _, n in hits]):
            out.add(w)
    return out


# How far from a word the names that say whose it is are looked for ("never been supported by the U.S.").
NAME_REACH = 6


def _turned(claim: str, window: str) -> list[str]:
    """How a claim turns the cited window's meaning: an aspect it lacks, roles the other way
    round, who is helped, the opposite side of an axis."""
    problems = []
    for aspect in _ASPECT.findall(claim):  # "still accusing" is not backed by "had accused"
        if not re.search(r"\b" + re.escape(aspect) + r"\b", window, re.I):
            problems.append(f"it says “{aspect.lower()}”, which the cited text does not")
    if reversed_roles(claim, window):  # "The militias accuse the US" from "… accused by the U.S."
        problems.append("it has the cited text's roles the other way round")
    if helps_otherwise(claim, window):  # "The US helps the Islamic State" from "help fight the Islamic State"
        problems.append("it says who is helped, where the cited text says whom they help fight")
    source_sides = {s.axis: s.sign for s in stances(window)}
    for s in stances(claim):
        if source_sides.get(s.axis) == -s.sign:
            problems.append(f"it takes the opposite side ({s.axis}) from the cited text")
    return problems


# Words that say a thing goes on or has stopped: the articles are years apart, and a model copies
# them from the question ("Are they still accusing …?" → "They are still accusing …").
_ASPECT = re.compile(r"\b(still|no longer|anymore)\b", re.I)  # not "any more troops"


def _texts(p: Passage) -> list[str]:
    # A claim may name the outlet and date the prompt put in the passage's heading.
    return [p.text, p.title, _heading(p)]


def _heading(p: Passage) -> str:
    return f"{p.outlet or ''} {p.date or ''}"


def support(claim: str, p: Passage, normalise: Callable[[str], str] = str) -> Support:
    # The outlet and date a claim names do not choose the window either.
    window = _best_window(content_stems(normalise(claim)) - content_stems(_heading(p)), p, normalise)
    problems = check(claim, _texts(p), window.text if window else "", _heading(p), normalise)
    return Support(p.n, not problems, window, tuple(problems))


_PRONOUN_SUBJECT = re.compile(r"^\W*(?:he|she|his|her)\b", re.I)


def _names_who(s: Support, p: Passage, who: Collection[str], normalise: Callable[[str], str]) -> bool:
    """Whether the quote `s` resolved to, or the sentence before it, names one of `who`."""
    if s.quote is None:
        return False
    before = [q.text for q in passage_quotes(p) if q.end <= s.quote.start][-1:]
    return bool(content_stems(normalise(" ".join([*before, s.quote.text]))) & set(who))


def _not_from(question: str, claim: str, s: Support, p: Passage, normalise: Callable[[str], str]) -> Support:
    """`s` (of `p`), unsupported when the claim rests on the question's words (see `from_question`)."""
    wrong = (
        from_question(claim, s.quote.text, question, normalise, _heading(p))
        if s.supported and s.quote
        else []
    )
    return Support(s.n, False, s.quote, (*s.problems, *wrong)) if wrong else s


def other_outlets(sentence: str, cited: Sequence[Passage], passages: Sequence[Passage]) -> list[str]:
    """The outlets of `passages` that the sentence names though no passage it cites is theirs or
    names them ("The Anti-Media article claims …" citing a Washington Times passage)."""
    own = " ".join(f"{p.outlet or ''} {p.text}" for p in cited).casefold()
    outlets = {p.outlet for p in passages if p.outlet and p.outlet.casefold() not in own}
    return sorted(o for o in outlets if re.search(rf"(?<!\w){re.escape(o)}(?!\w)", sentence, re.I))


# Most words of the question a sentence may state that the sentence it rests on does not (see
# `from_question`).
QUESTION_WORDS_MOST = 2


def from_question(
    claim: str, window: str, question: str, normalise: Callable[[str], str] = str, heading: str = ""
) -> list[str]:
    """What is wrong when a claim states more than `QUESTION_WORDS_MOST` of the question's words
    that the cited window does not: a small model copies the question's premises into its answer
    ("The militias getting US training were involved in killing Americans" from "The militias
    were directly involved in killing Americans", asked "Were the militias getting US training
    …?"). Within `MIN_COVERAGE` the claim passes on the rest of its words; these carry the
    question's own claim. Nothing without a question; the `heading`'s words (outlet and date) a
    claim may name freely, as the question may ("What does the Herald report …?")."""
    extra = content_stems(normalise(claim)) - content_stems(normalise(window)) - content_stems(heading)
    borrowed = sorted(extra & content_stems(normalise(question))) if question else []
    if len(borrowed) <= QUESTION_WORDS_MOST:
        return []
    return [f"it states the question's {', '.join(borrowed)}, which the cited text does not"]


def verify(
    sentence: str,
    passages: Sequence[Passage],
    normalise: Callable[[str], str] = str,
    who: Collection[str] = (),
    question: str = "",
) -> tuple[Claim, list[Support]]:
    """Check one generated sentence against the passages it cites (numbers unknown are dropped);
    `normalise` rewrites aliases to one name before comparing (see `rag.aliases`). A sentence
    whose subject is "he" or "she" is about the one the question names (`who`: name stems): the
    cited sentence, or the one before it, must name them ("He was a militia commander [5]" is
    not backed by another man's record). With the `question`, a sentence may not rest its claim
    on the question's words (see `from_question`)."""
    by_n = {p.n: p for p in passages}
    cited = list(dict.fromkeys(n for m in _CITE.finditer(sentence) for n in parse_numbers(m.group(1))))
    valid = [n for n in cited if n in by_n]
    text = strip_citations(sentence)
    dropped = [n for n in cited if n not in by_n]
    problems = [f"cites [{n}], which is not one of the passages" for n in dropped]
    if not valid:
        problems.append("no citation")
        return Claim(text, (), False, tuple(problems)), []
    leaked = leak(sentence, (by_n[n].text for n in valid))
    if leaked:
        return Claim(text, tuple(valid), False, (*problems, leaked)), []
    misnamed = other_outlets(text, [by_n[n] for n in valid], passages)
    if misnamed:
        wrong = f"it names {', '.join(misnamed)}, not the outlet of the passage it cites"
        return Claim(text, tuple(valid), False, (*problems, wrong)), []
    supports = [
        _not_from(question, text, support(text, by_n[n], normalise), by_n[n], normalise) for n in valid
    ]
    if who and _PRONOUN_SUBJECT.match(text):
        someone = "it says “he” or “she” of someone the question does not name"
        backed = [s for s in supports if s.supported]
        if backed and not any(_names_who(s, by_n[s.n], who, normalise) for s in backed):
            return Claim(text, tuple(valid), False, (*problems, someone)), [
                Support(s.n, False, s.quote, (someone,)) for s in supports
            ]
    ok = any(s.supported for s in supports)
    if not ok and len(supports) > 1:
        # Together: a sentence may join facts from two passages.
        texts = [t for n in valid for t in _texts(by_n[n])]
        headings = " ".join(_heading(by_n[n]) for n in valid)
        window = " ".join(s.quote.text for s in supports if s.quote)
        joint = check(text, texts, window, headings, normalise) + from_question(
            text, window, question, normalise, headings
        )
        ok = not joint
        if ok:
            supports = [Support(s.n, True, s.quote, ()) for s in supports]
    if not ok:
        problems.extend(dict.fromkeys(p for s in supports for p in s.problems))
    if not ok:
        return Claim(text, tuple(valid), False, tuple(problems)), supports
    backing = tuple(s.quote for s in supports if s.supported and s.quote is not None)
    return Claim(text, tuple(valid), True, (), backing), supports


def is_connective(sentence: str) -> bool:
    """A sentence with no facts of its own ("The sources disagree.")."""
    text = strip_citations(sentence)
    return (
        not _CITE.search(sentence) and not numbers(text) and not names(text) and len(content_stems(text)) <= 3
    )
