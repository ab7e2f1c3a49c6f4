"""The HTTP edge: one FastAPI app with the Gradio chat at `/`, the API under `/v1/`, docs at `/docs`.

`create_app(engine, settings)` receives a built engine; handlers are thin (request model → one
engine call → response). The engine is shared by all requests, which run in a thread pool. The
guard in front of `/v1/` (rate limit, API key, body size) and everything it counts belong to the
app instance, never to the module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.errors import IndexingError
from index.load import KINDS
from rag.answer import Conversation, number_passages, standalone_question
from rag.errors import BackendUnavailable, ModelError, NotFound, RagError
from rag.settings import Settings
from rag.types import (
    Answer,
    AnswerEvent,
    DocumentInfo,
    Event,
    Filters,
    Mode,
    Passage,
    PassagesEvent,
    Timings,
    TokenEvent,
    parse_date,
)
from rag.wiring import Engine

log = logging.getLogger("newsrag.server")

BACKENDS = ("local", "openai", "extractive")
DOC_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Errors: one JSON shape, {"error": {"type", "message"}}, with the status that fits.


class ApiError(Exception):
    """An error the edge reports as-is: status, OpenAI-style type, and a message a person can act on."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers
        self.type = type or _TYPES.get(status, "error")


_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "internal_error",
    503: "backend_unavailable",
}


def error_body(status: int, message: str, type: str | None = None, code: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type or _TYPES.get(status, "error"), "message": message}
    if code:
        err["code"] = code
    return {"error": err}


def _error(
    status: int, message: str, type: str | None = None, code: str | None = None, headers: Any = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, type, code), status_code=status, headers=headers)


def core_error(e: Exception) -> ApiError:
    """The core's error vocabulary in HTTP terms."""
    if isinstance(e, ApiError):
        return e
    if isinstance(e, NotFound):
        return ApiError(404, str(e))
    if isinstance(e, BackendUnavailable | ModelError):
        return ApiError(503, str(e))
    if isinstance(e, RagError | IndexingError):
        return ApiError(400, str(e))
    log.error("internal error", exc_info=e)
    return ApiError(500, "internal error; the server log has the details")


def _validation_message(e: RequestValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


# ---------------------------------------------------------------------------------------------
# The guard in front of /v1/: rate limit, API key, body size, and a last-resort 500.


class RateLimiter:
    """Token bucket per client: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token; 0.0 if allowed, else the seconds until a token is back."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > 10_000:  # forget clients whose bucket has refilled
                full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
                for k in full:
                    del self._buckets[k]
            return wait


class Guard:
    """ASGI middleware for `/v1/`: per-IP rate limit (429), bearer key (401), body size (413);
    the chat's `/login` is rate limited too.

    Also turns any exception that escapes a handler (on any path) into a JSON 500 without a
    traceback, logged here.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, limiter: RateLimiter) -> None:
        self.app = app
        self.key = settings.api_key.get_secret_value().encode() if settings.api_key else None
        self.max_bytes = settings.max_request_bytes
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            path = scope["path"]
            if path.startswith("/v1/") or path == "/v1":
                refusal = self.refuse(scope)
                if refusal is not None:
                    await refusal(scope, receive, send_tracking)
                    return
                receive = self.limited(receive)
            elif path == "/login":  # the chat's sign-in takes the same key: no unlimited guessing
                refusal = self.throttle(scope)
                if refusal is not None:
                    await refusal(scope, receive, send_tracking)
                    return
            await self.app(scope, receive, send_tracking)
        except Exception as e:
            log.error("unhandled error on %s %s", scope.get("method"), scope["path"], exc_info=e)
            if not started:
                await _error(500, "internal error; the server log has the details")(scope, receive, send)

    def throttle(self, scope: Scope) -> JSONResponse | None:
        client = scope.get("client")
        wait = self.limiter.take(client[0] if client else "unknown")
        if wait > 0:
            return _error(
                429,
                f"too many requests; retry in {wait:.1f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        return None

    def refuse(self, scope: Scope) -> JSONResponse | None:
        throttled = self.throttle(scope)
        if throttled is not None:
            return throttled
        headers = Headers(scope=scope)
        if self.key is not None:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.key):
                return _error(
                    401,
                    "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return _error(413, f"the request body is larger than {self.max_bytes} bytes")
        return None

    def limited(self, receive: Receive) -> Receive:
        """Count body bytes as they arrive (a chunked request has no Content-Length)."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"the request body is larger than {self.max_bytes} bytes")
            return message

        return wrapped


# ---------------------------------------------------------------------------------------------
# Request models.


class FiltersIn(BaseModel):
    """Which articles may be used: outlet (case-insensitive substring), inclusive date range."""

    model_config = ConfigDict(extra="forbid")
    outlet: str | None = Field(None, max_length=200)
    since: dt.date | None = Field(None, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")
    until: dt.date | None = Field(None, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")

    @field_validator("since", mode="before")
    @classmethod
    def _since(cls, v: Any) -> dt.date | None:
        return v if isinstance(v, dt.date) else parse_date(v, end=False)

    @field_validator("until", mode="before")
    @classmethod
    def _until(cls, v: Any) -> dt.date | None:
        return v if isinstance(v, dt.date) else parse_date(v, end=True)

    def to_filters(self) -> Filters:
        if self.since and self.until and self.since > self.until:
            raise ApiError(422, "filters.since is after filters.until")
        return Filters(outlet=self.outlet or None, since=self.since, until=self.until)


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


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="The question (asked in the context of `history`, if any).")
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default RAG_TOP_K).")
    filters: FiltersIn | None = None
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    backend: Literal["local", "openai", "extractive"] | None = Field(
        None, description="Answer backend (default RAG_LLM_BACKEND)."
    )
    stream: bool = Field(False, description="Server-sent events: passages, token…, answer.")


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="The article, as the file would hold it.")
    id: str | None = Field(None, pattern=DOC_ID, description="Document id (default: from filename or text).")
    filename: str | None = Field(
        None, max_length=255, description="Its suffix picks the format: .txt (default), .md, .html, .htm."
    )


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.get("type") != "text":
                raise ApiError(400, f"only text content is supported, not {part.get('type')!r}")
            parts.append(str(part.get("text", "")))
        return "".join(parts)


class ChatRequest(BaseModel):
    """OpenAI chat completions. Sampling parameters are accepted and ignored: the answer comes
    from the configured pipeline. `k` and `filters` are extensions (`extra_body` in the client)."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50)
    filters: FiltersIn | None = None


# ---------------------------------------------------------------------------------------------
# Conversions between the JSON forms and the core's types.


def _turn(question: str, standalone: str, text: str, passages: Iterable[Passage]) -> Answer:
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


def _stub(ref: PassageRef) -> Passage:
    return Passage(ref.n, "", "", None, None, ref.chunk_id, 0, 0, "", 0.0)


def conversation(
    engine: Engine, turns: list[Turn], *, k: int | None, filters: Filters | None
) -> Conversation | None:
    """Earlier turns → `Conversation`, so a passage keeps its citation number across turns.

    A turn without `passages` is replayed: its retrieval is deterministic on an unchanged index,
    so it gets the numbers it had (with the current request's k and filters).
    """
    if not turns:
        return None
    conv = Conversation()
    for t in turns:
        question = t.question.strip()
        standalone = t.standalone_question or standalone_question(question, conv)
        if t.passages is None:
            passages = number_passages(engine.search(standalone, k=k, filters=filters), conv)
        else:
            passages = [_stub(p) for p in t.passages]
        conv.turns.append(_turn(question, standalone, t.answer, passages))
    return conv


def event_json(event: Event) -> tuple[str, dict[str, Any]]:
    """An answer-stream event as (SSE event name, JSON data)."""
    if isinstance(event, PassagesEvent):
        return "passages", {
            "passages": [p.to_dict() for p in event.passages],
            "evidence": [asdict(e) for e in event.evidence],
            "conflicts": [asdict(c) for c in event.conflicts],
        }
    if isinstance(event, TokenEvent):
        return "token", {"text": event.text}
    return "answer", event.answer.to_dict()


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


def _sse_response(chunks: Iterator[str]) -> StreamingResponse:
    return StreamingResponse(
        in_threads(chunks),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _doc_json(d: DocumentInfo) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "title": d.title,
        "outlet": d.outlet,
        "date": d.date,
        "chunks": d.chunks,
        "filename": Path(d.path).name,
        "sha256": d.sha256,
    }


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to listen beyond loopback without an API key (raises ValueError saying why)."""
    if settings.api_key is not None:
        return
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(
        f"refusing to listen on {host} without an API key: anyone who can reach it could use the API. "
        "Set RAG_API_KEY (clients then send `Authorization: Bearer <key>`), or bind to 127.0.0.1."
    )


# ---------------------------------------------------------------------------------------------
# The app.


def create_app(engine: Engine, settings: Settings, *, ui: bool = True) -> FastAPI:
    """The FastAPI app over a built engine: API under /v1/, /healthz, /docs, the chat at `/`."""
    app = FastAPI(
        title="newsrag",
        version="0.1.0",
        description="Cited question answering over news articles. Every claim in an answer points "
        "to the exact span of the article it came from. See docs/serving.md.",
    )
    app.state.engine = engine
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    ingest_lock = threading.Lock()

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError) -> JSONResponse:
        return _error(e.status, e.message, e.type, e.code, e.headers)

    @app.exception_handler(RagError)
    async def _rag_error(request: Request, e: RagError) -> JSONResponse:
        a = core_error(e)
        return _error(a.status, a.message, a.type)

    @app.exception_handler(IndexingError)
    async def _indexing_error(request: Request, e: IndexingError) -> JSONResponse:
        return _error(400, str(e))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_message(e))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, e: HTTPException) -> JSONResponse:
        if not request.url.path.startswith(("/v1", "/healthz")):
            # Paths the API does not own keep the plain FastAPI shape.
            return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=e.headers)
        return _error(e.status_code, str(e.detail), headers=e.headers)

    def question_of(text: str) -> str:
        q = text.strip()
        if not q:
            raise ApiError(422, "the question is empty")
        if len(q) > settings.max_question_chars:
            raise ApiError(
                422, f"the question is {len(q)} characters long; the limit is {settings.max_question_chars}"
            )
        return q

    def history_of(turns: list[Turn]) -> list[Turn]:
        if len(turns) > settings.max_history_turns:
            raise ApiError(422, f"history has {len(turns)} turns; the limit is {settings.max_history_turns}")
        for t in turns:
            question_of(t.question)
        return turns

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness and what is indexed (no key needed)."""
        return {
            "status": "ok",
            "documents": len(engine.documents()),
            "chunks": len(engine.lexical.records),
            "backend": settings.llm_backend,
        }

    @app.post("/v1/answer", tags=["answers"])
    def answer(req: AnswerRequest) -> Any:
        """Answer with verified citations (`Answer` JSON), or a stream of server-sent events:
        `passages` (retrieved passages and per-source evidence), `token`…, then `answer`
        (the final, verified `Answer`; its text replaces the tokens)."""
        question = question_of(req.question)
        filters = req.filters.to_filters() if req.filters else None
        conv = conversation(engine, history_of(req.history), k=req.k, filters=filters)
        kwargs: dict[str, Any] = {
            "backend": req.backend,
            "k": req.k,
            "filters": filters,
            "conversation": conv,
        }
        if not req.stream:
            return JSONResponse(engine.ask(question, **kwargs).to_dict())
        events = engine.ask_stream(question, **kwargs)
        first = next(events)  # retrieval errors still get a status code

        def chunks() -> Iterator[str]:
            try:
                yield sse(event_json(first)[1], "passages")
                for ev in events:
                    name, data = event_json(ev)
                    yield sse(data, name)
            except Exception as e:
                a = core_error(e)
                yield sse(error_body(a.status, a.message, a.type), "error")
            finally:
                events.close()  # type: ignore[attr-defined]

        return _sse_response(chunks())

    def backend_for(model: str) -> str | None:
        if model == settings.api_model:
            return None
        name = model.removeprefix(settings.api_model + ":")
        if name != model and name in BACKENDS:
            return name
        choices = ", ".join([settings.api_model, *(f"{settings.api_model}:{b}" for b in BACKENDS)])
        raise ApiError(404, f"no model {model!r}; use one of: {choices}", code="model_not_found")

    @app.get("/v1/models", tags=["openai"])
    def models() -> dict[str, Any]:
        """OpenAI-compatible model list: the configured pipeline and one per backend."""
        names = [settings.api_model, *(f"{settings.api_model}:{b}" for b in BACKENDS)]
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": "newsrag"} for n in names],
        }

    @app.post("/v1/chat/completions", tags=["openai"])
    def chat_completions(req: ChatRequest) -> Any:
        """OpenAI-compatible chat. The last user message is the question and earlier user/assistant
        messages are the conversation (system messages are ignored). The content is the verified
        answer with [n] markers; `choices[0].citations` (and the last streamed chunk) carries the
        citations. Streaming sends the verified text once it is verified, never unchecked tokens."""
        backend = backend_for(req.model)
        messages = [m for m in req.messages if m.role in ("user", "assistant")]
        if not messages or messages[-1].role != "user":
            raise ApiError(400, "the last message must be the user's question")
        question = question_of(messages[-1].text())
        turns: list[Turn] = []
        for i, m in enumerate(messages[:-1]):
            if m.role == "user" and m.text().strip():
                reply = messages[i + 1] if messages[i + 1].role == "assistant" else None
                turns.append(Turn(question=m.text(), answer=reply.text() if reply else ""))
        filters = req.filters.to_filters() if req.filters else None
        conv = conversation(engine, history_of(turns), k=req.k, filters=filters)
        kwargs: dict[str, Any] = {"backend": backend, "k": req.k, "filters": filters, "conversation": conv}
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def choice_extras(a: Answer) -> dict[str, Any]:
            return {"citations": a.to_dict()["citations"], "abstained": a.abstained}

        if not req.stream:
            a = engine.ask(question, **kwargs)
            return {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": req.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": a.answer},
                        "finish_reason": "stop",
                        "logprobs": None,
                        **choice_extras(a),
                    }
                ],
            }

        events = engine.ask_stream(question, **kwargs)
        first = next(events)

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            c = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None, **extra}
            return sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": req.model,
                    "choices": [c],
                }
            )

        def chunks() -> Iterator[str]:
            try:
                yield chunk({"role": "assistant", "content": ""})
                for ev in _chain(first, events):
                    if isinstance(ev, AnswerEvent):
                        yield chunk({"content": ev.answer.answer})
                        yield chunk({}, "stop", **choice_extras(ev.answer))
                    else:
                        yield ": generating\n\n"  # an SSE comment: keeps proxies from timing out
                yield "data: [DONE]\n\n"
            except Exception as e:
                a = core_error(e)
                yield sse(error_body(a.status, a.message, a.type))
            finally:
                events.close()  # type: ignore[attr-defined]

        return _sse_response(chunks())

    @app.get("/v1/search", tags=["documents"])
    def search(
        q: Annotated[str, Query(description="What to look for.")],
        k: Annotated[int | None, Query(ge=1, le=100, description="Passages (default RAG_TOP_K).")] = None,
        mode: Annotated[Mode, Query(description="hybrid, dense or bm25")] = "hybrid",
        outlet: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[str | None, Query(description="YYYY-MM-DD, YYYY-MM or YYYY")] = None,
        until: Annotated[str | None, Query(description="YYYY-MM-DD, YYYY-MM or YYYY")] = None,
    ) -> dict[str, Any]:
        """Hybrid (dense + BM25) search: passages with offsets into the original files."""
        try:
            f = FiltersIn(outlet=outlet, since=since, until=until).to_filters()  # type: ignore[arg-type]
        except ValidationError as e:
            raise ApiError(422, "; ".join(f"{x['loc'][0]}: {x['msg']}" for x in e.errors())) from None
        passages = engine.search(question_of(q), k=k, filters=f, mode=mode)
        return {"passages": [p.to_dict() for p in passages]}

    @app.get("/v1/documents", tags=["documents"])
    def documents() -> dict[str, Any]:
        """The indexed articles with their metadata."""
        return {"documents": [_doc_json(d) for d in engine.documents()]}

    @app.get("/v1/documents/{doc_id}", tags=["documents"])
    def document(doc_id: str) -> dict[str, Any]:
        """One article: metadata and the text of its original file (`text[start:end]` is a quote)."""
        d = engine.document(doc_id)
        return {**_doc_json(d.info), "text": d.text}

    @app.post("/v1/documents", tags=["documents"], status_code=201)
    def upload(req: DocumentIn) -> Any:
        """Ingest one article (needs RAG_API_KEY). It is saved under RAG_DATA_DIR/uploads/; posting
        the same id again replaces it."""
        if settings.api_key is None:
            raise ApiError(
                403,
                "uploads are disabled: set RAG_API_KEY on the server and send `Authorization: Bearer <key>`",
            )
        name = Path(req.filename or "").name
        suffix = Path(name).suffix.lower() or ".txt"
        if suffix not in KINDS:
            raise ApiError(422, f"filename must end in one of {', '.join(KINDS)}, not {suffix!r}")
        doc_id = req.id or Path(name).stem or "upload_" + hashlib.sha256(req.text.encode()).hexdigest()[:16]
        if not re.fullmatch(DOC_ID, doc_id):
            raise ApiError(422, f"id {doc_id!r} must match {DOC_ID} (pass `id` explicitly)")
        uploads = settings.data_dir / "uploads"
        target = uploads / f"{doc_id}{suffix}"
        with ingest_lock:
            known = {d.doc_id: d for d in engine.documents()}
            if doc_id in known and Path(known[doc_id].path).resolve().parent != uploads.resolve():
                raise ApiError(
                    409,
                    f"document id {doc_id!r} belongs to {Path(known[doc_id].path).name}; choose another id",
                )
            uploads.mkdir(parents=True, exist_ok=True)
            for old in uploads.glob(f"{doc_id}.*"):
                if old != target and old.suffix.lower() in KINDS:
                    old.unlink()
            target.write_bytes(req.text.encode("utf-8"))
            report = engine.ingest([target])
            if report.skipped:
                target.unlink(missing_ok=True)
                raise ApiError(422, "no article text is left after cleaning (page furniture only?)")
        info = next(d for d in engine.documents() if d.doc_id == doc_id)
        status = 201 if report.added else 200
        return JSONResponse({"document": _doc_json(info), "ingest": report.counts()}, status_code=status)

    @app.api_route(
        "/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown(rest: str, request: Request) -> None:
        path = f"/v1/{rest}"
        allowed = sorted(
            {
                m
                for r in app.routes
                if isinstance(r, APIRoute) and r.endpoint is not unknown and r.path_regex.match(path)
                for m in r.methods or ()
            }
        )
        if allowed:
            raise ApiError(
                405,
                f"{request.method} is not allowed on {path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, f"no such endpoint: {path}")

    app.add_middleware(Guard, settings=settings, limiter=app.state.limiter)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    if ui:
        # Mounted last: a mount at "/" would shadow every route added after it.
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        import gradio as gr

        from ui.chat import build_chat

        gr.mount_gradio_app(
            app,
            build_chat(engine, settings),
            path="/",
            # With a key the chat is behind it too: any user name, the key as password.
            auth=ui_login(settings.api_key.get_secret_value()) if settings.api_key else None,
            auth_message="Sign in with any user name and the server's RAG_API_KEY as the password.",
            footer_links=["api", "settings"],
            run_history=False,  # nothing offers to save conversations elsewhere
            allowed_paths=None,  # the chat serves no files of ours
            max_file_size=settings.max_request_bytes,  # gradio's upload route exists even unused
            ssr_mode=False,
            mcp_server=False,
        )
    return app


def ui_login(key: str) -> Callable[[str, str], bool]:
    """Gradio's login check: any user name, the API key as password (constant-time)."""

    def check(username: str, password: str) -> bool:
        return hmac.compare_digest(password.encode(), key.encode())

    return check


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest
