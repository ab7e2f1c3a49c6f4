"""The one place that knows which concrete clients exist; each factory is chosen by a setting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.errors import BackendUnavailable, BadRequest, ConfigError
from rag.settings import Settings

if TYPE_CHECKING:  # llama_index.core takes about a second to import: only LLM backends pay it
    from llama_index.core.llms import LLM

    from index.embed import Embedder


def chroma_client(settings: Settings) -> Any:
    """A Chroma server client when `chroma_url` is set, else a persistent client under data_dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not settings.chroma_url:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"RAG_CHROMA_URL must look like http://host:port, not {settings.chroma_url!r}")
    port = url.port or (443 if url.scheme == "https" else 8000)
    try:
        client = chromadb.HttpClient(
            host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings
        )
        client.heartbeat()
    except Exception as e:  # chromadb raises a variety of connection errors
        raise BackendUnavailable(f"cannot reach the Chroma server at {settings.chroma_url}: {e}") from None
    return client


def embedder(settings: Settings) -> Embedder:
    match settings.embed_backend:
        case "minilm":
            from index.embed import MiniLMEmbedding

            return MiniLMEmbedding.from_packages(
                batch_size=settings.embed_batch_size, threads=settings.embed_threads
            )


def local_model(settings: Settings, progress: Callable[[int, int], None] | None = None) -> Path:
    """The verified GGUF of the configured local model, assembled from its packages if needed."""
    from rag.backends.gguf import MODELS, ensure_gguf

    return ensure_gguf(MODELS[settings.local_model], settings.models_dir, progress=progress)


def llm(settings: Settings, backend: str) -> LLM | None:
    """The LLM for an answer backend; None for `extractive`, which needs none."""
    match backend:
        case "extractive":
            return None
        case "local":
            from rag.backends.gguf import MODELS
            from rag.backends.local_llm import LlamaCppLLM

            return LlamaCppLLM.from_spec(
                MODELS[settings.local_model],
                settings.models_dir,
                n_ctx=settings.llm_context,
                n_threads=settings.llm_threads,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
            )
        case "openai":
            from rag.backends.openai_llm import OpenAIChatLLM

            if not settings.openai_base_url and not settings.openai_api_key:
                raise ConfigError(
                    "the openai backend needs RAG_OPENAI_BASE_URL (a local server) or OPENAI_API_KEY"
                )
            return OpenAIChatLLM(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
                model=settings.openai_model,
                timeout=settings.openai_timeout,
                max_retries=settings.openai_max_retries,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
            )
        case _:
            raise BadRequest(f"unknown backend {backend!r}: use local, openai or extractive")
