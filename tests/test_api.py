"""The HTTP API in-process (FastAPI TestClient): every endpoint, the SSE order, auth and limits,
the error shape, the OpenAI shape. Answers come from the real embedding over the seeds with the
extractive backend or a scripted LLM installed as the configured backend."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag import backends
from rag.answer import SIDE_PASSAGES
from rag.errors import BackendUnavailable
from rag.settings import Settings
from rag.wiring import Engine
from tests.conftest import SEEDS
from tests.fakes import ScriptedLLM
from ui.server import RateLimiter, check_bind, create_app

pytestmark = pytest.mark.slow  # the real embedding model over the seeds

PMF = "Did PMF leaders want US troops to stay?"
KEY = "test-key-0123456789"


def sse_events(text: str) -> list[tuple[str | None, Any]]:
    """Parse a text/event-stream body into (event name, data) pairs; comments are skipped."""
    out: list[tuple[str | None, Any]] = []
    for block in text.strip().split("\n\n"):
        name = data = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
        if data is not None:
            out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


def assert_error(r: Any, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and {"type", "message"} <= set(body["error"]), body
    assert "Traceback" not in r.text
    for w in words:
        assert w in body["error"]["message"], body
    return dict(body["error"])


@pytest.fixture
def make_client(real_engine: Engine) -> Iterator[Callable[..., TestClient]]:
    """Clients on apps over the shared real engine, with server settings overridden per test."""
    clients: list[TestClient] = []

    def make(engine: Engine | None = None, **overrides: Any) -> TestClient:
        eng = engine or real_engine
        # These tests pick backends per request, which needs the operator's leave.
        settings = eng.settings.model_copy(update={"client_backends": "all", **overrides})
        c = TestClient(create_app(eng, settings, ui=False), raise_server_exceptions=False)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def llm(real_engine: Engine) -> Iterator[ScriptedLLM]:
    """A scripted LLM standing in for the configured backend (nothing real is loaded)."""
    fake = ScriptedLLM()
    with real_engine.override_llm(real_engine.settings.llm_backend, fake):
        yield fake


@pytest.fixture
def upload_engine(make_engine: Callable[..., Engine], seeds_copy: Path) -> Engine:
    """A private engine (fake embedding, temporary store) that uploads may change."""
    engine = make_engine(llm_backend="extractive", openai_api_key=None, openai_base_url=None)
    engine.ingest([seeds_copy])
    return engine


# ----------------------------------------------------------------------------- answers


def test_answer_json_cites_exact_spans_of_the_documents(client: TestClient) -> None:
    r = client.post("/v1/answer", json={"question": PMF, "backend": "extractive"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert {"question", "answer", "abstained", "citations", "evidence", "conflicts", "passages"} <= set(a)
    assert {"backend", "timings", "claims", "standalone_question", "notes"} <= set(a)
    assert a["backend"] == "extractive" and not a["abstained"]
    assert {c["doc_id"][:3] for c in a["citations"]} >= {"001", "002"}  # both sides
    for c in a["citations"]:
        doc = client.get(f"/v1/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in a["answer"]


def test_answer_stream_sends_passages_then_tokens_then_the_verified_answer(
    client: TestClient, real_engine: Engine, llm: ScriptedLLM
) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    stay = next(c.n for c in first.citations if c.doc_id.startswith("001"))
    leave = next(c.n for c in first.citations if c.doc_id.startswith("002"))
    reply = (
        f"Former Shiites wanted the Americans to stay [{stay}]. "
        f"The PMF is stepping up its quest to expel U.S. forces from the country [{leave}]. "
        "They also received 300 tanks from China [9]."
    )
    llm.enqueue(reply)
    r = client.post("/v1/answer", json={"question": PMF, "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    names = [n for n, _ in events]
    assert names[0] == "passages" and names[-1] == "answer"
    assert set(names[1:-1]) == {"token"} and len(names) > 3
    passages = events[0][1]
    assert passages["passages"] and {"passages", "evidence", "conflicts"} == set(passages)
    final = events[-1][1]
    streamed = "".join(d["text"] for n, d in events if n == "token")
    assert streamed == final["answer"]  # only verified sentences are streamed: the answer itself
    assert "China" not in streamed and "China" not in final["answer"]
    assert any(not c["supported"] and "China" in c["text"] for c in final["claims"])
    assert [p["chunk_id"] for p in final["passages"]] == [p["chunk_id"] for p in passages["passages"]]


def test_stream_failure_after_passages_is_an_error_event_without_traceback(
    client: TestClient, llm: ScriptedLLM
) -> None:
    llm.enqueue(RuntimeError("secret internal detail"))
    r = client.post("/v1/answer", json={"question": PMF, "stream": True})
    events = sse_events(r.text)
    assert [n for n, _ in events] == ["passages", "error"]
    assert events[1][1]["error"]["type"] == "internal_error"
    assert "secret internal detail" not in r.text and "Traceback" not in r.text


def test_filters_and_k(client: TestClient) -> None:
    body = {"question": PMF, "backend": "extractive", "k": 2, "filters": {"outlet": "washington times"}}
    a = client.post("/v1/answer", json=body).json()
    assert 2 < len(a["passages"]) <= 2 + SIDE_PASSAGES  # a question with sides reads a few more
    assert {p["outlet"] for p in a["passages"]} == {"Washington Times"}
    plain = {**body, "question": "Where were the soldiers of the convoy travelling from?"}
    assert len(client.post("/v1/answer", json=plain).json()["passages"]) == 2
    dated = {"question": PMF, "backend": "extractive", "filters": {"since": "2020-01", "until": "2020"}}
    a = client.post("/v1/answer", json=dated).json()
    assert a["passages"] and all(p["date"] and p["date"].startswith("2020") for p in a["passages"])
    assert_error(client.post("/v1/answer", json={**body, "filters": {"since": "yesterday"}}), 422, "since")
    bad_range = {"question": PMF, "filters": {"since": "2021", "until": "2020"}}
    assert_error(client.post("/v1/answer", json=bad_range), 422, "after")
    assert_error(client.post("/v1/answer", json={"question": PMF, "k": 0}), 422, "k")
    assert_error(client.post("/v1/answer", json={"question": PMF, "colour": "red"}), 422, "colour")
    assert_error(client.post("/v1/answer", json={"question": PMF, "backend": "gpt5"}), 422, "backend")


def test_history_keeps_citation_numbers_stable_in_both_history_forms(client: TestClient) -> None:
    q1 = "What did the PMF militias say about US forces?"
    first = client.post("/v1/answer", json={"question": q1, "backend": "extractive"}).json()
    follow = "Did they want them to stay?"
    full = client.post(
        "/v1/answer", json={"question": follow, "backend": "extractive", "history": [first]}
    ).json()
    assert "follow-up to" in full["standalone_question"]
    before = {p["chunk_id"]: p["n"] for p in first["passages"]}
    for p in full["passages"]:
        assert p["n"] == before[p["chunk_id"]] if p["chunk_id"] in before else p["n"] > max(before.values())
    # The short form (just the earlier question) is replayed to the same numbers.
    short = client.post(
        "/v1/answer", json={"question": follow, "backend": "extractive", "history": [{"question": q1}]}
    ).json()
    assert [(p["n"], p["chunk_id"]) for p in short["passages"]] == [
        (p["n"], p["chunk_id"]) for p in full["passages"]
    ]
    assert short["answer"] == full["answer"]


# ----------------------------------------------------------------------------- OpenAI-compatible


def test_chat_completion_carries_answer_text_and_citations(client: TestClient) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={"model": "rag:extractive", "messages": [{"role": "user", "content": PMF}]},
    )
    assert r.status_code == 200, r.text
    c = r.json()
    assert (
        c["object"] == "chat.completion"
        and c["id"].startswith("chatcmpl-")
        and c["model"] == "rag:extractive"
    )
    choice = c["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    direct = client.post("/v1/answer", json={"question": PMF, "backend": "extractive"}).json()
    assert choice["message"]["content"] == direct["answer"]
    assert choice["citations"] == direct["citations"] and choice["abstained"] is False


def test_chat_completion_stream_sends_only_verified_text_and_citations_last(
    client: TestClient, real_engine: Engine, llm: ScriptedLLM
) -> None:
    first = real_engine.ask(PMF, backend="extractive")
    stay = next(c.n for c in first.citations if c.doc_id.startswith("001"))
    llm.enqueue(
        f"Former Shiites wanted the Americans to stay [{stay}]. They got 300 tanks from China [{stay}]."
    )
    r = client.post(
        "/v1/chat/completions",
        json={"model": "rag", "stream": True, "messages": [{"role": "user", "content": PMF}]},
    )
    assert r.status_code == 200
    events = sse_events(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [d for _, d in events[:-1]]
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
    assert "Former Shiites wanted the Americans to stay" in content
    assert "China" not in content  # the unverified sentence never reaches an OpenAI client
    last = chunks[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["citations"]
    assert {c["n"] for c in last["citations"]} >= {stay}


def test_chat_messages_become_the_conversation(client: TestClient) -> None:
    q1 = "What did the PMF militias say about US forces?"
    follow = "Did they want them to stay?"
    first = client.post("/v1/answer", json={"question": q1, "backend": "extractive"}).json()
    via_answer = client.post(
        "/v1/answer", json={"question": follow, "backend": "extractive", "history": [first]}
    ).json()
    messages = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": [{"type": "text", "text": q1}]},
        {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": follow},
    ]
    c = client.post("/v1/chat/completions", json={"model": "rag:extractive", "messages": messages}).json()
    assert c["choices"][0]["message"]["content"] == via_answer["answer"]
    assert c["choices"][0]["citations"] == via_answer["citations"]
    before = {p["chunk_id"]: p["n"] for p in first["passages"]}
    kept = [x for x in c["choices"][0]["citations"] if x["chunk_id"] in before]
    assert kept and all(x["n"] == before[x["chunk_id"]] for x in kept)  # numbers from the first turn


def test_openai_errors_and_models(client: TestClient) -> None:
    msgs = [{"role": "user", "content": PMF}]
    e = assert_error(client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": msgs}), 404)
    assert e["code"] == "model_not_found" and "rag" in e["message"]
    last_is_assistant = [*msgs, {"role": "assistant", "content": "x"}]
    r = client.post("/v1/chat/completions", json={"model": "rag", "messages": last_is_assistant})
    assert_error(r, 400, "last message")
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    assert_error(client.post("/v1/chat/completions", json={"model": "rag", "messages": image}), 400, "text")
    assert_error(client.post("/v1/chat/completions", json={"model": "rag", "messages": []}), 422)
    ids = [m["id"] for m in client.get("/v1/models").json()["data"]]
    assert ids == ["rag", "rag:local", "rag:openai", "rag:extractive"]


# ----------------------------------------------------------------------------- search and documents


def test_search(client: TestClient) -> None:
    r = client.get("/v1/search", params={"q": "Badr organization", "k": 3})
    assert r.status_code == 200, r.text
    ps = r.json()["passages"]
    assert len(ps) == 3 and [p["n"] for p in ps] == [1, 2, 3]
    lexical = client.get("/v1/search", params={"q": "Badr organization", "mode": "bm25"}).json()["passages"]
    assert lexical and all(p["bm25_rank"] and p["dense_rank"] is None for p in lexical)
    raw = (SEEDS / f"{ps[0]['doc_id']}.txt").read_text(encoding="utf-8")
    assert raw[ps[0]["start"] : ps[0]["end"]].startswith(ps[0]["text"].splitlines()[0])
    only = client.get("/v1/search", params={"q": "militias", "outlet": "NJ Times"}).json()["passages"]
    assert only and {p["doc_id"][:3] for p in only} == {"001"}
    assert_error(client.get("/v1/search", params={"q": "  "}), 422, "empty")
    assert_error(client.get("/v1/search", params={"q": "x", "mode": "fuzzy"}), 422, "mode")
    assert_error(client.get("/v1/search", params={"q": "x", "until": "2020-13"}), 422, "until")
    assert_error(client.get("/v1/search"), 422, "q")


def test_documents(client: TestClient) -> None:
    docs = client.get("/v1/documents").json()["documents"]
    assert [d["doc_id"] for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert {"title", "outlet", "date", "chunks", "filename", "sha256"} <= set(docs[0])
    assert "path" not in docs[0]  # server paths stay on the server
    d = client.get(f"/v1/documents/{docs[1]['doc_id']}").json()
    assert d["text"] == (SEEDS / docs[1]["filename"]).read_text(encoding="utf-8")
    assert_error(client.get("/v1/documents/nope"), 404, "nope")


def test_upload_is_refused_without_a_configured_key(make_client: Callable[..., TestClient]) -> None:
    c = make_client()
    e = assert_error(c.post("/v1/documents", json={"text": "x"}), 403, "RAG_API_KEY")
    assert e["type"] == "permission_error"


def test_upload_ingests_an_article(make_client: Callable[..., TestClient], upload_engine: Engine) -> None:
    c = make_client(upload_engine, api_key=SecretStr(KEY))
    auth = {"Authorization": f"Bearer {KEY}"}
    text = (
        "Basra port reopens after dredging\n\nBy Staff Writer\n\n"
        "The port of Umm Qasr reopened on Monday after six weeks of dredging, the harbour authority said. "
        "Officials expect container traffic to double by the end of the year, according to the ministry."
    )
    assert_error(c.post("/v1/documents", json={"text": text}), 401)
    r = c.post("/v1/documents", json={"id": "basra_port", "text": text}, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["document"]["doc_id"] == "basra_port" and r.json()["ingest"]["added"] == 1
    assert (upload_engine.settings.data_dir / "uploads" / "basra_port.txt").read_text() == text
    hits = c.get("/v1/search", params={"q": "Umm Qasr dredging", "k": 1}, headers=auth).json()["passages"]
    assert hits[0]["doc_id"] == "basra_port"
    assert c.get("/v1/documents/basra_port", headers=auth).json()["text"] == text
    again = c.post("/v1/documents", json={"id": "basra_port", "text": text}, headers=auth)
    assert again.status_code == 200 and again.json()["ingest"]["unchanged"] == 1
    seed_id = next(SEEDS.glob("*.txt")).stem
    assert_error(c.post("/v1/documents", json={"id": seed_id, "text": text}, headers=auth), 409, seed_id)
    r = c.post("/v1/documents", json={"filename": "a.pdf", "text": text}, headers=auth)
    assert_error(r, 422, ".pdf")
    assert_error(c.post("/v1/documents", json={"id": "../etc", "text": text}, headers=auth), 422, "id")


# ----------------------------------------------------------------------------- guard and errors


def test_api_key_is_required_on_every_v1_call(make_client: Callable[..., TestClient]) -> None:
    c = make_client(api_key=SecretStr(KEY))
    for method, path in [("get", "/v1/documents"), ("get", "/v1/models"), ("post", "/v1/answer")]:
        r = getattr(c, method)(path)
        assert_error(r, 401, "Bearer")
        assert r.headers["www-authenticate"] == "Bearer"
        assert_error(getattr(c, method)(path, headers={"Authorization": f"Bearer {KEY}x"}), 401)
        assert_error(getattr(c, method)(path, headers={"Authorization": KEY}), 401)
    assert c.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert c.get("/healthz").status_code == 200  # outside /v1/
    assert c.get("/openapi.json").status_code == 200


def test_body_size_and_question_length_limits(make_client: Callable[..., TestClient]) -> None:
    c = make_client(max_request_bytes=1_000, max_question_chars=50)
    assert_error(c.post("/v1/answer", json={"question": "x" * 2_000}), 413, "1000 bytes")
    chunked = c.post(
        "/v1/answer",
        content=iter([b'{"question": "', b"x" * 1_500, b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert_error(chunked, 413, "1000 bytes")
    assert_error(c.post("/v1/answer", json={"question": "y" * 60}), 422, "limit is 50")
    assert_error(c.post("/v1/answer", json={"question": "   "}), 422, "empty")
    long_chat = {"model": "rag", "messages": [{"role": "user", "content": "z" * 60}]}
    assert_error(c.post("/v1/chat/completions", json=long_chat), 422, "limit is 50")
    assert_error(
        c.post("/v1/answer", content=b"{not json", headers={"Content-Type": "application/json"}), 422
    )


def test_rate_limit_per_client(make_client: Callable[..., TestClient]) -> None:
    c = make_client(rate_limit_per_minute=1, rate_limit_burst=3)
    assert [c.get("/v1/models").status_code for _ in range(3)] == [200, 200, 200]
    r = c.get("/v1/models")
    assert_error(r, 429, "too many requests")
    assert int(r.headers["retry-after"]) >= 1
    assert c.get("/healthz").status_code == 200  # not rate limited
    other_app = make_client(rate_limit_per_minute=1, rate_limit_burst=3)
    assert other_app.get("/v1/models").status_code == 200  # buckets belong to the app instance


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0  # another client has its own bucket
    now[0] += 1.0
    assert limiter.take("a") == 0
    assert RateLimiter(per_minute=0, burst=1).take("a") == 0  # 0 disables


def test_core_errors_map_to_status_codes(
    make_client: Callable[..., TestClient],
    upload_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
) -> None:
    c = make_client(upload_engine)

    def down(*a: Any, **k: Any) -> Any:
        raise BackendUnavailable("cannot reach the Chroma server at http://127.0.0.1:9")

    monkeypatch.setattr(upload_engine, "search", down)
    e = assert_error(c.get("/v1/search", params={"q": "x"}), 503, "Chroma")
    assert e["type"] == "backend_unavailable"

    def bug(*a: Any, **k: Any) -> Any:
        raise ZeroDivisionError("secret internal detail")

    monkeypatch.setattr(upload_engine, "search", bug)
    with caplog.at_level(logging.ERROR, logger="newsrag.server"):
        r = c.get("/v1/search", params={"q": "x"})
    e = assert_error(r, 500, "server log")
    assert "secret internal detail" not in r.text
    assert any("secret internal detail" in str(rec.exc_info) for rec in caplog.records)
    assert_error(c.get("/v1/no-such-thing"), 404)
    assert_error(c.delete("/v1/documents"), 405)
    r = c.post(
        "/v1/answer", json={"question": PMF, "backend": "openai"}
    )  # not configured: the operator's to fix (not a 400), and the core says how
    e = assert_error(r, 503, "RAG_OPENAI_BASE_URL")
    assert e["type"] == "configuration_error"


def test_cors_is_closed_by_default_and_opens_to_configured_origins(
    make_client: Callable[..., TestClient],
) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    closed = make_client().options("/v1/answer", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    c = make_client(cors_origins="https://app.example, https://other.example")
    ok = c.options("/v1/answer", headers={**preflight, "Origin": "https://app.example"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in c.options("/v1/answer", headers=preflight).headers


def test_bind_beyond_loopback_needs_a_key(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        check_bind(host, s)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(ValueError, match="RAG_API_KEY"):
            check_bind(host, s)
    check_bind("0.0.0.0", s.model_copy(update={"api_key": SecretStr(KEY)}))
    with pytest.raises(ValueError, match="RAG_API_KEY"):  # RAG_API_KEY= (blank) is no key
        check_bind("0.0.0.0", Settings(data_dir=tmp_path, api_key="  "))  # type: ignore[arg-type]


def test_concurrent_first_requests_load_a_backend_once(
    upload_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []

    def slow_factory(settings: Settings, name: str) -> Any:
        loads.append(name)
        time.sleep(0.2)  # a model load takes a while: others arrive meanwhile
        return ScriptedLLM()

    monkeypatch.setattr(backends, "llm", slow_factory)
    threads = [threading.Thread(target=upload_engine.answerer, args=("local",)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["local"]


def test_ui_is_mounted_at_root_without_shadowing_the_api(real_engine: Engine) -> None:
    app = create_app(real_engine, real_engine.settings)
    with TestClient(app) as c:
        page = c.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "gradio" in page.text.lower()
        assert c.get("/v1/models").json()["object"] == "list"
        assert_error(c.get("/v1/unknown"), 404)
        assert c.get("/docs").status_code == 200
        assert c.get("/healthz").json()["documents"] == len(list(SEEDS.glob("*.txt")))
        big = {"files": ("a.txt", b"x" * (real_engine.settings.max_request_bytes + 1))}
        assert c.post("/gradio_api/upload", files=big).status_code == 413  # gradio's own route, capped


def test_with_a_key_the_chat_needs_it_too(real_engine: Engine) -> None:
    settings = real_engine.settings.model_copy(
        update={"api_key": SecretStr(KEY), "rate_limit_per_minute": 1, "rate_limit_burst": 3}
    )
    with TestClient(create_app(real_engine, settings)) as c:
        assert c.get("/config").status_code == 401  # the chat's config and queue need a sign-in
        assert c.post("/login", data={"username": "me", "password": "wrong"}).status_code == 400
        assert c.post("/login", data={"username": "me", "password": KEY}).status_code == 200
        assert c.get("/config").status_code == 200
        assert c.post("/login", data={"username": "me", "password": "guess"}).status_code == 400
        r = c.post("/login", data={"username": "me", "password": "guess again"})  # 4th: burst is 3
        assert_error(r, 429, "too many requests")  # guessing the key at /login is rate limited
