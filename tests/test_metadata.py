from __future__ import annotations

import pytest

from index.load import load, parse
from index.metadata import find_date
from tests.conftest import SEEDS

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
