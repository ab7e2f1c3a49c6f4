"""What the routers share: the engine and settings of the app, the request limits, the request
models used by more than one router, and server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rag.conversation import PriorTurn
from rag.settings import Settings
from rag.types import Filters
from rag.wiring import Engine
from ui.api.errors import ApiError

T = TypeVar("T")


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# The app's built engine and its settings (set by `create_app`), for handlers to declare.
EngineDep = Annotated[Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]


def question_of(text: str, settings: Settings) -> str:
    """The question stripped, or a 422 when it is empty or too long."""
    q = text.strip()
    if not q:
        raise ApiError(422, "the question is empty")
    if len(q) > settings.max_question_chars:
        raise ApiError(
            422, f"the question is {len(q)} characters long; the limit is {settings.max_question_chars}"
        )
    return q


class FiltersIn(BaseModel):
    """Which articles may be used: outlet (case-insensitive substring), inclusive date range."""

    model_config = ConfigDict(extra="forbid")
    outlet: str | None = Field(None, max_length=200)
    since: str | None = Field(None, max_length=20, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")
    until: str | None = Field(None, max_length=20, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")

    def to_filters(self) -> Filters:
        """The core's `Filters` (a BadRequest, hence 422, for a bad date or range)."""
        return Filters.parse(self.outlet, self.since, self.until, label="filters.")


class PassageRef(BaseModel):
    """A passage of an earlier turn: the number it was cited by, and which chunk it is."""

    n: int = Field(ge=1)
    chunk_id: str = Field(min_length=1)


class Turn(BaseModel):
    """An earlier turn of the conversation. An earlier answer's JSON works as-is (extra fields are
    ignored). Without `passages` the server repeats that turn's retrieval to recover the numbers."""

    question: str = Field(min_length=1)
    standalone_question: str | None = None
    answer: str = ""
    passages: list[PassageRef] | None = None


def prior_turns(turns: list[Turn], settings: Settings) -> list[PriorTurn]:
    """Earlier turns for the core, or a 422 when there are too many or one's question is bad."""
    if len(turns) > settings.max_history_turns:
        raise ApiError(422, f"history has {len(turns)} turns; the limit is {settings.max_history_turns}")
    return [
        PriorTurn(
            question=question_of(t.question, settings),
            answer=t.answer,
            standalone_question=t.standalone_question,
            passages=None if t.passages is None else tuple((p.n, p.chunk_id) for p in t.passages),
        )
        for t in turns
    ]


def sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


_END = object()


async def in_threads(items: Iterator[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterator without blocking the event loop; close it when the client goes."""
    try:
        while (item := await run_in_threadpool(next, items, _END)) is not _END:
            yield item  # type: ignore[misc]
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            await run_in_threadpool(close)


def sse_response(chunks: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(
        in_threads(chunks),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
