"""Faults at the edges answer with one line or one JSON error, never a traceback (issue 12)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.wiring import Engine
from tests.conftest import ROOT
from tests.test_serve_live import RAG
from ui.server import create_app


def rag(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_DATA_DIR"] = str(data)
    return subprocess.run([RAG, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def one_line_error(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for w in words:
        assert w in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["search", "anything"], ["ingest", "seeds"], ["serve", "--port", "1"]])
def test_data_dir_that_is_a_file_is_one_line(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "data"
    data.write_text("not a folder")
    one_line_error(rag(command, data), "RAG_DATA_DIR", str(data))


def test_models_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "models").write_text("not a folder")
    one_line_error(rag(["prepare"], data), str(data / "models"))


def test_models_dir_that_is_a_file_is_a_503_from_the_api(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(llm_backend="local")
    (engine.settings.data_dir / "models").write_text("not a folder")
    client = TestClient(create_app(engine, engine.settings, ui=False), raise_server_exceptions=False)
    r = client.post("/v1/answer", json={"question": "Who won?"})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["type"] == "configuration_error"
    assert str(engine.settings.data_dir / "models") in r.json()["error"]["message"]


def test_head_and_options_under_v1_answer_in_the_error_shape(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(llm_backend="extractive")
    client = TestClient(create_app(engine, engine.settings, ui=False), raise_server_exceptions=False)
    for method in ("OPTIONS", "TRACE"):
        r = client.request(method, "/v1/search")
        assert r.status_code == 405 and r.headers["allow"] == "GET", r.text
        assert r.json()["error"]["message"] == f"{method} is not allowed on /v1/search; use GET"
        r = client.request(method, "/v1/nothing")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error", r.text
    head = client.head("/v1/answer")
    assert head.status_code == 405 and head.headers["allow"] == "POST"
    assert client.head("/v1/nothing").status_code == 404
