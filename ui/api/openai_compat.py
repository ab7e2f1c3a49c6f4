"""The OpenAI-compatible endpoints: `GET /v1/models` and `POST /v1/chat/completions`.

The content of a reply is the verified answer with [n] markers; `choices[0].citations` (and the last
streamed chunk) carries the citations. Streaming sends the verified text once it is verified, never
unchecked tokens. `usage` counts the LLM's tokens (zero for the extractive backend); a stream sends
it in a last chunk when asked with `stream_options: {"include_usage": true}`, as OpenAI does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any, get_args

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rag.settings import Settings
from rag.types import Answer, AnswerEvent, Backend, Event, TokenEvent
from ui.api.common import STREAMS, EngineDep, FiltersIn, SettingsDep, Turn, prior_turns, question_of
from ui.api.errors import ERRORS, ApiError, core_error, error_body
from ui.api.streaming import AnswerStream, answer_events, chain, client_gone, final_answer, sse, sse_response

router = APIRouter(tags=["openai"], responses=ERRORS)


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
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

    model_config = ConfigDict(extra="allow", strict=True)
    model: str
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50)
    filters: FiltersIn | None = None


def model_names(settings: Settings) -> list[str]:
    """The configured pipeline, then one model per backend a client may pick (`rag:extractive`, …)."""
    return [settings.api_model, *(f"{settings.api_model}:{b}" for b in settings.allowed_backends)]


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


def usage(a: Answer) -> dict[str, int]:
    """OpenAI's `usage`: the LLM's token counts (zero when no LLM wrote the answer)."""
    prompt, completion = (a.usage.prompt_tokens, a.usage.completion_tokens) if a.usage else (0, 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def wants_usage(req: ChatRequest) -> bool:
    """`stream_options.include_usage`: a last streamed chunk with `usage` and no choices."""
    options = (req.model_extra or {}).get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


@router.get("/v1/models")
def models(settings: SettingsDep) -> dict[str, Any]:
    """OpenAI-compatible model list: the configured pipeline and one per backend."""
    return {
        "object": "list",
        "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "newsrag"} for n in model_names(settings)
        ],
    }


@router.post("/v1/chat/completions", responses=STREAMS)
async def chat_completions(
    req: ChatRequest, request: Request, engine: EngineDep, settings: SettingsDep
) -> Any:
    """OpenAI-compatible chat. The last user message is the question and earlier user/assistant
    messages are the conversation (system messages are ignored). The content is the verified
    answer with [n] markers; `choices[0].citations` (and the last streamed chunk) carries the
    citations. Streaming sends each sentence once it is verified, never unchecked tokens."""
    backend = backend_for(req.model, settings)
    question, turns = conversation_of(req, settings)
    filters = req.filters.to_filters() if req.filters else None
    prior = prior_turns(turns, settings)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    events = await answer_events(engine, request, question, prior, backend=backend, k=req.k, filters=filters)
    if not req.stream:
        a = await final_answer(events, request)
        if a is None:
            return client_gone()
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
            "usage": usage(a),
        }
    first = await run_in_threadpool(next, events)
    head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model}
    return sse_response(_chunks(head, chain(first, events), events, wants_usage(req)), events, request)


def _chunks(
    head: dict[str, Any], events: Iterator[Event], stream: AnswerStream, with_usage: bool
) -> Iterator[str]:
    """The streamed completion: the role, then each verified sentence as it comes, then the stop
    chunk with the citations (and the usage chunk when asked for)."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        c = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None, **extra}
        return sse({**head, "choices": [c]})

    sent = ""  # the verified sentences streamed so far: the start of the answer's text
    try:
        yield chunk({"role": "assistant", "content": ""})
        for ev in events:
            if isinstance(ev, TokenEvent):
                sent += ev.text
                yield chunk({"content": ev.text})
            elif isinstance(ev, AnswerEvent):
                text = ev.answer.answer  # a delta cannot be taken back: only what is still missing
                if text.startswith(sent) and len(text) > len(sent):
                    yield chunk({"content": text[len(sent) :]})
                yield chunk({}, "stop", **_choice_extras(ev.answer))
                if with_usage:
                    yield sse({**head, "choices": [], "usage": usage(ev.answer)})
            else:
                yield ": generating\n\n"  # an SSE comment: keeps proxies from timing out
        yield "data: [DONE]\n\n"
    except Exception as e:
        a = core_error(e)
        yield sse(error_body(a.status, a.message, a.type))
    finally:
        stream.close()
