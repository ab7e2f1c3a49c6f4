"""Sentence-aware chunks with sentence overlap, each mapped back to the raw file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from index.load import Article
from index.text import MappedText

# Tokens that end with a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sen rep gov gen col lt capt sgt maj adm cmdr st jr sr vs etc inc ltd co corp no  "
        "fig jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m"
    ).split()
)
# Part of every indexed file's stamp: bump it when the same text would be chunked differently.
CHUNKER_VERSION = 2
_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n\s*")
_LAST_WORD = re.compile(r"[A-Za-z.]+$")
# Longer than any abbreviation: only this much text before a full stop decides whether it is one.
_WORD_WINDOW = 64
# A sentence (and so a quote) never exceeds this many characters: a line without punctuation is
# cut at white space near the bound. Real sentences in news text are far shorter.
MAX_SENTENCE_CHARS = 2000


@dataclass(frozen=True)
class Sentence:
    """A sentence as a span of the cleaned text and of the raw file."""

    start: int  # cleaned text
    end: int
    raw_start: int
    raw_end: int


@dataclass(frozen=True)
class Chunk:
    """A passage of an article: cleaned text plus its span in the raw file."""

    chunk_id: str
    doc_id: str
    start: int  # raw file offsets: article.raw[start:end] holds the passage (and any line dropped inside)
    end: int
    text: str  # cleaned text of the passage
    sentences: tuple[Sentence, ...]  # offsets relative to the article's cleaned text


def _is_abbreviation(text: str, dot: int) -> bool:
    # A bounded window: searching all of text[:dot] made splitting quadratic in article length.
    word = _LAST_WORD.search(text, max(0, dot - _WORD_WINDOW), dot)
    if not word:
        return False
    token = word.group(0).lower().rstrip(".")
    # Single letters are initials ("Douglas J. Silliman").
    return token in _ABBREVIATIONS or len(token) == 1


def _bounded(s: str, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """`[a, b)` cut into pieces of at most `limit` characters, at the last white space if any."""
    pieces = []
    while b - a > limit:
        cut = s.rfind(" ", a + limit // 2, a + limit)
        cut = cut + 1 if cut > a else a + limit
        pieces.append((a, cut))
        a = cut
    pieces.append((a, b))
    return pieces


def split_sentences(text: MappedText, *, max_chars: int = MAX_SENTENCE_CHARS) -> list[Sentence]:
    """Sentence spans of the cleaned text; paragraph and line breaks always end a sentence.

    A sentence longer than `max_chars` is cut into pieces of at most that length.
    """
    s = text.text
    spans: list[tuple[int, int]] = []
    begin = 0
    for m in _END.finditer(s):
        if m.group(0).startswith((".",)) and "\n" not in m.group(0) and _is_abbreviation(s, m.start()):
            continue
        nxt = s[m.end() : m.end() + 2].lstrip()
        if not m.group(0).startswith("\n") and nxt and nxt[0].islower():
            continue  # "… the U.S. military said" mid-sentence lowercase continuation
        spans.append((begin, m.end()))
        begin = m.end()
    spans.append((begin, len(s)))
    out = []
    for a, b in (p for span in spans for p in _bounded(s, *span, max_chars)):
        piece = s[a:b]
        a2 = a + len(piece) - len(piece.lstrip())
        b2 = a + len(piece.rstrip())
        if b2 > a2:
            out.append(Sentence(a2, b2, *text.raw_span(a2, b2)))
    return out


def _words(text: MappedText, sent: Sentence) -> int:
    return len(text.text[sent.start : sent.end].split())


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """Stable id: the same span of the same text always gets the same id."""
    digest = hashlib.sha256(f"{doc_id}\x1f{start}\x1f{end}\x1f{text}".encode()).hexdigest()
    return f"{doc_id}:{digest[:16]}"


def chunk(article: Article, *, max_words: int = 200, min_words: int = 100, overlap: int = 1) -> list[Chunk]:
    """Split an article into passages of about `min_words`..`max_words` words.

    Sentences are never cut (one longer than `max_words` becomes its own chunk); consecutive chunks
    share `overlap` sentences; a short tail is folded into the chunk before it.
    """
    if not 0 < min_words <= max_words:
        raise ValueError("need 0 < min_words <= max_words")
    text = article.text
    sents = split_sentences(text)
    if not sents:
        return []
    counts = [_words(text, s) for s in sents]
    ranges: list[tuple[int, int]] = []
    i = 0
    while i < len(sents):
        j, words = i, 0
        while j < len(sents) and (words < min_words or words + counts[j] <= max_words):
            if words and words + counts[j] > max_words:
                break
            words += counts[j]
            j += 1
        ranges.append((i, j))
        if j >= len(sents):
            break
        i = max(j - overlap, i + 1)
    if len(ranges) > 1:
        prev_end = ranges[-2][1]
        fresh = sum(counts[prev_end : ranges[-1][1]])
        merged = sum(counts[ranges[-2][0] : ranges[-1][1]])
        if fresh < min_words // 2 and merged <= max_words + min_words // 2:
            ranges[-2:] = [(ranges[-2][0], ranges[-1][1])]
    chunks = []
    for a, b in ranges:
        part = sents[a:b]
        start, end = part[0].raw_start, part[-1].raw_end
        body = text.text[part[0].start : part[-1].end]
        chunks.append(
            Chunk(chunk_id(article.doc_id, start, end, body), article.doc_id, start, end, body, tuple(part))
        )
    return chunks
