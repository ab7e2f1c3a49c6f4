"""Hybrid retrieval: dense (Chroma) and BM25 ranked lists fused by reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from index.embed import Embedder
from index.store import ChunkRecord, LexicalIndex, VectorStore
from rag.errors import BadRequest
from rag.types import Filters, Mode, Passage


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1.

    Ties keep the order in which ids were first seen (earlier list, better rank first).
    """
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: i for i, item in enumerate(dict.fromkeys(i for r in rankings for i in r))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


@dataclass
class HybridRetriever:
    """Retrieves numbered passages for a question from the two stores."""

    store: VectorStore
    lexical: LexicalIndex
    embedder: Embedder
    candidates: int = 30
    rrf_k: int = 60

    def allowed_docs(self, filters: Filters | None) -> set[str] | None:
        """Document ids that pass `filters`, or None when nothing is filtered."""
        if not filters:
            return None
        return {r.doc_id for r in self.lexical.records if filters.admits(r.outlet, r.date, r.author)}

    def retrieve(
        self,
        question: str,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        lexical_query: str | None = None,
    ) -> list[Passage]:
        """The `k` best passages for `question`; BM25 searches `lexical_query` when given (the
        question with its names' other forms, see `Aliases.expand`)."""
        question = question.strip()
        if not question:
            raise BadRequest("the question is empty")
        if k < 1:
            raise BadRequest("k must be at least 1")
        docs = self.allowed_docs(filters)
        depth = max(self.candidates, k)
        dense: list[tuple[ChunkRecord, float]] = []
        lexical: list[tuple[ChunkRecord, float]] = []
        if mode in ("hybrid", "dense"):
            dense = self._dense(question, depth, docs)
        if mode in ("hybrid", "bm25"):
            lexical = self.lexical.search(lexical_query or question, depth, docs)
        by_id = {r.chunk_id: r for r, _ in dense + lexical}
        dense_rank = {r.chunk_id: i for i, (r, _) in enumerate(dense, start=1)}
        dense_score = {r.chunk_id: s for r, s in dense}
        bm25_rank = {r.chunk_id: i for i, (r, _) in enumerate(lexical, start=1)}
        if mode == "hybrid":
            ranked = reciprocal_rank_fusion(
                [[r.chunk_id for r, _ in dense], [r.chunk_id for r, _ in lexical]], self.rrf_k
            )
        else:
            ranked = [(r.chunk_id, s) for r, s in (dense or lexical)]
        return [
            _passage(n, by_id[cid], score, dense_rank.get(cid), bm25_rank.get(cid), dense_score.get(cid))
            for n, (cid, score) in enumerate(ranked[:k], start=1)
        ]

    def _dense(
        self, question: str, depth: int, docs: Collection[str] | None
    ) -> list[tuple[ChunkRecord, float]]:
        return self.store.query(self.embedder.get_query_embedding(question), depth, docs)


def _passage(
    n: int,
    r: ChunkRecord,
    score: float,
    dense_rank: int | None,
    bm25_rank: int | None,
    dense_score: float | None,
) -> Passage:
    return Passage(
        n=n,
        doc_id=r.doc_id,
        title=r.title,
        outlet=r.outlet,
        date=r.date,
        chunk_id=r.chunk_id,
        start=r.start,
        end=r.end,
        text=r.text,
        score=round(score, 6),
        dense_rank=dense_rank,
        bm25_rank=bm25_rank,
        dense_score=None if dense_score is None else round(dense_score, 6),
        sentences=r.sentences,
        author=r.author,
    )
