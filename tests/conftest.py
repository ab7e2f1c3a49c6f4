"""Shared fixtures: engines on temporary stores with the fakes of tests/fakes.py, the real engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.settings import Settings
from rag.wiring import Engine, build_engine
from tests.fakes import FakeEmbedding, ScriptedLLM

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


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


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The embedded default embedding model over the seeds (shared: build it once)."""
    engine = build_engine(Settings(data_dir=tmp_path_factory.mktemp("real") / "data", chroma_url=None))
    engine.ingest([SEEDS])
    return engine


@pytest.fixture
def scripted(real_engine: Engine) -> Iterator[ScriptedLLM]:
    """A scripted LLM answering as the `scripted` backend of the real engine."""
    llm = ScriptedLLM()
    with real_engine.override_llm("scripted", llm):
        yield llm
