from __future__ import annotations

import pytest

from index.load import load, parse
from index.metadata import find_author, find_date, page_meta
from tests.conftest import FIXTURES, SEEDS

EXPECTED = {
    "000": ("Are US and Iran-Backed Militias Getting Friendlier?", "Niqash via Iraq Business News", None),
    "001": ("In Iraq, US ally with former Iran-backed enemies", "NJ Times", None),
    "002": (
        "Iran-backed militias working together to drive U.S. forces from Iraq",
        "Washington Times",
        "2020-01-03",
    ),
    "003": (
        "U.S. is helping train Iraqi militias historically tied to Iran",
        "Baghdadpost citing the Los Angeles Times",
        "2016-12-19",
    ),
    "004": ("Iraq Turns to Iran, Not US, to Help Fight Against ISIS", "Anti-Media", None),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_seed_metadata(key: str) -> None:
    path = next(SEEDS.glob(f"{key}_*.txt"))
    article = load(path)
    assert article.doc_id == path.stem
    assert (article.title, article.outlet, article.date) == EXPECTED[key]


def test_dates_in_the_story_are_not_publication_dates() -> None:
    # 003 mentions "Dec. 4" and "Oct. 17" in the body; 001 mentions "last year": none is a full date.
    article = parse("x", "Headline\n\nTroops arrived on March 3, 2015 in the city.\n")
    assert article.date is None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("January 3, 2020 » Today News", "2020-01-03"),
        ("Last Modified: Monday، 19 December 2016 11:27 PM", "2016-12-19"),
        ("Posted: 2019-07-04", "2019-07-04"),
        ("Sept. 9th, 2018", "2018-09-09"),
        ("February 30, 2020", None),
        ("in May of this year", None),
    ],
)
def test_find_date(text: str, iso: str | None) -> None:
    assert find_date(text) == iso


def test_date_line_becomes_metadata() -> None:
    article = parse("x", "Published: 12 March 2021\n\nHeadline here\n\nBody text of the story.")
    assert article.date == "2021-03-12"
    assert article.title == "Headline here"
    assert article.outlet is None


def test_seed_author_from_the_licence_line() -> None:
    authors = {p.name[:3]: load(p).author for p in sorted(SEEDS.glob("*.txt"))}
    assert authors == {"000": None, "001": None, "002": None, "003": None, "004": "Darius Shahtahmasebi"}


# file under tests/fixtures/pages → (title, outlet, date, author)
PAGES = {
    # JSON-LD NewsArticle: headline, datePublished, author list, publisher (inside an @graph).
    "jsonld.html": ("Dam reopens after repairs", "River Courier", "2018-06-04", "Leila Haddad, Tom Reyes"),
    # Open Graph and an author meta tag; the site name beats the <title>'s suffix.
    "opengraph.html": ("Market prices fall as harvest arrives", "Valley Herald", "2021-09-15", "Sam Okafor"),
    # <title> "Headline – Site" split where the headline is the <h1>; <time datetime>; a byline element.
    "time_byline.html": ("Bridge talks resume", "Northern Post", "2019-05-02", "Jane Doe"),
    # Text: a "By …" byline naming two people.
    "byline.txt": ("Council approves new budget", None, None, "Maria Lopez and Ahmed Karim"),
    # Markdown: "… writes".
    "writes.md": ("Floods reach the delta", None, None, "Patrick Cole"),
    # The author named in a Creative Commons licence line (which the cleaner removes).
    "licence.txt": ("Ports reopen after strike", None, None, "Nadia Petrova"),
    # "By then …" is no byline, and a paper that "writes" is no author.
    "by_then.txt": ("Troops leave the base", None, None, None),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_metadata(name: str) -> None:
    article = load(FIXTURES / "pages" / name)
    assert (article.title, article.outlet, article.date, article.author) == PAGES[name]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<title>Plain headline</title>", ("Plain headline", None, None, None)),
        # A dash inside a headline is not a site name: nothing says the tail is one.
        (
            "<title>Iraq turns to Iran - not the US</title>",
            ("Iraq turns to Iran - not the US", None, None, None),
        ),
        ('<meta property="article:author" content="https://example.org/people/x">', (None, None, None, None)),
        (
            '<time datetime="2020-02-30">bad</time><time datetime="2020-03-01">ok</time>',
            (None, None, "2020-03-01", None),
        ),
        ('<script type="application/ld+json">{not json</script>', (None, None, None, None)),
        (
            '<script type="application/ld+json">{"@type": ["NewsArticle"], "author": "By Ann Lee, Reporter",'
            ' "publisher": "Daily Star", "datePublished": "March 5, 2017"}</script>',
            (None, "Daily Star", "2017-03-05", "Ann Lee"),
        ),
        # An organisation as author is not a person.
        (
            '<script type="application/ld+json">'
            '{"@type": "NewsArticle", "author": {"name": "Reuters"}}</script>',
            (None, None, None, None),
        ),
    ],
)
def test_page_meta(html: str, expected: tuple[str | None, ...]) -> None:
    m = page_meta(html)
    assert (m.title, m.outlet, m.date, m.author) == expected


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("Headline\n\nBy Jane Doe\n\nBody.", "Jane Doe"),
        ("Headline\n\nBY JOHN SMITH, Associated Writer\n\nBody.", "JOHN SMITH"),
        ("Headline\n\nBy Jane Doe | March 3, 2021\n\nBody.", "Jane Doe"),
        ("Headline\n\nBy Monday the talks had ended.\n\nBody.", None),
        ("Headline\n\nBy Staff Writer\n\nBody.", None),
        ("Headline\n\nThe war is not over, writes Jane Doe.\n\nBody.", "Jane Doe"),
        ("Headline\n\nThe Washington Times writes that it is over.", None),
    ],
)
def test_find_author(text: str, author: str | None) -> None:
    assert find_author(text) == author
