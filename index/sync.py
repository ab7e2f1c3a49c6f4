"""Incremental ingest: bring the stores in line with a set of article files.

Unchanged files cost no embedding work; a changed file gets only its new chunks embedded and its
stale ones deleted (new chunks are added before old ones are removed, so an interrupted run leaves
extra chunks that the next run cleans up, never missing ones); `prune` drops documents whose files
are gone. The lexical index is rebuilt from the vector store afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from llama_index.core.base.embeddings.base import BaseEmbedding

from index.chunk import chunk
from index.load import Article, load_all
from index.store import ChunkRecord, LexicalIndex, VectorStore, sync_lexical


class Progress(Protocol):
    """What ingest reports while it works; the CLI draws it as progress bars."""

    def start(self, documents: int, chunks: int) -> None: ...
    def advance(self, documents: int = 0, chunks: int = 0) -> None: ...


class _Quiet:
    def start(self, documents: int, chunks: int) -> None:
        pass

    def advance(self, documents: int = 0, chunks: int = 0) -> None:
        pass


@dataclass(frozen=True)
class ChunkingOptions:
    max_words: int = 200
    min_words: int = 100
    overlap: int = 1


@dataclass(frozen=True)
class IngestReport:
    """`documents` and `chunks` count what the index holds after the run."""

    documents: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int  # chunks that went through the embedding model
    skipped: tuple[str, ...]  # files with no article text left after cleaning
    seconds: float

    def counts(self) -> dict[str, int]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class _Plan:
    article: Article
    new: tuple[ChunkRecord, ...]
    stale: frozenset[str]
    existed: bool


def ingest(
    files: Sequence[Path],
    *,
    store: VectorStore,
    embedder: BaseEmbedding,
    lexical_dir: Path,
    prune: bool = False,
    chunking: ChunkingOptions = ChunkingOptions(),
    progress: Progress | None = None,
) -> tuple[IngestReport, LexicalIndex]:
    """Ingest `files` (all are read and parsed before the stores are touched)."""
    t0 = time.perf_counter()
    progress = progress or _Quiet()
    articles = load_all(files)
    states = store.doc_states()

    plans: list[_Plan] = []
    skipped: list[str] = []
    unchanged = 0
    keep_ids: set[str] = set()
    for article in articles:
        records = [
            ChunkRecord.from_chunk(article, c)
            for c in chunk(
                article, max_words=chunking.max_words, min_words=chunking.min_words, overlap=chunking.overlap
            )
        ]
        state = states.get(article.doc_id)
        if not records:
            skipped.append(article.path or article.doc_id)
            if state is not None:  # the file was emptied: its old chunks go
                plans.append(_Plan(article, (), state.chunk_ids, True))
            continue
        ids = {r.chunk_id for r in records}
        keep_ids |= ids
        if state is not None and state.sha256 == article.sha256 and state.chunk_ids == ids:
            unchanged += 1
            continue
        old = state.chunk_ids if state else frozenset()
        plans.append(
            _Plan(article, tuple(r for r in records if r.chunk_id not in old), old - ids, state is not None)
        )

    seen_docs = {a.doc_id for a in articles}
    gone = [d for d in states if d not in seen_docs] if prune else []

    progress.start(len(plans) + len(gone), sum(len(p.new) for p in plans))
    embedded = 0
    batch = max(1, int(embedder.embed_batch_size))
    for plan in plans:
        for b in range(0, len(plan.new), batch):
            part = plan.new[b : b + batch]
            vectors = embedder.get_text_embedding_batch([r.text for r in part])
            store.add(part, vectors)
            embedded += len(part)
            progress.advance(chunks=len(part))
        store.delete(plan.stale)
        progress.advance(documents=1)
    for doc in gone:
        store.delete(states[doc].chunk_ids)
        progress.advance(documents=1)

    # Ids of documents left out of this run (and not pruned) stay in the store.
    remaining = keep_ids | {
        i for d, s in states.items() if d not in seen_docs and d not in gone for i in s.chunk_ids
    }
    lexical = sync_lexical(store, lexical_dir, expected_ids=remaining)
    report = IngestReport(
        documents=len({r.doc_id for r in lexical.records}),
        chunks=len(lexical.records),
        added=sum(1 for p in plans if not p.existed),
        updated=sum(1 for p in plans if p.existed),
        removed=len(gone),
        unchanged=unchanged,
        embedded=embedded,
        skipped=tuple(skipped),
        seconds=time.perf_counter() - t0,
    )
    return report, lexical
