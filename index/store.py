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
_META_FIELDS = ("doc_id", "title", "outlet", "date", "path", "sha256", "stamp")


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
    # "size:mtime_ns:chunking" of the file when it was indexed: re-ingest skips a file whose stamp
    # and sha256 still match without reading it again ("" in indexes built before stamps).
    stamp: str = ""

    @classmethod
    def from_chunk(cls, article: Article, chunk: Chunk, stamp: str = "") -> ChunkRecord:
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
            stamp=stamp,
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
            stamp=str(meta.get("stamp", "")),
        )


@dataclass(frozen=True)
class DocState:
    """What the store holds for one document ("" for a field its chunks disagree on)."""

    sha256: str
    chunk_ids: frozenset[str]
    path: str = ""
    stamp: str = ""


class VectorStore:
    """A Chroma collection holding chunk texts, embeddings and metadata.

    Takes a chromadb client (persistent or HTTP: the code path is the same). The collection
    records which embedding model filled it, and refuses to mix in vectors from another one.
    """

    def __init__(self, client: Any, collection: str, *, embed_model: str, dimensions: int) -> None:
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
        """For each stored document: the file hash, path and stamp it was built from, its chunk ids."""
        ids: dict[str, set[str]] = {}
        seen: dict[str, set[tuple[str, str, str]]] = {}
        for got in self._pages(["metadatas"], page=max(1000, self.max_batch_size)):
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                doc = str(meta["doc_id"])
                ids.setdefault(doc, set()).add(cid)
                seen.setdefault(doc, set()).add(
                    (str(meta.get("sha256", "")), str(meta.get("path", "")), str(meta.get("stamp", "")))
                )
        # A document half-replaced by an interrupted ingest has two hashes: treat it as changed.
        out = {}
        for d, chunk_ids in ids.items():
            sha, path, stamp = next(iter(seen[d])) if len(seen[d]) == 1 else ("", "", "")
            out[d] = DocState(sha, frozenset(chunk_ids), path, stamp)
        return out

    def records(self) -> list[ChunkRecord]:
        """Every stored chunk, ordered by chunk id."""
        out = []
        for got in self._pages(["metadatas", "documents"]):
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(ChunkRecord.from_metadata(cid, text or "", meta))
        return sorted(out, key=lambda r: r.chunk_id)

    def add(self, records: Sequence[ChunkRecord], embeddings: Sequence[Sequence[float]] | np.ndarray) -> None:
        """Add chunks with their embeddings, in batches no larger than the client allows.

        Written straight to the collection: llama-index's node JSON per chunk doubled the metadata
        and was read back at every query.
        """
        if len(records) != len(embeddings):
            raise ValueError("one embedding per record")
        vectors = np.asarray(embeddings, dtype=np.float32)
        for b in range(0, len(records), self.max_batch_size):
            part = records[b : b + self.max_batch_size]
            self._collection.add(
                ids=[r.chunk_id for r in part],
                embeddings=vectors[b : b + self.max_batch_size],
                metadatas=[r.to_metadata() for r in part],
                documents=[r.text for r in part],
            )

    def update_metadata(self, records: Sequence[ChunkRecord]) -> None:
        """Rewrite the metadata of stored chunks (same ids and text: nothing is embedded)."""
        for b in range(0, len(records), self.max_batch_size):
            part = records[b : b + self.max_batch_size]
            self._collection.update(ids=[r.chunk_id for r in part], metadatas=[r.to_metadata() for r in part])

    def delete(self, chunk_ids: Collection[str]) -> None:
        ids = sorted(chunk_ids)
        for b in range(0, len(ids), self.max_batch_size):
            self._collection.delete(ids=ids[b : b + self.max_batch_size])

    def query(
        self, embedding: Sequence[float], k: int, doc_ids: Collection[str] | None = None
    ) -> list[tuple[ChunkRecord, float]]:
        """The `k` nearest chunks with their cosine similarity, optionally within `doc_ids`."""
        if doc_ids is not None and not doc_ids:
            return []
        k = min(k, self.count())
        if k <= 0:
            return []
        where = None if doc_ids is None else {"doc_id": {"$in": sorted(doc_ids)}}
        got = self._collection.query(
            query_embeddings=[list(embedding)],
            n_results=k,
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        # With cosine space, similarity = 1 - distance.
        return [
            (ChunkRecord.from_metadata(cid, text or "", dict(meta)), 1.0 - float(dist))
            for cid, text, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]


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


def record_key(chunk_id: str, sha256: str, path: str) -> str:
    """What identifies a stored chunk and the file version it was labelled with."""
    return f"{chunk_id}\x1f{sha256}\x1f{path}"


def fingerprint(keys: Iterable[str]) -> str:
    """Of a set of `record_key`s: equal fingerprints, equal index contents."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


class LexicalIndex:
    """BM25 (bm25s) over chunk texts, with the chunk records beside it; saved under a folder.

    `bm25` is an already built (or loaded) bm25s index over `records`, in order; without one it is
    built here.
    """

    def __init__(self, records: Sequence[ChunkRecord], bm25: Any = None) -> None:
        self.records = list(records)
        self.fingerprint = fingerprint(record_key(r.chunk_id, r.sha256, r.path) for r in self.records)
        self._bm25: Any = bm25
        if bm25 is None:
            corpus = [tokenize(f"{r.title}\n{r.text}") for r in self.records]
            if any(corpus):
                import bm25s

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
        if k < len(scores):  # only the k best need sorting
            best = np.argpartition(-scores, k - 1)[:k]
            # Ties keep index order, as a full stable sort would.
            top = best[np.lexsort((best, -scores[best]))]
        else:
            top = np.argsort(-scores, kind="stable")
        return [(self.records[i], float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write atomically: a reader sees the old index or the new one, never half of one."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=folder.parent))
        with (tmp / "records.jsonl").open("w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
        (tmp / "fingerprint").write_text(self.fingerprint)
        if self._bm25 is not None:  # loading the saved index is much faster than rebuilding it
            self._bm25.save(str(tmp / "bm25"))
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None when there is none; the bm25s arrays are memory-mapped."""
        path = folder / "records.jsonl"
        if not path.is_file():
            return None
        records = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                d["sentences"] = tuple(tuple(s) for s in d["sentences"])
                records.append(ChunkRecord(**d))
        bm25 = None
        if (folder / "bm25").is_dir() and records:
            import bm25s

            try:
                bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True)
            except (OSError, ValueError, KeyError):
                bm25 = None  # a damaged saved index is rebuilt from the records
            if bm25 is not None and int(bm25.scores.get("num_docs", -1)) != len(records):
                bm25 = None
        return cls(records, bm25)


def sync_lexical(store: VectorStore, folder: Path, expected: Iterable[str] | None = None) -> LexicalIndex:
    """The saved lexical index if it matches the vector store, else one rebuilt from it and saved.

    With `expected` (the `record_key`s the store holds, known after an ingest) the match is exact;
    without, a cheap count check guards against another process having changed the store.
    """
    current = LexicalIndex.load(folder)
    if current is not None:
        if expected is not None and current.fingerprint == fingerprint(expected):
            return current
        if expected is None and len(current.records) == store.count():
            return current
    return rebuild_lexical(store, folder)


def rebuild_lexical(store: VectorStore, folder: Path) -> LexicalIndex:
    """A lexical index of everything the vector store holds, saved under `folder`."""
    fresh = LexicalIndex(store.records())
    fresh.save(folder)
    return fresh
