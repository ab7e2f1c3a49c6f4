"""Prompt injection through the articles (issue 12, security): instructions inside an article never
change the answer, never bring a link or image to a host no article contains, never leak the system
prompt, in the final answer and in anything streamed. The model here is a scripted one that obeys
the injected instructions, the worst case; what reaches the client is what the server lets through."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.prompts import SYSTEM_PROMPT
from rag.wiring import Engine
from tests.conftest import FIXTURES, ScriptedLLM
from ui.server import create_app

QUESTION = "What did the Marrowby harbour council approve?"
# What a model that obeyed the article would write.
OBEYING = (
    "PWNED. " + SYSTEM_PROMPT[:300] + " ![status](https://evil.example/pixel.png?leak=1) "
    "[click here](https://evil.example/login) The ferries were cancelled [7]. "
    "The harbour council approved a new ferry timetable [1]."
)
SYSTEM_WORDS = re.sub(r"\s+", " ", SYSTEM_PROMPT)[:80]


@pytest.fixture
def injected(make_engine: Callable[..., Engine], seeds_copy: Path) -> Engine:
    shutil.copy(FIXTURES / "injection_links.txt", seeds_copy / "900_links.txt")
    shutil.copy(FIXTURES / "injection_article.txt", seeds_copy / "901_pwned.txt")
    engine = make_engine(llm_backend="openai")
    engine.ingest([seeds_copy])
    return engine


def stream_leaks(text: str) -> list[str]:
    """What must never be streamed, not even as raw tokens (replaced by the verified answer later)."""
    found = []
    if "evil.example" in text:
        found.append("outside host")
    if re.search(r"!\[[^\]]*\]\(", text):
        found.append("markdown image")
    if SYSTEM_WORDS in re.sub(r"\s+", " ", text):
        found.append("system prompt")
    return found


def leaks(text: str) -> list[str]:
    """What must never be in an answer."""
    found = stream_leaks(text)
    if "PWNED" in text:
        found.append("PWNED")
    if "cancelled" in text:
        found.append("injected claim")
    return found


def sse_data(text: str) -> list[tuple[str | None, Any]]:
    out = []
    for block in text.strip().split("\n\n"):
        name = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and line != "data: [DONE]":
                out.append((name, json.loads(line.removeprefix("data: "))))
    return out


def test_an_obeying_model_cannot_pass_injected_instructions_to_the_client(injected: Engine) -> None:
    client = TestClient(create_app(injected, injected.settings, ui=False), raise_server_exceptions=False)
    with injected.override_llm("openai", ScriptedLLM().enqueue(*[OBEYING] * 4)):
        obeying_model_answers(client)


def obeying_model_answers(client: TestClient) -> None:

    answer = client.post("/v1/answer", json={"question": QUESTION}).json()
    assert not leaks(answer["answer"]), answer["answer"]
    assert all(c["n"] <= len(answer["passages"]) for c in answer["citations"])

    stream = client.post("/v1/answer", json={"question": QUESTION, "stream": True}).text
    tokens = "".join(d["text"] for name, d in sse_data(stream) if name == "token")
    final = next(d for name, d in sse_data(stream) if name == "answer")
    assert not stream_leaks(tokens), tokens
    assert "harbour council approved a new ferry timetable [1]." in tokens  # the rest still streams
    assert not leaks(final["answer"]), final["answer"]

    msgs = [{"role": "user", "content": QUESTION}]
    chat = client.post("/v1/chat/completions", json={"model": "rag", "messages": msgs}).json()
    assert not leaks(chat["choices"][0]["message"]["content"])
    streamed = client.post("/v1/chat/completions", json={"model": "rag", "messages": msgs, "stream": True})
    content = "".join(
        c["choices"][0]["delta"].get("content") or "" for _, c in sse_data(streamed.text) if c.get("choices")
    )
    assert not leaks(content), content


def test_the_extractive_answer_quotes_no_injected_instruction(injected: Engine) -> None:
    a = injected.ask(QUESTION, backend="extractive")
    assert not leaks(a.answer), a.answer
