"""`PATCH` and `DELETE /v1/documents/{id}`: corrections and removals over HTTP, behind the key."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag.wiring import Engine
from ui.server import create_app

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
DOC = "002_baa8629b5dbd2b1a"


@pytest.fixture
def indexed(make_engine: Callable[..., Engine], seeds_copy: Path) -> Engine:
    engine = make_engine(llm_backend="extractive")
    engine.ingest([seeds_copy])
    return engine


def _client(engine: Engine, key: str | None = KEY) -> TestClient:
    settings = engine.settings.model_copy(update={"api_key": SecretStr(key) if key else None})
    return TestClient(create_app(engine, settings, ui=False))


def test_patch_sets_fields_by_hand_and_citations_show_them(indexed: Engine) -> None:
    c = _client(indexed)
    assert c.patch(f"/v1/documents/{DOC}", json={"date": "2019-12-30"}).status_code == 401
    r = c.patch(f"/v1/documents/{DOC}", json={"date": "2019-12-30", "author": "Jane Doe"}, headers=AUTH)
    assert r.status_code == 200, r.text
    doc = r.json()["document"]
    assert (doc["date"], doc["author"], doc["set_by_hand"]) == ("2019-12-30", "Jane Doe", ["date", "author"])
    listed = {d["doc_id"]: d for d in c.get("/v1/documents", headers=AUTH).json()["documents"]}
    assert listed[DOC]["set_by_hand"] == ["date", "author"]
    assert listed["001_57bc97d0d5dad970"]["set_by_hand"] == []
    a = c.post(
        "/v1/answer",
        json={"question": "Makhmour convoy attack", "backend": "extractive", "filters": {"author": "doe"}},
        headers=AUTH,
    ).json()
    assert a["citations"] and {(x["doc_id"], x["date"], x["author"]) for x in a["citations"]} == {
        (DOC, "2019-12-30", "Jane Doe")
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [({"date": "30/12/2019"}, 422), ({"title": "x"}, 422), ({"outlet": "x" * 201}, 422)],
)
def test_patch_refuses_bad_input(indexed: Engine, body: dict[str, str], status: int) -> None:
    assert _client(indexed).patch(f"/v1/documents/{DOC}", json=body, headers=AUTH).status_code == status


def test_patch_and_delete_need_a_configured_key(indexed: Engine) -> None:
    c = _client(indexed, key=None)
    assert c.patch(f"/v1/documents/{DOC}", json={"outlet": "X"}).status_code == 403
    assert c.delete(f"/v1/documents/{DOC}").status_code == 403


def test_delete_removes_the_document_from_both_stores(indexed: Engine) -> None:
    c = _client(indexed)
    assert c.delete("/v1/documents/nope", headers=AUTH).status_code == 404
    r = c.delete(f"/v1/documents/{DOC}", headers=AUTH)
    assert r.status_code == 200 and r.json()["removed"]["doc_id"] == DOC
    assert DOC not in {r.doc_id for r in indexed.store.records()}
    hits = c.get("/v1/search", params={"q": "Makhmour Qarachokh", "k": 10, "mode": "bm25"}, headers=AUTH)
    assert DOC not in {p["doc_id"] for p in hits.json()["passages"]}
    assert c.get(f"/v1/documents/{DOC}", headers=AUTH).status_code == 404


def test_swagger_ui_is_served_from_the_package_not_a_cdn(indexed: Engine) -> None:
    c = _client(indexed)
    page = c.get("/docs")
    assert page.status_code == 200 and "http" not in page.text.split("<body>")[1].replace("openapi", "")
    for asset in re.findall(r"""(?:src|href)=["'](/docs-assets/[^"']+)""", page.text):
        assert c.get(asset).status_code == 200, asset
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert c.get("/openapi.json").json()["paths"]["/v1/documents/{doc_id}"].keys() >= {"patch", "delete"}


def test_a_bad_upload_over_http_leaves_the_earlier_one_indexed(indexed: Engine) -> None:
    c = _client(indexed)
    text = (
        "Port reopens\n\nThe port of Umm Qasr reopened on Monday after six weeks of dredging, "
        "officials said.\n"
    )
    assert c.post("/v1/documents", json={"id": "port", "text": text}, headers=AUTH).status_code == 201
    bad = c.post("/v1/documents", json={"id": "port", "text": "Advertisement\n"}, headers=AUTH)
    assert bad.status_code == 422 and "no article text" in bad.text
    assert c.get("/v1/documents/port", headers=AUTH).json()["text"] == text
    assert indexed.search("Umm Qasr dredging", k=1)[0].doc_id == "port"
