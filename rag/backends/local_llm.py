"""The offline LLM: the packaged GGUF (see `rag.backends.gguf`) run in-process by llama.cpp.

`LlamaCppLLM` is a llama-index LLM that talks to it through the GGUF's own chat template.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import regex
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import Field, PrivateAttr

from rag.backends.gguf import ModelSpec, ensure_gguf
from rag.errors import BackendUnavailable


class LlamaCppLLM(CustomLLM):
    """A GGUF model run in-process by llama.cpp, prompted through the GGUF's own chat template.

    One llama.cpp context serves one generation at a time, so calls are serialised by a lock; a
    stream holds it until it is exhausted or closed. llama.cpp keeps the KV cache of the previous
    prompt and re-evaluates only the tokens after the longest shared prefix, so consecutive prompts
    that start with the same system and few-shot messages only pay for their new tail. A prefix
    that must survive unrelated prompts in between needs `prefix_cache_bytes` (off by default: each
    snapshot also copies llama.cpp's logits buffer, ~330 MB for Qwen2.5, and costs a save per call).
    A `constraint=` keyword (`rag.grammar.Constraint`) limits what a call may generate.
    """

    model_path: str = Field(description="Path of the GGUF file.")
    n_ctx: int = Field(default=4096, gt=0, description="Context window in tokens.")
    n_threads: int | None = Field(default=None, ge=1, description="llama.cpp threads (None: all cores).")
    max_tokens: int = Field(default=256, gt=0, description="Most tokens a reply may generate.")
    temperature: float = Field(default=0.0, ge=0.0)
    prefix_cache_bytes: int = Field(default=0, ge=0, description="RAM for saved prompt states (0: none).")

    _llama: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        from llama_cpp import Llama
        from llama_cpp.llama_cache import LlamaRAMCache

        # llama.cpp's own default is half the cores for generation; on 2 cores all of them generate
        # 1.5x faster (33 vs 21 tokens/s), and the setting promises all cores.
        threads = self.n_threads or _cores()
        try:
            # verbose=False silences both the load-time chatter and llama.cpp's log callback.
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as e:
            raise BackendUnavailable(f"llama.cpp cannot load {self.model_path}: {_one_line(e)}") from None
        if self.prefix_cache_bytes:
            self._llama.set_cache(LlamaRAMCache(capacity_bytes=self.prefix_cache_bytes))

    @classmethod
    def from_spec(
        cls,
        spec: ModelSpec,
        models_dir: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        **fields: Any,
    ) -> LlamaCppLLM:
        """Assemble and verify the packaged GGUF if needed (see `ensure_gguf`), then load it."""
        return cls(model_path=str(ensure_gguf(spec, models_dir, progress=progress)), **fields)

    @classmethod
    def class_name(cls) -> str:
        return "llama_cpp_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.n_ctx,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text, raw = self._generate(_to_dicts(messages), kwargs)
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=raw)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            text = ""
            for piece, raw in self._stream(_to_dicts(messages), kwargs):
                text += piece
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                    delta=piece,
                    raw=raw,
                    # The last response (no text) carries the token counts.
                    additional_kwargs={"usage": raw["usage"]} if "usage" in raw else {},
                )

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        text, raw = self._generate([{"role": "user", "content": prompt}], kwargs)
        return CompletionResponse(text=text, raw=raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for piece, raw in self._stream([{"role": "user", "content": prompt}], kwargs):
                text += piece
                yield CompletionResponse(text=text, delta=piece, raw=raw)

        return gen()

    def _params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Generation parameters; a `constraint` (see `rag.grammar`) becomes constrained decoding."""
        params = {"max_tokens": self.max_tokens, "temperature": self.temperature, **kwargs}
        constraint = params.pop("constraint", None)
        if constraint is not None:
            from llama_cpp import LogitsProcessorList

            params["logits_processor"] = LogitsProcessorList([_Constrained(self._llama, constraint.pattern)])
        return params

    def _generate(self, messages: list[dict[str, str]], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        with self._lock:
            try:
                raw = self._llama.create_chat_completion(
                    messages=messages, stream=False, **self._params(kwargs)
                )
            except (ValueError, RuntimeError) as e:
                raise BackendUnavailable(f"llama.cpp failed: {_one_line(e)}") from None
        return raw["choices"][0]["message"].get("content") or "", raw

    def _stream(
        self, messages: list[dict[str, str]], kwargs: dict[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        with self._lock:
            try:
                chunks = self._llama.create_chat_completion(
                    messages=messages, stream=True, **self._params(kwargs)
                )
                # Closing llama.cpp's generator before the lock is released ends its generation for good.
                with closing(chunks):
                    written = 0
                    for chunk in chunks:
                        piece = chunk["choices"][0]["delta"].get("content") or ""
                        if piece:
                            written += 1  # llama.cpp streams one token per chunk
                            yield piece, chunk
                    # Streamed chunks carry no usage; the context now holds the prompt and the reply.
                    prompt = max(0, self._llama.n_tokens - written)
                    yield "", {"usage": {"prompt_tokens": prompt, "completion_tokens": written}}
            except (ValueError, RuntimeError) as e:
                raise BackendUnavailable(f"llama.cpp failed: {_one_line(e)}") from None


# Tokens checked against a constraint at each step, likeliest first.
CONSTRAINT_CANDIDATES = 200


class _Constrained:
    """A llama-cpp-python logits processor for greedy decoding under a constraint: of the
    `CONSTRAINT_CANDIDATES` likeliest tokens, only the first that keeps the reply a prefix of
    `pattern` stays possible; an end-of-generation token only once the reply matches in full.

    (llama-cpp-python's `LlamaGrammar` checks the whole vocabulary at every step instead: 1.5 s a
    token for Qwen2.5 on 2 cores, measured; a top-k step before it aborts the process when no
    candidate is allowed.)
    """

    def __init__(self, llama: Any, pattern: str) -> None:
        self.llama = llama
        self.pattern = regex.compile(pattern)
        self.start: int | None = None
        self.pieces: dict[int, str] = {}

    def piece(self, token: int) -> str:
        if token not in self.pieces:
            self.pieces[token] = self.llama.detokenize([token]).decode("utf-8", errors="ignore")
        return self.pieces[token]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.start is None:
            self.start = len(input_ids)
        text = self.llama.detokenize(list(input_ids[self.start :])).decode("utf-8", errors="ignore")
        top = np.argpartition(-scores, CONSTRAINT_CANDIDATES)[:CONSTRAINT_CANDIDATES]
        token = self.first_allowed(text, top[np.argsort(-scores[top])])
        if token is None:  # rare: nothing likely fits; look further down, best first
            token = self.first_allowed(text, np.argsort(-scores))
        if token is None:
            return scores  # no token fits at all; the verifier has the last word
        out = np.full_like(scores, -np.inf)
        out[token] = scores[token]
        return out

    def first_allowed(self, text: str, tokens: Any) -> int | None:
        for token in tokens:
            piece = self.piece(int(token))
            if piece:
                ok = self.pattern.fullmatch(text + piece, partial=True) is not None
            else:  # the end of generation (special tokens read as nothing)
                ok = self.pattern.fullmatch(text) is not None
            if ok:
                return int(token)
        return None


def _to_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.content or ""} for m in messages]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
