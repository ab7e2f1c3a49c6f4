"""The OpenAI-compatible endpoints: `GET /v1/models` and `POST /v1/chat/completions`.

The content of a reply is the verified answer with [n] markers; `choices[0].citations` (and the last
streamed chunk) carries the citations. Streaming sends the verified text once it is verified, never
unchecked tokens.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar, get_args

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from rag.settings import Settings
from rag.types import Answer, AnswerEvent, Backend
from ui.api.common import EngineDep, FiltersIn, SettingsDep, Turn, prior_turns, question_of, sse, sse_response
from ui.api.errors import ApiError, core_error, error_body

router = APIRouter(tags=["openai"])
T = TypeVar("T")


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


def model_names(settings: Settings) -> list[str]:
    """The configured pipeline, then one model per backend (`rag:extractive`, …)."""
    return [settings.api_model, *(f"{settings.api_model}:{b}" for b in get_args(Backend))]


def backend_for(model: str, settings: Settings) -> Backend | None:
    """The backend a model name asks for (None: the configured one), or a 404."""
    for name in get_args(Backend):
        if model == f"{settings.api_model}:{name}":
            return name  # type: ignore[no-any-return]
    if model == settings.api_model:
        return None
    choices = ", ".join(model_names(settings))
    raise ApiError(404, f"no model {model!r}; use one of: {choices}", code="model_not_found")


def conversation_of(req: ChatRequest, settings: Settings) -> tuple[str, list[Turn]]:
    """The last user message as the question; earlier user/assistant pairs as turns (system
    messages are ignored)."""
    messages = [m for m in req.messages if m.role in ("user", "assistant")]
    if not messages or messages[-1].role != "user":
        raise ApiError(400, "the last message must be the user's question")
    question = question_of(messages[-1].text(), settings)
    turns: list[Turn] = []
    for i, m in enumerate(messages[:-1]):
        if m.role == "user" and m.text().strip():
            reply = messages[i + 1] if messages[i + 1].role == "assistant" else None
            turns.append(Turn(question=m.text(), answer=reply.text() if reply else ""))
    return question, turns


def _choice_extras(a: Answer) -> dict[str, Any]:
    return {"citations": a.to_dict()["citations"], "abstained": a.abstained}


@router.get("/v1/models")
def models(settings: SettingsDep) -> dict[str, Any]:
    """OpenAI-compatible model list: the configured pipeline and one per backend."""
    return {
        "object": "list",
        "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "newsrag"} for n in model_names(settings)
        ],
    }


@router.post("/v1/chat/completions")
def chat_completions(req: ChatRequest, engine: EngineDep, settings: SettingsDep) -> Any:
    """OpenAI-compatible chat. The last user message is the question and earlier user/assistant
    messages are the conversation (system messages are ignored). The content is the verified
    answer with [n] markers; `choices[0].citations` (and the last streamed chunk) carries the
    citations. Streaming sends the verified text once it is verified, never unchecked tokens."""
    backend = backend_for(req.model, settings)
    question, turns = conversation_of(req, settings)
    filters = req.filters.to_filters() if req.filters else None
    conv = engine.conversation(prior_turns(turns, settings), k=req.k, filters=filters)
    kwargs: dict[str, Any] = {"backend": backend, "k": req.k, "filters": filters, "conversation": conv}
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
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
                    **_choice_extras(a),
                }
            ],
        }
    events = engine.ask_stream(question, **kwargs)
    first = next(events)
    head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        c = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None, **extra}
        return sse({**head, "choices": [c]})

    def chunks() -> Iterator[str]:
        try:
            yield chunk({"role": "assistant", "content": ""})
            for ev in _chain(first, events):
                if isinstance(ev, AnswerEvent):
                    yield chunk({"content": ev.answer.answer})
                    yield chunk({}, "stop", **_choice_extras(ev.answer))
                else:
                    yield ": generating\n\n"  # an SSE comment: keeps proxies from timing out
            yield "data: [DONE]\n\n"
        except Exception as e:
            a = core_error(e)
            yield sse(error_body(a.status, a.message, a.type))
        finally:
            events.close()  # type: ignore[attr-defined]

    return sse_response(chunks())


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest
