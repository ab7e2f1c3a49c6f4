"""Cross-check of our hit rate and MRR with llama-index's own `RetrieverEvaluator`.

Our `HybridRetriever` is wrapped as a llama-index `BaseRetriever` that returns one node per
retrieved passage, in rank order, with the passage's DOCUMENT id as node id (the gold is document
ids). llama-index's `BaseRetriever.retrieve` drops repeated node ids, so its `HitRate` and `MRR`
see the distinct documents in rank order — exactly what our `doc_hit` and `rr` score.
"""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.evaluation import RetrieverEvaluator
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.retrieve import HybridRetriever
from rag.types import Mode


class DocIdRetriever(BaseRetriever):
    """Our retriever as a llama-index retriever: node id = document id, one node per passage."""

    def __init__(self, retriever: HybridRetriever, k: int, mode: Mode) -> None:
        self._inner = retriever
        self._k = k
        self._mode: Mode = mode
        super().__init__()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self._inner.retrieve(query_bundle.query_str, self._k, None, self._mode)
        return [NodeWithScore(node=TextNode(id_=p.doc_id, text=p.text), score=p.score) for p in passages]


def llamaindex_scores(
    retriever: HybridRetriever, queries: Sequence[tuple[str, Sequence[str]]], k: int, mode: Mode
) -> dict[str, list[float]]:
    """Per-query `hit_rate` and `mrr` from llama-index's `RetrieverEvaluator`.

    `queries`: (query, gold document ids). A query that retrieves nothing scores 0 (llama-index
    refuses to score an empty list).
    """
    evaluator = RetrieverEvaluator.from_metric_names(
        ["hit_rate", "mrr"], retriever=DocIdRetriever(retriever, k, mode)
    )
    out: dict[str, list[float]] = {"hit_rate": [], "mrr": []}
    for query, gold in queries:
        try:
            values = evaluator.evaluate(query=query, expected_ids=list(gold)).metric_vals_dict
        except ValueError:  # nothing retrieved
            values = {"hit_rate": 0.0, "mrr": 0.0}
        out["hit_rate"].append(float(values["hit_rate"]))
        out["mrr"].append(float(values["mrr"]))
    return out
