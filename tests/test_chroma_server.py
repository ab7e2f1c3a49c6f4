"""The same code path against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDS
from tests.test_cli import run

pytestmark = [pytest.mark.server, pytest.mark.slow]
CHROMA = str(Path(sys.executable).with_name("chroma"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def chroma_run(path: Path, port: int) -> Iterator[str]:
    """`chroma run` on loopback, data under `path`, until the block ends; yields its URL."""
    path.mkdir(parents=True, exist_ok=True)
    log = (path / "server.log").open("a")
    proc = subprocess.Popen(
        [CHROMA, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma run did not start: {(path / 'server.log').read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_run(tmp_path_factory.mktemp("chroma-server"), free_port()) as url:
        yield url


def test_ingest_and_search_through_a_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run(["ingest", str(SEEDS), "--json"], data, RAG_CHROMA_URL=chroma_url)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 5
    assert not (data / "chroma").exists()  # vectors live on the server, not in the data dir

    again = run(["ingest", str(SEEDS), "--json"], data, RAG_CHROMA_URL=chroma_url)
    assert json.loads(again.stdout)["unchanged"] == 5

    found = run(["search", "Popular Mobilization Forces leave", "--json"], data, RAG_CHROMA_URL=chroma_url)
    assert found.returncode == 0, found.stderr
    passages = json.loads(found.stdout)
    assert len(passages) == 5
    assert all(p["dense_rank"] is not None or p["bm25_rank"] is not None for p in passages)
    assert any(p["dense_rank"] is not None for p in passages)

    # A worker with an empty data dir rebuilds its lexical index from the server.
    fresh = run(
        ["search", "Popular Mobilization Forces leave", "--json"],
        tmp_path / "other",
        RAG_CHROMA_URL=chroma_url,
    )
    assert fresh.returncode == 0, fresh.stderr
    assert [p["chunk_id"] for p in json.loads(fresh.stdout)] == [p["chunk_id"] for p in passages]


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    r = run(["search", "anything"], tmp_path / "data", RAG_CHROMA_URL=url)
    assert r.returncode == 1
    assert f"cannot reach the Chroma server at {url}" in r.stderr
    assert "Traceback" not in r.stderr


def test_serving_while_the_chroma_server_is_down_is_a_503_until_it_is_back(tmp_path: Path) -> None:
    from tests.test_serve_live import environment, ingest, serving

    port, data, path = free_port(), tmp_path / "data", tmp_path / "chroma"
    env = environment(data, RAG_CHROMA_URL=f"http://127.0.0.1:{port}")
    search = {"q": "Popular Mobilization Forces leave", "mode": "dense"}
    question = {"question": "Did PMF leaders want US troops to stay?"}
    with contextlib.ExitStack() as chroma:
        chroma.enter_context(chroma_run(path, port))
        ingest(SEEDS, env)
        with serving(data, env) as base:
            assert httpx.get(f"{base}/v1/search", params=search, timeout=60).status_code == 200
            chroma.close()  # the Chroma server goes away under a running `rag serve`
            for r in (
                httpx.get(f"{base}/v1/search", params=search, timeout=60),
                httpx.post(f"{base}/v1/answer", json=question, timeout=60),
                httpx.get(f"{base}/healthz", timeout=60),
            ):
                assert r.status_code == 503, r.text
                assert r.json()["error"]["type"] == "backend_unavailable"
                assert "Chroma" in r.json()["error"]["message"] and "Retry-After" in r.headers
            with chroma_run(path, port):  # back: served again without a restart
                assert httpx.get(f"{base}/v1/search", params=search, timeout=60).status_code == 200
                assert httpx.post(f"{base}/v1/answer", json=question, timeout=60).status_code == 200
                assert httpx.get(f"{base}/healthz", timeout=60).json()["status"] == "ok"
