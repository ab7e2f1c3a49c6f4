"""The embedded default, for real: the packaged MiniLM int8 ONNX model, no fakes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.embed import DIMENSIONS, MiniLMEmbedding, MiniLMEncoder, packaged_model_files
from rag.settings import Settings
from rag.wiring import build_engine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    model, tokenizer = packaged_model_files()
    return MiniLMEncoder(model, tokenizer, batch_size=4)


def test_model_files_come_from_the_installed_packages() -> None:
    model, tokenizer = packaged_model_files()
    assert model.name.endswith(".onnx") and "site-packages" in str(model)
    assert tokenizer.name == "tokenizer.json"


def test_vectors_are_unit_length_and_padding_does_not_change_them(encoder: MiniLMEncoder) -> None:
    texts = [
        "Short.",
        "A much longer sentence about militias, troops and the government in Baghdad.",
        "Mid length.",
    ]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert together.shape == (3, DIMENSIONS)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)  # dynamic padding + masked mean pooling


def test_long_text_is_truncated_not_rejected(encoder: MiniLMEncoder) -> None:
    long = "word " * 2000
    assert encoder.encode([long, long + "tail"]).shape == (2, DIMENSIONS)


def test_similar_meaning_ranks_higher(encoder: MiniLMEncoder) -> None:
    q, near, far = encoder.encode(
        [
            "Did the militias want American soldiers to leave?",
            "The PMF wants US troops to go home.",
            "The recipe needs two eggs.",
        ]
    )
    assert q @ near > q @ far + 0.2


def test_pmf_question_finds_both_sides(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=None)
    engine = build_engine(settings)
    assert isinstance(engine.embedder, MiniLMEmbedding)
    engine.ingest([Path(__file__).resolve().parent.parent / "seeds"])
    passages = engine.search("did PMF leaders want US troops to stay?", k=5)
    docs = {p.doc_id[:3] for p in passages}
    assert {"001", "002"} <= docs, [(p.doc_id, p.text[:60]) for p in passages]
    texts = " ".join(p.text for p in passages if p.doc_id.startswith("002"))
    assert "go home" in texts
    texts = " ".join(p.text for p in passages if p.doc_id.startswith("001"))
    assert "wanted the Americans to stay" in texts
