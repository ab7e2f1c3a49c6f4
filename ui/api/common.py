"""What the routers share: the engine and settings of the app, the request limits, and the request
models used by more than one router (the answer stream is in `ui.api.streaming`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from rag.conversation import PriorTurn
from rag.question import clean_question
from rag.settings import Settings
from rag.types import Backend, Filters
from rag.wiring import Engine
from ui.api.errors import ApiError


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
    """The question as the core uses it (`rag.question.clean_question`; its `BadRequest` is a 422)."""
    return clean_question(text, settings.max_question_chars)


def allowed_backend(requested: Backend | None, settings: Settings) -> Backend | None:
    """The backend a client asked for (None: the configured one), or a 403 when the operator has
    not allowed clients to pick it (RAG_CLIENT_BACKENDS)."""
    if requested is None or requested in settings.allowed_backends:
        return requested
    raise ApiError(
        403,
        f"this server does not let clients pick the {requested} backend; use "
        f"{' or '.join(settings.allowed_backends)} (the operator allows more with RAG_CLIENT_BACKENDS)",
    )


class FiltersIn(BaseModel):
    """Which articles may be used: outlet and author (case-insensitive substrings), inclusive date range."""

    model_config = ConfigDict(extra="forbid")
    outlet: str | None = Field(None, max_length=200)
    author: str | None = Field(None, max_length=200)
    since: str | None = Field(None, max_length=20, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")
    until: str | None = Field(None, max_length=20, description="YYYY-MM-DD, YYYY-MM or YYYY (inclusive)")

    def to_filters(self) -> Filters:
        """The core's `Filters` (a BadRequest, hence 422, for a bad date or range)."""
        return Filters.parse(self.outlet, self.since, self.until, author=self.author, label="filters.")


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
