"""`POST /v1/answer`: a verified, cited answer as JSON, or its events as server-sent events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.types import Backend, Event, PassagesEvent, TokenEvent
from ui.api.common import EngineDep, FiltersIn, SettingsDep, Turn, prior_turns, question_of, sse, sse_response
from ui.api.errors import core_error, error_body

router = APIRouter(tags=["answers"])


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="The question (asked in the context of `history`, if any).")
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default RAG_TOP_K).")
    filters: FiltersIn | None = None
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    backend: Backend | None = Field(None, description="Answer backend (default RAG_LLM_BACKEND).")
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


@router.post("/v1/answer")
def answer(req: AnswerRequest, engine: EngineDep, settings: SettingsDep) -> Any:
    """Answer with verified citations (`Answer` JSON), or a stream of server-sent events:
    `passages` (retrieved passages and per-source evidence), `token`…, then `answer`
    (the final, verified `Answer`; its text replaces the tokens)."""
    question = question_of(req.question, settings)
    filters = req.filters.to_filters() if req.filters else None
    turns = prior_turns(req.history, settings)
    conv = engine.conversation(turns, k=req.k, filters=filters)
    kwargs: dict[str, Any] = {"backend": req.backend, "k": req.k, "filters": filters, "conversation": conv}
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

    return sse_response(chunks())
