"""The `openai` LLM backend: any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama, OpenAI)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import httpx
import openai
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
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam
from pydantic import Field, PrivateAttr

from rag.errors import BackendUnavailable

# Local servers ignore the key, but the client refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"
# Statuses worth another try (besides 5xx and connection errors), as the openai client retries them.
_RETRY_STATUS = frozenset({408, 409, 429})


class OpenAIChatLLM(CustomLLM):
    """Chat with an OpenAI-compatible server through the official `openai` client.

    Every failure of the server or the network is raised as `BackendUnavailable` with a one-line
    message, including failures in the middle of a stream. A `constraint=` keyword is sent as a
    llama.cpp grammar where the server accepts one.
    """

    base_url: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:8080/v1; None: the client's default (OpenAI)."
    )
    api_key: str | None = Field(
        default=None, exclude=True, repr=False, description="None: a placeholder, enough for local servers."
    )
    model: str = Field(description="Model name sent with every request.")
    timeout: float = Field(
        default=60.0, gt=0, description="Seconds for the answer to start, retries included; then per read."
    )
    max_retries: int = Field(default=2, ge=0, description="Retries of connection errors, 408/409/429/5xx.")
    max_tokens: int = Field(default=256, ge=1, description="Most tokens an answer may generate.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    _client: openai.OpenAI = PrivateAttr()
    _grammar_ok: bool = PrivateAttr(default=True)

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 256,
        temperature: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            model=model,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            max_tokens=max_tokens,
            temperature=temperature,
            **kwargs,
        )
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or PLACEHOLDER_API_KEY,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    @classmethod
    def class_name(cls) -> str:
        return "openai_chat_llm"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, model_name=self.model, num_output=self.max_tokens)

    @property
    def server_url(self) -> str:
        """The base URL requests actually go to (the client's default when `base_url` is None)."""
        return str(self._client.base_url).rstrip("/")

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One request, one answer. Extra kwargs (`stop`, `seed`, ...) go to the server as is."""
        with self._translated():
            response = self._create(messages, False, kwargs)
        if not response.choices:
            raise BackendUnavailable(f"the OpenAI-compatible server at {self.server_url} answered no choices")
        text = response.choices[0].message.content or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=response)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Yield the answer as it is generated: `delta` is the new piece, `message` all text so far.

        The request is sent before this returns, so an unreachable server fails here, not on the
        first `next()`.
        """
        with self._translated():
            # Token counts come in the last chunk.
            stream = self._create(messages, True, {"stream_options": {"include_usage": True}, **kwargs})
        return self._deltas(stream)

    def _create(self, messages: Sequence[ChatMessage], stream: bool, kwargs: dict[str, Any]) -> Any:
        """Send one request. A `constraint` (see `rag.grammar`) goes as a llama.cpp `grammar`; a
        server that rejects the field (400) is asked again without it, and not sent it again."""
        kwargs = dict(kwargs)
        constraint = kwargs.pop("constraint", None)
        wire = self._wire_messages(messages)
        if constraint is not None and self._grammar_ok:
            extra = {**kwargs.pop("extra_body", {}), "grammar": constraint.gbnf}
            try:
                return self._send(wire, stream, {**kwargs, "extra_body": extra})
            except openai.BadRequestError:
                self._grammar_ok = False
        return self._send(wire, stream, kwargs)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """`prompt` sent as one user message (the server applies the model's chat template)."""
        answer = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(text=answer.message.content or "", raw=answer.raw)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        """`stream_chat` on `prompt` sent as one user message."""
        chunks = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)

        def gen() -> CompletionResponseGen:
            for chunk in chunks:
                yield CompletionResponse(text=chunk.message.content or "", delta=chunk.delta, raw=chunk.raw)

        return gen()

    def _send(self, wire: list[ChatCompletionMessageParam], stream: bool, kwargs: dict[str, Any]) -> Any:
        """The request, retried (connection errors, timeouts, 408/409/429/5xx) up to `max_retries`
        times, all within one deadline of `timeout` seconds: not `timeout` per try."""
        deadline = time.monotonic() + self.timeout
        for attempt in itertools.count():
            client = self._client.with_options(timeout=max(deadline - time.monotonic(), 0.01), max_retries=0)
            try:
                return client.chat.completions.create(messages=wire, stream=stream, **self._params(kwargs))
            except (openai.APIConnectionError, openai.APIStatusError) as e:
                retry = not isinstance(e, openai.APIStatusError) or (
                    e.status_code in _RETRY_STATUS or e.status_code >= 500
                )
                pause = min(0.5 * 2**attempt, 8.0)
                if not retry or attempt >= self.max_retries or time.monotonic() + pause >= deadline:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _wire_messages(self, messages: Sequence[ChatMessage]) -> list[ChatCompletionMessageParam]:
        wire = [
            {"role": m.role.value, "content": m.content or ""} for m in self._extend_messages(list(messages))
        ]
        return cast(list[ChatCompletionMessageParam], wire)

    def _params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model, "max_tokens": self.max_tokens, "temperature": self.temperature, **kwargs}

    def _deltas(self, stream: openai.Stream[ChatCompletionChunk]) -> ChatResponseGen:
        text = ""
        with self._translated(), stream:
            for chunk in stream:
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if chunk.usage is not None:  # servers that count send it with (or after) the last piece
                    counted = {
                        "prompt_tokens": chunk.usage.prompt_tokens,
                        "completion_tokens": chunk.usage.completion_tokens,
                    }
                    yield ChatResponse(
                        message=ChatMessage(role=MessageRole.ASSISTANT, content=text + (piece or "")),
                        delta=piece or "",
                        raw=chunk,
                        additional_kwargs={"usage": counted},
                    )
                    text += piece or ""
                    continue
                if not piece:
                    continue
                text += piece
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=piece, raw=chunk
                )

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (openai.OpenAIError, httpx.HTTPError) as e:
            raise BackendUnavailable(self._explain(e)) from e

    def _explain(self, e: Exception) -> str:
        """A one-line message a person can act on."""
        where = f"the OpenAI-compatible server at {self.server_url}"
        match e:
            case openai.APITimeoutError() | httpx.TimeoutException():
                return f"{where} did not answer within {self.timeout:g} s"
            case openai.APIConnectionError():
                return f"cannot reach {where}{_cause(e)}"
            case httpx.HTTPError():  # raw httpx errors only escape while reading a stream
                return f"lost the connection to {where} mid-answer: {_one_line(str(e)) or type(e).__name__}"
            case openai.APIStatusError(status_code=401 | 403 as status):
                return f"{where} refused the API key ({status}: {_detail(e)}); set OPENAI_API_KEY"
            case openai.APIStatusError(status_code=404) if _about_model(e):
                return f"{where} has no model {self.model!r} (404: {_detail(e)}); set RAG_OPENAI_MODEL"
            case openai.APIStatusError(status_code=404):
                return f"{where} answered 404: {_detail(e)} (RAG_OPENAI_BASE_URL usually ends in /v1)"
            case openai.APIStatusError(status_code=status):
                return f"{where} answered {status}: {_detail(e)}"
            case _:
                return f"{where} failed: {_one_line(str(e)) or type(e).__name__}"


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cause(e: BaseException) -> str:
    cause = e.__cause__
    return f" ({_one_line(str(cause))})" if cause is not None and str(cause) else ""


def _detail(e: openai.APIStatusError) -> str:
    """The server's own words: OpenAI's `{"error": {"message"}}` or FastAPI's `{"detail"}`, else the body."""
    body = e.body  # the client has already unwrapped OpenAI's {"error": ...}
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message", value)
            if value:
                return _one_line(str(value))
    if body:
        return _one_line(str(body))
    return _one_line(e.response.reason_phrase) or "no detail"


def _about_model(e: openai.APIStatusError) -> bool:
    return e.code == "model_not_found" or "model" in _detail(e).lower()
