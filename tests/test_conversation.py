"""The core pieces the HTTP edge used to do itself: a conversation rebuilt from a client's turns,
and filters built from what a person typed."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.conversation import PriorTurn, conversation_from_turns
from rag.errors import BadRequest
from rag.types import Filters, Passage


def _passage(chunk_id: str) -> Passage:
    return Passage(1, "doc", "Title", None, None, chunk_id, 0, 10, "text", 1.0)


def test_turns_with_passages_keep_their_numbers_and_new_ones_continue() -> None:
    searched: list[str] = []

    def search(q: str) -> list[Passage]:
        searched.append(q)
        return [_passage("c3"), _passage("c9")]

    turns = [
        PriorTurn("Who leads the PMF?", "Someone [1][2].", passages=((1, "c1"), (2, "c3"))),
        PriorTurn("Did they want them to stay?"),
    ]
    conv = conversation_from_turns(turns, search)
    assert conv is not None
    assert conv.numbering() == {"c1": 1, "c3": 2, "c9": 3}  # c3 keeps 2, c9 gets the next free number
    # The follow-up is replayed with the question it stood for, not its bare words.
    assert searched == ["Did they want them to stay? (follow-up to: Who leads the PMF?)"]
    assert conversation_from_turns([], search) is None


def test_filters_parse_dates_and_check_the_range() -> None:
    f = Filters.parse(" Times ", "2020-02", "2020-02")
    assert f == Filters("Times", dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert not Filters.parse("", " ", None)
    with pytest.raises(BadRequest, match=r"^--since must be a date"):
        Filters.parse(since="last week", label="--")
    with pytest.raises(BadRequest, match=r"^filters\.since is after filters\.until$"):
        Filters.parse(since="2021", until="2020", label="filters.")
    with pytest.raises(BadRequest, match="after"):
        Filters(since=dt.date(2021, 1, 1), until=dt.date(2020, 1, 1))
