"""The local LLM backend: joining packaged GGUF parts (with fake part packages), then the real models."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from rag.backends.gguf import MODELS, ModelSpec, ensure_gguf
from rag.backends.local_llm import LlamaCppLLM
from rag.errors import BackendUnavailable, ModelError

ROOT = Path(__file__).resolve().parent.parent
# The real GGUFs are assembled where `make run` puts them, so the suite and the app share one copy.
MODELS_DIR = ROOT / os.environ.get("RAG_DATA_DIR", "data") / "models"

PARTS = [b"GGUF" + bytes(range(256)) * 40, b"second part " * 500, b"\x00tail\xff" * 300]


@pytest.fixture
def fake_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """Three importable part packages in tmp_path/site, like the real chunk packages."""
    site = tmp_path / "site"
    names = []
    for i, data in enumerate(PARTS, 1):
        # A unique module name per test: importlib caches modules across tests.
        name = f"fake_gguf_{tmp_path.name.replace('-', '_')}_part{i}"
        pkg = site / name
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        (pkg / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{i:02d}.bin')\n"
        )
        names.append(name)
    monkeypatch.syspath_prepend(str(site))
    return ModelSpec(
        name="fake-model",
        filename="fake.gguf",
        packages=tuple(names),
        sha256=hashlib.sha256(b"".join(PARTS)).hexdigest(),
    )


def test_parts_are_joined_in_order_verified_and_stamped(fake_spec: ModelSpec, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = ensure_gguf(
        fake_spec, tmp_path / "models", progress=lambda done, total: calls.append((done, total))
    )

    assert path == tmp_path / "models" / "fake.gguf"
    assert path.read_bytes() == b"".join(PARTS)
    stamp = json.loads(path.with_name("fake.gguf.verified").read_text())
    assert stamp == {
        "size": path.stat().st_size,
        "mtime_ns": path.stat().st_mtime_ns,
        "sha256": fake_spec.sha256,
    }
    total = sum(map(len, PARTS))
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake.gguf", "fake.gguf.verified"]


def test_an_assembled_file_is_reused_not_copied_again(fake_spec: ModelSpec, tmp_path: Path) -> None:
    path = ensure_gguf(fake_spec, tmp_path)
    before = path.stat()
    calls: list[tuple[int, int]] = []

    assert ensure_gguf(fake_spec, tmp_path, progress=lambda d, t: calls.append((d, t))) == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert calls == []


def test_a_file_without_a_stamp_is_hashed_and_then_stamped(fake_spec: ModelSpec, tmp_path: Path) -> None:
    path = ensure_gguf(fake_spec, tmp_path)
    stamp = path.with_name("fake.gguf.verified")
    stamp.unlink()

    ensure_gguf(fake_spec, tmp_path)
    assert json.loads(stamp.read_text())["sha256"] == fake_spec.sha256


def test_wrong_checksum_raises_and_leaves_nothing_behind(fake_spec: ModelSpec, tmp_path: Path) -> None:
    bad = ModelSpec(fake_spec.name, fake_spec.filename, fake_spec.packages, "0" * 64)
    models = tmp_path / "models"

    with pytest.raises(ModelError, match=r"expected sha256 000000000000…, got "):
        ensure_gguf(bad, models)
    assert list(models.iterdir()) == []


def test_a_missing_package_is_named(fake_spec: ModelSpec, tmp_path: Path) -> None:
    missing = ModelSpec(
        fake_spec.name, fake_spec.filename, (*fake_spec.packages, "no_such_gguf_part4"), "0" * 64
    )

    with pytest.raises(ModelError, match=r"pip install no-such-gguf-part4$") as e:
        ensure_gguf(missing, tmp_path / "models")
    assert "\n" not in str(e.value)
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_a_corrupted_file_is_refused(fake_spec: ModelSpec, tmp_path: Path) -> None:
    path = ensure_gguf(fake_spec, tmp_path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))

    with pytest.raises(ModelError, match=r"is corrupt .* delete it"):
        ensure_gguf(fake_spec, tmp_path)


def test_the_profiles_match_the_local_model_setting() -> None:
    from typing import get_args

    from rag.settings import Settings

    assert set(MODELS) == set(get_args(Settings.model_fields["local_model"].annotation))
    assert all(key == spec.name for key, spec in MODELS.items())


def _installed(spec: ModelSpec) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in spec.packages)


def _load(key: str) -> LlamaCppLLM:
    spec = MODELS[key]
    if not _installed(spec):
        pytest.skip(f"the {key} part packages are not installed (pip install -e '.[small]')")
    return LlamaCppLLM.from_spec(spec, MODELS_DIR, max_tokens=8)


@pytest.fixture(scope="module")
def llm_1_5b() -> LlamaCppLLM:
    return _load("qwen2.5-coder-1.5b")


def _check_stream(llm: LlamaCppLLM) -> None:
    messages = [ChatMessage(role=MessageRole.USER, content="Reply with the single word: yes")]
    replies = list(llm.stream_chat(messages))

    assert replies
    text = replies[-1].message.content
    assert text and text.strip()
    assert "".join(r.delta or "" for r in replies) == text
    assert all(r.message.role == MessageRole.ASSISTANT for r in replies)
    assert llm.chat(messages).message.content == text  # temperature 0 is deterministic


@pytest.mark.slow
def test_the_packaged_1_5b_model_streams_a_chat_reply(llm_1_5b: LlamaCppLLM) -> None:
    assert llm_1_5b.metadata.model_name == MODELS["qwen2.5-coder-1.5b"].filename
    assert llm_1_5b.metadata.is_chat_model
    _check_stream(llm_1_5b)


@pytest.mark.slow
def test_a_prompt_longer_than_the_context_is_a_backend_error(llm_1_5b: LlamaCppLLM) -> None:
    with pytest.raises(BackendUnavailable, match="exceed context window"):
        llm_1_5b.complete("word " * (llm_1_5b.n_ctx + 100))


@pytest.mark.slow
def test_the_packaged_0_5b_model_streams_a_chat_reply() -> None:
    _check_stream(_load("qwen2.5-coder-0.5b"))


@pytest.mark.slow
def test_the_1_5b_model_reads_a_yes_in_other_words_and_nothing_else(llm_1_5b: LlamaCppLLM) -> None:
    from rag.answer import says_yes

    q = "Has the United States supported the Shiite militias fighting the Islamic State?"
    arming = (
        "U.S.-led forces in Iraq have started arming and training hundreds of fighters of Shiite militias."
    )
    assert says_yes(llm_1_5b, q, arming)  # yes, without the question's "support"
    assert not says_yes(llm_1_5b, q, "The senior leadership of the Shiite forces includes many clerics.")
    q = "Did the leaders of the Iran-backed militias want US troops to stay in Iraq?"
    assert says_yes(
        llm_1_5b, q, "He had a startling message: he and other former Shiites wanted the Americans to stay."
    )
    assert not says_yes(
        llm_1_5b, q, "Leaders of the Popular Mobilization Forces (PMF) met in Baghdad this week."
    )
