"""Search and the indexed articles: `GET /v1/search`, `GET/POST /v1/documents`, `GET /v1/documents/{id}`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.types import DocumentInfo, Filters, Mode
from rag.wiring import DOC_ID
from ui.api.common import EngineDep, SettingsDep, question_of
from ui.api.errors import ApiError

router = APIRouter(tags=["documents"])


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="The article, as the file would hold it.")
    id: str | None = Field(None, pattern=DOC_ID, description="Document id (default: from filename or text).")
    filename: str | None = Field(
        None, max_length=255, description="Its suffix picks the format: .txt (default), .md, .html, .htm."
    )


def doc_json(d: DocumentInfo) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "title": d.title,
        "outlet": d.outlet,
        "date": d.date,
        "chunks": d.chunks,
        "filename": Path(d.path).name,
        "sha256": d.sha256,
    }


@router.get("/v1/search")
def search(
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="What to look for.")],
    k: Annotated[int | None, Query(ge=1, le=100, description="Passages (default RAG_TOP_K).")] = None,
    mode: Annotated[Mode, Query(description="hybrid, dense or bm25")] = "hybrid",
    outlet: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD, YYYY-MM or YYYY")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD, YYYY-MM or YYYY")] = None,
) -> dict[str, Any]:
    """Hybrid (dense + BM25) search: passages with offsets into the original files."""
    f = Filters.parse(outlet, since, until)
    passages = engine.search(question_of(q, settings), k=k, filters=f, mode=mode)
    return {"passages": [p.to_dict() for p in passages]}


@router.get("/v1/documents")
def documents(engine: EngineDep) -> dict[str, Any]:
    """The indexed articles with their metadata."""
    return {"documents": [doc_json(d) for d in engine.documents()]}


@router.get("/v1/documents/{doc_id}")
def document(doc_id: str, engine: EngineDep) -> dict[str, Any]:
    """One article: metadata and the text of its original file (`text[start:end]` is a quote)."""
    d = engine.document(doc_id)
    return {**doc_json(d.info), "text": d.text}


@router.post("/v1/documents", status_code=201)
def upload(req: DocumentIn, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """Ingest one article (needs RAG_API_KEY). It is saved under RAG_DATA_DIR/uploads/; posting
    the same id again replaces it."""
    if settings.api_key is None:
        raise ApiError(
            403,
            "uploads are disabled: set RAG_API_KEY on the server and send `Authorization: Bearer <key>`",
        )
    info, report = engine.add_document(req.text, doc_id=req.id, filename=req.filename)
    status = 201 if report.added else 200
    return JSONResponse({"document": doc_json(info), "ingest": report.counts()}, status_code=status)
