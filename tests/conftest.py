"""Shared fixtures: a deterministic embedding that still ranks, and engines on temporary stores."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import ChatResponse, CompletionResponse, LLMMetadata
from llama_index.core.llms import ChatMessage, CustomLLM, MessageRole
from pydantic import PrivateAttr

from index.store import tokenize
from rag.settings import Settings
from rag.wiring import Engine, build_engine

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class FakeEmbedding(BaseEmbedding):
    """Hashed bag of words: texts sharing words get similar vectors, so ranking is meaningful.

    Counts how many texts it embedded, so tests can assert that no work was redone.
    """

    dims: int = 256
    _texts: int = PrivateAttr(default=0)
    _fail_after: int | None = PrivateAttr(default=None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model_name="fake-hashed-bow", embed_batch_size=4, **kwargs)

    @property
    def texts_embedded(self) -> int:
        return self._texts

    def fail_after(self, n: int | None) -> None:
        """Raise once `n` more texts have been embedded (simulates a crash mid-ingest)."""
        self._fail_after = None if n is None else self._texts + n

    def _vector(self, text: str) -> list[float]:
        v = np.zeros(self.dims)
        for tok in tokenize(text):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
            v[h % self.dims] += 1.0
        n = np.linalg.norm(v)
        return (v / n if n else v + 1.0 / np.sqrt(self.dims)).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        if self._fail_after is not None and self._texts >= self._fail_after:
            raise RuntimeError("simulated embedding failure")
        self._texts += 1
        return self._vector(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may edit."""
    dst = tmp_path / "articles"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", chroma_url=None, candidates=30)


@pytest.fixture
def make_engine(settings: Settings) -> Callable[..., Engine]:
    """Build engines over one temporary data dir, all with the fake embedding."""
    embedder = FakeEmbedding()

    def make(**overrides: Any) -> Engine:
        s = settings.model_copy(update=overrides) if overrides else settings
        return build_engine(s, embedder=embedder)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


class ScriptedLLM(CustomLLM):
    """Replies with queued texts, streamed word by word, and records every prompt it was sent.

    A queued exception is raised instead of replying (a backend that fails mid-question).
    """

    _replies: list[str | Exception] = PrivateAttr(default_factory=list)
    _prompts: list[list[ChatMessage]] = PrivateAttr(default_factory=list)

    def enqueue(self, *replies: str | Exception) -> ScriptedLLM:
        self._replies.extend(replies)
        return self

    @property
    def prompts(self) -> list[list[ChatMessage]]:
        return self._prompts

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, model_name="scripted")

    def _next(self, messages: Sequence[ChatMessage]) -> str:
        self._prompts.append(list(messages))
        reply = self._replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=self._next(messages)))

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        text = self._next(messages)
        so_far = ""
        for piece in re.findall(r"\S+\s*", text):
            so_far += piece
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=so_far), delta=piece)

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._next([ChatMessage(role=MessageRole.USER, content=prompt)]))

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> Iterator[CompletionResponse]:
        yield self.complete(prompt)


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The embedded default embedding model over the seeds (shared: build it once)."""
    engine = build_engine(Settings(data_dir=tmp_path_factory.mktemp("real") / "data", chroma_url=None))
    engine.ingest([SEEDS])
    return engine


@pytest.fixture
def scripted(real_engine: Engine) -> Iterator[ScriptedLLM]:
    """A scripted LLM installed as the `scripted` backend of the real engine."""
    llm = ScriptedLLM()
    real_engine.llms["scripted"] = llm
    yield llm
    del real_engine.llms["scripted"]
