"""Outlet, date and author set by hand: stored beside the index, applied to what is indexed and
at every later ingest, and undone with an empty value."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.corrections import Correction, load_corrections, save_corrections
from index.store import ChunkRecord, LexicalIndex
from rag.errors import BadRequest, NotFound
from rag.types import Filters
from rag.wiring import Engine
from tests.conftest import FIXTURES

DOC = "002_baa8629b5dbd2b1a"  # dated 2020-01-03 by its dateline


def _labels(engine: Engine, doc_id: str) -> set[tuple[str | None, str | None, str | None]]:
    """Outlet, date and author of every chunk of the document, in Chroma and in the lexical index
    (as saved on disk)."""
    stored = {(r.outlet, r.date, r.author) for r in engine.store.records() if r.doc_id == doc_id}
    saved = LexicalIndex.load(engine.settings.lexical_dir)
    assert saved is not None
    lexical = {(r.outlet, r.date, r.author) for r in saved.records if r.doc_id == doc_id}
    assert stored == lexical
    return stored


def test_author_is_a_search_filter(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy, FIXTURES / "pages" / "licence.txt"])
    found = engine.search("strike dock workers pay", k=10, filters=Filters(author="petrova"))
    assert found and {p.doc_id for p in found} == {"licence"}
    assert found[0].author == "Nadia Petrova"
    assert engine.search("strike dock workers pay", filters=Filters(author="nobody")) == []


def test_correction_applies_now_survives_reingest_and_can_be_undone(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    engine = make_engine()
    engine.ingest([seeds_copy])
    info = engine.correct(DOC, date="2019-12-30", author="  Jane   Doe ")
    assert (info.date, info.author, info.outlet) == ("2019-12-30", "Jane Doe", "Washington Times")
    assert info.set_by_hand == ("date", "author")
    assert _labels(engine, DOC) == {("Washington Times", "2019-12-30", "Jane Doe")}
    december = Filters.parse(since="2019-12", until="2019-12")
    assert {p.doc_id for p in engine.search("Makhmour", filters=december)} == {DOC}

    # Stored beside the index, as JSON.
    saved = json.loads(engine.settings.corrections_path.read_text())
    assert saved == {DOC: {"date": "2019-12-30", "author": "Jane Doe"}}

    # The file changes: re-ingest labels the chunks from the text, then the correction comes back.
    path = seeds_copy / f"{DOC}.txt"
    path.write_text(path.read_text() + "\nA new closing paragraph about the militias.\n")
    again = make_engine()
    report = again.ingest([seeds_copy])
    assert report.updated == 1
    assert _labels(again, DOC) == {("Washington Times", "2019-12-30", "Jane Doe")}

    # An empty value gives the field back to what the article states.
    info = again.correct(DOC, date="")
    assert (info.date, info.set_by_hand) == ("2020-01-03", ("author",))
    assert _labels(again, DOC) == {("Washington Times", "2020-01-03", "Jane Doe")}


def test_a_touched_file_keeps_its_correction(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    engine.correct(DOC, outlet="The Washington Times (print)")
    path = seeds_copy / f"{DOC}.txt"
    os.utime(path, (1, 1))  # same bytes, new mtime: skipped uncleaned
    engine.ingest([seeds_copy])
    assert _labels(engine, DOC) == {("The Washington Times (print)", "2020-01-03", None)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"date": "2020-13-01"}, "date"),
        ({"date": "2020-01"}, "YYYY-MM-DD"),
        ({"title": "New"}, "only outlet, date, author"),
    ],
)
def test_bad_corrections_are_refused(
    engine: Engine, seeds_copy: Path, change: dict[str, str], message: str
) -> None:
    engine.ingest([seeds_copy])
    with pytest.raises(BadRequest, match=message):
        engine.correct(DOC, **change)
    assert not engine.settings.corrections_path.exists()


def test_unknown_document(engine: Engine) -> None:
    with pytest.raises(NotFound):
        engine.correct("nope", outlet="X")


def test_corrections_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c" / "articles.json"
    assert load_corrections(path) == {}
    save_corrections(path, {"a": Correction(outlet="X"), "b": Correction()})
    assert load_corrections(path) == {"a": Correction(outlet="X")}


def _without_author(from_chunk: Any) -> Any:
    """`ChunkRecord.from_chunk` as it was before authors were read."""

    def older(article: Any, chunk: Any, *args: Any) -> ChunkRecord:
        return replace(from_chunk(article, chunk, *args), author=None)

    return older


def test_an_index_from_before_authors_is_relabelled_without_re_embedding(
    engine: Engine, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.sync

    monkeypatch.setattr(index.sync, "METADATA_VERSION", 1)
    monkeypatch.setattr(ChunkRecord, "from_chunk", _without_author(ChunkRecord.from_chunk))
    engine.ingest([seeds_copy])
    assert {r.author for r in engine.lexical.records} == {None}
    monkeypatch.undo()
    embedded = engine.embedder.texts_embedded  # type: ignore[attr-defined]
    report = engine.ingest([seeds_copy])
    assert (report.updated, report.embedded) == (5, 0)
    assert engine.embedder.texts_embedded == embedded  # type: ignore[attr-defined]
    assert _labels(engine, "004_fb437f025d316ae4") == {("Anti-Media", None, "Darius Shahtahmasebi")}
    assert engine.ingest([seeds_copy]).unchanged == 5
