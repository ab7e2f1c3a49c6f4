"""The answer stream over HTTP: run in threads, as server-sent events or to its final answer, and
stopped when the client hangs up."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from functools import partial
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from rag.conversation import PriorTurn
from rag.settings import Settings
from rag.types import Answer, AnswerEvent, Backend, Event, Filters
from rag.wiring import Engine
from ui.api.common import allowed_backend

T = TypeVar("T")


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


async def answer_events(
    engine: Engine,
    settings: Settings,
    question: str,
    turns: list[PriorTurn],
    *,
    backend: Backend | None,
    k: int | None,
    filters: Filters | None,
) -> Iterator[Event]:
    """The answer stream of `question` after `turns` (started in a thread: it may load a model);
    a 403 for a backend the operator does not let clients pick."""
    backend = allowed_backend(backend, settings)
    conv = await run_in_threadpool(engine.conversation, turns, k=k, filters=filters)
    return await run_in_threadpool(
        partial(engine.ask_stream, question, backend=backend, k=k, filters=filters, conversation=conv)
    )


async def final_answer(events: Iterator[Event], request: Request) -> Answer | None:
    """Run an answer stream to its verified `Answer`, in threads; None when the client hung up
    first (the stream is closed at once, so the model stops generating for no one)."""
    async with aclosing(in_threads(events)) as stream:
        async for event in stream:
            if isinstance(event, AnswerEvent):
                return event.answer
            if await request.is_disconnected():
                return None
    raise RuntimeError("the answer stream ended without an answer")


def client_gone() -> Response:
    """What a handler returns to a client that has hung up (nginx's 499; nobody reads it)."""
    return Response(status_code=499)


def sse_response(chunks: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(
        in_threads(chunks),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
