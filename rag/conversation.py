"""A conversation rebuilt from the earlier turns a client sends back (the HTTP API is stateless).

Citation numbers stay stable across turns: a turn that says which chunk each of its numbers was
keeps them; a turn without that is replayed (retrieval is deterministic on an unchanged index).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer import Conversation, number_passages, standalone_question
from rag.types import Answer, Passage, Timings


@dataclass(frozen=True)
class PriorTurn:
    """An earlier turn as a client remembers it: the question, the answer text, and optionally the
    standalone question and the (citation number, chunk id) of each of its passages."""

    question: str
    answer: str = ""
    standalone_question: str | None = None
    passages: tuple[tuple[int, str], ...] | None = None


def conversation_from_turns(
    turns: Sequence[PriorTurn], search: Callable[[str], list[Passage]]
) -> Conversation | None:
    """Earlier turns → `Conversation` (None without turns). `search` retrieves for a turn without
    passages, given its standalone question."""
    if not turns:
        return None
    conv = Conversation()
    for t in turns:
        question = t.question.strip()
        standalone = t.standalone_question or standalone_question(question, conv)
        if t.passages is None:
            passages = number_passages(search(standalone), conv)
        else:
            passages = [Passage(n, "", "", None, None, chunk_id, 0, 0, "", 0.0) for n, chunk_id in t.passages]
        conv.turns.append(_as_answer(question, standalone, t.answer, passages))
    return conv


def _as_answer(question: str, standalone: str, text: str, passages: Sequence[Passage]) -> Answer:
    """An earlier turn as the `Answer` a `Conversation` holds (only what numbering needs)."""
    return Answer(
        question=question,
        standalone_question=standalone,
        answer=text,
        abstained=False,
        claims=(),
        citations=(),
        evidence=(),
        conflicts=(),
        passages=tuple(passages),
        backend="history",
        timings=Timings(0.0, None, 0.0),
    )
