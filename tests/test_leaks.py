"""What verification refuses whatever the citations say: links and images to hosts no cited passage
contains, and the prompt's own words (rag/leaks.py, used by rag.citations.verify)."""

from __future__ import annotations

import pytest

from rag.citations import verify
from rag.leaks import leak
from rag.prompts import SYSTEM_PROMPT
from tests.test_citations import passage

SOURCE = "The council met at the harbour office, see https://harbour.example.org/minutes for the record."


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("The council met at the harbour office [1].", None),
        ("The minutes are at https://harbour.example.org/minutes [1].", None),
        ("Read more at https://evil.example.com/x [1].", "links to evil.example.com"),
        ("See www.tracker.example for details [1].", "links to tracker.example"),
        ("![pixel](https://evil.example.com/p.png) The council met [1].", "links to evil.example.com"),
        ("![pixel](data:image/png;base64,AAAA) The council met [1].", "shows an image"),
        ("![pixel](/p.png) The council met [1].", "shows an image"),
        (" ".join(SYSTEM_PROMPT.split()[:9]) + " [1].", "repeats the instructions"),
    ],
)
def test_leaks(sentence: str, problem: str | None) -> None:
    got = leak(sentence, [SOURCE])
    assert (got is None) if problem is None else (got is not None and got.startswith(problem)), got


def test_a_leaking_sentence_is_never_supported() -> None:
    p = passage(1, "d1", SOURCE)
    ok, _ = verify("The council met at the harbour office [1].", [p])
    assert ok.supported
    bad, _ = verify("The council met at the harbour office https://evil.example.com/x [1].", [p])
    assert not bad.supported and any("evil.example.com" in x for x in bad.problems)
