"""Hybrid retrieval: fusion order, modes, filters, errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag.errors import BadRequest
from rag.retrieve import reciprocal_rank_fusion
from rag.types import Filters
from rag.wiring import Engine


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "d"]], k=60)
    # c: 1/63 + 1/61 = 0.032266 > b: 2/62 = 0.032258 > a: 1/61 > d: 1/63
    assert [i for i, _ in fused] == ["c", "b", "a", "d"]
    assert fused[1][1] == pytest.approx(2 / 62)


def test_rrf_exact_scores_and_ties() -> None:
    fused = dict(reciprocal_rank_fusion([["x", "y"], ["y", "x"]], k=1))
    assert fused["x"] == pytest.approx(1 / 2 + 1 / 3)
    assert fused["x"] == fused["y"]
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y"], ["y", "x"]], k=1)] == ["x", "y"]


def test_rrf_one_list_keeps_its_order() -> None:
    assert [i for i, _ in reciprocal_rank_fusion([["q", "w", "e"]])] == ["q", "w", "e"]


@pytest.fixture
def indexed(engine: Engine, seeds_copy: Path) -> Engine:
    engine.ingest([seeds_copy])
    return engine


def test_hybrid_fuses_both_rankings(indexed: Engine) -> None:
    q = "Hadi al-Ameri Badr organization Fatah alliance"
    dense = [p.chunk_id for p in indexed.search(q, k=10, mode="dense")]
    bm25 = [p.chunk_id for p in indexed.search(q, k=10, mode="bm25")]
    hybrid = indexed.search(q, k=5)
    expected = [cid for cid, _ in reciprocal_rank_fusion([dense, bm25], indexed.settings.rrf_k)][:5]
    assert [p.chunk_id for p in hybrid] == expected
    assert [p.n for p in hybrid] == [1, 2, 3, 4, 5]
    assert hybrid[0].doc_id.startswith("001")
    top = hybrid[0]
    assert top.dense_rank is not None and top.bm25_rank is not None


def test_passages_carry_offsets_and_metadata(indexed: Engine, seeds_copy: Path) -> None:
    p = indexed.search("Srud Barzanji peshmerga Makhmour", k=1)[0]
    raw = next(seeds_copy.glob(f"{p.doc_id}.txt")).read_text(encoding="utf-8")
    assert p.doc_id.startswith("002")
    assert (p.outlet, p.date) == ("Washington Times", "2020-01-03")
    span = raw[p.start : p.end]
    first, last = p.text.splitlines()[0], p.text.splitlines()[-1]
    assert span.startswith(first) and span.endswith(last)


def test_outlet_filter(indexed: Engine) -> None:
    got = indexed.search("militias Iran", k=10, filters=Filters(outlet="washington"))
    assert got and {p.doc_id[:3] for p in got} == {"002"}


def test_date_filter_excludes_undated_articles(indexed: Engine) -> None:
    got = indexed.search(
        "militias", k=20, filters=Filters(since=dt.date(2016, 1, 1), until=dt.date(2017, 12, 31))
    )
    assert got and {p.doc_id[:3] for p in got} == {"003"}
    assert indexed.search("militias", filters=Filters(since=dt.date(2030, 1, 1))) == []


def test_k_is_respected(indexed: Engine) -> None:
    assert len(indexed.search("Iraq", k=3)) == 3


def test_empty_question_is_a_bad_request(indexed: Engine) -> None:
    with pytest.raises(BadRequest):
        indexed.search("   ")


def test_search_on_empty_index_returns_nothing(engine: Engine) -> None:
    assert engine.search("anything at all") == []


def test_unknown_words_fall_back_to_dense(indexed: Engine) -> None:
    assert indexed.search("zzzqqq", k=3, mode="bm25") == []
    assert len(indexed.search("zzzqqq", k=3)) == 3
