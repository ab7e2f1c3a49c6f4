"""What the cleaner removes from, and keeps in, each seed article."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.clean import clean, is_breadcrumb
from tests.conftest import SEEDS

SEED = {p.name[:3]: p for p in SEEDS.glob("*.txt")}


def _clean(key: str):  # type: ignore[no-untyped-def]
    raw = Path(SEED[key]).read_text(encoding="utf-8")
    return raw, clean(raw)


# (seed, reason, start of removed text)
REMOVED = {
    "000": [
        ("syndication boilerplate", "This article was originally published by Niqash"),
        ("site chrome", "4 Responses to Are US and Iran-Backed Militias"),
    ],
    "001": [
        ("foreign-script line", "قالب وردپرس"),
        ("site chrome", "Home / World / In Iraq"),
        ("outlet signature", "NJ Times"),
        ("site chrome", "Source link"),
    ],
    "002": [
        ("site chrome", "Skip to Content"),
        ("site chrome", "January 3, 2020 » Today News »"),
        ("repeated line", "Iran-backed militias working together"),
        ("site chrome", "Affected Countries: iraq"),
        ("site chrome", "Source: Washington Times"),
    ],
    "003": [
        ("site chrome", "Iraq News - Local News - Baghdadpost"),
        ("site chrome", "Last Modified: Monday"),
    ],
    "004": [
        ("advertising", "We're revolutionizing the news industry"),
        ("syndication boilerplate", "This article (Iraq Turns to Iran"),
    ],
}

KEPT = {
    "000": [
        "Are US and Iran-Backed Militias Getting Friendlier?",
        "“It's a miracle,” al-Saadi said.",
        "have not been repeated again.",
    ],
    "001": [
        "he and other former Shiites wanted the Americans to stay",
        "After regular IS forces collapsed in 2014,",
        "' Iraq needs the USA '",
        "taking a chance\n",
        "the military partnership is likely to continue.",
    ],
    "002": [
        "Iran-backed militias working together to drive U.S. forces from Iraq",
        "it is time for the Americans to go home",
        "Six died, and 31 people",
    ],
    "003": [
        "U.S. is helping train Iraqi militias historically tied to Iran",
        "at least 40 of the militias",
        "80,000 to 100,000 active members",
        "agreed to have up to 900 new fighters trained",
    ],
    "004": ["(ANTIMEDIA) Iraq is set to launch", "receiving $1 billion", "it was the Iranian government."],
}

GONE = {
    "000": ["Responses to", "originally published"],
    "001": ["Source link", "NJ Times", "& # 39;", "201\n\n4", "Home / World", "]"],
    "002": ["Skip to Content", "Affected Countries", "Source: Washington Times", "\u00bb"],
    "003": ["Baghdadpost", "Last Modified", "\u00a0"],
    "004": ["revolutionizing", "Click here", "republish", "\u00a0"],
}


@pytest.mark.parametrize("key", sorted(SEED))
def test_removed_pieces_with_reasons_and_raw_spans(key: str) -> None:
    raw, cleaned = _clean(key)
    got = [(r.reason, r.text) for r in cleaned.removed]
    assert len(got) == len(REMOVED[key]), got
    for (reason, text), (want_reason, want_start) in zip(got, REMOVED[key], strict=True):
        assert reason == want_reason
        assert text.startswith(want_start)
    for r in cleaned.removed:
        assert " ".join(raw[r.start : r.end].split()) == r.text  # the raw span, white space aside


@pytest.mark.parametrize("key", sorted(SEED))
def test_article_text_is_kept(key: str) -> None:
    _, cleaned = _clean(key)
    for piece in KEPT[key]:
        assert piece in cleaned.text.text, piece
    for piece in GONE[key]:
        assert piece not in cleaned.text.text, piece


def test_title_appears_once_after_deduplication() -> None:
    _, cleaned = _clean("002")
    assert (
        cleaned.text.text.count("Iran-backed militias working together to drive U.S. forces from Iraq") == 1
    )


def test_long_paragraph_mentioning_click_here_is_article_text() -> None:
    para = (
        "The minister said "
        + "the offer stood for weeks, " * 20
        + "and critics told readers to click here for nothing."
    )
    assert para in clean(f"Title\n\n{para}\n").text.text


def test_breadcrumbs() -> None:
    assert is_breadcrumb("Home / World / Some headline")
    assert is_breadcrumb("Iraq News - Local News - Baghdadpost")
    assert is_breadcrumb("January 3, 2020 » Today News »")
    assert not is_breadcrumb("Iraq Turns to Iran, Not US, to Help Fight Against ISIS")
    assert not is_breadcrumb("A sentence - with a dash - that ends properly.")


def test_html_is_stripped_with_offsets_into_the_markup() -> None:
    raw = (
        "<html><head><style>p{}</style></head>"
        "<body><h1>Big &amp; Bold</h1><p>First para.</p><p>Second</p></body></html>"
    )
    cleaned = clean(raw, kind="html")
    assert cleaned.text.text == "Big & Bold\n\nFirst para.\n\nSecond"
    i = cleaned.text.text.index("First para.")
    a, b = cleaned.text.raw_span(i, i + len("First para."))
    assert raw[a:b] == "First para."


def test_markdown_markup_is_stripped_with_exact_offsets() -> None:
    raw = "# The Headline\n\nSee **the report** by [Human Rights Watch](https://hrw.org/x).\n\n---\n\nEnd."
    cleaned = clean(raw, kind="markdown")
    assert cleaned.text.text == "The Headline\n\nSee the report by Human Rights Watch.\n\nEnd."
    i = cleaned.text.text.index("Human Rights Watch")
    a, b = cleaned.text.raw_span(i, i + len("Human Rights Watch"))
    assert raw[a:b] == "Human Rights Watch"
