"""Chunks: sentence-aware, overlapping, stable ids, and offsets that point into the raw file."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from index.chunk import chunk, split_sentences
from index.load import load, parse
from tests.conftest import SEEDS

SEED_FILES = sorted(SEEDS.glob("*.txt"))


def _same_text(raw_span: str, text: str) -> bool:
    """The raw span says the same as the cleaned text, up to white space, entities and a number
    split across a paragraph break (an independent oracle for the cleaner's mapping)."""

    def norm(s: str) -> str:
        s = re.sub(r"&\s*#\s*(\d+)\s*;", lambda m: chr(int(m.group(1))), s)
        s = " ".join(html.unescape(s).split())
        return re.sub(r"(?<=\d) (?=\d)", "", s)

    return norm(raw_span) == norm(text)


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_every_sentence_maps_back_to_its_raw_span(path) -> None:  # type: ignore[no-untyped-def]
    article = load(path)
    for c in chunk(article):
        for s in c.sentences:
            assert _same_text(article.raw[s.raw_start : s.raw_end], article.text.text[s.start : s.end])
        assert article.raw[c.start : c.end].startswith(
            article.raw[c.sentences[0].raw_start : c.sentences[0].raw_end]
        )
        first, last = c.sentences[0], c.sentences[-1]
        assert (c.start, c.end) == (first.raw_start, last.raw_end)


def test_most_chunks_are_verbatim_slices_of_the_file() -> None:
    article = load(next(SEEDS.glob("002_*.txt")))
    verbatim = [c for c in chunk(article) if article.raw[c.start : c.end] == c.text]
    assert len(verbatim) >= 1


def test_split_number_maps_to_both_halves() -> None:
    article = load(next(SEEDS.glob("001_*.txt")))
    sent = next(
        s for s in split_sentences(article.text) if "collapsed in 2014" in article.text.text[s.start : s.end]
    )
    raw = article.raw[sent.raw_start : sent.raw_end]
    assert "collapsed in 201\n\n4, a coalition" in raw


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name[:3])
def test_chunks_cover_every_sentence_with_one_sentence_overlap(path) -> None:  # type: ignore[no-untyped-def]
    article = load(path)
    chunks = chunk(article, max_words=200, min_words=100, overlap=1)
    sents = split_sentences(article.text)
    covered = {(s.start, s.end) for c in chunks for s in c.sentences}
    assert covered == {(s.start, s.end) for s in sents}
    for a, b in itertools.pairwise(chunks):
        assert a.sentences[-1] == b.sentences[0]
    for c in chunks:
        words = len(c.text.split())
        # The tail fold may push the last chunk past max_words by less than min_words / 2.
        assert words <= 200 + 50 or len(c.sentences) == 1


def test_chunk_ids_are_stable_and_depend_on_text() -> None:
    article = load(SEED_FILES[0])
    assert [c.chunk_id for c in chunk(article)] == [c.chunk_id for c in chunk(load(SEED_FILES[0]))]
    edited = parse(article.doc_id, article.raw.replace("very happy", "very glad"))
    assert chunk(edited)[0].chunk_id != chunk(article)[0].chunk_id
    assert all(c.chunk_id.startswith(article.doc_id + ":") for c in chunk(article))


def test_sentence_splitter_respects_abbreviations_and_initials() -> None:
    article = parse("x", "Col. Srud Barzanji met U.S. Ambassador Douglas J. Silliman. They talked. It ended.")
    texts = [article.text.text[s.start : s.end] for s in split_sentences(article.text)]
    assert texts == [
        "Col. Srud Barzanji met U.S. Ambassador Douglas J. Silliman.",
        "They talked.",
        "It ended.",
    ]


def test_a_sentence_longer_than_max_words_is_its_own_chunk() -> None:
    long = "Many " + " ".join(["word"] * 299) + "."
    article = parse("x", f"Short one. {long} Another short one.")
    chunks = chunk(article, max_words=50, min_words=20, overlap=0)
    assert any(len(c.sentences) == 1 and len(c.text.split()) == 300 for c in chunks)


def test_empty_article_has_no_chunks() -> None:
    assert chunk(parse("x", "Skip to Content\n\nSource link\n")) == []


def test_chunking_is_linear_in_article_length() -> None:
    import time

    raw = "Title\n\n" + "\n\n".join(  # about 300 KB of distinct paragraphs, abbreviations throughout
        " ".join(
            f"Mr. Smith met Dr. Jones in the U.S. on day {p}-{i}. They talked at length." for i in range(40)
        )
        for p in range(110)
    )
    assert len(raw) > 300_000
    article = parse("big", raw)
    t0 = time.perf_counter()
    chunks = chunk(article)
    assert time.perf_counter() - t0 < 1.0
    assert len(chunks) > 100


def test_a_line_without_punctuation_is_cut_into_bounded_sentences() -> None:
    from index.chunk import MAX_SENTENCE_CHARS

    raw = "Title\n\n" + " ".join(["word"] * 200_000)  # 1 MB, no full stop anywhere
    article = parse("flood", raw)
    sents = split_sentences(article.text)
    assert len(sents) > 500
    assert max(s.end - s.start for s in sents) <= MAX_SENTENCE_CHARS
    # Cut at white space: every piece is whole words, and together they cover the text.
    assert all(article.text.text[s.start : s.end].split()[-1] == "word" for s in sents[1:])
    assert sum(len(article.text.text[s.start : s.end].split()) for s in sents) == 1 + 200_000
    chunks = chunk(article)
    assert max(len(c.text) for c in chunks) < 10_000  # no chunk holds the whole line


def test_a_word_longer_than_the_bound_is_cut_anyway() -> None:
    sents = split_sentences(parse("x", "x" * 5000).text, max_chars=1000)
    assert [s.end - s.start for s in sents] == [1000] * 5
