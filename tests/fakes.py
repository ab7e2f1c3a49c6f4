"""Test doubles, importable by any test: a deterministic embedding that still ranks, a scripted LLM.

Plug them in explicitly: `build_engine(settings, embedder=FakeEmbedding())`, and for an LLM
`build_engine(..., llms={"scripted": ScriptedLLM()})` or, on an engine already built,
`with engine.override_llm("local", ScriptedLLM().enqueue("..."))`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import ChatResponse, CompletionResponse, LLMMetadata
from llama_index.core.llms import ChatMessage, CustomLLM, MessageRole
from pydantic import PrivateAttr

from index.store import tokenize


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
