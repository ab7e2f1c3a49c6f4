"""Questions at every edge (issue 12): one core function cleans and checks them, so the CLI, the
HTTP API and the chat accept and refuse the same questions, and never answer with a traceback."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.errors import BadRequest
from rag.question import clean_question
from rag.wiring import Engine
from tests.conftest import ROOT, SEEDS

LIMIT = 2000
GOOD = "Who leads the Badr organization?"
# (what is typed, what the core gets — or None when it is refused, and the words of the refusal)
CASES: list[tuple[str, str | None, str]] = [
    ("", None, "the question is empty"),
    (" \t\n \u3000 ", None, "the question is empty"),
    ("\x00\x01\x1b[0m", None, "the question is empty"),
    ("?!…", None, "has no words to search for"),
    ("🤔🤔", None, "has no words to search for"),
    ("x" * 100_000, None, "too long (100000 characters; the limit is 2000)"),
    ("\x1b[31m" + GOOD + "\x1b[0m", GOOD, ""),
    ("Who\x00 leads the\x07 Badr\x7f organization?", GOOD, ""),
    ("Who leads the \u202eBadr\u202c organization?\u200b", GOOD, ""),
    ("\x1b]0;title\x07Who leads\tthe\r\nBadr organization?", GOOD, ""),
    ("من يقود منظمة بدر؟", "من يقود منظمة بدر؟", ""),
    ("巴德尔组织的领导人是谁？", "巴德尔组织的领导人是谁？", ""),
    ("Cafe\u0301 Badr?", "Café Badr?", ""),
]


@pytest.mark.parametrize(("typed", "used", "words"), CASES)
def test_clean_question(typed: str, used: str | None, words: str) -> None:
    if used is None:
        with pytest.raises(BadRequest, match=words.replace("(", r"\(").replace(")", r"\)")):
            clean_question(typed, LIMIT)
    else:
        assert clean_question(typed, LIMIT) == used


@pytest.fixture
def engine(make_engine: Callable[..., Engine], seeds_copy: Path) -> Engine:
    e = make_engine(llm_backend="extractive", max_question_chars=LIMIT)
    e.ingest([seeds_copy])
    return e


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    from ui.server import create_app

    with TestClient(create_app(engine, engine.settings, ui=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("typed", "used", "words"), CASES)
def test_every_api_edge_refuses_or_answers_alike(
    client: TestClient, typed: str, used: str | None, words: str
) -> None:
    calls = [
        client.post("/v1/answer", json={"question": typed}),
        client.post(
            "/v1/chat/completions", json={"model": "rag", "messages": [{"role": "user", "content": typed}]}
        ),
    ]
    if len(typed) < 8000:  # longer URLs are refused by HTTP clients and servers themselves
        calls.append(client.get("/v1/search", params={"q": typed}))
    for r in calls:
        assert "Traceback" not in r.text
        if used is None:
            assert r.status_code == 422, r.text
            assert words in r.json()["error"]["message"]
        else:
            assert r.status_code == 200, r.text
    if used is not None:
        assert calls[0].json()["question"] == used  # what the core worked on


def test_ansi_colour_codes_do_not_reach_the_answer(client: TestClient) -> None:
    # Before: "\x1b[31m" went into retrieval and the prompt, and "31" came back as a term to mention.
    body = client.post("/v1/answer", json={"question": "\x1b[31mWho leads the Badr organization?"}).json()
    assert "\x1b" not in str(body) and "[31m" not in str(body) and "31" not in body["answer"]


def _chat_reply(engine: Engine, typed: str) -> str:
    from ui.chat import ChatActions, ChatSession

    outputs: Any = list(
        ChatActions(engine, engine.settings).ask(typed, ChatSession(), 5, "extractive", "", "", "")
    )
    return html.unescape(str(outputs[-1][0][-1]["content"]))


@pytest.mark.parametrize(("typed", "used", "words"), CASES)
def test_the_chat_refuses_or_answers_alike(engine: Engine, typed: str, used: str | None, words: str) -> None:
    reply = _chat_reply(engine, typed)
    assert "Traceback" not in reply and "\x1b" not in reply
    if used is None:
        assert "nr-error" in reply and words[1:] in reply  # capitalised in the chat
    else:
        assert "nr-error" not in reply


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir with the seeds indexed by the real CLI, shared by the CLI cases."""
    d = tmp_path_factory.mktemp("question-cli") / "data"
    env = {**os.environ, "RAG_DATA_DIR": str(d)}
    env.pop("RAG_CHROMA_URL", None)
    rag = str(Path(sys.executable).with_name("rag"))
    subprocess.run(
        [rag, "ingest", str(SEEDS)], check=True, capture_output=True, cwd=ROOT, env=env, timeout=300
    )
    return d


@pytest.mark.slow
@pytest.mark.parametrize(("typed", "used", "words"), [c for c in CASES if c[0] and "\x00" not in c[0]])
def test_the_cli_refuses_or_answers_alike(cli_data: Path, typed: str, used: str | None, words: str) -> None:
    # (A NUL cannot be passed in a command-line argument.)
    data = cli_data
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_MAX_QUESTION_CHARS": str(LIMIT)}
    env.pop("RAG_CHROMA_URL", None)
    rag = str(Path(sys.executable).with_name("rag"))
    r = subprocess.run(
        [rag, "search", typed, "--json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert "Traceback" not in r.stderr
    if used is None:
        assert r.returncode == 2 and words in r.stderr
    else:
        assert r.returncode == 0, r.stderr
