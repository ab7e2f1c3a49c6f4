"""Bad article files (issue 12): each is left out with a reason a person can act on, or indexed
cleanly; the rest of the batch is indexed exactly as without it."""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.load import MAX_FILE_BYTES, Found, find
from index.sync import IngestReport
from rag.errors import BadRequest
from rag.wiring import Engine
from tests.conftest import SEEDS

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
ARTICLE = (
    "Flood defences hold in the river town\n\n"
    "The council said on Monday that the new flood defences held through the storm. "
    "Engineers had raised the walls by a metre after the floods of the previous winter, "
    "and residents who had sandbagged their doors were told they could clear them. "
    "The mayor thanked the volunteers who had watched the river through the night.\n"
)


def reasons(report: IngestReport) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in report.skipped}


def chunk_ids(engine: Engine) -> list[str]:
    return [r.chunk_id for r in engine.store.records()]


@pytest.fixture
def batch(seeds_copy: Path) -> Path:
    """The seeds with one of each bad file beside them."""
    d = seeds_copy
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_bytes(b" \n\n\t\n")
    (d / "random.txt").write_bytes(random.Random(12).randbytes(4096))
    (d / "picture.txt").write_bytes(PNG + random.Random(1).randbytes(2000))
    (d / "controls.txt").write_bytes(bytes(random.Random(2).choice(range(1, 32)) for _ in range(2000)))
    (d / "loop_a.txt").symlink_to(d / "loop_b.txt")
    (d / "loop_b.txt").symlink_to(d / "loop_a.txt")
    (d / "dangling.txt").symlink_to(d / "nowhere.txt")
    os.mkfifo(d / "pipe.txt")  # reading it would block for ever
    (d / "sub").mkdir()
    (d / "sub" / "back").symlink_to(d)  # a folder loop
    with (d / "huge.txt").open("wb") as f:  # 50 MB, sparse: costs no disk
        f.truncate(50_000_000)
    first = sorted(SEEDS.glob("*.txt"))[0]
    (d / "zz_copy.txt").write_bytes(first.read_bytes())
    return d


def test_each_bad_file_is_left_out_with_its_reason_and_the_rest_indexed(
    make_engine: Callable[..., Engine], batch: Path, tmp_path: Path
) -> None:
    engine = make_engine()
    t0 = time.perf_counter()
    report = engine.ingest([batch])
    assert time.perf_counter() - t0 < 60  # the 50 MB file is not read
    first = sorted(SEEDS.glob("*.txt"))[0]
    got = reasons(report)
    assert got == {
        "empty.txt": "empty file",
        "blank.md": "empty file",
        "random.txt": "binary file (NUL bytes), not text",
        "picture.txt": "binary file (a PNG image), not text",
        "controls.txt": got["controls.txt"],
        "loop_a.txt": "symlink loop",
        "loop_b.txt": "symlink loop",
        "dangling.txt": "broken symlink (its target does not exist)",
        "pipe.txt": "not a regular file",
        "back": "symlink loop: leads to a folder already searched",
        "huge.txt": "too large for an article (50.0 MB; the limit is 10 MB): split it into articles",
        # Both names known: the copy names the file it duplicates and the id it is indexed as.
        "zz_copy.txt": f"same content as {(batch / first.name).resolve()} (indexed once, as {first.stem!r})",
    }
    assert got["controls.txt"].startswith("binary file (") and "control characters" in got["controls.txt"]
    assert (report.added, report.indexed, report.documents) == (5, 5, 5)
    assert not report.nothing_indexed

    # Nothing else changes: the seeds are indexed exactly as in a batch of their own.
    clean = make_engine(data_dir=tmp_path / "clean")
    clean.ingest([SEEDS])
    assert chunk_ids(engine) == chunk_ids(clean)
    assert [r.chunk_id for r in engine.lexical.records] == chunk_ids(engine)

    # Again: nothing to do, and the same files are reported.
    again = engine.ingest([batch])
    assert again.unchanged == 5 and again.embedded == 0 and reasons(again) == got


def test_an_upload_that_cannot_be_indexed_is_refused_with_the_reason(engine: Engine) -> None:
    with pytest.raises(BadRequest, match="not indexed: binary file"):
        engine.add_document("\x01\x02" * 500, doc_id="junk")
    assert not (engine.settings.data_dir / "uploads" / "junk.txt").exists()


def test_a_batch_of_only_bad_files_indexes_nothing(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_bytes(PNG)
    report = engine.ingest([tmp_path])
    assert report.nothing_indexed and report.documents == 0 and len(report.skipped) == 2


def test_a_copy_indexed_first_keeps_its_name(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")
    engine.ingest([tmp_path])
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")  # sorts first, but b is indexed
    report = engine.ingest([tmp_path])
    assert reasons(report) == {
        "a.txt": f"same content as {(tmp_path / 'b.txt').resolve()} (indexed once, as 'b')"
    }
    assert [d.doc_id for d in engine.documents()] == ["b"]


def test_a_file_that_becomes_a_copy_loses_its_own_chunks(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ARTICLE.replace("Monday", "Tuesday"), encoding="utf-8")
    engine.ingest([tmp_path])
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")
    report = engine.ingest([tmp_path])
    assert "b.txt" in reasons(report) and [d.doc_id for d in engine.documents()] == ["a"]
    assert {r.doc_id for r in engine.store.records()} == {"a"}


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("latin1.txt", ARTICLE.replace("river", "rivière").encode("latin-1"), "Windows-1252"),
        ("cp1252.html", f"<p>{ARTICLE.replace('said', '“said”')}</p>".encode("cp1252"), "Windows-1252"),
        ("utf16.txt", ARTICLE.replace("river", "rivière").encode("utf-16"), "UTF-16"),
        ("utf16be.md", b"\xfe\xff" + ARTICLE.encode("utf-16-be"), "UTF-16"),
    ],
)
def test_other_encodings_are_read_and_quotes_point_at_the_file(
    engine: Engine, tmp_path: Path, name: str, data: bytes, encoding: str
) -> None:
    (tmp_path / name).write_bytes(data)
    report = engine.ingest([tmp_path])
    assert report.added == 1 and not report.skipped
    assert [(Path(d.path).name, d.reason) for d in report.decoded] == [
        (name, f"read as {encoding} (not UTF-8)")
    ]
    doc = engine.document(Path(name).stem)  # sha256 of the bytes: not "changed since indexed"
    assert doc.info.title == "Flood defences hold in the river town".replace("river", "rivière") or (
        doc.info.title.startswith("Flood defences")
    )
    for p in engine.search("flood defences volunteers", k=3):
        assert " ".join(doc.text[p.start : p.end].split()).startswith(" ".join(p.text.split())[:40])
    assert engine.ingest([tmp_path]).unchanged == 1


def test_terminal_escapes_never_reach_titles_or_text(engine: Engine, tmp_path: Path) -> None:
    coloured = "\x1b[31mFlood defences hold\x1b[0m\x07\n\n" + ARTICLE.split("\n\n", 1)[1].replace(
        "storm", "storm\x1b]0;pwned\x07\x01"
    )
    (tmp_path / "coloured.txt").write_text(coloured, encoding="utf-8")
    report = engine.ingest([tmp_path])
    assert report.added == 1
    [info] = engine.documents()
    assert info.title == "Flood defences hold"
    for r in engine.store.records():
        assert not any(ord(c) < 32 and c not in "\n\t" for c in r.title + r.text), r.text
        assert "pwned" not in r.text


def test_html_scripts_and_styles_are_not_indexed(engine: Engine, tmp_path: Path) -> None:
    page = (
        "<html><head><title>Flood defences hold</title><style>.x{color:crimson}</style>"
        "<script>var tracker = 'XYZZY-SCRIPT';</script></head><body>"
        f"<article><h1>Flood defences hold</h1><p>{ARTICLE.split(chr(10) * 2, 1)[1]}</p></article>"
        "<noscript>enable javascript PLEASE</noscript>"
        "<script type='text/javascript'>document.write('<p>UNCLOSED-SCRIPT</p>')"
    )
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    engine.ingest([tmp_path])
    text = " ".join(r.text for r in engine.store.records())
    assert "volunteers" in text
    for junk in ("XYZZY", "crimson", "PLEASE", "UNCLOSED", "document.write"):
        assert junk not in text


def test_one_5mb_line_is_cut_into_bounded_chunks(engine: Engine, tmp_path: Path) -> None:
    words = random.Random(5).choices(["flood", "river", "wall", "council", "storm", "night"], k=1_000_000)
    (tmp_path / "line.txt").write_text("A title\n\n" + " ".join(words), encoding="utf-8")
    t0 = time.perf_counter()
    report = engine.ingest([tmp_path])
    seconds = time.perf_counter() - t0
    assert report.added == 1 and report.chunks > 1000
    assert max(len(r.text) for r in engine.lexical.records) < 20_000
    assert seconds < 240, seconds  # about 60 s on 2 loaded cores, fake embedding


def test_the_size_limit_is_checked_before_reading(tmp_path: Path, engine: Engine) -> None:
    at = tmp_path / "at_limit.txt"
    at.write_bytes(b"")
    with at.open("r+b") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    t0 = time.perf_counter()
    report = engine.ingest([at])
    assert time.perf_counter() - t0 < 10 and "too large" in reasons(report)["at_limit.txt"]


def _find_as_nobody(path: Path) -> Found:
    """`find` in a child process that dropped root (root reads every folder regardless of mode)."""
    if os.geteuid() != 0:
        return find([path])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            data = pickle.dumps(find([path]))
        except BaseException as e:
            data = pickle.dumps(e)
        os.write(w, data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = pickle.loads(f.read())
    os.waitpid(pid, 0)
    if isinstance(got, BaseException):
        raise got
    assert isinstance(got, Found)
    return got


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A temporary folder anyone may enter (pytest's own is root-only)."""
    d = Path(tempfile.mkdtemp(prefix="rag-public-"))
    d.chmod(0o755)
    yield d
    for p in d.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(d)


def test_an_unreadable_folder_is_reported_and_the_rest_found(public_tmp: Path) -> None:
    (public_tmp / "ok.txt").write_text(ARTICLE, encoding="utf-8")
    (public_tmp / "ok.txt").chmod(0o644)
    locked = public_tmp / "locked"
    locked.mkdir()
    (locked / "secret.txt").write_text(ARTICLE, encoding="utf-8")
    locked.chmod(0)
    found = _find_as_nobody(public_tmp)
    assert [f.name for f in found.files] == ["ok.txt"]
    assert [(Path(s.path).name, s.reason) for s in found.skipped] == [
        ("locked", "cannot read this folder (Permission denied)")
    ]


@pytest.mark.slow
def test_rag_ingest_lists_what_it_skipped_and_fails_only_when_nothing_was_indexed(tmp_path: Path) -> None:
    rag = str(Path(sys.executable).with_name("rag"))
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data")}
    env.pop("RAG_CHROMA_URL", None)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "picture.txt").write_bytes(PNG)
    (folder / "latin.txt").write_bytes(
        ARTICLE.replace("river", "rivière").replace("Flood", "Storm").encode("latin-1")
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([rag, "ingest", *args], capture_output=True, text=True, env=env, timeout=300)

    r = run(str(folder))
    assert r.returncode == 0, r.stderr
    assert "2 added" in r.stdout and "Traceback" not in r.stderr
    assert f"note: {folder / 'latin.txt'}: read as Windows-1252 (not UTF-8)" in r.stderr
    assert "skipped 2 (not indexed):" in r.stderr
    assert f"  {folder / 'empty.txt'}: empty file" in r.stderr
    assert f"  {folder / 'picture.txt'}: binary file (a PNG image), not text" in r.stderr

    r = run(str(folder / "empty.txt"), str(folder / "picture.txt"), "--json")
    assert r.returncode == 1 and "error: none of the files could be indexed" in r.stderr
    assert "Traceback" not in r.stderr and json.loads(r.stdout)["documents"] == 2
