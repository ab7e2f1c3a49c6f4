"""`build_engine(settings)`: the one place where the pieces are assembled."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed import Embedder
from index.load import KINDS, discover
from index.store import ChunkRecord, LexicalIndex, VectorStore, sync_lexical
from index.sync import ChunkingOptions, IngestReport, Progress, ingest
from rag import backends
from rag.aliases import Aliases
from rag.errors import BadRequest, ConfigError, Conflict, NotFound
from rag.evidence import TermWeights
from rag.retrieve import HybridRetriever
from rag.settings import Settings
from rag.types import Answer, AnswerEvent, Document, DocumentInfo, Event, Filters, Mode, Passage

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
    """

    settings: Settings
    store: VectorStore
    embedder: Embedder
    lexical: LexicalIndex
    _llms: dict[str, LLM | None] = field(default_factory=dict, repr=False)
    # Requests share the engine: loading an LLM happens once even when several ask at once.
    _llm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # Uploads check ids, replace files and ingest as one step.
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _weights: tuple[str, TermWeights] | None = field(default=None, repr=False)
    _aliases: tuple[str, Aliases] | None = field(default=None, repr=False)
    _sentence_vectors: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def retriever(self) -> HybridRetriever:
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
        """Bring the index in line with the article files under `paths`."""
        s = self.settings
        report, self.lexical = ingest(
            discover(paths),
            store=self.store,
            embedder=self.embedder,
            lexical_dir=s.lexical_dir,
            prune=prune,
            chunking=ChunkingOptions(s.chunk_max_words, s.chunk_min_words, s.chunk_overlap),
            progress=progress,
        )
        return report

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
        uploads = self.settings.data_dir / "uploads"
        target = uploads / f"{doc_id}{suffix}"
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
                raise BadRequest("no article text is left after cleaning (page furniture only?)")
        return next(d for d in self.documents() if d.doc_id == doc_id), report

    def conversation(
        self, turns: Sequence[PriorTurn], *, k: int | None = None, filters: Filters | None = None
    ) -> Conversation | None:
        """A conversation from turns a client sent back; turns without passages are re-retrieved
        (with this request's k and filters), so each passage gets the number it had."""
        from rag.conversation import conversation_from_turns

        return conversation_from_turns(turns, lambda q: self.search(q, k=k, filters=filters))

    def similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of each sentence to the question (vectors are unit length).

        Sentence vectors are kept in memory: the same article sentences come back question after
        question, and embedding them is most of the time before the first passage is shown.
        """
        if not sentences:
            return []
        q = np.asarray(self.embedder.get_query_embedding(question))
        cache = self._sentence_vectors
        todo = list(dict.fromkeys(s for s in sentences if s not in cache))
        if todo:
            if len(cache) + len(todo) > SENTENCE_CACHE:
                cache.clear()
            cache.update(zip(todo, np.asarray(self.embedder.get_text_embedding_batch(todo)), strict=True))
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
        return Answerer(
            retriever=self.retriever,
            similarity=self.similarity,
            weights=self.term_weights(),
            llm=llm,
            backend=name,
            context_budget=self.settings.context_budget,
            aliases=self.aliases(),
        )

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
    ) -> Iterator[Event]:
        """Answer events: passages and evidence, then tokens, then the verified `Answer`."""
        if not question.strip():
            raise BadRequest("the question is empty")
        return self.answerer(backend).stream(
            question, k=k or self.settings.top_k, filters=filters, conversation=conversation
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
        """The indexed articles, by document id."""
        by_doc: dict[str, list[ChunkRecord]] = {}
        for r in self.lexical.records:
            by_doc.setdefault(r.doc_id, []).append(r)
        return [
            DocumentInfo(r.doc_id, r.title, r.outlet, r.date, r.path, r.sha256, len(rs))
            for doc_id, rs in sorted(by_doc.items())
            for r in rs[:1]
        ]

    def document(self, doc_id: str) -> Document:
        """An indexed article with its original file text (read now, checked against the index).

        Raises NotFound for an unknown id, and for a file that is gone or changed since it was
        indexed (offsets would point at the wrong words); re-ingest to fix the latter.
        """
        info = next((d for d in self.documents() if d.doc_id == doc_id), None)
        if info is None:
            raise NotFound(f"no indexed document {doc_id!r}")
        try:
            raw = Path(info.path).read_bytes()
        except OSError:
            raise NotFound(f"the file of {doc_id!r} is gone ({info.path}); re-ingest it") from None
        if hashlib.sha256(raw).hexdigest() != info.sha256:
            raise NotFound(f"the file of {doc_id!r} changed since it was indexed ({info.path}); re-ingest it")
        return Document(info, raw.decode("utf-8"))

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
    return Engine(settings, store, embed, lexical, _llms=dict(llms or {}))
