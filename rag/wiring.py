"""`build_engine(settings)`: the one place where the pieces are assembled."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.chunk import chunk
from index.corrections import FIELDS, Correction, load_corrections, relabel, save_corrections
from index.embed import Embedder
from index.load import KINDS, decode, find, load, parse
from index.store import ChunkRecord, LexicalIndex, VectorStore, saved_fingerprint, sync_lexical
from index.sync import ChunkingOptions, IngestReport, Progress, ingest
from rag import backends
from rag.aliases import Aliases
from rag.errors import BadRequest, ConfigError, Conflict, NotFound, RagError
from rag.evidence import TermWeights
from rag.retrieve import HybridRetriever
from rag.settings import Settings
from rag.types import (
    Answer,
    AnswerEvent,
    Document,
    DocumentInfo,
    Event,
    Filters,
    Mode,
    Passage,
    parse_date,
)

if TYPE_CHECKING:  # llama_index.core takes about a second to import; only the LLM backends need it
    from llama_index.core.llms import LLM

    from rag.answer import Answerer, Conversation
    from rag.conversation import PriorTurn

# Sentence vectors kept by an engine (384 floats each: about 60 MB at most).
SENTENCE_CACHE = 40_000
# A document id: also a file name under RAG_DATA_DIR/uploads/, so no dots, slashes or spaces.
DOC_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"


@dataclass
class Engine:
    """The built core: stores, embedder and retriever, with the operations the edges call.

    LLMs are loaded on first use, once per backend, and kept on the engine (never in globals);
    `build_engine(llms=...)` and `override_llm` plug in one built elsewhere (a fake, in tests).
    The stores follow what other processes (a CLI ingest on the same data dir) write: see `refresh`.
    """

    settings: Settings
    store: VectorStore
    embedder: Embedder
    lexical: LexicalIndex
    _llms: dict[str, LLM | None] = field(default_factory=dict, repr=False)
    # Opens the vector store again (an embedded Chroma's in-memory index is per process); None
    # when the store already sees every writer (a Chroma server).
    reopen_store: Callable[[], VectorStore] | None = field(default=None, repr=False, compare=False)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # Requests share the engine: loading an LLM happens once even when several ask at once.
    _llm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # Uploads check ids, replace files and ingest as one step.
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _weights: tuple[str, TermWeights] | None = field(default=None, repr=False)
    _aliases: tuple[str, Aliases] | None = field(default=None, repr=False)
    _sentence_vectors: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # One batch embedding at a time: onnxruntime already uses every core for one, and concurrent
    # runs each grow its memory arena (50 concurrent answers took the server from 0.5 to 2.9 GB).
    _embed_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def refresh(self) -> bool:
        """Take up what another process wrote to the index since this engine last looked.

        Cheap enough for every request: it reads the saved lexical index's fingerprint (a few
        bytes), which every ingest that changes anything rewrites last. Returns whether it reloaded.
        """
        saved = saved_fingerprint(self.settings.lexical_dir)
        if saved is None or saved == self.lexical.fingerprint or self._ingest_lock.locked():
            return False
        with self._refresh_lock:
            if saved_fingerprint(self.settings.lexical_dir) == self.lexical.fingerprint:
                return False  # another request reloaded it meanwhile
            store = self.reopen_store() if self.reopen_store is not None else self.store
            lexical = LexicalIndex.load(self.settings.lexical_dir)
            if lexical is None:
                return False
            self.store, self.lexical = store, lexical
            return True

    @property
    def retriever(self) -> HybridRetriever:
        self.refresh()
        return HybridRetriever(
            self.store,
            self.lexical,
            self.embedder,
            candidates=self.settings.candidates,
            rrf_k=self.settings.rrf_k,
        )

    def ingest(
        self, paths: Sequence[str | Path], *, prune: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Bring the index in line with the article files under `paths` (one ingest at a time per
        collection; `prune` spares uploaded documents unless the uploads folder is among `paths`)."""
        s = self.settings
        found = find(paths)
        uploads = s.data_dir / "uploads"
        named = any(uploads.resolve().is_relative_to(Path(p).resolve()) for p in paths)
        report, self.lexical = ingest(
            found.files,
            store=self.store,
            embedder=self.embedder,
            lexical_dir=s.lexical_dir,
            prune=prune,
            chunking=ChunkingOptions(s.chunk_max_words, s.chunk_min_words, s.chunk_overlap),
            progress=progress,
            skipped=found.skipped,
            keep=[] if named else [uploads],
            lexical=self.lexical,
        )
        self._apply_corrections()
        return report

    def _apply_corrections(self, extra: dict[str, dict[str, str | None]] | None = None) -> None:
        """Put the hand-set fields back on the indexed chunks (after ingest relabelled them)."""
        labels: dict[str, dict[str, str | None]] = dict(extra or {})
        for doc_id, c in load_corrections(self.settings.corrections_path).items():
            labels.setdefault(doc_id, {}).update(c.labels())
        if labels:
            self.lexical = relabel(self.store, self.lexical, self.settings.lexical_dir, labels)

    def correct(self, doc_id: str, **values: str | None) -> DocumentInfo:
        """Set outlet, date or author of an indexed article by hand (None leaves a field as it is,
        "" gives it back to what the article states). The correction is saved beside the index and
        outlives re-ingest of the file. Raises NotFound (unknown id) and BadRequest (a bad field
        or a date that is not YYYY-MM-DD)."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise BadRequest(f"only {', '.join(FIELDS)} can be set, not {', '.join(sorted(unknown))}")
        given = {k: " ".join(v.split()) for k, v in values.items() if v is not None}
        if given.get("date"):
            try:
                day = parse_date(given["date"])
            except ValueError as e:
                raise BadRequest(str(e)) from None
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", given["date"]) or day is None:
                raise BadRequest(f"date must be a full date, YYYY-MM-DD, not {given['date']!r}")
        with self._ingest_lock:
            info = self._document_info(doc_id)
            path = self.settings.corrections_path
            corrections = load_corrections(path)
            old = corrections.get(doc_id, Correction())
            merged = {f: getattr(old, f) for f in FIELDS} | {k: v or None for k, v in given.items()}
            corrections[doc_id] = Correction(**merged)
            save_corrections(path, corrections)
            cleared = [k for k, v in given.items() if not v]
            stated: dict[str, str | None] = {}
            if cleared:  # back to what the file states (kept as it is when the file cannot be read)
                try:
                    article = load(Path(info.path))
                    stated = {k: getattr(article, k) for k in cleared}
                except RagError:
                    pass
            self._apply_corrections({doc_id: stated})
        return self._document_info(doc_id)

    def remove_document(self, doc_id: str) -> DocumentInfo:
        """Take an article out of the index: its chunks leave Chroma and the lexical index together,
        its hand-set metadata is forgotten and, if it was uploaded, its file under uploads/ goes."""
        with self._ingest_lock:
            info = self._document_info(doc_id)
            ids = {r.chunk_id for r in self.lexical.records if r.doc_id == doc_id}
            self.store.delete(ids)
            fresh = LexicalIndex([r for r in self.lexical.records if r.doc_id != doc_id])
            fresh.save(self.settings.lexical_dir)
            self.lexical = fresh
            corrections = load_corrections(self.settings.corrections_path)
            if corrections.pop(doc_id, None) is not None:
                save_corrections(self.settings.corrections_path, corrections)
            uploads = (self.settings.data_dir / "uploads").resolve()
            if Path(info.path).resolve().parent == uploads:
                Path(info.path).unlink(missing_ok=True)
        return info

    def unindexable(self, text: str, suffix: str = ".txt") -> str | None:
        """Why ingest would index nothing of this text (binary data, no article text once cleaned
        and cut as ingest does it), in `rag ingest`'s words; None when it would be indexed."""
        try:
            decode(text.encode("utf-8"))
        except ValueError as e:
            return str(e)
        s = self.settings
        article = parse("check", text, kind=KINDS.get(suffix.lower(), "text"))
        if chunk(article, max_words=s.chunk_max_words, min_words=s.chunk_min_words, overlap=s.chunk_overlap):
            return None
        return "no article text after cleaning"

    def add_document(
        self, text: str, *, doc_id: str | None = None, filename: str | None = None
    ) -> tuple[DocumentInfo, IngestReport]:
        """Save one article under RAG_DATA_DIR/uploads/ and index it; the same id again replaces it.

        The filename's suffix picks the format (.txt by default); the id defaults to the filename's
        stem, else a hash of the text. Raises BadRequest (an unsupported suffix, a bad id, no article
        text after cleaning) and Conflict (the id belongs to a file outside uploads/).
        """
        name = Path(filename or "").name
        suffix = Path(name).suffix.lower() or ".txt"
        if suffix not in KINDS:
            raise BadRequest(f"filename must end in one of {', '.join(KINDS)}, not {suffix!r}")
        doc_id = doc_id or Path(name).stem or "upload_" + hashlib.sha256(text.encode()).hexdigest()[:16]
        if not re.fullmatch(DOC_ID, doc_id):
            raise BadRequest(f"id {doc_id!r} must match {DOC_ID} (pass `id` explicitly)")
        reason = self.unindexable(text, suffix)  # checked before a file of the same id is replaced
        if reason:
            raise BadRequest(f"not indexed: {reason}")
        uploads = self.settings.data_dir / "uploads"
        target = uploads / f"{doc_id}{suffix}"
        self.refresh()  # never write through a vector index older than what is on disk
        with self._ingest_lock:
            known = {d.doc_id: d for d in self.documents()}
            if doc_id in known and Path(known[doc_id].path).resolve().parent != uploads.resolve():
                owner = Path(known[doc_id].path).name
                raise Conflict(f"document id {doc_id!r} belongs to {owner}; choose another id")
            uploads.mkdir(parents=True, exist_ok=True)
            for old in uploads.glob(f"{doc_id}.*"):
                if old != target and old.suffix.lower() in KINDS:
                    old.unlink()
            target.write_bytes(text.encode("utf-8"))
            report = self.ingest([target])
            if report.skipped:
                target.unlink(missing_ok=True)
                raise BadRequest(f"not indexed: {report.skipped[0].reason}")
        return next(d for d in self.documents() if d.doc_id == doc_id), report

    def conversation(
        self, turns: Sequence[PriorTurn], *, k: int | None = None, filters: Filters | None = None
    ) -> Conversation | None:
        """A conversation from turns a client sent back; turns without passages are re-retrieved
        (with this request's k and filters), so each passage gets the number it had."""
        from rag.answer import read_passages
        from rag.conversation import conversation_from_turns

        # Retrieved as the answer pipeline retrieves, so the numbers match the ones the client was shown.
        aliases = self.aliases()
        return conversation_from_turns(
            turns,
            lambda q: read_passages(self.retriever, aliases, q, k or self.settings.top_k, filters, "hybrid"),
        )

    def similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of each sentence to the question (vectors are unit length).

        Sentence vectors are kept in memory: the same article sentences come back question after
        question, and embedding them is most of the time before the first passage is shown.
        """
        if not sentences:
            return []
        q = np.asarray(self.embedder.get_query_embedding(question))
        cache = self._sentence_vectors
        if any(s not in cache for s in sentences):
            with self._embed_lock:  # requests waiting here find what the one before them embedded
                cache = self._sentence_vectors
                todo = list(dict.fromkeys(s for s in sentences if s not in cache))
                if len(cache) + len(todo) > SENTENCE_CACHE:
                    # A new dict, not clear(): other requests may be reading the old one.
                    cache = self._sentence_vectors = {}
                    todo = list(dict.fromkeys(sentences))
                if todo:
                    vectors = np.asarray(self.embedder.get_text_embedding_batch(todo))
                    cache.update(zip(todo, vectors, strict=True))
        return [float(x) for x in np.stack([cache[s] for s in sentences]) @ q]

    def term_weights(self) -> TermWeights:
        if self._weights is None or self._weights[0] != self.lexical.fingerprint:
            self._weights = (
                self.lexical.fingerprint,
                TermWeights.from_texts([r.text for r in self.lexical.records]),
            )
        return self._weights[1]

    def aliases(self) -> Aliases:
        """Aliases the indexed articles introduce (see `rag.aliases`), relearned when the index changes."""
        if self._aliases is None or self._aliases[0] != self.lexical.fingerprint:
            texts = [r.text for r in self.lexical.records]
            self._aliases = (self.lexical.fingerprint, Aliases.from_texts(texts))
        return self._aliases[1]

    def answerer(self, backend: str | None = None) -> Answerer:
        """The answer pipeline on `backend` (default: the configured one)."""
        from rag.answer import Answerer

        name = backend or self.settings.llm_backend
        with self._llm_lock:
            if name not in self._llms:
                self._llms[name] = backends.llm(self.settings, name)
            llm = self._llms[name]
        weights = self.term_weights()
        return Answerer(
            retriever=self.retriever,
            similarity=self.similarity,
            weights=weights,
            indexed_terms=weights.idf.keys(),
            llm=llm,
            backend=name,
            context_budget=self.settings.context_budget,
            aliases=self.aliases(),
        )

    def loaded_backends(self) -> frozenset[str]:
        """The backends whose LLM is loaded (or plugged in) on this engine."""
        with self._llm_lock:
            return frozenset(self._llms)

    @contextmanager
    def override_llm(self, backend: str, llm: LLM | None) -> Iterator[None]:
        """Answer `backend` with `llm` inside the block; afterwards it has what it had before
        (the loaded LLM, or none loaded yet)."""
        with self._llm_lock:
            had, before = backend in self._llms, self._llms.get(backend)
            self._llms[backend] = llm
        try:
            yield
        finally:
            with self._llm_lock:
                if had:
                    self._llms[backend] = before
                else:
                    self._llms.pop(backend, None)

    def ask_stream(
        self,
        question: str,
        *,
        backend: str | None = None,
        k: int | None = None,
        filters: Filters | None = None,
        conversation: Conversation | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Answer events: passages and evidence, then tokens, then the verified `Answer`
        (`cancelled`: see `Answerer.stream`)."""
        if not question.strip():
            raise BadRequest("the question is empty")
        return self.answerer(backend).stream(
            question,
            k=k or self.settings.top_k,
            filters=filters,
            conversation=conversation,
            cancelled=cancelled,
        )

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """`ask_stream` run to the end: the verified `Answer`."""
        final = None
        for event in self.ask_stream(question, **kwargs):
            if isinstance(event, AnswerEvent):
                final = event.answer
        assert final is not None
        return final

    def documents(self) -> list[DocumentInfo]:
        """The indexed articles, by document id, with the fields a person set by hand."""
        self.refresh()
        by_doc: dict[str, list[ChunkRecord]] = {}
        for r in self.lexical.records:
            by_doc.setdefault(r.doc_id, []).append(r)
        hand = load_corrections(self.settings.corrections_path)
        return [
            DocumentInfo(
                r.doc_id,
                r.title,
                r.outlet,
                r.date,
                r.path,
                r.sha256,
                len(rs),
                r.author,
                hand[doc_id].set_fields() if doc_id in hand else (),
            )
            for doc_id, rs in sorted(by_doc.items())
            for r in rs[:1]
        ]

    def _document_info(self, doc_id: str) -> DocumentInfo:
        info = next((d for d in self.documents() if d.doc_id == doc_id), None)
        if info is None:
            raise NotFound(f"no indexed document {doc_id!r}")
        return info

    def document(self, doc_id: str) -> Document:
        """An indexed article with its original file text (read now, checked against the index).

        Raises NotFound for an unknown id, and for a file that is gone or changed since it was
        indexed (offsets would point at the wrong words); re-ingest to fix the latter.
        """
        info = self._document_info(doc_id)
        try:
            raw = Path(info.path).read_bytes()
        except OSError:
            raise NotFound(f"the file of {doc_id!r} is gone ({info.path}); re-ingest it") from None
        if hashlib.sha256(raw).hexdigest() != info.sha256:
            raise NotFound(f"the file of {doc_id!r} changed since it was indexed ({info.path}); re-ingest it")
        return Document(info, decode(raw)[0])

    def search(
        self, question: str, *, k: int | None = None, filters: Filters | None = None, mode: Mode = "hybrid"
    ) -> list[Passage]:
        return self.retriever.retrieve(question, k or self.settings.top_k, filters, mode)


def build_engine(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    chroma: Any = None,
    llms: Mapping[str, LLM | None] | None = None,
) -> Engine:
    """Build the engine from settings; tests may pass a fake embedder, their own Chroma client, or
    LLMs by backend name (used instead of loading those backends)."""
    embed = embedder if embedder is not None else backends.embedder(settings)
    try:
        client = chroma if chroma is not None else backends.chroma_client(settings)
        dims = len(embed.get_query_embedding("dimension probe"))
        store = VectorStore(client, settings.collection, embed_model=embed.model_name, dimensions=dims)
        lexical = sync_lexical(store, settings.lexical_dir)
    except OSError as e:  # a data dir that cannot be created, read or written
        raise ConfigError(f"RAG_DATA_DIR {settings.data_dir} is unusable: {e.strerror or e}") from None

    def reopen() -> VectorStore:
        client = backends.chroma_client(settings, reopen=True)
        return VectorStore(client, settings.collection, embed_model=embed.model_name, dimensions=dims)

    embedded = chroma is None and not settings.chroma_url
    return Engine(
        settings, store, embed, lexical, _llms=dict(llms or {}), reopen_store=reopen if embedded else None
    )
