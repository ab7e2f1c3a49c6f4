"""Faults while indexing (issue 12): kill -9, two ingests at once, prune beside uploads, a full
disk. Real processes, real Chroma, a real tmpfs; the fake embedding keeps them fast."""

from __future__ import annotations

import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.errors import IndexingError
from index.store import ChunkRecord, LexicalIndex, VectorStore
from rag.settings import Settings
from rag.wiring import Engine
from tests.conftest import ROOT, SEEDS


def write_corpus(folder: Path, n: int, seed: int = 7) -> Path:
    """`n` distinct articles of three paragraphs, words drawn from the seeds."""
    folder.mkdir(parents=True, exist_ok=True)
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))).split()
    r = random.Random(seed)
    for i in range(n):
        paragraphs = [" ".join(r.choices(words, k=90)) + "." for _ in range(3)]
        (folder / f"doc{seed}_{i:03d}.txt").write_text(
            f"Report {i}\n\n" + "\n\n".join(paragraphs), encoding="utf-8"
        )
    return folder


def driver(
    data: Path, *paths: Path, prune: bool = False, delay: float = 0.0, go: Path | None = None
) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.ingest_driver", str(data), *map(str, paths), "--delay", str(delay)]
    args += ["--go", str(go)] if go else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [*args, *(["--prune"] if prune else [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(p: subprocess.Popen[str]) -> tuple[dict[str, int], str]:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def stored(data: Path) -> tuple[list[ChunkRecord], list[ChunkRecord] | None]:
    """What Chroma holds and what the saved lexical index holds, read as a new process would
    (without `build_engine`, which would repair a disagreement)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    s = Settings(data_dir=data, chroma_url=None)
    saved = LexicalIndex.load(s.lexical_dir)
    client = chromadb.PersistentClient(
        path=str(s.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    meta = client.get_collection(s.collection).metadata
    store = VectorStore(client, s.collection, embed_model=meta["embed_model"], dimensions=meta["dimensions"])
    return store.records(), None if saved is None else saved.records


def assert_same_index(data: Path, clean: Path) -> None:
    records, lexical = stored(data)
    want, _ = stored(clean)
    assert [r.chunk_id for r in records] == [r.chunk_id for r in want]  # same ids, no duplicate, no orphan
    assert records == want  # and the same text, offsets and labels
    assert lexical == records  # BM25 agrees with Chroma


@pytest.mark.slow  # about 50 s: eight processes
def test_kill_9_mid_ingest_then_run_again_equals_a_clean_ingest(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", 14)
    clean = tmp_path / "clean"
    finish(driver(clean, corpus))

    data = tmp_path / "data"
    want = stored(clean)[0]
    for wait_for in ("start", "done 2", "done 3"):  # before any write, then between writes
        p = driver(data, corpus, delay=0.15)
        assert p.stdout is not None
        for line in p.stdout:
            if line.startswith((wait_for, "{")):
                break
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        records, _ = stored(data)
        # Whole documents only, even right after a kill.
        for doc in {r.doc_id for r in records}:
            assert [r for r in records if r.doc_id == doc] == [r for r in want if r.doc_id == doc], doc
    counts, _ = finish(driver(data, corpus))
    assert counts["documents"] == 14
    assert_same_index(data, clean)
    # And once more: nothing to do.
    again, _ = finish(driver(data, corpus))
    assert again["unchanged"] == 14 and again["added"] == again["updated"] == 0


@pytest.mark.slow  # four processes
def test_two_ingests_at_once_take_turns(tmp_path: Path) -> None:
    big = write_corpus(tmp_path / "big", 10, seed=1)
    small = tmp_path / "small"
    small.mkdir()
    for f in sorted(big.glob("*.txt"))[:3]:
        shutil.copy(f, small / f.name)
    write_corpus(small, 2, seed=2)

    data = tmp_path / "data"
    go = tmp_path / "go"
    first = driver(data, big, go=go)
    assert first.stdout is not None
    assert first.stdout.readline().startswith("start")  # it holds the lock, and waits for `go`
    second = driver(data, small, prune=True)  # the race of issue 12: ingest vs ingest --prune
    assert second.stderr is not None
    never_hang = threading.Timer(120, go.touch)
    never_hang.start()
    assert any("another ingest is running" in line for line in second.stderr)  # it waits, says so
    never_hang.cancel()
    go.touch()
    rest = first.stdout.read()
    first.wait(timeout=300)
    assert first.returncode == 0
    a = json.loads(rest.strip().splitlines()[-1])
    b, _ = finish(second)
    assert a["added"] == 10 and a["documents"] == 10
    # After the first: 2 new, 3 moved (another folder), the 7 others pruned.
    assert (b["added"], b["updated"], b["removed"], b["documents"]) == (2, 3, 7, 5)
    clean = tmp_path / "clean"
    finish(driver(clean, small))
    assert_same_index(data, clean)


def test_an_ingest_waits_for_the_lock_then_gives_up_clearly(engine: Engine, seeds_copy: Path) -> None:
    from index.sync import ingest

    lock = engine.settings.lexical_dir.with_name(engine.settings.lexical_dir.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(IndexingError, match=r"another ingest has held .* for over 1 s"):
            ingest(
                sorted(seeds_copy.glob("*.txt")),
                store=engine.store,
                embedder=engine.embedder,
                lexical_dir=engine.settings.lexical_dir,
                lock_wait_seconds=1,
            )
        assert engine.store.count() == 0
        threading.Timer(1.0, fcntl.flock, (held, fcntl.LOCK_UN)).start()
        t0 = time.monotonic()
        report = engine.ingest([seeds_copy])  # waits for the release, then runs
        assert time.monotonic() - t0 >= 0.9 and report.added == 5


def test_prune_spares_uploaded_documents(make_engine: Callable[..., Engine], seeds_copy: Path) -> None:
    engine = make_engine()
    engine.ingest([seeds_copy])
    info, _ = engine.add_document(
        "Flood defences hold\n\nThe council said the new flood defences held through the storm, and the "
        "engineers who raised the walls by a metre were thanked by the mayor on Monday.",
        doc_id="upload_flood",
    )
    next(seeds_copy.glob("003_*.txt")).unlink()
    report = engine.ingest([seeds_copy], prune=True)
    assert report.removed == 1
    assert "upload_flood" in {d.doc_id for d in engine.documents()}
    assert engine.document("upload_flood").info.chunks == info.chunks
    # Naming the uploads folder is the way to prune one whose file is gone.
    (engine.settings.data_dir / "uploads" / "upload_flood.txt").unlink()
    engine.ingest([seeds_copy, engine.settings.data_dir / "uploads"], prune=True)
    assert "upload_flood" not in {d.doc_id for d in engine.documents()}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs (needs root: skipped otherwise)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_a_clear_error_and_the_index_stays_whole(
    make_engine: Callable[..., Engine], small_disk: Path, tmp_path: Path, seeds_copy: Path
) -> None:
    engine = make_engine(data_dir=small_disk / "data")
    engine.ingest([seeds_copy])
    before, saved_before = stored(small_disk / "data")
    assert saved_before == before and len(before) > 0

    corpus = write_corpus(tmp_path / "corpus", 400)
    with pytest.raises(IndexingError, match=r"not enough disk space under .*nothing was written"):
        engine.ingest([seeds_copy, corpus])
    after, saved_after = stored(small_disk / "data")
    assert after == before and saved_after == before
    assert not [p for p in (small_disk / "data" / "lexical").iterdir() if p.name.startswith(".lexical-")]
    # The running engine still answers from the index it had, and a smaller run still fits.
    assert [r.chunk_id for r in engine.lexical.records] == [r.chunk_id for r in before]
    assert engine.search("Badr organization", k=3)
    small = write_corpus(tmp_path / "small", 3, seed=9)
    assert engine.ingest([seeds_copy, small]).added == 3
    after, saved_after = stored(small_disk / "data")
    assert len(after) > len(before) and saved_after == after


@pytest.mark.slow
def test_rag_ingest_killed_then_run_again_equals_a_clean_ingest(tmp_path: Path) -> None:
    """The real command and model, killed at half the time a clean run takes."""
    corpus = write_corpus(tmp_path / "corpus", 20)
    rag = str(Path(sys.executable).with_name("rag"))

    def start(data: Path) -> subprocess.Popen[bytes]:
        env = {**os.environ, "RAG_DATA_DIR": str(data)}
        env.pop("RAG_CHROMA_URL", None)
        return subprocess.Popen([rag, "ingest", str(corpus)], env=env, stderr=subprocess.DEVNULL)

    t0 = time.monotonic()
    assert start(tmp_path / "clean").wait(timeout=600) == 0
    half = (time.monotonic() - t0) / 2
    p = start(tmp_path / "data")
    time.sleep(half)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    again = start(tmp_path / "data")
    assert again.wait(timeout=600) == 0
    assert_same_index(tmp_path / "data", tmp_path / "clean")


def test_a_document_cut_between_two_writes_is_completed_by_the_next_run(
    make_engine: Callable[..., Engine], tmp_path: Path
) -> None:
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))).split()
    r = random.Random(4)
    text = "Long report\n\n" + "\n\n".join(" ".join(r.choices(words, k=90)) + "." for _ in range(15))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "long.txt").write_text(text, encoding="utf-8")
    clean = make_engine(data_dir=tmp_path / "clean")
    clean.ingest([folder])
    want = clean.store.records()
    assert len(want) > 8

    engine = make_engine()
    engine.store.max_batch_size = 4  # so the document takes several writes
    real = engine.store._collection
    calls = []

    class DiesOnSecondAdd:  # a kill between two writes of one document
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def add(self, **kw: object) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            real.add(**kw)

    engine.store._collection = DiesOnSecondAdd()
    with pytest.raises(KeyboardInterrupt):
        engine.ingest([folder])
    engine.store._collection = real
    assert 0 < engine.store.count() < len(want)

    report = engine.ingest([folder])
    assert report.unchanged == 0  # not taken for whole
    assert engine.store.records() == want and engine.lexical.records == want
    assert engine.ingest([folder]).unchanged == 1
