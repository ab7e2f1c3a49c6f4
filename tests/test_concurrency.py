"""Concurrent requests share the engine's work instead of repeating it."""

from __future__ import annotations

import threading
import time

from rag.settings import Settings
from rag.wiring import build_engine
from tests.conftest import FakeEmbedding


class SlowEmbedding(FakeEmbedding):
    """Takes a millisecond per text, as a real model takes its time: concurrent callers overlap."""

    def _get_text_embedding(self, text: str) -> list[float]:
        time.sleep(0.001)
        return super()._get_text_embedding(text)


def test_concurrent_answers_embed_each_sentence_once(settings: Settings) -> None:
    embedder = SlowEmbedding()
    engine = build_engine(settings, embedder=embedder)
    sentences = [f"Sentence number {i} about the harbour museum." for i in range(60)]
    start = threading.Barrier(8)
    results: list[list[float]] = []

    def answer() -> None:
        start.wait()
        results.append(engine.similarity("the harbour museum", sentences))

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One batch at a time (concurrent onnxruntime runs each grow its memory arena), and those
    # waiting reuse what the first embedded.
    assert embedder.texts_embedded == 60
    assert len(results) == 8 and all(r == results[0] for r in results)
