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

import dataclasses
import errno
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.chunk import CHUNKER_VERSION, chunk
from index.embed import Embedder
from index.errors import IndexingError
from index.load import Article, FileSkipped, Skipped, load, read, unreadable
from index.metadata import METADATA_VERSION
from index.store import (
    ChunkRecord,
    DocState,
    LexicalIndex,
    VectorStore,
    exclusive,
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
        """Changes whenever the same file would be cut or labelled differently."""
        return f"{CHUNKER_VERSION}.{METADATA_VERSION}/{self.max_words}/{self.min_words}/{self.overlap}"


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
    skipped: tuple[Skipped, ...]  # files and folders left out, with the reason
    seconds: float
    indexed: int = 0  # files whose article is in the index after the run (new, changed or unchanged)
    decoded: tuple[Skipped, ...] = ()  # files indexed that were not UTF-8, with the encoding used

    @property
    def nothing_indexed(self) -> bool:
        """Files were left out and none could be indexed (the CLI then exits non-zero)."""
        return bool(self.skipped) and self.indexed == 0

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
    skipped: tuple[Skipped, ...]
    seen_docs: frozenset[str]
    indexed: int
    decoded: tuple[Skipped, ...]


def _stamp(path: Path, chunking: ChunkingOptions) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{chunking.signature()}"


def _scan(files: Sequence[Path], states: dict[str, DocState], chunking: ChunkingOptions) -> _Scan:
    """Read, clean and chunk what changed (every file, before any store is touched).

    A file that cannot be indexed is left out with its reason, and the rest go on. Its indexed
    chunks stay, unless the file is now empty or a copy of another: then they go.
    """
    plans: list[_Plan] = []
    skipped: list[Skipped] = []
    decoded: list[Skipped] = []
    unchanged = 0
    # Where each file stands: absolute path and stamp, or why it cannot even be looked at.
    places: list[tuple[Path, str, str]] = []
    for path in files:
        try:
            places.append((path, str(path.resolve(strict=True)), _stamp(path, chunking)))
        except (OSError, RuntimeError) as e:
            skipped.append(Skipped(str(path), unreadable(e)))
    # The same bytes under two names are indexed once, under the first name by document id (or
    # the one already indexed, when its file has not changed).
    owner = {
        states[path.stem].sha256: (path.stem, where)
        for path, where, stamp in places
        if path.stem in states and states[path.stem].stamp == stamp and states[path.stem].path == where
    }
    for path, where, stamp in places:
        doc_id = path.stem
        state = states.get(doc_id)
        old = state.chunk_ids if state is not None else frozenset()
        same_place = state is not None and state.path == where and state.stamp.endswith(chunking.signature())
        if state is not None and same_place and state.stamp == stamp:
            # Size, mtime and settings as indexed: not even read.
            unchanged += 1
            continue
        read_ = _read_changed(path, where, state if same_place else None, owner)
        if read_ is None:
            unchanged += 1
            continue
        if isinstance(read_, Article) and read_.encoding != "UTF-8":
            decoded.append(Skipped(str(path), f"read as {read_.encoding} (not UTF-8)"))
        got = _plan(read_, stamp, state, chunking) if isinstance(read_, Article) else read_
        if isinstance(got, _Plan):
            plans.append(got)
            continue
        why, drop = got
        skipped.append(why)
        if state is not None and drop:
            plans.append(_Plan(doc_id, (), (), old, True))
    indexed = unchanged + sum(1 for p in plans if p.new or p.kept)
    seen = frozenset(f.stem for f in files)
    return _Scan(tuple(plans), unchanged, tuple(skipped), seen, indexed, tuple(decoded))


def _read_changed(
    path: Path, where: str, state: DocState | None, owner: dict[str, tuple[str, str]]
) -> Article | tuple[Skipped, bool] | None:
    """The article of a file whose bytes changed since `state` (None when they did not), or why
    it cannot be indexed and whether its indexed chunks go (a file now empty, or a copy of another
    file: `owner` maps the sha256 of each file seen so far to its document id and place)."""
    doc_id = path.stem
    try:
        data = read(path)
        digest = hashlib.sha256(data).hexdigest()
        twin = owner.setdefault(digest, (doc_id, where))
        if twin[0] != doc_id and data.strip():
            return Skipped(str(path), f"same content as {twin[1]} (indexed once, as {twin[0]!r})"), True
        if state is not None and state.sha256 == digest:
            return None  # touched, not changed
        return load(path, data)
    except FileSkipped as e:
        return e.skipped, e.skipped.reason == "empty file"


def _plan(
    article: Article, stamp: str, state: DocState | None, chunking: ChunkingOptions
) -> _Plan | tuple[Skipped, bool]:
    """The writes a changed article needs, or why nothing of it can be indexed (its old chunks go)."""
    chunks = chunk(
        article, max_words=chunking.max_words, min_words=chunking.min_words, overlap=chunking.overlap
    )
    records = [ChunkRecord.from_chunk(article, c, stamp, len(chunks)) for c in chunks]
    if not records:  # the file was emptied
        return Skipped(article.path or article.doc_id, "no article text after cleaning"), True
    old = state.chunk_ids if state is not None else frozenset()
    ids = {r.chunk_id for r in records}
    return _Plan(
        article.doc_id,
        new=tuple(r for r in records if r.chunk_id not in old),
        # Kept chunks take the new file's hash, path and stamp (else the document would
        # look half-replaced, and so changed, on every later run).
        kept=tuple(r for r in records if r.chunk_id in old),
        stale=old - ids,
        existed=state is not None,
    )


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
        several = len(records) > self._store.max_batch_size
        if records:
            # Written in several calls, a document could be cut by a kill between two; so its chunks
            # go in without their stamp, which makes the next run check the document again, and get
            # it once all are in.
            written = [dataclasses.replace(r, stamp="") for r in records] if several else records
            self._store.add(written, np.concatenate([v for _, v in held if len(v)]))
        self._store.update_metadata([r for plan, _ in held for r in plan.kept] + (records if several else []))
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
    loaded: LexicalIndex | None,
) -> LexicalIndex:
    """The lexical index for what the store now holds.

    Built from the saved one plus this run's records when the saved one matched the store before
    the run (reading every chunk back from Chroma is what costs at 100k chunks), else from Chroma.
    """
    want = fingerprint(k for keys in expected.values() for k in keys)
    before = fingerprint(record_key(i, s.sha256, s.path) for s in states.values() for i in s.chunk_ids)
    # The caller's index, when it is current, saves reading the saved one again.
    current = loaded if loaded is not None and loaded.fingerprint in (want, before) else None
    current = current or LexicalIndex.load(folder)
    # Kept chunks may carry new labels (metadata) under the same fingerprint.
    if current is not None and current.fingerprint == want and not any(p.kept for p in plans):
        saved = folder / "fingerprint"
        if current is loaded and (not saved.is_file() or saved.read_text() != want):
            current.save(folder)  # the copy on disk fell behind (or was lost)
        return current
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


def _kept(path: str, keep: Sequence[Path]) -> bool:
    return bool(path) and any(Path(path).is_relative_to(k.resolve()) for k in keep)


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
    skipped: Sequence[Skipped] = (),
    lock_wait_seconds: float = 600.0,
    keep: Sequence[Path] = (),
    lexical: LexicalIndex | None = None,
) -> tuple[IngestReport, LexicalIndex]:
    """Ingest `files` (all are read and parsed before the stores are touched).

    Ingests of one collection take turns: each holds its lock (`index.store.exclusive`), waiting
    up to `lock_wait_seconds` for another to finish. `skipped`: what finding the files left out,
    for the report. `prune` never removes documents whose files lie under a folder of `keep`.
    `lexical` is the caller's loaded lexical index, if any: used instead of reading the saved one.
    """
    with exclusive(lexical_dir, lock_wait_seconds):
        try:
            return _ingest(
                files,
                store=store,
                embedder=embedder,
                lexical_dir=lexical_dir,
                gone_ok=lambda state: prune and not _kept(state.path, keep),
                chunking=chunking,
                progress=progress or _Quiet(),
                flush_seconds=flush_seconds,
                skipped=skipped,
                lexical=lexical,
            )
        except Exception as e:
            if not _disk_full(e):
                raise
            raise IndexingError(
                f"the disk is full ({e}): free some space and run ingest again (whole documents "
                "written before it filled are kept; the next run indexes the rest)"
            ) from None


# Disk the stores take per byte of chunk payload (text, metadata, vector): 7.2x measured with the
# embedded Chroma (write-ahead log, SQLite with its full-text index, HNSW) and the lexical index.
_DISK_PER_PAYLOAD = 8
_DISK_MARGIN = 2_000_000


def _check_space(lexical_dir: Path, plans: Sequence[_Plan], dimensions: int) -> None:
    """Refuse, before anything is written, a run the data dir's disk has no room for.

    Checked up front because a full disk is not an error Chroma recovers from cleanly: its write-
    ahead log takes the write, then every later read fails until space is freed.
    """
    payload = sum(
        len(r.text.encode()) + len(json.dumps(r.to_metadata())) + 4 * dimensions for p in plans for r in p.new
    )
    if not payload:
        return
    need = _DISK_PER_PAYLOAD * payload + _DISK_MARGIN
    where = next(p for p in (lexical_dir, *lexical_dir.parents) if p.exists())
    free = shutil.disk_usage(where).free
    if free < need:
        raise IndexingError(
            f"not enough disk space under {where}: this run needs about {need / 1e6:.0f} MB and "
            f"{free / 1e6:.0f} MB are free; nothing was written. Free some space and run ingest again"
        )


def _disk_full(e: BaseException) -> bool:
    # Chroma reports SQLite's "database or disk is full" as its own error type.
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "disk is full" in str(e) or "No space left on device" in str(e)


def _ingest(
    files: Sequence[Path],
    *,
    store: VectorStore,
    embedder: Embedder,
    lexical_dir: Path,
    gone_ok: Callable[[DocState], bool],
    chunking: ChunkingOptions,
    progress: Progress,
    flush_seconds: float,
    skipped: Sequence[Skipped],
    lexical: LexicalIndex | None,
) -> tuple[IngestReport, LexicalIndex]:
    t0 = time.perf_counter()
    states = store.doc_states()
    scan = _scan(files, states, chunking)
    gone = [d for d, s in states.items() if d not in scan.seen_docs and gone_ok(s)]
    _check_space(lexical_dir, scan.plans, store.dimensions)

    progress.start(len(scan.plans) + len(gone), sum(len(p.new) for p in scan.plans))
    writer = _Writer(store, progress, flush_seconds)
    try:
        embedded = _embed_all(scan.plans, embedder, writer, progress)
        for doc in gone:
            writer.hold(_Plan(doc, (), (), states[doc].chunk_ids, True), np.zeros((0, 0), dtype=np.float32))
        writer.flush()
    except BaseException as e:
        # Keep what is embedded, and leave BM25 agreeing with Chroma, before reporting the error.
        try:
            writer.flush()
        except Exception:
            if not _disk_full(e):
                raise
        finally:
            try:
                rebuild_lexical(store, lexical_dir)
            except Exception:
                # Still no room: the saved index stays as it was, and the next start, finding it
                # disagree with Chroma, rebuilds it.
                if not _disk_full(e):
                    raise
        raise

    # What the store now holds: what it held, with each planned document replaced or removed.
    expected = {d: {record_key(i, s.sha256, s.path) for i in s.chunk_ids} for d, s in states.items()}
    for p in scan.plans:
        expected[p.doc_id] = {record_key(r.chunk_id, r.sha256, r.path) for r in p.new + p.kept}
    for doc in gone:
        del expected[doc]
    lexical = _lexical_after(store, lexical_dir, states, scan.plans, gone, expected, lexical)
    report = IngestReport(
        documents=len({r.doc_id for r in lexical.records}),
        chunks=len(lexical.records),
        added=sum(1 for p in scan.plans if not p.existed),
        updated=sum(1 for p in scan.plans if p.existed),
        removed=len(gone),
        unchanged=scan.unchanged,
        embedded=embedded,
        skipped=(*skipped, *scan.skipped),
        seconds=time.perf_counter() - t0,
        indexed=scan.indexed,
        decoded=scan.decoded,
    )
    return report, lexical
