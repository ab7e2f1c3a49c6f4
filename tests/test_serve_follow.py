"""A running `rag serve` follows the index as other processes change it: a CLI ingest on the same
data dir that adds, edits and prunes articles is seen by the next request, without a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDS
from tests.test_serve_live import environment, ingest, serving

pytestmark = [pytest.mark.slow, pytest.mark.server]

NEW_ARTICLE = """Harbour Town Opens Its Glassworks Museum

Published by The Coastal Ledger on 2021-05-04.

The town of Marrowby opened a glassworks museum on Tuesday, the mayor, Ilse Vantongeren, said.
The museum shows four centuries of glassblowing in the harbour district.
Vantongeren said the museum cost 3.2 million euros and would employ eleven people.
Glassblowers from the old Marrowby furnace will give demonstrations every weekend.
"""


def test_server_follows_a_cli_ingest_that_adds_edits_and_prunes(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    data = tmp_path / "data"
    env = environment(data)
    ingest(articles, env)
    seeds = sorted(articles.glob("*.txt"))
    removed, edited = seeds[0].stem, seeds[1]
    with serving(data, env) as base:
        before = httpx.get(f"{base}/v1/search", params={"q": "militias Iraq", "mode": "dense"}, timeout=60)
        assert before.status_code == 200
        assert httpx.get(f"{base}/v1/documents", timeout=30).json()["documents"][0]["doc_id"] == removed

        # Another process changes the index: one article gone, one edited (its chunks replaced), one new.
        seeds[0].unlink()
        edited.write_text(edited.read_text(encoding="utf-8").replace(".", ";", 3), encoding="utf-8")
        (articles / "glassworks.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        summary = ingest(articles, env, "--prune")
        assert (summary["added"], summary["updated"], summary["removed"]) == (1, 1, 1)

        docs = {d["doc_id"] for d in httpx.get(f"{base}/v1/documents", timeout=30).json()["documents"]}
        assert removed not in docs and "glassworks" in docs
        for mode in ("dense", "hybrid", "bm25"):
            r = httpx.get(
                f"{base}/v1/search", params={"q": "Marrowby glassworks museum", "mode": mode}, timeout=60
            )
            assert r.status_code == 200, r.text
            passages = r.json()["passages"]
            assert passages[0]["doc_id"] == "glassworks", mode
            assert removed not in {p["doc_id"] for p in passages}
        r = httpx.get(
            f"{base}/v1/search", params={"q": "militias Iraq", "mode": "dense", "k": 50}, timeout=60
        )
        assert r.status_code == 200, r.text
        assert removed not in {p["doc_id"] for p in r.json()["passages"]}
        answer = httpx.post(
            f"{base}/v1/answer", json={"question": "How much did the Marrowby museum cost?"}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        assert {c["doc_id"] for c in answer.json()["citations"]} == {"glassworks"}
        health = httpx.get(f"{base}/healthz", timeout=30).json()
        assert health["documents"] == len(docs)
