"""One ingest in its own process, for tests/test_ingest_faults.py to kill or race.

`python -m tests.ingest_driver DATA_DIR [--prune] [--delay S] [--go FILE] PATH…`: the fake embedding
(optionally sleeping S seconds per batch), Chroma written after every document; with `--go`, it
waits after taking the lock until FILE exists.
Prints `start D C` once it holds the lock, `done N` as documents are written, then the counts.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from index.load import find
from index.sync import ingest
from rag.settings import Settings
from rag.wiring import build_engine
from tests.conftest import FakeEmbedding


class _Printed:
    def __init__(self, go: Path | None) -> None:
        self.documents = 0
        self._go = go

    def start(self, documents: int, chunks: int) -> None:
        print(f"start {documents} {chunks}", flush=True)
        while self._go is not None and not self._go.exists():  # hold the lock until told
            time.sleep(0.05)

    def advance(self, documents: int = 0, chunks: int = 0) -> None:
        if documents:
            self.documents += documents
            print(f"done {self.documents}", flush=True)


class _Slow:
    """The fake embedding, `delay` seconds slower per batch."""

    def __init__(self, inner: FakeEmbedding, delay: float) -> None:
        self._inner = inner
        self._delay = delay
        self.embed_batch_size = inner.embed_batch_size
        self.model_name = inner.model_name

    def get_text_embedding_batch(self, texts: Sequence[str]) -> list[list[float]]:
        time.sleep(self._delay)
        return self._inner.get_text_embedding_batch(list(texts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--prune", action="store_true")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--go", type=Path, help="once started, wait for this file to exist")
    args = ap.parse_args()
    settings = Settings(data_dir=args.data, chroma_url=None)
    engine = build_engine(settings, embedder=FakeEmbedding())
    found = find(args.paths)
    report, _ = ingest(
        found.files,
        store=engine.store,
        embedder=_Slow(FakeEmbedding(), args.delay),  # type: ignore[arg-type]
        lexical_dir=settings.lexical_dir,
        prune=args.prune,
        progress=_Printed(args.go),
        flush_seconds=0.0,
        keep=[settings.data_dir / "uploads"],
    )
    print(json.dumps(report.counts()), flush=True)


if __name__ == "__main__":
    main()
