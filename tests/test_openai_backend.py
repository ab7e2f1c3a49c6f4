"""The `openai` LLM backend on the wire: a real llama.cpp server, plus tiny scripted servers for failures."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from rag.backends.openai_llm import OpenAIChatLLM
from rag.errors import BackendUnavailable
from rag.grammar import choice
from tests.llama_server import LlamaServer, free_port, smollm2_gguf

pytestmark = [pytest.mark.server, pytest.mark.slow]

API_KEY = "test-key"
SHORT = 16  # tokens: the wire is under test, not the model's prose
QUESTION = [
    ChatMessage(role=MessageRole.SYSTEM, content="You are a helpful assistant."),
    ChatMessage(role=MessageRole.USER, content="Name three colours."),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    try:
        model = smollm2_gguf()
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with LlamaServer(model, api_key=API_KEY, log_path=log) as running:
        yield running


@pytest.fixture
def llm(server: LlamaServer) -> OpenAIChatLLM:
    return OpenAIChatLLM(
        base_url=server.base_url, api_key=API_KEY, model=server.alias, max_tokens=SHORT, max_retries=0
    )


# --- a real llama.cpp server ---------------------------------------------------------------------


def test_chat_returns_text(llm: OpenAIChatLLM) -> None:
    answer = llm.chat(QUESTION)
    assert answer.message.role == MessageRole.ASSISTANT
    assert (answer.message.content or "").strip()


def test_stream_chat_yields_deltas_that_add_up(llm: OpenAIChatLLM) -> None:
    chunks = list(llm.stream_chat(QUESTION))
    assert len(chunks) >= 2
    deltas = [c.delta or "" for c in chunks]
    assert all(deltas)
    assert "".join(deltas) == chunks[-1].message.content
    # each chunk carries all the text so far
    assert all(c.message.content == "".join(deltas[: i + 1]) for i, c in enumerate(chunks))


def test_complete_and_stream_complete(llm: OpenAIChatLLM) -> None:
    assert llm.complete("Say hello.").text.strip()
    chunks = list(llm.stream_complete("Say hello."))
    assert len(chunks) >= 2
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].text


def test_request_kwargs_reach_the_server(llm: OpenAIChatLLM) -> None:
    answer = llm.chat(QUESTION, max_tokens=1)
    assert answer.raw.usage.completion_tokens == 1
    assert answer.raw.choices[0].finish_reason == "length"


def test_a_constraint_reaches_a_llama_cpp_server_as_a_grammar(llm: OpenAIChatLLM) -> None:
    reply = llm.chat(QUESTION, constraint=choice(["crimson", "teal"]))
    assert reply.message.content in {"crimson", "teal"}


def test_a_wrong_api_key_names_the_variable(server: LlamaServer) -> None:
    llm = OpenAIChatLLM(base_url=server.base_url, api_key="wrong", model=server.alias, max_retries=0)
    with pytest.raises(BackendUnavailable, match="OPENAI_API_KEY") as e:
        llm.chat(QUESTION)
    assert "401" in str(e.value)


# --- failures, from servers that misbehave on purpose --------------------------------------------


def test_metadata_and_no_key_in_payloads() -> None:
    llm = OpenAIChatLLM(base_url="http://127.0.0.1:9/v1", api_key="secret", model="m", max_tokens=32)
    assert llm.metadata.is_chat_model
    assert (llm.metadata.model_name, llm.metadata.num_output) == ("m", 32)
    # instrumentation events carry the model's payload: the key must not be in it
    assert "secret" not in json.dumps(llm.to_dict(), default=str)
    assert "secret" not in repr(llm)


def test_a_server_that_is_down_is_reported_quickly() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    llm = OpenAIChatLLM(base_url=url, model="m", max_retries=0, timeout=5)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=f"cannot reach the OpenAI-compatible server at {url}"):
        llm.chat(QUESTION)
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        llm.stream_chat(QUESTION)  # fails when called, not on the first next()
    assert time.monotonic() - started < 5


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()
    for conn in accepted:
        conn.close()


def test_a_server_that_never_answers_times_out(silent_url: str) -> None:
    llm = OpenAIChatLLM(base_url=silent_url, model="m", timeout=0.5, max_retries=0)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"did not answer within 0\.5 s"):
        llm.chat(QUESTION)
    assert time.monotonic() - started < 5


def test_retries_share_one_deadline(silent_url: str) -> None:
    """RAG_OPENAI_TIMEOUT bounds the whole wait, retries included (not each of the three tries)."""
    llm = OpenAIChatLLM(base_url=silent_url, model="m", timeout=1.0, max_retries=2)
    for call in (llm.chat, llm.stream_chat):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match=r"did not answer within 1 s"):
            call(QUESTION)
        assert time.monotonic() - started < 1.8


Script = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], str]]:
    """`scripted(script)` starts an HTTP server that handles every POST with `script`; returns its /v1 URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(script: Script) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                script(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/v1"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def answer(status: int, body: object) -> Script:
    def script(h: BaseHTTPRequestHandler) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return script


def sse_chunk(content: str) -> bytes:
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def stream_then(ending: str) -> Script:
    """Stream two pieces of an answer, then fail: stall, send an error event, or cut the connection."""

    def script(h: BaseHTTPRequestHandler) -> None:
        h.protocol_version = "HTTP/1.1"  # chunked, so a cut connection is an incomplete body
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        events = [sse_chunk("Hel"), sse_chunk("lo")]
        if ending == "error":
            events.append(b'data: {"error": {"message": "the model crashed"}}\n\n')
        for event in events:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
        h.wfile.flush()
        if ending == "stall":
            time.sleep(2)
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    return script


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, {"error": {"message": "out of memory"}}, "answered 500: out of memory"),
        (503, {"detail": "loading model"}, "answered 503: loading model"),
        (401, {"error": {"message": "Incorrect API key"}}, r"refused the API key \(401.*OPENAI_API_KEY"),
        (403, {"detail": "forbidden"}, "refused the API key.*OPENAI_API_KEY"),
        (
            404,
            {"error": {"message": "The model `m` does not exist", "code": "model_not_found"}},
            "has no model 'm'.*RAG_OPENAI_MODEL",
        ),
        (404, {"detail": "Not Found"}, "answered 404: Not Found.*/v1"),
    ],
)
def test_http_errors_become_one_line_messages(
    scripted: Callable[[Script], str], status: int, body: object, expected: str
) -> None:
    url = scripted(answer(status, body))
    llm = OpenAIChatLLM(base_url=url, model="m", max_retries=0)
    calls: list[Callable[[], object]] = [
        lambda: llm.chat(QUESTION),
        lambda: llm.stream_chat(QUESTION),
        lambda: llm.complete("q"),
    ]
    for call in calls:
        with pytest.raises(BackendUnavailable, match=expected) as e:
            call()
        assert "\n" not in str(e.value)
        assert url.rstrip("/") in str(e.value)


def test_a_server_that_rejects_the_grammar_is_asked_again_without_it(
    scripted: Callable[[Script], str],
) -> None:
    calls: list[int] = []
    ok = {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "teal"}, "finish_reason": "stop"}
        ],
    }

    def script(h: BaseHTTPRequestHandler) -> None:
        calls.append(1)
        (
            answer(400, {"error": {"message": "Unrecognized request argument: grammar"}})
            if len(calls) == 1
            else answer(200, ok)
        )(h)

    llm = OpenAIChatLLM(base_url=scripted(script), model="m", max_retries=0)
    assert llm.chat(QUESTION, constraint=choice(["crimson", "teal"])).message.content == "teal"
    assert len(calls) == 2
    llm.chat(QUESTION, constraint=choice(["crimson", "teal"]))
    assert len(calls) == 3  # not sent again: one request


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        ("stall", r"did not answer within 0\.5 s"),
        ("error", "failed: the model crashed"),
        ("cut", "lost the connection to the OpenAI-compatible server at .* mid-answer"),
    ],
)
def test_errors_mid_stream_are_translated(
    scripted: Callable[[Script], str], ending: str, expected: str
) -> None:
    llm = OpenAIChatLLM(base_url=scripted(stream_then(ending)), model="m", timeout=0.5, max_retries=0)
    received: list[str] = []
    with pytest.raises(BackendUnavailable, match=expected):
        for chunk in llm.stream_chat(QUESTION):
            received.append(chunk.delta or "")
    assert received == ["Hel", "lo"]
