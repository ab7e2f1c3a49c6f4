"""Incremental ingest: bring the stores in line with a set of article files.

A file whose size, mtime and chunking settings match what is indexed is skipped unread; one whose
bytes hash to what is indexed is skipped uncleaned. Changed files are chunked, and only chunks
whose text is new are embedded, in full batches across documents, then written to Chroma in
batches of whole documents (up to the client's max batch size): a document's new chunks are added
and its stale ones deleted in the same flush, so a document is never half-replaced by a finished
flush. On a failure the documents already embedded are still written, and the lexical index is
brought in line with what Chroma holds before the error is raised. `prune` drops documents whose
files are gone.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.chunk import CHUNKER_VERSION, chunk
from index.embed import Embedder
from index.load import load
from index.store import (
    ChunkRecord,
    DocState,
    LexicalIndex,
    VectorStore,
    fingerprint,
    rebuild_lexical,
    record_key,
)


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

    def signature(self) -> str:
        """Changes whenever the same file would be cut differently."""
        return f"{CHUNKER_VERSION}/{self.max_words}/{self.min_words}/{self.overlap}"


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
    """The writes one document needs: chunks to embed and add, to re-label, to delete."""

    doc_id: str
    new: tuple[ChunkRecord, ...]
    kept: tuple[ChunkRecord, ...]  # already stored under the same id; metadata rewritten
    stale: frozenset[str]
    existed: bool


@dataclass(frozen=True)
class _Scan:
    plans: tuple[_Plan, ...]
    unchanged: int
    skipped: tuple[str, ...]
    seen_docs: frozenset[str]


def _stamp(path: Path, chunking: ChunkingOptions) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{chunking.signature()}"


def _scan(files: Sequence[Path], states: dict[str, DocState], chunking: ChunkingOptions) -> _Scan:
    """Read, clean and chunk what changed (every file, before any store is touched)."""
    plans: list[_Plan] = []
    skipped: list[str] = []
    unchanged = 0
    for path in files:
        doc_id, where = path.stem, str(path.resolve())
        state = states.get(doc_id)
        stamp = _stamp(path, chunking)
        same_place = state is not None and state.path == where and state.stamp.endswith(chunking.signature())
        if state is not None and same_place and state.stamp == stamp:
            # Size, mtime and settings as indexed: not even read.
            unchanged += 1
            continue
        data = path.read_bytes()
        if state is not None and same_place and state.sha256 == hashlib.sha256(data).hexdigest():
            # Touched, not changed.
            unchanged += 1
            continue
        article = load(path, data)
        records = [
            ChunkRecord.from_chunk(article, c, stamp)
            for c in chunk(
                article, max_words=chunking.max_words, min_words=chunking.min_words, overlap=chunking.overlap
            )
        ]
        old = state.chunk_ids if state is not None else frozenset()
        if not records:
            skipped.append(article.path or doc_id)
            if state is not None:  # the file was emptied: its old chunks go
                plans.append(_Plan(doc_id, (), (), old, True))
            continue
        ids = {r.chunk_id for r in records}
        plans.append(
            _Plan(
                doc_id,
                new=tuple(r for r in records if r.chunk_id not in old),
                # Kept chunks take the new file's hash, path and stamp (else the document would
                # look half-replaced, and so changed, on every later run).
                kept=tuple(r for r in records if r.chunk_id in old),
                stale=old - ids,
                existed=state is not None,
            )
        )
    return _Scan(tuple(plans), unchanged, tuple(skipped), frozenset(f.stem for f in files))


class _Writer:
    """Holds embedded documents and writes them to Chroma a batch of whole documents at a time.

    A flush happens when the held chunks fill the client's max batch size, or `flush_seconds`
    after the last one (so a killed run loses at most that much embedding work).
    """

    def __init__(self, store: VectorStore, progress: Progress, flush_seconds: float) -> None:
        self._store = store
        self._progress = progress
        self._flush_seconds = flush_seconds
        self._held: list[tuple[_Plan, np.ndarray]] = []
        self._chunks = 0
        self._last = time.monotonic()

    def hold(self, plan: _Plan, vectors: np.ndarray) -> None:
        self._held.append((plan, vectors))
        self._chunks += len(plan.new)
        due = time.monotonic() - self._last >= self._flush_seconds
        if self._chunks >= self._store.max_batch_size or due:
            self.flush()

    def flush(self) -> None:
        held, self._held, self._chunks = self._held, [], 0
        self._last = time.monotonic()
        if not held:
            return
        records = [r for plan, _ in held for r in plan.new]
        if records:
            self._store.add(records, np.concatenate([v for _, v in held if len(v)]))
        self._store.update_metadata([r for plan, _ in held for r in plan.kept])
        # New chunks first, stale ones after: an interruption leaves extra chunks, never missing ones.
        self._store.delete({i for plan, _ in held for i in plan.stale})
        self._progress.advance(documents=len(held))


def _embed_all(plans: Sequence[_Plan], embedder: Embedder, writer: _Writer, progress: Progress) -> int:
    """Embed every new chunk in full batches across documents; hand each finished document on."""
    batch = max(1, int(embedder.embed_batch_size))
    queue = [(p, r.text) for p in plans for r in p.new]
    done: dict[str, list[np.ndarray]] = {}
    for p in plans:
        if not p.new:
            writer.hold(p, np.zeros((0, 0), dtype=np.float32))
    for b in range(0, len(queue), batch):
        part = queue[b : b + batch]
        vectors = np.asarray(embedder.get_text_embedding_batch([t for _, t in part]), dtype=np.float32)
        progress.advance(chunks=len(part))
        for (plan, _), v in zip(part, vectors, strict=True):
            got = done.setdefault(plan.doc_id, [])
            got.append(v)
            if len(got) == len(plan.new):
                writer.hold(plan, np.stack(done.pop(plan.doc_id)))
    return len(queue)


def _lexical_after(
    store: VectorStore,
    folder: Path,
    states: dict[str, DocState],
    plans: Sequence[_Plan],
    gone: Sequence[str],
    expected: dict[str, set[str]],
) -> LexicalIndex:
    """The lexical index for what the store now holds.

    Built from the saved one plus this run's records when the saved one matched the store before
    the run (reading every chunk back from Chroma is what costs at 100k chunks), else from Chroma.
    """
    want = fingerprint(k for keys in expected.values() for k in keys)
    current = LexicalIndex.load(folder)
    if current is not None and current.fingerprint == want:
        return current
    before = fingerprint(record_key(i, s.sha256, s.path) for s in states.values() for i in s.chunk_ids)
    prior = current.records if current is not None and current.fingerprint == before else None
    if prior is None and not states:
        prior = []
    if prior is not None:
        touched = {p.doc_id for p in plans} | set(gone)
        records = [r for r in prior if r.doc_id not in touched] + [r for p in plans for r in p.new + p.kept]
        fresh = LexicalIndex(sorted(records, key=lambda r: r.chunk_id))
        if fresh.fingerprint == want:
            fresh.save(folder)
            return fresh
    return rebuild_lexical(store, folder)


def ingest(
    files: Sequence[Path],
    *,
    store: VectorStore,
    embedder: Embedder,
    lexical_dir: Path,
    prune: bool = False,
    chunking: ChunkingOptions = ChunkingOptions(),
    progress: Progress | None = None,
    flush_seconds: float = 30.0,
) -> tuple[IngestReport, LexicalIndex]:
    """Ingest `files` (all are read and parsed before the stores are touched)."""
    t0 = time.perf_counter()
    progress = progress or _Quiet()
    states = store.doc_states()
    scan = _scan(files, states, chunking)
    gone = [d for d in states if d not in scan.seen_docs] if prune else []

    progress.start(len(scan.plans) + len(gone), sum(len(p.new) for p in scan.plans))
    writer = _Writer(store, progress, flush_seconds)
    try:
        embedded = _embed_all(scan.plans, embedder, writer, progress)
        for doc in gone:
            writer.hold(_Plan(doc, (), (), states[doc].chunk_ids, True), np.zeros((0, 0), dtype=np.float32))
        writer.flush()
    except BaseException:
        # Keep what is embedded, and leave BM25 agreeing with Chroma, before reporting the error.
        try:
            writer.flush()
        finally:
            rebuild_lexical(store, lexical_dir)
        raise

    # What the store now holds: what it held, with each planned document replaced or removed.
    expected = {d: {record_key(i, s.sha256, s.path) for i in s.chunk_ids} for d, s in states.items()}
    for p in scan.plans:
        expected[p.doc_id] = {record_key(r.chunk_id, r.sha256, r.path) for r in p.new + p.kept}
    for doc in gone:
        del expected[doc]
    lexical = _lexical_after(store, lexical_dir, states, scan.plans, gone, expected)
    report = IngestReport(
        documents=len({r.doc_id for r in lexical.records}),
        chunks=len(lexical.records),
        added=sum(1 for p in scan.plans if not p.existed),
        updated=sum(1 for p in scan.plans if p.existed),
        removed=len(gone),
        unchanged=scan.unchanged,
        embedded=embedded,
        skipped=scan.skipped,
        seconds=time.perf_counter() - t0,
    )
    return report, lexical
