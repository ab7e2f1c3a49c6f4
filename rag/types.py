"""Small frozen result types shared by the core, the edges and the evaluation."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from rag.errors import BadRequest

Mode = Literal["hybrid", "dense", "bm25"]
# Answer backends (`typing.get_args(Backend)` lists them): local: llama.cpp on the packaged model;
# openai: any OpenAI-compatible server; extractive: no LLM, quotes the best sentences.
Backend = Literal["local", "openai", "extractive"]


def parse_date(value: str | None, name: str = "date", end: bool = False) -> dt.date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY; a partial date means its first (or, with `end`, last) day.

    Blank is None; anything else raises ValueError naming the field (`name`).
    """
    if value is None or not str(value).strip():
        return None
    v = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", v):
            return dt.date(int(v), 12, 31) if end else dt.date(int(v), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", v):
            first = dt.date.fromisoformat(v + "-01")
            if not end:
                return first
            nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return nxt - dt.timedelta(days=1)
        return dt.date.fromisoformat(v)
    except ValueError:
        pass
    raise ValueError(f"{name} must be a date: YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2020-01-03), not {v!r}")


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some articles. Outlet and author match case-insensitively as a
    substring; dates are inclusive, and an article without a stated date never passes a date filter.

    Built with `since` after `until` it raises BadRequest; `Filters.parse` builds one from text.
    """

    outlet: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    author: str | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise BadRequest("since is after until")

    @classmethod
    def parse(
        cls,
        outlet: str | None = None,
        since: str | None = None,
        until: str | None = None,
        *,
        author: str | None = None,
        label: str = "",
    ) -> Filters:
        """Filters from what a person typed: a blank outlet or author is none; `since` is the first day of its
        period and `until` the last (`parse_date`). Raises BadRequest naming the field as the edge
        calls it: `label` + "since" (e.g. "--since", "filters.since")."""
        try:
            start = parse_date(since, f"{label}since")
            end = parse_date(until, f"{label}until", end=True)
        except ValueError as e:
            raise BadRequest(str(e)) from None
        try:
            return cls((outlet or "").strip() or None, start, end, (author or "").strip() or None)
        except BadRequest:
            raise BadRequest(f"{label}since is after {label}until") from None

    def __bool__(self) -> bool:
        return bool(self.outlet or self.since or self.until or self.author)

    def admits(self, outlet: str | None, date: str | None, author: str | None = None) -> bool:
        if self.outlet and self.outlet.casefold() not in (outlet or "").casefold():
            return False
        if self.author and self.author.casefold() not in (author or "").casefold():
            return False
        if self.since or self.until:
            if not date:
                return False
            day = dt.date.fromisoformat(date)
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, numbered for citation (`n` starts at 1)."""

    n: int
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    chunk_id: str
    start: int  # offsets into the original article file: raw[start:end] holds the passage
    end: int
    text: str
    score: float  # fused score (hybrid) or the single retriever's score
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None  # cosine similarity to the question, when dense retrieval found it
    # Sentences: (start, end) in `text`, (start, end) in the raw file.
    sentences: tuple[tuple[int, int, int, int], ...] = field(default=(), repr=False, compare=False)
    author: str | None = None

    def renumbered(self, n: int) -> Passage:
        return replace(self, n=n)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["sentences"]
        return d


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed article: its metadata and how many chunks it has."""

    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    path: str  # the file it was ingested from
    sha256: str
    chunks: int
    author: str | None = None
    set_by_hand: tuple[str, ...] = ()  # which of outlet, date, author a person set (see `index.corrections`)


@dataclass(frozen=True)
class Document:
    """An indexed article with the text of its original file: `text[start:end]` is what a
    citation or passage with those offsets quotes."""

    info: DocumentInfo
    text: str


@dataclass(frozen=True)
class Quote:
    """A sentence (or a run of sentences) of a passage, located in the original file."""

    n: int  # the passage it is in
    doc_id: str
    start: int  # raw[start:end] holds the quote, as the file has it
    end: int
    text: str  # the cleaned text of that span (white space and mangled entities repaired)

    def overlaps(self, other: Quote) -> bool:
        """Same file, and the raw spans share a character."""
        return self.doc_id == other.doc_id and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Citation:
    """A passage cited by the answer, resolved to the sentence(s) that support the claim."""

    n: int
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    chunk_id: str
    start: int
    end: int
    quote: str
    supported: bool  # the quote backs at least one answer sentence that cites it
    author: str | None = None


@dataclass(frozen=True)
class Claim:
    """One sentence of the generated answer, with what it cites and whether that backs it."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    problems: tuple[str, ...] = ()  # why not supported, in words
    # the sentence(s) of each cited passage that back it, when supported: what its chips open
    # (two sentences citing one passage may rest on two of its sentences)
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What one article says on the question: its best sentences, chosen without an LLM."""

    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    citations: tuple[int, ...]
    quotes: tuple[Quote, ...]
    score: float
    stance: int = 0  # +1 / -1 on the question's axis (see `Conflict`), 0 when it takes no side


@dataclass(frozen=True)
class Side:
    position: str
    sign: int  # +1 for the first position of the axis ("stay"), -1 for the second ("leave")
    doc_ids: tuple[str, ...]
    citations: tuple[int, ...]
    quotes: tuple[Quote, ...] = ()  # the sentences taking this side, best first


@dataclass(frozen=True)
class Conflict:
    """Articles that take opposite sides of the question (e.g. "stay" vs "leave")."""

    axis: str
    sides: tuple[Side, ...]


@dataclass(frozen=True)
class Timings:
    retrieve_ms: float
    first_token_ms: float | None
    total_ms: float


@dataclass(frozen=True)
class Usage:
    """Tokens an LLM read (the prompt) and wrote for one answer, as its backend counted them."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Answer:
    """The verified answer and everything needed to show and check it."""

    question: str
    standalone_question: str
    answer: str  # supported sentences only, with [n] markers
    abstained: bool
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]
    evidence: tuple[Evidence, ...]
    conflicts: tuple[Conflict, ...]
    passages: tuple[Passage, ...]
    backend: str
    timings: Timings
    notes: tuple[str, ...] = ()
    usage: Usage | None = None  # None: no LLM wrote it (extractive), or its backend did not count

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `rag ask --json` and the HTTP API."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "claims": [asdict(c) for c in self.claims],
            "evidence": [
                {
                    "doc_id": e.doc_id,
                    "title": e.title,
                    "outlet": e.outlet,
                    "date": e.date,
                    "citations": list(e.citations),
                    "quotes": [asdict(q) for q in e.quotes],
                    "stance": e.stance,
                }
                for e in self.evidence
            ],
            "conflicts": [asdict(c) for c in self.conflicts],
            "passages": [p.to_dict() for p in self.passages],
            "backend": self.backend,
            "timings": asdict(self.timings),
            "notes": list(self.notes),
            "usage": asdict(self.usage) if self.usage else None,
        }


@dataclass(frozen=True)
class PassagesEvent:
    """First event of an answer stream: what was retrieved and what each source says."""

    passages: tuple[Passage, ...]
    evidence: tuple[Evidence, ...]
    conflicts: tuple[Conflict, ...]
    kind: Literal["passages"] = "passages"


@dataclass(frozen=True)
class TokenEvent:
    text: str
    kind: Literal["token"] = "token"


@dataclass(frozen=True)
class AnswerEvent:
    answer: Answer
    kind: Literal["answer"] = "answer"


Event = PassagesEvent | TokenEvent | AnswerEvent
