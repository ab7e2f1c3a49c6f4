"""What `start`/`end` promise (README): `raw[start:end]` is the smallest span of the original file
holding the passage or quote. Inside a passage it may also hold lines the cleaner dropped (an ad, a
syndication note); inside one sentence it never does, because a dropped line is a whole line and a
line break ends a sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.chunk import chunk
from index.clean import clean
from index.load import KINDS, Article, discover, load, parse
from tests.conftest import FIXTURES, SEEDS


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _in_order(small: str, big: str) -> bool:
    rest = iter(big)
    return all(c in rest for c in small)


ARTICLES = [load(path) for path in discover([SEEDS, FIXTURES])]


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.doc_id)
def test_the_raw_span_holds_the_passage_and_no_sentence_holds_a_dropped_line(article: Article) -> None:
    removed = clean(article.raw, kind=KINDS[Path(article.path).suffix.lower()]).removed
    for c in chunk(article):
        # Entities and white space are spelled differently in the file: compare letters and digits.
        assert _in_order(_alnum(c.text), _alnum(article.raw[c.start : c.end])), c.chunk_id
        for s in c.sentences:
            assert c.start <= s.raw_start < s.raw_end <= c.end
            assert _in_order(
                _alnum(article.text.text[s.start : s.end]), _alnum(article.raw[s.raw_start : s.raw_end])
            )
            inside = [r for r in removed if s.raw_start < r.end and r.start < s.raw_end]
            assert not inside, (c.chunk_id, inside)


def test_a_dropped_line_between_sentences_is_inside_the_passage_span_only() -> None:
    raw = (
        "Troops will stay in the north, the ministry said on Monday.\n"
        "Advertisement\n"
        "Officials expect the decision to hold for at least a year.\n"
    )
    article = parse("doc", raw)
    [c] = chunk(article, max_words=50, min_words=5)
    assert "Advertisement" in raw[c.start : c.end]
    assert "Advertisement" not in c.text
    assert [raw[s.raw_start : s.raw_end] for s in c.sentences] == [
        "Troops will stay in the north, the ministry said on Monday.",
        "Officials expect the decision to hold for at least a year.",
    ]
