"""The `rag` console script as a user runs it: real process, real embedded model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow
RAG = str(Path(sys.executable).with_name("rag"))


def run(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "RAG_DATA_DIR": str(data), **env}
    environ.pop("RAG_CHROMA_URL", None) if "RAG_CHROMA_URL" not in env else None
    return subprocess.run([RAG, *args], capture_output=True, text=True, cwd=ROOT, env=environ, timeout=300)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli") / "data"
    r = run(["ingest", str(SEEDS), "--json"], d)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "documents": 5,
        "chunks": json.loads(r.stdout)["chunks"],
        "added": 5,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
    }
    return d


def test_reingest_json(data: Path) -> None:
    r = run(["ingest", str(SEEDS), "--json"], data)
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)
    assert set(counts) == {"documents", "chunks", "added", "updated", "removed", "unchanged"}
    assert counts["unchanged"] == 5 and counts["added"] == 0


def test_search_json_fields(data: Path) -> None:
    r = run(["search", "Who leads the Badr organization?", "-k", "3", "--json"], data)
    assert r.returncode == 0, r.stderr
    passages = json.loads(r.stdout)
    assert len(passages) == 3
    for p in passages:
        assert {"doc_id", "title", "outlet", "date", "chunk_id", "start", "end", "text", "score"} <= set(p)
        raw = (SEEDS / f"{p['doc_id']}.txt").read_text(encoding="utf-8")
        assert raw[p["start"] : p["end"]].startswith(p["text"].splitlines()[0])


def test_search_filters(data: Path) -> None:
    r = run(["search", "militias", "--outlet", "Washington Times", "--since", "2019", "--json"], data)
    assert r.returncode == 0, r.stderr
    assert {p["outlet"] for p in json.loads(r.stdout)} == {"Washington Times"}


def test_plain_output_is_readable(data: Path) -> None:
    r = run(["search", "Hashd al-Shaabi"], data)
    assert r.returncode == 0, r.stderr
    assert "[1]" in r.stdout and "Anti-Media" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "no/such/folder"], "no such file or folder"),
        (["search", "   "], "the question is empty"),
        (["search", "x", "--since", "yesterday"], "--since must be a date"),
        (["search", "x", "--since", "2020", "--until", "2019"], "--since is after --until"),
        (["ask", "x", "--since", "2020", "--until", "2019"], "--since is after --until"),
        (["ask", "x", "--backend", "gpt5"], "--backend must be local, openai or extractive"),
    ],
)
def test_errors_are_one_clear_line(data: Path, args: list[str], message: str) -> None:
    r = run(args, data)
    assert r.returncode != 0
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unreadable_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00junk")
    r = run(["ingest", str(bad)], tmp_path / "data")
    assert r.returncode == 1
    assert "not UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    r = run(["search", "x"], tmp_path / "data", RAG_TOP_K="zero")
    assert r.returncode == 1
    assert "RAG_TOP_K" in r.stderr and "Traceback" not in r.stderr
