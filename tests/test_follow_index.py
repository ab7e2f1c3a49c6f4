"""An engine follows the index as another process changes it (embedded Chroma on one data dir)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rag.wiring import Engine
from tests.conftest import ROOT

OTHER_PROCESS = """
import sys
from pathlib import Path
from rag.settings import Settings
from rag.wiring import build_engine
from tests.conftest import FakeEmbedding
engine = build_engine(Settings(data_dir=Path(sys.argv[1]), chroma_url=None), embedder=FakeEmbedding())
print(engine.ingest([Path(sys.argv[2])], prune=True).counts())
"""


def ingest_elsewhere(engine: Engine, articles: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(engine.settings.data_dir), str(articles)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr


def test_engine_follows_another_process_that_prunes_and_adds(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    files = sorted(seeds_copy.glob("*.txt"))
    gone = files[0].stem
    probe = engine.embedder.get_query_embedding(files[0].read_text(encoding="utf-8")[:400])
    old_store = engine.store
    assert gone in {r.doc_id for r, _ in old_store.query(probe, 50)}

    files[0].unlink()
    (seeds_copy / "added.txt").write_text("Quokka Count\n\nRangers counted 812 quokkas on the island.\n")
    ingest_elsewhere(engine, seeds_copy)

    # The vector index this process loaded still knows the deleted ids: they are dropped, not a KeyError.
    assert gone not in {r.doc_id for r, _ in old_store.query(probe, 50)}
    assert gone not in {d.doc_id for d in engine.documents()}  # the next request reloads
    assert engine.store is not old_store
    for mode in ("dense", "bm25", "hybrid"):
        hits = engine.search("how many quokkas did rangers count", mode=mode)  # type: ignore[arg-type]
        assert hits[0].doc_id == "added", mode
        assert gone not in {p.doc_id for p in hits}
    assert engine.refresh() is False  # nothing new: no reload


def test_own_ingest_does_not_reload(engine: Engine, seeds_copy: Path) -> None:
    engine.ingest([seeds_copy])
    store = engine.store
    engine.add_document("Quokka Count\n\nRangers counted 812 quokkas on the island.\n", doc_id="q")
    assert engine.refresh() is False and engine.store is store
