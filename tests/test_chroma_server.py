"""The same code path against a real Chroma server (`chroma run`) on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.test_cli import run

pytestmark = [pytest.mark.server, pytest.mark.slow]
CHROMA = str(Path(sys.executable).with_name("chroma"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
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
        log.close()


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
