"""Incremental ingest: idempotent, updates replace, prune deletes, crashes lose nothing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from index.errors import IndexingError
from index.store import LexicalIndex
from rag.wiring import Engine


def _ids(engine: Engine) -> list[str]:
    return [r.chunk_id for r in engine.store.records()]


def test_first_ingest_counts(engine: Engine, seeds_copy: Path) -> None:
    report = engine.ingest([seeds_copy])
    assert report.counts() == {
        "documents": 5,
        "chunks": report.chunks,
        "added": 5,
        "updated": 0,
        "removed": 0,
        "unchanged": 0,
    }
    assert report.chunks == engine.store.count() == report.embedded
    assert 10 <= report.chunks <= 30


def test_reingest_is_idempotent_and_embeds_nothing(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    first = make_engine()
    first.ingest([seeds_copy])
    ids = _ids(first)
    before = first.embedder.texts_embedded  # type: ignore[attr-defined]

    again = make_engine()  # a new process would build a new engine over the same data dir
    report = again.ingest([seeds_copy])
    assert report.unchanged == 5 and report.added == report.updated == report.removed == 0
    assert report.embedded == 0
    assert again.embedder.texts_embedded == before  # type: ignore[attr-defined]
    assert _ids(again) == ids
    assert again.store.count() == len(ids)


def test_changed_file_replaces_its_chunks(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    path = next(seeds_copy.glob("004_*.txt"))
    old = {r.chunk_id for r in engine.store.records() if r.doc_id == path.stem}
    path.write_text(
        path.read_text(encoding="utf-8") + "\n\nA new closing paragraph about Mosul and Iran.\n",
        encoding="utf-8",
    )

    report = engine.ingest([seeds_copy])
    assert (report.updated, report.unchanged, report.added) == (1, 4, 0)
    new = {r.chunk_id for r in engine.store.records() if r.doc_id == path.stem}
    assert new != old
    assert 0 < report.embedded <= len(new)  # only the chunks whose text changed
    ids = _ids(engine)
    assert len(ids) == len(set(ids)) == engine.store.count()
    assert any("new closing paragraph" in r.text for r in engine.lexical.records)
    assert not any(r.chunk_id in old - new for r in engine.lexical.records)


def test_removed_file_stays_without_prune_and_goes_with_it(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    gone = next(seeds_copy.glob("003_*.txt"))
    gone.unlink()

    kept = engine.ingest([seeds_copy])
    assert kept.removed == 0 and kept.documents == 5

    pruned = engine.ingest([seeds_copy], prune=True)
    assert pruned.removed == 1 and pruned.documents == 4
    assert gone.stem not in {r.doc_id for r in engine.store.records()}
    assert gone.stem not in {r.doc_id for r in engine.lexical.records}
    assert engine.search("Dorrian vet militias Mosul", k=5)[0].doc_id != gone.stem


def test_interrupted_ingest_loses_nothing_and_leaves_no_duplicates(engine: Engine, seeds_copy: Path) -> None:
    # Embedding batches (4 texts here) span documents: the third batch fails, after two documents.
    engine.embedder.fail_after(8)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="simulated"):
        engine.ingest([seeds_copy])
    engine.embedder.fail_after(None)  # type: ignore[attr-defined]

    report = engine.ingest([seeds_copy])
    ids = _ids(engine)
    assert len(ids) == len(set(ids)) == report.chunks
    assert report.documents == 5
    # The chunks stored before the crash were not embedded again.
    assert report.embedded < report.chunks


def test_lexical_index_is_rebuilt_when_out_of_sync(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    engine = make_engine()
    engine.ingest([seeds_copy])
    folder = engine.settings.lexical_dir
    (folder / "records.jsonl").write_text("", encoding="utf-8")  # an index that lost its records
    reopened = make_engine()
    assert len(reopened.lexical.records) == reopened.store.count()
    assert LexicalIndex.load(folder) is not None


def test_bad_input_is_rejected_before_the_store_is_touched(
    engine: Engine, seeds_copy: Path, tmp_path: Path
) -> None:
    bad = seeds_copy / "999_bad.txt"
    bad.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(IndexingError, match="not UTF-8"):
        engine.ingest([seeds_copy])
    assert engine.store.count() == 0
    with pytest.raises(IndexingError, match="no such file"):
        engine.ingest([tmp_path / "missing"])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(IndexingError, match="unsupported file type"):
        engine.ingest([tmp_path / "notes.pdf"])


def test_two_files_with_one_id_are_rejected(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "same.txt").write_text("Title\n\nOne.", encoding="utf-8")
    (tmp_path / "b" / "same.md").write_text("Title\n\nTwo.", encoding="utf-8")
    with pytest.raises(IndexingError, match="share the document id"):
        engine.ingest([tmp_path])


def test_emptied_file_loses_its_chunks(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    path = next(seeds_copy.glob("000_*.txt"))
    path.write_text("Skip to Content\n", encoding="utf-8")
    report = engine.ingest([seeds_copy])
    assert report.skipped and report.documents == 4
    assert path.stem not in {r.doc_id for r in engine.store.records()}


def test_collection_refuses_another_embedding_model(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    from index.store import VectorStore

    engine = make_engine()
    engine.ingest([seeds_copy])
    client = engine.store._client
    with pytest.raises(IndexingError, match="built with embedding model"):
        VectorStore(client, engine.settings.collection, embed_model="other-model", dimensions=8)


def test_html_and_markdown_files_are_indexed_with_raw_offsets(engine: Engine, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    folder = tmp_path / "mixed"
    folder.mkdir()
    html_path = folder / "bridge.html"
    html_path.write_text((FIXTURES / "html_article.html").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "notes.md").write_text(
        "# Dam report\n\nThe **dam** holds 2 million cubic metres.\n", encoding="utf-8"
    )
    report = engine.ingest([folder])
    assert report.documents == 2
    records = {r.doc_id: r for r in engine.store.records()}
    bridge = records["bridge"]
    assert (bridge.title, bridge.date) == ("Ministry opens new bridge | Example Daily", "2021-03-12")
    assert "do not index me" not in bridge.text and "Click here" not in bridge.text
    assert "build & cost" in bridge.text
    raw = html_path.read_text(encoding="utf-8")
    for s_start, s_end, r_start, r_end in bridge.sentences:
        sentence = bridge.text[s_start:s_end]
        if "&" not in sentence:
            assert raw[r_start:r_end] == sentence
    assert records["notes"].title == "Dam report"


def test_edited_file_relabels_its_unchanged_chunks(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    path = next(seeds_copy.glob("004_*.txt"))
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing line about Mosul.\n", encoding="utf-8")
    engine.ingest([seeds_copy])

    state = engine.store.doc_states()[path.stem]
    assert state.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()  # every chunk, old or new
    assert {r.sha256 for r in engine.lexical.records if r.doc_id == path.stem} == {state.sha256}
    assert engine.document(path.stem).info.doc_id == path.stem  # not "changed since it was indexed"
    again = engine.ingest([seeds_copy])
    assert (again.unchanged, again.updated, again.embedded) == (5, 0, 0)


def test_unchanged_files_are_skipped_by_size_mtime_and_hash(
    engine: Engine, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.ingest([seeds_copy])
    path = next(seeds_copy.glob("002_*.txt"))

    import index.sync

    parsed: list[Path] = []
    real_load = index.sync.load
    monkeypatch.setattr(index.sync, "load", lambda p, data=None: parsed.append(p) or real_load(p, data))
    os.utime(path)  # touched: the stamp differs, the bytes hash as before
    report = engine.ingest([seeds_copy])
    assert (report.unchanged, report.embedded, parsed) == (5, 0, [])

    path.write_text(path.read_text(encoding="utf-8") + "\n\nMore.\n", encoding="utf-8")
    report = engine.ingest([seeds_copy])
    assert (report.unchanged, report.updated, parsed) == (4, 1, [path])


def test_changed_chunking_settings_rechunk_unchanged_files(
    make_engine: Callable[..., Engine], seeds_copy: Path
) -> None:
    make_engine().ingest([seeds_copy])
    report = make_engine(chunk_max_words=120, chunk_min_words=60).ingest([seeds_copy])
    assert report.updated == 5 and report.embedded > 0


def test_chunks_are_written_in_batches_across_documents(
    engine: Engine, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    add = engine.store._collection.add
    monkeypatch.setattr(
        engine.store._collection, "add", lambda **kw: calls.append(len(kw["ids"])) or add(**kw)
    )
    report = engine.ingest([seeds_copy])
    assert calls == [report.chunks]  # one write for all five documents


def test_a_failed_ingest_leaves_bm25_and_chroma_in_agreement(engine: Engine, seeds_copy: Path) -> None:
    engine.embedder.fail_after(9)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="simulated"):
        engine.ingest([seeds_copy])
    engine.embedder.fail_after(None)  # type: ignore[attr-defined]
    stored = engine.store.records()
    saved = LexicalIndex.load(engine.settings.lexical_dir)
    assert saved is not None and [r.chunk_id for r in saved.records] == [r.chunk_id for r in stored]
    # Whole documents only: each stored document has all of its chunks.
    assert 0 < len({r.doc_id for r in stored}) < 5
    full = _chunk_ids_by_doc(seeds_copy)
    for doc in {r.doc_id for r in stored}:
        assert {r.chunk_id for r in stored if r.doc_id == doc} == full[doc]


def _chunk_ids_by_doc(folder: Path) -> dict[str, set[str]]:
    from index.chunk import chunk
    from index.load import load

    return {f.stem: {c.chunk_id for c in chunk(load(f))} for f in sorted(folder.glob("*.txt"))}


def test_saved_bm25_index_is_loaded_and_ranks_as_built(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    folder = engine.settings.lexical_dir
    assert (folder / "bm25").is_dir()
    loaded = LexicalIndex.load(folder)
    assert loaded is not None and loaded._bm25 is not None
    built = LexicalIndex(loaded.records)
    for q in ("Hadi al-Ameri Badr", "US troops stay Iraq", "Mosul training"):
        assert [(r.chunk_id, round(s, 6)) for r, s in loaded.search(q, 5)] == [
            (r.chunk_id, round(s, 6)) for r, s in built.search(q, 5)
        ]


def test_lexical_index_updated_in_place_equals_one_rebuilt_from_chroma(
    engine: Engine, seeds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.sync

    def no_rebuild(*_: object) -> None:
        raise AssertionError("read back from Chroma")

    monkeypatch.setattr(index.sync, "rebuild_lexical", no_rebuild)
    engine.ingest([seeds_copy])
    path = next(seeds_copy.glob("001_*.txt"))
    path.write_text(path.read_text(encoding="utf-8").replace("Iraq", "Iraq's"), encoding="utf-8")
    next(seeds_copy.glob("003_*.txt")).unlink()
    engine.ingest([seeds_copy], prune=True)
    assert engine.lexical.records == engine.store.records()
    assert LexicalIndex(engine.store.records()).fingerprint == engine.lexical.fingerprint
