"""The answer pipeline: retrieve → what each source says → generate → verify → `Answer`.

It yields events as it goes (passages and per-source evidence first, then tokens, then the final
verified answer), so the CLI, the chat UI and the HTTP API all consume one stream. The parts that
decide correctness (evidence, conflicts, abstention, verification) do not rest on the LLM's
judgement, so a weak model makes the answer shorter, never wrong.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from rag.aliases import Aliases
from rag.citations import is_connective, recite, says_dont_know, split_sentences, strip_citations, verify
from rag.errors import BackendUnavailable
from rag.evidence import (
    ANSWERING_KINDS,
    ANSWERING_SHARE,
    RANKS,
    SPEAKER,
    AnswerKind,
    ScoredQuote,
    Similarity,
    asked_kind,
    asked_parts,
    asked_title,
    asks,
    asks_day,
    asks_for_person,
    axes,
    described_person,
    detect_conflicts,
    has_kind,
    part_answers,
    people,
    question_parts,
    question_terms,
    restates,
    says_day,
    says_when,
    score_quotes,
    select_evidence,
    side_scores,
    states,
    title_pattern,
)
from rag.grammar import ABBREVIATIONS, choice, cited_answer
from rag.matching import (
    STOPWORDS,
    as_asked,
    content_stems,
    is_yes_no,
    names,
    numbers,
    other_pole,
    stance_on,
    stem,
    words,
)
from rag.prompts import SIDE_LABELS, answer_messages, estimate_tokens, side_messages
from rag.retrieve import HybridRetriever
from rag.synonyms import is_verb
from rag.types import (
    Answer,
    AnswerEvent,
    Citation,
    Claim,
    Conflict,
    Event,
    Evidence,
    Filters,
    Mode,
    Passage,
    PassagesEvent,
    Quote,
    Timings,
    TokenEvent,
    Usage,
)

if TYPE_CHECKING:  # llama_index.core takes about a second to import
    from llama_index.core.llms import LLM
    from llama_index.core.llms.types import ChatResponse

# Abstain when no sentence of the retrieved passages scores this high (0.5 x cosine + 0.5 x
# weighted lexical match). Chosen on questions written for calibration, not the evaluation set:
# see docs/calibration.md.
MIN_RELEVANCE = 0.30
# Evidence and conflict sides come from sentences within this share of the best sentence's score.
RELATIVE_CUTOFF = 0.75
# Sentences the model reads at most: prompt evaluation runs at ~55 tokens/s on 2 cores.
PROMPT_SENTENCES = 4
# Most sentences an answer has: what the model may write (see `rag.grammar.cited_answer`), and
# what quotes added after it fill up to.
ANSWER_SENTENCES = 3
# Share of the content words of the sentence grounding ranked first that the model's answer must
# state for that sentence to count as said; otherwise it is quoted after the model's answer.
TOP_SAID = 0.8

_ANAPHORA = frozenset(
    "they them their theirs it its he him his she her this that these those there such".split()
)


@dataclass
class Conversation:
    """Earlier turns. Citation numbers stay stable: a passage keeps its number for the whole
    conversation and new passages get the next free numbers."""

    turns: list[Answer] = field(default_factory=list)

    def numbering(self) -> dict[str, int]:
        return {p.chunk_id: p.n for a in self.turns for p in a.passages}

    def last_question(self) -> str | None:
        return self.turns[-1].standalone_question if self.turns else None


_PLURAL_PRONOUNS = frozenset("they them their theirs these those".split())
_DETERMINERS = frozenset("the a an these those this that his her their its our".split())


def _antecedents(toks: Sequence[str]) -> list[tuple[int, str]]:
    """Nouns a pronoun could refer to within the question: names ("PMF", "Sadr"), bare plural
    nouns ("recruits") and the heads of phrases after a determiner ("the militia fighters" →
    fighters), with their positions."""
    out: list[tuple[int, str]] = []
    for i, t in enumerate(toks):
        named = i > 0 and ((t.isupper() and len(t) > 1) or (t[0].isupper() and t.lower() not in STOPWORDS))
        if named or _bare_plural(t):  # a bare plural: "must recruits meet before … trains them?"
            out.append((i, t))
        elif t.lower() in _DETERMINERS and i + 1 < len(toks):
            j = i + 1
            while j + 1 < len(toks) and toks[j + 1].lower() not in STOPWORDS and toks[j + 1].isalpha():
                j += 1  # the last word of "the militia fighters"
            if toks[j].lower() not in STOPWORDS and toks[j].lower() not in _ANAPHORA:
                out.append((j, toks[j]))
    return out


def _bare_plural(word: str) -> bool:
    """A plural noun that cannot be a verb ("fighters", not "wants" or "forces"): it names what a
    later "they" or "them" may stand for."""
    low = word.lower()
    return (
        word.islower()
        and low.endswith("s")
        and not low.endswith(("ss", "us"))
        and low not in STOPWORDS
        and low not in _ANAPHORA
        and is_verb(low) is False
    )


_PREPOSITIONS = frozenset("about of to with on for after before against by from over".split())


def refers_back(question: str) -> bool:
    """Whether a pronoun of the question needs an earlier question: it has no noun before it in the
    same question that it could stand for ("Do the militia fighters say the US supported them?"
    resolves "them" itself; "Did they want them to stay?" does not)."""
    toks = words(question)
    nouns = _antecedents(toks)
    for i, t in enumerate(toks):
        low = t.lower()
        if low not in _ANAPHORA:
            continue
        if low == "that" and i + 1 < len(toks) and (i == 0 or toks[i - 1].lower() not in _PREPOSITIONS):
            continue  # "said that …" joins a clause; "about that" or a final "that" refers back
        before = [w for j, w in nouns if j < i and (low in _PLURAL_PRONOUNS or not _bare_plural(w))]
        if low in _PLURAL_PRONOUNS:
            before = [
                w for w in before if w.endswith("s") and not w.isupper() and not w.endswith(("ss", "us"))
            ]
        if not before:
            return True
    return False


def standalone_question(question: str, conversation: Conversation | None) -> str:
    """Make a follow-up ("did they want them to stay?") stand alone by carrying the previous
    question along. Deterministic: a small model's rewrite is not reliable enough to retrieve with."""
    previous = conversation.last_question() if conversation else None
    if not conversation or not previous:
        return question
    if refers_back(question) or len(question_terms(question)) <= 2:
        last = conversation.turns[-1]
        named = answered_person(previous, last.answer, {p.outlet for p in last.passages if p.outlet})
        if named:
            # "What did he warn against?" after "Who …?" answered "Srud Barzanji": the person is
            # what the follow-up asks about, not the earlier question's topic
            own = _PERSON_PRONOUN.sub(lambda m: _as_pronoun(named, m.group(0)), question)
            if own != question and not refers_back(own):
                return own
        return f"{question} (follow-up to: {previous}{'; ' + named if named else ''})"
    return question


_PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|his|her)\b", re.I)


def _as_pronoun(name: str, pronoun: str) -> str:
    """A name in a pronoun's place: "Omar Haddad's" for "his"."""
    return name + "'s" if pronoun.lower() == "his" else name


# "Who is Col. Omar Haddad?", "Who was Tariq al-Nouri?": the question is about the person it names
_WHO_IS_NAMED = re.compile(
    r"^\W*(?i:who\s+(?:is|was))\s+((?:[A-Z][\w.\-]*|(?:al|el|bin|ibn|de|van|von)-?\w+)"
    r"(?:\s+(?:[A-Z][\w.\-]*|(?:al|el|bin|ibn|de|van|von)-?\w+))*)\s*\?*\s*$"
)
_POSSESSIVE = re.compile(r"['’]s$")


def answered_person(question: str, answer: str, outlets: Collection[str] = ()) -> str | None:
    """The person "he" or "she" means in the question after this one: after "Who is Col. Omar
    Haddad?" or a question naming one person ("What did Capt. Omar Haddad say?"), that person;
    after a question for a person ("Who called the training a mistake?"), the one the answer
    names that the question does not ("Michael Pregent"). A name that is part of a source's
    outlet ("according to Los Angeles Times") is no person."""
    own = _WHO_IS_NAMED.match(question)
    if own:
        return (people(f"said {own.group(1)}") or [own.group(1)])[0]
    if asked_kind(question) != "person" and not asks_for_person(question):
        named = [_POSSESSIVE.sub("", name) for name in people(question)]
        return named[0] if len(named) == 1 else None
    asked = content_stems(question)  # "Hadi al-Ameri" is the question's "Hadi Ameri"
    found = (name for name in people(answer) if not content_stems(name) & asked)
    return next((name for name in found if not any(name in o for o in outlets)), None)


# Passages beyond k read for a part of a question asked of a person it never names (see `part_answers`).
PART_PASSAGES = 2
# Passages beyond k read for a question with sides (a yes/no, either/or or opposite-pair question).
SIDE_PASSAGES = 3


def read_passages(
    retriever: HybridRetriever, aliases: Aliases, question: str, k: int, filters: Filters | None, mode: Mode
) -> list[Passage]:
    """The passages an answer reads: k, or `k + SIDE_PASSAGES` for a question with sides (the
    other side rarely repeats the question's words); names also searched in their other forms."""
    wide = k + SIDE_PASSAGES if axes(question) else k
    return retriever.retrieve(question, wide, filters, mode, aliases.expand(question))


def number_passages(passages: Sequence[Passage], conversation: Conversation | None) -> list[Passage]:
    known = conversation.numbering() if conversation else {}
    nxt = max(known.values(), default=0) + 1
    out = []
    for p in passages:
        if p.chunk_id in known:
            out.append(p.renumbered(known[p.chunk_id]))
        else:
            out.append(p.renumbered(nxt))
            nxt += 1
    return out


def missing_constraints(
    question: str,
    passages: Sequence[Passage],
    normalise: Callable[[str], str] = str,
    indexed: Collection[str] = frozenset(),
) -> list[str]:
    """Numbers and names the question asks about that no retrieved passage contains (compared
    after `normalise`, which rewrites aliases to one name) and no indexed article uses either
    (`indexed`: the terms of every chunk; "ISIS" is no missing name when one article writes it
    and the passages retrieved say "IS")."""
    text = normalise(" ".join(f"{p.text} {p.title} {p.outlet or ''} {p.date or ''}" for p in passages))
    have = question_terms(text)
    question = normalise(question)
    wanted = names(question) | numbers(question)
    missing = []
    toks = words(question)
    for i, w in enumerate(toks):
        # Two words the articles write as one name ("Baghdad Post" / "Baghdadpost")
        pairs = [toks[j] + toks[j + 1] for j in (i - 1, i) if 0 <= j < len(toks) - 1]
        if {stem(p) for p in pairs} & have:
            continue
        # A compound is missing only when one of its parts is ("Iraqi-American" where the
        # articles say "Iraqi" and "American" apart)
        for part in dict.fromkeys(w.split("-")):
            if part in ABBREVIATIONS:
                continue  # "Capt.", "Oct.": an article may write the word out ("Captain")
            key = part.replace(",", "").rstrip(".") if part[:1].isdigit() else stem(part)
            if key in wanted and key not in have and key not in indexed and part not in missing:
                missing.append(part)
    return missing


# What an answer needs to contain, by the kind of thing asked for; the reason given otherwise.
_NEEDED: dict[AnswerKind, str] = {
    "number": "none of the passages on this gives a number",
    "year": "none of the passages on this states a year",
    "name": "none of the passages on this gives its name",
    "date": "none of the passages on this gives a date",
    "person": "none of the passages on this names anyone",
    "speaker": "none of the passages gives the words of {who}",
}


# A question about when something was reported: the answer may be the article's own date.
_REPORTED = re.compile(r"\b(?:report|publish|writ|wrote|article|stor(?:y|ies)|post)\w*", re.I)


def absent_kind(question: str, sentences: Sequence[str], every_sentence: Sequence[str] = ()) -> str | None:
    """Why to abstain when the question asks for a number, a year, a date, a person of a role
    ("Which general …?") or someone's words (see `asked_kind`) and none of the sentences on it
    holds them (for someone's words: none of `every_sentence`, the retrieved passages'
    sentences; for a date or a person, by the looser test of `_loosely`); None otherwise. A compound question
    ("What …, and in what year …?") is answered when one of its parts can be. "When was it
    reported?" may be answered by an article's date, so it is never abstained on here."""
    reasons = []
    for part in question_parts(question):  # a compound question: each part must lack its kind
        kind = asked_kind(part)
        if (
            kind is None
            or kind not in _NEEDED
            or (kind == "date" and _REPORTED.search(part))
            or (kind == "person" and not _ROLE_ASKED.search(part))
        ):
            return None
        # a headline that asks ("Are the militias getting friendlier?") holds no answer
        pool = [s for s in (every_sentence if kind == "speaker" else sentences) if not asks(s)]
        # "When?" scores a sentence with a calendar date higher, but "this week" answers it too;
        # "Which general?" one with "Gen." before a name, but any name not the question's may
        if any(has_kind(kind, part, s) or _loosely(kind, part, s) for s in pool):
            return None
        m = SPEAKER.search(part)
        reasons.append(_NEEDED[kind].format(who=m.group("who") if m else "the one named"))
    return reasons[0]


def _loosely(kind: AnswerKind, question: str, sentence: str) -> bool:
    """Whether a sentence may hold the kind asked for, by a looser test than the one that ranks
    it: any time for a date (see `says_when`), any named person the question does not name (for
    a rank asked for, "Which general …?", in a sentence with the rank: "the commander, Gen. …")."""
    if kind == "date":  # "On what date …?" is not answered by "this week" or a year
        return says_day(sentence) if asks_day(question) else says_when(sentence)
    if kind == "person":  # a name of two capitalised words at least, or one `people` finds
        title = asked_title(question)
        if title in RANKS and not re.search(r"\b(?:" + title_pattern(title) + r")\b", sentence, re.I):
            return False
        asked = content_stems(question)
        found = people(sentence) + _FULL_NAME.findall(sentence)
        return any(content_stems(name) - asked for name in found)
    return False


_FULL_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:(?:al|el|bin|abu)-)?[A-Z][\w'’-]+)+")
# "Which general …?": a person of a role is asked for ("Who fought?" may be answered by a group).
_ROLE_ASKED = re.compile(r"^\W*(?:which|what)\b", re.I)


def _source(e: Evidence | Passage) -> str:
    return f"{e.outlet or 'An article'} ({e.date or 'undated'})"


def _quoted(source: str, q: Quote) -> str:
    text = " ".join(q.text.split()).rstrip(".")
    # A sentence that opens a quotation the next one closes ("“Finally we got them.") is closed
    # here, so that the answer's sentences split where its quotes end.
    text += "”" * max(0, text.count("“") - text.count("”"))
    return f"{source} reports: “{text}” [{q.n}]."


def compose_extractive(
    evidence: Sequence[Evidence], conflicts: Sequence[Conflict], passages: Sequence[Passage], limit: int = 3
) -> str:
    """An answer made only of quotes, each with its outlet, date and citation: on a contested
    question one quote per side (from different articles where possible), else the evidence's
    sentences in its order (an article's second sentence with its first), `limit` at most."""
    if not conflicts:
        picked = [(e, q) for e in evidence for q in e.quotes][:limit]
        return " ".join(_quoted(_source(e), q) for e, q in picked)
    return " ".join([DISAGREE, *side_quotes(conflicts[0], passages)])


DISAGREE = "The sources disagree."


def side_quotes(
    conflict: Conflict, passages: Sequence[Passage], signs: Collection[int] = (1, -1)
) -> list[str]:
    """One quoted sentence for each side of `conflict` whose sign is in `signs`."""
    meta = {p.doc_id: p for p in passages}
    lines = []
    for side in conflict.sides:
        q = side.quotes[0]
        e = meta.get(q.doc_id)
        if side.sign in signs:
            lines.append(_quoted(_source(e) if e else "An article", q))
    return lines


def sides_taken(conflict: Conflict, claims: Sequence[Claim]) -> set[int]:
    """The sides of `conflict` that supported claims give: by the words of an opposite pair, or
    by citing a passage that only that side's sentences come from."""
    taken = {stance_on(c.text, conflict.axis) for c in claims if c.supported} - {0}
    for side in conflict.sides:
        others = {n for o in conflict.sides if o is not side for n in o.citations}
        own = set(side.citations) - others
        if any(c.supported and own & set(c.citations) for c in claims):
            taken.add(side.sign)
    return taken


@dataclass(frozen=True)
class Grounding:
    """What the sources say before any generation: the numbered passages, every sentence scored,
    the evidence per article, the conflicts, and why to abstain (None: answer)."""

    question: str
    standalone: str
    passages: tuple[Passage, ...]
    scored: tuple[ScoredQuote, ...]
    evidence: tuple[Evidence, ...]
    conflicts: tuple[Conflict, ...]
    abstain: str | None
    retrieve_ms: float


@dataclass(frozen=True)
class _Draft:
    """An answer text with its verified claims, ready to become an `Answer`."""

    text: str
    claims: list[Claim]
    supports: dict[int, _Cited]
    abstained: bool = False
    notes: tuple[str, ...] = ()
    first_ms: float | None = None  # when the first sentence was sent
    usage: Usage | None = None  # tokens the LLM read and wrote, when its backend counts them


class _Clock:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def ms(self) -> float:
        return round((time.perf_counter() - self.t0) * 1000, 1)


@dataclass
class Answerer:
    """Answers questions with one retriever and one backend (`llm` None = extractive)."""

    retriever: HybridRetriever
    similarity: Similarity
    weights: Callable[[str], float]
    llm: LLM | None
    backend: str
    context_budget: int = 1000
    min_relevance: float = MIN_RELEVANCE
    indexed_terms: Collection[str] = frozenset()  # the terms of every indexed chunk
    aliases: Aliases = field(default_factory=Aliases)

    def stream(
        self,
        question: str,
        *,
        k: int = 5,
        filters: Filters | None = None,
        conversation: Conversation | None = None,
        mode: Mode = "hybrid",
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Events: passages and evidence, then tokens, then the verified `Answer`.

        `cancelled` is asked after every token the model writes: once it says yes (the client has
        gone) the model stops and the stream ends without an answer. Unsupported sentences send
        nothing, so closing the stream alone would let the model run on until its next event."""
        clock = _Clock()
        g = self.ground(question, k, filters, conversation, mode)
        yield PassagesEvent(g.passages, g.evidence, g.conflicts)
        if g.abstain:
            text = f"The articles don't say: {g.abstain}. The closest passages are listed as related reading."
            yield TokenEvent(text)
            yield self._answer(g, _Draft(text, [], {}, abstained=True), self.backend, clock)
            return
        if self.llm is None:
            draft = self._extractive(g)
            yield TokenEvent(draft.text)
            yield self._answer(g, draft, self.backend, clock)
            return
        yield from self._generate_and_reconcile(g, self.llm, clock, cancelled or _never)

    def ground(
        self, question: str, k: int, filters: Filters | None, conversation: Conversation | None, mode: Mode
    ) -> Grounding:
        """Retrieve, score every sentence, pick the evidence and the conflicts, or a reason to abstain."""
        clock = _Clock()
        question = question.strip()
        standalone = standalone_question(question, conversation)
        found = read_passages(self.retriever, self.aliases, standalone, k, filters, mode)
        # a yes/no question on an opposite pair: the other side, asked in its own words ("Which
        # ambassador did he tell they wanted US forces to remain?" asks for a person, not a side)
        flip = other_pole(standalone) if is_yes_no(standalone) else None
        if flip is not None:
            found = self._read_more(found, [flip[0]], SIDE_PASSAGES, k, filters, mode)
        passages = number_passages(found, conversation)
        retrieve_ms = clock.ms()
        norm = self.aliases.normalise
        focus = question if standalone != question else None
        scored = self._score(standalone, passages, focus, flip)
        # "Where is the army captain who was promised …?": scored again as asked of the one
        # person with that title in the best sentence's article ("the army captain, Amir al-Saadi,")
        top_doc = " ".join(p.text for p in passages if scored and p.doc_id == scored[0].quote.doc_id)
        described = described_person(standalone, top_doc)
        if described is not None:
            role, name = described
            scored = self._score(standalone.replace(role, f"{role}, {name},", 1), passages, focus, flip)
        # "Who closed the harbour, and how is he seen by the fishermen?": the second part is asked
        # of the person the first was answered with, whom the question never names
        asked = asked_parts(focus or standalone)
        picks = part_answers(focus or standalone, scored, self.min_relevance, self.weights, norm)
        named = [part for part, _ in picks if part not in asked]
        if named and flip is None:
            start = clock.ms()
            passages = number_passages(
                self._read_more(found, named, PART_PASSAGES, k, filters, mode), conversation
            )
            retrieve_ms += clock.ms() - start
            scored = self._score(standalone, passages, focus, flip)
            picks = part_answers(focus or standalone, scored, self.min_relevance, self.weights, norm)
        best = scored[0].score if scored else 0.0
        cutoff = max(self.min_relevance, RELATIVE_CUTOFF * best)
        reason = None
        if not passages:
            reason = "no indexed article matches the question" + (" and the filters" if filters else "")
        elif best < self.min_relevance:
            reason = "no passage is relevant enough to the question"
        else:
            missing = missing_constraints(question, passages, norm, self.indexed_terms)
            if missing:
                reason = "the articles never mention " + ", ".join(missing)
        if not reason:
            texts = [norm(x.quote.text) for x in scored]
            on_topic = [t for t, x in zip(texts, scored, strict=True) if x.score >= self.min_relevance]
            reason = absent_kind(norm(question), on_topic, texts)
        evidence: list[Evidence] = []
        conflicts: list[Conflict] = []
        if not reason:
            evidence = select_evidence(
                standalone,
                passages,
                scored,
                min_score=cutoff,
                side_min_score=self.min_relevance,
                weights=self.weights,
                parts=list(dict.fromkeys(s for _, s in picks)),
            )
            conflicts = detect_conflicts(
                standalone,
                scored,
                min_score=cutoff,
                side_min_score=self.min_relevance,
                weights=self.weights,
                says_yes=None if self.llm is None else partial(says_yes, self.llm),
            )
        return Grounding(
            question,
            standalone,
            tuple(passages),
            tuple(scored),
            tuple(evidence),
            tuple(conflicts),
            reason,
            retrieve_ms,
        )

    def _score(
        self, standalone: str, passages: Sequence[Passage], focus: str | None, flip: tuple[str, str] | None
    ) -> list[ScoredQuote]:
        """Every sentence of the passages scored against the question; on an opposite pair
        (`flip`: the question asked of the other side, and the pair), a sentence taking a side
        keeps the better of its two scores (see `side_scores`)."""
        norm = self.aliases.normalise
        scored = score_quotes(standalone, passages, self.similarity, self.weights, norm, focus)
        if flip is None:
            return scored
        other = score_quotes(flip[0], passages, self.similarity, self.weights, norm, focus)
        return side_scores(scored, other, flip[1])

    def _read_more(
        self,
        found: list[Passage],
        questions: Iterable[str],
        most: int,
        k: int,
        filters: Filters | None,
        mode: Mode,
    ) -> list[Passage]:
        """`found`, then for each of `questions` up to `most` passages of its own that `found` lacks."""
        for q in questions:
            have = {p.chunk_id for p in found}
            more = read_passages(self.retriever, self.aliases, q, k, filters, mode)
            found = found + [p for p in more if p.chunk_id not in have][:most]
        return found

    def _extractive(self, g: Grounding) -> _Draft:
        return _Draft(*self._verified(compose_extractive(g.evidence, g.conflicts, g.passages), g.passages))

    def _generate_and_reconcile(
        self, g: Grounding, llm: LLM, clock: _Clock, cancelled: Callable[[], bool]
    ) -> Iterator[Event]:
        """Generate from the chosen sentences; each sentence is verified as it completes and only
        supported ones are streamed. Then `reconcile` adds what the model left out."""
        sources = prompt_sources(g, self.context_budget)
        passages = [p for p, _ in sources]
        out = _Stream(clock, DISAGREE if g.conflicts else None, _Recite.of(g))
        norm = self.aliases.normalise
        who = distinctive_names(g.standalone, g.passages, norm)
        asked, disputed = norm(g.standalone), bool(g.conflicts)  # for `restates`, once
        raw: list[str] = []
        try:
            constraint = cited_answer((p.n for p in passages), ANSWER_SENTENCES)
            deltas = llm.stream_chat(answer_messages(sources, g.standalone), constraint=constraint)
            for sentence in completed_sentences(_until(cancelled, out.texts(deltas))):
                raw.append(sentence)
                if is_connective(sentence) or judges_sources(sentence):
                    continue  # "The sources disagree." is the grounding's to say, not the model's
                if restates(asked, norm(strip_citations(sentence)), disputed):
                    continue  # it answers nothing, however true, or is a verdict on a dispute
                kept = self._check(
                    without_verdict(sentence),
                    passages,
                    out.claims,
                    out.supports,
                    who,
                    out.recited,
                    g.standalone,
                )
                if kept:
                    yield out.emit(kept)
        except BackendUnavailable as e:
            note = f"The {self.backend} backend failed ({e}); this answer quotes the sources instead."
            for text in self._fallback(g, out):
                yield out.emit(text)
            yield self._answer(g, out.draft(notes=(note,)), "extractive (fallback)", clock)
            return
        if cancelled():
            close = getattr(deltas, "close", None)
            if close is not None:
                close()  # the model stops writing for no one
            return
        yield from self.reconcile(g, " ".join(raw), out)

    def reconcile(self, g: Grounding, raw: str, out: _Stream) -> Iterator[Event]:
        """After the model: quotes instead when no sentence of it was supported (also when it said
        it does not know: grounding found relevant sentences, or it would have abstained), and the
        missing side of a conflict when it gave one side only."""
        notes: list[str] = []
        if out.recited.done:
            notes.append(
                f"{len(out.recited.done)} sentence(s) of the model's answer cited the wrong passage; "
                "they cite the passage that supports them."
            )
        dropped = [c for c in out.claims if not c.supported]
        if dropped:
            notes.append(
                f"{len(dropped)} sentence(s) of the model's answer were removed: "
                "the cited passages do not support them."
            )
        if not any(c.supported for c in out.claims):
            # Grounding decides whether the articles answer (it found relevant sentences, or it
            # would have abstained); a small model's "I don't know" is not trusted over them.
            for text in self._fallback(g, out):
                yield out.emit(text)
            why = (
                "The model found no answer in the sentences it read"
                if says_dont_know(raw)
                else "No sentence of the model's answer could be verified"
            )
            notes.append(f"{why}; the answer quotes the sources instead.")
        else:
            for quote in self._missing(g, out.claims, out.supports):
                kept = self._check(quote, g.passages, out.claims, out.supports)
                if kept:
                    yield out.emit(kept)
        yield self._answer(g, out.draft(notes=tuple(notes)), self.backend, out.clock)

    def _missing(self, g: Grounding, claims: Sequence[Claim], supports: Mapping[int, _Cited]) -> list[str]:
        """Quotes for what the model's supported sentences leave out: the other side of a
        conflict; or the count, year, date, person or words asked for when the evidence has them
        and the model did not write them; then, up to `ANSWER_SENTENCES` sentences in all, the
        sentence grounding ranked first when the model did not give it (see `_says`), and on a
        contested or compound question the best sentence of each article not yet cited."""
        if g.conflicts:
            conflict = g.conflicts[0]
            missing = {side.sign for side in conflict.sides} - sides_taken(conflict, claims)
            return side_quotes(conflict, g.passages, missing)
        norm = self.aliases.normalise
        said = [norm(c.text) for c in claims if c.supported]
        # each part of the question ("When …, and who …?") and the kind of thing it asks for
        kinds = [(part, asked_kind(part)) for part in question_parts(norm(g.question))]
        quotes = self._asked_for(g, kinds, said)
        room = ANSWER_SENTENCES - len(said) - len(quotes)
        top = g.evidence[0] if g.evidence else None
        asked = norm(g.standalone)
        firm = self._near_best(g, claims, supports) if any(k == "person" for _, k in kinds) else []
        resting = supports.values()
        if top is not None and room > 0 and not self._says(top.quotes[0], kinds, said, resting, asked, firm):
            quotes.append((top.doc_id, _quoted(_source(top), top.quotes[0])))
            room -= 1
        if axes(g.standalone) or len(question_parts(g.standalone)) > 1:
            # a contested or compound question: the best sentence of each article not cited yet
            cited = {p.doc_id for c in claims if c.supported for p in g.passages if p.n in c.citations}
            cited |= {doc for doc, _ in quotes}
            for e in [e for e in g.evidence if e.doc_id not in cited][: max(room, 0)]:
                quotes.append((e.doc_id, _quoted(_source(e), e.quotes[0])))
        return list(dict.fromkeys(text for _, text in quotes))

    def _near_best(self, g: Grounding, claims: Sequence[Claim], supports: Mapping[int, _Cited]) -> list[str]:
        """The supported claims (normalised) resting on a quote near the best sentence (see
        `ANSWERING_SHARE`): only they give a person asked for, "Which NATO member …?" is not
        answered by a colonel's quote from far down the ranking."""
        best = g.scored[0].score if g.scored else 0.0
        near = {(s.quote.doc_id, s.quote.start) for s in g.scored if s.score >= ANSWERING_SHARE * best}
        rests = {n for n, s in supports.items() if (s.quote.doc_id, s.quote.start) in near}
        return [self.aliases.normalise(c.text) for c in claims if c.supported and rests & set(c.citations)]

    def _says(
        self,
        q: Quote,
        kinds: Sequence[tuple[str, AnswerKind | None]],
        said: Sequence[str],
        supports: Iterable[_Cited],
        asked: str,
        firm: Sequence[str],
    ) -> bool:
        """Whether the model's supported sentences `said` give sentence `q`: one rests on it
        (`supports`: the quotes that support them; quoting it again would repeat the model, though
        the model may have kept its topic and dropped its fact) and one says more than the
        question `asked` (a word or number of its own: "Iraq's parliament passed the law [1]"
        only repeats "… before or after Iraq's parliament passed the law?"), they state most of
        its words (`TOP_SAID`), or they hold what each part of the question asks for (`kinds`:
        each part and what it asks for) when it asks for a kind `has_kind` can check (a person:
        held by one of `firm`, the sentences resting on a quote near the best)."""
        words_asked, numbers_asked = content_stems(asked), numbers(asked)
        more = any(content_stems(c) - words_asked or numbers(c) - numbers_asked for c in said)
        if more and any(c.supported and c.quote.overlaps(q) for c in supports):
            return True
        if states_most(self.aliases.normalise(q.text), said):
            return True
        return all(
            k is not None
            and k in ANSWERING_KINDS
            and any(has_kind(k, p, c) or _loosely(k, p, c) for c in (firm if k == "person" else said))
            for p, k in kinds
        )

    def _asked_for(
        self, g: Grounding, kinds: Sequence[tuple[str, AnswerKind | None]], said: Sequence[str]
    ) -> list[tuple[str, str]]:
        """(article, quote) of the sentence holding what each part of the question asks for
        (`kinds`: a count, a year, a person …), when the model's sentences `said` hold none."""
        norm = self.aliases.normalise
        by_doc = {p.doc_id: p for p in g.passages}
        out: list[tuple[str, str]] = []
        for part, kind in kinds:
            if kind is None or kind not in ANSWERING_KINDS or any(has_kind(kind, part, c) for c in said):
                continue
            on_topic = (s for s in g.scored if s.answers and s.score >= self.min_relevance)
            answering = next((s for s in on_topic if has_kind(kind, part, norm(s.quote.text))), None)
            if answering is not None:
                doc = answering.quote.doc_id
                quoted = (doc, _quoted(_source(by_doc[doc]), answering.quote))
                out += [quoted] if quoted not in out else []
        return out

    def _fallback(self, g: Grounding, out: _Stream) -> Iterator[str]:
        """The extractive answer's verified sentences, less a "sources disagree" already sent."""
        for sentence in split_sentences(compose_extractive(g.evidence, g.conflicts, g.passages)):
            if sentence == DISAGREE and out.lead:
                continue
            kept = (
                sentence
                if is_connective(sentence)
                else self._check(sentence, g.passages, out.claims, out.supports)
            )
            if kept:
                yield kept

    def _answer(self, g: Grounding, d: _Draft, backend: str, clock: _Clock) -> AnswerEvent:
        total = clock.ms()
        answer = Answer(
            question=g.question,
            standalone_question=g.standalone,
            answer=d.text,
            abstained=d.abstained,
            claims=tuple(d.claims),
            citations=_citations(d.claims, d.supports, g.passages, g.scored),
            evidence=g.evidence,
            conflicts=g.conflicts,
            passages=g.passages,
            backend=backend,
            timings=Timings(g.retrieve_ms, total if d.first_ms is None else d.first_ms, total),
            notes=d.notes,
            usage=d.usage,
        )
        return AnswerEvent(answer)

    def _verified(self, raw: str, passages: Sequence[Passage]) -> tuple[str, list[Claim], dict[int, _Cited]]:
        """Verify each sentence; keep supported sentences and connectives, in order.

        Also returns, per cited passage number, the quote it was resolved to and whether that
        quote supports a kept sentence.
        """
        kept: list[str] = []
        claims: list[Claim] = []
        cited: dict[int, _Cited] = {}
        for sentence in split_sentences(raw):
            if is_connective(sentence):
                kept.append(sentence)
                continue
            checked = self._check(sentence, passages, claims, cited)
            if checked:
                kept.append(checked)
        # A connective alone, or trailing, says nothing.
        while kept and is_connective(kept[-1]):
            kept.pop()
        return " ".join(kept), claims, cited

    def _check(
        self,
        sentence: str,
        passages: Sequence[Passage],
        claims: list[Claim],
        cited: dict[int, _Cited],
        who: Collection[str] = (),
        recite_to: _Recite | None = None,
        question: str = "",
    ) -> str | None:
        """Verify one sentence (`who`: the names the question asks about; `question`, for a
        model's sentence: see `verify`): its claim goes to `claims`, the quotes it resolved to
        `cited`; returns the sentence as shown when supported, else None. With `recite_to` (a
        model's sentence), one that its citations do not support cites instead another of
        `passages` whose evidence sentence supports it."""
        claim, sups = verify(sentence, passages, self.aliases.normalise, who, question)
        if recite_to is not None and not claim.supported and claim.citations:
            # The model may put the right fact under the wrong number. Only a sentence grounding
            # chose may take its place: one merely true elsewhere need not answer the question.
            for p in passages:
                if p.n in claim.citations:
                    continue
                other = recite(sentence, p.n)
                claim2, sups2 = verify(other, passages, self.aliases.normalise, who, question)
                if claim2.supported and any(s.quote and recite_to.chose(s.quote) for s in sups2):
                    sentence, claim, sups = other, claim2, sups2
                    recite_to.done.append(p.n)
                    break
        claims.append(claim)
        for s in sups:
            ok = claim.supported and s.supported
            if s.quote is not None and (s.n not in cited or (ok and not cited[s.n].supported)):
                cited[s.n] = _Cited(s.quote, ok)
        return _normalise_markers(sentence) if claim.supported else None


@dataclass
class _Recite:
    """Where a model's miscited sentence may be cited instead: the sentences grounding chose (the
    evidence and the sides of a conflict); `done` collects the passages cited instead."""

    chosen: tuple[Quote, ...]
    done: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, g: Grounding) -> _Recite:
        quotes = [q for e in g.evidence for q in e.quotes]
        quotes += [q for c in g.conflicts for side in c.sides for q in side.quotes]
        return cls(tuple(quotes))

    def chose(self, q: Quote) -> bool:
        """Whether `q` (what supports a sentence) holds one of the chosen sentences."""
        return any(c.overlaps(q) for c in self.chosen)


class _Stream:
    """The answer as it is streamed: kept sentences, every claim checked, the quotes cited."""

    def __init__(self, clock: _Clock, lead: str | None, recited: _Recite) -> None:
        self.clock = clock
        self.lead = lead  # said before the first sentence ("The sources disagree."), if one comes
        self.kept: list[str] = []
        self.claims: list[Claim] = []
        self.supports: dict[int, _Cited] = {}
        self.first_ms: float | None = None
        self.usage: Usage | None = None
        self.recited = recited  # where a miscited sentence may be cited instead

    def texts(self, chunks: Iterable[ChatResponse]) -> Iterator[str]:
        """The model's text deltas; the token counts a backend reports on the way are kept."""
        for chunk in chunks:
            if "usage" in chunk.additional_kwargs:
                self.usage = Usage(**chunk.additional_kwargs["usage"])
            yield chunk.delta or ""

    def emit(self, sentence: str) -> TokenEvent:
        if self.first_ms is None:
            self.first_ms = self.clock.ms()
        new = [self.lead, sentence] if self.lead and not self.kept else [sentence]
        text = " ".join(new)
        event = TokenEvent(f" {text}" if self.kept else text)
        self.kept.extend(new)
        return event

    def draft(self, notes: tuple[str, ...]) -> _Draft:
        return _Draft(
            " ".join(self.kept),
            self.claims,
            self.supports,
            notes=notes,
            first_ms=self.first_ms,
            usage=self.usage,
        )


# A sentence on whether the sources agree ("The articles agree that …", "Both reports differ on …").
_ON_THE_SOURCES = re.compile(
    r"^\W*(?:the|both|all|these|the two)?\s*(?:articles?|sources?|reports?|outlets?|accounts?)\s+"
    r"(?:\w+\s+)?(?:agree|disagree|differ|concur|contradict|conflict|are divided|are split)\b",
    re.I,
)


def judges_sources(sentence: str) -> bool:
    """Whether a model's sentence says whether the sources agree: a verdict on them, which
    conflict detection gives and the model never does, whatever facts follow ("The articles agree
    that Washington has been helping the Islamic State [1]", passing the verifier on "Washington"
    in "The Washington Times")."""
    return bool(_ON_THE_SOURCES.search(sentence))


def states_most(sentence: str, said: Sequence[str]) -> bool:
    """Whether the sentences `said` hold at least `TOP_SAID` of `sentence`'s content words."""
    wanted = content_stems(sentence)
    have = set().union(*(content_stems(c) for c in said))
    return len(wanted & have) >= TOP_SAID * len(wanted)


def distinctive_names(
    question: str, passages: Sequence[Passage], normalise: Callable[[str], str] = str
) -> set[str]:
    """The names of the question that fewer than half of the passages hold: whom it asks about
    ("Michael Pregent", not the "Iraq" every passage names)."""
    held = [content_stems(normalise(p.text)) for p in passages]
    return {n for n in names(normalise(question)) if 2 * sum(n in h for h in held) < len(held)}


def says_yes(llm: LLM, question: str, sentence: str) -> bool:
    """Whether the model, reading `sentence` alone, answers the yes/no `question` with yes. Its
    reply is held to yes / no / neither by a grammar; a backend that fails answers no (the
    lexical sides stand, and the answer that follows reports the failure)."""
    labels = [v for label in SIDE_LABELS for v in (label, label.capitalize())]
    try:
        reply = llm.chat(side_messages(as_asked(question), sentence), constraint=choice(labels), max_tokens=3)
    except BackendUnavailable:
        return False
    return (reply.message.content or "").strip().casefold().rstrip(".") == "yes"


def _never() -> bool:
    return False


def _until(cancelled: Callable[[], bool], deltas: Iterable[str]) -> Iterator[str]:
    for delta in deltas:
        if cancelled():
            return
        yield delta


def completed_sentences(deltas: Iterable[str]) -> Iterator[str]:
    """Sentences of streamed text, each as soon as the next one has begun (the last at the end)."""
    text = ""
    done = 0
    for delta in deltas:
        text += delta
        pieces = split_sentences(text)
        # The last piece is still growing; once it holds a letter the one before it is complete
        # (citations written after a full stop, "… stay. [2]", are still joined to their sentence).
        ready = len(pieces) - 1 if pieces and re.search(r"[A-Za-z]", pieces[-1]) else len(pieces) - 2
        while done < ready:
            yield pieces[done]
            done += 1
    yield from split_sentences(text)[done:]


def prompt_sources(g: Grounding, budget: int) -> list[tuple[Passage, list[str]]]:
    """The sentences the model reads, grouped by passage (in passage order): each side of a
    conflict first, then each article's evidence, then the best of the rest, while the estimated
    tokens stay within `budget` (at least one sentence). Headlines and questions are left out
    when there is anything else: they assert nothing, and every token read costs time to the
    first answer."""
    order = [q for c in g.conflicts[:1] for side in c.sides for q in side.quotes[:2]]
    order += [q for e in g.evidence for q in e.quotes]
    order += [s.quote for s in g.scored]
    chosen: list[Quote] = []
    used = 0
    # Statements first; a passage made only of headlines or lines without a full stop still
    # gives the model something to read (a cited answer needs one source at least).
    for q in dict.fromkeys([q for q in order if states(q.text)] or order):
        cost = estimate_tokens(q.text) + 4
        if len(chosen) >= PROMPT_SENTENCES or (chosen and used + cost > budget):
            break
        chosen.append(q)
        used += cost
    by_n = {p.n: p for p in g.passages}
    return [
        (by_n[n], [q.text for q in sorted((q for q in chosen if q.n == n), key=lambda q: q.start)])
        for n in sorted({q.n for q in chosen})
    ]


@dataclass(frozen=True)
class _Cited:
    quote: Quote
    supported: bool


_VERDICT = re.compile(r"^\s*(?:yes|no)\s*[,.;:!]\s*(?=\S)", re.I)


def without_verdict(sentence: str) -> str:
    """A generated sentence less an opening "Yes," or "No,": the verdict is the model's, not its
    sources' (sides come from grounding), and it may contradict the rest ("Yes, the group has
    never been supported …")."""
    m = _VERDICT.match(sentence)
    if not m:
        return sentence
    rest = sentence[m.end() :]
    return rest[:1].upper() + rest[1:]


def _normalise_markers(sentence: str) -> str:
    """ "[1, 3]" → "[1][3]"; citations written after the full stop move before it."""
    s = re.sub(
        r"\[\s*(\d+(?:\s*[,;]\s*\d+)+)\s*\]",
        lambda m: "".join(f"[{x.strip()}]" for x in re.split(r"[,;]", m.group(1))),
        sentence,
    )
    return re.sub(r"([.!?])\s*((?:\[\d+\])+)$", r" \2\1", s).replace("  ", " ")


def _citations(
    claims: Sequence[Claim],
    cited: dict[int, _Cited],
    passages: Sequence[Passage],
    scored: Sequence[ScoredQuote],
) -> tuple[Citation, ...]:
    by_n = {p.n: p for p in passages}
    out = []
    for n in sorted({n for c in claims for n in c.citations}):
        p = by_n.get(n)
        if p is None:
            continue
        found = cited.get(n)
        # Without a resolved quote, show the passage's best sentence for the question.
        quote = found.quote if found else next((s.quote for s in scored if s.quote.n == n), None)
        start, end, text = (quote.start, quote.end, quote.text) if quote else (p.start, p.end, p.text)
        supported = bool(found and found.supported)
        out.append(
            Citation(
                n, p.doc_id, p.title, p.outlet, p.date, p.chunk_id, start, end, text, supported, p.author
            )
        )
    return tuple(out)
