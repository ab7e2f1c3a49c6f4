"""Constraints on what a model may write, as a llama.cpp grammar (GBNF) and as the same language
in a regular expression.

A backend passes a `Constraint` on in the form it can use: the openai backend sends the GBNF to a
llama.cpp server; the in-process backend decodes greedily, taking the likeliest token that keeps
the reply a prefix of `pattern` (llama-cpp-python's own grammar sampler checks all 152k tokens of
the vocabulary at every step: ~1.5 s a token on 2 cores, measured). With a cited-answer
constraint a small model cannot end a sentence without citing one of the numbers it was given,
nor write a fourth sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DONT_KNOW = "I don't know."
# Words written with a full stop that ends no sentence ("Col. Srud Barzanji", "on Oct. 17"): a
# cited sentence may hold them, so a model can copy a date or a title as the article writes it.
ABBREVIATIONS = (
    "Mr Mrs Ms Dr Prof Col Gen Lt Capt Maj Sgt Sen Rep Gov St "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
).split()


@dataclass(frozen=True)
class Constraint:
    """One language of replies, in two notations that must agree (tests/test_grammar.py)."""

    gbnf: str
    pattern: str  # a regular expression (`regex` module syntax) matching a whole reply


def _gbnf_alternatives(values: Iterable[str]) -> str:
    return " | ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in dict.fromkeys(values))


def _re_alternatives(values: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(v) for v in dict.fromkeys(values)) + ")"


def cited_answer(numbers: Iterable[int], max_sentences: int = 3) -> Constraint:
    """One to `max_sentences` sentences, each ending with one or two citations from `numbers`
    ("… [2][4]."); or exactly "I don't know."."""
    nums = [str(n) for n in sorted(set(numbers))]
    if not nums:
        raise ValueError("a cited answer needs at least one source number")
    more = " ".join(['(" " sentence)?'] * (max_sentences - 1))
    gbnf = "\n".join(
        [
            f'root ::= "{DONT_KNOW}" | sentence {more}',
            # A full stop inside a sentence only after a capital or a digit, "U.S. troops", "1.5"
            # (not "fighters.Source"), or an abbreviation: "Col. Barzanji", "Oct. 17".
            'sentence ::= (abbreviation | [A-Z]) body cite "."',
            r'body ::= ([^\[\]\n.!?] | [A-Z0-9] "." | abbreviation)+',
            f"abbreviation ::= {_gbnf_alternatives(a + '.' for a in ABBREVIATIONS)}",
            'cite ::= " [" num "]" ("[" num "]")?',
            f"num ::= {_gbnf_alternatives(nums)}",
        ]
    )
    num = _re_alternatives(nums)
    abbreviation = _re_alternatives(a + "." for a in ABBREVIATIONS)
    sentence = (
        rf"(?:{abbreviation}|[A-Z])(?:[^\[\]\n.!?]|[A-Z0-9]\.|{abbreviation})+ \[{num}\](?:\[{num}\])?\."
    )
    pattern = rf"{re.escape(DONT_KNOW)}|{sentence}(?: {sentence}){{0,{max_sentences - 1}}}"
    return Constraint(gbnf, pattern)


def choice(labels: Iterable[str]) -> Constraint:
    """Exactly one of `labels`."""
    return Constraint(f"root ::= {_gbnf_alternatives(labels)}", _re_alternatives(labels))


def number_list(numbers: Iterable[int], most: int = 3) -> Constraint:
    """Up to `most` of `numbers`, comma separated ("2, 5"), or "none"."""
    nums = [str(n) for n in sorted(set(numbers))]
    more = " ".join(['(", " num)?'] * (most - 1))
    gbnf = "\n".join([f'root ::= "none" | num {more}', f"num ::= {_gbnf_alternatives(nums)}"])
    num = _re_alternatives(nums)
    return Constraint(gbnf, rf"none|{num}(?:, {num}){{0,{most - 1}}}")
