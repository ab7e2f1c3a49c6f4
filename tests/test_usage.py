"""Token counts: a backend's `usage` reaches the `Answer` and the OpenAI-compatible responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from llama_index.core.base.llms.types import ChatResponse
from llama_index.core.llms import ChatMessage, MessageRole

from rag.types import Usage
from rag.wiring import Engine
from tests.conftest import ScriptedLLM
from ui.server import create_app

PMF = "Did PMF leaders want US troops to stay?"


class CountingLLM(ScriptedLLM):
    """A scripted LLM whose stream ends, like the real backends', with a response carrying usage."""

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        last = None
        for last in super().stream_chat(messages, **kwargs):
            yield last
        text = last.message.content if last else ""
        counted = {"prompt_tokens": 321, "completion_tokens": 12}
        yield ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
            delta="",
            additional_kwargs={"usage": counted},
        )


@pytest.fixture
def counted(make_engine: Callable[..., Engine], seeds_copy: Path) -> Iterator[Engine]:
    engine = make_engine(client_backends="openai,extractive")
    engine.ingest([seeds_copy])
    reply = "Former Shiite militia leaders wanted the Americans to stay [1]."
    with engine.override_llm("openai", CountingLLM().enqueue(reply, reply, reply)):
        yield engine


def test_the_answer_carries_the_backends_token_counts(counted: Engine) -> None:
    assert counted.ask(PMF, backend="openai").usage == Usage(321, 12)
    assert counted.ask(PMF, backend="extractive").usage is None


def test_openai_compatible_responses_carry_usage(counted: Engine) -> None:
    c = TestClient(create_app(counted, counted.settings, ui=False))
    body = {"messages": [{"role": "user", "content": PMF}]}
    r = c.post("/v1/chat/completions", json={**body, "model": "rag:openai"})
    assert r.status_code == 200, r.text
    assert r.json()["usage"] == {"prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333}
    r = c.post("/v1/chat/completions", json={**body, "model": "rag:extractive"})
    assert r.json()["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}

    def chunks(extra: dict[str, Any]) -> list[dict[str, Any]]:
        s = c.post("/v1/chat/completions", json={**body, "model": "rag:openai", "stream": True, **extra})
        lines = [ln[6:] for ln in s.text.splitlines() if ln.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        return [json.loads(x) for x in lines[:-1]]

    asked = chunks({"stream_options": {"include_usage": True}})
    assert asked[-1]["choices"] == [] and asked[-1]["usage"]["total_tokens"] == 333
    assert all("usage" not in x for x in chunks({}))
