"""`build_engine(settings)`: the one place where the pieces are assembled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from index.load import discover
from index.store import LexicalIndex, VectorStore, sync_lexical
from index.sync import ChunkingOptions, IngestReport, Progress, ingest
from rag import backends
from rag.retrieve import HybridRetriever
from rag.settings import Settings
from rag.types import Filters, Mode, Passage


@dataclass
class Engine:
    """The built core: stores, embedder and retriever, with the operations the edges call."""

    settings: Settings
    store: VectorStore
    embedder: BaseEmbedding
    lexical: LexicalIndex

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

    def search(
        self, question: str, *, k: int | None = None, filters: Filters | None = None, mode: Mode = "hybrid"
    ) -> list[Passage]:
        return self.retriever.retrieve(question, k or self.settings.top_k, filters, mode)


def build_engine(settings: Settings, *, embedder: BaseEmbedding | None = None, chroma: Any = None) -> Engine:
    """Build the engine from settings; tests may pass a fake embedder or their own Chroma client."""
    embed = embedder if embedder is not None else backends.embedder(settings)
    client = chroma if chroma is not None else backends.chroma_client(settings)
    dims = len(embed.get_query_embedding("dimension probe"))
    store = VectorStore(client, settings.collection, embed_model=embed.model_name, dimensions=dims)
    return Engine(settings, store, embed, sync_lexical(store, settings.lexical_dir))
