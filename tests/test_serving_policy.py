"""What the operator decides, not the client: which answer backends a client may pick (issue 12
finding 7), and whose X-Forwarded-For is believed (finding 6)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from llama_index.core.base.llms.types import ChatResponse
from llama_index.core.llms import ChatMessage
from pydantic import PrivateAttr

from rag.settings import Settings
from rag.wiring import Engine
from tests.conftest import ScriptedLLM
from tests.llama_server import free_port
from ui.server import create_app, uvicorn_options

PMF = "Did PMF leaders want US troops to stay?"


def client_for(engine: Engine, **overrides: object) -> TestClient:
    settings = engine.settings.model_copy(update=overrides)
    return TestClient(create_app(engine, settings, ui=False), raise_server_exceptions=False)


def test_clients_get_the_configured_backend_only_by_default(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(llm_backend="extractive", openai_base_url=None, openai_api_key=None)
    client = client_for(engine)
    for backend in ("local", "openai"):
        r = client.post("/v1/answer", json={"question": "Who won?", "backend": backend})
        assert r.status_code == 403, r.text
        assert "RAG_CLIENT_BACKENDS" in r.json()["error"]["message"]
    msgs = [{"role": "user", "content": "Who won?"}]
    r = client.post("/v1/chat/completions", json={"model": "rag:local", "messages": msgs})
    assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["rag", "rag:extractive"]
    assert "local" not in engine.loaded_backends()  # nothing was loaded
    ok = client.post("/v1/answer", json={"question": "Who won?", "backend": "extractive"})
    assert ok.status_code == 200, ok.text


def test_the_operator_may_let_clients_pick(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(llm_backend="extractive", openai_base_url=None, openai_api_key=None)
    client = client_for(engine, client_backends="openai")
    r = client.post("/v1/answer", json={"question": "Who won?", "backend": "openai"})
    assert r.status_code == 503 and "RAG_OPENAI_BASE_URL" in r.text  # allowed, but not set up
    assert client.post("/v1/answer", json={"question": "Who won?", "backend": "local"}).status_code == 403
    assert Settings(client_backends="all").allowed_backends == ("local", "openai", "extractive")


def test_forwarded_headers_are_trusted_only_when_configured() -> None:
    assert uvicorn_options(Settings()) == {"proxy_headers": False}
    assert uvicorn_options(Settings(forwarded_allow_ips="10.0.0.2, 10.0.0.3")) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.2", "10.0.0.3"],
    }


class SlowLLM(ScriptedLLM):
    """A scripted reply of many words, one every 20 ms; counts the words it has produced."""

    produced: int = 0

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        for piece in super().stream_chat(messages, **kwargs):
            time.sleep(0.02)
            self.produced += 1
            yield piece


@contextlib.contextmanager
def live(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server in a thread (a client can really hang up on it)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.mark.parametrize("path", ["/v1/answer", "/v1/chat/completions"])
def test_a_client_that_gives_up_stops_the_generation(
    make_engine: Callable[..., Engine], seeds_copy: Path, path: str
) -> None:
    engine = make_engine(llm_backend="openai")
    engine.ingest([seeds_copy])
    llm = SlowLLM().enqueue(" ".join(["The PMF wanted the troops to stay."] * 60))
    body: dict[str, Any] = {"question": PMF}
    if path.endswith("completions"):
        body = {"model": "rag", "messages": [{"role": "user", "content": PMF}]}
    with engine.override_llm("openai", llm), live(create_app(engine, engine.settings, ui=False)) as base:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(base + path, json=body, timeout=1.0)
        time.sleep(1.0)
        stopped_at = llm.produced
        time.sleep(0.5)
    assert llm.produced == stopped_at < 200  # 420 words if it had run on


class OneAtATimeLLM(SlowLLM):
    """Writes one answer at a time, as llama.cpp does (a lock)."""

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        with self._lock:
            yield from super().stream_chat(messages, **kwargs)


def test_the_local_model_queue_is_bounded_and_evidence_comes_first(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    engine = make_engine(llm_backend="local", local_queue=1)  # one writing, one waiting
    engine.ingest([seeds_copy])
    reply = " ".join(["The PMF wanted the troops to stay."] * 30)
    llm = OneAtATimeLLM().enqueue(reply, reply, reply)
    seen: dict[str, list[tuple[float, str]]] = {"a": [], "b": []}

    def stream(base: str, name: str) -> None:
        body = {"question": PMF, "stream": True}
        with httpx.stream("POST", f"{base}/v1/answer", json=body, timeout=60) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("event: "):
                    seen[name].append((time.monotonic(), line.removeprefix("event: ")))

    with engine.override_llm("local", llm), live(create_app(engine, engine.settings, ui=False)) as base:
        clients = [threading.Thread(target=stream, args=(base, name)) for name in seen]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 30
        while not all(seen.values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = httpx.post(f"{base}/v1/answer", json={"question": PMF}, timeout=30)
        for c in clients:
            c.join(timeout=60)
        after = httpx.post(f"{base}/v1/answer", json={"question": PMF}, timeout=60)
    assert busy.status_code == 503 and busy.headers["Retry-After"], busy.text
    assert "local model is busy" in busy.json()["error"]["message"]
    assert after.status_code == 200, after.text  # places are given back
    first_done = min(events[-1][0] for events in seen.values())
    for events in seen.values():  # the waiting request had its evidence before the other finished
        assert events[0][1] == "passages" and events[0][0] < first_done and events[-1][1] == "answer"


def test_a_streaming_client_that_hangs_up_stops_the_generation(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    engine = make_engine(llm_backend="openai")
    engine.ingest([seeds_copy])
    llm = SlowLLM().enqueue(" ".join(["The PMF wanted the troops to stay."] * 60))
    with engine.override_llm("openai", llm), live(create_app(engine, engine.settings, ui=False)) as base:
        with httpx.stream(
            "POST", f"{base}/v1/answer", json={"question": PMF, "stream": True}, timeout=30
        ) as r:
            assert r.status_code == 200
            next(r.iter_lines())  # the passages have come; then the client hangs up
        time.sleep(1.5)
        stopped_at = llm.produced
        time.sleep(0.5)
    assert llm.produced == stopped_at < 200  # 420 words if it had run on
