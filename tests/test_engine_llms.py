"""Plugging an LLM into an engine: at build time, or for a block on an engine already built."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rag import backends
from rag.settings import Settings
from rag.wiring import Engine, build_engine
from tests.fakes import FakeEmbedding, ScriptedLLM


def _no_loading(settings: Settings, name: str) -> None:
    raise AssertionError(f"backend {name!r} was loaded")


def test_llms_passed_to_build_engine_are_used_instead_of_loading(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backends, "llm", _no_loading)
    fake = ScriptedLLM()
    engine = build_engine(settings, embedder=FakeEmbedding(), llms={"local": fake})
    assert engine.answerer("local").llm is fake


def test_override_llm_plugs_for_the_block_then_restores(
    make_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded, loads = ScriptedLLM(), list[str]()

    def load(settings: Settings, name: str) -> ScriptedLLM:
        loads.append(name)
        return loaded

    monkeypatch.setattr(backends, "llm", load)
    engine = make_engine()
    fake = ScriptedLLM()
    with engine.override_llm("local", fake):  # nothing loaded yet
        assert engine.answerer("local").llm is fake
    assert engine.answerer("local").llm is loaded  # loaded now, on first use after the block
    with engine.override_llm("local", fake):
        assert engine.answerer("local").llm is fake
    assert engine.answerer("local").llm is loaded  # the loaded one is back, not loaded again
    assert loads == ["local"]
