"""`build_engine(settings)`: the one place where the pieces are assembled."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed import Embedder
from index.load import discover
from index.store import LexicalIndex, VectorStore, sync_lexical
from index.sync import ChunkingOptions, IngestReport, Progress, ingest
from rag import backends
from rag.errors import BadRequest, NotFound
from rag.evidence import TermWeights
from rag.retrieve import HybridRetriever
from rag.settings import Settings
from rag.types import Answer, AnswerEvent, Document, DocumentInfo, Event, Filters, Mode, Passage

if TYPE_CHECKING:  # llama_index.core takes about a second to import; only the LLM backends need it
    from llama_index.core.llms import LLM

    from rag.answer import Answerer, Conversation

# Sentence vectors kept by an engine (384 floats each: about 60 MB at most).
SENTENCE_CACHE = 40_000


@dataclass
class Engine:
    """The built core: stores, embedder and retriever, with the operations the edges call.

    LLMs are loaded on first use, once per backend, and kept on the engine (never in globals).
    """

    settings: Settings
    store: VectorStore
    embedder: Embedder
    lexical: LexicalIndex
    llms: dict[str, LLM | None] = field(default_factory=dict)
    # Requests share the engine: loading an LLM happens once even when several ask at once.
    _llm_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _weights: tuple[str, TermWeights] | None = field(default=None, repr=False)
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
            lexical=self.lexical,
        )
        return report

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

    def answerer(self, backend: str | None = None) -> Answerer:
        """The answer pipeline on `backend` (default: the configured one)."""
        from rag.answer import Answerer

        name = backend or self.settings.llm_backend
        with self._llm_lock:
            if name not in self.llms:
                self.llms[name] = backends.llm(self.settings, name)
        return Answerer(
            retriever=self.retriever,
            similarity=self.similarity,
            weights=self.term_weights(),
            llm=self.llms[name],
            backend=name,
            context_budget=self.settings.context_budget,
        )

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
        by_doc: dict[str, list[Any]] = {}
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


def build_engine(settings: Settings, *, embedder: Embedder | None = None, chroma: Any = None) -> Engine:
    """Build the engine from settings; tests may pass a fake embedder or their own Chroma client."""
    embed = embedder if embedder is not None else backends.embedder(settings)
    client = chroma if chroma is not None else backends.chroma_client(settings)
    dims = len(embed.get_query_embedding("dimension probe"))
    store = VectorStore(client, settings.collection, embed_model=embed.model_name, dimensions=dims)
    return Engine(settings, store, embed, sync_lexical(store, settings.lexical_dir))
