"""The answer stream over HTTP: run in threads, as server-sent events or to its final answer, and
stopped when the client hangs up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
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
from ui.api.errors import ApiError

T = TypeVar("T")


def sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


_END = object()


def chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    """`first` (already taken from the stream, so errors before it still get a status), then the rest."""
    yield first
    yield from rest


async def in_threads(items: Iterator[T]) -> AsyncGenerator[T, None]:
    """Iterate a blocking iterator without blocking the event loop; close it when the client goes."""
    try:
        while (item := await run_in_threadpool(next, items, _END)) is not _END:
            yield item  # type: ignore[misc]
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            with contextlib.suppress(ValueError):  # still running in a worker thread: it ends on its own
                await run_in_threadpool(close)


class LocalModelQueue:
    """Answers on the local model in flight: it writes one at a time, `waiting` more may queue for
    it (their passages and evidence still come at once), and any beyond that get a 503 with
    Retry-After rather than a wait nobody can bound."""

    def __init__(self, waiting: int) -> None:
        self.limit = waiting + 1
        self._in_flight = 0
        self._lock = threading.Lock()

    def admit(self) -> Callable[[], None]:
        """Take a place (or raise the 503); returns the call that gives it back."""
        with self._lock:
            if self._in_flight >= self.limit:
                raise ApiError(
                    503,
                    f"the local model is busy ({self._in_flight - 1} questions are waiting for it); "
                    "try again shortly",
                    headers={"Retry-After": "10"},
                )
            self._in_flight += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._in_flight -= 1

        return release


class AnswerStream(Iterator[Event]):
    """An answer stream that can be stopped from another thread, and gives its place in the local
    model's queue back (if it holds one) when it ends, fails or is closed.

    `stop()` is what a hung-up client triggers: the model is asked after every token whether to go
    on, so it stops at once even while no event is due (closing a generator that is running in a
    worker thread is not possible)."""

    def __init__(
        self, events: Iterator[Event], stopped: threading.Event, release: Callable[[], None]
    ) -> None:
        self._events, self._stopped, self._release = events, stopped, release

    def __next__(self) -> Event:
        try:
            return next(self._events)
        except BaseException:  # StopIteration included
            self.close()
            raise

    def stop(self) -> None:
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def close(self) -> None:
        self._stopped.set()
        try:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
        except ValueError:
            pass  # running in a worker thread: it ends at the next token, having seen the stop
        finally:
            self._release()


def _nothing() -> None:
    return None


async def answer_events(
    engine: Engine,
    request: Request,
    question: str,
    turns: list[PriorTurn],
    *,
    backend: Backend | None,
    k: int | None,
    filters: Filters | None,
) -> AnswerStream:
    """The answer stream of `question` after `turns` (started in a thread: it may load a model);
    a 403 for a backend the operator does not let clients pick, a 503 when the local model's
    queue is full."""
    settings: Settings = request.app.state.settings
    backend = allowed_backend(backend, settings)
    queue: LocalModelQueue = request.app.state.local_queue
    release = queue.admit() if (backend or settings.llm_backend) == "local" else None
    stopped = threading.Event()
    try:
        conv = await run_in_threadpool(engine.conversation, turns, k=k, filters=filters)
        events = await run_in_threadpool(
            partial(
                engine.ask_stream,
                question,
                backend=backend,
                k=k,
                filters=filters,
                conversation=conv,
                cancelled=stopped.is_set,
            )
        )
    except BaseException:
        if release is not None:
            release()
        raise
    return AnswerStream(events, stopped, release or _nothing)


async def final_answer(events: AnswerStream, request: Request) -> Answer | None:
    """Run an answer stream to its verified `Answer`, in threads; None when the client hung up
    first (the stream is stopped at once, so the model stops generating for no one)."""
    async with watching(events, request), aclosing(in_threads(events)) as stream:
        async for event in stream:
            if isinstance(event, AnswerEvent):
                return event.answer
    if events.stopped:
        return None
    raise RuntimeError("the answer stream ended without an answer")


@contextlib.asynccontextmanager
async def watching(events: AnswerStream, request: Request) -> AsyncIterator[None]:
    """Stop `events` when the client hangs up (checked every 0.2 s while the block runs): the
    model is asked after every token, and unsupported sentences send nothing, so waiting for the
    next write to fail could let it run to the end for no one."""

    async def watch() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(0.2)
        events.stop()

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()


def client_gone() -> Response:
    """What a handler returns to a client that has hung up (nginx's 499; nobody reads it)."""
    return Response(status_code=499)


def sse_response(chunks: Iterator[str], events: AnswerStream, request: Request) -> StreamingResponse:
    """Server-sent `chunks` of an answer stream, which stops when the client hangs up."""
    return StreamingResponse(
        _watched(chunks, events, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _watched(chunks: Iterator[str], events: AnswerStream, request: Request) -> AsyncIterator[str]:
    try:
        async with watching(events, request), aclosing(in_threads(chunks)) as stream:
            async for chunk in stream:
                yield chunk
    finally:
        events.stop()  # also when the server cancelled the response on a disconnect it saw first
