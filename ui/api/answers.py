"""`POST /v1/answer`: a verified, cited answer as JSON, or its events as server-sent events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from rag.types import Backend, Event, PassagesEvent, TokenEvent
from ui.api.common import STREAMS, EngineDep, FiltersIn, SettingsDep, Turn, prior_turns, question_of
from ui.api.errors import ERRORS, NOT_BLANK, core_error, error_body
from ui.api.streaming import answer_events, chain, client_gone, final_answer, sse, sse_response

router = APIRouter(tags=["answers"], responses=ERRORS)


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    question: str = Field(
        pattern=NOT_BLANK, description="The question (asked in the context of `history`, if any)."
    )
    k: int | None = Field(
        None,
        ge=1,
        le=50,
        description="Passages to retrieve (default RAG_TOP_K; 3 more for a question with sides).",
    )
    filters: FiltersIn | None = None
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    backend: Backend | None = Field(
        None,
        description="Answer backend (default RAG_LLM_BACKEND; others only if RAG_CLIENT_BACKENDS allows).",
    )
    stream: bool = Field(False, description="Server-sent events: passages, token…, answer.")


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


@router.post("/v1/answer", responses=STREAMS)
async def answer(req: AnswerRequest, request: Request, engine: EngineDep, settings: SettingsDep) -> Any:
    """Answer with verified citations (`Answer` JSON), or a stream of server-sent events:
    `passages` (retrieved passages and per-source evidence), `token`… (the model's text a
    sentence at a time, without links to hosts no passage names), then `answer` (the final,
    verified `Answer`; its text replaces the tokens)."""
    question = question_of(req.question, settings)
    filters = req.filters.to_filters() if req.filters else None
    turns = prior_turns(req.history, settings)
    events = await answer_events(
        engine, request, question, turns, backend=req.backend, k=req.k, filters=filters
    )
    if not req.stream:
        final = await final_answer(events, request)
        return client_gone() if final is None else JSONResponse(final.to_dict())
    first = await run_in_threadpool(next, events)  # retrieval errors still get a status code

    def chunks() -> Iterator[str]:
        try:
            for ev in chain(first, events):
                name, data = event_json(ev)
                yield sse(data, name)
        except Exception as e:
            a = core_error(e)
            yield sse(error_body(a.status, a.message, a.type), "error")
        finally:
            events.close()

    return sse_response(chunks(), events, request)
