"""Constraints: the GBNF and the regular expression describe the same replies (llama.cpp's own
grammar parser checks the GBNF), and streamed sentences are released as soon as they complete."""

from __future__ import annotations

import pytest
import regex

from rag.answer import completed_sentences
from rag.grammar import Constraint, choice, cited_answer, number_list

GOOD = [
    "I don't know.",
    "The PMF wants the Americans to go home [2].",
    "The U.S. trained 1.5 units [2][4]. Iraq disagreed [4].",
    "Ab [2]. Bc d [4]. De f [2].",
    "Col. Barzanji said it began on Oct. 17 [2].",  # abbreviations as the article writes them
]
BAD = [
    "The PMF wants the Americans to go home.",  # no citation
    "The PMF wants them home [3].",  # not a given number
    "Fighters.Source [2].",  # a full stop inside a word
    "It began in Octo. Then it ended [2].",  # no abbreviation: a sentence without a citation
    "Ab [2]. Bc [2]. Cd [2]. De [2].",  # a fourth sentence
    "I don't know",
]


def test_the_cited_answer_pattern() -> None:
    c = cited_answer([2, 4])
    for text in GOOD:
        assert regex.fullmatch(c.pattern, text), text
    for text in BAD:
        assert not regex.fullmatch(c.pattern, text), text
    assert regex.fullmatch(c.pattern, "The PMF [", partial=True)  # a prefix that can still end well
    with pytest.raises(ValueError):
        cited_answer([])


@pytest.mark.parametrize(
    "c", [cited_answer([2, 4]), choice(["stay", "leave", "neither"]), number_list([1, 3])]
)
def test_llama_cpp_parses_every_gbnf(c: Constraint) -> None:
    from llama_cpp import LlamaGrammar

    LlamaGrammar.from_string(c.gbnf, verbose=False)


def test_choice_and_number_list() -> None:
    assert regex.fullmatch(choice(["stay", "leave"]).pattern, "leave")
    assert not regex.fullmatch(choice(["stay", "leave"]).pattern, "go")
    assert regex.fullmatch(number_list([1, 3]).pattern, "1, 3")
    assert regex.fullmatch(number_list([1, 3]).pattern, "none")
    assert not regex.fullmatch(number_list([1, 3]).pattern, "2")


def test_sentences_are_released_when_the_next_begins() -> None:
    deltas = ["The PMF wants", " them home [2", "]. Iraq", " disagreed.", " [4]"]
    released = []
    seen = ""
    for sentence in completed_sentences(iter_with(deltas, lambda d: released.append(("delta", d)))):
        released.append(("sentence", sentence))
        seen = sentence
    assert seen == "Iraq disagreed [4]."  # a citation after the full stop moves before it
    order = [kind if kind == "sentence" else value for kind, value in released]
    # The first sentence comes out once " Iraq" has arrived, before the rest is generated.
    assert order.index("sentence") == order.index("]. Iraq") + 1
    assert [v for k, v in released if k == "sentence"] == [
        "The PMF wants them home [2].",
        "Iraq disagreed [4].",
    ]


def iter_with(items: list[str], on_each: object) -> object:
    for item in items:
        on_each(item)  # type: ignore[operator]
        yield item
