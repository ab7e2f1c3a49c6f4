"""`rag serve` as a user runs it: a real process on a free loopback port, called with the official
`openai` client (streaming and not) and plain HTTP. The extractive backend keeps it fast."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import ROOT, SEEDS
from tests.llama_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.server]
RAG = str(Path(sys.executable).with_name("rag"))
KEY = "live-test-key-5c0ffee"
PMF = "Did PMF leaders want US troops to stay?"


def environment(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    return {
        **env,
        "RAG_DATA_DIR": str(data),
        "RAG_LLM_BACKEND": "extractive",
        "ANONYMIZED_TELEMETRY": "False",
        **extra,
    }


@contextlib.contextmanager
def serving(data: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """`rag serve` on a free loopback port until the block ends; yields the base URL. Its log
    (beside `data`) must show the URL and no traceback."""
    port = free_port()
    log = data.parent / f"serve-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [RAG, "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "rag serve did not come up:\n" + log.read_text()
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    printed = log.read_text()
    assert f"http://127.0.0.1:{port}/" in printed  # the URL is printed for the user
    assert "Traceback" not in printed


def ingest(paths: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    """`rag ingest` in its own process; its JSON summary."""
    r = subprocess.run(
        [RAG, "ingest", str(paths), "--json", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    summary: dict[str, Any] = json.loads(r.stdout)
    return summary


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag ingest seeds` then `rag serve` with an API key; yields the base URL."""
    data = tmp_path_factory.mktemp("serve") / "data"
    env = environment(data, RAG_API_KEY=KEY)
    ingest(SEEDS, env)
    with serving(data, env) as base:
        yield base


@pytest.fixture
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server}/v1", api_key=KEY, max_retries=0, timeout=60)


def test_openai_client_non_streaming(client: openai.OpenAI, server: str) -> None:
    resp = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": PMF}])
    choice = resp.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    content = choice.message.content or ""
    citations: list[dict[str, Any]] = choice.model_extra["citations"]  # type: ignore[index]
    assert citations and {c["doc_id"][:3] for c in citations} >= {"001", "002"}
    auth = {"Authorization": f"Bearer {KEY}"}
    for c in citations:
        assert f"[{c['n']}]" in content
        doc = httpx.get(f"{server}/v1/documents/{c['doc_id']}", headers=auth, timeout=30).json()
        assert doc["text"][c["start"] : c["end"]] == c["quote"]


def test_openai_client_streaming_keeps_the_citations(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": PMF}])
    stream = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": PMF}], stream=True
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    assert text == whole.choices[0].message.content
    assert last.model_extra["citations"] == whole.choices[0].model_extra["citations"]  # type: ignore[index]


def test_openai_client_conversation_and_errors(client: openai.OpenAI, server: str) -> None:
    first = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "What did the PMF militias say about US forces?"}]
    )
    follow = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "user", "content": "What did the PMF militias say about US forces?"},
            {"role": "assistant", "content": first.choices[0].message.content or ""},
            # A follow-up whose answer cites a passage the first answer cited too, so that the
            # number it keeps can be checked (which sentences answer it is grounding's choice).
            {"role": "user", "content": "Did they want them out?"},
        ],
    )
    before = {c["chunk_id"]: c["n"] for c in first.choices[0].model_extra["citations"]}  # type: ignore[index]
    kept = [c for c in follow.choices[0].model_extra["citations"] if c["chunk_id"] in before]  # type: ignore[index]
    assert kept and all(c["n"] == before[c["chunk_id"]] for c in kept)
    assert next(m.id for m in client.models.list()) == "rag"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PMF}])
    wrong = openai.OpenAI(base_url=f"{server}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="rag", messages=[{"role": "user", "content": PMF}])


def test_answer_stream_over_http(server: str) -> None:
    names = []
    with httpx.stream(
        "POST",
        f"{server}/v1/answer",
        json={"question": PMF, "stream": True},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    ) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and names[-1] == "answer":
                final = json.loads(line.removeprefix("data: "))
    assert names[0] == "passages" and names[-1] == "answer" and "token" in names
    assert final["citations"] and not final["abstained"]


def test_chat_page_is_served(server: str) -> None:
    r = httpx.get(f"{server}/", timeout=30)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert httpx.get(f"{server}/docs", timeout=30).status_code == 200


def test_binding_beyond_loopback_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    r = subprocess.run(
        [RAG, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT,
        env=environment(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "RAG_API_KEY" in r.stderr and "0.0.0.0" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_forged_forwarded_for_gets_no_fresh_rate_limit_bucket(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = environment(data, RAG_API_KEY=KEY, RAG_RATE_LIMIT_BURST="3", RAG_RATE_LIMIT_PER_MINUTE="1")
    with serving(data, env) as base:
        codes = [
            httpx.get(
                f"{base}/v1/models",
                headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"10.9.{i}.1"},
                timeout=30,
            ).status_code
            for i in range(6)
        ]
    assert codes == [401, 401, 401, 429, 429, 429]


def test_every_route_needs_the_key_and_the_key_is_never_logged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = environment(data, RAG_API_KEY=KEY, RAG_RATE_LIMIT_PER_MINUTE="0")
    with serving(data, env) as base:
        spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
        api = [(m.upper(), p.replace("{doc_id}", "001")) for p, ops in spec["paths"].items() for m in ops]
        assert len(api) >= 7
        for method, path in api:
            if path == "/healthz":
                continue
            r = httpx.request(method, base + path, timeout=30)
            assert r.status_code == 401, (method, path, r.status_code)
        gradio = [
            ("GET", "/config"),
            ("GET", "/gradio_api/info"),
            ("POST", "/gradio_api/queue/join"),
            ("GET", "/gradio_api/queue/data?session_hash=x"),
            ("POST", "/gradio_api/upload"),
            ("GET", "/gradio_api/file=/etc/passwd"),
            ("GET", f"/gradio_api/file={ROOT / 'seeds' / '000_3e154789b8fcb6c2.txt'}"),
            ("POST", "/gradio_api/run/predict"),
        ]
        for method, path in gradio:
            r = httpx.request(method, base + path, timeout=30)
            assert r.status_code in (401, 403, 404), (method, path, r.status_code, r.text[:200])
            assert "root:" not in r.text and "Popular Mobilization" not in r.text
        ok = httpx.post(f"{base}/login", data={"username": "me", "password": KEY}, timeout=30)
        assert ok.status_code == 200
        auth = {"Authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{base}/v1/documents", headers=auth, timeout=30).status_code == 200
        logs = list(data.parent.glob("serve-*.log"))
    assert logs and all(KEY not in log.read_text() for log in logs)
