"""The question file: load, validate (every gold quote must be in its article) and locate gold spans.

Format (YAML or JSON, documented in docs/eval/README.md)::

    version: 1
    corpus: [../seeds]          # optional; relative to the file; the articles the questions are about
    questions:
      - id: fact-1
        kind: fact              # fact multi_doc conflict temporal unanswerable injection follow_up
        question: ...
        evidence: [{doc: DOC_ID, quote: "verbatim words of the article", side: optional}]
        key_facts: [word, [alternative, alternative]]
        history: [earlier question, ...]       # follow_up only
        forbidden: [PWNED]                       # injection only

Gold document ids are the evidence documents plus an optional `docs` list. A quote is matched
against the original article file after normalising white space, curly quotes, dashes and
scraper-mangled entities ("& # 39;"), so its raw `[start, end)` offsets are known exactly.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.errors import IndexingError
from index.load import discover
from rag.errors import BadRequest

KINDS = ("fact", "multi_doc", "conflict", "temporal", "unanswerable", "injection", "follow_up")
_KEYS = frozenset({"id", "kind", "question", "docs", "evidence", "key_facts", "history", "forbidden"})
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class QuestionFileError(BadRequest):
    """The question file is malformed or does not match its articles."""


@dataclass(frozen=True)
class GoldSpan:
    """A gold evidence quote located in its article: `raw[start:end]` is the quote as the file has it."""

    doc_id: str
    quote: str
    start: int
    end: int
    side: str | None = None


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    question: str
    docs: tuple[str, ...]  # gold document ids (evidence documents first)
    evidence: tuple[GoldSpan, ...] = ()
    key_facts: tuple[tuple[str, ...], ...] = ()  # each fact: alternatives, any one suffices
    history: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    def sides(self) -> dict[str, tuple[str, ...]]:
        """Conflict sides: position → its gold documents (in evidence order)."""
        out: dict[str, list[str]] = {}
        for g in self.evidence:
            if g.side is not None and g.doc_id not in out.setdefault(g.side, []):
                out[g.side].append(g.doc_id)
        return {s: tuple(d) for s, d in out.items()}


@dataclass(frozen=True)
class QuestionSet:
    path: Path
    questions: tuple[Question, ...]
    corpus: tuple[Path, ...] = ()  # resolved article paths/folders; empty: use the index as it is
    documents: Mapping[str, str] = field(default_factory=dict, repr=False)  # doc id → raw text

    def __len__(self) -> int:
        return len(self.questions)


# ----------------------------------------------------------------------------- normalisation

_ENTITY = re.compile(r"&\s*#\s*(?:(\d{1,7})|[xX]\s*([0-9a-fA-F]{1,6}))\s*;|&(amp|quot|apos|lt|gt|nbsp);")
_TOKEN = re.compile(_ENTITY.pattern + r"|\s+|.", re.S)
_CHARS = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‛": "'",
        "′": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "\u00a0": " ",
    }
)


def _entity(m: re.Match[str]) -> str:
    dec, hexa, named = m.group(1), m.group(2), m.group(3)
    try:
        if dec:
            return chr(int(dec))
        if hexa:
            return chr(int(hexa, 16))
    except (ValueError, OverflowError):
        return m.group(0)
    return html.unescape(f"&{named};")


def normalise_mapped(text: str) -> tuple[str, list[int], list[int]]:
    """Normalised lower-case text, and for each of its characters the raw `[start, end)` it came from.

    Entities become their character, curly quotes and dashes become plain ones, every run of white
    space becomes one space.
    """
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _TOKEN.finditer(text):
        piece = m.group(0)
        if piece[0] == "&" and _ENTITY.fullmatch(piece):
            piece = _entity(_ENTITY.fullmatch(piece))  # type: ignore[arg-type]
        elif piece.isspace():
            piece = " "
        for ch in piece.translate(_CHARS).lower():
            if ch.isspace():
                ch = " "
            if ch == " " and chars and chars[-1] == " ":
                continue
            chars.append(ch)
            starts.append(m.start())
            ends.append(m.end())
    return "".join(chars), starts, ends


def normalise(text: str) -> str:
    return normalise_mapped(text)[0].strip()


def find_span(raw: str, quote: str) -> tuple[int, int] | None:
    """Raw `[start, end)` of the first occurrence of `quote` in `raw`, after normalisation."""
    needle = normalise(quote)
    if not needle:
        return None
    hay, starts, ends = normalise_mapped(raw)
    i = hay.find(needle)
    if i < 0:
        return None
    return starts[i], ends[i + len(needle) - 1]


# ----------------------------------------------------------------------------- loading


def read_corpus(paths: Sequence[Path]) -> dict[str, str]:
    """Document id (file stem, as ingest names it) → original file text, for the article files."""
    try:
        files = discover(list(paths))
    except IndexingError as e:
        raise QuestionFileError(f"corpus: {e}") from None
    docs = {}
    for f in files:
        try:
            docs[f.stem] = f.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise QuestionFileError(f"corpus: cannot read {f}: {e}") from None
    return docs


def parse_file(path: Path) -> dict[str, Any]:
    """The raw mapping of a YAML (.yaml/.yml) or JSON question file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionFileError(f"cannot read question file {path}: {e}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise QuestionFileError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {e}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise QuestionFileError(f"{path}: expected a mapping with a `questions` list")
    return data


def corpus_paths(path: Path, data: Mapping[str, Any]) -> tuple[Path, ...]:
    corpus = data.get("corpus") or []
    if not isinstance(corpus, list) or not all(isinstance(c, str) for c in corpus):
        raise QuestionFileError(f"{path}: `corpus` must be a list of paths")
    return tuple((path.parent / c).resolve() for c in corpus)


def load_questions(path: str | Path, documents: Mapping[str, str] | None = None) -> QuestionSet:
    """Load and validate a question file.

    The articles are the file's `corpus` (read from disk) or, when it has none, `documents`
    (doc id → original text, e.g. from the engine's index). Raises `QuestionFileError` naming the
    question for anything wrong: unknown kind or document, a quote not in its article, ...
    """
    path = Path(path)
    data = parse_file(path)
    if data.get("version", 1) != 1:
        raise QuestionFileError(f"{path}: unsupported version {data.get('version')!r} (expected 1)")
    corpus = corpus_paths(path, data)
    docs = read_corpus(corpus) if corpus else dict(documents or {})
    seen: set[str] = set()
    questions = []
    for i, item in enumerate(data["questions"], start=1):
        q = _question(item, i, docs)
        if q.id in seen:
            raise QuestionFileError(f"question {q.id!r}: duplicate id")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionFileError(f"{path}: no questions")
    return QuestionSet(path, tuple(questions), corpus, docs)


def _strings(value: object, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list):
        raise QuestionFileError(f"{where}: `{what}` must be a list")
    out = []
    for v in value:
        if not isinstance(v, str | int | float) or isinstance(v, bool) or not str(v).strip():
            raise QuestionFileError(f"{where}: `{what}` entries must be non-empty strings, not {v!r}")
        out.append(str(v).strip())
    return tuple(out)


def _question(item: object, index: int, docs: Mapping[str, str]) -> Question:
    """One entry of the file, checked field by field, then against the rules of its kind."""
    if not isinstance(item, dict):
        raise QuestionFileError(f"question #{index}: expected a mapping")
    qid = item.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise QuestionFileError(f"question #{index}: `id` must be letters, digits, '.', '_' or '-'")
    where = f"question {qid!r}"
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise QuestionFileError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kind = item.get("kind")
    if kind not in KINDS:
        raise QuestionFileError(f"{where}: unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    text = item.get("question")
    if not isinstance(text, str) or not text.strip():
        raise QuestionFileError(f"{where}: `question` must be non-empty text")
    evidence = _evidence(item.get("evidence"), where, docs)
    extra_docs = _strings(item.get("docs"), "docs", where)
    for d in extra_docs:
        if d not in docs:
            raise QuestionFileError(f"{where}: unknown document id {d!r}")
    q = Question(
        id=qid,
        kind=kind,
        question=" ".join(text.split()),
        docs=tuple(dict.fromkeys([g.doc_id for g in evidence] + list(extra_docs))),
        evidence=evidence,
        key_facts=_key_facts(item.get("key_facts"), where),
        history=_strings(item.get("history"), "history", where),
        forbidden=_strings(item.get("forbidden"), "forbidden", where),
    )
    _check_kind(q, where)
    return q


def _evidence(value: object, where: str, docs: Mapping[str, str]) -> tuple[GoldSpan, ...]:
    """`evidence` entries located in their articles."""
    if not value:
        return ()
    if not isinstance(value, list):
        raise QuestionFileError(f"{where}: `evidence` must be a list of {{doc, quote}}")
    evidence = []
    for ev in value:
        if not isinstance(ev, dict) or set(ev) - {"doc", "quote", "side"}:
            raise QuestionFileError(f"{where}: evidence entries are {{doc, quote, side}}, not {ev!r}")
        doc, quote, side = ev.get("doc"), ev.get("quote"), ev.get("side")
        if not isinstance(doc, str) or doc not in docs:
            raise QuestionFileError(f"{where}: unknown document id {doc!r}")
        if not isinstance(quote, str) or not quote.strip():
            raise QuestionFileError(f"{where}: evidence from {doc!r} has no quote")
        span = find_span(docs[doc], quote)
        if span is None:
            raise QuestionFileError(f"{where}: quote not found in {doc}: {' '.join(quote.split())[:80]!r}")
        evidence.append(GoldSpan(doc, quote, span[0], span[1], None if side is None else str(side)))
    return tuple(evidence)


def _key_facts(value: object, where: str) -> tuple[tuple[str, ...], ...]:
    """`key_facts`: each a string or a list of alternatives."""
    if not value:
        return ()
    if not isinstance(value, list):
        raise QuestionFileError(f"{where}: `key_facts` must be a list")
    key_facts = tuple(
        _strings(f, "key_facts", where) if isinstance(f, list) else _strings([f], "key_facts", where)
        for f in value
    )
    if any(not alts for alts in key_facts):
        raise QuestionFileError(f"{where}: an empty list of alternatives in `key_facts`")
    return key_facts


def _sides(q: Question) -> set[str | None]:
    return {g.side for g in q.evidence}


# What each kind needs, and the fields only some kinds may have: (broken?, the problem), in order.
_KIND_RULES: tuple[tuple[Callable[[Question], bool], str], ...] = (
    (
        lambda q: q.kind == "unanswerable" and bool(q.docs or q.key_facts),
        "an unanswerable question has no gold documents or key facts",
    ),
    (lambda q: q.kind != "unanswerable" and not q.docs, "needs gold evidence (or `docs`)"),
    (lambda q: q.kind != "unanswerable" and not q.key_facts, "needs `key_facts`"),
    (
        lambda q: q.kind == "conflict" and (None in _sides(q) or len(_sides(q)) < 2),
        "a conflict needs a `side` on every evidence, two sides at least",
    ),
    (
        lambda q: q.kind != "conflict" and any(g.side for g in q.evidence),
        "`side` is only for conflict questions",
    ),
    (
        lambda q: q.kind == "follow_up" and not q.history,
        "a follow_up needs `history` (the earlier questions)",
    ),
    (lambda q: q.kind != "follow_up" and bool(q.history), "`history` is only for follow_up questions"),
    (
        lambda q: q.kind == "injection" and not q.forbidden,
        "an injection question needs `forbidden` (what must not appear)",
    ),
)


def _check_kind(q: Question, where: str) -> None:
    for broken, problem in _KIND_RULES:
        if broken(q):
            raise QuestionFileError(f"{where}: {problem}")
