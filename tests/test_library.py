"""Uploads from the UI (several files, an outcome each) and example questions from the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eval.questions import load_questions
from rag.examples import example_questions, mentions
from rag.library import add_files, doc_id_for
from rag.wiring import Engine
from tests.conftest import FIXTURES, ROOT

PORT = (
    "Basra port reopens after dredging\n\nBy Layla Hassan\n\nThe port of Umm Qasr reopened on Monday "
    "after six weeks of dredging, the harbour authority said. Officials expect container traffic to "
    "double by the end of the year.\n"
)


def test_several_files_at_once_with_an_outcome_each(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    before = {r.chunk_id for r in engine.store.records()}
    calls: list[tuple[int, int, str]] = []
    page = (FIXTURES / "pages" / "jsonld.html").read_bytes()
    files = [
        ("Basra port (1).txt", PORT.encode()),
        ("dam.html", page),
        ("notes.pdf", b"%PDF"),
        ("latin1.txt", "Le caf\xe9 du port de Bassora a rouvert apr\xe8s les travaux.".encode("latin-1")),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("furniture.txt", b"Skip to content\nAdvertisement\n"),
        ("002_baa8629b5dbd2b1a.txt", PORT.encode()),  # a seed's id: not replaced by an upload
    ]
    out = add_files(engine, files, lambda done, total, name: calls.append((done, total, name)))
    assert [(o.name, o.status, o.doc_id) for o in out] == [
        ("Basra port (1).txt", "added", "Basra_port_1"),
        ("dam.html", "added", "dam"),
        ("notes.pdf", "skipped", None),
        ("latin1.txt", "added", "latin1"),  # read as Windows-1252, as `rag ingest` reads it
        ("image.txt", "skipped", None),
        ("furniture.txt", "skipped", None),
        ("002_baa8629b5dbd2b1a.txt", "skipped", None),
    ]
    # The same words as `rag ingest` for the same faults.
    assert out[2].detail == "unsupported file type .pdf: notes.pdf (use .txt, .md, .html, .htm)"
    assert out[4].detail == "image.txt: binary file (a PNG image), not text"
    assert out[5].detail == "furniture.txt: no article text after cleaning" and "belongs to" in out[6].detail
    assert calls[0] == (0, 7, "Basra port (1).txt") and calls[-1] == (7, 7, "")
    # Askable at once; the bad files changed nothing; what was indexed is still there.
    assert engine.search("Umm Qasr dredging", k=1)[0].doc_id == "Basra_port_1"
    assert {d.doc_id: d.author for d in engine.documents()}["dam"] == "Leila Haddad, Tom Reyes"
    assert before <= {r.chunk_id for r in engine.store.records()}
    again = add_files(engine, [("Basra port (1).txt", PORT.encode())])
    assert again[0].status == "unchanged"
    edited = add_files(engine, [("Basra port (1).txt", (PORT + "More news today.\n").encode())])
    assert edited[0].status == "updated"


def test_a_bad_file_never_disturbs_what_is_indexed(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    add_files(engine, [("port.txt", PORT.encode())])
    chunks = {r.chunk_id for r in engine.store.records()}
    out = add_files(
        engine, [("port.txt", b"Skip to content\nAdvertisement\n"), ("port.txt", b"\x00\xff" * 64)]
    )
    assert [o.status for o in out] == ["skipped", "skipped"]
    assert out[0].detail == "port.txt: no article text after cleaning"
    assert {r.chunk_id for r in engine.store.records()} == chunks
    assert (engine.settings.data_dir / "uploads" / "port.txt").read_text() == PORT
    assert engine.search("Umm Qasr dredging", k=1)[0].doc_id == "port"


def test_removing_an_upload_takes_its_chunks_and_file(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    add_files(engine, [("port.txt", PORT.encode())])
    engine.remove_document("port")
    assert "port" not in {r.doc_id for r in engine.store.records()}
    assert "port" not in {r.doc_id for r in engine.lexical.records}
    assert engine.search("Umm Qasr dredging", k=3, mode="bm25") == [] or all(
        p.doc_id != "port" for p in engine.search("Umm Qasr dredging", k=3)
    )
    assert not (engine.settings.data_dir / "uploads" / "port.txt").exists()


@pytest.mark.parametrize(
    ("name", "doc_id"), [("a b.html", "a_b"), ("../x/y.md", "y"), ("...txt", "upload"), ("ü.txt", "upload")]
)
def test_doc_id_for(name: str, doc_id: str) -> None:
    assert doc_id_for(name) == doc_id


def test_examples_come_from_the_corpus_and_follow_it() -> None:
    docs = {
        "a": ["Col. Jane Doe said the Northern Alliance had left. Prime Minister Omar Kay agreed."],
        "b": ["The Northern Alliance returned, Omar Kay said."],
        "c": ["Nothing of note about the Northern Alliance."],
    }
    found = {m.name: m for m in mentions(docs)}
    assert found["Northern Alliance"].documents == 3 and not found["Northern Alliance"].person
    assert found["Omar Kay"].person and found["Jane Doe"].person
    questions = example_questions(docs, ["Alliance leaves the north"])
    assert questions == [
        "Who is Omar Kay?",
        "What do the articles say about Northern Alliance?",
        "What does the article “Alliance leaves the north” report?",
        "What did Jane Doe say?",
    ]
    docs["d"] = ["The Southern Front met the Southern Front again, Ann Lee said."] * 3
    docs["e"] = ["Southern Front news, Ann Lee said."]
    assert example_questions(docs, []) != questions[:2]
    assert example_questions({}, []) == []


def test_no_evaluation_question_appears_in_the_product_code() -> None:
    sets = [load_questions(ROOT / "eval" / f) for f in ("questions.yaml", "heldout.yaml")]
    asked = [q.question for s in sets for q in s.questions]
    code = "\n".join(
        p.read_text(encoding="utf-8") for d in ("rag", "index", "ui") for p in (ROOT / d).rglob("*.py")
    )
    norm = re.sub(r"\s+", " ", code)
    assert asked and not [q for q in asked if q in norm]
