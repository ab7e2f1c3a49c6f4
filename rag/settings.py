"""Typed settings, read from the environment (prefix `RAG_`) at the entry points only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.types import Backend


class Settings(BaseSettings):
    """Everything configurable. Build one with `Settings()` in an entry point and pass it down."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        Path("data"), description="Chroma data (unless chroma_url), lexical index, models."
    )
    chroma_url: str | None = Field(None, description="Use a Chroma server, e.g. http://127.0.0.1:8000.")
    collection: str = Field(
        "articles",
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$",
        description="Chroma collection name (3-512 of a-z A-Z 0-9 . _ -).",
    )
    embed_backend: Literal["minilm"] = Field("minilm", description="Embedding model (embedded, offline).")
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embed_threads: int | None = Field(None, ge=1, description="onnxruntime threads (default: all cores).")
    chunk_max_words: int = Field(200, ge=20)
    chunk_min_words: int = Field(100, ge=10)
    chunk_overlap: int = Field(1, ge=0, le=5, description="Sentences shared by consecutive chunks.")
    top_k: int = Field(5, ge=1, le=100, description="Passages returned by a search.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    candidates: int = Field(30, ge=1, description="Candidates taken from each retriever before fusion.")

    # Answering (grounded-answers issue).
    llm_backend: Backend = Field(
        "local",
        description="local: llama.cpp on the packaged GGUF; openai: any OpenAI-compatible server; "
        "extractive: no LLM, quotes the best sentences.",
    )
    local_model: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        "qwen2.5-coder-1.5b", description="Packaged GGUF for the local backend (0.5b: faster, weaker)."
    )
    llm_threads: int | None = Field(None, ge=1, description="llama.cpp threads (default: all cores).")
    llm_context: int = Field(4096, ge=512, description="llama.cpp context window in tokens.")
    max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens an answer may generate.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    context_budget: int = Field(1000, ge=100, description="Tokens of passages put in the prompt.")
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."
    )
    openai_model: str = Field("gpt-4o-mini", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias="OPENAI_API_KEY",
        description="API key for the openai backend (OPENAI_API_KEY).",
    )
    openai_timeout: float = Field(
        60.0, gt=0, description="Seconds the openai backend waits for an answer to start, retries included."
    )
    openai_max_retries: int = Field(2, ge=0, le=10)

    # Serving (`rag serve`, the HTTP API).
    api_key: SecretStr | None = Field(
        None, description="When set, every /v1/ call needs `Authorization: Bearer <key>`; uploads need it."
    )
    api_model: str = Field(
        "rag", min_length=1, description="Model name the OpenAI-compatible API answers to."
    )
    max_request_bytes: int = Field(1_000_000, ge=1_000, description="Largest /v1/ request body (413 above).")
    max_question_chars: int = Field(2_000, ge=10, description="Longest question (422 above).")
    max_history_turns: int = Field(20, ge=0, le=200, description="Earlier turns a request may carry.")
    rate_limit_per_minute: float = Field(
        120, ge=0, description="Sustained /v1/ requests per minute per client IP (0: no limit)."
    )
    rate_limit_burst: int = Field(30, ge=1, description="Requests a client may make at once before limiting.")
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed to call the API from a browser (default: none)."
    )
    local_queue: int = Field(
        4,
        ge=0,
        description="API questions that may wait for the local model while it writes another answer; "
        "more get a 503 with Retry-After.",
    )
    client_backends: str = Field(
        "extractive",
        description="Answer backends a client (API or chat) may pick besides RAG_LLM_BACKEND: "
        "comma-separated, `all`, or empty for none (default: extractive, which loads no model).",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Proxies whose X-Forwarded-For is trusted, comma-separated IPs or `*` (default: "
        "none: each client is its own TCP address, so a forged header cannot dodge the rate limit).",
    )

    @field_validator("api_key", "openai_api_key", mode="before")
    @classmethod
    def _blank_key_is_no_key(cls, v: object) -> object:
        # RAG_API_KEY= (empty) must not count as a key that an empty bearer token would match.
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("client_backends")
    @classmethod
    def _known_backends(cls, v: str) -> str:
        names = {b.strip() for b in v.split(",") if b.strip()} - {"all"}
        unknown = names - set(get_args(Backend))
        if unknown:
            raise ValueError(
                f"unknown backend {', '.join(sorted(unknown))}; use {', '.join(get_args(Backend))}"
            )
        return v

    @property
    def allowed_backends(self) -> tuple[Backend, ...]:
        """What a client may pick: the configured backend first, then those RAG_CLIENT_BACKENDS adds."""
        names = {b.strip() for b in self.client_backends.split(",") if b.strip()}
        extra = get_args(Backend) if "all" in names else tuple(b for b in get_args(Backend) if b in names)
        return (self.llm_backend, *(b for b in extra if b != self.llm_backend))

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical" / self.collection

    @property
    def corrections_path(self) -> Path:
        """Outlet, date and author set by hand, per document id (see `index.corrections`)."""
        return self.data_dir / "corrections" / f"{self.collection}.json"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"
