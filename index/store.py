"""The two stores a chunk lives in: a Chroma collection (dense) and a bm25s index (lexical).

Chroma is the source of truth; the lexical index is rebuilt from it whenever the two disagree, so
a crash between the two writes can never leave them out of sync for long.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import Chunk
from index.errors import IndexingError
from index.load import Article

# Chroma metadata cannot hold None: a missing date or outlet is stored as "" and read back as None.
_META_FIELDS = ("doc_id", "title", "outlet", "date", "path", "sha256")


@dataclass(frozen=True)
class ChunkRecord:
    """What the stores keep for one chunk; enough to show and cite it without the source file."""

    chunk_id: str
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    path: str
    sha256: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int, int, int], ...]  # (start, end) in `text`, (start, end) in raw

    @classmethod
    def from_chunk(cls, article: Article, chunk: Chunk) -> ChunkRecord:
        base = chunk.sentences[0].start
        sentences = tuple((s.start - base, s.end - base, s.raw_start, s.raw_end) for s in chunk.sentences)
        return cls(
            chunk_id=chunk.chunk_id,
            doc_id=article.doc_id,
            title=article.title,
            outlet=article.outlet,
            date=article.date,
            path=article.path,
            sha256=article.sha256,
            start=chunk.start,
            end=chunk.end,
            text=chunk.text,
            sentences=sentences,
        )

    def to_metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {k: getattr(self, k) or "" for k in _META_FIELDS}
        meta.update(start=self.start, end=self.end, sentences=json.dumps(self.sentences))
        return meta

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            title=str(meta.get("title", "")),
            outlet=str(meta.get("outlet") or "") or None,
            date=str(meta.get("date") or "") or None,
            path=str(meta.get("path", "")),
            sha256=str(meta.get("sha256", "")),
            start=int(meta["start"]),
            end=int(meta["end"]),
            text=text,
            sentences=tuple(tuple(s) for s in json.loads(str(meta.get("sentences") or "[]"))),
        )


@dataclass(frozen=True)
class DocState:
    sha256: str
    chunk_ids: frozenset[str]


class VectorStore:
    """A Chroma collection holding chunk texts, embeddings and metadata.

    Takes a chromadb client (persistent or HTTP: the code path is the same). The collection
    records which embedding model filled it, and refuses to mix in vectors from another one.
    """

    def __init__(self, client: Any, collection: str, *, embed_model: str, dimensions: int) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self._client = client
        self._collection = client.get_or_create_collection(
            collection,
            # We always pass vectors; Chroma's default embedding function would download a model.
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "embed_model": embed_model, "dimensions": dimensions},
        )
        found = (self._collection.metadata or {}).get("embed_model")
        if found and found != embed_model:
            raise IndexingError(
                f"collection {collection!r} was built with embedding model {found!r}, not {embed_model!r}; "
                "use another RAG_COLLECTION or RAG_DATA_DIR, or delete the old data"
            )
        self._llama = ChromaVectorStore(chroma_collection=self._collection)
        self.max_batch_size = int(client.get_max_batch_size())

    def count(self) -> int:
        return int(self._collection.count())

    def _pages(self, include: list[str], page: int = 1000) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            got = self._collection.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield got
            offset += len(got["ids"])

    def doc_states(self) -> dict[str, DocState]:
        """For each stored document: the file hash it was built from and its chunk ids."""
        shas: dict[str, set[str]] = {}
        ids: dict[str, set[str]] = {}
        for got in self._pages(["metadatas"]):
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                doc = str(meta["doc_id"])
                ids.setdefault(doc, set()).add(cid)
                shas.setdefault(doc, set()).add(str(meta.get("sha256", "")))
        # A document half-replaced by an interrupted ingest has two hashes: treat it as changed.
        return {d: DocState(next(iter(shas[d])) if len(shas[d]) == 1 else "", frozenset(ids[d])) for d in ids}

    def records(self) -> list[ChunkRecord]:
        """Every stored chunk, ordered by chunk id."""
        out = []
        for got in self._pages(["metadatas", "documents"]):
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(ChunkRecord.from_metadata(cid, text or "", meta))
        return sorted(out, key=lambda r: r.chunk_id)

    def add(self, records: Sequence[ChunkRecord], embeddings: Sequence[Sequence[float]]) -> None:
        """Add chunks with their embeddings, in batches no larger than the client allows."""
        from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode

        nodes: list[BaseNode] = [
            TextNode(
                id_=r.chunk_id,
                text=r.text,
                embedding=list(e),
                metadata=r.to_metadata(),
                start_char_idx=r.start,
                end_char_idx=r.end,
                # llama-index writes the source document's id into doc_id/ref_doc_id metadata.
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=r.doc_id)},
            )
            for r, e in zip(records, embeddings, strict=True)
        ]
        for b in range(0, len(nodes), self.max_batch_size):
            self._llama.add(nodes[b : b + self.max_batch_size])

    def delete(self, chunk_ids: Collection[str]) -> None:
        ids = sorted(chunk_ids)
        for b in range(0, len(ids), self.max_batch_size):
            self._collection.delete(ids=ids[b : b + self.max_batch_size])

    def query(
        self, embedding: Sequence[float], k: int, doc_ids: Collection[str] | None = None
    ) -> list[tuple[ChunkRecord, float]]:
        """The `k` nearest chunks with their cosine similarity, optionally within `doc_ids`."""
        from llama_index.core.vector_stores.types import (
            FilterOperator,
            MetadataFilter,
            MetadataFilters,
            VectorStoreQuery,
        )

        if doc_ids is not None and not doc_ids:
            return []
        filters = None
        if doc_ids is not None:
            filters = MetadataFilters(
                filters=[MetadataFilter(key="doc_id", value=sorted(doc_ids), operator=FilterOperator.IN)]
            )
        k = min(k, self.count())
        if k <= 0:
            return []
        result = self._llama.query(
            VectorStoreQuery(query_embedding=list(embedding), similarity_top_k=k, filters=filters)
        )
        out = []
        for node, sim in zip(result.nodes or [], result.similarities or [], strict=True):
            meta = dict(node.metadata)
            # ChromaVectorStore reports exp(-distance); with cosine space, similarity = 1 - distance.
            out.append(
                (ChunkRecord.from_metadata(node.node_id, node.get_content(), meta), 1.0 + float(np.log(sim)))
            )
        return out


_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    (
        "a an and are as at be but by did do does for from had has have he her his how i if in into is it  "
        "its of on or she that the their them they this to was were what when where which who whom why will  "
        "with would you"
    ).split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stopwords; possessives reduced ("iraq's" → "iraq")."""
    toks = (t.split("'")[0].split("’")[0] for t in _TOKEN.findall(text.lower()))
    return [t for t in toks if t not in STOPWORDS]


def fingerprint(chunk_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(chunk_ids)).encode()).hexdigest()


class LexicalIndex:
    """BM25 (bm25s) over chunk texts, with the chunk records beside it; saved under a folder."""

    def __init__(self, records: Sequence[ChunkRecord]) -> None:
        import bm25s

        self.records = list(records)
        self.fingerprint = fingerprint(r.chunk_id for r in self.records)
        self._bm25: Any = None
        corpus = [tokenize(f"{r.title}\n{r.text}") for r in self.records]
        if any(corpus):
            self._bm25 = bm25s.BM25()
            self._bm25.index(corpus, show_progress=False)

    def search(
        self, query: str, k: int, doc_ids: Collection[str] | None = None
    ) -> list[tuple[ChunkRecord, float]]:
        """The `k` best chunks by BM25 score (score > 0 only), optionally within `doc_ids`."""
        tokens = tokenize(query)
        if self._bm25 is None or not tokens or k <= 0:
            return []
        known = self._bm25.get_tokens_ids(tokens)
        if not known:
            return []
        scores = np.asarray(self._bm25.get_scores_from_ids(known), dtype=np.float64)
        if doc_ids is not None:
            scores = scores * np.array([r.doc_id in doc_ids for r in self.records], dtype=np.float64)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.records[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write atomically: a reader sees the old index or the new one, never half of one."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=folder.parent))
        with (tmp / "records.jsonl").open("w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
        (tmp / "fingerprint").write_text(self.fingerprint)
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none."""
        path = folder / "records.jsonl"
        if not path.is_file():
            return None
        records = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                d["sentences"] = tuple(tuple(s) for s in d["sentences"])
                records.append(ChunkRecord(**d))
        return cls(records)


def sync_lexical(store: VectorStore, folder: Path, expected_ids: Iterable[str] | None = None) -> LexicalIndex:
    """The saved lexical index if it matches the vector store, else one rebuilt from it and saved.

    With `expected_ids` (the chunk ids the store holds, known after an ingest) the match is exact;
    without, a cheap count check guards against another process having changed the store.
    """
    current = LexicalIndex.load(folder)
    if current is not None:
        if expected_ids is not None and current.fingerprint == fingerprint(expected_ids):
            return current
        if expected_ids is None and len(current.records) == store.count():
            return current
    fresh = LexicalIndex(store.records())
    fresh.save(folder)
    return fresh
